// Entry for Cloudflare workerd, where compiling wasm from bytes at run time is refused:
// the worker imports the module at build time and passes it in.
import { initWith, type InitOptions } from './init.js';
import type { Runtime } from './runtime.js';

export * from './index.js';

export function init(options?: InitOptions): Promise<Runtime> {
  if (options?.wasm === undefined) {
    return Promise.reject(new TypeError(
      "opts.wasm: required in Cloudflare workerd; write `import wasm from 'batchnorm-wasm/simd.wasm'` and call `init({ wasm })`",
    ));
  }
  return initWith({
    bundled: () => { throw new Error('unreachable: opts.wasm is given'); },
    fetchUrl: (url) => fetch(url),
  }, options);
}
