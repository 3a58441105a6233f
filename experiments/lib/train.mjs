// One training run of the papers' MLPs with batchnorm-wasm/nn, and the measurements the
// experiments take along it. Everything random comes from Rng streams fixed by the seed.
import * as nn from '../../dist/nn/index.js';
import { PIXELS, CLASSES } from './data.mjs';
import { covariateShift, layerGradNorms, linearLayers } from './measures.mjs';
import { FIGURE1 } from './figure1.mjs';
import { SampleNoise } from './sample-noise.mjs';

// Every run trains on Figure 1's batch size; the report prints the same constant.
export const BATCH = FIGURE1.batch;
// Diverged: the mean training loss over a window is not finite, or is this far above a
// uniform guess's ln 10 from some window to the end of training. A network stuck at
// chance sits at ln 10 and does not count; one brief spike that training recovers from
// does not count either.
export const DIVERGENCE_LOSS = 1.5 * Math.log(CLASSES);
const WINDOWS = 50;
// Training accuracy (for the generalization gap) is measured on the first this many
// training digits: a fixed sample of the training set at a fifth of the cost.
const TRAIN_EVAL_DIGITS = 10000;

export function divergedAtStep(windows) {
  const bad = windows.findIndex((w) => !Number.isFinite(w.mean));
  if (bad >= 0) return windows[bad].start;
  let first = null;
  for (let i = windows.length - 1; i >= 0 && windows[i].mean > DIVERGENCE_LOSS; i--) first = windows[i].start;
  return first;
}

/**
 * A Linear with `init`: nn.Linear's own ('default', 'xavier', a standard deviation) or
 * 'he' (He et al. 2015: N(0, 2/fan_in) weights, biases 0), which nn.Linear does not offer.
 */
function linear(rt, inFeatures, outFeatures, init, rng) {
  if (init !== 'he') return new nn.Linear(rt, inFeatures, outFeatures, { rng, init });
  const layer = new nn.Linear(rt, inFeatures, outFeatures, { rng, init: 0 });
  const std = Math.sqrt(2 / inFeatures);
  layer.weight.set(Float32Array.from({ length: inFeatures * outFeatures }, () => std * rng.normal()));
  return layer;
}

/**
 * Linear → [BatchNorm → [SampleNoise]] → Sigmoid (or ReLU) → [Dropout] per hidden layer,
 * then Linear to the classes. `sigmoidInput` is the index of the layer whose output feeds
 * the last hidden layer's activations (Ioffe & Szegedy's Figure 1 b, c).
 */
export function buildNetwork(rt, { hidden, bn, noisy, initStd, initRng, noiseRng, activation = 'sigmoid', dropout = 0, dropoutRng }) {
  const layers = [];
  let width = PIXELS;
  let sigmoidInput = -1;
  for (const units of hidden) {
    layers.push(linear(rt, width, units, initStd, initRng));
    if (bn) layers.push(rt.batchNorm1d(units));
    if (noisy) layers.push(new SampleNoise(rt, units, { rng: noiseRng }));
    sigmoidInput = layers.length - 1;
    layers.push(activation === 'relu' ? new nn.ReLU(rt) : new nn.Sigmoid(rt));
    if (dropout > 0) layers.push(new nn.Dropout(rt, dropout, { rng: dropoutRng }));
    width = units;
  }
  layers.push(linear(rt, width, CLASSES, initStd, initRng));
  return { net: new nn.Sequential(...layers), sigmoidInput };
}

