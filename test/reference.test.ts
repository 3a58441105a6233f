// The reference is the yardstick for every kernel test, so it gets checked on its own:
// against hand-worked numbers, against itself across layouts, and its backward against
// central finite differences of its forward.
import { describe, expect, it } from 'vitest';
import {
  layoutOf, maxAbs, maxAbsDiff, randn, referenceBackward, referenceForward, Rng, sum, uniform,
  type ForwardOptions,
} from './reference.js';

const EPS = 1e-5;

describe('layoutOf', () => {
  it('maps flat indices to channels in both layouts', () => {
    const first = layoutOf([2, 3, 4], false);
    expect([first.N, first.C, first.S]).toEqual([2, 3, 4]);
    expect(Array.from({ length: 24 }, (_, i) => first.channelOf(i))).toEqual(
      [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2],
    );
    const last = layoutOf([2, 4, 3], true);
    expect([last.N, last.C, last.S]).toEqual([2, 3, 4]);
    expect(Array.from({ length: 6 }, (_, i) => last.channelOf(i))).toEqual([0, 1, 2, 0, 1, 2]);
    for (const L of [first, last]) {
      for (let c = 0; c < L.C; c++) {
        expect(Array.from(L.indicesOf(c)).every((i) => L.channelOf(i) === c)).toBe(true);
      }
    }
  });

  it('reads [N, C] the same either way', () => {
    const a = layoutOf([5, 7], false);
    const b = layoutOf([5, 7], true);
    for (let i = 0; i < 35; i++) expect(a.channelOf(i)).toBe(b.channelOf(i));
    expect(a.S).toBe(1);
  });
});

describe('sum', () => {
  it('is compensated', () => {
    expect(sum([1, 1e100, 1, -1e100])).toBe(2);
    const tenth = new Float64Array(1_000_000).fill(0.1);
    expect(Math.abs(sum(tenth) - 100_000)).toBeLessThan(1e-9);
  });
});

describe('referenceForward, hand-worked', () => {
  it('[2,1] input [1,3]: mean 2, biased var 1, unbiased var 2', () => {
    const r = referenceForward([1, 3], [2, 1], {
      training: true, eps: EPS, momentum: 0.1, runningMean: [0], runningVar: [1],
    });
    const s = 1 / Math.sqrt(1 + EPS);
    expect(r.mean[0]).toBe(2);
    expect(r.varBiased[0]).toBe(1);
    expect(r.varUnbiased[0]).toBe(2);
    expect(r.y[0]).toBeCloseTo(-s, 15);
    expect(r.y[1]).toBeCloseTo(s, 15);
    // r = 0.9·r + 0.1·batch, with the UNBIASED variance.
    expect(r.runningMean![0]).toBeCloseTo(0.2, 15);
    expect(r.runningVar![0]).toBeCloseTo(0.9 * 1 + 0.1 * 2, 15);
  });

  it('momentum null is a cumulative average over numBatchesTracked', () => {
    const first = referenceForward([1, 3], [2, 1], {
      training: true, momentum: null, numBatchesTracked: 1, runningMean: [0], runningVar: [1],
    });
    expect(first.runningMean![0]).toBe(2);
    expect(first.runningVar![0]).toBe(2);
    const second = referenceForward([5, 9], [2, 1], {
      training: true, momentum: null, numBatchesTracked: 2,
      runningMean: first.runningMean!, runningVar: first.runningVar!,
    });
    expect(second.runningMean![0]).toBe((2 + 7) / 2);
    expect(second.runningVar![0]).toBe((2 + 8) / 2);
  });

  it('applies weight and bias, and eval uses running stats', () => {
    const train = referenceForward([1, 3], [2, 1], { training: true, eps: 0, weight: [2], bias: [0.5] });
    expect(Array.from(train.y)).toEqual([-1.5, 2.5]);
    const ev = referenceForward([1, 3], [2, 1], {
      training: false, eps: 0, weight: [2], bias: [0.5], runningMean: [1], runningVar: [4],
    });
    // (x − 1)/2·2 + 0.5
    expect(Array.from(ev.y)).toEqual([0.5, 2.5]);
    expect(ev.runningMean![0]).toBe(1);
    // Eval without running stats (trackRunningStats: false) normalizes with the batch.
    const noTrack = referenceForward([1, 3], [2, 1], { training: false, eps: 0 });
    expect(Array.from(noTrack.y)).toEqual([-1, 1]);
  });

  it('keeps full accuracy on data offset by 1e4', () => {
    // 1e4 + {1, 3}: the centred values are exact in f64, so the variance must be exactly 1.
    const r = referenceForward([1e4 + 1, 1e4 + 3, 1e4 + 1, 1e4 + 3], [4, 1], { training: true, eps: 0 });
    expect(r.mean[0]).toBe(1e4 + 2);
    expect(r.varBiased[0]).toBe(1);
    expect(Array.from(r.y)).toEqual([-1, 1, -1, 1]);
  });

  it('gives the same answer in both layouts', () => {
    const rng = new Rng(7);
    const [N, C, H, W] = [3, 5, 2, 3];
    const xFirst = randn(rng, N * C * H * W);
    // Transpose [N,C,H,W] -> [N,H,W,C].
    const xLast = new Float64Array(xFirst.length);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < H * W; s++) {
      xLast[(n * H * W + s) * C + c] = xFirst[(n * C + c) * H * W + s]!;
    }
    const w = uniform(rng, C, 0.5, 2);
    const a = referenceForward(xFirst, [N, C, H, W], { training: true, weight: w });
    const b = referenceForward(xLast, [N, H, W, C], { training: true, weight: w, channelsLast: true });
    expect(maxAbsDiff(a.mean, b.mean).err).toBeLessThan(1e-15);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < H * W; s++) {
      expect(b.y[(n * H * W + s) * C + c]).toBeCloseTo(a.y[(n * C + c) * H * W + s]!, 14);
    }
  });
});

