// Golden tests: our layers against PyTorch 1.13, step by step, for both wasm builds.
// Fixtures come from scripts/make_fixtures.py (`npm run fixtures`); see its docstring.
import { describe, it, expect, beforeAll } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { init } from '../src/index.node.js';
import { batchNormFor, type Dims } from './harness.js';

type Runtime = Awaited<ReturnType<typeof init>>;
type ModuleName = 'BatchNorm1d' | 'BatchNorm2d' | 'BatchNorm3d';

const ARRAYS = ['y', 'dx', 'weightGrad', 'biasGrad', 'runningMean', 'runningVar'] as const;
type ArrayKey = (typeof ARRAYS)[number];

interface Step {
  training: boolean;
  shape: number[];
  x: number[];
  dy: number[];
  expected: Record<ArrayKey, number[] | null> & { numBatchesTracked: number | null };
  torch32Error: Record<ArrayKey, number | null> & { numBatchesTracked: number | null };
}

interface Case {
  name: string;
  module: ModuleName;
  numFeatures: number;
  options: {
    eps: number;
    momentum: number | null;
    affine: boolean;
    trackRunningStats: boolean;
    channelsLast: boolean;
  };
  weight: number[] | null;
  bias: number[] | null;
  steps: Step[];
}

interface ErrorCase {
  module: ModuleName;
  numFeatures: number;
  shape: number[];
  pytorchMessage: string;
  expectedMessage: string;
}

const DIR = fileURLToPath(new URL('./fixtures/', import.meta.url));
const read = (file: string): unknown => JSON.parse(readFileSync(DIR + file, 'utf8'));

const CASES = readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && f !== 'errors.json')
  .sort()
  .map((f) => read(f) as Case);
const ERRORS = (read('errors.json') as { cases: ErrorCase[] }).cases;

const DIMS: Record<ModuleName, Dims> = { BatchNorm1d: 1, BatchNorm2d: 2, BatchNorm3d: 3 };

function makeLayer(rt: Runtime, module: ModuleName, C: number, options: Case['options']) {
  return batchNormFor(rt, DIMS[module], C, options);
}

/**
 * Appends a failure line unless `ours` is within the bound of `expected`.
 * Bound: max(2 * PyTorch-f32 error, 1e-5 * max|expected|). The first term is the
 * contract ("accuracy at least PyTorch's", with a factor 2 for a different but equally
 * good summation order); the second keeps steps where PyTorch happened to be exact or
 * nearly so from demanding bit-identical results.
 */
function compare(
  failures: string[],
  where: string,
  key: string,
  ours: ArrayLike<number> | null,
  expected: number[] | null,
  torch32: number | null,
): void {
  // A missing expectation is an expectation too: PyTorch has no such array here.
  if (expected === null) {
    if (ours !== null) failures.push(`${where} ${key}: PyTorch has none, ours is an array of ${ours.length}`);
    return;
  }
  if (ours === null) {
    failures.push(`${where} ${key}: ours is null, PyTorch has ${expected.length} values`);
    return;
  }
  if (ours.length !== expected.length) {
    failures.push(`${where} ${key}: length ${ours.length}, expected ${expected.length}`);
    return;
  }
  let scale = 0;
  for (const e of expected) scale = Math.max(scale, Math.abs(e));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(ours[i]! - expected[i]!);
    // NaN must fail, and `d > worst` is false for NaN.
    if (Number.isNaN(d) || d > worst) {
      worst = Number.isNaN(d) ? Infinity : d;
      at = i;
      if (worst === Infinity) break;
    }
  }
  const bound = Math.max(2 * (torch32 ?? 0), 1e-5 * scale);
  if (!(worst <= bound)) {
    failures.push(
      `${where} ${key}: max abs error ${worst.toExponential(3)} > bound ${bound.toExponential(3)} ` +
        `(torch32 ${(torch32 ?? 0).toExponential(3)}, max|expected| ${scale.toExponential(3)}; ` +
        `at [${at}] ours ${ours[at]} expected ${expected[at]})`,
    );
  }
}

const arr = (t: { toArray(): ArrayLike<number> } | null): ArrayLike<number> | null => (t === null ? null : t.toArray());

