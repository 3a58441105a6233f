// Runs the study's tasks on worker threads, one per core: each worker takes the next task
// as soon as it is free. Results come back in the order of `jobs`, whichever worker ran
// them and whenever they finished, so the output does not depend on the scheduling.
import { Worker } from 'node:worker_threads';

const WORKER = new URL('./worker.mjs', import.meta.url);

/**
 * `jobs`: [{ name, index }] in the order results are wanted; `threads` workers share them
 * (longest first is the caller's choice of order). `onProgress(steps)` hears training steps.
 */
export async function runPool({ jobs, threads, workerData, onProgress, order = jobs.map((_, i) => i) }) {
  const results = new Array(jobs.length);
  const queue = [...order];
  const workers = Array.from({ length: Math.max(1, Math.min(threads, jobs.length)) }, () => new Worker(WORKER, { workerData }));
  try {
    await Promise.all(workers.map((worker) => new Promise((resolve, reject) => {
      const next = () => {
        if (queue.length === 0) return resolve();
        const id = queue.shift();
        worker.postMessage({ id, ...jobs[id] });
      };
      worker.on('message', (message) => {
        if (message.progress) onProgress(message.progress);
        if (message.ready) return next();
        if (message.id === undefined) return;
        if (message.error) return reject(new Error(`${jobs[message.id].name}, seed ${jobs[message.id].index}: ${message.error}`));
        results[message.id] = message.result;
        next();
      });
      worker.on('error', reject);
      worker.on('exit', (code) => {
        if (code !== 0) reject(new Error(`a worker exited with code ${code}`));
      });
    })));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
