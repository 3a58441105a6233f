// A pool of workers that run the kernels' phases alongside the calling thread, all on one
// shared wasm memory (the simd-threads build). Each worker instantiates the same module on
// that memory, never allocates (only the calling thread's instance owns the heap), and
// waits with Atomics.wait on a control block for the next phase. The calling thread posts
// a phase, runs part 0 itself, and waits until every worker has run its part, so the op
// stays synchronous. Where the calling thread may not block (a browser's main thread),
// there is no pool: ops run on that thread alone.
import type { Kernels } from './wasm.js';
import { scratchOf, type Phase, type PhaseName } from './ops.js';

/** Every phase export, by index: the control block names a phase by its index here. */
export const PHASE_NAMES = [
  'f32_bn_stats_planar', 'f32_bn_stats_interleaved', 'f32_bn_stats_interleaved_merge',
  'f32_bn_forward_train_planar_reduce', 'f32_bn_forward_train_interleaved_fold',
  'f32_bn_fold_running', 'f32_bn_fold_batch', 'f32_bn_apply_planar', 'f32_bn_apply_interleaved',
  'f32_bn_backward_train_planar_reduce', 'f32_bn_backward_apply_planar', 'f32_bn_backward_apply_interleaved',
  'f32_bn_backward_eval_planar_reduce', 'f32_bn_backward_reduce_planar', 'f32_bn_backward_shifts',
  'f32_bn_backward_reduce_interleaved', 'f32_bn_backward_merge_interleaved', 'f32_bn_backward_fold',
  'f32_bn_backward_eval_fold', 'f32_bn_backward_eval_grads',
] as const satisfies readonly PhaseName[];
// A phase export missing from the list above fails the typecheck here.
export const everyPhaseListed: [Exclude<PhaseName, (typeof PHASE_NAMES)[number]>] extends [never] ? true : Exclude<PhaseName, (typeof PHASE_NAMES)[number]> = true;

/**
 * Phases over the C channels alone (merging row groups, folding statistics into
 * coefficients): the calling thread runs them as part 0 of 1, with no wake-up, since waking
 * the workers costs more than C values of work. The bits are the same: each channel's
 * arithmetic never depends on parts.
 */
export const CALLER_PHASES: ReadonlySet<PhaseName> = new Set<PhaseName>([
  'f32_bn_stats_interleaved_merge', 'f32_bn_forward_train_interleaved_fold', 'f32_bn_fold_running', 'f32_bn_fold_batch',
  'f32_bn_backward_shifts', 'f32_bn_backward_merge_interleaved', 'f32_bn_backward_fold', 'f32_bn_backward_eval_fold',
  'f32_bn_backward_eval_grads',
]);

// The control block: Int32 slots, then the phase's arguments as f64.
export const GENERATION = 0; // bumped for each phase (and to stop)
export const DONE = 1; // workers that finished the current phase
export const PHASE = 2; // index into PHASE_NAMES
export const PARTS = 3;
export const ARGS = 4; // how many arguments
export const STOP = 5; // 1: leave the loop
export const FAILED = 6; // 1: a worker's part threw
const SLOTS = 8;
const MAX_ARGS = 24;
const CONTROL_BYTES = SLOTS * 4 + MAX_ARGS * 8;

/** The control block's Int32 slots and f64 arguments, as the pool and each worker see them. */
export function controlViews(control: SharedArrayBuffer): { slots: Int32Array; args: Float64Array } {
  return { slots: new Int32Array(control, 0, SLOTS), args: new Float64Array(control, SLOTS * 4, MAX_ARGS) };
}

/**
 * Loads of a slot before a waiting thread sleeps in Atomics.wait (about 80 µs at 5 ns a
 * load). Waking a sleeping thread takes tens of microseconds, as long as a phase of a
 * mid-sized op, and a training step posts its ops back to back; a thread left idle longer
 * than the spin sleeps and costs nothing.
 */
export const SPIN_LOADS = 16384;

/** Waits until slots[at] differs from `value` and returns it: spins, then sleeps. */
export function waitForChange(slots: Int32Array, at: number, value: number): number {
  for (let i = 0; i < SPIN_LOADS; i++) {
    const now = Atomics.load(slots, at);
    if (now !== value) return now;
  }
  for (;;) {
    const now = Atomics.load(slots, at);
    if (now !== value) return now;
    Atomics.wait(slots, at, value);
  }
}

