// Entry for Node, Deno and Bun: file: URLs are read from disk (Node's fetch refuses them),
// and a string without a scheme is a file path.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initWith, type InitOptions } from './init.js';
import type { Runtime } from './runtime.js';

export * from './index.js';

// Two or more letters before the colon, so a Windows path such as C:\wasm stays a path.
const URL_SCHEME = /^[a-z][a-z\d+.-]+:/i;

function resolveUrl(spec: string): URL {
  return URL_SCHEME.test(spec) ? new URL(spec) : pathToFileURL(resolve(spec));
}

async function fetchUrl(url: URL): Promise<Response | BufferSource> {
  if (url.protocol !== 'file:') return fetch(url);
  try {
    return await readFile(url);
  } catch (cause) {
    throw new Error(`batchnorm-wasm: cannot read the wasm module ${fileURLToPath(url)} (${(cause as Error).message})`, { cause });
  }
}

export function init(options?: InitOptions): Promise<Runtime> {
  return initWith({
    bundled: (simd) => new URL(simd ? '../build/simd.wasm' : '../build/scalar.wasm', import.meta.url),
    resolveUrl,
    fetchUrl,
  }, options);
}
