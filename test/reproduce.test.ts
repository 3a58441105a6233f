// `npm run reproduce` as outside code runs it: a tiny schedule (2 seeds of 12 steps) into a
// temp directory, twice at once with the same --seed/--seeds/--steps. results.json must carry every
// claim id of issue 14 in the shape the README's table reads, with a verdict that follows
// from its interval, and be identical byte for byte; the report and one SVG per figure
// must be written. Needs `npm run build` (npm test builds first): the script imports dist/.
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
const SEEDS = 2;
const CLAIM_IDS = [
  'ioffe.fasterTraining', 'ioffe.higherAccuracy', 'ioffe.stableInputs', 'higherLearningRates', 'initialization', 'regularization', 'replacesDropout',
  'vanishingGradients', 'santurkar.noisyBnTrainsAsWell', 'santurkar.icsNotReduced', 'santurkar.lossVariation', 'santurkar.gradientPredictiveness',
  'santurkar.betaSmoothness',
];

async function reproduce(out: string): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [script, '--seed', '3', '--seeds', String(SEEDS), '--steps', String(STEPS), '--out', out], { cwd: root, timeout: 240_000 });
}

interface Claim {
  verdict: string;
  effect: number | null;
  ci95: [number | null, number | null];
  noEffect: number;
  direction: string;
  unit: string;
  seeds: number;
  rule: string;
}

describe('npm run reproduce', () => {
  let dir: string;
  let first: { stdout: string; stderr: string };
  let results: { claims: Record<string, Claim>; runs: Record<string, unknown[]>; perSeed: Record<string, unknown[]>; data: Record<string, unknown> };
  beforeAll(async () => {
    if (!existsSync(path.join(root, 'dist', 'nn', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    dir = await mkdtemp(path.join(tmpdir(), 'bn-reproduce-'));
    // At once: each run's serial parts (loading, timing, figures) overlap the other's training.
    [first] = await Promise.all([reproduce(path.join(dir, 'a')), reproduce(path.join(dir, 'b'))]);
    results = JSON.parse(await readFile(path.join(dir, 'a', 'results.json'), 'utf8'));
  }, 480_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('trains on the full MNIST: 55,000 training, 5,000 validation, 10,000 test digits', () => {
    expect(results.data).toMatchObject({ train: 55000, validation: 5000, test: 10000 });
  });

  it('has every claim id, each { verdict, effect, ci95, noEffect, direction, unit, seeds, rule }, verdict from the interval', () => {
    expect(Object.keys(results.claims).sort()).toEqual([...CLAIM_IDS].sort());
    for (const id of CLAIM_IDS) {
      const c = results.claims[id]!;
      expect(Object.keys(c).sort()).toEqual(['ci95', 'direction', 'effect', 'noEffect', 'rule', 'seeds', 'unit', 'verdict']);
      expect(c.seeds).toBe(SEEDS);
      expect(results.perSeed[id]).toHaveLength(SEEDS);
      expect([0, 1]).toContain(c.noEffect);
      expect(['greater', 'less']).toContain(c.direction);
      expect(c.rule.length).toBeGreaterThan(20);
      const [lo, hi] = c.ci95;
      if (lo === null || hi === null) {
        expect(c.verdict).toBe('inconclusive');
        continue;
      }
      expect(lo).toBeLessThanOrEqual(c.effect!);
      expect(c.effect!).toBeLessThanOrEqual(hi);
      const supports = c.direction === 'greater' ? lo > c.noEffect : hi < c.noEffect;
      const against = c.direction === 'greater' ? hi < c.noEffect : lo > c.noEffect;
      expect(c.verdict).toBe(supports ? 'held' : against ? 'did not hold' : 'inconclusive');
    }
  });

  it('keeps the per-seed curves of every experiment', () => {
    for (const task of ['figure1', 'santurkar', 'learningRate', 'initialization', 'regularization', 'vanishingGradients']) {
      expect(results.runs[task]).toHaveLength(SEEDS);
    }
    const f1 = results.runs.figure1![0] as { evalAt: number[]; tuned: { bn: { testAccuracy: number[]; percentiles: number[][] } } };
    expect(f1.evalAt[0]).toBe(0);
    expect(f1.evalAt.at(-1)).toBe(STEPS);
    expect(f1.tuned.bn.testAccuracy).toHaveLength(f1.evalAt.length);
    for (const row of f1.tuned.bn.percentiles) expect(row[0]! <= row[1]! && row[1]! <= row[2]!).toBe(true);
    const sa = results.runs.santurkar![0] as { icsAt: number[]; bn: { ics: unknown[][] } };
    expect(sa.bn.ics).toHaveLength(sa.icsAt.length);
    // ICS on every Linear above the first: three of the Figure 1 network's four.
    for (const layers of sa.bn.ics) expect(layers).toHaveLength(3);
  });

  it('is byte-identical for the same --seed, --seeds and --steps', async () => {
    const a = await readFile(path.join(dir, 'a', 'results.json'));
    const b = await readFile(path.join(dir, 'b', 'results.json'));
    expect(a.equals(b)).toBe(true);
  });

  it('writes report.md, one SVG per figure, the claims table on stdout and progress on stderr', async () => {
    const files = await readdir(path.join(dir, 'a'));
    const svgs = files.filter((f) => f.endsWith('.svg'));
    expect(svgs.length).toBeGreaterThanOrEqual(9);
    for (const f of svgs) expect((await readFile(path.join(dir, 'a', f), 'utf8')).startsWith('<svg')).toBe(true);
    const report = await readFile(path.join(dir, 'a', 'report.md'), 'utf8');
    for (const f of svgs) expect(report).toContain(`](${f})`);
    for (const id of CLAIM_IDS) expect(report).toContain(`\`${id}\``);
    expect(report).toMatch(/steps per second/i);
    expect(first.stdout).toMatch(/^\| claim \| paper \| effect \[95% CI\]/);
    expect(first.stderr).toContain('100%');
  });

  it('rejects a bad --steps or fewer than two seeds with a usage message', async () => {
    await expect(run(process.execPath, [script, '--steps', 'many'], { cwd: root })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--steps: expected an integer of at least 1, got many'),
    });
    await expect(run(process.execPath, [script, '--seeds', '1'], { cwd: root })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--seeds: expected an integer of at least 2, got 1'),
    });
  });
});
