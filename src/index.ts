/**
 * Batch normalization as WebAssembly SIMD kernels with PyTorch's semantics: `init()` gives a Runtime that
 * makes tensors, BatchNorm layers and the functional ops.
 *
 * @packageDocumentation
 * @module batchnorm-wasm
 */
// Entry for browsers, bundlers and anything with fetch: the wasm sits beside the package
// and `new URL(..., import.meta.url)` is the pattern bundlers rewrite to an asset URL.
import { initWith, type InitOptions } from './init.js';
import type { Runtime } from './runtime.js';
import { typeError } from './errors.js';
import { webThreads } from './threads.web.js';

export { Runtime, type MemoryUsage } from './runtime.js';
export { Tensor } from './tensor.js';
export { BatchNorm, type BatchNormOptions, type StateDict, type StateDictLike, type BackwardOptions } from './batchnorm.js';
export {
  mergeChannelStats,
  type BatchNormFunctionalOptions, type ChannelStats, type ElemtStats, type ElemtOptions,
  type BackwardSums, type BackwardElemtStats, type LayoutOptions,
} from './functional.js';
export type { InitOptions } from './init.js';
export { simdSupported, type WasmSource } from './wasm.js';

// A relative string means what it means to fetch(): relative to the page or worker script.
function resolveUrl(spec: string): URL {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  try {
    return new URL(spec, base);
  } catch {
    throw typeError('opts.wasm', 'an absolute URL, or a URL relative to the page', spec);
  }
}

/**
 * Loads the kernels and returns a Runtime: the SIMD build where the engine validates it, else the scalar one.
 * The browser entry fetches the package's own wasm beside `dist/`; the Node entry reads it from disk; the
 * workerd entry needs `opts.wasm` (a compiled module). Rejects with a TypeError for bad options.
 *
 * @example
 * ```js
 * import { init } from 'batchnorm-wasm';
 * const rt = await init();            // rt.simd says which build runs
 * const scalar = await init({ simd: false });
 * ```
 */
export function init(options?: InitOptions): Promise<Runtime> {
  return initWith({
    bundled: (simd) => (simd ? new URL('../build/simd.wasm', import.meta.url) : new URL('../build/scalar.wasm', import.meta.url)),
    resolveUrl,
    fetchUrl: (url) => fetch(url),
    threads: webThreads(new URL('../build/simd-threads.wasm', import.meta.url)),
  }, options);
}
