// The training worker: both Figure 1 networks, with and without batch norm, built by the
// same code as `npm run reproduce` (experiments/lib/train.mjs) and trained step by step
// on the same batches. It trains in slices of CHUNK_MS and posts what happened after
// each, so the page gets about 20 small messages a second and pause acts at once.
import { init, type BatchNorm, type Runtime, type Tensor } from 'batchnorm-wasm';
import * as nn from 'batchnorm-wasm/nn';
import * as experiment from '../experiments/lib/train.mjs';
import * as data from '../experiments/lib/data.mjs';
import * as figure1 from '../experiments/lib/figure1.mjs';
import { fetchDigits, type Digits } from './digits.ts';
import {
  FIGURE1, MODELS,
  type Evaluation, type FromWorker, type LossPoint, type Model, type PerModel, type RunConfig, type RuntimeInfo, type Speed,
  type ThreadsChoice, type ToWorker,
} from './protocol.ts';

// The experiments are untyped JavaScript; these are the parts of them the page relies on.
interface NetworkOptions {
  hidden: readonly number[];
  bn: boolean;
  noisy: boolean;
  initStd: number;
  initRng: nn.Rng;
  noiseRng: nn.Rng;
}
const buildNetwork = experiment.buildNetwork as (rt: Runtime, options: NetworkOptions) => { net: nn.Sequential; sigmoidInput: number };
const percentile = experiment.percentile as (sorted: ArrayLike<number>, q: number) => number;
const splitAndSeeds = figure1.splitAndSeeds as (digits: Digits, root: nn.Rng, trainSize: number) => {
  data: { train: Digits; test: Digits };
  seeds: { init: number; batches: number; noise: number; dropout: number };
};
const { CLASSES, PIXELS } = data as { CLASSES: number; PIXELS: number };

const GRID_DIGITS = 12;
const LOSS_WINDOW = 10;
const CHUNK_MS = 50;
const SPEED_EVERY_MS = 1000;
const SPEED_RUNS = 3;
const SPEED_RUN_MS = 2;
const WIDTH = FIGURE1.hidden[FIGURE1.hidden.length - 1]!;

/** Dense test evaluations early, when the curves move fastest; 2,000 digits cost ~10 steps. */
function evaluateEvery(step: number): number {
  return step < 200 ? 20 : step < 1000 ? 50 : 100;
}

interface Network {
  net: nn.Sequential;
  /** Index of the layer whose output feeds the last hidden layer's sigmoids. */
  sigmoidInput: number;
  loss: nn.SoftmaxCrossEntropy;
  sgd: nn.SGD;
  divergedAt: number | null;
  lossSum: number;
}

/** experiments/lib/train.mjs's batch order: a new permutation of the training set per epoch. */
interface BatchOrder {
  rng: nn.Rng;
  order: Uint32Array;
  next: number;
}

/** A runtime, and why init() refused the threads asked for when it runs one thread instead. */
interface Placed {
  rt: Runtime;
  refused: string | null;
}

interface Session extends Placed {
  config: RunConfig;
  train: Digits;
  test: Digits;
  models: PerModel<Network>;
  order: BatchOrder;
  x: Tensor;
  y: Tensor;
  testX: Tensor;
  testY: Tensor;
  /** A BatchNorm of its own and [batch, 100] tensors, for timing calls. */
  probe: { bn: BatchNorm; x: Tensor; dy: Tensor; y: Tensor; dx: Tensor };
  step: number;
  windowSteps: number;
}

