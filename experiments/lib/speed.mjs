// Train steps per second of the Figure 1 network (batch 60, SGD) with our kernels and
// with TensorFlow.js's wasm backend. Timings vary run to run, so they go to the report
// and the console, never into results.json.
import * as nn from '../../dist/nn/index.js';
import { PIXELS, CLASSES } from './data.mjs';
import { BATCH, buildNetwork } from './train.mjs';

const WARMUP_STEPS = 20;
const MIN_SECONDS = 0.6;

function time(step) {
  for (let i = 0; i < WARMUP_STEPS; i++) step();
  let steps = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MIN_SECONDS * 1000) {
    for (let i = 0; i < 10; i++) step();
    steps += 10;
    elapsed = performance.now() - start;
  }
  return steps / (elapsed / 1000);
}

function batch(rng) {
  const x = new Float32Array(BATCH * PIXELS);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform();
  const y = new Float32Array(BATCH);
  for (let i = 0; i < BATCH; i++) y[i] = i % CLASSES;
  return { x, y };
}

export function oursStepsPerSecond(rt, hidden, bn, lr, initStd) {
  const rng = new nn.Rng(7);
  const { net } = buildNetwork(rt, { hidden, bn, noisy: false, initStd, initRng: rng, noiseRng: rng });
  const loss = new nn.SoftmaxCrossEntropy(rt);
  const sgd = new nn.SGD(net.parameters(), { lr });
  const data = batch(rng);
  const x = rt.tensor([BATCH, PIXELS], data.x);
  const y = rt.tensor([BATCH], data.y);
  const rate = time(() => {
    net.zeroGrad();
    loss.forward(net.forward(x), y);
    net.backward(loss.backward());
    sgd.step();
  });
  for (const t of [x, y]) t.dispose();
  sgd.dispose();
  loss.dispose();
  net.dispose();
  return rate;
}

/** null with the reason when the backend cannot start here. */
export async function tfjsStepsPerSecond(hidden, lr, initStd) {
  let tf;
  try {
    tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    // tfjs greets Node users on the console once; the greeting is not ours to print.
    const warn = console.warn;
    const log = console.log;
    console.warn = () => {};
    console.log = () => {};
    try {
      if (!(await tf.setBackend('wasm'))) return { rates: null, reason: 'the wasm backend did not initialize' };
      await tf.ready();
    } finally {
      console.warn = warn;
      console.log = log;
    }
  } catch (error) {
    return { rates: null, reason: String(error?.message ?? error) };
  }
  const rng = new nn.Rng(7);
  const data = batch(rng);
  const x = tf.tensor2d(data.x, [BATCH, PIXELS]);
  const y = tf.oneHot(tf.tensor1d(data.y, 'int32'), CLASSES);
  const rates = {};
  for (const bn of [false, true]) {
    const vars = [];
    let width = PIXELS;
    for (const units of [...hidden, CLASSES]) {
      vars.push({
        w: tf.variable(tf.randomNormal([width, units], 0, initStd, 'float32', 1)),
        b: tf.variable(tf.zeros([units])),
        gamma: bn && units !== CLASSES ? tf.variable(tf.ones([units])) : null,
        beta: bn && units !== CLASSES ? tf.variable(tf.zeros([units])) : null,
      });
      width = units;
    }
    const optimizer = tf.train.sgd(lr);
    const lossFn = () => {
      let h = x;
      vars.forEach((v, i) => {
        h = tf.add(tf.matMul(h, v.w), v.b);
        if (i === vars.length - 1) return;
        if (v.gamma) {
          const { mean, variance } = tf.moments(h, 0);
          h = tf.batchNorm(h, mean, variance, v.beta, v.gamma, 1e-5);
        }
        h = tf.sigmoid(h);
      });
      return tf.losses.softmaxCrossEntropy(y, h);
    };
    rates[bn ? 'bn' : 'baseline'] = time(() => tf.dispose(optimizer.minimize(lossFn, false)));
    optimizer.dispose();
    for (const v of vars) for (const t of Object.values(v)) t?.dispose();
  }
  x.dispose();
  y.dispose();
  return { rates, reason: null, version: tf.version?.tfjs ?? 'unknown', simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT') };
}
