// The kernel module's exports as the facade sees them, and how a module is chosen,
// compiled and instantiated. The facade validates; these functions trust their pointers.
import { instantiate } from '@assemblyscript/loader';
import { typeError } from './errors.js';

type Ptr = number;
/** The arguments every phase ends with: this thread's scratch, its part, the number of parts. */
export type Part = [scratch: Ptr, part: number, parts: number];

/** @internal */
export interface Kernels {
  readonly memory: WebAssembly.Memory;
  readonly SIMD: WebAssembly.Global;
  /** Bytes of one thread's scratch (assembly/parts.ts). */
  readonly SCRATCH_BYTES: WebAssembly.Global;
  alloc(bytes: number): Ptr;
  free(ptr: Ptr): void;
  copy(dst: Ptr, src: Ptr, bytes: number): void;
  // Batch norm, one export per phase (assembly/parts.ts); each ends in (scratch, part, parts).
  f32_bn_stats_planar(x: Ptr, N: number, C: number, S: number, mean: Ptr, m2: Ptr, ...p: Part): void;
  f32_bn_stats_interleaved(x: Ptr, R: number, C: number, mean: Ptr, m2: Ptr, groups: Ptr, ...p: Part): void;
  f32_bn_stats_interleaved_merge(R: number, C: number, mean: Ptr, m2: Ptr, groups: Ptr, ...p: Part): void;
  f32_bn_forward_train_planar_reduce(x: Ptr, N: number, C: number, S: number, weight: Ptr, bias: Ptr, runMean: Ptr,
    runVar: Ptr, momentum: number, eps: number, mean: Ptr, m2: Ptr, invstd: Ptr, coef: Ptr, ...p: Part): void;
  f32_bn_forward_train_interleaved_fold(R: number, C: number, weight: Ptr, bias: Ptr, runMean: Ptr, runVar: Ptr,
    momentum: number, eps: number, mean: Ptr, m2: Ptr, groups: Ptr, invstd: Ptr, coef: Ptr, ...p: Part): void;
  f32_bn_fold_running(C: number, weight: Ptr, bias: Ptr, runMean: Ptr, runVar: Ptr, eps: number, coef: Ptr, ...p: Part): void;
  f32_bn_fold_batch(C: number, weight: Ptr, bias: Ptr, mean: Ptr, invstd: Ptr, coef: Ptr, ...p: Part): void;
  f32_bn_apply_planar(x: Ptr, y: Ptr, N: number, C: number, S: number, coef: Ptr, ...p: Part): void;
  f32_bn_apply_interleaved(x: Ptr, y: Ptr, R: number, C: number, coef: Ptr, ...p: Part): void;
  f32_bn_backward_train_planar_reduce(dy: Ptr, x: Ptr, N: number, C: number, S: number, weight: Ptr, mean: Ptr,
    invstd: Ptr, gradWeight: Ptr, gradBias: Ptr, sumDy: Ptr, sumDyXmu: Ptr, coef: Ptr, ...p: Part): void;
  f32_bn_backward_apply_planar(dy: Ptr, x: Ptr, dx: Ptr, N: number, C: number, S: number, coef: Ptr, ...p: Part): void;
  f32_bn_backward_apply_interleaved(dy: Ptr, x: Ptr, dx: Ptr, R: number, C: number, coef: Ptr, ...p: Part): void;
  f32_bn_backward_eval_planar_reduce(dy: Ptr, x: Ptr, N: number, C: number, S: number, weight: Ptr, runMean: Ptr,
    runVar: Ptr, eps: number, gradWeight: Ptr, gradBias: Ptr, mean: Ptr, invstd: Ptr, sumDy: Ptr, sumDyXmu: Ptr,
    coef: Ptr, ...p: Part): void;
  f32_bn_backward_reduce_planar(dy: Ptr, x: Ptr, N: number, C: number, S: number, mean: Ptr, sumDy: Ptr,
    sumDyXmu: Ptr, ...p: Part): void;
  f32_bn_backward_shifts(C: number, mean: Ptr, shifts: Ptr, ...p: Part): void;
  f32_bn_backward_reduce_interleaved(dy: Ptr, x: Ptr, R: number, C: number, shifts: Ptr, sumDy: Ptr, sumDyXmu: Ptr,
    groups: Ptr, ...p: Part): void;
  f32_bn_backward_merge_interleaved(R: number, C: number, mean: Ptr, sumDy: Ptr, sumDyXmu: Ptr, groups: Ptr, ...p: Part): void;
  f32_bn_backward_fold(C: number, weight: Ptr, mean: Ptr, invstd: Ptr, sumDy: Ptr, sumDyXmu: Ptr, count: number,
    gradWeight: Ptr, gradBias: Ptr, coef: Ptr, ...p: Part): void;
  f32_bn_backward_eval_fold(C: number, weight: Ptr, runMean: Ptr, runVar: Ptr, eps: number, mean: Ptr, invstd: Ptr,
    coef: Ptr, ...p: Part): void;
  f32_bn_backward_eval_grads(C: number, invstd: Ptr, sumDy: Ptr, sumDyXmu: Ptr, gradWeight: Ptr, gradBias: Ptr, ...p: Part): void;
  // Linear layer (assembly/matmul.ts): x[M,K], W[N,K], y/dy[M,N]; bias 0 = none.
  f32_matmul_nt(x: Ptr, w: Ptr, b: Ptr, y: Ptr, M: number, K: number, N: number): void;
  f32_matmul_nn(dy: Ptr, w: Ptr, dx: Ptr, M: number, N: number, K: number): void;
  f32_matmul_tn_acc(dy: Ptr, x: Ptr, dw: Ptr, M: number, N: number, K: number): void;
  f32_sum_rows_acc(dy: Ptr, db: Ptr, M: number, N: number): void;
  // nn subpath (assembly/nn.ts).
  f32_sigmoid(x: Ptr, y: Ptr, n: number): void;
  f32_sigmoid_backward(dy: Ptr, y: Ptr, dx: Ptr, n: number): void;
  f32_relu(x: Ptr, y: Ptr, n: number): void;
  f32_relu_backward(dy: Ptr, x: Ptr, dx: Ptr, n: number): void;
  f32_scale_shift_interleaved(x: Ptr, y: Ptr, R: number, C: number, scale: Ptr, shift: Ptr): void;
  f32_softmax_xent(z: Ptr, labels: Ptr, dz: Ptr, R: number, C: number): number;
  f32_argmax_correct(z: Ptr, labels: Ptr, R: number, C: number): number;
  f32_sgd_momentum(p: Ptr, g: Ptr, buf: Ptr, n: number, lr: number, momentum: number, weightDecay: number, first: boolean): void;
  f32_axpy(x: Ptr, y: Ptr, alpha: number, out: Ptr, n: number): void;
  f32_dot(a: Ptr, b: Ptr, n: number): number;
  f32_sqdist(a: Ptr, b: Ptr, n: number): number;
  f32_dropout(x: Ptr, y: Ptr, mask: Ptr, n: number, p: number, seed: number): void;
  f32_mul(a: Ptr, b: Ptr, out: Ptr, n: number): void;
}

