// The threaded floor: the floors' sweeps (bench/floors.ts, built with shared memory as
// build/floors-threads.wasm) split across threads on one memory the way the kernels split an
// elementwise pass (assembly/parts.ts partRows): each thread sweeps a contiguous share of
// the rows, and every thread finishes a sweep before any starts the next, as every part
// finishes a phase of an op before the next phase starts. Threads wait for each other with
// the pool's own waitForChange (src/pool.ts), so the floor pays the synchronisation the
// kernels pay; below MIN_SPLIT_VALUES the kernels run on the calling thread alone, and so
// does the floor (bench/run.mjs decides).
import { Worker } from 'node:worker_threads';
import { waitForChange } from './internals.mjs';

// Each op's sweeps in order, as floors.ts's forwardTrain, copyLoop, backward and trainStep
// make them on one thread: an export of floors.ts and the buffers it takes before n.
const TRAIN = [['sum', 'x'], ['copyLoop', 'y', 'x']];
const BACKWARD = [['sum2', 'x', 'dy'], ['add', 'dx', 'x', 'dy']];
const FLOOR_PHASES = {
  'forward-train': TRAIN,
  'forward-eval': [['copyLoop', 'y', 'x']],
  backward: BACKWARD,
  'train-step': [...TRAIN, ...BACKWARD],
};
// The control block names a sweep by its index here.
const SWEEPS = [...new Set(Object.values(FLOOR_PHASES).flat().map(([sweep]) => sweep))];

/** Rows [first, end) of part `part` of `parts` over `rows` rows in units of `unit`: assembly/parts.ts partRows. */
export function partRows(rows, unit, part, parts) {
  const units = Math.ceil(rows / unit);
  const start = (p) => Math.min(rows, Math.floor((units * p) / parts) * unit);
  return [start(part), start(part + 1)];
}

/**
 * The rows the kernels' elementwise passes split for layout L (assembly/forward.ts and
 * backward.ts, the apply passes): interleaved rows of C values; planar rows of S values; planar
 * samples of C·S values where rows are shorter than SHORT_ROW. `limits` holds the kernels'
 * ROW_UNIT and SHORT_ROW, read from the module's globals.
 */
export function elementwiseRows(L, { rowUnit, shortRow }) {
  if (!L.planar) return { rows: L.R, values: L.C, unit: rowUnit };
  if (L.S < shortRow) return { rows: L.N, values: L.C * L.S, unit: rowUnit };
  return { rows: L.N * L.C, values: L.S, unit: rowUnit };
}

/** The values [first, end) that part `part` of `parts` sweeps. */
export function floorShare(split, part, parts) {
  const [first, end] = partRows(split.rows, split.unit, part, parts);
  return [first * split.values, end * split.values];
}

/** The sweeps of `op` on the buffers `b` (pointers x, y, dy, dx). */
export function floorPhases(op, b) {
  return FLOOR_PHASES[op].map(([sweep, ...names]) => ({ sweep, buffers: names.map((name) => b[name]) }));
}

// The control block: Int32 slots, then the sweep's arguments as f64 (its buffers, then the split).
const GENERATION = 0; // bumped for each sweep (and to stop)
const DONE = 1; // workers that finished the current sweep
const SWEEP = 2; // index into SWEEPS
const BUFFERS = 3; // how many buffers
const STOP = 4; // 1: leave the loop
const FAILED = 5; // 1: a worker's share threw
const SLOTS = 8;
const MAX_ARGS = 6; // three buffers; rows, values per row, unit
const CONTROL_BYTES = SLOTS * 4 + MAX_ARGS * 8;

function sweepShare(exports, sweep, buffers, split, part, parts) {
  const [first, end] = floorShare(split, part, parts);
  exports[sweep](...buffers.map((p) => p + 4 * first), end - first);
}

/**
 * A worker's loop: calls `ready` once it is listening, then sweeps its share of each sweep
 * the control block posts until told to stop.
 */
export function serveFloor(exports, control, part, parts, ready) {
  const slots = new Int32Array(control, 0, SLOTS);
  const args = new Float64Array(control, SLOTS * 4, MAX_ARGS);
  // Read before saying ready: the first sweep may be posted as soon as the pool hears it.
  let seen = Atomics.load(slots, GENERATION);
  ready();
  for (;;) {
    seen = waitForChange(slots, GENERATION, seen);
    if (Atomics.load(slots, STOP)) return;
    const n = Atomics.load(slots, BUFFERS);
    try {
      sweepShare(exports, SWEEPS[Atomics.load(slots, SWEEP)], Array.from(args.subarray(0, n)),
        { rows: args[n], values: args[n + 1], unit: args[n + 2] }, part, parts);
    } catch {
      Atomics.store(slots, FAILED, 1);
    }
    Atomics.add(slots, DONE, 1);
    Atomics.notify(slots, DONE);
  }
}

/** The calling thread and threads − 1 workers, each with floors-threads.wasm on one shared memory. */
export class FloorPool {
  #exports;
  #workers;
  #slots;
  #args;

  constructor(exports, workers, control) {
    this.#exports = exports;
    this.#workers = workers;
    this.#slots = new Int32Array(control, 0, SLOTS);
    this.#args = new Float64Array(control, SLOTS * 4, MAX_ARGS);
    this.threads = workers.length + 1;
  }

  /** `module`: floors-threads.wasm compiled; `memory`: the shared memory it imports. */
  static async start(module, memory, threads) {
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const { exports } = await WebAssembly.instantiate(module, { env: { memory } });
    const workers = [];
    try {
      for (let part = 1; part < threads; part++) {
        const worker = new Worker(new URL('./threaded-floor-worker.mjs', import.meta.url), { workerData: { module, memory, control, part, parts: threads } });
        worker.unref();
        workers.push(worker);
      }
      await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      })));
    } catch (error) {
      for (const w of workers) await w.terminate();
      throw error;
    }
    return new FloorPool(exports, workers, control);
  }

  /** The calling thread's instance: the floors' exports on the shared memory. */
  get exports() {
    return this.#exports;
  }

  /** Runs each sweep of `phases` on every thread over its share of `split`, the next when all have finished. */
  run(phases, split) {
    const slots = this.#slots, parts = this.threads;
    for (const { sweep, buffers } of phases) {
      this.#args.set([...buffers, split.rows, split.values, split.unit]);
      Atomics.store(slots, SWEEP, SWEEPS.indexOf(sweep));
      Atomics.store(slots, BUFFERS, buffers.length);
      Atomics.store(slots, DONE, 0);
      Atomics.add(slots, GENERATION, 1);
      Atomics.notify(slots, GENERATION);
      sweepShare(this.#exports, sweep, buffers, split, 0, parts);
      for (let done = Atomics.load(slots, DONE); done < parts - 1;) done = waitForChange(slots, DONE, done);
      if (Atomics.load(slots, FAILED)) throw new Error(`threaded floor: a worker failed in ${sweep}`);
    }
  }

  /** Ends the workers. */
  async dispose() {
    Atomics.store(this.#slots, STOP, 1);
    Atomics.add(this.#slots, GENERATION, 1);
    Atomics.notify(this.#slots, GENERATION);
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
