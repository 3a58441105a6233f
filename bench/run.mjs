// The benchmark suite: batchnorm-wasm against the physical limit (wasm memory.copy of the
// same bytes), a plain JavaScript implementation, TensorFlow.js (wasm SIMD and cpu
// backends), onnxruntime-web (wasm, inference) and, where /usr/bin/python3 has torch, PyTorch
// CPU with 1 and 2 threads (bench/torch.mjs, a child process timed in the same rounds as
// ours); all in one run. The threads axis times the layer on 2 (4, 8) threads beside the
// floor split the same way (bench/threaded-floor.mjs), and the split threshold section times
// each op on one and two threads around MIN_SPLIT_VALUES (bench/split-threshold.mjs).
//
//   npm run bench [-- --quick] [-- --only=nchw-32x64x56x56,bn1d-60x100,split-threshold]
//
// Writes bench/results/latest.json, docs/performance/sweep.svg, docs/performance/scaling.svg (the
// threads axis) and docs/performance.md (rendered from latest.json by bench/page.mjs), and
// prints that page. A full run (no --quick, no --only) ends with the TensorFlow.js layer and
// end-to-end rows (bench/tfjs-layer.mjs), stored as latest.json's `tfjs` (null when the run
// leaves them out).
// A peer that cannot be loaded is reported as unavailable with the reason; it never stops
// the run. Every time is the median of tinybench samples; calls shorter than BATCH_MS run
// in batches and are divided back to one call.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { Bench } from 'tinybench';
import { init } from '../dist/index.node.js';
// The facade's own layout rule and kernel dispatch, so the kernel-alone row times the very
// call the layer makes.
import { MIN_SPLIT_VALUES, allocate, free, kernelOps, layoutOf, sizeOf, workspaceBytes } from './internals.mjs';
import * as plain from './plain-js.mjs';
import { batchNormModel } from './onnx-model.mjs';
import { scalingChart, sweepChart } from './chart.mjs';
import { writePerformancePage } from './page.mjs';
import { FloorPool, elementwiseRows, floorPhases } from './threaded-floor.mjs';
import { measureSplitThreshold } from './split-threshold.mjs';
import { startTorch } from './torch.mjs';
import { machine } from '../scripts/generated.mjs';

const HERE = new URL('.', import.meta.url);
const RESULTS = new URL('results/', HERE);
// The charts the performance page shows, beside it.
const CHARTS = new URL('../docs/performance/', HERE);
const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const ONLY = args.find((a) => a.startsWith('--only='))?.slice(7).split(',') ?? null;
// The id --only takes for the split threshold section.
const SPLIT_ID = 'split-threshold';

const CONFIG = QUICK
  ? { timeMs: 40, iterations: 5, warmupMs: 10, warmupIterations: 2, rounds: 1, slowCallMs: 150, slowSamples: 1, slowPeerElements: 1e5, sweepSizes: [1e3, 1e5, 1e7], torchSeconds: 0.05, torchSamples: 3 }
  : { timeMs: 300, iterations: 15, warmupMs: 100, warmupIterations: 5, rounds: 5, slowCallMs: 1000, slowSamples: 3, slowPeerElements: Infinity, sweepSizes: null, torchSeconds: 0.25, torchSamples: 5 };
// batchnorm-wasm, memory.copy, the floors and PyTorch (and the split threshold's two rows of
// each size) are timed in `rounds` interleaved rounds and keep the round with the lowest
// median: the machine is shared, and a burst of someone else's work during one task's
// samples would otherwise decide its row.
// --quick leaves out the calls that take seconds each (tfjs-cpu beyond slowPeerElements,
// tfjs train steps beyond 1e6 elements) so that CI's smoke run stays under a minute.
// Calls shorter than this run in batches, so the timer's own cost does not count.
const BATCH_MS = 0.05;
const EPS = 1e-5;
const MOMENTUM = 0.1;
const OPS = ['forward-train', 'forward-eval', 'backward', 'train-step'];
// Bytes an operation cannot avoid moving, in units of the input's size: forward reads x
// and writes y; backward reads x and dy and writes dx; a train step does both.
const TRAFFIC = { 'forward-train': 2, 'forward-eval': 2, backward: 3, 'train-step': 5 };