/** numpy's default percentile: linear between the two nearest ranks. */
export function percentile(sorted, q) {
  const pos = (sorted.length - 1) * q / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Steps 0, every, 2·every, …, and the last. */
export function checkpoints(steps, count) {
  const every = Math.max(1, Math.round(steps / count));
  const list = [];
  for (let s = 0; s < steps; s += every) list.push(s);
  list.push(steps);
  return list;
}

// Batches drawn without replacement, a new permutation of the training set per epoch.
class Batches {
  constructor(rt, data, rng) {
    this.data = data;
    this.rng = rng;
    this.x = rt.tensor([BATCH, PIXELS]);
    this.y = rt.tensor([BATCH]);
    this.order = rng.permutation(data.count);
    this.next = 0;
  }

  draw() {
    if (this.next + BATCH > this.data.count) {
      this.order = this.rng.permutation(this.data.count);
      this.next = 0;
    }
    const x = this.x.data;
    const y = this.y.data;
    for (let i = 0; i < BATCH; i++) {
      const r = this.order[this.next + i];
      x.set(this.data.images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
      y[i] = this.data.labels[r];
    }
    this.next += BATCH;
  }

  dispose() {
    this.x.dispose();
    this.y.dispose();
  }
}

/**
 * Santurkar et al.'s landscape measures at the current weights on one batch: walk
 * W − η·g for each η, with g the gradient at W. Loss variation: the range of the loss over
 * the walk (W itself included). Gradient predictiveness: the largest ‖∇L(W − ηg) − g‖.
 * Effective β-smoothness: the largest ‖∇L(W − ηg) − g‖ / ‖ηg‖. Weights and running stats
 * are restored afterwards, so training goes on as if nothing was measured.
 */
export function landscape(rt, net, loss, x, y, stepSizes) {
  const params = net.parameters();
  const bnLayers = net.layers.filter((l) => l instanceof nn.BatchNormLayer);
  const bnState = bnLayers.map((l) => l.stateDict());
  const lossAndGrad = () => {
    net.zeroGrad();
    const value = loss.forward(net.forward(x), y);
    net.backward(loss.backward());
    return value;
  };
  const losses = [lossAndGrad()];
  const w0 = params.map((p) => rt.tensor(p.value.shape, p.value.data));
  const g0 = params.map((p) => rt.tensor(p.grad.shape, p.grad.data));
  const gradNorm = Math.sqrt(g0.reduce((s, g) => s + nn.dot(g, g), 0));
  let predictiveness = 0;
  let beta = 0;
  for (const eta of stepSizes) {
    params.forEach((p, i) => nn.addScaled(p.value, w0[i], -eta, g0[i]));
    losses.push(lossAndGrad());
    const change = Math.sqrt(params.reduce((s, p, i) => s + nn.squaredDistance(p.grad, g0[i]), 0));
    predictiveness = Math.max(predictiveness, change);
    beta = Math.max(beta, change / (eta * gradNorm));
  }
  params.forEach((p, i) => p.value.set(w0[i].data));
  bnLayers.forEach((l, i) => l.loadStateDict(bnState[i]));
  net.zeroGrad();
  for (const t of [...w0, ...g0]) t.dispose();
  const finite = losses.every(Number.isFinite);
  return {
    lossVariation: finite ? Math.max(...losses) - Math.min(...losses) : NaN,
    gradientPredictiveness: finite ? predictiveness : NaN,
    betaSmoothness: finite ? beta : NaN,
  };
}

const NO_ICS = { l2: NaN, relativeL2: NaN, cosine: NaN };
const NO_LANDSCAPE = { lossVariation: NaN, gradientPredictiveness: NaN, betaSmoothness: NaN };

/** The mean of each landscape measure over several batches (NaN if any batch gives NaN). */
function meanLandscape(measures) {
  const mean = (key) => measures.reduce((s, m) => s + m[key], 0) / measures.length;
  return { lossVariation: mean('lossVariation'), gradientPredictiveness: mean('gradientPredictiveness'), betaSmoothness: mean('betaSmoothness') };
}

/** 1 where the row's largest logit is its label, else 0 (ties go to the first, like argmax). */
export function outcomes(logits, labels) {
  const [rows, classes] = logits.shape;
  const z = logits.data;
  const out = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (z[r * classes + c] > z[r * classes + best]) best = c;
    out[r] = best === labels[r] ? 1 : 0;
  }
  return out;
}

/** The learning rate at `step`: constant, or cosine decay from `lr` to 0 over `steps`. */
export function scheduledRate(lr, schedule, step, steps) {
  if (schedule === 'constant') return lr;
  if (schedule === 'cosine') return 0.5 * lr * (1 + Math.cos(Math.PI * step / steps));
  throw new RangeError(`schedule: expected "constant" or "cosine", got ${schedule}`);
}

/**
 * Trains one network for `steps` SGD steps of batch 60 (rate `lr`, constant or, with
 * `schedule: 'cosine'`, decayed to 0). At each of `evalAt` it records test accuracy (and
 * validation accuracy when `data.validation` is given; with `trainEval`, accuracy on the
 * first TRAIN_EVAL_DIGITS training digits; all in eval mode) and the 15/50/85th
 * percentiles, over the test digits, of the input to unit 0 of the last hidden layer's
 * activations; `testOutcomes` holds which test digits the last evaluation got right. At
 * each of `probeAt` it records the landscape measures, averaged over `probeBatches`
 * batches drawn from their own stream (training's batch order is untouched). At each of
 * `gradNormAt` it records every Linear's weight-gradient norm, and at each of `icsAt` the
 * internal covariate shift of every Linear above the first (one entry per such layer),
 * both from the step's own batch and gradient, before the update.
 * Stops early once the loss is not finite (the weights are NaN from then on).
 */
export function train(rt, data, options, tick) {
  const {
    hidden, bn, noisy, initStd, lr, momentum, steps, evalAt, probeAt = [], stepSizes = [], probeBatches = 1, seeds,
    activation, dropout, trainEval = false, gradNormAt = [], icsAt = [], schedule = 'constant',
  } = options;
  // The ICS measure replays this step's update below the layer as W − lr·g: exact only
  // for plain SGD at a constant rate.
  if (icsAt.length > 0 && (momentum !== 0 || schedule !== 'constant')) {
    throw new RangeError(`icsAt: the ICS measure needs plain SGD (momentum 0, constant rate), got momentum ${momentum}, schedule ${schedule}`);
  }
  // The landscape walk runs training forwards: noise or Dropout would draw from training's
  // streams and change the run it measures.
  if (probeAt.length > 0 && (noisy || dropout > 0)) {
    throw new RangeError(`probeAt: the landscape walk needs a network without noise or Dropout, got noisy ${noisy}, dropout ${dropout}`);
  }
  const { net, sigmoidInput } = buildNetwork(rt, {
    hidden, bn, noisy, initStd, initRng: new nn.Rng(seeds.init), noiseRng: new nn.Rng(seeds.noise),
    activation, dropout, dropoutRng: dropout > 0 ? new nn.Rng(seeds.dropout) : undefined,
  });
  const icsLayers = icsAt.length > 0 ? linearLayers(net).slice(1).map((l) => net.layers.indexOf(l)) : [];
  const loss = new nn.SoftmaxCrossEntropy(rt);
  const sgd = new nn.SGD(net.parameters(), { lr: scheduledRate(lr, schedule, 0, steps), momentum });
  const batches = new Batches(rt, data.train, new nn.Rng(seeds.batches));
  const probes = probeAt.length > 0 ? new Batches(rt, data.train, new nn.Rng(seeds.probe)) : null;
  const sets = [['test', data.test]];
  if (data.validation) sets.push(['validation', data.validation]);
  if (trainEval) {
    const count = Math.min(TRAIN_EVAL_DIGITS, data.train.count);
    sets.push(['train', { images: data.train.images.subarray(0, count * PIXELS), labels: data.train.labels.subarray(0, count), count }]);
  }
  const tensors = sets.map(([name, d]) => ({ name, count: d.count, x: rt.tensor([d.count, PIXELS], d.images), y: rt.tensor([d.count], d.labels) }));
  const column = new Float64Array(data.test.count);
  const out = {
    testAccuracy: [], validationAccuracy: [], trainAccuracy: [], percentiles: [], landscape: [], gradNorms: [], ics: [], lossWindows: [], testOutcomes: null,
  };
  const windowSize = Math.max(10, Math.round(steps / WINDOWS));

  const evaluate = (last) => {
    net.eval();
    for (const { name, count, x, y } of tensors) {
      const logits = net.forward(x);
      out[`${name}Accuracy`].push(nn.correctCount(rt, logits, y) / count);
      if (name !== 'test') continue;
      if (last) out.testOutcomes = outcomes(logits, data.test.labels);
      const pre = net.layers[sigmoidInput].output.data;
      const width = hidden[hidden.length - 1];
      for (let i = 0; i < column.length; i++) column[i] = pre[i * width];
      column.sort();
      out.percentiles.push([15, 50, 85].map((q) => percentile(column, q)));
    }
    net.train();
  };
  const probe = () => {
    const measures = [];
    for (let b = 0; b < probeBatches; b++) {
      probes.draw();
      measures.push(landscape(rt, net, loss, probes.x, probes.y, stepSizes));
    }
    return meanLandscape(measures);
  };

  let evalIndex = 0;
  let probeIndex = 0;
  let normIndex = 0;
  let icsIndex = 0;
  let lossSum = 0;
  let lossCount = 0;
  const closeWindow = (step) => {
    if (lossCount > 0) out.lossWindows.push({ start: step - lossCount, mean: lossSum / lossCount });
    lossSum = 0;
    lossCount = 0;
  };
  for (let step = 0; step <= steps; step++) {
    while (evalIndex < evalAt.length && evalAt[evalIndex] === step) {
      evaluate(evalIndex === evalAt.length - 1);
      evalIndex++;
    }
    if (step === steps) break;
    if (probeIndex < probeAt.length && probeAt[probeIndex] === step) {
      out.landscape.push(probe());
      probeIndex++;
    }
    batches.draw();
    net.zeroGrad();
    const value = loss.forward(net.forward(batches.x), batches.y);
    lossSum += value;
    lossCount++;
    if (!Number.isFinite(value)) {
      // NaN weights stay NaN: the remaining checkpoints repeat this state.
      closeWindow(step + 1);
      tick(steps - step);
      while (evalIndex < evalAt.length) {
        evaluate(evalIndex === evalAt.length - 1);
        evalIndex++;
      }
      while (probeIndex++ < probeAt.length) out.landscape.push(NO_LANDSCAPE);
      const layers = linearLayers(net).length;
      while (normIndex++ < gradNormAt.length) out.gradNorms.push(new Array(layers).fill(NaN));
      while (icsIndex++ < icsAt.length) out.ics.push(icsLayers.map(() => NO_ICS));
      break;
    }
    net.backward(loss.backward());
    if (normIndex < gradNormAt.length && gradNormAt[normIndex] === step) {
      out.gradNorms.push(layerGradNorms(net));
      normIndex++;
    }
    if (icsIndex < icsAt.length && icsAt[icsIndex] === step) {
      out.ics.push(icsLayers.map((layer) => covariateShift(rt, net, loss, batches.x, batches.y, layer, lr)));
      icsIndex++;
    }
    sgd.lr = scheduledRate(lr, schedule, step, steps);
    sgd.step();
    tick(1);
    if (lossCount === windowSize) closeWindow(step + 1);
  }
  closeWindow(steps);
  out.divergedAtStep = divergedAtStep(out.lossWindows);
  out.finalTestAccuracy = out.testAccuracy[out.testAccuracy.length - 1];
  for (const { x, y } of tensors) {
    x.dispose();
    y.dispose();
  }
  batches.dispose();
  probes?.dispose();
  sgd.dispose();
  loss.dispose();
  net.dispose();
  return out;
}
