// init(): choose the build, get the module, instantiate. The entry points differ only in
// how they find the bundled wasm and read a URL.
import { makeRuntime, type Runtime } from './runtime.js';
import { compileSource, instantiateKernels, simdSupported, WASM_SOURCES, type UrlReader, type WasmSource } from './wasm.js';
import { typeError } from './errors.js';
import type { PoolWorker } from './pool.js';
import { autoThreads, checkThreads, startThreaded, type Threads } from './threads.js';
import type { Kernels } from './wasm.js';

/** Options of init(); every field is optional. */
export interface InitOptions {
  /**
   * The kernel module, or where to get it: a compiled WebAssembly.Module (required in
   * Cloudflare workerd), bytes, a URL or path, a Response or a Promise of one.
   * Default: the package's own simd.wasm or scalar.wasm.
   */
  wasm?: WasmSource;
  /** 'auto' (default) runs SIMD where the engine validates it; false forces the scalar build. */
  simd?: 'auto' | boolean;
  /** Warn on the console when a tensor is garbage-collected without dispose(), or when 'auto' threads fall back to one. Default false. */
  debug?: boolean;
  /**
   * 'auto' (default): half the logical cores, at most 4, where shared memory and workers
   * exist (else one thread, never an error); or a positive integer (more than 1 rejects
   * where threads cannot start). rt.threads says what runs.
   */
  threads?: 'auto' | number;
}

/** @internal how an entry point starts worker threads. */
export interface ThreadsLoader {
  /** The package's simd-threads.wasm. */
  module: WasmSource;
  spawn(): PoolWorker;
  logicalCores(): number;
}

/** @internal */
export interface Loader extends UrlReader {
  /** The package's own module for the chosen build. */
  bundled(simd: boolean): WasmSource | Promise<WasmSource>;
  /** How this runtime starts workers, or why it cannot (what init() says when it runs one thread). */
  threads: ThreadsLoader | string;
}

/** @internal */
export async function initWith(loader: Loader, options: InitOptions = {}): Promise<Runtime> {
  if (options === null || typeof options !== 'object') throw typeError('opts', 'an object', options);
  // Only undefined means "default": null is refused as everywhere else.
  const simdOption = options.simd === undefined ? 'auto' : options.simd;
  if (simdOption !== 'auto' && typeof simdOption !== 'boolean') throw typeError('opts.simd', "'auto', true or false", simdOption);
  const debug = options.debug === undefined ? false : options.debug;
  if (typeof debug !== 'boolean') throw typeError('opts.debug', 'a boolean', debug);
  const threadsOption = checkThreads(options.threads === undefined ? 'auto' : options.threads);
  const wasm = options.wasm;
  if (wasm === null) throw typeError('opts.wasm', WASM_SOURCES, wasm);
  const supported = simdSupported();
  if (simdOption === true && !supported) {
    throw new TypeError('opts.simd: true, but this engine does not support WebAssembly SIMD (use \'auto\' or false)');
  }
  const simd = simdOption === 'auto' ? supported : simdOption;
  const threaded = await startThreads(loader, threadsOption, simd && wasm === undefined, debug);
  if (threaded !== null) return makeRuntime(threaded.kernels, debug, threaded.threads);
  const source = wasm ?? (await loader.bundled(simd));
  let module: WebAssembly.Module;
  try {
    module = await compileSource(source, loader, wasm === undefined ? 'init()' : 'opts.wasm');
  } catch (cause) {
    if (cause instanceof WebAssembly.CompileError && !supported) {
      throw new TypeError('opts.wasm: this engine has no WebAssembly SIMD; pass batchnorm-wasm/scalar.wasm', { cause });
    }
    // The caller passed nothing: say where the default is and what to do, not blame an option.
    if (wasm === undefined) {
      throw new Error(
        `${(cause as Error).message}. That is where init() looks for the package's ${simd ? 'simd.wasm' : 'scalar.wasm'} by default `
          + '(../build/ next to the package\'s code; a bundler that does not copy assets leaves it behind): copy build/simd.wasm and '
          + 'build/scalar.wasm from batchnorm-wasm there, or pass init({ wasm }) (simdSupported() says which of the two to pass)',
        { cause },
      );
    }
    throw cause;
  }
  const rt = makeRuntime(await instantiateKernels(module), debug);
  if (wasm !== undefined && simdOption !== 'auto' && rt.simd !== simdOption) {
    throw new TypeError(`opts.simd: ${simdOption}, but opts.wasm is the ${rt.simd ? 'SIMD' : 'scalar'} build`);
  }
  return rt;
}

// The threaded runtime's kernels and threads, or null for one thread. 'auto' never rejects:
// it says under `debug` why it runs on one thread, and starts the pool on the first op worth
// splitting; an explicit count above 1 starts the pool now and rejects if it cannot.
async function startThreads(loader: Loader, option: 'auto' | number, simdBundled: boolean, debug: boolean): Promise<{ kernels: Kernels; threads: Threads } | null> {
  if (option === 1) return null;
  const threads = loader.threads;
  const report = (reason: string): void => {
    if (debug) console.warn(`batchnorm-wasm: running on one thread: ${reason}`);
  };
  let reason: string;
  if (typeof threads === 'string') reason = threads;
  else {
    const wanted = option === 'auto' ? autoThreads(threads.logicalCores()) : option;
    if (wanted === 1) return null;
    if (!simdBundled) reason = 'threads run the package\'s own SIMD build (simd-threads.wasm): not with opts.wasm or simd: false';
    else if (typeof SharedArrayBuffer === 'undefined') reason = 'SharedArrayBuffer is not available';
    else {
      try {
        const started = await startThreaded(await compileSource(threads.module, loader, 'init()'), wanted, threads.spawn, report);
        if (option !== 'auto') await started.threads.start();
        return started;
      } catch (cause) {
        reason = `starting the worker threads failed: ${(cause as Error).message}`;
      }
    }
  }
  if (option !== 'auto') throw new Error(`opts.threads: ${option}, but ${reason}`);
  report(reason);
  return null;
}
