// batchnorm-wasm/tfjs against tfjs's own BatchNormalization layer on the cpu and wasm
// backends: forward in both modes, tf.grads with respect to the input and the weights, and
// the moving statistics, each against an f64 reference within checkAgainst's bound.
//
// tfjs's layer is right only for a channels-last input of rank 2 to 4: for any other axis
// its kernels normalize the wrong values (tensorflow/tfjs#1106) and its gradient throws
// (tfjs#1773), and rank 5 is not implemented. Its error is therefore measured on the same
// values with the channel axis moved last (flattened to [count, C] when that is not already
// tfjs's native case), which is the same batch norm.
import { describe, it, expect, beforeAll } from 'vitest';
import { createTfjsBatchNorm, type TfjsBatchNorm } from '../src/tfjs/index.node.js';
import { referenceBackward, referenceForward, Rng, randn, uniform } from './reference.js';
import { BACKENDS, checkAgainst, moveAxisLast, tf, useBackend } from './tfjs-harness.js';


interface Case {
  shape: number[];
  axis: number;
  center?: boolean;
  scale?: boolean;
  momentum?: number;
  epsilon?: number;
}

const CASES: Case[] = [
  { shape: [8, 5, 5, 6], axis: -1 },
  { shape: [16, 7], axis: -1 },
  { shape: [4, 6, 9], axis: 2 },
  { shape: [4, 3, 5, 6], axis: 1 },
  { shape: [3, 4, 7], axis: 1 },
  { shape: [2, 3, 4, 5, 2], axis: 2 },
  { shape: [2, 3, 4, 3, 5], axis: -1 },
  { shape: [5, 4, 3, 3], axis: 0 },
  { shape: [8, 4, 4, 5], axis: -1, center: false },
  { shape: [8, 4, 4, 5], axis: -1, scale: false },
  // Moving statistics become the batch's: an epsilon left in the variance would show.
  { shape: [12, 3, 5], axis: 1, momentum: 0, epsilon: 0.5 },
];

function name(c: Case): string {
  const options = Object.entries(c).filter(([k]) => k !== 'shape' && k !== 'axis').map(([k, v]) => `${k} ${v}`);
  return [`[${c.shape}] axis ${c.axis}`, ...options].join(', ');
}

type Layer = ReturnType<typeof tf.layers.batchNormalization>;

interface Run {
  yTrain: Float32Array;
  movingMean: Float32Array;
  movingVariance: Float32Array;
  dxTrain: Float32Array;
  dgammaTrain: Float32Array | null;
  dbetaTrain: Float32Array | null;
  yEval: Float32Array;
  dxEval: Float32Array;
  dgammaEval: Float32Array | null;
  dbetaEval: Float32Array | null;
}

// Loss Σ y·dy, so that dy is the output gradient.
function run(layer: Layer, x: tf.Tensor, dy: tf.Tensor, training: boolean): Partial<Run> {
  const loss = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: training }) as tf.Tensor, dy));
  const yOf = () => (layer.apply(x, { training: training }) as tf.Tensor).dataSync() as Float32Array;
  const y = yOf();
  const weights = layer.getWeights();
  const moving = { mean: weights.at(-2)!.dataSync() as Float32Array, variance: weights.at(-1)!.dataSync() as Float32Array };
  const dx = tf.grads((input: tf.Tensor) => loss(input))([x])[0]!.dataSync() as Float32Array;
  const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const { grads } = tf.variableGrads(() => loss(x) as tf.Scalar, vars);
  // Variables built outside a model are named gamma, gamma_1, gamma_2…
  const named = (weight: string) => {
    const i = layer.trainableWeights.findIndex((w) => new RegExp(`(^|/)${weight}(_\\d+)?$`).test(w.name));
    return i < 0 ? null : (grads[vars[i]!.name]!.dataSync() as Float32Array);
  };
  return training
    ? { yTrain: y, movingMean: moving.mean, movingVariance: moving.variance, dxTrain: dx, dgammaTrain: named('gamma'), dbetaTrain: named('beta') }
    : { yEval: y, dxEval: dx, dgammaEval: named('gamma'), dbetaEval: named('beta') };
}