// ---------------------------------------------------------------------------
// Finite differences: L = Σ y·dy, so ∂L/∂θ is exactly what backward(dy) returns.

interface GradCase {
  shape: number[];
  channelsLast: boolean;
  training: boolean;
}

const cases: GradCase[] = [];
for (const shape of [[3, 5, 7], [2, 3, 3, 5], [4, 6]]) {
  for (const channelsLast of [false, true]) {
    for (const training of [true, false]) cases.push({ shape, channelsLast, training });
  }
}

// Central differences have truncation error ~h²·|L'''| (~1e-12 here) and rounding error
// ~u·|L|/h (~1e-8 for |L| ~ 100), both far below the 1e-6 relative tolerance.
const H = 1e-6;
const RTOL = 1e-6;

describe.each(cases)('referenceBackward vs finite differences: %o', ({ shape, channelsLast, training }) => {
  const L = layoutOf(shape, channelsLast);
  const rng = new Rng(1000 + L.size * 7 + (channelsLast ? 1 : 0) + (training ? 2 : 0));
  // f64 inputs, not f32-rounded: the check is about calculus, not storage.
  const x = randn(rng, L.size, { mean: 0.3, std: 1.7, f32: false });
  const dy = randn(rng, L.size, { f32: false });
  const weight = Array.from(uniform(rng, L.C, 0.5, 2.5));
  const bias = Array.from(randn(rng, L.C, { f32: false }));
  const runningMean = Array.from(randn(rng, L.C, { std: 0.5, f32: false }));
  const runningVar = Array.from(uniform(rng, L.C, 0.5, 3));
  const base: Omit<ForwardOptions, 'weight' | 'bias'> = {
    channelsLast, training, eps: EPS, momentum: 0.1,
    runningMean: training ? null : runningMean,
    runningVar: training ? null : runningVar,
  };

  const loss = (xv: ArrayLike<number>, w: number[], b: number[]): number => {
    const { y } = referenceForward(xv, shape, { ...base, weight: w, bias: b });
    return sum(Array.from(y, (v, i) => v * dy[i]!));
  };

  const analytic = referenceBackward(dy, x, shape, {
    channelsLast, training, eps: EPS, weight,
    runningMean: training ? null : runningMean,
    runningVar: training ? null : runningVar,
  });

  const central = (perturb: (delta: number) => number): number =>
    (perturb(H) - perturb(-H)) / (2 * H);

  const check = (name: string, got: Float64Array, fd: Float64Array): void => {
    const { err, at } = maxAbsDiff(got, fd);
    const bound = RTOL * Math.max(maxAbs(fd), 1e-3);
    expect(err, `${name}: shape [${shape}] channelsLast=${channelsLast} training=${training}: `
      + `max |analytic − fd| = ${err.toExponential(3)} at ${at} > ${bound.toExponential(3)}`).toBeLessThanOrEqual(bound);
  };

  it('dx', () => {
    const fd = new Float64Array(L.size);
    for (let i = 0; i < L.size; i++) {
      fd[i] = central((d) => {
        const xp = Float64Array.from(x);
        xp[i]! += d;
        return loss(xp, weight, bias);
      });
    }
    check('dx', analytic.dx, fd);
  });

  it('dweight', () => {
    const fd = new Float64Array(L.C);
    for (let c = 0; c < L.C; c++) {
      fd[c] = central((d) => loss(x, weight.map((v, k) => (k === c ? v + d : v)), bias));
    }
    check('dweight', analytic.dweight, fd);
  });

  it('dbias', () => {
    const fd = new Float64Array(L.C);
    for (let c = 0; c < L.C; c++) {
      fd[c] = central((d) => loss(x, weight, bias.map((v, k) => (k === c ? v + d : v))));
    }
    check('dbias', analytic.dbias, fd);
  });
});
