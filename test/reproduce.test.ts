// `npm run reproduce` as outside code runs it: a tiny schedule into a temp directory,
// twice with one seed. results.json must carry the keys issues 6 and 8 list and be identical
// byte for byte; the report and one SVG per figure must be written. Needs `npm run build`
// (npm test builds first): the script imports dist/.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const script = path.join(root, 'experiments', 'reproduce.mjs');
const STEPS = 12;

async function reproduce(out: string, seed: number): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [script, '--seed', String(seed), '--steps', String(STEPS), '--out', out], { cwd: root, timeout: 120_000 });
}

function at(value: unknown, keyPath: string): unknown {
  return keyPath.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}

describe('npm run reproduce', () => {
  let dir: string;
  let first: { stdout: string; stderr: string };
  beforeAll(async () => {
    if (!existsSync(path.join(root, 'dist', 'nn', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    dir = await mkdtemp(path.join(tmpdir(), 'bn-reproduce-'));
    first = await reproduce(path.join(dir, 'a'), 3);
    await reproduce(path.join(dir, 'b'), 3);
  }, 240_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes results.json with every key the issue lists, one entry per step where it says so', async () => {
    const results = JSON.parse(await readFile(path.join(dir, 'a', 'results.json'), 'utf8'));
    const steps = at(results, 'ioffe2015.steps') as number[];
    expect(steps[0]).toBe(0);
    expect(steps.at(-1)).toBe(STEPS);
    for (const model of ['bn', 'baseline']) {
      expect(at(results, `ioffe2015.testAccuracy.${model}`)).toHaveLength(steps.length);
      const pct = at(results, `ioffe2015.sigmoidInputPercentiles.${model}`) as number[][];
      expect(pct).toHaveLength(steps.length);
      for (const row of pct) {
        expect(row).toHaveLength(3);
        expect(row[0]! <= row[1]! && row[1]! <= row[2]!).toBe(true);
      }
    }
    const rates = at(results, 'learningRate.rates') as number[];
    expect(rates.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...rates) / Math.min(...rates)).toBeGreaterThanOrEqual(1000);
    for (const model of ['bn', 'baseline']) expect(at(results, `learningRate.finalTestAccuracy.${model}`)).toHaveLength(rates.length);
    for (const model of ['bn', 'noisyBn', 'baseline']) {
      const acc = at(results, `santurkar2018.noisyBN.finalTestAccuracy.${model}`);
      expect(typeof acc).toBe('number');
      expect(acc as number).toBeGreaterThanOrEqual(0);
      expect(acc as number).toBeLessThanOrEqual(1);
    }
    const checkpoints = at(results, 'santurkar2018.checkpoints') as number[];
    expect(checkpoints.length).toBeGreaterThan(0);
    for (const key of ['lossVariation', 'gradientPredictiveness']) {
      for (const model of ['bn', 'baseline']) {
        const series = at(results, `santurkar2018.${key}.${model}`) as number[];
        expect(series).toHaveLength(checkpoints.length);
        for (const v of series) expect(v).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('writes the keys issue 8 lists: initialization, regularization, vanishing gradients, internal covariate shift', async () => {
    const results = JSON.parse(await readFile(path.join(dir, 'a', 'results.json'), 'utf8'));
    const scales = at(results, 'initialization.scales') as (number | string)[];
    const numeric = scales.filter((s): s is number => typeof s === 'number');
    expect(numeric.length).toBeGreaterThanOrEqual(5);
    expect(Math.min(...numeric)).toBeLessThanOrEqual(1e-3);
    expect(Math.max(...numeric)).toBeGreaterThanOrEqual(1);
    expect(scales).toContain('xavier');
    for (const model of ['bn', 'baseline']) {
      expect(at(results, `initialization.finalTestAccuracy.${model}`)).toHaveLength(scales.length);
      const to90 = at(results, `initialization.stepsTo90.${model}`) as (number | null)[];
      expect(to90).toHaveLength(scales.length);
      for (const v of to90) expect(v === null || (Number.isInteger(v) && v >= 0)).toBe(true);
    }
    const evalSteps = at(results, 'regularization.evalSteps') as number[];
    for (const model of ['baseline', 'bn', 'dropout', 'bnDropout']) {
      for (const key of ['trainAccuracy', 'testAccuracy']) expect(at(results, `regularization.${model}.${key}`)).toHaveLength(evalSteps.length);
    }
    const vanCheckpoints = at(results, 'vanishingGradients.checkpoints') as number[];
    const layers = at(results, 'vanishingGradients.layers') as number;
    expect(layers).toBeGreaterThanOrEqual(11);
    for (const model of ['bn', 'baseline']) {
      const norms = at(results, `vanishingGradients.layerGradNorm.${model}`) as number[][];
      expect(norms).toHaveLength(vanCheckpoints.length);
      for (const row of norms) expect(row).toHaveLength(layers);
    }
    const icsCheckpoints = at(results, 'internalCovariateShift.checkpoints') as number[];
    expect(icsCheckpoints.length).toBeGreaterThan(0);
    for (const key of ['l2', 'cosine']) {
      for (const model of ['bn', 'noisyBn', 'baseline']) {
        const series = at(results, `internalCovariateShift.${key}.${model}`) as (number | null)[];
        expect(series).toHaveLength(icsCheckpoints.length);
        for (const v of series) if (v !== null && key === 'cosine') expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-6);
      }
    }
  });

  it('is byte-identical for the same seed', async () => {
    const a = await readFile(path.join(dir, 'a', 'results.json'));
    const b = await readFile(path.join(dir, 'b', 'results.json'));
    expect(a.equals(b)).toBe(true);
  });

  it('writes report.md, one SVG per figure, a summary on stdout and progress on stderr', async () => {
    const files = await readdir(path.join(dir, 'a'));
    const svgs = files.filter((f) => f.endsWith('.svg'));
    expect(svgs.length).toBeGreaterThanOrEqual(9);
    for (const f of svgs) expect((await readFile(path.join(dir, 'a', f), 'utf8')).startsWith('<svg')).toBe(true);
    const report = await readFile(path.join(dir, 'a', 'report.md'), 'utf8');
    for (const f of svgs) expect(report).toContain(`](${f})`);
    expect(report).toMatch(/steps per second/i);
    expect(first.stdout).toMatch(/^\| claim \| paper \| ours/);
    expect(first.stderr).toContain('100%');
  });

  it('rejects a bad --steps with a usage message', async () => {
    await expect(run(process.execPath, [script, '--steps', 'many'], { cwd: root })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--steps: expected a positive integer, got many'),
    });
  });
});
