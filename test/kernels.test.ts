// Both wasm builds, through the public API, against the f64 reference over randomized
// shapes and options. Every case derives from one seed, printed in each failure message;
// BN_KERNEL_SEED=<n> reruns the whole sweep from another base seed.
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/index.node.js';
import { batchNormFor } from './harness.js';
import {
  layoutOf, maxAbs, maxAbsDiff, randn, randnOffset, referenceBackward, referenceForward, Rng, uniform,
  type Values,
} from './reference.js';

type Runtime = Awaited<ReturnType<typeof init>>;
type BatchNorm = ReturnType<Runtime['batchNorm1d']>;
type Tensor = ReturnType<Runtime['tensor']>;
type Module = '1d' | '2d' | '3d';

const BASE_SEED = Number(process.env['BN_KERNEL_SEED'] ?? 20150211);
const CASES_PER_BUILD = 40;

// Tolerance. Storing a result in f32 costs 2^-24 ≈ 6e-8 relative; a kernel that centres
// with the mean before scaling and reduces in f64 (docs/design.md, Numerics) adds a few more
// such roundings. 1e-5 of the array's scale is ~170 of those: room for the arithmetic,
// none for a wrong formula, a lost channel, an f32 running sum over 10^6 values, or
// E[x²] − E[x]² on offset data (errors of order 1 there).
const RTOL = 1e-5;
// For arrays the reference says are ~0 (there is always some scale below, so this only
// absorbs denormal-level noise).
const ATOL = 1e-7;

interface Case {
  index: number;
  seed: number;
  module: Module;
  shape: number[];
  channelsLast: boolean;
  eps: number;
  momentum: number | null;
  affine: boolean;
  trackRunningStats: boolean;
  offset: boolean;
  trainSteps: number;
}

function describeCase(c: Case): string {
  return `case #${c.index} (seed ${c.seed}): batchNorm${c.module} [${c.shape.join(',')}] `
    + `channelsLast=${c.channelsLast} eps=${c.eps} momentum=${c.momentum} affine=${c.affine} `
    + `trackRunningStats=${c.trackRunningStats} offset=${c.offset}`;
}

// Shapes the module accepts, channels-first; `channelsLast` moves C to the end.
function shapeFor(module: Module, N: number, C: number, spatial: number[], channelsLast: boolean): number[] {
  const s = module === '1d' ? spatial.slice(0, 1) : module === '2d' ? spatial.slice(0, 2) : spatial.slice(0, 3);
  return channelsLast ? [N, ...s, C] : [N, C, ...s];
}

function randomCase(index: number, seed: number): Case {
  const rng = new Rng(seed);
  const module = rng.pick<Module>(['1d', '2d', '3d']);
  const C = rng.int(1, 13);
  let N = rng.int(1, 9);
  const rank = module === '1d' ? rng.int(0, 1) : module === '2d' ? 2 : 3;
  const spatial = Array.from({ length: rank }, () => rng.int(1, 9));
  // PyTorch refuses to train on one value per channel; so does the facade.
  if (N * spatial.reduce((a, b) => a * b, 1) < 2) N = 2;
  const channelsLast = rng.bool();
  return {
    index, seed, module, channelsLast,
    shape: shapeFor(module, N, C, spatial, channelsLast),
    eps: rng.pick([1e-5, 1e-3, 0.1]),
    momentum: rng.pick([0.1, 0.5, null]),
    affine: rng.bool(0.75),
    trackRunningStats: rng.bool(0.75),
    offset: rng.bool(0.25),
    trainSteps: rng.int(1, 3),
  };
}

