// In a worker of a cross-origin isolated page, init({ threads: 2 }) starts one more worker
// and each large op splits across both; elsewhere it rejects with the reason.
import { init } from 'batchnorm-wasm';
import { computeThreaded } from './threads.mjs';

async function run() {
  const auto = (await init()).threads;
  try {
    const rt = await init({ threads: 2 });
    const two = computeThreaded(rt);
    rt.dispose();
    return { auto, two };
  } catch (error) {
    return { auto, two: `${error.name}: ${error.message}` };
  }
}

run().then((result) => postMessage(result));
