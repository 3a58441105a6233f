// Numbers at the edges, for both builds: NaN and Inf stay in their channel, zero variance
// scales by 1/sqrt(eps) as PyTorch does, and huge values overflow no earlier than PyTorch.
// Property cases come from fast-check with a fixed seed (BN_PROPERTY_SEED=<n> for another);
// a failure prints the seed and the shrunk case.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, mergeChannelStats, type Runtime } from '../src/index.node.js';
import { batchNormFor, layerShape, type Dims } from './harness.js';
import { layoutOf, randn, referenceBackward, referenceForward, Rng, uniform } from './reference.js';

const SEED = Number(process.env['BN_PROPERTY_SEED'] ?? 20151103);

const runtimes: Record<'simd' | 'scalar', Runtime> = {} as never;

beforeAll(async () => {
  runtimes.simd = await init({ simd: true });
  runtimes.scalar = await init({ simd: false });
  expect(runtimes.simd.simd && !runtimes.scalar.simd).toBe(true);
});


interface PoisonCase {
  dims: Dims;
  shape: number[];
  channelsLast: boolean;
  /** Flat index of the bad value. */
  at: number;
  bad: number;
  affine: boolean;
  momentum: number | null;
  seed: number;
}

const poisonCase: fc.Arbitrary<PoisonCase> = fc
  .record({
    layout: layerShape({ N: 12, C: 9, spatial: 6 }),
    where: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    bad: fc.constantFrom(NaN, Infinity, -Infinity),
    affine: fc.boolean(),
    momentum: fc.constantFrom(0.1, null),
    seed: fc.integer(),
  })
  .map(({ layout, where, ...rest }) => {
    const size = layout.shape.reduce((a, b) => a * b, 1);
    return { ...layout, at: Math.floor(where * size), ...rest };
  });

function same(a: number, b: number): boolean {
  return Object.is(a, b);
}

