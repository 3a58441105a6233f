// fast-check properties over random shapes, layouts and options, for the SIMD and scalar
// builds: agreement with the f64 reference, backward against finite differences of our own
// forward, no write outside an operation's output, and arbitrary arguments to every public
// entry (only TypeError or RangeError, and nothing allocated or changed when one is thrown).
// Fixed seed (BN_PROPERTY_SEED=<n> for another); failures print the seed and the shrunk case.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, mergeChannelStats, type BatchNorm, type Runtime, type Tensor } from '../src/index.node.js';
import { batchNormFor, layerShape, type Dims } from './harness.js';
import { layoutOf, maxAbs, maxAbsDiff, randn, referenceBackward, referenceForward, Rng, uniform, type RandnOptions, type Values } from './reference.js';

const SEED = Number(process.env['BN_PROPERTY_SEED'] ?? 20180525);

const runtimes: Record<'simd' | 'scalar', Runtime> = {} as never;

beforeAll(async () => {
  runtimes.simd = await init({ simd: true });
  runtimes.scalar = await init({ simd: false });
});

interface CaseSpec {
  dims: Dims;
  shape: number[];
  channelsLast: boolean;
  eps: number;
  momentum: number | null;
  affine: boolean;
  trackRunningStats: boolean;
  steps: number;
  offset: number;
  seed: number;
}

interface Case extends CaseSpec {
  x: Float32Array[];
  dy: Float32Array[];
  weight: Float32Array;
  bias: Float32Array;
}


const shapeArb = layerShape({ N: 8, C: 11, spatial: 7 });

// Shapes and options shrink; the values come from a seed (shrinking thousands of floats one
// by one would take longer than it tells, and a counterexample stays short enough to read).
const caseArb: fc.Arbitrary<CaseSpec> = fc.record({
  layout: shapeArb,
  eps: fc.constantFrom(1e-5, 1e-3, 0.1),
  momentum: fc.constantFrom(0.1, 0.5, 0, 1, null),
  affine: fc.boolean(),
  trackRunningStats: fc.boolean(),
  steps: fc.integer({ min: 1, max: 3 }),
  // Data far from 0 is where E[x²] − E[x]² fails.
  offset: fc.constantFrom(0, 3, -50, 1e4),
  seed: fc.integer(),
}).map(({ layout, ...rest }) => ({ ...layout, ...rest }));

function materialize(spec: CaseSpec): Case {
  const L = layoutOf(spec.shape, spec.channelsLast);
  const rng = new Rng(spec.seed);
  const data = (n: number, o: RandnOptions) => Float32Array.from(randn(rng, n, o));
  return {
    ...spec,
    x: [0, 1, 2].map(() => data(L.size, { mean: spec.offset + rng.next() * 2 - 1, std: 0.5 + 2 * rng.next() })),
    dy: [0, 1, 2].map(() => data(L.size, {})),
    weight: Float32Array.from(uniform(rng, L.C, -2, 2)),
    bias: data(L.C, {}),
  };
}

// Tolerance, as in kernels.test.ts: f32 storage costs 2^-24 relative; 1e-5 of the array's
// scale leaves room for the arithmetic and none for a wrong formula or a lost channel.
const RTOL = 1e-5;
const ATOL = 1e-6;

function close(what: string, got: Values, want: Values, scale = 0): void {
  const { err, at } = maxAbsDiff(got, want);
  const bound = RTOL * Math.max(maxAbs(want), scale) + ATOL;
  expect(err, `${what}: error ${err} at [${at}] (got ${got[at]}, want ${want[at]}) > ${bound}`).toBeLessThanOrEqual(bound);
}

/** An output tensor pre-filled with NaN: an element the kernel does not write fails. */
function nanOut(rt: Runtime, shape: readonly number[]): Tensor {
  const t = rt.tensor(shape);
  t.data.fill(NaN);
  return t;
}

