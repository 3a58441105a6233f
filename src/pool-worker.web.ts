// The pool's worker script in browsers: a module worker whose first message starts it. No
// top-level await and no Node import, so that bundlers can emit it in any worker format.
import { serve } from './pool-worker.js';
import type { WorkerStart } from './pool.js';

const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<WorkerStart>) => void) | null; postMessage(m: unknown): void };
scope.onmessage = (e) => {
  scope.onmessage = null;
  void serve(e.data, (m) => scope.postMessage(m));
};