describe.each(['simd', 'scalar'] as const)('%s build: NaN or Inf in one channel', (build) => {
  it('gives NaN in that channel (output, running stats, dx, weightGrad) and leaves every other channel bit-exact', () => {
    const rt = runtimes[build];
    fc.assert(fc.property(poisonCase, (c) => {
      const L = layoutOf(c.shape, c.channelsLast);
      const rng = new Rng(c.seed);
      const clean = randn(rng, L.size);
      const dyData = randn(rng, L.size);
      const poisoned = Float64Array.from(clean);
      poisoned[c.at] = c.bad;
      const bad = L.channelOf(c.at);
      const sd = { weight: uniform(rng, L.C, 0.5, 2), bias: uniform(rng, L.C, -1, 1) };

      const run = (data: Float64Array) => {
        const bn = batchNormFor(rt, c.dims, L.C, { channelsLast: c.channelsLast, affine: c.affine, momentum: c.momentum });
        if (c.affine) {
          bn.weight!.set(sd.weight);
          bn.bias!.set(sd.bias);
        }
        const x = rt.tensor(c.shape, data);
        const dy = rt.tensor(c.shape, dyData);
        const y = bn.forward(x);
        const dx = bn.backward(dy);
        const r = {
          y: y.toArray(), dx: dx.toArray(), rm: bn.runningMean!.toArray(), rv: bn.runningVar!.toArray(),
          gw: c.affine ? bn.weightGrad!.toArray() : null, gb: c.affine ? bn.biasGrad!.toArray() : null,
          eval: bn.eval().forward(x).toArray(),
          stats: rt.batchNormStats(x, { channelsLast: c.channelsLast }),
        };
        for (const t of [bn, x, dy, y, dx]) t.dispose();
        return r;
      };
      const a = run(clean);
      const b = run(poisoned);

      for (let i = 0; i < L.size; i++) {
        if (L.channelOf(i) === bad) {
          expect(b.y[i], `y[${i}]`).toBeNaN();
          expect(b.dx[i], `dx[${i}]`).toBeNaN();
        } else {
          expect(same(b.y[i]!, a.y[i]!), `y[${i}] of a clean channel`).toBe(true);
          expect(same(b.dx[i]!, a.dx[i]!), `dx[${i}] of a clean channel`).toBe(true);
        }
      }
      for (let ch = 0; ch < L.C; ch++) {
        if (ch === bad) {
          // PyTorch 1.13: mean and running_mean NaN for NaN input, exactly ±Inf for ±Inf
          // input; the variance and running_var NaN.
          expect(b.rm[ch], `running_mean[${ch}]`).toBe(c.bad);
          expect(b.stats.mean[ch], `batchNormStats mean[${ch}]`).toBe(c.bad);
          expect(b.rv[ch]).toBeNaN();
          expect(b.stats.var[ch]).toBeNaN();
          if (c.affine) {
            expect(b.gw![ch]).toBeNaN();
            // Σdy does not see x, so the bias gradient stays what it was (PyTorch agrees).
            expect(same(b.gb![ch]!, a.gb![ch]!)).toBe(true);
          }
        } else {
          expect(same(b.rm[ch]!, a.rm[ch]!) && same(b.rv[ch]!, a.rv[ch]!), `running stats of channel ${ch}`).toBe(true);
          if (c.affine) expect(same(b.gw![ch]!, a.gw![ch]!) && same(b.gb![ch]!, a.gb![ch]!), `grads of channel ${ch}`).toBe(true);
        }
      }
      // Eval with the running stats the poisoned batch produced: the bad channel's stats are NaN,
      // so that whole channel is NaN; every other channel is untouched.
      for (let i = 0; i < L.size; i++) {
        if (L.channelOf(i) === bad) expect(b.eval[i]).toBeNaN();
        else expect(same(b.eval[i]!, a.eval[i]!), `eval y[${i}]`).toBe(true);
      }
    }), { seed: SEED, numRuns: 60 });
  });

  // Shapes of several blocks (interleaved: 128 rows; planar rows read in order, gathered or
  // as columns), with the Inf in the first block (where the shift comes from) or a later one.
  // PyTorch 1.13 CPU gives running_mean ±Inf and running_var NaN for each, e.g.
  //   x = torch.full((3000, 1), 1.); x[2500, 0] = inf; BatchNorm1d(1)(x) → inf, nan.
  it.each([
    { shape: [3000, 1], at: [5, 0], bad: Infinity },
    { shape: [3000, 1], at: [2500, 0], bad: Infinity },
    { shape: [300, 8], at: [2, 5], bad: -Infinity },
    { shape: [300, 8], at: [290, 3], bad: Infinity },
    { shape: [2, 1, 3000], at: [1, 0, 2500], bad: -Infinity },
    { shape: [64, 3, 8], at: [40, 2, 3], bad: Infinity },
    { shape: [2, 3, 64, 64], at: [1, 0, 2, 2], bad: -Infinity },
  ])('$shape with $bad at $at: running_mean and the stats mean are exactly $bad', ({ shape, at, bad }) => {
    const rt = runtimes[build];
    const L = layoutOf(shape, false);
    const data = randn(new Rng(7), L.size);
    let flat = 0;
    for (let i = 0; i < shape.length; i++) flat = flat * shape[i]! + at[i]!;
    data[flat] = bad;
    const channel = L.channelOf(flat);
    const bn = batchNormFor(rt, shape.length === 4 ? 2 : 1, L.C);
    const x = rt.tensor(shape, data);
    const stats = rt.batchNormStats(x);
    bn.forward(x).dispose();
    expect(stats.mean[channel]).toBe(bad);
    expect(stats.var[channel]).toBeNaN();
    expect(bn.runningMean!.data[channel]).toBe(bad);
    expect(bn.runningVar!.data[channel]).toBeNaN();
    for (let ch = 0; ch < L.C; ch++) if (ch !== channel) expect(Number.isFinite(stats.mean[ch]!) && Number.isFinite(stats.var[ch]!)).toBe(true);
    bn.dispose();
    x.dispose();
  });

  it('in eval, a bad value in x poisons only its own element', () => {
    const rt = runtimes[build];
    fc.assert(fc.property(poisonCase, (c) => {
      const L = layoutOf(c.shape, c.channelsLast);
      const rng = new Rng(c.seed);
      const clean = randn(rng, L.size);
      const poisoned = Float64Array.from(clean);
      poisoned[c.at] = c.bad;
      const bn = batchNormFor(rt, c.dims, L.C, { channelsLast: c.channelsLast }).eval();
      bn.runningMean!.set(uniform(rng, L.C, -1, 1));
      bn.runningVar!.set(uniform(rng, L.C, 0.5, 2));
      const xa = rt.tensor(c.shape, clean);
      const xb = rt.tensor(c.shape, poisoned);
      const ya = bn.forward(xa);
      const yb = bn.forward(xb);
      for (let i = 0; i < L.size; i++) {
        if (i === c.at) expect(Number.isFinite(yb.data[i]!)).toBe(false);
        else expect(same(yb.data[i]!, ya.data[i]!), `y[${i}]`).toBe(true);
      }
      expect(Array.from(bn.runningMean!.data).every(Number.isFinite)).toBe(true);
      for (const t of [bn, xa, xb, ya, yb]) t.dispose();
    }), { seed: SEED + 1, numRuns: 40 });
  });
});

