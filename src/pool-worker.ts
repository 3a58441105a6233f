// A pool worker (src/pool.ts): instantiates the kernels on the shared memory, says it is
// ready, then runs its part of each phase the control block posts until told to stop.
import type { WorkerStart } from './pool.js';
import { ARGS, DONE, FAILED, GENERATION, MAX_ARGS, PARTS, PHASE, PHASE_NAMES, STOP, nextGeneration } from './pool.js';

type Post = (message: 'ready' | { error: string }) => void;

async function serve(start: WorkerStart, post: Post): Promise<void> {
  let exports: Record<string, unknown>;
  try {
    const instance = await WebAssembly.instantiate(start.module, {
      env: { memory: start.memory, abort: () => { throw new Error('batchnorm-wasm: kernel abort'); } },
    });
    exports = instance.exports as Record<string, unknown>;
  } catch (error) {
    post({ error: String(error) });
    return;
  }
  const slots = new Int32Array(start.control, 0, 8);
  const args = new Float64Array(start.control, 32, MAX_ARGS);
  // Read before saying ready: the first phase may be posted as soon as the pool hears it.
  let seen = Atomics.load(slots, GENERATION);
  post('ready');
  for (;;) {
    seen = nextGeneration(slots, seen);
    if (Atomics.load(slots, STOP)) return;
    const parts = Atomics.load(slots, PARTS);
    if (start.part >= parts) continue;
    const fn = exports[PHASE_NAMES[Atomics.load(slots, PHASE)]!] as (...a: number[]) => void;
    const n = Atomics.load(slots, ARGS);
    try {
      fn(...Array.from(args.subarray(0, n)), start.scratch, start.part, parts);
    } catch {
      Atomics.store(slots, FAILED, 1);
    }
    Atomics.add(slots, DONE, 1);
    Atomics.notify(slots, DONE);
  }
}

// Node's worker_threads, or a web worker (Deno, Bun, browsers).
const nodeThreads = typeof process !== 'undefined' && process.versions?.node !== undefined && typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'undefined'
  ? await import('node:worker_threads')
  : null;
if (nodeThreads?.parentPort) {
  const port = nodeThreads.parentPort;
  port.once('message', (start: WorkerStart) => void serve(start, (m) => port.postMessage(m)));
} else {
  const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<WorkerStart>) => void) | null; postMessage(m: unknown): void };
  scope.onmessage = (e) => {
    scope.onmessage = null;
    void serve(e.data, (m) => scope.postMessage(m));
  };
}