const IMPLS = {
  ours: 'batchnorm-wasm: the layer API (forward(x, out) / backward(dy, out)), SIMD build; tensors live in wasm memory, nothing is copied',
  kernel: 'batchnorm-wasm kernel alone: the layer\'s own forward-train dispatch (ops.forwardTrain, the same wasm call) without the layer (argument checks, layout)',
  copy: 'wasm memory.copy of the input\'s bytes into another buffer in the same memory (the physical limit: reads and writes every byte once)',
  floor: 'the memory sweeps the op must make, without arithmetic, stored with v128.store like the kernels (bench/floors.ts): eval = one read and one write; train = a read sweep, then a read and a write; backward = a sweep reading x and dy, then reading both and writing dx',
  js: 'plain JavaScript on Float32Arrays, two-pass mean/variance with f64 sums, same layout as ours; no copies',
  'tfjs-wasm': 'TensorFlow.js 4.22 tfjs-backend-wasm (SIMD, 1 thread), NHWC (its native layout): tf.moments + tf.batchNorm; train step = tf.grads of that; tensors created once, outputs disposed, no copies to JS; no running-stats update',
  'tfjs-cpu': 'TensorFlow.js 4.22 cpu backend (plain JS kernels), same ops and layout as tfjs-wasm',
  ort: 'onnxruntime-web 1.30 wasm backend (1 thread), one BatchNormalization node (inference only), NCHW; each run copies x into its heap and y out to a new JS array',
  'torch-1': 'PyTorch CPU, 1 thread (scripts/bench_torch.py, a child process timed in the same interleaved rounds as ours), torch.nn.BatchNorm*d and autograd; no copies',
  'torch-2': 'PyTorch CPU, 2 threads, same as torch-1',
};
const PEERS = ['js', 'tfjs-wasm', 'tfjs-cpu', 'ort', 'torch-1', 'torch-2'];
// The threads axis: batchnorm-wasm's layer on the simd-threads build with 2 threads, and 4 and
// 8 where the machine has that many logical cores (more threads than cores only shares them).
const THREADS = [2, 4, 8].filter((n) => n === 2 || n <= os.availableParallelism());
IMPLS['floor-1t'] = 'the floor on build/floors-threads.wasm (shared memory) on the calling thread alone: the one-thread time ' +
  'the floor-Nt rows\' speed-up is taken from, since V8 runs some of these sweeps slower on shared memory than on floors.wasm\'s own';
for (const n of THREADS) {
  IMPLS[`ours-${n}t`] = `batchnorm-wasm as ours, init({ threads: ${n} }): the simd-threads build, each op split across ${n} threads (docs/threads.md)`;
  IMPLS[`floor-${n}t`] = `the floor's sweeps split across ${n} threads on one shared memory as the kernels split an elementwise pass, ` +
    'each thread a contiguous share of the rows, all threads done with a sweep before the next (bench/threaded-floor.mjs); ' +
    `on one thread below MIN_SPLIT_VALUES (${MIN_SPLIT_VALUES} values), as the kernels`;
}

const unavailable = {};
const skipped = new Set();

/** The same tensor with the channel axis last (tfjs) or second (ONNX). */
function channelsLastShape(shape, channelsLast) {
  return channelsLast || shape.length === 2 ? shape : [shape[0], ...shape.slice(2), shape[1]];
}
function channelsFirstShape(shape, channelsLast) {
  return !channelsLast || shape.length === 2 ? shape : [shape[0], shape[shape.length - 1], ...shape.slice(1, -1)];
}