// PyTorch 1.13 CPU, float32, checked with /usr/bin/python3:
//   BatchNorm1d(2), weight [2, 1], bias [0.5, 0], x = [[3, 1], [3, 2], [3, 4]] (channel 0 constant),
//   dy = [[1, 0], [2, 1], [6, 0]]:
//     y[:, 0] = 0.50006 (β plus PyTorch's own rounding of the mean; exact is 0.5)
//     dx[:, 0] = [-1264.9110, -632.4555, 1897.3665] = γ/sqrt(eps)·(dy − mean(dy))
//     running_var[0] = 0.9, weight.grad[0] = 0, bias.grad[0] = 9
//   eval with running_var [0, 1], running_mean [1, 0], x[:, 0] = [3, 2]:
//     y[:, 0] = [1265.4111, 632.9556] = γ·(x − mean)/sqrt(eps) + β
//   eps = 0, constant channel, training: y = β, dx = 0, weight.grad = 0. ATen's InvStd returns
//   0, not 1/sqrt(0), when var and eps are both 0. In eval, 1/sqrt(0 + 0) = Inf as it stands.
describe.each(['simd', 'scalar'] as const)('%s build: zero variance', (build) => {
  const eps = 1e-5;
  const invstd = 1 / Math.sqrt(eps);

  it.each([
    ['[3, 2]', [3, 2], false],
    ['[3, 2, 1] (planar with S = 1)', [3, 2, 1], false],
    ['[1, 2, 3] (planar)', [1, 2, 3], false],
    ['[1, 3, 2] (channels-last)', [1, 3, 2], true],
  ] as const)('training %s: y = β, dx = γ/sqrt(eps)·(dy − mean dy), running_var = 0.9, as PyTorch', (_name, shape, channelsLast) => {
    const rt = runtimes[build];
    const bn = rt.batchNorm1d(2, { channelsLast });
    bn.weight!.set([2, 1]);
    bn.bias!.set([0.5, 0]);
    // The PyTorch example above, laid out for each shape: channel 0 constant 3, channel 1 [1, 2, 4].
    const L = layoutOf(shape, channelsLast);
    const ch0 = [3, 3, 3], ch1 = [1, 2, 4], dy0 = [1, 2, 6], dy1 = [0, 1, 0];
    const x = new Float64Array(6), dyv = new Float64Array(6);
    [0, 1].forEach((c) => L.indicesOf(c).forEach((i, k) => {
      x[i] = (c === 0 ? ch0 : ch1)[k]!;
      dyv[i] = (c === 0 ? dy0 : dy1)[k]!;
    }));
    const xt = rt.tensor(shape, x);
    const y = bn.forward(xt);
    const dx = bn.backward(rt.tensor(shape, dyv));
    const torchDx = [-1264.9110107422, -632.4555053711, 1897.3664550781];
    L.indicesOf(0).forEach((i, k) => {
      // β up to the rounding of b = β − mean·a with a = γ/sqrt(eps) ≈ 632: a few ulps of 1900.
      expect(Math.abs(y.data[i]! - 0.5)).toBeLessThan(1e-3);
      expect(Math.abs(dx.data[i]! - torchDx[k]!) / 1897).toBeLessThan(1e-6);
      expect(Math.abs(dx.data[i]! - 2 * invstd * (dy0[k]! - 3))).toBeLessThan(1e-3);
    });
    expect(bn.runningVar!.data[0]).toBe(Math.fround(0.9));
    expect(bn.runningMean!.data[0]).toBe(Math.fround(0.3));
    expect(Math.abs(bn.weightGrad!.data[0]!)).toBeLessThan(1e-3);
    expect(bn.biasGrad!.data[0]).toBe(9);
    bn.dispose();
  });

  it('eval with running_var 0 scales by 1/sqrt(eps), as PyTorch', () => {
    const rt = runtimes[build];
    const bn = rt.batchNorm1d(2).eval();
    bn.loadStateDict({
      weight: new Float32Array([2, 1]), bias: new Float32Array([0.5, 0]),
      running_mean: new Float32Array([1, 0]), running_var: new Float32Array([0, 1]), num_batches_tracked: 1,
    });
    const y = bn.forward(rt.tensor([2, 2], [3, 1, 2, 2]));
    expect(Math.abs(y.data[0]! - 1265.4111328125) / 1265).toBeLessThan(1e-6);
    expect(Math.abs(y.data[2]! - 632.9555664062) / 633).toBeLessThan(1e-6);
    bn.dispose();
  });

  it('functional elemt and backwardElemt with var 0 and eps 0 follow ATen\'s InvStd (invstd 0, y = β)', () => {
    const rt = runtimes[build];
    const x = rt.tensor([2, 2], [3, 1, 3, 2]);
    const bias = rt.tensor([2], [0.5, 0]);
    const y = rt.batchNormElemt(x, { mean: [3, 1.5], var: [0, 0.25] }, { eps: 0, bias });
    expect(Array.from(y.data)).toEqual([0.5, -1, 0.5, 1]);
    const dy = rt.tensor([2, 2], [1, 2, 3, 4]);
    const dx = rt.batchNormBackwardElemt(dy, x, { count: 2, mean: [3, 1.5], var: [0, 0.25], sumDy: new Float64Array([4, 6]), sumDyXmu: new Float64Array([0, 1]) }, { eps: 0 });
    expect(dx.data[0]).toBe(0);
    expect(dx.data[2]).toBe(0);
    for (const t of [x, bias, y, dy, dx]) t.dispose();
  });

  // torch.var of an empty tensor is NaN; so is the merge of parts that count nothing, and an
  // empty batch's stats must agree with both.
  it('stats of an empty batch: count 0, mean 0, var NaN, the same as mergeChannelStats of empty parts', () => {
    const rt = runtimes[build];
    for (const [shape, channelsLast] of [[[0, 3], false], [[2, 3, 0], false], [[2, 0, 3], true]] as const) {
      const x = rt.tensor(shape);
      const stats = rt.batchNormStats(x, { channelsLast });
      x.dispose();
      expect(stats.count).toBe(0);
      expect(Array.from(stats.mean)).toEqual([0, 0, 0]);
      expect(Array.from(stats.var)).toEqual([NaN, NaN, NaN]);
      expect(mergeChannelStats([stats, stats])).toEqual(stats);
    }
  });

  // ATen's InvStd: invstd = 0 when var + eps == 0, so eps = 0 on a constant channel gives
  // y = β and dx = 0 in training instead of NaN. Interleaved and planar kernels both.
  it('training with eps = 0 on a constant channel gives y = β and dx = 0 like PyTorch', () => {
    const rt = runtimes[build];
    for (const [bn, shape, data] of [
      [rt.batchNorm1d(2, { eps: 0 }), [2, 2], [3, 1, 3, 2]],
      [rt.batchNorm1d(3, { eps: 0 }), [2, 3, 5], Array.from({ length: 30 }, (_, i) => (Math.floor(i / 5) % 3 === 0 ? 3 : i))],
    ] as const) {
      const x = rt.tensor(shape, data);
      const dy = rt.tensor(shape, Array.from({ length: x.size }, (_, i) => i + 1));
      const y = bn.forward(x);
      const dx = bn.backward(dy);
      try {
        const constant = Array.from({ length: x.size }, (_, i) => i).filter((i) => (shape.length === 2 ? i % 2 === 0 : Math.floor(i / 5) % 3 === 0));
        expect(constant.map((i) => y.data[i])).toEqual(constant.map(() => 0));
        expect(constant.map((i) => dx.data[i])).toEqual(constant.map(() => 0));
        expect(bn.weightGrad!.data[0]).toBe(0);
        expect(Array.from(y.data).every(Number.isFinite)).toBe(true);
      } finally {
        for (const t of [x, dy, y, dx]) t.dispose();
        bn.dispose();
      }
    }
  });
});

