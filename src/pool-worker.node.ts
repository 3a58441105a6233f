// The pool's worker script in Node (and Deno and Bun, which load the Node entry):
// worker_threads' parent port carries the start message and the answer.
import { parentPort } from 'node:worker_threads';
import { serve } from './pool-worker.js';
import type { WorkerStart } from './pool.js';

const port = parentPort!;
port.once('message', (start: WorkerStart) => void serve(start, (m) => port.postMessage(m)));