function random(size, seed) {
  let s = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 4 - 2 + 0.5;
  }
  return out;
}

/** Median milliseconds per call of fn (sync or async). */
async function measure(fn, isAsync) {
  let start = performance.now();
  await fn();
  const first = performance.now() - start;
  if (first >= CONFIG.slowCallMs) {
    // Calls of a second or more: a few timed calls instead of tinybench's minimum count.
    const times = [first];
    while (times.length < CONFIG.slowSamples) {
      start = performance.now();
      await fn();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return { ms: times[times.length >> 1], samples: times.length, rme: null };
  }
  start = performance.now();
  await fn();
  const second = performance.now() - start;
  const inner = Math.max(1, Math.floor(BATCH_MS / Math.max(second, 1e-6)));
  const batch = inner === 1 ? fn : isAsync
    ? async () => { for (let i = 0; i < inner; i++) await fn(); }
    : () => { for (let i = 0; i < inner; i++) fn(); };
  const bench = new Bench({
    time: CONFIG.timeMs, iterations: CONFIG.iterations, warmupTime: CONFIG.warmupMs,
    warmupIterations: CONFIG.warmupIterations, throws: true,
  });
  bench.add('task', batch, { async: isAsync });
  await bench.run();
  const latency = bench.tasks[0].result.latency;
  return { ms: latency.p50 / inner, samples: latency.samplesCount, rme: latency.rme };
}

// ---- implementations: each returns { op: () => void | Promise<void> } for one workload ----

// The floors: build/floors.wasm for one thread; build/floors-threads.wasm on one shared memory,
// with a FloorPool per thread count of the threads axis. Each keeps one set of buffers,
// grown to the largest workload.
let floors = null;
let threadedFloors = null;
const FLOORS_BUILT_BY = 'npm run bench builds it (asc --config bench/asconfig.json)';
const THREADS_MAX_PAGES = 65536;

function floorsWasm(name, impl) {
  const file = new URL(`../build/${name}`, HERE);
  if (!existsSync(file)) unavailable[impl] = `no build/${name}: ${FLOORS_BUILT_BY}`;
  return existsSync(file) ? readFileSync(file) : null;
}

async function loadFloors() {
  const bytes = floorsWasm('floors.wasm', 'floor');
  if (bytes === null) return;
  try {
    const { instance } = await WebAssembly.instantiate(bytes, { env: { abort() { throw new Error('floors.wasm aborted'); } } });
    floors = { exports: instance.exports, memory: instance.exports.memory };
  } catch (error) {
    // floors.wasm is SIMD code; an engine without wasm SIMD runs the rest of the bench.
    unavailable.floor = `build/floors.wasm failed to load: ${error.message}`;
  }
}

async function loadThreadedFloors(threadCounts) {
  if (threadCounts.length === 0) return;
  const impls = threadCounts.map((n) => `floor-${n}t`);
  const bytes = floorsWasm('floors-threads.wasm', impls.join(', '));
  if (bytes === null) return;
  try {
    const module = await WebAssembly.compile(bytes);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: THREADS_MAX_PAGES, shared: true });
    const pools = {};
    try {
      for (const n of threadCounts) pools[n] = await FloorPool.start(module, memory, n);
    } catch (error) {
      for (const pool of Object.values(pools)) await pool.dispose();
      throw error;
    }
    threadedFloors = { memory, pools };
  } catch (error) {
    unavailable[impls.join(', ')] = `build/floors-threads.wasm failed to start: ${error.message}`;
  }
}