describe.each(['simd', 'scalar'] as const)('%s build: eps = 0 and a tiny standard deviation', (build) => {
  // docs/numerics.md: the f32 squares of (x − shift) go subnormal below a std of about 1e-19
  // and reach 0 near 1e-23, where the variance is 0 and y = β. PyTorch 1.13 CPU float32,
  // x = [s, −s, 3s, −3s], β = 0.5: s = 1e-21 normalizes, s = 1e-23 and 1e-24 give β.
  it.each([
    { s: 1e-21, y: [0.9472, 0.0528, 1.8416, -0.8416] },
    { s: 1e-24, y: [0.5, 0.5, 0.5, 0.5] },
  ])('x = [s, -s, 3s, -3s] with s = $s gives y = $y', ({ s, y: want }) => {
    const rt = runtimes[build];
    const bn = rt.batchNorm1d(1, { eps: 0 });
    bn.bias!.set([0.5]);
    const x = rt.tensor([4, 1], [s, -s, 3 * s, -3 * s]);
    const y = bn.forward(x);
    Array.from(y.data).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 3));
    for (const t of [bn, x, y]) t.dispose();
  });
});

// Huge values. What PyTorch 1.13 CPU float32 does (/usr/bin/python3, torch.randn·std + mean
// rounded to f32, BatchNorm1d/2d in training; "y ok" = per-channel std of y ≈ 1):
//
//   data                  [64, 3]          [4, 3, 8]        [8, 3, 16, 16]     [8, 3, 16, 16] channels_last
//   mean 1e18, std 1e18   y ok, rv finite  y ok, rv finite  y = β, rv inf      y = β, rv inf
//   std 1e19 (var ~1e38)  y = β, rv inf    y = β, rv inf    y = β, rv inf      y = β, rv inf
//   std 1e30              y = β, rv inf    y = β, rv inf    y = β, rv inf      y = β, rv inf
//   constant 1e30         y = β, rv inf    y = β, rv 0.9    y = β, rv 0.9      y = β, rv inf
//   std 1e37              y = β, rv inf    y = β, rv inf    y = β, rv inf      y NaN, rv inf
//
// Var 1e36 fits f32 (max 3.4e38); PyTorch's planar path sums squares in f32 and overflows
// past ~3e38 for the whole channel. Variances of 1e38 and up cannot be stored in an f32
// running_var at all, and then invstd rounds to 0, so y = β: the input is not normalized.
//
// Asserted below, row by row: wherever PyTorch's y is finite, ours is; wherever PyTorch
// normalizes or keeps running_var finite, so do we. And what our kernels do beyond that (they
// reduce in f64 once an f32 block sum would overflow), so that no faster kernel gives it back
// unnoticed: y is normalized whenever the batch variance is not 0, and running_var is finite
// whenever the unbiased variance fits f32, within 1e-5 of the f64 reference.
interface HugeCase {
  name: string;
  shape: number[];
  channelsLast: boolean;
  make: (rng: Rng, n: number) => Float64Array;
  torch: { yFinite: boolean; normalized: boolean; rvFinite: boolean };
}

