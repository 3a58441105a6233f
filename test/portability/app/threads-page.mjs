// A page runs batch norm in a worker, where threads may wait for each other; its own main
// thread may not (init({ threads: 2 }) rejects there and says why).
import { init } from 'batchnorm-wasm';

const outcome = (promise) => promise.then((rt) => `${rt.threads} threads`, (error) => `${error.name}: ${error.message}`);
const worker = new Worker(new URL('./threads-worker.mjs', import.meta.url), { type: 'module' });
const fromWorker = new Promise((resolve) => { worker.onmessage = (e) => resolve(e.data); });
globalThis.result = { isolated: crossOriginIsolated, mainThread: await outcome(init({ threads: 2 })), worker: await fromWorker };