/** x, y, dy, dx of L's size in a floor's memory, written once so every page is real memory. */
function floorBuffers(memory, L) {
  const bytes = Math.ceil(L.size / 4) * 16, base = 65536, need = base + 4 * bytes;
  const have = memory.buffer.byteLength;
  if (need > have) memory.grow(Math.ceil((need - have) / 65536));
  const [x, y, dy, dx] = [0, 1, 2, 3].map((i) => base + i * bytes);
  new Float32Array(memory.buffer, x, L.size).set(random(L.size, 1));
  new Float32Array(memory.buffer, dy, L.size).set(random(L.size, 2));
  new Float32Array(memory.buffer, y, L.size).fill(0);
  new Float32Array(memory.buffer, dx, L.size).fill(0);
  return { x, y, dy, dx };
}

/** Each op's sweeps on the calling thread: one call into the floors' exports. */
function floorCalls(exports, b, n) {
  return {
    'forward-train': () => exports.forwardTrain(b.x, b.y, n),
    'forward-eval': () => exports.copyLoop(b.y, b.x, n),
    backward: () => exports.backward(b.x, b.dy, b.dx, n),
    'train-step': () => exports.trainStep(b.x, b.y, b.dy, b.dx, n),
  };
}

function floorTasks(L) {
  return floors ? floorCalls(floors.exports, floorBuffers(floors.memory, L), L.size) : null;
}

/**
 * The floors on shared memory for L: `one`, each op's sweeps on the calling thread, and
 * `split[n]`, the same sweeps split across the pool of n threads as the kernels split L, or
 * null where the kernels would not split (fewer than MIN_SPLIT_VALUES values): the floor on
 * n threads is then `one`'s, timed once. `kernels`: a kernel instance, for the row unit and the short-row limit the split uses.
 */
function threadedFloorTasks(L, kernels) {
  if (!threadedFloors) return null;
  const b = floorBuffers(threadedFloors.memory, L);
  const pools = Object.entries(threadedFloors.pools);
  const one = floorCalls(pools[0][1].exports, b, L.size);
  const rows = elementwiseRows(L, { rowUnit: Number(kernels.ROW_UNIT.value), shortRow: Number(kernels.SHORT_ROW.value) });
  const split = Object.fromEntries(pools.map(([n, pool]) => [n, L.size < MIN_SPLIT_VALUES ? null : Object.fromEntries(OPS.map((op) => {
    const phases = floorPhases(op, b);
    return [op, () => pool.run(phases, rows)];
  }))]));
  return { one, split };
}

function oursTasks(rt, w, L) {
  const dims = w.dims;
  const bn = dims === 1 ? rt.batchNorm1d(L.C, { channelsLast: w.channelsLast })
    : dims === 2 ? rt.batchNorm2d(L.C, { channelsLast: w.channelsLast }) : rt.batchNorm3d(L.C, { channelsLast: w.channelsLast });
  bn.weight.set(random(L.C, 3));
  bn.bias.set(random(L.C, 4));
  const x = rt.tensor(w.shape, random(L.size, 1));
  const dy = rt.tensor(w.shape, random(L.size, 2));
  const y = rt.tensor(w.shape);
  const dx = rt.tensor(w.shape);
  bn.forward(x, y);
  const k = rt.kernels;
  const ws = allocate(rt, workspaceBytes(L.C), 'bench');
  const tasks = {
    'forward-train': () => { bn.training = true; bn.forward(x, y); },
    'forward-eval': () => { bn.training = false; bn.forward(x, y); },
    // One forward (prepare) and many backwards: retainGraph keeps that forward usable.
    backward: () => { bn.backward(dy, dx, { retainGraph: true }); },
    'train-step': () => { bn.training = true; bn.forward(x, y); bn.backward(dy, dx); },
  };
  const kernelForwardTrain = kernelOps(k, L, {
    x: x.ptr, y: y.ptr, weight: bn.weight.ptr, bias: bn.bias.ptr, runningMean: bn.runningMean.ptr, runningVar: bn.runningVar.ptr, ws,
  }, MOMENTUM, EPS)['forward-train'];
  const kernel = { 'forward-train': kernelForwardTrain };
  const copy = { copy: () => k.copy(y.ptr, x.ptr, L.size * 4) };
  const dispose = () => {
    for (const t of [x, dy, y, dx]) t.dispose();
    bn.dispose();
    free(rt, ws, workspaceBytes(L.C));
  };
  return { tasks, kernel, copy, dispose, prepare: { backward: () => { bn.training = true; bn.forward(x, y); } } };
}