// The public types name WebAssembly.Module and Response, which lib "dom" declares and a Node
// project without it may not: declared here as (merging) interfaces, so the shipped .d.ts
// compiles under lib ["es2022"] with or without "dom". BufferSource is spelled out for the
// same reason.
declare global {
  namespace WebAssembly {
    interface Module {}
  }
  interface Response {}
}

/** @internal what `init({ wasm })` accepts, as error messages name it */
export const WASM_SOURCES = 'a WebAssembly.Module, BufferSource, URL, string, Response or Promise<Response>';

/** Anything `init({ wasm })` accepts. */
export type WasmSource =
  | WebAssembly.Module
  | ArrayBuffer
  | ArrayBufferView
  | URL
  | string
  | Response
  | PromiseLike<Response>;

// The smallest module with a v128 instruction: (func (result v128) v128.const 0).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

/**
 * Whether this engine validates WebAssembly SIMD: init() picks the SIMD build when it does. A caller
 * who passes `init({ wasm })` can use it to choose between simd.wasm and scalar.wasm.
 *
 * @example
 * ```js
 * const rt = await init({ wasm: simdSupported() ? simdModule : scalarModule });
 * ```
 */
export function simdSupported(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}

function isResponse(value: unknown): value is Response {
  return typeof Response !== 'undefined' && value instanceof Response;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** @internal how an entry point reads what `opts.wasm` names: strings become URLs, URLs become bytes */
export interface UrlReader {
  resolveUrl(spec: string): URL;
  fetchUrl(url: URL): Promise<Response | ArrayBuffer | ArrayBufferView>;
}

/**
 * @internal turns any accepted source into a compiled module. A fetch that fails is an
 * Error, not a TypeError: nothing is wrong with the kind of value; `origin` ("opts.wasm", or
 * "init()" for the default location) starts its message.
 */
export async function compileSource(source: WasmSource, reader: UrlReader, origin: string): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  let resolved: unknown = source;
  if (typeof resolved === 'string') resolved = reader.resolveUrl(resolved);
  let url: URL | null = null;
  if (resolved instanceof URL) {
    url = resolved;
    try {
      resolved = await reader.fetchUrl(url);
    } catch (cause) {
      throw new Error(`${origin}: loading ${url} failed (${(cause as Error).message})`, { cause });
    }
  }
  if (isThenable(resolved)) resolved = await resolved;
  if (isResponse(resolved)) {
    if (!resolved.ok) throw new Error(`${origin}: fetching ${resolved.url || url || 'a Response'} failed with HTTP ${resolved.status}`);
    resolved = await resolved.arrayBuffer();
  }
  if (resolved instanceof ArrayBuffer || ArrayBuffer.isView(resolved)) {
    return WebAssembly.compile(resolved as BufferSource);
  }
  throw typeError('opts.wasm', WASM_SOURCES, source);
}

/** @internal */
export async function instantiateKernels(module: WebAssembly.Module): Promise<Kernels> {
  const { exports } = await instantiate<Record<string, unknown>>(module, {});
  if (typeof exports.f32_bn_forward_train_planar_reduce !== 'function' || !(exports.memory instanceof WebAssembly.Memory)) {
    throw typeError('opts.wasm', 'the batchnorm-wasm module (simd.wasm or scalar.wasm)', module);
  }
  // Frozen: the runtime's allocator and kernels are what every pointer check relies on.
  return Object.freeze(exports) as unknown as Kernels;
}
