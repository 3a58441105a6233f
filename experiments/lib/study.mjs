// What the study trains for one seed, experiment by experiment: each task takes the
// runtime, the digits, the seed's streams and the schedule, and returns a small JSON
// object (curves, final accuracies, McNemar counts) from which claims.mjs computes the
// paired per-seed values. Tasks are independent, so any number of them can run at once in
// worker threads; each one's result depends only on its seed and the schedule.
import * as nn from '../../dist/nn/index.js';
import { checkpoints, train } from './train.mjs';
import { firstLastRatio } from './measures.mjs';
import { discordant } from './stats.mjs';

// The paper's Figure 1 schedule: 50,000 steps of batch 60.
export const PAPER_STEPS = 50000;
// "Final" accuracy is the mean over this many last checkpoints, not one evaluation.
export const FINAL_CHECKPOINTS = 3;
// A network "trains" at a rate, or "reaches the target" from an init, at this accuracy.
export const TRAINS_ACCURACY = 0.9;
// The last checkpoints are this fraction of training apart: close enough to the end to
// measure the trained network, far enough apart to average out batch-to-batch wobble.
const TAIL_SPACING = 0.05;

export const CONFIG = Object.freeze({
  // Ioffe & Szegedy §4.1: 784-100-100-100-10 sigmoid, batch 60, weights "initialized to
  // small random Gaussian values" (no scale, no rate given): N(0, 0.01²); each model at its
  // best rate from `rateGrid` on validation, and both at the one `sharedRate` as well.
  figure1: Object.freeze({
    hidden: Object.freeze([100, 100, 100]), init: 0.01, rateGrid: Object.freeze([0.1, 0.3, 1, 3, 10]), sharedRate: 0.5, evalPoints: 20,
  }),
  // Santurkar et al.'s networks all train: Glorot init, one rate for all three, plain SGD
  // (the ICS measure replays an SGD step). Landscape: at `probePoints` checkpoints, each the
  // mean over `probeBatches` batches, walking W − η·g for η in `stepSizes`.
  santurkar: Object.freeze({
    hidden: Object.freeze([100, 100, 100]), init: 'xavier', lr: 0.5, evalPoints: 20, icsPoints: 10,
    probePoints: 10, probeBatches: 4, stepSizes: Object.freeze([0.125, 0.25, 0.5, 1, 2]),
  }),
  // From Glorot weights, where the baseline trains; rates a factor of about 3 apart.
  learningRate: Object.freeze({
    hidden: Object.freeze([100, 100, 100]), init: 'xavier', rates: Object.freeze([0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100]),
  }),
  initialization: Object.freeze({
    hidden: Object.freeze([100, 100, 100]), inits: Object.freeze([0.001, 0.01, 0.1, 1, 'xavier', 'he']), lr: 0.5, evalPoints: 10,
  }),
  // ReLU 784-256-256-10 (PyTorch's default init), SGD with momentum and a cosine decay to
  // 0: trained to convergence. Dropout after each ReLU at the rate of `dropoutGrid` that
  // scores best on validation; BN+Dropout at that same rate.
  regularization: Object.freeze({
    hidden: Object.freeze([256, 256]), activation: 'relu', init: 'default', lr: 0.05, momentum: 0.9, schedule: 'cosine',
    dropoutGrid: Object.freeze([0.1, 0.3, 0.5]), evalPoints: 8,
  }),
  // Ten sigmoid layers from Glorot's init (the init meant to keep gradients level), so
  // whatever shrinks does so through the sigmoids.
  vanishingGradients: Object.freeze({ hidden: Object.freeze(new Array(10).fill(100)), init: 'xavier', lr: 0.5, normPoints: 10 }),
});

// Each experiment's steps as a fraction of --steps (the Figure 1 runs); sized so that
// `--full` (50,000) fits the study's time budget, see docs/results.md.
const SCHEDULE = Object.freeze({
  figure1Tuning: 0.2, santurkar: 0.6, learningRate: 0.3, initialization: 0.3, regularization: 0.4, vanishingGradients: 0.2,
});

export function schedule(steps) {
  return { figure1: steps, ...Object.fromEntries(Object.entries(SCHEDULE).map(([k, f]) => [k, Math.max(FINAL_CHECKPOINTS, Math.round(steps * f))])) };
}

/** The run seeds of seed `index` of a study started from `seed`: the same numbers every time. */
export function seedStreams(seed, index) {
  const root = new nn.Rng(seed);
  let streams = root.split();
  for (let i = 0; i < index; i++) streams = root.split();
  return { init: streams.nextUint32(), batches: streams.nextUint32(), noise: streams.nextUint32(), dropout: streams.nextUint32(), probe: streams.nextUint32() };
}

/** The last FINAL_CHECKPOINTS evaluation steps of a run of `steps`, TAIL_SPACING apart (distinct, ascending). */
export function tail(steps) {
  const at = [];
  for (let i = FINAL_CHECKPOINTS - 1; i >= 0; i--) at.push(Math.round(steps * (1 - i * TAIL_SPACING)));
  return [...new Set(at)];
}