function jsTasks(w, L) {
  const x = random(L.size, 1), dy = random(L.size, 2), y = new Float32Array(L.size), dx = new Float32Array(L.size);
  const p = {
    weight: random(L.C, 3), bias: random(L.C, 4), runningMean: new Float32Array(L.C), runningVar: new Float32Array(L.C).fill(1),
    weightGrad: new Float32Array(L.C), biasGrad: new Float32Array(L.C),
  };
  const ws = plain.workspace(L.C);
  plain.forwardTrain(x, y, L, p, MOMENTUM, EPS, ws);
  return {
    'forward-train': () => plain.forwardTrain(x, y, L, p, MOMENTUM, EPS, ws),
    'forward-eval': () => plain.forwardEval(x, y, L, p, EPS, ws),
    backward: () => plain.backward(dy, x, dx, L, p, ws),
    'train-step': () => { plain.forwardTrain(x, y, L, p, MOMENTUM, EPS, ws); plain.backward(dy, x, dx, L, p, ws); },
  };
}

let tf = null;
async function loadTfjs() {
  if (tf !== null || unavailable['tfjs-cpu']) return;
  try {
    tf = await import('@tensorflow/tfjs');
  } catch (error) {
    unavailable['tfjs-wasm'] = unavailable['tfjs-cpu'] = `cannot load @tensorflow/tfjs: ${error.message}`;
    return;
  }
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    // One thread, like every other row (the threaded build would need worker files).
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  } catch (error) {
    unavailable['tfjs-wasm'] = `cannot load @tensorflow/tfjs-backend-wasm: ${error.message}`;
  }
}

async function tfjsTasks(backend, w, L) {
  await loadTfjs();
  if (tf === null || unavailable[backend]) return null;
  const name = backend.slice(5);
  try {
    if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
    await tf.ready();
    if (name === 'wasm' && !tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) throw new Error('no wasm SIMD');
  } catch (error) {
    unavailable[backend] = `backend ${name} failed to initialize: ${error.message}`;
    return null;
  }
  const shape = channelsLastShape(w.shape, w.channelsLast);
  const axes = shape.slice(0, -1).map((_, i) => i);
  const x = tf.tensor(random(L.size, 1), shape);
  const dy = tf.tensor(random(L.size, 2), shape);
  const gamma = tf.tensor1d(random(L.C, 3)), beta = tf.tensor1d(random(L.C, 4));
  const runMean = tf.zeros([L.C]), runVar = tf.ones([L.C]);
  const train = (xx, g, b) => {
    const m = tf.moments(xx, axes);
    return tf.batchNorm(xx, m.mean, m.variance, b, g, EPS);
  };
  const grads = tf.grads(train);
  return {
    tasks: {
      'forward-train': () => tf.tidy(() => train(x, gamma, beta)).dispose(),
      'forward-eval': () => tf.tidy(() => tf.batchNorm(x, runMean, runVar, beta, gamma, EPS)).dispose(),
      'train-step': () => { for (const g of grads([x, gamma, beta], dy)) g.dispose(); },
    },
    dispose: () => { for (const t of [x, dy, gamma, beta, runMean, runVar]) t.dispose(); },
  };
}

