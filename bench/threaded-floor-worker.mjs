// A worker of the threaded floor (bench/threaded-floor.mjs): instantiates floors-threads.wasm
// on the shared memory, says it is ready, then sweeps its share of each posted sweep.
import { parentPort, workerData } from 'node:worker_threads';
import { serveFloor } from './threaded-floor.mjs';

const { module, memory, control, part, parts } = workerData;
const { exports } = await WebAssembly.instantiate(module, { env: { memory } });
serveFloor(exports, control, part, parts, () => parentPort.postMessage('ready'));
