// The pool's workers in browsers: module workers, created with the
// `new Worker(new URL(..., import.meta.url), { type: 'module' })` pattern that bundlers
// rewrite. Whether a page or worker may use them is decided here, once per init().
import type { ThreadsLoader } from './init.js';
import type { PoolWorker } from './pool.js';

interface BrowserScope {
  crossOriginIsolated?: boolean;
  document?: unknown;
  navigator?: { hardwareConcurrency?: number };
}

function spawnModuleWorker(): PoolWorker {
  const worker = new Worker(new URL('./pool-worker.web.js', import.meta.url), { type: 'module' });
  const ready = new Promise<void>((resolve, reject) => {
    worker.addEventListener('message', (e: MessageEvent<'ready' | { error: string }>) => (e.data === 'ready'
      ? resolve()
      : reject(new Error(`batchnorm-wasm: a pool worker failed to start: ${(e.data as { error: string }).error}`))), { once: true });
    // A script that fails to load or parse gives an ErrorEvent with no detail beyond its message.
    worker.addEventListener('error', (e: ErrorEvent) => reject(new Error(`batchnorm-wasm: a pool worker failed to load: ${e.message || 'no detail given'}`)), { once: true });
  });
  return { postMessage: (m) => worker.postMessage(m), terminate: () => worker.terminate(), ready };
}

/**
 * How this page or worker starts threads, or why it cannot. A page's main thread runs one
 * thread: an op waits for its workers with Atomics.wait, which a main thread may not call
 * (and a spin there would freeze the page for as long as the op runs).
 */
export function webThreads(module: URL): ThreadsLoader | string {
  const scope = globalThis as BrowserScope;
  if (scope.document !== undefined) {
    return 'a page\'s main thread may not wait for workers (Atomics.wait): run batch norm in a worker to use threads';
  }
  // false in a page or worker that is not isolated; absent in runtimes without the notion,
  // which the SharedArrayBuffer check in init() covers.
  if (scope.crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin '
      + 'and Cross-Origin-Embedder-Policy: require-corp), so it has no SharedArrayBuffer';
  }
  if (typeof Worker === 'undefined') return 'this runtime has no Worker constructor';
  return { module, spawn: spawnModuleWorker, logicalCores: () => scope.navigator?.hardwareConcurrency ?? 1 };
}