// Sizes past 2048 values per channel and row counts past 2048 so that every kernel's
// blocking (and its f64 merge of blocks) runs more than once, C not a multiple of 4 for
// the SIMD tails, N = 1 with a large spatial extent, planar inputs over 1 MiB with rows of
// 16 to 511 values (the stats read them in order), rows under 16 values (as columns), rows
// of 8 and 12 values (every pass per channel), interleaved inputs over
// 1 MiB with few channels (statistics two rows at a time), and both of the first with more
// channels or columns than one chunk of the kernels' scratch.
function fixedCases(): Case[] {
  const spec: Array<[Module, number[], boolean, boolean]> = [
    ['1d', [2, 3, 2100], false, false],
    ['1d', [2, 3, 2100], false, true],
    ['1d', [3, 70, 40], true, false],
    ['1d', [3, 70, 40], true, true],
    ['1d', [4100, 3], false, false],
    ['1d', [4100, 7], true, true],
    ['2d', [2, 5, 48, 47], false, false],
    ['2d', [2, 48, 47, 6], true, true],
    ['3d', [1, 2, 13, 13, 13], false, true],
    ['3d', [1, 13, 13, 13, 5], true, false],
    ['1d', [1100, 5, 49], false, true],
    ['2d', [900, 3, 11, 11], false, false],
    ['2d', [300, 7, 3, 3], false, true],
    ['1d', [9000, 5, 7], false, false],
    ['1d', [40, 700, 7], false, true],
    ['1d', [60, 1100, 16], false, false],
    ['1d', [2000, 37, 8], false, false],
    ['2d', [200, 5, 3, 4], false, true],
    ['2d', [20, 60, 60, 12], true, false],
    ['1d', [70001, 5], false, true],
    ['1d', [131, 683, 3], false, true],
    ['1d', [130, 33, 8], false, true],
  ];
  return spec.map(([module, shape, channelsLast, offset], i) => ({
    index: i, seed: BASE_SEED + i, module, shape, channelsLast, offset,
    eps: 1e-5, momentum: i % 3 === 2 ? null : 0.1, affine: i % 4 !== 3, trackRunningStats: i % 5 !== 4, trainSteps: 2,
  }));
}

function allCases(): Case[] {
  const fixed = fixedCases();
  const out = fixed.slice();
  for (let i = fixed.length; i < CASES_PER_BUILD; i++) out.push(randomCase(i, BASE_SEED + i));
  return out;
}

function layer(rt: Runtime, c: Case): BatchNorm {
  const C = layoutOf(c.shape, c.channelsLast).C;
  const o = { eps: c.eps, momentum: c.momentum, affine: c.affine, trackRunningStats: c.trackRunningStats, channelsLast: c.channelsLast };
  return batchNormFor(rt, c.module === '1d' ? 1 : c.module === '2d' ? 2 : 3, C, o);
}

/**
 * Asserts max|got − want| <= RTOL·max(max|want|, scale) + ATOL. `scale` is the size of
 * the largest term the result is made from: when those terms cancel (dx of a channel
 * with two values is exactly 0) no f32 kernel can be relatively accurate, only accurate
 * relative to the terms.
 */
function expectClose(what: string, got: Values, want: Values, scale = 0): void {
  const { err, at } = maxAbsDiff(got, want);
  const ref = maxAbs(want);
  const bound = RTOL * Math.max(ref, scale) + ATOL;
  const where = at >= 0 ? ` at [${at}] (got ${got[at]}, want ${want[at]})` : ` (lengths ${got.length} vs ${want.length})`;
  expect(err, `${what}: max abs error ${err.toExponential(3)}${where} > bound ${bound.toExponential(3)} `
    + `(max|ref| ${ref.toExponential(3)}, term scale ${scale.toExponential(3)})`).toBeLessThanOrEqual(bound);
}

function addInto(acc: Float64Array, v: Float64Array): void {
  for (let i = 0; i < acc.length; i++) acc[i]! += v[i]!;
}

/** max over elements of |γ_c·invstd_c·dy_i|: the n·dy term of dx, the largest one. */
function dxScale(dy: Values, shape: number[], channelsLast: boolean, weight: Values | null, invstd: Float64Array): number {
  const L = layoutOf(shape, channelsLast);
  let m = 0;
  for (let i = 0; i < L.size; i++) {
    const c = L.channelOf(i);
    m = Math.max(m, Math.abs((weight ? weight[c]! : 1) * invstd[c]! * dy[i]!));
  }
  return m;
}

/** Per channel sqrt(Σ t²) of a sum's terms: the typical size of a sum of random-sign terms. */
function sumScale(terms: (i: number) => number, shape: number[], channelsLast: boolean): number {
  const L = layoutOf(shape, channelsLast);
  const sq = new Float64Array(L.C);
  for (let i = 0; i < L.size; i++) sq[L.channelOf(i)]! += terms(i) ** 2;
  return Math.sqrt(maxAbs(sq));
}