describe.each(['simd', 'scalar'] as const)('%s build', (build) => {
  it('forward, running stats and backward agree with the f64 reference; outputs fully written', () => {
    const rt = runtimes[build];
    fc.assert(fc.property(caseArb, (spec) => {
      const c = materialize(spec);
      const L = layoutOf(c.shape, c.channelsLast);
      const before = rt.memoryUsage().liveTensors;
      const bn = batchNormFor(rt, c.dims, L.C, { eps: c.eps, momentum: c.momentum, affine: c.affine, trackRunningStats: c.trackRunningStats, channelsLast: c.channelsLast });
      if (c.affine) {
        bn.weight!.set(c.weight);
        bn.bias!.set(c.bias);
      }
      const weight = c.affine ? c.weight : null;
      const bias = c.affine ? c.bias : null;
      let rm: Float64Array | null = c.trackRunningStats ? new Float64Array(L.C) : null;
      let rv: Float64Array | null = c.trackRunningStats ? new Float64Array(L.C).fill(1) : null;
      const gw = new Float64Array(L.C);
      const gb = new Float64Array(L.C);
      for (let step = 0; step < c.steps; step++) {
        const x = rt.tensor(c.shape, c.x[step]!);
        const y = nanOut(rt, c.shape);
        bn.forward(x, y);
        const ref = referenceForward(c.x[step]!, c.shape, {
          channelsLast: c.channelsLast, training: true, eps: c.eps, momentum: c.momentum, numBatchesTracked: step + 1,
          weight, bias, runningMean: rm, runningVar: rv,
        });
        close(`step ${step} y`, y.data, ref.y);
        if (rm && rv) {
          rm = ref.runningMean!;
          rv = ref.runningVar!;
          close(`step ${step} running_mean`, bn.runningMean!.data, rm, maxAbs(ref.mean));
          close(`step ${step} running_var`, bn.runningVar!.data, rv);
        }
        const dy = rt.tensor(c.shape, c.dy[step]!);
        const dx = nanOut(rt, c.shape);
        bn.backward(dy, dx);
        const back = referenceBackward(c.dy[step]!, c.x[step]!, c.shape, { channelsLast: c.channelsLast, training: true, eps: c.eps, weight });
        // dx = γ·invstd/n·(n·dy − Σdy − x̂·Σdy·x̂): its terms can cancel, so scale by the largest.
        const dxScale = maxAbs(Array.from(c.dy[step]!, (v, i) => v * (weight ? weight[L.channelOf(i)]! : 1) * ref.invstd[L.channelOf(i)]!));
        close(`step ${step} dx`, dx.data, back.dx, dxScale);
        if (c.affine) {
          for (let ch = 0; ch < L.C; ch++) {
            gw[ch]! += back.dweight[ch]!;
            gb[ch]! += back.dbias[ch]!;
          }
          // Sums of n terms of either sign: scale by Σ|term|.
          const n = L.N * L.S;
          close(`step ${step} weightGrad`, bn.weightGrad!.data, gw, n * 2 * 5);
          close(`step ${step} biasGrad`, bn.biasGrad!.data, gb, n * 2);
        }
        for (const t of [x, y, dy, dx]) t.dispose();
      }
      if (c.trackRunningStats) {
        // Eval with the running stats just learned, and its backward.
        bn.eval();
        const x = rt.tensor(c.shape, c.x[0]!);
        const y = nanOut(rt, c.shape);
        bn.forward(x, y);
        const ref = referenceForward(c.x[0]!, c.shape, { channelsLast: c.channelsLast, training: false, eps: c.eps, weight, bias, runningMean: bn.runningMean!.data, runningVar: bn.runningVar!.data });
        close('eval y', y.data, ref.y, maxAbs(Array.from(c.x[0]!, (v, i) => v * ref.normInvstd[L.channelOf(i)]! * (weight ? Math.abs(weight[L.channelOf(i)]!) : 1))));
        const dy = rt.tensor(c.shape, c.dy[0]!);
        const dx = nanOut(rt, c.shape);
        bn.backward(dy, dx);
        const back = referenceBackward(c.dy[0]!, c.x[0]!, c.shape, { channelsLast: c.channelsLast, training: false, eps: c.eps, weight, runningMean: bn.runningMean!.data, runningVar: bn.runningVar!.data });
        close('eval dx', dx.data, back.dx);
        for (const t of [x, y, dy, dx]) t.dispose();
      }
      bn.dispose();
      expect(rt.memoryUsage().liveTensors).toBe(before);
    }), { seed: SEED, numRuns: 80 });
  });

  it('backward twice (retainGraph) gives the same dx and exactly doubles the gradients', () => {
    const rt = runtimes[build];
    fc.assert(fc.property(caseArb, fc.boolean(), (spec, training) => {
      const c = materialize(spec);
      const L = layoutOf(c.shape, c.channelsLast);
      const bn = batchNormFor(rt, c.dims, L.C, { channelsLast: c.channelsLast, eps: c.eps });
      bn.weight!.set(c.weight);
      bn.train(training);
      const x = rt.tensor(c.shape, c.x[0]!);
      const dy = rt.tensor(c.shape, c.dy[0]!);
      bn.forward(x).dispose();
      const dx1 = bn.backward(dy, undefined, { retainGraph: true });
      const g1 = [bn.weightGrad!.toArray(), bn.biasGrad!.toArray()];
      const dx2 = bn.backward(dy);
      expect(dx2.toArray()).toEqual(dx1.toArray());
      expect([bn.weightGrad!.toArray(), bn.biasGrad!.toArray()]).toEqual(g1.map((g) => g.map((v) => v * 2)));
      for (const t of [bn, x, dy, dx1, dx2]) t.dispose();
    }), { seed: SEED + 1, numRuns: 40 });
  });

  it('the functional pieces (stats, elemt, backwardReduce, backwardElemt) compose to the layer', () => {
    const rt = runtimes[build];
    fc.assert(fc.property(caseArb, (spec) => {
      const c = materialize(spec);
      const L = layoutOf(c.shape, c.channelsLast);
      const o = { channelsLast: c.channelsLast };
      const bn = batchNormFor(rt, c.dims, L.C, { ...o, eps: c.eps });
      bn.weight!.set(c.weight);
      bn.bias!.set(c.bias);
      const x = rt.tensor(c.shape, c.x[0]!);
      const dy = rt.tensor(c.shape, c.dy[0]!);
      const y = bn.forward(x);
      const dx = bn.backward(dy);
      const stats = rt.batchNormStats(x, o);
      const y2 = rt.batchNormElemt(x, stats, { ...o, eps: c.eps, weight: bn.weight, bias: bn.bias });
      const sums = rt.batchNormBackwardReduce(dy, x, stats.mean, o);
      const dx2 = rt.batchNormBackwardElemt(dy, x, { ...stats, ...sums }, { ...o, eps: c.eps, weight: bn.weight });
      const ref = referenceForward(c.x[0]!, c.shape, { channelsLast: c.channelsLast, training: true, eps: c.eps, weight: c.weight });
      const dxScale = maxAbs(Array.from(c.dy[0]!, (v, i) => v * c.weight[L.channelOf(i)]! * ref.invstd[L.channelOf(i)]!));
      close('y', y2.data, y.data, maxAbs(y.data));
      close('dx', dx2.data, dx.data, dxScale);
      close('Σdy', sums.sumDy, bn.biasGrad!.data, L.N * L.S * 2);
      for (const t of [bn, x, dy, y, dx, y2, dx2]) t.dispose();
    }), { seed: SEED + 2, numRuns: 40 });
  });

  it('writes nothing outside its outputs: canary tensors around every operand stay intact', () => {
    const rt = runtimes[build];
    fc.assert(fc.property(caseArb, (spec) => {
      const c = materialize(spec);
      const L = layoutOf(c.shape, c.channelsLast);
      const canaries: Tensor[] = [];
      const fence = (): void => {
        const t = rt.tensor([L.C + 5]);
        t.data.fill(-7.25);
        canaries.push(t);
      };
      fence();
      const bn = batchNormFor(rt, c.dims, L.C, { channelsLast: c.channelsLast, affine: c.affine, trackRunningStats: c.trackRunningStats });
      fence();
      const x = rt.tensor(c.shape, c.x[0]!);
      fence();
      const dy = rt.tensor(c.shape, c.dy[0]!);
      fence();
      const y = rt.tensor(c.shape);
      fence();
      const dx = rt.tensor(c.shape);
      fence();
      const xBefore = x.toArray();
      const dyBefore = dy.toArray();
      bn.forward(x, y);
      bn.backward(dy, dx);
      bn.eval();
      if (c.trackRunningStats) {
        bn.forward(x, y);
        bn.backward(dy, dx);
      }
      rt.batchNorm(x, { channelsLast: c.channelsLast, training: true, out: y });
      rt.batchNormStats(x, { channelsLast: c.channelsLast });
      expect(x.toArray()).toEqual(xBefore);
      expect(dy.toArray()).toEqual(dyBefore);
      for (const t of canaries) expect(t.data.every((v) => v === -7.25)).toBe(true);
      for (const t of [bn, x, dy, y, dx, ...canaries]) t.dispose();
    }), { seed: SEED + 3, numRuns: 60 });
  });
});