// An evaluation of the 10,000 test digits costs about as much as a hundred training steps
// of the Figure 1 network: curves get no more than one per this many steps.
const MIN_EVAL_SPACING = 50;

/** Evenly spaced checkpoints whose end is dense enough for a FINAL_CHECKPOINTS mean. */
function curve(steps, points) {
  const count = Math.max(1, Math.min(points, Math.floor(steps / MIN_EVAL_SPACING)));
  return [...new Set([...checkpoints(steps, count), ...tail(steps)])].sort((a, b) => a - b);
}

/** The digits without the validation split: runs that choose nothing skip evaluating it. */
const withoutValidation = ({ train, test }) => ({ train, test });

/** Mean of the last FINAL_CHECKPOINTS values. */
export function finalMean(series) {
  const last = series.slice(-FINAL_CHECKPOINTS);
  return last.reduce((a, b) => a + b, 0) / last.length;
}

/** Index of the best value (the first of equals), ignoring NaN. */
function argmax(values) {
  let best = -1;
  values.forEach((v, i) => {
    if (Number.isFinite(v) && (best < 0 || v > values[best])) best = i;
  });
  return best;
}

/** The first of `steps` whose accuracy reaches `target`, null if none does. */
export function stepsTo(steps, accuracy, target) {
  const i = accuracy.findIndex((a) => a >= target);
  return i < 0 ? null : steps[i];
}

// The pieces of a run kept in results.json.
const accuracies = (r) => ({
  testAccuracy: r.testAccuracy, finalTest: finalMean(r.testAccuracy),
  ...(r.validationAccuracy.length > 0 ? { validationAccuracy: r.validationAccuracy, finalValidation: finalMean(r.validationAccuracy) } : {}),
});

const sigmoidNet = (hidden, bn, init, extra = {}) => ({ hidden, bn, noisy: false, initStd: init, momentum: 0, ...extra });