function makeData(rng: Rng, n: number, offset: boolean): Float64Array {
  return offset ? randnOffset(rng, n) : randn(rng, n, { mean: rng.next() * 2 - 1, std: 0.5 + 2 * rng.next() });
}

function f32(values: Values): number[] {
  return Array.from(values, (v) => Math.fround(v));
}

const builds = [
  { name: 'simd', simd: true },
  { name: 'scalar', simd: false },
] as const;

describe.each(builds)('$name build', ({ name, simd }) => {
  let rt: Runtime;

  beforeAll(async () => {
    rt = await init({ simd });
  });

  it('is the build that was asked for', () => {
    expect(rt.simd).toBe(simd);
  });

  it.each(allCases())('agrees with the reference: case #$index $module [$shape] channelsLast=$channelsLast', (c) => {
    const ctx = `${name} ${describeCase(c)}`;
    const L = layoutOf(c.shape, c.channelsLast);
    const rng = new Rng(c.seed ^ 0x9e3779b9);
    const liveBefore = rt.memoryUsage().liveTensors;
    const bn = layer(rt, c);

    // γ of both signs and β away from zero, so a kernel that ignores either is caught.
    let weight: number[] | null = null;
    let bias: number[] | null = null;
    if (c.affine) {
      weight = f32(Array.from(uniform(rng, L.C, 0.25, 2), (v) => (rng.bool(0.8) ? v : -v)));
      bias = f32(randn(rng, L.C));
      bn.weight!.set(weight);
      bn.bias!.set(bias);
    } else {
      expect(bn.weight, `${ctx}: affine=false must have no weight`).toBeNull();
    }

    let runMean: Float64Array | null = c.trackRunningStats ? new Float64Array(L.C) : null;
    let runVar: Float64Array | null = c.trackRunningStats ? new Float64Array(L.C).fill(1) : null;
    const accW = new Float64Array(L.C);
    const accB = new Float64Array(L.C);

    for (let step = 1; step <= c.trainSteps; step++) {
      const at = `${ctx} train step ${step}`;
      const x = makeData(rng, L.size, c.offset);
      const dy = randn(rng, L.size);
      const xt = rt.tensor(c.shape, x);
      const y = bn.forward(xt);
      const ref = referenceForward(x, c.shape, {
        channelsLast: c.channelsLast, training: true, eps: c.eps, momentum: c.momentum,
        numBatchesTracked: step, weight, bias, runningMean: runMean, runningVar: runVar,
      });
      expect(y.shape, `${at}: y.shape`).toEqual(c.shape);
      expectClose(`${at}: y`, y.toArray(), ref.y);
      expectClose(`${at}: x must not change`, xt.toArray(), x);
      if (c.trackRunningStats) {
        expectClose(`${at}: runningMean`, bn.runningMean!.toArray(), ref.runningMean!);
        expectClose(`${at}: runningVar`, bn.runningVar!.toArray(), ref.runningVar!);
        expect(bn.numBatchesTracked, `${at}: numBatchesTracked`).toBe(step);
        runMean = ref.runningMean!;
        runVar = ref.runningVar!;
      } else {
        expect(bn.runningMean, `${at}: trackRunningStats=false must have no runningMean`).toBeNull();
      }

      const dyt = rt.tensor(c.shape, dy);
      const dx = bn.backward(dyt);
      const refB = referenceBackward(dy, x, c.shape, { channelsLast: c.channelsLast, training: true, eps: c.eps, weight });
      expectClose(`${at}: dx`, dx.toArray(), refB.dx, dxScale(dy, c.shape, c.channelsLast, weight, ref.invstd));
      addInto(accW, refB.dweight);
      addInto(accB, refB.dbias);
      if (c.affine) {
        const xhat = (i: number): number => {
          const ch = L.channelOf(i);
          return (x[i]! - ref.mean[ch]!) * ref.invstd[ch]!;
        };
        // Gradients accumulate across steps, as in PyTorch without zero_grad().
        expectClose(`${at}: weightGrad (accumulated over ${step} steps)`, bn.weightGrad!.toArray(), accW,
          step * sumScale((i) => dy[i]! * xhat(i), c.shape, c.channelsLast));
        expectClose(`${at}: biasGrad (accumulated over ${step} steps)`, bn.biasGrad!.toArray(), accB,
          step * sumScale((i) => dy[i]!, c.shape, c.channelsLast));
      }
      for (const t of [xt, y, dyt, dx]) t.dispose();
    }

    // Eval: running stats when tracked (read back from the layer, so this checks the eval
    // kernel alone, not the drift of f32 running stats), batch stats otherwise.
    bn.eval();
    const at = `${ctx} eval`;
    const x = makeData(rng, L.size, c.offset);
    const dy = randn(rng, L.size);
    const rm = c.trackRunningStats ? Float64Array.from(bn.runningMean!.toArray()) : null;
    const rv = c.trackRunningStats ? Float64Array.from(bn.runningVar!.toArray()) : null;
    const xt = rt.tensor(c.shape, x);
    const y = bn.forward(xt);
    const ref = referenceForward(x, c.shape, {
      channelsLast: c.channelsLast, training: false, eps: c.eps, weight, bias, runningMean: rm, runningVar: rv,
    });
    expectClose(`${at}: y`, y.toArray(), ref.y);
    if (c.trackRunningStats) {
      expectClose(`${at}: runningMean must not move in eval`, bn.runningMean!.toArray(), rm!);
      expect(bn.numBatchesTracked, `${at}: numBatchesTracked`).toBe(c.trainSteps);
    }
    const dyt = rt.tensor(c.shape, dy);
    bn.zeroGrad();
    const dx = bn.backward(dyt);
    const refB = referenceBackward(dy, x, c.shape, {
      channelsLast: c.channelsLast, training: false, eps: c.eps, weight, runningMean: rm, runningVar: rv,
    });
    expectClose(`${at}: dx`, dx.toArray(), refB.dx, dxScale(dy, c.shape, c.channelsLast, weight, ref.normInvstd));
    if (c.affine) {
      const xhat = (i: number): number => {
        const ch = L.channelOf(i);
        return (x[i]! - ref.normMean[ch]!) * ref.normInvstd[ch]!;
      };
      expectClose(`${at}: weightGrad (after zeroGrad)`, bn.weightGrad!.toArray(), refB.dweight,
        sumScale((i) => dy[i]! * xhat(i), c.shape, c.channelsLast));
      expectClose(`${at}: biasGrad (after zeroGrad)`, bn.biasGrad!.toArray(), refB.dbias,
        sumScale((i) => dy[i]!, c.shape, c.channelsLast));
    }
    for (const t of [xt, y, dyt, dx]) t.dispose();
    bn.dispose();
    expect(rt.memoryUsage().liveTensors, `${ctx}: tensors leaked`).toBe(liveBefore);
  });

  // Shapes that hit every tail: C % 4 != 0, S % 4 != 0 and % 16 != 0, planar and
  // interleaved, one block and several.
  const outShapes: Array<[Module, number[], boolean]> = [
    ['1d', [5, 7], false],
    ['1d', [3, 5, 7], false],
    ['1d', [3, 7, 5], true],
    ['2d', [2, 3, 5, 7], false],
    ['2d', [2, 5, 7, 3], true],
    ['3d', [2, 3, 3, 5, 7], false],
    ['1d', [2, 3, 2101], false],
    ['1d', [2101, 6], false],
  ];

  it.each(outShapes)('writes every element of a NaN-filled out: %s %o channelsLast=%s', (module, shape, channelsLast) => {
    const ctx = `${name} batchNorm${module} [${shape.join(',')}] channelsLast=${channelsLast}`;
    const L = layoutOf(shape, channelsLast);
    const rng = new Rng(BASE_SEED ^ L.size);
    const c: Case = {
      index: -1, seed: 0, module, shape, channelsLast, eps: 1e-5, momentum: 0.1,
      affine: true, trackRunningStats: true, offset: false, trainSteps: 1,
    };
    const bn = layer(rt, c);
    const xt = rt.tensor(shape, randn(rng, L.size));
    const dyt = rt.tensor(shape, randn(rng, L.size));
    const out = rt.tensor(shape);
    const firstNaN = (t: Tensor): number => t.data.findIndex((v) => Number.isNaN(v));
    for (const mode of ['train', 'eval'] as const) {
      if (mode === 'eval') bn.eval();
      out.data.fill(NaN);
      const y = bn.forward(xt, out);
      expect(y, `${ctx} ${mode}: forward(x, out) must return out`).toBe(out);
      expect(firstNaN(out), `${ctx} ${mode}: forward left NaN at this index of out`).toBe(-1);
      out.data.fill(NaN);
      const dx = bn.backward(dyt, out);
      expect(dx, `${ctx} ${mode}: backward(dy, out) must return out`).toBe(out);
      expect(firstNaN(out), `${ctx} ${mode}: backward left NaN at this index of out`).toBe(-1);
    }
    for (const t of [xt, dyt, out]) t.dispose();
    bn.dispose();
  });

  it('NaN in one channel stays in that channel', () => {
    const shape = [4, 6, 9];
    const L = layoutOf(shape, false);
    const rng = new Rng(BASE_SEED + 99);
    const x = randn(rng, L.size);
    x[1 * L.S + 4] = NaN; // n = 0, c = 1
    const bn = rt.batchNorm1d(6);
    const xt = rt.tensor(shape, x);
    const y = bn.forward(xt);
    const ref = referenceForward(x, shape, { training: true, momentum: 0.1, runningMean: new Float64Array(6), runningVar: new Float64Array(6).fill(1) });
    // maxAbsDiff counts NaN as equal only if both sides have it.
    expectClose(`${name} NaN in channel 1: y`, y.toArray(), ref.y);
    expectClose(`${name} NaN in channel 1: runningMean`, bn.runningMean!.toArray(), ref.runningMean!);
    expectClose(`${name} NaN in channel 1: runningVar`, bn.runningVar!.toArray(), ref.runningVar!);
    for (const t of [xt, y]) t.dispose();
    bn.dispose();
  });

  it('sums 10^6 values per channel without drift: [1000, 3, 1000], offset x', () => {
    const shape = [1000, 3, 1000];
    const L = layoutOf(shape, false);
    const n = L.N * L.S;
    const rng = new Rng(BASE_SEED + 1000);
    const x = randnOffset(rng, L.size);
    const bn = rt.batchNorm1d(3);
    const xt = rt.tensor(shape, x);
    const y = bn.forward(xt);
    const ref = referenceForward(x, shape, { training: true, momentum: 0.1, runningMean: new Float64Array(3), runningVar: new Float64Array(3).fill(1) });
    expectClose(`${name} long sum: y`, y.toArray(), ref.y);
    expectClose(`${name} long sum: runningMean`, bn.runningMean!.toArray(), ref.runningMean!);
    expectClose(`${name} long sum: runningVar`, bn.runningVar!.toArray(), ref.runningVar!);

    // dy = 1 asks for the exact integer n. An f32 running sum of ones happens to stay exact
    // below 2^24, so dy = f32(0.1) follows: past 2^16 every f32 add of it rounds by up to
    // 4%, and a single f32 accumulator ends ~5e-3 off. 1e-6 is PyTorch's level: 1.13 on
    // CPU gets this Σdy to 9.2e-7 relative, and docs/design.md asks for at least its accuracy.
    for (const value of [1, Math.fround(0.1)]) {
      const dy = new Float64Array(L.size).fill(value);
      const dyt = rt.tensor(shape, dy);
      bn.zeroGrad();
      const dx = bn.backward(dyt, undefined, { retainGraph: true });
      const refB = referenceBackward(dy, x, shape, { training: true });
      const at = `${name} long sum, dy = ${value}`;
      const biasGrad = bn.biasGrad!.toArray();
      for (let c = 0; c < 3; c++) {
        const want = n * value;
        const rel = Math.abs(biasGrad[c]! - want) / want;
        expect(rel, `${at}: biasGrad[${c}] = ${biasGrad[c]}, want ${want} (relative error ${rel.toExponential(3)} > 1e-6)`).toBeLessThanOrEqual(1e-6);
      }
      // Σ dy·x̂ is 0 in exact arithmetic; its n terms are O(value), so the scale is value·sqrt(n).
      expectClose(`${at}: weightGrad`, bn.weightGrad!.toArray(), refB.dweight, value * Math.sqrt(n));
      expectClose(`${at}: dx`, dx.toArray(), refB.dx, value * maxAbs(ref.invstd));
      dyt.dispose();
      dx.dispose();
    }
    xt.dispose();
    y.dispose();
    bn.dispose();
});
});