// Backward against central differences of our own forward, in cases f64 can check exactly:
// x, γ and β on a grid of 2^-6 and steps h = 2^-7, 2^-8, so every perturbed input is an exact
// f32 and the only errors are f32 output rounding and truncation (Richardson removes h²).
// L(x) = Σ w·y with w on a grid too; the directional derivative along a random v must equal
// Σ v·dx, and perturbing γ (β) along u must give Σ u·weightGrad (biasGrad).
describe.each(['simd', 'scalar'] as const)('%s build: backward vs finite differences', (build) => {
  const grid = (lo: number, hi: number, n: number) =>
    fc.array(fc.integer({ min: lo * 64, max: hi * 64 }), { minLength: n, maxLength: n }).map((a) => Float64Array.from(a, (k) => k / 64));
  const direction = (n: number) => fc.array(fc.constantFrom(-1, 0, 1), { minLength: n, maxLength: n }).map((a) => Float64Array.from(a));

  const fdCase = shapeArb
    .filter(({ shape }) => shape.reduce((a, b) => a * b, 1) <= 96)
    .chain(({ dims, shape, channelsLast }) => {
      const L = layoutOf(shape, channelsLast);
      return fc.record({
        dims: fc.constant(dims), shape: fc.constant(shape), channelsLast: fc.constant(channelsLast),
        training: fc.boolean(),
        x: grid(-3, 3, L.size), w: grid(-1, 1, L.size), v: direction(L.size),
        gamma: grid(-2, 2, L.C), beta: grid(-1, 1, L.C), u: direction(L.C),
        runningMean: grid(-1, 1, L.C), runningVar: grid(1, 3, L.C),
      });
    })
    // Very small batch variances make the forward so curved that no step size is both exact
    // and small enough; BN with eps is meant for data whose variance dwarfs eps anyway.
    .filter((c) => {
      const L = layoutOf(c.shape, c.channelsLast);
      for (let ch = 0; ch < L.C; ch++) {
        const v = Array.from(L.indicesOf(ch), (i) => c.x[i]!);
        const m = v.reduce((a, b) => a + b, 0) / v.length;
        if (v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length < 0.25) return false;
      }
      return true;
    });

  it('dx, weightGrad and biasGrad match the derivative of forward', () => {
    const rt = runtimes[build];
    fc.assert(fc.property(fdCase, (c) => {
      const L = layoutOf(c.shape, c.channelsLast);
      const bn = batchNormFor(rt, c.dims, L.C, { channelsLast: c.channelsLast, eps: 1e-3, trackRunningStats: !c.training }).train(c.training);
      if (!c.training) {
        bn.runningMean!.set(c.runningMean);
        bn.runningVar!.set(c.runningVar);
      }
      const x = rt.tensor(c.shape);
      const loss = (xs: Values, gamma: Values, beta: Values): number => {
        bn.weight!.set(gamma);
        bn.bias!.set(beta);
        x.set(xs);
        const y = bn.forward(x);
        let s = 0;
        for (let i = 0; i < L.size; i++) s += c.w[i]! * y.data[i]!;
        y.dispose();
        return s;
      };
      const along = (f: (t: number) => number): number => {
        const d = (h: number) => (f(h) - f(-h)) / (2 * h);
        return (4 * d(2 ** -8) - d(2 ** -7)) / 3;
      };
      const shift = (a: Float64Array, dir: Float64Array, t: number) => a.map((v, i) => v + t * dir[i]!);

      loss(c.x, c.gamma, c.beta);
      const dy = rt.tensor(c.shape, c.w);
      const dx = bn.backward(dy);
      const analytic = {
        x: Array.from(dx.data).reduce((s, g, i) => s + g * c.v[i]!, 0),
        gamma: Array.from(bn.weightGrad!.data).reduce((s, g, i) => s + g * c.u[i]!, 0),
        beta: Array.from(bn.biasGrad!.data).reduce((s, g, i) => s + g * c.u[i]!, 0),
      };
      const numeric = {
        x: along((t) => loss(shift(c.x, c.v, t), c.gamma, c.beta)),
        gamma: along((t) => loss(c.x, shift(c.gamma, c.u, t), c.beta)),
        beta: along((t) => loss(c.x, c.gamma, shift(c.beta, c.u, t))),
      };
      // f32 rounding of L (n terms of size ≤ 10) divided by the step: ~n·10·2^-24 / 2^-8;
      // measured at most 4e-5·(1 + n/16) over 800 cases, so this bound has a margin of 5.
      const tol = 2e-4 * (1 + L.size / 16);
      for (const k of ['x', 'gamma', 'beta'] as const) {
        expect(Math.abs(analytic[k] - numeric[k]), `d/d${k}: backward ${analytic[k]}, finite differences ${numeric[k]}`).toBeLessThan(tol * (1 + Math.abs(numeric[k])));
      }
      for (const t of [bn, x, dy, dx]) t.dispose();
    }), { seed: SEED + 4, numRuns: 60 });
  });
});