const TASKS = {
  figure1: {
    steps: (s) => 2 * CONFIG.figure1.rateGrid.length * s.figure1Tuning + 4 * s.figure1,
    run(rt, data, seeds, s, tick) {
      const c = CONFIG.figure1;
      const tuneAt = tail(s.figure1Tuning);
      const tuning = {};
      const rates = {};
      for (const [model, bn] of [['bn', true], ['baseline', false]]) {
        tuning[model] = c.rateGrid.map((lr) => finalMean(train(rt, data, { ...sigmoidNet(c.hidden, bn, c.init), lr, steps: s.figure1Tuning, evalAt: tuneAt, seeds }, tick).validationAccuracy));
        rates[model] = c.rateGrid[Math.max(0, argmax(tuning[model]))];
      }
      const evalAt = curve(s.figure1, c.evalPoints);
      const probeAt = checkpoints(s.figure1, CONFIG.santurkar.probePoints).filter((step) => step < s.figure1);
      const probe = { probeAt, stepSizes: CONFIG.santurkar.stepSizes, probeBatches: CONFIG.santurkar.probeBatches };
      const run = (bn, lr, extra = {}) => train(rt, withoutValidation(data), { ...sigmoidNet(c.hidden, bn, c.init), lr, steps: s.figure1, evalAt, seeds, ...extra }, tick);
      const tuned = { bn: run(true, rates.bn, probe), baseline: run(false, rates.baseline, probe) };
      const shared = { bn: run(true, c.sharedRate), baseline: run(false, c.sharedRate) };
      const keep = (r, landscapeToo) => ({ ...accuracies(r), percentiles: r.percentiles, ...(landscapeToo ? { landscape: r.landscape } : {}) });
      return {
        evalAt, probeAt, tuning, rates,
        tuned: { bn: keep(tuned.bn, true), baseline: keep(tuned.baseline, true), mcnemar: discordant(tuned.bn.testOutcomes, tuned.baseline.testOutcomes) },
        shared: { bn: keep(shared.bn), baseline: keep(shared.baseline), mcnemar: discordant(shared.bn.testOutcomes, shared.baseline.testOutcomes) },
      };
    },
  },
  santurkar: {
    steps: (s) => 3 * s.santurkar,
    run(rt, data, seeds, s, tick) {
      const c = CONFIG.santurkar;
      const evalAt = curve(s.santurkar, c.evalPoints);
      const icsAt = checkpoints(s.santurkar, c.icsPoints).filter((step) => step < s.santurkar);
      const probeAt = checkpoints(s.santurkar, c.probePoints).filter((step) => step < s.santurkar);
      const base = { ...sigmoidNet(c.hidden, true, c.init), lr: c.lr, steps: s.santurkar, evalAt, icsAt, seeds };
      const probe = { probeAt, stepSizes: c.stepSizes, probeBatches: c.probeBatches };
      const digits = withoutValidation(data);
      const runs = {
        bn: train(rt, digits, { ...base, ...probe }, tick),
        noisyBn: train(rt, digits, { ...base, noisy: true }, tick),
        baseline: train(rt, digits, { ...base, bn: false, ...probe }, tick),
      };
      const out = { evalAt, icsAt, probeAt };
      for (const [model, r] of Object.entries(runs)) out[model] = { ...accuracies(r), ics: r.ics, ...(r.landscape.length ? { landscape: r.landscape } : {}) };
      out.mcnemar = {
        noisyBnBaseline: discordant(runs.noisyBn.testOutcomes, runs.baseline.testOutcomes),
        noisyBnBn: discordant(runs.noisyBn.testOutcomes, runs.bn.testOutcomes),
      };
      return out;
    },
  },
  learningRate: {
    steps: (s) => 2 * CONFIG.learningRate.rates.length * s.learningRate,
    run(rt, data, seeds, s, tick) {
      const c = CONFIG.learningRate;
      const evalAt = tail(s.learningRate);
      const out = { evalAt };
      for (const [model, bn] of [['bn', true], ['baseline', false]]) {
        const runs = c.rates.map((lr) => train(rt, data, { ...sigmoidNet(c.hidden, bn, c.init), lr, steps: s.learningRate, evalAt, seeds }, tick));
        out[model] = {
          finalValidation: runs.map((r) => finalMean(r.validationAccuracy)),
          finalTest: runs.map((r) => finalMean(r.testAccuracy)),
          divergedAtStep: runs.map((r) => r.divergedAtStep),
        };
      }
      return out;
    },
  },
  initialization: {
    steps: (s) => 2 * CONFIG.initialization.inits.length * s.initialization,
    run(rt, data, seeds, s, tick) {
      const c = CONFIG.initialization;
      const evalAt = curve(s.initialization, c.evalPoints);
      const out = { evalAt };
      for (const [model, bn] of [['bn', true], ['baseline', false]]) {
        const runs = c.inits.map((init) => train(rt, withoutValidation(data), { ...sigmoidNet(c.hidden, bn, init), lr: c.lr, steps: s.initialization, evalAt, seeds }, tick));
        out[model] = {
          testAccuracy: runs.map((r) => r.testAccuracy),
          finalTest: runs.map((r) => finalMean(r.testAccuracy)),
          stepsToTarget: runs.map((r) => stepsTo(evalAt, r.testAccuracy, TRAINS_ACCURACY)),
        };
      }
      return out;
    },
  },
  regularization: {
    steps: (s) => (CONFIG.regularization.dropoutGrid.length + 3) * s.regularization,
    run(rt, data, seeds, s, tick) {
      const c = CONFIG.regularization;
      const evalAt = curve(s.regularization, c.evalPoints);
      const run = (bn, dropout) => train(rt, data, {
        hidden: c.hidden, activation: c.activation, initStd: c.init, lr: c.lr, momentum: c.momentum, schedule: c.schedule,
        steps: s.regularization, evalAt, trainEval: true, seeds, bn, dropout,
      }, tick);
      const keep = (r) => ({ ...accuracies(r), trainAccuracy: r.trainAccuracy, finalTrain: finalMean(r.trainAccuracy) });
      const dropoutRuns = c.dropoutGrid.map((rate) => run(false, rate));
      const best = Math.max(0, argmax(dropoutRuns.map((r) => finalMean(r.validationAccuracy))));
      const runs = { baseline: run(false, 0), bn: run(true, 0), dropout: dropoutRuns[best], bnDropout: run(true, c.dropoutGrid[best]) };
      return {
        evalAt,
        dropoutValidation: dropoutRuns.map((r) => finalMean(r.validationAccuracy)),
        dropoutRate: c.dropoutGrid[best],
        ...Object.fromEntries(Object.entries(runs).map(([model, r]) => [model, keep(r)])),
        mcnemar: { bnDropout: discordant(runs.bn.testOutcomes, runs.dropout.testOutcomes) },
      };
    },
  },
  vanishingGradients: {
    steps: (s) => 2 * s.vanishingGradients,
    run(rt, data, seeds, s, tick) {
      const c = CONFIG.vanishingGradients;
      const evalAt = tail(s.vanishingGradients);
      const normAt = checkpoints(s.vanishingGradients, c.normPoints).filter((step) => step < s.vanishingGradients);
      const out = { evalAt, normAt };
      for (const [model, bn] of [['bn', true], ['baseline', false]]) {
        const r = train(rt, withoutValidation(data), { ...sigmoidNet(c.hidden, bn, c.init), lr: c.lr, steps: s.vanishingGradients, evalAt, gradNormAt: normAt, seeds }, tick);
        out[model] = { gradNorms: r.gradNorms, firstLastRatio: r.gradNorms.map(firstLastRatio), finalTest: finalMean(r.testAccuracy) };
      }
      return out;
    },
  },
};

export const TASK_NAMES = Object.freeze(Object.keys(TASKS));

/** Training steps task `name` takes under schedule `s` (for the progress bar and the plan). */
export function taskSteps(name, s) {
  return TASKS[name].steps(s);
}

/** Runs task `name` for seed `index` of the study started from `seed`. */
export function runTask(rt, data, name, seed, index, steps, tick) {
  return TASKS[name].run(rt, data, seedStreams(seed, index), schedule(steps), tick);
}