// The DOM lib types `self` as a Window; these are the worker scope's members used here.
const scope = self as unknown as {
  postMessage(message: FromWorker, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};
const post = (message: FromWorker, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

// One runtime per build and threads choice, kept for the next switch back to it.
const runtimes = new Map<string, Promise<Placed>>();
function runtime(simd: boolean, threads: ThreadsChoice): Promise<Placed> {
  const key = `${simd} ${threads}`;
  let placed = runtimes.get(key);
  if (placed === undefined) runtimes.set(key, (placed = place(simd, threads)));
  return placed;
}

// init() rejects a count above 1 it cannot start, with the reason (not cross-origin
// isolated, the scalar build): the page shows it and the networks train on one thread.
async function place(simd: boolean, threads: ThreadsChoice): Promise<Placed> {
  try {
    return { rt: await init({ simd, threads }), refused: null };
  } catch (error) {
    if (threads === 'auto' || threads === 1) throw error;
    return { rt: (await runtime(simd, 1)).rt, refused: (error as Error).message };
  }
}

const runtimeInfo = (s: Session): RuntimeInfo => ({ simd: s.rt.simd, threads: s.rt.threads, asked: s.config.threads, refused: s.refused });

let digits: Digits | null = null;
let session: Session | null = null;
let running = false;
let stopAt = Infinity;
let pendingLosses: LossPoint[] = [];
let pendingEvaluations: Evaluation[] = [];
let speedClock = { time: 0, step: 0 };
// Since the last start, reset or build switch: the rate shown when training stops by itself.
let runClock = { time: 0, step: 0 };
let column = new Float64Array(0);

function buildModel(rt: Runtime, model: Model, config: RunConfig, seeds: { init: number; noise: number }): Network {
  const { net, sigmoidInput } = buildNetwork(rt, {
    hidden: FIGURE1.hidden, bn: model === 'bn', noisy: false, initStd: config.initStd,
    initRng: new nn.Rng(seeds.init), noiseRng: new nn.Rng(seeds.noise),
  });
  return {
    net, sigmoidInput,
    loss: new nn.SoftmaxCrossEntropy(rt),
    sgd: new nn.SGD(net.parameters(), { lr: config.lr }),
    divergedAt: null,
    lossSum: 0,
  };
}

function disposeModel(m: Network): void {
  m.sgd.dispose();
  m.loss.dispose();
  m.net.dispose();
}

function disposeSession(s: Session): void {
  for (const model of MODELS) disposeModel(s.models[model]);
  for (const t of [s.x, s.y, s.testX, s.testY, s.probe.x, s.probe.dy, s.probe.y, s.probe.dx]) t.dispose();
  s.probe.bn.dispose();
}

function tensors(rt: Runtime, batch: number, test: Digits): Pick<Session, 'x' | 'y' | 'testX' | 'testY' | 'probe'> {
  const rng = new nn.Rng(0);
  const random = () => Float32Array.from({ length: batch * WIDTH }, () => rng.normal());
  return {
    x: rt.tensor([batch, PIXELS]),
    y: rt.tensor([batch]),
    testX: rt.tensor([test.count, PIXELS], test.images),
    testY: rt.tensor([test.count], test.labels),
    probe: {
      bn: rt.batchNorm1d(WIDTH),
      x: rt.tensor([batch, WIDTH], random()),
      dy: rt.tensor([batch, WIDTH], random()),
      y: rt.tensor([batch, WIDTH]),
      dx: rt.tensor([batch, WIDTH]),
    },
  };
}

async function newSession(config: RunConfig): Promise<Session> {
  const { rt, refused } = await runtime(config.simd, config.threads);
  const { data: { train, test }, seeds } = splitAndSeeds(digits!, new nn.Rng(config.seed), FIGURE1.trainSize);
  const batchRng = new nn.Rng(seeds.batches);
  return {
    rt, refused, config, train, test,
    models: { bn: buildModel(rt, 'bn', config, seeds), plain: buildModel(rt, 'plain', config, seeds) },
    order: { rng: batchRng, order: batchRng.permutation(train.count), next: 0 },
    ...tensors(rt, config.batch, test),
    step: 0,
    windowSteps: 0,
  };
}

function drawBatch(s: Session): void {
  const { order, train } = s;
  const batch = s.config.batch;
  if (order.next + batch > train.count) {
    order.order = order.rng.permutation(train.count);
    order.next = 0;
  }
  const x = s.x.data;
  const y = s.y.data;
  for (let i = 0; i < batch; i++) {
    const r = order.order[order.next + i]!;
    x.set(train.images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
    y[i] = train.labels[r]!;
  }
  order.next += batch;
}

function argmaxRow(logits: Float32Array, row: number): number {
  let best = 0;
  for (let c = 1; c < CLASSES; c++) if (logits[row * CLASSES + c]! > logits[row * CLASSES + best]!) best = c;
  return best;
}

function evaluate(s: Session): Evaluation {
  const result: Evaluation = {
    step: s.step,
    accuracy: { bn: 0, plain: 0 },
    percentiles: { bn: [0, 0, 0], plain: [0, 0, 0] },
    predictions: { bn: [], plain: [] },
  };
  if (column.length !== s.test.count) column = new Float64Array(s.test.count);
  const values = column;
  for (const model of MODELS) {
    const { net, sigmoidInput } = s.models[model];
    net.eval();
    const logits = net.forward(s.testX);
    result.accuracy[model] = nn.correctCount(s.rt, logits, s.testY) / s.test.count;
    const pre = net.layers[sigmoidInput]!.output!.data;
    for (let i = 0; i < values.length; i++) values[i] = pre[i * WIDTH]!;
    values.sort();
    result.percentiles[model] = [percentile(values, 15), percentile(values, 50), percentile(values, 85)];
    const out = logits.data;
    for (let g = 0; g < GRID_DIGITS; g++) result.predictions[model].push(argmaxRow(out, g));
    net.train();
  }
  return result;
}

function trainStep(s: Session): void {
  drawBatch(s);
  for (const model of MODELS) {
    const m = s.models[model];
    if (m.divergedAt !== null) continue;
    m.net.zeroGrad();
    const value = m.loss.forward(m.net.forward(s.x), s.y);
    // NaN weights stay NaN: a diverged network stops training and its loss curve ends.
    if (!Number.isFinite(value)) {
      m.divergedAt = s.step;
      continue;
    }
    m.net.backward(m.loss.backward());
    m.sgd.step();
    m.lossSum += value;
  }
  s.step++;
  if (++s.windowSteps === LOSS_WINDOW) {
    const mean = (m: Network) => (m.divergedAt === null ? m.lossSum / LOSS_WINDOW : NaN);
    pendingLosses.push({ step: s.step, loss: { bn: mean(s.models.bn), plain: mean(s.models.plain) } });
    for (const model of MODELS) s.models[model].lossSum = 0;
    s.windowSteps = 0;
  }
  if (s.step % evaluateEvery(s.step) === 0) pendingEvaluations.push(evaluate(s));
}

/**
 * Time per BatchNorm call on a [batch, 100] input like the networks', in this worker's
 * runtime. Browsers round performance.now() to 0.1 ms or coarser outside cross-origin
 * isolation, so single calls of a few microseconds cannot be timed: this times runs of
 * calls on a layer of its own, after a few untimed ones, and keeps the fastest of a few
 * runs because other work on the machine only ever adds time.
 */
function measureBatchNorm({ bn, x, dy, y, dx }: Session['probe']): Pick<Speed, 'bnForwardUs' | 'bnBackwardUs'> {
  const time = (call: () => void) => {
    for (let i = 0; i < 16; i++) call();
    let best = Infinity;
    for (let run = 0; run < SPEED_RUNS; run++) {
      let calls = 0;
      const start = performance.now();
      let elapsed = 0;
      do {
        for (let i = 0; i < 16; i++) call();
        calls += 16;
        elapsed = performance.now() - start;
      } while (elapsed < SPEED_RUN_MS);
      best = Math.min(best, (elapsed * 1000) / calls);
    }
    return best;
  };
  // Many backwards after the last forward: retainGraph keeps that forward usable.
  return { bnForwardUs: time(() => bn.forward(x, y)), bnBackwardUs: time(() => bn.backward(dy, dx, { retainGraph: true })) };
}

function postProgress(speed: Speed | null): void {
  const s = session!;
  post({
    type: 'progress', step: s.step, running, threads: s.rt.threads, losses: pendingLosses, evaluations: pendingEvaluations, speed,
    divergedAt: { bn: s.models.bn.divergedAt, plain: s.models.plain.divergedAt },
  });
  pendingLosses = [];
  pendingEvaluations = [];
}

// A MessageChannel turn yields to the page's messages without setTimeout's 4 ms clamp.
// At most one turn is pending, however often start, reset and the build switch ask.
const ticker = new MessageChannel();
let tickPending = false;
ticker.port1.onmessage = () => {
  tickPending = false;
  tick();
};
function scheduleTick(): void {
  if (!tickPending) {
    tickPending = true;
    ticker.port2.postMessage(null);
  }
}
let switching = false;

function tick(): void {
  const s = session;
  if (!running || s === null || switching) return;
  const end = performance.now() + CHUNK_MS;
  try {
    while (performance.now() < end && s.step < stopAt) trainStep(s);
  } catch (error) {
    report(error);
    return;
  }
  let speed: Speed | null = null;
  const now = performance.now();
  const stopping = s.step >= stopAt;
  if (now - speedClock.time >= SPEED_EVERY_MS || (stopping && s.step > runClock.step)) {
    const clock = stopping ? runClock : speedClock;
    const stepsPerSecond = ((s.step - clock.step) * 1000) / (now - clock.time);
    speed = { stepsPerSecond, ...measureBatchNorm(s.probe) };
    speedClock = { time: performance.now(), step: s.step };
  }
  if (stopping) running = false;
  postProgress(speed);
  scheduleTick();
}

function resetClock(): void {
  speedClock = { time: performance.now(), step: session?.step ?? 0 };
  runClock = speedClock;
}

async function reset(config: RunConfig): Promise<void> {
  if (session !== null) disposeSession(session);
  session = null;
  pendingLosses = [];
  pendingEvaluations = [];
  const s = await newSession(config);
  session = s;
  const images = s.test.images.slice(0, GRID_DIGITS * PIXELS);
  post({
    type: 'reset', runtime: runtimeInfo(s), config, trainDigits: s.train.count, testDigits: s.test.count,
    grid: { images, labels: Array.from(s.test.labels.subarray(0, GRID_DIGITS)) },
  }, [images.buffer]);
  pendingEvaluations.push(evaluate(s));
  postProgress(null);
  resetClock();
  if (running) scheduleTick();
}

/** Moves both networks, mid-training, to the SIMD or the scalar build on the threads chosen. */
async function switchRuntime(simd: boolean, threads: ThreadsChoice): Promise<void> {
  const old = session!;
  switching = true;
  try {
    const { rt, refused } = await runtime(simd, threads);
    const config = { ...old.config, simd, threads };
    const move = (model: Model): Network => {
      const from = old.models[model];
      const to = buildModel(rt, model, config, { init: 0, noise: 0 });
      to.net.loadStateDict(from.net.stateDict());
      return { ...to, divergedAt: from.divergedAt, lossSum: from.lossSum };
    };
    // A refused count lands on the runtime the networks may already be on.
    if (rt === old.rt) session = { ...old, refused, config };
    else {
      session = { ...old, rt, refused, config, models: { bn: move('bn'), plain: move('plain') }, ...tensors(rt, config.batch, old.test) };
      disposeSession(old);
    }
  } finally {
    switching = false;
  }
  post({ type: 'runtime', runtime: runtimeInfo(session) });
  resetClock();
  if (running) scheduleTick();
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'load':
      stopAt = message.stopAt ?? Infinity;
      digits = await fetchDigits(message.digitsUrl, PIXELS);
      await reset(message.config);
      break;
    case 'reset':
      await reset(message.config);
      break;
    case 'start':
      if (session === null) break;
      if (!running && session.step < stopAt) {
        running = true;
        resetClock();
        scheduleTick();
      } else {
        postProgress(null);
      }
      break;
    case 'pause':
      running = false;
      if (session !== null) postProgress(null);
      break;
    case 'lr':
      if (session !== null) {
        session.config = { ...session.config, lr: message.lr };
        for (const model of MODELS) session.models[model].sgd.lr = message.lr;
      }
      break;
    case 'runtime':
      if (session !== null) await switchRuntime(message.simd, message.threads);
      break;
  }
}

function report(error: unknown): void {
  running = false;
  post({ type: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
}

let queue = Promise.resolve();
scope.onmessage = (event: MessageEvent<ToWorker>) => {
  queue = queue.then(() => handle(event.data)).catch(report);
};
