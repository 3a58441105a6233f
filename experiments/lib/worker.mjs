// A worker thread of the study: loads the kernels once, then runs the tasks the pool
// sends ({ id, name, index }) one at a time on the digits it was started with (shared
// memory, not copied), reporting training steps as they pass and the task's result.
import { parentPort, workerData } from 'node:worker_threads';
import { init } from '../../dist/index.node.js';
import { runTask } from './study.mjs';

// Progress goes to the main thread in chunks of this many steps: a message per step
// would cost more than the step.
const REPORT_EVERY = 250;

const rt = await init();
const { data, seed, steps } = workerData;
parentPort.on('message', ({ id, name, index }) => {
  let pending = 0;
  const tick = (n) => {
    pending += n;
    if (pending >= REPORT_EVERY) {
      parentPort.postMessage({ progress: pending });
      pending = 0;
    }
  };
  try {
    const result = runTask(rt, data, name, seed, index, steps, tick);
    parentPort.postMessage({ progress: pending, id, result });
  } catch (error) {
    parentPort.postMessage({ progress: pending, id, error: error.stack ?? String(error) });
  }
});
parentPort.postMessage({ ready: true });
