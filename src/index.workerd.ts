// Entry for Cloudflare workerd, where compiling wasm from bytes at run time is refused
// ("Wasm code generation disallowed by embedder"): the worker imports the module at build
// time and passes it in, so opts.wasm must be a WebAssembly.Module.
import { initWith, type InitOptions } from './init.js';
import type { Runtime } from './runtime.js';
import { describe } from './errors.js';

export * from './index.js';

const HOW = "write `import wasm from 'batchnorm-wasm/simd.wasm'` and call `init({ wasm })`";

export function init(options?: InitOptions): Promise<Runtime> {
  const wasm = options?.wasm;
  if (wasm === undefined) {
    return Promise.reject(new TypeError(`opts.wasm: required in Cloudflare workerd; ${HOW}`));
  }
  if (!(wasm instanceof WebAssembly.Module)) {
    return Promise.reject(new TypeError(
      `opts.wasm: expected a WebAssembly.Module in Cloudflare workerd (it cannot compile bytes at run time), got ${describe(wasm)}; ${HOW}`,
    ));
  }
  return initWith({
    bundled: () => wasm,
    resolveUrl: (spec) => new URL(spec),
    fetchUrl: (url) => fetch(url),
    threads: 'Cloudflare workerd has no worker threads (and no shared memory between isolates)',
  }, options);
}