const HUGE_DATA: Record<string, (rng: Rng, n: number) => Float64Array> = {
  'mean 1e18, std 1e18': (rng, n) => randn(rng, n, { mean: 1e18, std: 1e18 }),
  'std 1e19': (rng, n) => randn(rng, n, { std: 1e19 }),
  'std 1e30': (rng, n) => randn(rng, n, { std: 1e30 }),
  'constant 1e30': (_rng, n) => new Float64Array(n).fill(Math.fround(1e30)),
  'std 1e37': (rng, n) => randn(rng, n, { std: 1e37 }),
};

const LAYOUTS: [string, number[], boolean][] = [
  ['[64, 3]', [64, 3], false],
  ['[4, 3, 8]', [4, 3, 8], false],
  ['[8, 3, 16, 16]', [8, 3, 16, 16], false],
  ['[8, 16, 16, 3] channels-last', [8, 16, 16, 3], true],
];

// The table above: per data, in LAYOUTS order, [y finite, normalized, running_var finite].
const TORCH: Record<string, [boolean, boolean, boolean][]> = {
  'mean 1e18, std 1e18': [[true, true, true], [true, true, true], [true, false, false], [true, false, false]],
  'std 1e19': [[true, false, false], [true, false, false], [true, false, false], [true, false, false]],
  'std 1e30': [[true, false, false], [true, false, false], [true, false, false], [true, false, false]],
  'constant 1e30': [[true, false, false], [true, false, true], [true, false, true], [true, false, false]],
  'std 1e37': [[true, false, false], [true, false, false], [true, false, false], [false, false, false]],
};

