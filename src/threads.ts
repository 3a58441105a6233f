// Starting a runtime on the simd-threads build: shared memory, the calling thread's kernels
// on it, and a pool of workers for the rest of the threads.
import { instantiate } from '@assemblyscript/loader';
import { attachSplitter } from './ops.js';
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

export interface Threaded {
  /** The calling thread's kernels, on shared memory. */
  kernels: Kernels;
  /** null when one thread was asked for. */
  pool: Pool | null;
}

export interface ThreadOptions {
  /** Ops on fewer values run on the calling thread alone (default MIN_SPLIT_VALUES). */
  minSplitValues?: number;
}

/** The kernels of `module` (the simd-threads build) on new shared memory, and `threads` − 1 workers. */
export async function startThreaded(module: WebAssembly.Module, threads: number, spawn: () => PoolWorker, options: ThreadOptions = {}): Promise<Threaded> {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  const kernels = await instantiateShared(module, memory);
  if (threads === 1) return { kernels, pool: null };
  const pool = await Pool.start(kernels, module, threads, spawn, options.minSplitValues);
  attachSplitter(kernels, pool);
  return { kernels, pool };
}