let ort = null;
async function ortTasks(w, L) {
  if (unavailable.ort) return null;
  try {
    if (ort === null) {
      ort = await import('onnxruntime-web');
      ort.env.wasm.numThreads = 1;
      ort.env.logLevel = 'error';
    }
    const shape = channelsFirstShape(w.shape, w.channelsLast);
    const model = batchNormModel(shape, {
      scale: random(L.C, 3), bias: random(L.C, 4), mean: new Float32Array(L.C), variance: new Float32Array(L.C).fill(1), epsilon: EPS,
    });
    const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const feeds = { x: new ort.Tensor('float32', random(L.size, 1), shape) };
    await session.run(feeds);
    return { tasks: { 'forward-eval': async () => { (await session.run(feeds)).y.dispose?.(); } }, dispose: () => session.release() };
  } catch (error) {
    unavailable.ort = `onnxruntime-web failed: ${error.message}`;
    return null;
  }
}

// The PyTorch child, or null where it is unavailable or has failed (the reason is in
// `unavailable`); what it runs, for the page, once it has started.
let torch = null;
let torchVersions = null;

async function loadTorch() {
  const started = await startTorch({ budget: CONFIG.torchSeconds, samples: CONFIG.torchSamples });
  if (started.unavailable) {
    unavailable['torch-1'] = unavailable['torch-2'] = started.unavailable;
    return;
  }
  torch = started;
  torchVersions = { version: started.version, python: started.python };
}

/** PyTorch's time for one op at `threads` threads; null once the child has failed. */
async function torchTime(w, op, threads) {
  if (torch === null) return null;
  try {
    return { ms: await torch.time(w, op, threads), samples: null, rme: null };
  } catch (error) {
    unavailable['torch-1'] = unavailable['torch-2'] = `PyTorch stopped answering during ${w.id}: ${error.message}`;
    torch = null;
    return null;
  }
}

// ---- the run ----

async function runWorkload(rt, w, ops, impls, threaded = {}) {
  const L = { ...layoutOf(w.shape, w.channelsLast), size: sizeOf(w.shape) };
  const result = { id: w.id, label: w.label, shape: w.shape, channelsLast: w.channelsLast, elements: L.size, bytes: L.size * 4, ops: {} };
  const record = (op, impl, m) => { ((result.ops[op] ??= {})[impl] = m); };
  const ours = oursTasks(rt, w, L);
  const withFloor = impls.includes('floor');
  const sharedFloor = withFloor && Object.keys(threaded).length > 0 ? threadedFloorTasks(L, rt.kernels) : null;
  // Each thread count's layer and floor, timed one after the other.
  const split = Object.entries(threaded).map(([n, trt]) => ({
    impl: `ours-${n}t`, tasks: oursTasks(trt, w, L), floorImpl: `floor-${n}t`, floor: sharedFloor?.split[n] ?? null,
  }));
  const floor = withFloor ? floorTasks(L) : null;
  const torchThreads = [1, 2].filter((n) => impls.includes(`torch-${n}`));
  const rounds = {};
  const keep = (key, m) => (rounds[key] ??= []).push(m);
  for (let round = 0; round < CONFIG.rounds; round++) {
    keep('copy', await measure(ours.copy.copy, false));
    for (const op of ops) {
      ours.prepare[op]?.();
      keep(op, await measure(ours.tasks[op], false));
      for (const t of split) {
        t.tasks.prepare[op]?.();
        keep(`${t.impl} ${op}`, await measure(t.tasks.tasks[op], false));
        if (t.floor) keep(`${t.floorImpl} ${op}`, await measure(t.floor[op], false));
      }
      if (floor) keep(`floor ${op}`, await measure(floor[op], false));
      if (sharedFloor) keep(`floor-1t ${op}`, await measure(sharedFloor.one[op], false));
      for (const threads of torchThreads) {
        const m = await torchTime(w, op, threads);
        if (m) keep(`torch-${threads} ${op}`, m);
      }
    }
    if (impls.includes('kernel')) keep('kernel', await measure(ours.kernel['forward-train'], false));
  }
  const best = (key) => {
    const all = rounds[key];
    const min = all.reduce((a, b) => (b.ms < a.ms ? b : a));
    return { ...min, rounds: all.map((m) => m.ms) };
  };
  record('copy', 'copy', best('copy'));
  for (const op of ops) record(op, 'ours', best(op));
  for (const t of split) {
    for (const op of ops) record(op, t.impl, best(`${t.impl} ${op}`));
    if (t.floor) for (const op of ops) record(op, t.floorImpl, best(`${t.floorImpl} ${op}`));
    else if (sharedFloor) for (const op of ops) record(op, t.floorImpl, best(`floor-1t ${op}`));
    t.tasks.dispose();
  }
  if (floor) for (const op of ops) record(op, 'floor', best(`floor ${op}`));
  if (sharedFloor) for (const op of ops) record(op, 'floor-1t', best(`floor-1t ${op}`));
  if (rounds.kernel) record('forward-train', 'kernel', best('kernel'));
  // Every round or none: a child that failed part-way leaves its rows out.
  for (const threads of torchThreads) {
    for (const op of ops) if (rounds[`torch-${threads} ${op}`]?.length === CONFIG.rounds) record(op, `torch-${threads}`, best(`torch-${threads} ${op}`));
  }
  ours.dispose();
  if (impls.includes('js')) {
    const js = jsTasks(w, L);
    for (const op of ops) record(op, 'js', await measure(js[op], false));
  }
  for (const backend of ['tfjs-wasm', 'tfjs-cpu']) {
    if (!impls.includes(backend)) continue;
    if (backend === 'tfjs-cpu' && L.size > CONFIG.slowPeerElements) {
      skipped.add(`tfjs-cpu beyond ${CONFIG.slowPeerElements} elements`);
      continue;
    }
    const t = await tfjsTasks(backend, w, L);
    if (!t) continue;
    for (const op of ops) {
      if (!t.tasks[op]) continue;
      if (QUICK && op === 'train-step' && L.size > 1e6) {
        skipped.add('tfjs train steps beyond 1e6 elements');
        continue;
      }
      record(op, backend, await measure(t.tasks[op], false));
    }
    t.dispose();
  }
  if (impls.includes('ort') && ops.includes('forward-eval')) {
    const o = await ortTasks(w, L);
    if (o) {
      record('forward-eval', 'ort', await measure(o.tasks['forward-eval'], true));
      await o.dispose();
    }
  }
  return result;
}

