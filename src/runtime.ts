// A runtime: one wasm instance, its memory, and everything allocated in it. There is no
// module-level state, so a SIMD and a scalar runtime can live side by side.
import type { Kernels } from './wasm.js';
import type { Threads } from './threads.js';
import { isTensor, makeTensor, markFreed, ownerHint, type Tensor } from './tensor.js';
import { makeBatchNorm, type BatchNorm, type BatchNormOptions } from './batchnorm.js';
import { installHeapAccess } from './heap.js';
import { disposedError, readNumbers, stateError, typeError } from './errors.js';
import { checkSameShape, checkShape, formatShape, sizeOf } from './shape.js';
import * as functional from './functional.js';

/** TLSF, the wasm heap, serves at most 1 GiB per block. */
export const MAX_ALLOCATION_BYTES = 2 ** 30 - 16;

/**
 * What a runtime holds, from rt.memoryUsage(): a program that disposes everything gets back to zero live tensors and bytes.
 */
export interface MemoryUsage {
  /** Tensors allocated and not yet disposed (layer parameters included). */
  liveTensors: number;
  /** Bytes held by live tensors and layer workspaces. */
  bytesAllocated: number;
  /** Size of the wasm memory (it grows, never shrinks). */
  bytesReserved: number;
}

// Held only by this module: the constructor refuses any caller that does not have it.
const INTERNAL = Symbol('batchnorm-wasm internal');

let construct: (kernels: Kernels, debug: boolean, threads: Threads | null) => Runtime;

/**
 * One wasm instance, its memory, and everything allocated in it: tensors, layers and the functional ops.
 * Create one with init(); a SIMD and a scalar runtime can live side by side.
 *
 * @example
 * ```js
 * const rt = await init();
 * const x = rt.tensor([2, 3], [1, 2, 3, 4, 5, 6]);
 * const bn = rt.batchNorm1d(3);
 * const y = bn.forward(x);
 * for (const t of [x, y]) t.dispose();
 * bn.dispose();
 * rt.memoryUsage(); // { liveTensors: 0, bytesAllocated: 0, bytesReserved: … }
 * ```
 */
export class Runtime {
  // Private, on a frozen instance: the kernels and the memory they index are the runtime's own.
  readonly #kernels: Kernels;
  readonly #simd: boolean;
  readonly #debug: boolean;
  readonly #threads: Threads | null;
  #liveTensors = 0;
  #bytesAllocated = 0;
  #scratchPtr = 0;
  #scratchBytes = 0;
  readonly #leaks: FinalizationRegistry<string> | null;

  // Raw pointers in and out: module functions (heap.ts), not methods, so plain JS holding a
  // runtime cannot free or hand out memory the kernels trust.
  static {
    construct = (kernels, debug, threads) => new Runtime(INTERNAL, kernels, debug, threads);
    installHeapAccess({
      allocate: (rt, bytes, argument) => rt.#allocate(bytes, argument),
      free: (rt, ptr, bytes) => rt.#free(ptr, bytes),
      scratch: (rt, bytes, argument) => rt.#scratch(bytes, argument),
    });
  }

  /** Runtimes come from init(); this constructor refuses every other caller. */
  private constructor(token: unknown, kernels: Kernels, debug: boolean, threads: Threads | null) {
    if (token !== INTERNAL) throw new TypeError('Runtime: use init() to make a runtime; the constructor is internal');
    this.#kernels = kernels;
    this.#threads = threads;
    this.#simd = Boolean(kernels.SIMD.value);
    this.#debug = debug;
    this.#leaks = debug
      ? new FinalizationRegistry((what) => console.warn(`batchnorm-wasm: ${what} was garbage-collected without dispose(); its memory stays allocated`))
      : null;
    Object.freeze(this);
  }

  /** true when the SIMD build runs, false for the scalar build. */
  get simd(): boolean {
    return this.#simd;
  }

  /** Threads a large op runs on: 1, or the calling thread and its pool's workers (init({ threads })). */
  get threads(): number {
    return this.#threads?.threads ?? 1;
  }

  /**
   * Ends the pool's worker threads, if any; the runtime keeps working on the calling thread
   * (rt.threads is then 1). Tensors and layers stay as they are: dispose those on their own.
   */
  dispose(): void {
    this.#threads?.dispose();
  }

