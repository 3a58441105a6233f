// Entry for Node, Deno and Bun: file: URLs are read from disk (Node's fetch refuses them),
// and a string without a scheme is a file path.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { initWith, type InitOptions } from './init.js';
import type { Runtime } from './runtime.js';
import { nodeThreads } from './threads.node.js';

export * from './index.js';

// Two or more letters before the colon, so a Windows path such as C:\wasm stays a path.
const URL_SCHEME = /^[a-z][a-z\d+.-]+:/i;

function resolveUrl(spec: string): URL {
  return URL_SCHEME.test(spec) ? new URL(spec) : pathToFileURL(resolve(spec));
}

// A read that fails (ENOENT names the path) becomes compileSource's "loading ... failed".
function fetchUrl(url: URL): Promise<Response | Uint8Array> {
  return url.protocol === 'file:' ? readFile(url) : fetch(url);
}

export function init(options?: InitOptions): Promise<Runtime> {
  return initWith({
    bundled: (simd) => new URL(simd ? '../build/simd.wasm' : '../build/scalar.wasm', import.meta.url),
    resolveUrl,
    fetchUrl,
    threads: nodeThreads,
  }, options);
}