function summarize(result, threadCounts = []) {
  const copy = result.ops.copy.copy.ms;
  for (const op of OPS) {
    const row = result.ops[op];
    if (!row?.ours) continue;
    const ours = row.ours.ms;
    row.ours.gbps = (TRAFFIC[op] * result.bytes) / (ours / 1000) / 1e9;
    row.ours.vsCopy = ours / copy;
    if (row.floor) row.ours.vsFloor = ours / row.floor.ms;
    row.ours.speedup = {};
    for (const peer of PEERS) if (row[peer]) row.ours.speedup[peer] = row[peer].ms / ours;
    // Each thread count against its own floor: the same sweeps split across as many threads.
    for (const n of threadCounts) {
      const split = row[`ours-${n}t`], floor = row[`floor-${n}t`];
      if (split && floor) split.vsFloor = split.ms / floor.ms;
    }
  }
}

/** bench/tfjs-layer.mjs's rows on full runs; null when the run leaves them out or tfjs cannot load. */
async function tfjsRows() {
  if (ONLY || QUICK) return null;
  let bench;
  try {
    bench = await import('./tfjs-layer.mjs');
  } catch (error) {
    unavailable['tfjs-layer'] = `bench/tfjs-layer.mjs cannot load: ${error.message}`;
    return null;
  }
  const rows = await bench.benchTfjsLayer();
  process.stderr.write('  tfjs layer done\n');
  return rows;
}

