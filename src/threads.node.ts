// The pool's workers in Node: worker_threads, unref'd so that they never keep the process
// alive.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { PoolWorker } from './pool.js';
import type { ThreadsLoader } from './init.js';
import type { Pool } from './pool.js';
import type { Kernels } from './wasm.js';
import { startThreaded } from './threads.js';

export function spawnNodeWorker(): PoolWorker {
  const worker = new Worker(new URL('./pool-worker.node.js', import.meta.url));
  worker.unref();
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', (m: unknown) => (m === 'ready' ? resolve() : reject(new Error(`batchnorm-wasm: a pool worker failed to start: ${(m as { error: string }).error}`))));
    worker.once('error', reject);
  });
  return { postMessage: (m) => worker.postMessage(m), terminate: () => worker.terminate(), ready };
}

const MODULE = new URL('../build/simd-threads.wasm', import.meta.url);

/** What init() needs to start threads in Node. */
export const nodeThreads: ThreadsLoader = { module: MODULE, spawn: spawnNodeWorker, logicalCores: availableParallelism };

/** Kernels and a started pool on the package's simd-threads.wasm, for the tests: `threads` in all. */
export async function startNodeThreads(threads: number): Promise<{ kernels: Kernels; pool: Pool }> {
  const started = await startThreaded(await WebAssembly.compile(await readFile(MODULE)), threads, spawnNodeWorker);
  return { kernels: started.kernels, pool: await started.threads.start() };
}