  /** @internal */
  get kernels(): Kernels {
    return this.#kernels;
  }

  /** @internal */
  get memory(): WebAssembly.Memory {
    return this.#kernels.memory;
  }

  /** A float32 tensor in wasm memory, zero-filled unless `data` is given. */
  tensor(shape: readonly number[], data?: ArrayLike<number>): Tensor {
    const dims = checkShape('shape', shape);
    const size = sizeOf(dims);
    // Copied and checked before the allocation: values that cannot become f32 leave nothing
    // allocated, and a view of this runtime's memory (another tensor's .data) is read before
    // growing the memory could detach it.
    const values = data === undefined ? null : readNumbers('data', data, size, Float32Array, ` for shape ${formatShape(dims)}`);
    const t = this.newTensor(dims, size);
    if (values === null) t.data.fill(0);
    else t.data.set(values);
    return t;
  }

  /** PyTorch's BatchNorm1d(numFeatures): inputs `[N, C]` or `[N, C, L]` (`[N, L, C]` with channelsLast). */
  batchNorm1d(numFeatures: number, options?: BatchNormOptions): BatchNorm {
    return makeBatchNorm(this, 1, numFeatures, options);
  }

  /** PyTorch's BatchNorm2d(numFeatures): inputs `[N, C, H, W]` (`[N, H, W, C]` with channelsLast). */
  batchNorm2d(numFeatures: number, options?: BatchNormOptions): BatchNorm {
    return makeBatchNorm(this, 2, numFeatures, options);
  }

  /** PyTorch's BatchNorm3d(numFeatures): inputs `[N, C, D, H, W]` (`[N, D, H, W, C]` with channelsLast). */
  batchNorm3d(numFeatures: number, options?: BatchNormOptions): BatchNorm {
    return makeBatchNorm(this, 3, numFeatures, options);
  }

