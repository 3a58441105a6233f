// A pool worker's work (src/pool.ts): instantiates the kernels on the shared memory, says it
// is ready, then runs its part of each phase the control block posts until told to stop.
// The worker scripts, pool-worker.node.ts and pool-worker.web.ts, only connect it to their
// runtime's messages.
import type { WorkerStart } from './pool.js';
import { ARGS, DONE, FAILED, GENERATION, PARTS, PHASE, PHASE_NAMES, STOP, controlViews, nextGeneration } from './pool.js';

/** How a worker answers the pool: 'ready', or why it could not instantiate the kernels. */
export type Post = (message: 'ready' | { error: string }) => void;

export async function serve(start: WorkerStart, post: Post): Promise<void> {
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
  const { slots, args } = controlViews(start.control);
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