const HUGE_CASES: HugeCase[] = Object.entries(HUGE_DATA).flatMap(([data, make]) => LAYOUTS.map(([layout, shape, channelsLast], i): HugeCase => {
  const [yFinite, normalized, rvFinite] = TORCH[data]![i]!;
  return { name: `${data} ${layout}`, shape, channelsLast, make, torch: { yFinite, normalized, rvFinite } };
}));

const F32_MAX = 3.4028234663852886e38;

describe.each(['simd', 'scalar'] as const)('%s build: huge values', (build) => {
  function run(c: HugeCase) {
    const rt = runtimes[build];
    const L = layoutOf(c.shape, c.channelsLast);
    const x = Float32Array.from(c.make(new Rng(5), L.size));
    const bn = c.shape.length === 4 ? rt.batchNorm2d(3, { channelsLast: c.channelsLast }) : rt.batchNorm1d(3, { channelsLast: c.channelsLast });
    const xt = rt.tensor(c.shape, x);
    const yt = bn.forward(xt);
    const out = { L, y: yt.toArray(), rv: bn.runningVar!.toArray() };
    for (const t of [bn, xt, yt]) t.dispose();
    const ref = referenceForward(x, c.shape, { channelsLast: c.channelsLast, training: true, runningMean: [0, 0, 0], runningVar: [1, 1, 1] });
    return { ...out, ref };
  }

  function normalized(y: Float32Array, L: ReturnType<typeof layoutOf>, ch: number): void {
    const v = Array.from(L.indicesOf(ch), (i) => y[i]!);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    expect(Math.abs(mean), `channel ${ch} mean`).toBeLessThan(1e-4);
    expect(Math.abs(std - 1), `channel ${ch} std`).toBeLessThan(1e-4);
  }

  function runningVarClose(got: number, want: number, ch: number): void {
    expect(Number.isFinite(got), `running_var[${ch}] = ${got}`).toBe(true);
    expect(Math.abs(got - want) / Math.max(want, 1), `running_var[${ch}] = ${got}, want ${want}`).toBeLessThan(1e-5);
  }

  it.each(HUGE_CASES.map((c) => [c.name, c] as const))('%s: no overflow where PyTorch has none', (_name, c) => {
    const { L, y, rv, ref } = run(c);
    if (c.torch.yFinite) expect(y.every(Number.isFinite), 'y finite').toBe(true);
    for (let ch = 0; ch < 3; ch++) {
      if (c.torch.normalized) normalized(y, L, ch);
      if (c.torch.rvFinite) runningVarClose(rv[ch]!, ref.runningVar![ch]!, ch);
    }
  });

  it.each(HUGE_CASES.map((c) => [c.name, c] as const))('%s: normalized unless constant; running_var finite wherever it fits f32', (_name, c) => {
    const { L, y, rv, ref } = run(c);
    expect(y.every(Number.isFinite), 'y finite').toBe(true);
    for (let ch = 0; ch < 3; ch++) {
      if (ref.varBiased[ch]! > 0) normalized(y, L, ch);
      else expect(Array.from(L.indicesOf(ch), (i) => y[i]), 'a constant channel gives β').toEqual(new Array(L.N * L.S).fill(0));
      if (ref.runningVar![ch]! < F32_MAX) runningVarClose(rv[ch]!, ref.runningVar![ch]!, ch);
      else expect(rv[ch], `running_var[${ch}] of a variance f32 cannot hold`).toBe(Infinity);
    }
  });
});