  /** Live tensors, the bytes they and the layers' workspaces hold, and the size of the wasm memory. */
  memoryUsage(): MemoryUsage {
    return { liveTensors: this.#liveTensors, bytesAllocated: this.#bytesAllocated, bytesReserved: this.memory.buffer.byteLength };
  }

  /** Stateless batch norm, torch.nn.functional.batch_norm's counterpart. */
  batchNorm(x: Tensor, options?: functional.BatchNormFunctionalOptions): Tensor {
    return functional.batchNorm(this, x, options);
  }

  /** Per-channel count, mean and biased variance of x: the local half of sync batch norm. */
  batchNormStats(x: Tensor, options?: functional.LayoutOptions): functional.ChannelStats {
    return functional.batchNormStats(this, x, options);
  }

  /** Normalizes with given per-channel mean and invstd: the elementwise half of training mode. */
  batchNormElemt(x: Tensor, stats: functional.ElemtStats, options?: functional.ElemtOptions): Tensor {
    return functional.batchNormElemt(this, x, stats, options);
  }

  /** Σdy and Σdy·(x − mean) per channel: the local half of a sync batch norm backward. */
  batchNormBackwardReduce(dy: Tensor, x: Tensor, mean: ArrayLike<number>, options?: functional.LayoutOptions): functional.BackwardSums {
    return functional.batchNormBackwardReduce(this, dy, x, mean, options);
  }

  /** dx from the (all-reduced) sums and the global count. */
  batchNormBackwardElemt(dy: Tensor, x: Tensor, stats: functional.BackwardElemtStats, options?: functional.ElemtOptions): Tensor {
    return functional.batchNormBackwardElemt(this, dy, x, stats, options);
  }

  /** @internal allocates a tensor without initializing it; `argument` is blamed if it is too big */
  newTensor(shape: readonly number[], size: number, argument = 'shape'): Tensor {
    // Callable from plain JS too: a size below the shape's would send kernels past the block.
    const dims = checkShape('shape', shape);
    if (size !== sizeOf(dims)) throw new RangeError(`size: expected ${sizeOf(dims)} for shape ${formatShape(dims)}, got ${size}`);
    const t = makeTensor(this, dims, size, this.#allocate(size * 4, argument));
    this.#liveTensors++;
    this.#leaks?.register(t, `Tensor ${formatShape(shape)}`, t);
    return t;
  }

  /** @internal frees a tensor's memory (Tensor.dispose calls it); a freed tensor is left alone */
  release(t: Tensor): void {
    if (!isTensor(t) || t.runtime !== this || t.ptr === 0) return;
    this.#free(t.ptr, t.size * 4);
    markFreed(t);
    this.#liveTensors--;
    this.#leaks?.unregister(t);
  }

  /** @internal a RangeError naming `argument` when `bytes` can never be one allocation */
  checkAllocation(bytes: number, argument: string): void {
    if (bytes > MAX_ALLOCATION_BYTES) {
      throw new RangeError(
        `${argument}: needs ${bytes} bytes in one allocation, more than the ${MAX_ALLOCATION_BYTES} wasm32's heap serves in one block (1 GiB)`,
      );
    }
  }

  /** 16-byte aligned bytes in wasm memory; a RangeError naming `argument` when they don't fit. */
  #allocate(bytes: number, argument: string): number {
    this.checkAllocation(bytes, argument);
    let ptr: number;
    try {
      // usize comes back as a signed i32: past 2 GiB it would be negative without >>> 0,
      // and no Float32Array could view it.
      ptr = this.kernels.alloc(Math.max(bytes, 16)) >>> 0;
    } catch (cause) {
      // The heap traps when memory cannot grow; it is left consistent, so we carry on.
      if (cause instanceof WebAssembly.RuntimeError) {
        throw new RangeError(`out of memory: cannot allocate ${bytes} bytes (wasm memory is ${this.memory.buffer.byteLength} bytes, 4 GiB at most)`, { cause });
      }
      throw cause;
    }
    this.#bytesAllocated += bytes;
    return ptr;
  }

  /**
   * In debug mode the block is filled with NaN first, so a `.data` view kept across
   * dispose() reads NaN (until the memory is reused) instead of plausible stale values.
   */
  #free(ptr: number, bytes: number): void {
    if (this.#debug) new Float32Array(this.memory.buffer, ptr, bytes >>> 2).fill(NaN);
    this.kernels.free(ptr);
    this.#bytesAllocated -= bytes;
  }

  /** A reusable region for one call's per-channel scratch; valid until the next call. */
  #scratch(bytes: number, argument: string): number {
    if (bytes > this.#scratchBytes) {
      const ptr = this.#allocate(bytes, argument);
      if (this.#scratchPtr !== 0) this.#free(this.#scratchPtr, 0);
      // Scratch is the runtime's own, not the caller's: it does not count as allocated.
      this.#bytesAllocated -= bytes;
      this.#scratchPtr = ptr;
      this.#scratchBytes = bytes;
    }
    return this.#scratchPtr;
  }

  /**
   * @internal the output every op shares: the caller's `out`, checked, or a new tensor shaped
   * like `like`; never one of `inputs`, which the kernels would read after writing
   */
  outputFor(argument: string, out: Tensor | undefined, like: Tensor, inputs: readonly Tensor[]): Tensor {
    if (out === undefined) return this.newTensor(like.shape, like.size);
    this.checkTensor(argument, out);
    checkSameShape(argument, out.shape, like.shape);
    if (inputs.includes(out)) throw new RangeError(`${argument}: must not be an input of the same call`);
    return out;
  }

  /** @internal the argument check every entry point shares */
  checkTensor(argument: string, t: unknown): Tensor {
    if (!isTensor(t)) throw typeError(argument, 'a Tensor', t);
    if (t.runtime !== this) {
      throw stateError(`${argument}: expected a Tensor of this runtime, got ${t} from another runtime (copy it with rt.tensor(t.shape, t.data))`);
    }
    if (t.ptr === 0) throw disposedError(`${argument}: Tensor ${formatShape(t.shape)}`, ownerHint(t));
    return t;
  }

  static {
    Object.freeze(this.prototype);
    Object.freeze(this);
  }
}

/** @internal the one way to make a runtime: init() calls it; `threads` split its ops */
export function makeRuntime(kernels: Kernels, debug: boolean, threads: Threads | null = null): Runtime {
  return construct(kernels, debug, threads);
}
