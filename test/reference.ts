// Float64 reference batch normalization, written to be checked against the paper
// (Ioffe & Szegedy 2015, Algorithm 1) and docs/design.md rather than to be fast. The kernels
// under test are f32 and compare against this; the reference itself is checked by
// finite differences in reference.test.ts.
//
// Every sum goes through `sum` (Neumaier's compensated summation), so on 10^6-element
// channels and on data offset by 1e4 the reference is accurate to a few f64 ulps and any
// disagreement is the kernel's.

export type Values = ArrayLike<number>;

// ---------------------------------------------------------------------------
// Layout

export interface Layout {
  /** Batch size (first axis). */
  readonly N: number;
  /** Channels. */
  readonly C: number;
  /** Product of the spatial axes (1 for [N, C]). */
  readonly S: number;
  readonly channelsLast: boolean;
  /** Total number of elements, N·C·S. */
  readonly size: number;
  /** Channel of the element at flat (row-major) index i. */
  channelOf(i: number): number;
  /** Flat indices of channel c's N·S elements. */
  indicesOf(c: number): Int32Array;
}

/**
 * Channels-first shapes are [N, C, ...spatial]; channels-last are [N, ...spatial, C].
 * [N, C] reads the same either way, which is why both layouts agree on it.
 */
export function layoutOf(shape: readonly number[], channelsLast: boolean): Layout {
  if (shape.length < 2) throw new Error(`shape needs at least [N, C], got [${shape.join(', ')}]`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`bad dimension in [${shape.join(', ')}]`);
  }
  const N = shape[0]!;
  const C = channelsLast ? shape[shape.length - 1]! : shape[1]!;
  const spatial = channelsLast ? shape.slice(1, -1) : shape.slice(2);
  const S = spatial.reduce((a, b) => a * b, 1);
  const size = N * C * S;
  return {
    N, C, S, channelsLast, size,
    channelOf: channelsLast ? (i) => i % C : (i) => Math.floor(i / S) % C,
    indicesOf(c: number): Int32Array {
      const out = new Int32Array(N * S);
      let k = 0;
      if (channelsLast) {
        for (let r = 0; r < N * S; r++) out[k++] = r * C + c;
      } else {
        for (let n = 0; n < N; n++) {
          const base = (n * C + c) * S;
          for (let s = 0; s < S; s++) out[k++] = base + s;
        }
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------
// Summation

/**
 * Neumaier's variant of Kahan summation: the error is bounded by ~2u·Σ|v| independent
 * of n, so a sum of 3·10^6 terms is as good as a sum of ten.
 */
export function sum(values: Values): number {
  let s = 0;
  let comp = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const t = s + v;
    comp += Math.abs(s) >= Math.abs(v) ? (s - t) + v : (v - t) + s;
    s = t;
  }
  return s + comp;
}

function gather(values: Values, idx: Int32Array): Float64Array {
  const out = new Float64Array(idx.length);
  for (let k = 0; k < idx.length; k++) out[k] = values[idx[k]!]!;
  return out;
}

function map(a: Float64Array, f: (v: number, k: number) => number): Float64Array {
  const out = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = f(a[k]!, k);
  return out;
}

function param(p: Values | null | undefined, c: number, fallback: number): number {
  return p == null ? fallback : p[c]!;
}

// ---------------------------------------------------------------------------
// Forward

export interface ForwardOptions {
  channelsLast?: boolean;
  training: boolean;
  eps?: number;
  /** null: cumulative average, m = 1 / numBatchesTracked. */
  momentum?: number | null;
  /** numBatchesTracked AFTER this step (PyTorch increments before it uses the count). */
  numBatchesTracked?: number;
  /** null/undefined: γ = 1. */
  weight?: Values | null;
  /** null/undefined: β = 0. */
  bias?: Values | null;
  /** Both null/undefined: no running stats (trackRunningStats: false). */
  runningMean?: Values | null;
  runningVar?: Values | null;
}

export interface ForwardResult {
  y: Float64Array;
  /** Batch statistics per channel (Algorithm 1's μ_B and σ²_B), always computed. */
  mean: Float64Array;
  varBiased: Float64Array;
  /** NaN when a channel has one value (0/0); PyTorch refuses that case in training. */
  varUnbiased: Float64Array;
  /** 1/sqrt(varBiased + eps): the batch invstd. */
  invstd: Float64Array;
  /** What y was actually normalized with: batch stats, or running stats in eval. */
  normMean: Float64Array;
  normInvstd: Float64Array;
  /** Updated running stats in training, the given ones in eval; absent without them. */
  runningMean?: Float64Array;
  runningVar?: Float64Array;
}

export function referenceForward(x: Values, shape: readonly number[], o: ForwardOptions): ForwardResult {
  const L = layoutOf(shape, o.channelsLast ?? false);
  if (x.length !== L.size) throw new Error(`x has ${x.length} values, shape [${shape.join(', ')}] needs ${L.size}`);
  const eps = o.eps ?? 1e-5;
  const hasRunning = o.runningMean != null && o.runningVar != null;
  const C = L.C;
  const n = L.N * L.S;

  const mean = new Float64Array(C);
  const varBiased = new Float64Array(C);
  const varUnbiased = new Float64Array(C);
  const invstd = new Float64Array(C);
  const normMean = new Float64Array(C);
  const normInvstd = new Float64Array(C);
  const y = new Float64Array(L.size);
  let runningMean: Float64Array | undefined;
  let runningVar: Float64Array | undefined;
  if (hasRunning) {
    runningMean = Float64Array.from(o.runningMean!);
    runningVar = Float64Array.from(o.runningVar!);
  }

  let m = 0;
  if (o.training && hasRunning) {
    if (o.momentum === null) {
      const t = o.numBatchesTracked;
      if (t === undefined || t < 1) throw new Error('momentum null needs numBatchesTracked >= 1 (count after this step)');
      m = 1 / t;
    } else {
      m = o.momentum ?? 0.1;
    }
  }

  for (let c = 0; c < C; c++) {
    const idx = L.indicesOf(c);
    const xc = gather(x, idx);
    // Algorithm 1: μ_B = (1/m) Σ x_i;  σ²_B = (1/m) Σ (x_i − μ_B)².
    // Two passes: the second sums squares of already-centred values, so an offset of 1e4
    // costs nothing. The (Σd)² / n term removes the residual of μ's own rounding.
    const mu = sum(xc) / n;
    const d = map(xc, (v) => v - mu);
    const sd = sum(d);
    const m2 = sum(map(d, (v) => v * v)) - (sd * sd) / n;
    mean[c] = mu + sd / n;
    varBiased[c] = m2 / n;
    varUnbiased[c] = m2 / (n - 1);
    invstd[c] = 1 / Math.sqrt(varBiased[c]! + eps);

    if (o.training || !hasRunning) {
      normMean[c] = mean[c]!;
      normInvstd[c] = invstd[c]!;
    } else {
      normMean[c] = runningMean![c]!;
      normInvstd[c] = 1 / Math.sqrt(runningVar![c]! + eps);
    }

    // x̂ = (x − μ)/sqrt(σ² + ε);  y = γ x̂ + β.
    const g = param(o.weight, c, 1);
    const b = param(o.bias, c, 0);
    for (let k = 0; k < idx.length; k++) {
      y[idx[k]!] = g * ((xc[k]! - normMean[c]!) * normInvstd[c]!) + b;
    }

    if (o.training && hasRunning) {
      // PyTorch keeps the UNBIASED variance in the running estimate (the paper's
      // inference step uses m/(m−1)·E[σ²_B] for the same reason).
      runningMean![c] = (1 - m) * runningMean![c]! + m * mean[c]!;
      runningVar![c] = (1 - m) * runningVar![c]! + m * varUnbiased[c]!;
    }
  }

  const out: ForwardResult = { y, mean, varBiased, varUnbiased, invstd, normMean, normInvstd };
  if (runningMean && runningVar) {
    out.runningMean = runningMean;
    out.runningVar = runningVar;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Backward

export interface BackwardOptions {
  channelsLast?: boolean;
  training: boolean;
  eps?: number;
  weight?: Values | null;
  /** Used only in eval; without them eval normalizes (and differentiates) with batch stats. */
  runningMean?: Values | null;
  runningVar?: Values | null;
}

export interface BackwardResult {
  dx: Float64Array;
  /** ∂L/∂γ, computed even when the layer has no weight (γ = 1). */
  dweight: Float64Array;
  dbias: Float64Array;
}

export function referenceBackward(dy: Values, x: Values, shape: readonly number[], o: BackwardOptions): BackwardResult {
  const L = layoutOf(shape, o.channelsLast ?? false);
  if (x.length !== L.size || dy.length !== L.size) {
    throw new Error(`x/dy have ${x.length}/${dy.length} values, shape [${shape.join(', ')}] needs ${L.size}`);
  }
  const eps = o.eps ?? 1e-5;
  const useRunning = !o.training && o.runningMean != null && o.runningVar != null;
  const C = L.C;
  const n = L.N * L.S;

  // The forward's statistics: the batch ones unless eval with running stats.
  const fwd = referenceForward(x, shape, {
    channelsLast: L.channelsLast,
    training: !useRunning,
    eps,
    runningMean: useRunning ? o.runningMean! : null,
    runningVar: useRunning ? o.runningVar! : null,
  });

  const dx = new Float64Array(L.size);
  const dweight = new Float64Array(C);
  const dbias = new Float64Array(C);

  for (let c = 0; c < C; c++) {
    const idx = L.indicesOf(c);
    const xc = gather(x, idx);
    const dyc = gather(dy, idx);
    const g = param(o.weight, c, 1);
    const mu = fwd.normMean[c]!;
    const is = fwd.normInvstd[c]!;
    const xhat = map(xc, (v) => (v - mu) * is);

    // dβ = Σ dy;  dγ = Σ dy·x̂  (the same in both modes, with the mode's x̂).
    const dbeta = sum(dyc);
    const dgamma = sum(map(dyc, (v, k) => v * xhat[k]!));
    dbias[c] = dbeta;
    dweight[c] = dgamma;

    if (useRunning) {
      // Eval: μ and σ² are constants, so y is affine in x.
      const a = g * is;
      for (let k = 0; k < idx.length; k++) dx[idx[k]!] = dyc[k]! * a;
    } else {
      // Training: μ_B and σ²_B depend on x; the paper's chain rule collapses to
      //   dx = γ·invstd/n · (n·dy − Σdy − x̂·Σ dy·x̂).
      const a = (g * is) / n;
      for (let k = 0; k < idx.length; k++) {
        dx[idx[k]!] = a * (n * dyc[k]! - dbeta - xhat[k]! * dgamma);
      }
    }
  }
  return { dx, dweight, dbias };
}

// ---------------------------------------------------------------------------
// Random data

/** mulberry32: tiny, fast, seedable; plenty for test data (not for statistics). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi], inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  bool(pTrue = 0.5): boolean {
    return this.next() < pTrue;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Standard normal (Box–Muller; 1 − u keeps the log finite). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

export interface RandnOptions {
  mean?: number;
  std?: number;
  /**
   * Round each value to f32 (default true): the kernels see f32 tensors, so the
   * reference must see the same numbers or it would measure input rounding, not the kernel.
   */
  f32?: boolean;
}

export function randn(rng: Rng, n: number, o: RandnOptions = {}): Float64Array {
  const mean = o.mean ?? 0;
  const std = o.std ?? 1;
  const round = o.f32 ?? true;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = mean + std * rng.normal();
    out[i] = round ? Math.fround(v) : v;
  }
  return out;
}

/**
 * Data offset by 1e4 with unit spread: E[x²] − E[x]² in f32 has an absolute error around
 * 1e8·2^-24 ≈ 6, six times the variance itself, so a naive kernel fails here visibly.
 */
export function randnOffset(rng: Rng, n: number, offset = 1e4): Float64Array {
  return randn(rng, n, { mean: offset, std: 1 });
}

/** Uniform in [lo, hi), f32-rounded: for weights and running stats. */
export function uniform(rng: Rng, n: number, lo: number, hi: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(lo + (hi - lo) * rng.next());
  return out;
}

// ---------------------------------------------------------------------------
// Comparison

/** Largest finite-or-infinite |a_i|, skipping NaN: it sizes tolerances, and a NaN bound would pass nothing. */
export function maxAbs(a: Values): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (v > m) m = v;
  }
  return m;
}

/** Largest |a_i − b_i| and its index; NaN anywhere on one side only counts as Infinity. */
export function maxAbsDiff(a: Values, b: Values): { err: number; at: number } {
  if (a.length !== b.length) return { err: Infinity, at: -1 };
  let err = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    let d: number;
    if (Number.isNaN(x) || Number.isNaN(y)) d = Number.isNaN(x) && Number.isNaN(y) ? 0 : Infinity;
    else d = Math.abs(x - y);
    if (d > err) {
      err = d;
      at = i;
    }
  }
  return { err, at };
}