function build(layer: Layer, shape: number[], C: number, p: { gamma: Float64Array; beta: Float64Array; mean: Float64Array; variance: Float64Array }, c: Case): void {
  layer.build(shape);
  const weights = [];
  if (c.scale !== false) weights.push(tf.tensor1d(Float32Array.from(p.gamma)));
  if (c.center !== false) weights.push(tf.tensor1d(Float32Array.from(p.beta)));
  weights.push(tf.tensor1d(Float32Array.from(p.mean)), tf.tensor1d(Float32Array.from(p.variance)));
  expect(weights.every((w) => w.size === C)).toBe(true);
  layer.setWeights(weights);
}

function checkCase(bnw: TfjsBatchNorm, c: Case, seed: number): string[] {
  const rng = new Rng(seed);
  const momentum = c.momentum ?? 0.99, epsilon = c.epsilon ?? 1e-3;
  const rank = c.shape.length;
  const axis = c.axis < 0 ? c.axis + rank : c.axis;
  const C = c.shape[axis]!;
  const size = c.shape.reduce((a, b) => a * b, 1);
  const x = randn(rng, size, { mean: 0.5, std: 2 });
  const dy = randn(rng, size);
  const p = { gamma: uniform(rng, C, 0.5, 1.5), beta: uniform(rng, C, -0.5, 0.5), mean: uniform(rng, C, -0.5, 0.5), variance: uniform(rng, C, 0.5, 2) };

  // Everything is compared channels-last: tfjs's layout and the reference's.
  const last = moveAxisLast(x, c.shape, axis);
  const dyLast = moveAxisLast(dy, c.shape, axis);
  const count = size / C;
  const tfjsNative = axis === rank - 1 && rank <= 4;
  const tfjsShape = tfjsNative ? c.shape : [count, C];
  const toLast = (v: Float32Array | undefined | null) => (v == null ? v : moveAxisLast(v, c.shape, axis));

  const ours = bnw.batchNormalization({ axis: c.axis, center: c.center, scale: c.scale, momentum, epsilon });
  const theirs = tf.layers.batchNormalization({ axis: -1, center: c.center, scale: c.scale, momentum, epsilon });
  build(ours, c.shape, C, p, c);
  build(theirs, tfjsShape, C, p, c);

  const xOurs = tf.tensor(Float32Array.from(x), c.shape), dyOurs = tf.tensor(Float32Array.from(dy), c.shape);
  const xTheirs = tf.tensor(Float32Array.from(last), tfjsShape), dyTheirs = tf.tensor(Float32Array.from(dyLast), tfjsShape);
  // Inference first: the training runs move the moving statistics it reads.
  const o: Partial<Run> = { ...run(ours, xOurs, dyOurs, false), ...run(ours, xOurs, dyOurs, true) };
  // Without gamma or beta, tfjs's training path throws (it reads both unconditionally) and
  // so does its inference gradient; only its inference forward runs.
  const tfjsTrains = c.center !== false && c.scale !== false;
  const t: Partial<Run> = tfjsTrains
    ? { ...run(theirs, xTheirs, dyTheirs, false), ...run(theirs, xTheirs, dyTheirs, true) }
    : { yEval: (theirs.apply(xTheirs, { training: false }) as tf.Tensor).dataSync() as Float32Array };

  const gamma = c.scale === false ? null : p.gamma, beta = c.center === false ? null : p.beta;
  const lastShape = [count, C];
  const train = referenceForward(last, lastShape, { channelsLast: true, training: true, eps: epsilon, weight: gamma, bias: beta });
  const trainBack = referenceBackward(dyLast, last, lastShape, { channelsLast: true, training: true, eps: epsilon, weight: gamma });
  const running = { runningMean: p.mean, runningVar: p.variance };
  const evalFwd = referenceForward(last, lastShape, { channelsLast: true, training: false, eps: epsilon, weight: gamma, bias: beta, ...running });
  const evalBack = referenceBackward(dyLast, last, lastShape, { channelsLast: true, training: false, eps: epsilon, weight: gamma, ...running });
  // Keras: moving ← moving − (moving − batch)·(1 − momentum), with the biased batch variance.
  const movingMean = p.mean.map((m, i) => m - (m - train.mean[i]!) * (1 - momentum));
  const movingVariance = p.variance.map((v, i) => v - (v - train.varBiased[i]!) * (1 - momentum));

  const where = name(c);
  const failures: string[] = [];
  const check = (what: string, ours: ArrayLike<number> | null | undefined, tfjs: ArrayLike<number> | null | undefined, ref: ArrayLike<number>) => {
    if (ours == null) {
      failures.push(`${where} ${what}: ours missing`);
      return;
    }
    // Where tfjs cannot run the case, the bound is the floor alone.
    const failure = checkAgainst(`${where} ${what}`, ours, tfjs ?? ref, ref);
    if (failure !== null) failures.push(failure);
  };
  check('training y', toLast(o.yTrain), t.yTrain, train.y);
  check('moving mean', o.movingMean, t.movingMean, movingMean);
  check('moving variance', o.movingVariance, t.movingVariance, movingVariance);
  check('training dx', toLast(o.dxTrain), t.dxTrain, trainBack.dx);
  if (gamma !== null) check('training dgamma', o.dgammaTrain, t.dgammaTrain, trainBack.dweight);
  if (beta !== null) check('training dbeta', o.dbetaTrain, t.dbetaTrain, trainBack.dbias);
  check('inference y', toLast(o.yEval), t.yEval, evalFwd.y);
  check('inference dx', toLast(o.dxEval), t.dxEval, evalBack.dx);
  if (gamma !== null) check('inference dgamma', o.dgammaEval, t.dgammaEval, evalBack.dweight);
  if (beta !== null) check('inference dbeta', o.dbetaEval, t.dbetaEval, evalBack.dbias);
  expect(o.dgammaTrain === null).toBe(gamma === null);
  expect(o.dbetaTrain === null).toBe(beta === null);
  tf.dispose([xOurs, dyOurs, xTheirs, dyTheirs, ...ours.weights.map((w) => w.read()), ...theirs.weights.map((w) => w.read())]);
  return failures;
}