// Arbitrary values into every public entry. The contract: it works, or it throws a TypeError
// or RangeError (those classes exactly); a throw allocates nothing and changes no layer.
describe('arbitrary arguments to every public entry', () => {
  it('only TypeError or RangeError, never a leak or a changed layer', () => {
    const rt = runtimes.simd;
    const other = runtimes.scalar;
    const bn = rt.batchNorm1d(3);
    const x = rt.tensor([4, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]);
    const dy = rt.tensor([4, 3], [1, -1, 2, 0, 3, 1, -2, 1, 0, 1, 1, 1]);
    const w = rt.tensor([3], [1, 2, 3]);
    const gone = rt.tensor([4, 3]);
    gone.dispose();
    const foreign = other.tensor([4, 3]);
    bn.forward(x).dispose();

    // Values near the edges of what is valid, mixed with anything at all.
    const dim = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(-1, 1.5, NaN, Infinity, -0, 2 ** 53, 2 ** 31, '2', null, undefined));
    const evil = fc.oneof(
      fc.anything({ maxDepth: 2 }),
      fc.array(dim, { maxLength: 10 }),
      fc.constantFrom<unknown>(x, dy, w, gone, foreign, bn, null, undefined, NaN, -1, 0, 1, 3, 1e-5, '3', [], {}, new Float32Array(3), new Float32Array(12), [4, 3]),
      fc.record({ eps: dim, momentum: fc.constantFrom<unknown>(0.1, null, 2, '0.1'), affine: fc.constantFrom<unknown>(true, null, 1), channelsLast: fc.constantFrom<unknown>(false, 'no') }, { requiredKeys: [] }),
      fc.record({ weight: fc.constantFrom<unknown>(new Float32Array(3), [1, 2], 'w'), bias: fc.constantFrom<unknown>(new Float32Array(3), null), running_mean: fc.constantFrom<unknown>(new Float32Array(3)), running_var: fc.constantFrom<unknown>(new Float32Array(3), new Float32Array(4)), num_batches_tracked: dim }, { requiredKeys: [] }),
      fc.record({ mean: fc.constantFrom<unknown>([0, 0, 0], [0], null), var: fc.constantFrom<unknown>([1, 1, 1], 'v'), count: dim, sumDy: fc.constantFrom<unknown>(new Float64Array(3), 7), sumDyXmu: fc.constantFrom<unknown>(new Float64Array(3)) }, { requiredKeys: [] }),
    );

    // Skip valid-but-huge requests: they are legal and would only cost time and memory.
    const tooBig = (v: unknown): boolean =>
      (typeof v === 'number' && v > 1e5) ||
      (Array.isArray(v) && v.every((d) => typeof d === 'number') && v.reduce((a: number, b: number) => a * b, 1) > 1e5);

    type Entry = [string, (a: unknown, b: unknown, c: unknown, d: unknown) => unknown];
    const call = <F extends (...args: never[]) => unknown>(f: F) => f as unknown as (...args: unknown[]) => unknown;
    const entries: Entry[] = [
      ['rt.tensor', (a, b) => call(rt.tensor).call(rt, a, b)],
      ['rt.batchNorm1d', (a, b) => call(rt.batchNorm1d).call(rt, a, b)],
      ['rt.batchNorm2d', (a, b) => call(rt.batchNorm2d).call(rt, a, b)],
      ['bn.forward', (a, b) => call(bn.forward).call(bn, a, b)],
      ['bn.backward', (a, b) => call(bn.backward).call(bn, a, b)],
      ['bn.loadStateDict', (a) => call(bn.loadStateDict).call(bn, a)],
      ['bn.train', (a) => call(bn.train).call(bn, a)],
      ['x.set', (a) => call(x.set).call(x, a)],
      ['rt.batchNorm', (a, b) => call(rt.batchNorm).call(rt, a, b)],
      ['rt.batchNormStats', (a, b) => call(rt.batchNormStats).call(rt, a, b)],
      ['rt.batchNormElemt', (a, b, c) => call(rt.batchNormElemt).call(rt, a, b, c)],
      ['rt.batchNormBackwardReduce', (a, b, c, d) => call(rt.batchNormBackwardReduce).call(rt, a, b, c, d)],
      ['rt.batchNormBackwardElemt', (a, b, c, d) => call(rt.batchNormBackwardElemt).call(rt, a, b, c, d)],
      ['mergeChannelStats', (a, b) => call(mergeChannelStats)([a, b])],
    ];

    // Mostly plausible first arguments, so the later checks of each entry are reached too.
    const first = fc.oneof({ weight: 3, arbitrary: fc.constantFrom<unknown>(x, dy, [4, 3], 3, { ...bn.stateDict() }) }, { weight: 2, arbitrary: evil });
    const second = fc.oneof({ weight: 1, arbitrary: fc.constantFrom<unknown>(x, dy, undefined, {}, { training: true }, [1, 2, 3]) }, { weight: 1, arbitrary: evil });
    fc.assert(fc.property(fc.constantFrom(...entries), first, second, evil, evil, ([name, f], a, b, c, d) => {
      fc.pre(![a, b, c, d].some(tooBig));
      const before = rt.memoryUsage();
      const state = [bn.stateDict(), bn.numBatchesTracked, bn.training, bn.weightGrad!.toArray(), x.toArray()];
      let result: unknown;
      try {
        result = f(a, b, c, d);
      } catch (error) {
        const cls = (error as Error)?.constructor;
        expect(cls === TypeError || cls === RangeError, `${name} threw ${String(error)}`).toBe(true);
        expect(rt.memoryUsage(), `${name} leaked on ${String(error)}`).toEqual({ ...before, bytesReserved: rt.memoryUsage().bytesReserved });
        expect([bn.stateDict(), bn.numBatchesTracked, bn.training, bn.weightGrad!.toArray(), x.toArray()], `${name} changed the layer`).toEqual(state);
        return;
      }
      // It worked: release what it made, then put the shared layer and tensor back.
      const shared: unknown[] = [bn, x, dy, w];
      if (!shared.includes(result) && result !== null && typeof result === 'object' && 'dispose' in result) (result as { dispose(): void }).dispose();
      bn.train(true);
      x.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]);
      bn.loadStateDict(state[0] as Parameters<BatchNorm['loadStateDict']>[0]);
      bn.weightGrad!.set(state[3] as Float32Array);
      bn.forward(x).dispose();
      expect(rt.memoryUsage().liveTensors, `${name} left something allocated`).toBe(before.liveTensors);
    }), { seed: SEED + 5, numRuns: 3000 });
    for (const t of [bn, x, dy, w, foreign]) t.dispose();
  });
});
