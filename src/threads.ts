// Starting a runtime on the simd-threads build: shared memory, the calling thread's kernels
// on it, and a pool of workers for the rest of the threads.
import { instantiate } from '@assemblyscript/loader';
import { attachSplitter, type Phase, type Splitter } from './ops.js';
import { Pool, type PoolWorker } from './pool.js';
import { typeError } from './errors.js';
import type { Kernels } from './wasm.js';

/** 64 Ki pages: the whole wasm32 address space, reserved, not committed. */
const MAX_PAGES = 65536;

/**
 * Threads for 'auto': onnxruntime-web's default, half the logical cores and at most four
 * (the kernels stream memory: past a few threads, memory bandwidth stops them).
 */
export function autoThreads(logicalCores: number): number {
  return Math.min(4, Math.ceil(Math.max(1, logicalCores) / 2));
}

/** Checks opts.threads: 'auto' or a positive integer. */
export function checkThreads(value: unknown): 'auto' | number {
  if (value === 'auto' || (typeof value === 'number' && Number.isInteger(value) && value >= 1)) return value;
  throw typeError('opts.threads', "'auto' or a positive integer", value);
}

export async function instantiateShared(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<Kernels> {
  const { exports } = await instantiate<Record<string, unknown>>(module, { env: { memory } });
  if (typeof exports.f32_bn_forward_train_planar_reduce !== 'function') {
    throw typeError('opts.wasm', 'the batchnorm-wasm module (simd-threads.wasm)', module);
  }
  return exports as unknown as Kernels;
}

/**
 * Below this many values an op runs on the calling thread alone: handing a phase to the
 * workers and waiting for the slowest costs more than the share they take. Measured by
 * `npm run bench` (bench/split-threshold.mjs, 2 threads): at half this size every op is
 * slower split; from here planar ops are faster and interleaved ones break even, and from
 * twice this size every op is faster.
 */
export const MIN_SPLIT_VALUES = 1 << 16;

/**
 * A runtime's threads: the pool, started at once (start()) or by the first op worth
 * splitting, so that a runtime that never runs a large op starts no workers. Until the pool
 * is ready an op runs on the calling thread alone: the bits are the same either way.
 */
export class Threads implements Splitter {
  readonly #start: () => Promise<Pool>;
  readonly #wanted: number;
  readonly #minSplitValues: number;
  readonly #report: (reason: string) => void;
  #pool: Pool | null = null;
  #starting: Promise<Pool> | null = null;
  #failed = false;
  #disposed = false;

  constructor(start: () => Promise<Pool>, wanted: number, report: (reason: string) => void, minSplitValues = MIN_SPLIT_VALUES) {
    this.#start = start;
    this.#wanted = wanted;
    this.#report = report;
    this.#minSplitValues = minSplitValues;
  }

  /** What runs: the threads asked for, or 1 once the pool failed to start or was disposed. */
  get threads(): number {
    return this.#failed || this.#disposed ? 1 : this.#wanted;
  }

  /** Starts the pool if it has not started; rejects with the reason it could not. */
  start(): Promise<Pool> {
    this.#starting ??= this.#start().then(
      (pool) => {
        if (this.#disposed) pool.dispose();
        else this.#pool = pool;
        return pool;
      },
      (cause: unknown) => {
        this.#failed = true;
        this.#report(`starting the worker threads failed: ${(cause as Error).message}`);
        throw cause;
      },
    );
    return this.#starting;
  }

  worthSplitting(values: number): boolean {
    if (values < this.#minSplitValues || this.#failed || this.#disposed) return false;
    if (this.#pool !== null) return true;
    this.start().catch(() => undefined);
    return false;
  }

  run(phases: readonly Phase[]): void {
    this.#pool!.run(phases);
  }

  /** Ends the workers (or stops them starting); ops then run on the calling thread. */
  dispose(): void {
    this.#disposed = true;
    this.#pool?.dispose();
  }
}

/**
 * The kernels of `module` (the simd-threads build) on new shared memory, and the threads
 * that split their ops: `threads` in all, the pool not started yet. `report` says why the
 * pool could not start (init() prints it under debug).
 */
export async function startThreaded(module: WebAssembly.Module, threads: number, spawn: () => PoolWorker, report: (reason: string) => void = () => undefined): Promise<{ kernels: Kernels; threads: Threads }> {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  const kernels = await instantiateShared(module, memory);
  const split = new Threads(() => Pool.start(kernels, module, threads, spawn), threads, report);
  attachSplitter(kernels, split);
  return { kernels, threads: split };
}
