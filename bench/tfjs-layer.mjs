#!/usr/bin/env node
// The TensorFlow.js rows: batchnorm-wasm/tfjs's BatchNormalization against tfjs's own
// tf.layers.batchNormalization, as a tfjs user calls them, on the wasm and cpu backends.
//
//   node bench/tfjs-layer.mjs [--quick]     (after npm run build)
//
// A full `npm run bench` runs it last and stores its result as latest.json's `tfjs`, which
// bench/page.mjs renders into docs/performance.md; run alone, it writes
// bench/results/tfjs-layer.json (not committed) and prints the same section.
//
// Layer rows, on [32, 56, 56, 64] NHWC (tfjs's native layout, axis -1):
// - train step: a training forward and tfjs's backward for the input, gamma and beta
//   (tf.engine().gradients with dy given), as model.fit runs it per BN layer;
// - inference: apply() with training false.
// For ours, the same calls split in two: the kernels alone (the package's BatchNorm2d on
// tensors already in wasm memory, forward + backward) and the copies between tfjs and wasm
// memory a train step makes (x in, y out, dy in, dx out; inference: x in, y out).
// The end-to-end rows are one epoch of an experiments/tfjs-cnn.mjs network on 500 MNIST
// digits, with tfjs's BN, ours and none: the conv net on the cpu backend, the pointwise net
// on the wasm backend (tfjs-backend-wasm cannot train a convolution). BN's share of the
// epoch is 1 − time without BN / time with it.
import { performance } from 'node:perf_hooks';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createTfjsBatchNorm } from '../dist/tfjs/index.node.js';
import { tensorFrom, valuesOf } from '../dist/tfjs/transfer.js';
import { tfjsSection } from './page.mjs';

export const LAYER_SHAPE = [32, 56, 56, 64];
const EPOCH_DIGITS = 500;

// Median of `samples` calls after one warm-up call. The calls take milliseconds to seconds
// each, so a handful of samples is the whole budget.
async function median(fn, samples) {
  await fn();
  const times = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

function layerTasks(layer, x, dy) {
  layer.build(x.shape);
  const weights = layer.trainableWeights.map((w) => w.read());
  return {
    'train step': () => {
      const { value, grads } = tf.engine().gradients(() => layer.apply(x, { training: true }), [x, ...weights], dy);
      tf.dispose([value, ...grads]);
    },
    inference: () => tf.dispose(layer.apply(x, { training: false })),
  };
}

// Our kernels alone, on tensors already in wasm memory: what a train step costs without copies.
function kernelTasks(rt, x, dy) {
  const shape = x.shape;
  const bn = rt.batchNorm2d(shape.at(-1), { channelsLast: true, eps: 1e-3, momentum: 0.01 });
  const wx = rt.tensor(shape, x.dataSync()), wdy = rt.tensor(shape, dy.dataSync());
  const y = rt.tensor(shape), dx = rt.tensor(shape);
  return {
    tasks: {
      'train step': () => {
        bn.train();
        bn.forward(wx, y);
        bn.backward(wdy, dx);
      },
      inference: () => {
        bn.eval();
        bn.forward(wx, y);
      },
    },
    dispose: () => {
      for (const t of [bn, wx, wdy, y, dx]) t.dispose();
    },
  };
}

// One copy in (a tfjs tensor's values into wasm memory) and one out (a new tfjs tensor).
function copyTasks(rt, x) {
  const w = rt.tensor(x.shape);
  return {
    in: () => { w.data.set(valuesOf(tf, x)); },
    out: () => tf.dispose(tensorFrom(tf, w)),
    dispose: () => w.dispose(),
  };
}

/**
 * The layer rows on both backends and the end-to-end epochs, in the shape bench/run.mjs
 * stores as latest.json's `tfjs` and bench/page.mjs renders: { version, shape, samples,
 * layer: [{ backend, op, tfjsMs, oursMs, kernelMs, copiesMs, copyInMs, copyOutMs }],
 * epochs: [{ backend, network, digits, rounds, seconds: { tfjs, ours, none } }] }.
 */
export async function benchTfjsLayer({ quick = false, epoch = true, shape = LAYER_SHAPE, epochDigits = EPOCH_DIGITS } = {}) {
  const samples = quick ? 1 : 3;
  const rows = [];
  for (const backend of ['wasm', 'cpu']) {
    if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} did not start`);
    await tf.ready();
    const bnw = await createTfjsBatchNorm(tf);
    const x = tf.randomNormal(shape, 0.5, 2, 'float32', 1), dy = tf.randomNormal(shape, 0, 1, 'float32', 2);
    const theirs = layerTasks(tf.layers.batchNormalization(), x, dy);
    const ours = layerTasks(bnw.batchNormalization(), x, dy);
    const kernel = kernelTasks(bnw.runtime, x, dy);
    const copy = copyTasks(bnw.runtime, x);
    const copyIn = await median(copy.in, samples), copyOut = await median(copy.out, samples);
    for (const op of ['train step', 'inference']) {
      const copies = op === 'train step' ? 2 * (copyIn + copyOut) : copyIn + copyOut;
      rows.push({
        backend, op,
        tfjsMs: await median(theirs[op], samples), oursMs: await median(ours[op], samples),
        kernelMs: await median(kernel.tasks[op], samples), copiesMs: copies, copyInMs: copyIn, copyOutMs: copyOut,
      });
    }
    kernel.dispose();
    copy.dispose();
    tf.dispose([x, dy]);
  }
  const epochs = epoch ? await epochRows(quick ? 1 : 3, epochDigits) : [];
  return { version: tf.version.tfjs, shape, samples, layer: rows, epochs };
}

// The three variants in interleaved rounds after a warm-up epoch, the median round each:
// an epoch takes seconds, long enough for someone else's work to land in one of them.
async function epochRows(rounds, count) {
  const { trainVariant, loadSplit, networkFor, VARIANTS } = await import('../experiments/tfjs-cnn.mjs');
  const digits = await loadSplit(count, 100);
  const rows = [];
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    await tf.ready();
    const bnw = await createTfjsBatchNorm(tf);
    const network = networkFor(backend);
    const epoch = async (variant, part) => (await trainVariant({ variant, bnw, digits: part, seed: 1, epochs: 1, network })).seconds[0];
    for (const variant of VARIANTS) await epoch(variant, { ...digits, train: { ...digits.train, count: Math.min(64, count) } });
    const times = Object.fromEntries(VARIANTS.map((v) => [v, []]));
    for (let round = 0; round < rounds; round++) {
      for (const variant of VARIANTS) times[variant].push(await epoch(variant, digits));
    }
    const seconds = Object.fromEntries(VARIANTS.map((v) => [v, times[v].sort((a, b) => a - b)[times[v].length >> 1]]));
    rows.push({ backend, network, digits: count, rounds, seconds });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const result = await benchTfjsLayer({ quick });
  mkdirSync(new URL('results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('results/tfjs-layer.json', import.meta.url), `${JSON.stringify({ date: new Date().toISOString(), quick, ...result }, null, 1)}\n`);
  process.stdout.write(`${tfjsSection(result).join('\n')}\n`);
}