/** The split threshold section, or null where this run leaves it out (--only without it, no SIMD) or its threads cannot start. */
async function splitRows(simd) {
  if ((ONLY && !ONLY.includes(SPLIT_ID)) || !simd) return null;
  try {
    const split = await measureSplitThreshold({
      measure: (fn) => measure(fn, false), rounds: CONFIG.rounds, momentum: MOMENTUM, eps: EPS, fill: random,
    });
    process.stderr.write('  split threshold done\n');
    return split;
  } catch (error) {
    unavailable[SPLIT_ID] = `the split threshold section failed: ${error.message}`;
    return null;
  }
}

async function main() {
  const spec = JSON.parse(readFileSync(new URL('workloads.json', HERE), 'utf8'));
  const rt = await init({ threads: 1 });
  if (!rt.simd) console.warn('note: this engine has no wasm SIMD; the scalar build runs');
  // Started (and warmed by each measurement's warm-up) before any timing.
  const threaded = {};
  if (rt.simd) for (const n of THREADS) threaded[n] = await init({ threads: n });
  const threadCounts = Object.keys(threaded).map(Number);
  await loadFloors();
  await loadThreadedFloors(threadCounts);
  await loadTorch();
  const started = performance.now();
  const all = ['ours', 'kernel', 'copy', 'floor', 'js', 'tfjs-wasm', 'tfjs-cpu', 'ort', 'torch-1', 'torch-2'];
  const workloads = spec.workloads.filter((w) => !ONLY || ONLY.includes(w.id));
  const results = [];
  for (const w of workloads) {
    results.push(await runWorkload(rt, w, OPS, all, threaded));
    summarize(results.at(-1), threadCounts);
    process.stderr.write(`  ${w.id} done (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  }
  for (const pool of Object.values(threadedFloors?.pools ?? {})) await pool.dispose();
  for (const trt of Object.values(threaded)) trt.dispose();
  const sweepImpls = ['ours', 'copy', 'floor', 'js', 'tfjs-wasm', 'torch-1'];
  const sweep = [];
  for (const w of spec.sweep) {
    if (ONLY && !ONLY.includes(w.id)) continue;
    if (CONFIG.sweepSizes && !CONFIG.sweepSizes.includes(w.size)) continue;
    sweep.push(await runWorkload(rt, w, ['forward-train', 'backward'], sweepImpls));
    summarize(sweep.at(-1));
  }
  process.stderr.write(`  sweep done (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  await torch?.close();
  const split = await splitRows(rt.simd);
  const tfjs = await tfjsRows();

  const env = {
    date: new Date().toISOString(), node: process.version, v8: process.versions.v8, platform: `${os.platform()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model, cpus: os.cpus().length, loadavg: os.loadavg(), simd: rt.simd, quick: QUICK, config: CONFIG,
    torch: torchVersions,
    caches: machine().caches, command: ['npm run bench', ...(args.length > 0 ? ['--', ...args] : [])].join(' '),
  };
  const out = {
    env, impls: IMPLS, traffic: TRAFFIC, threads: threadCounts, unavailable, skipped: [...skipped], workloads: results, sweep, split, tfjs,
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(new URL('latest.json', RESULTS), `${JSON.stringify(out, null, 1)}\n`);
  const wrote = ['bench/results/latest.json', 'docs/performance.md'];
  mkdirSync(CHARTS, { recursive: true });
  if (sweep.length > 1) {
    writeFileSync(new URL('sweep.svg', CHARTS), sweepChart(sweep));
    wrote.push('docs/performance/sweep.svg');
  }
  if (threadCounts.length > 0 && results.length > 0) {
    writeFileSync(new URL('scaling.svg', CHARTS), scalingChart(results, threadCounts));
    wrote.push('docs/performance/scaling.svg');
  }
  // The page is what the run prints: one renderer for both.
  process.stdout.write(writePerformancePage(out));
  process.stderr.write(`Wrote ${wrote.join(', ')} in ${((performance.now() - started) / 1000).toFixed(1)} s.\n`);
}

await main();