// The stats kernels sum each block about a shift: 0 when the channel so far is centred
// near 0 (no subtraction), else its mean so far; a block whose mean lies far from that
// shift is summed again about its own mean. Offsets that jump from sample to sample make
// every block far from the shift, for each planar path (blocks gathered from several
// samples; samples read in order when they are large, over 1 MiB with rows of 16 to 511
// values, and on the SIMD build rows of 8 or 12 values at any size; other rows under 16
// values summed as columns) and for interleaved rows.
describe.each(['simd', 'scalar'] as const)('%s build: offsets that jump between samples', (build) => {
  const SHAPES: Array<[string, number[], boolean]> = [
    ['planar, long rows', [6, 3, 700], false],
    ['planar, short rows gathered', [40, 3, 50], false],
    ['planar, short rows in order', [1100, 5, 49], false],
    ['planar, rows of 16 in order', [3300, 5, 16], false],
    ['planar, rows under 16 by columns', [700, 5, 7], false],
    ['planar, rows of 8', [700, 5, 8], false],
    ['planar, rows of 12', [300, 3, 12], false],
    ['interleaved', [3000, 5], false],
  ];
  const OFFSETS: Array<[string, (n: number) => number]> = [
    ['around 0 (shift 0)', (n) => 5 * ((n % 3) - 1)],
    ['around 1e4', (n) => 1e4 + 30 * (n % 3)],
  ];
  it.each(SHAPES.flatMap(([name, shape, channelsLast]) => OFFSETS.map(([what, offset]) => ({ name: `${name}, ${what}`, shape, channelsLast, offset }))))(
    '$name: mean and var within 1e-6 of the f64 reference', ({ shape, channelsLast, offset }) => {
      const rt = runtimes[build];
      const L = layoutOf(shape, channelsLast);
      const rng = new Rng(7);
      const noise = randn(rng, L.size, { mean: 0, std: 1 });
      const data = new Float32Array(L.size);
      // Sample n's offset; interleaved rows count as samples.
      const perSample = L.size / shape[0]!;
      for (let i = 0; i < L.size; i++) data[i] = offset(Math.floor(i / perSample)) + noise[i]!;
      const x = rt.tensor(shape, data);
      const stats = rt.batchNormStats(x, { channelsLast });
      x.dispose();
      const ref = referenceForward(data, shape, { training: true, channelsLast });
      for (let c = 0; c < L.C; c++) {
        expect(Math.abs(stats.mean[c]! - ref.mean[c]!), `mean[${c}]`).toBeLessThanOrEqual(1e-6 * Math.sqrt(ref.varBiased[c]!));
        expect(Math.abs(stats.var[c]! - ref.varBiased[c]!), `var[${c}]`).toBeLessThanOrEqual(1e-6 * ref.varBiased[c]!);
      }
    });
});


// dx takes shift 0 where |mean|·invstd ≤ 1, and invstd includes eps: a channel whose
// variance is far below eps passes that test with its mean far beyond its spread. Its
// sums must still run about the mean, or Σdy·x − mean·Σdy cancels and dγ loses digits.
describe.each(['simd', 'scalar'] as const)('%s build: variance far below eps', (build) => {
  it.each([
    ['interleaved', [4000, 3], false],
    ['planar', [40, 3, 100], false],
  ] as const)('%s: dγ, dβ and dx within 1e-5 of the f64 reference', (_, shape, channelsLast) => {
    const rt = runtimes[build];
    const L = layoutOf(shape, channelsLast);
    const rng = new Rng(11);
    const x = Float32Array.from(randn(rng, L.size, { mean: 1e-3, std: 1e-6 }));
    const dy = Float32Array.from(randn(rng, L.size, {}));
    const bn = batchNormFor(rt, 1, L.C, { eps: 1e-5, channelsLast });
    const xt = rt.tensor([...shape], x), dyt = rt.tensor([...shape], dy);
    const y = bn.forward(xt);
    const dx = bn.backward(dyt);
    const ref = referenceBackward(dy, x, shape, { training: true, eps: 1e-5, channelsLast });
    const close = (got: ArrayLike<number>, want: Float64Array, what: string) => {
      const scale = Math.max(...Array.from(want, Math.abs));
      for (let i = 0; i < want.length; i++) {
        expect(Math.abs(got[i]! - want[i]!), `${what}[${i}]`).toBeLessThanOrEqual(1e-5 * scale);
      }
    };
    close(bn.weightGrad!.toArray(), ref.dweight, 'dγ');
    close(bn.biasGrad!.toArray(), ref.dbias, 'dβ');
    close(dx.toArray(), ref.dx, 'dx');
    for (const t of [xt, dyt, y, dx]) t.dispose();
    bn.dispose();
  });
});
