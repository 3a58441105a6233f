// Entry for Node, Deno and Bun: file: URLs are read from disk (Node's fetch refuses them).
import { readFile } from 'node:fs/promises';
import { initWith, type InitOptions } from './init.js';
import type { Runtime } from './runtime.js';

export * from './index.js';

async function fetchUrl(url: URL): Promise<Response | BufferSource> {
  return url.protocol === 'file:' ? readFile(url) : fetch(url);
}

export function init(options?: InitOptions): Promise<Runtime> {
  return initWith({
    bundled: (simd) => new URL(simd ? '../build/simd.wasm' : '../build/scalar.wasm', import.meta.url),
    fetchUrl,
  }, options);
}