describe.each(BACKENDS)('batchnorm-wasm/tfjs against tfjs on the %s backend', (backend) => {
  let bnw: TfjsBatchNorm;
  beforeAll(async () => {
    await useBackend(backend);
    bnw = await createTfjsBatchNorm(tf);
  });

  it.each(CASES.map((c, i) => [name(c), c, i] as const))(
    '%s: forward, gradients and moving statistics',
    async (_, c, i) => {
      await useBackend(backend);
      expect(checkCase(bnw, c, 1000 + i)).toEqual([]);
    },
  );

  it('reads the inference-mode gradient of the moving statistics as tfjs does', async () => {
    await useBackend(backend);
    const shape = [6, 4];
    const rng = new Rng(7);
    const x = tf.tensor(Float32Array.from(randn(rng, 24)), shape);
    const dy = tf.tensor(Float32Array.from(randn(rng, 24)), shape);
    const grads = (layer: Layer) => {
      layer.build(shape);
      layer.setWeights([tf.tensor1d([1, 2, 0.5, 1.5]), tf.tensor1d([0, 1, -1, 0]), tf.tensor1d([0.1, -0.2, 0.3, 0]), tf.tensor1d([1, 2, 0.5, 1.5])]);
      // variableGrads refuses non-trainable variables: make them trainable for the question.
      const movingWeights = layer.nonTrainableWeights;
      for (const w of movingWeights) w.trainable = true;
      const moving = movingWeights.map((w) => w.read() as tf.Variable);
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: false }) as tf.Tensor, dy)) as tf.Scalar, moving);
      return moving.map((v) => Array.from(grads[v.name]!.dataSync()));
    };
    const [mOurs, vOurs] = grads(bnw.batchNormalization());
    const [mTheirs, vTheirs] = grads(tf.layers.batchNormalization());
    mOurs!.forEach((g, i) => expect(g).toBeCloseTo(mTheirs![i]!, 4));
    vOurs!.forEach((g, i) => expect(g).toBeCloseTo(vTheirs![i]!, 4));
  });
});