/**
 * Waits until the control block's generation differs from `seen` and returns it. A wake-up
 * alone proves nothing: the pool bumps the generation, then notifies, and a fast worker may
 * already have run that phase and be waiting again when the notify arrives; taken as a new
 * phase, it would run the old one twice and count twice towards DONE.
 */
export function nextGeneration(slots: Int32Array, seen: number): number {
  return waitForChange(slots, GENERATION, seen);
}

/** What a worker needs to start: the module, the shared memory and its place in the pool. */
export interface WorkerStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  /** This worker's part (1..threads-1) and scratch region. */
  part: number;
  scratch: number;
}

/** The part of a Worker the pool uses (node:worker_threads, or a web Worker). */
export interface PoolWorker {
  postMessage(message: WorkerStart): void;
  /** Ends the worker; a Promise where the runtime gives one. */
  terminate(): unknown;
  /** Resolves when the worker has instantiated the module, rejects if it failed to. */
  ready: Promise<void>;
}

export class Pool {
  readonly threads: number;
  readonly #k: Kernels;
  readonly #workers: PoolWorker[];
  readonly #scratch: number[];
  readonly #slots: Int32Array;
  readonly #args: Float64Array;
  #disposed = false;
  /** Resolves when every worker has ended, after dispose(). */
  ended: Promise<void> = new Promise(() => {});

  private constructor(k: Kernels, workers: PoolWorker[], scratch: number[], control: SharedArrayBuffer) {
    this.#k = k;
    this.#workers = workers;
    this.#scratch = scratch;
    ({ slots: this.#slots, args: this.#args } = controlViews(control));
    this.threads = workers.length + 1;
  }

  /**
   * Starts threads − 1 workers on the module `k` was instantiated from, sharing its memory;
   * resolves when all have instantiated it. `spawn` makes one worker (per runtime).
   */
  static async start(k: Kernels, module: WebAssembly.Module, threads: number, spawn: () => PoolWorker): Promise<Pool> {
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const bytes = Number(k.SCRATCH_BYTES.value);
    const scratch: number[] = [];
    const workers: PoolWorker[] = [];
    try {
      for (let part = 1; part < threads; part++) {
        scratch.push(k.alloc(bytes) >>> 0);
        const worker = spawn();
        workers.push(worker);
        worker.postMessage({ module, memory: k.memory, control, part, scratch: scratch[part - 1]! });
      }
      await Promise.all(workers.map((w) => w.ready));
    } catch (error) {
      for (const w of workers) w.terminate();
      for (const p of scratch) k.free(p);
      throw error;
    }
    return new Pool(k, workers, scratch, control);
  }

  /** Runs each phase on every thread, the next when all have finished it. */
  run(phases: readonly Phase[]): void {
    const slots = this.#slots, parts = this.threads;
    const scratch = scratchOf(this.#k);
    for (const { name, args } of phases) {
      if (CALLER_PHASES.has(name)) {
        (this.#k[name] as (...a: number[]) => void)(...args, scratch, 0, 1);
        continue;
      }
      this.#args.set(args);
      Atomics.store(slots, PHASE, PHASE_NAMES.indexOf(name as (typeof PHASE_NAMES)[number]));
      Atomics.store(slots, ARGS, args.length);
      Atomics.store(slots, PARTS, parts);
      Atomics.store(slots, DONE, 0);
      Atomics.store(slots, FAILED, 0);
      Atomics.add(slots, GENERATION, 1);
      Atomics.notify(slots, GENERATION);
      let failure: unknown = null;
      try {
        (this.#k[name] as (...a: number[]) => void)(...args, scratch, 0, parts);
      } catch (error) {
        failure = error;
      }
      for (let done = Atomics.load(slots, DONE); done < parts - 1;) done = waitForChange(slots, DONE, done);
      if (failure !== null) throw failure;
      if (Atomics.load(slots, FAILED)) throw new Error(`batchnorm-wasm: a worker failed in ${name}`);
    }
  }

  /** Ends the workers and frees their scratch; ops then run on the calling thread. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    Atomics.store(this.#slots, STOP, 1);
    Atomics.add(this.#slots, GENERATION, 1);
    Atomics.notify(this.#slots, GENERATION);
    this.ended = Promise.all(this.#workers.map((w) => w.terminate())).then(() => undefined);
    for (const p of this.#scratch) this.#k.free(p);
  }
}