function runCase(rt: Runtime, c: Case): string[] {
  const failures: string[] = [];
  const before = rt.memoryUsage().liveTensors;
  const layer = makeLayer(rt, c.module, c.numFeatures, c.options);
  try {
    expect(layer.numFeatures).toBe(c.numFeatures);
    expect(layer.momentum).toBe(c.options.momentum);
    if (c.weight === null || c.bias === null) {
      expect(layer.weight, 'affine=false must have no weight').toBeNull();
      expect(layer.bias, 'affine=false must have no bias').toBeNull();
    } else {
      expect(layer.weight, 'affine layer must have a weight').not.toBeNull();
      expect(layer.bias, 'affine layer must have a bias').not.toBeNull();
      layer.weight!.set(c.weight);
      layer.bias!.set(c.bias);
    }

    c.steps.forEach((s, i) => {
      const where = `${c.name} step ${i + 1} (${s.training ? 'train' : 'eval'})`;
      const n = s.shape.reduce((a, b) => a * b, 1);
      expect(s.x.length, `${where}: fixture x size`).toBe(n);
      expect(s.dy.length, `${where}: fixture dy size`).toBe(n);

      if (s.training) layer.train();
      else layer.eval();
      expect(layer.training).toBe(s.training);

      const x = rt.tensor(s.shape, s.x);
      const y = layer.forward(x);
      const dy = rt.tensor(s.shape, s.dy);
      const dx = layer.backward(dy);
      try {
        expect(y.shape, `${where}: y shape`).toEqual(s.shape);
        expect(dx.shape, `${where}: dx shape`).toEqual(s.shape);
        const ours: Record<ArrayKey, ArrayLike<number> | null> = {
          y: y.toArray(),
          dx: dx.toArray(),
          weightGrad: arr(layer.weightGrad),
          biasGrad: arr(layer.biasGrad),
          runningMean: arr(layer.runningMean),
          runningVar: arr(layer.runningVar),
        };
        for (const k of ARRAYS) compare(failures, where, k, ours[k], s.expected[k], s.torch32Error[k]);

        const nbt = s.expected.numBatchesTracked;
        // DESIGN types numBatchesTracked as a number; without running stats PyTorch has
        // None, which we accept as 0 or null: either way it must never count.
        const ok = nbt === null ? layer.numBatchesTracked === 0 || layer.numBatchesTracked === null : layer.numBatchesTracked === nbt;
        if (!ok) failures.push(`${where} numBatchesTracked: ours ${layer.numBatchesTracked}, expected ${nbt}`);
      } finally {
        for (const t of [x, y, dy, dx]) t.dispose();
      }
    });
  } finally {
    layer.dispose();
  }
  // Every tensor above was disposed, so nothing of this case may stay alive.
  expect(rt.memoryUsage().liveTensors, `${c.name}: live tensors after dispose`).toBe(before);
  return failures;
}

it('fixtures are present and cover every module and layout', () => {
  const seen = new Set(CASES.map((c) => `${c.module}/${c.options.channelsLast}/${c.steps[0]?.shape.length}`));
  for (const k of [
    'BatchNorm1d/false/2', 'BatchNorm1d/false/3', 'BatchNorm1d/true/3',
    'BatchNorm2d/false/4', 'BatchNorm2d/true/4', 'BatchNorm3d/false/5', 'BatchNorm3d/true/5',
  ]) expect(seen, `no fixture for ${k}`).toContain(k);
  // The contract's wording (docs/design.md), pinned here so a regenerated fixture cannot move it.
  expect(ERRORS.map((e) => e.expectedMessage)).toContain(
    'Expected more than 1 value per channel when training, got input size [1, 64]',
  );
});

for (const simd of [true, false]) {
  describe(`golden vs PyTorch (${simd ? 'simd' : 'scalar'} build)`, () => {
    let rt: Runtime;
    beforeAll(async () => {
      rt = await init({ simd });
    });

    it('runs the requested build', () => {
      expect(rt.simd).toBe(simd);
    });

    for (const c of CASES) {
      it(c.name, () => {
        const failures = runCase(rt, c);
        expect(failures, failures.join('\n')).toEqual([]);
      });
    }

    for (const e of ERRORS) {
      it(`training ${e.module}(${e.numFeatures}) on [${e.shape.join(', ')}] throws PyTorch's message`, () => {
        const before = rt.memoryUsage().liveTensors;
        const layer = makeLayer(rt, e.module, e.numFeatures, {
          eps: 1e-5, momentum: 0.1, affine: true, trackRunningStats: true, channelsLast: false,
        });
        const x = rt.tensor(e.shape);
        layer.train();
        let message: string | undefined;
        try {
          layer.forward(x).dispose();
        } catch (err) {
          message = (err as Error).message;
        }
        // Exact match (toThrow(string) would accept a substring).
        expect(message).toBe(e.expectedMessage);
        x.dispose();
        layer.dispose();
        // A refused call must not leave a half-made output tensor behind.
        expect(rt.memoryUsage().liveTensors).toBe(before);
      });
    }
  });
}
