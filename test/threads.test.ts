// The simd-threads build with a pool of workers (Node worker_threads): every op at 1, 2, 3
// and 4 threads gives the same bits as the single-thread SIMD build, both layouts, over the
// cases around every threshold (the pool runs each phase on every thread at once; more
// threads than cores is fine here). Runs the built package (dist/): the workers load
// dist/pool-worker.node.js.
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Kernels } from '../src/wasm.js';
import type { Pool } from '../src/pool.js';
import { Threads } from '../src/threads.js';
import { firstDifference, kernelsOf, runEveryOp, sequentialParts, thresholdCases, type Case, type PartsRunner, type Run } from './phases.js';

type NodeThreads = typeof import('../dist/threads.node.js');
type Api = typeof import('../dist/index.node.js');
const threadsModule = '../dist/threads.node.js';
const apiModule = '../dist/index.node.js';

const THREADS = [1, 2, 3, 4];

describe('simd-threads build, threads split every op', () => {
  let single: Kernels;
  let cases: Case[] = [];
  const reference = new Map<Case, Run>();
  let threads: NodeThreads;
  beforeAll(async () => {
    single = await kernelsOf('simd');
    cases = thresholdCases(single);
    for (const c of cases) reference.set(c, runEveryOp(single, c, sequentialParts(single, 1)));
    threads = (await import(threadsModule)) as NodeThreads;
  });

  it.each(THREADS)('%i threads: same bits as one thread of the SIMD build', async (n) => {
    const { kernels, pool } = await threads.startNodeThreads(n);
    try {
      const k = kernels as unknown as Kernels;
      // The recorded phases are plain data; dist's types of them differ from src's only by name.
      const run: PartsRunner = (phases) => pool.run(phases as never);
      for (const c of cases) {
        const got = runEveryOp(k, c, run), want = reference.get(c)!;
        expect(got.paths, c.name).toEqual(want.paths);
        got.outputs.forEach((out, i) => {
          const at = firstDifference(want.outputs[i]!.bytes, out.bytes);
          expect(at, `${c.name} [${c.shape.join(',')}], ${n} threads: ${out.op} output ${i} differs at byte ${at}`).toBe(-1);
        });
      }
    } finally {
      pool.dispose();
    }
  });

  it('init({ threads }) splits the facade\'s ops above the size threshold, with the same bits', async () => {
    const api = (await import(apiModule)) as Api;
    const one = await api.init({ threads: 1 });
    const rt = await api.init({ threads: 3 });
    expect([one.threads, rt.threads]).toEqual([1, 3]);
    const shapes: [number[], boolean][] = [[[4, 16, 32, 32], false], [[4, 32, 32, 16], true], [[2048, 40], false], [[60, 100], false]];
    for (const [shape, channelsLast] of shapes) {
      const C = channelsLast ? shape.at(-1)! : shape[1]!;
      const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.7) * 4 + 3);
      const results = [one, rt].map((r) => {
        const bn = shape.length === 2 ? r.batchNorm1d(C) : r.batchNorm2d(C, { channelsLast });
        const x = r.tensor(shape, data);
        const y = bn.forward(x), dx = bn.backward(y);
        bn.eval();
        const yEval = bn.forward(x), dxEval = bn.backward(y);
        return [y, dx, yEval, dxEval, bn.weightGrad!, bn.biasGrad!, bn.runningMean!, bn.runningVar!].map((t) => t.toArray());
      });
      results[0]!.forEach((a, i) => {
        expect(firstDifference(new Uint8Array(a.buffer), new Uint8Array(results[1]![i]!.buffer)), `${shape} output ${i}`).toBe(-1);
      });
    }
    rt.dispose();
    expect(rt.threads).toBe(1);
  });

  it('dispose ends the workers, and ops then run on the calling thread', async () => {
    const { pool } = await threads.startNodeThreads(2);
    pool.dispose();
    await pool.ended;
    const api = (await import(apiModule)) as Api;
    const rt = await api.init({ threads: 2 });
    rt.dispose();
    expect(rt.threads).toBe(1);
    const x = rt.tensor([2048, 40], Float32Array.from({ length: 2048 * 40 }, (_, i) => i % 7));
    expect(rt.batchNorm1d(40).forward(x).toArray()[0]).toBeCloseTo(-1.5, 1);
  });

  it('live workers do not keep the process alive', () => {
    const script = `import(${JSON.stringify(new URL(apiModule, import.meta.url).href)})
      .then((api) => api.init({ threads: 4 })).then((rt) => console.log(rt.threads));`;
    const out = execFileSync(process.execPath, ['-e', script], { timeout: 20000 }).toString();
    expect(out.trim()).toBe('4');
  });
});


describe('Threads: the pool starts on the first op worth splitting', () => {
  const fakePool = { run: () => undefined, dispose: () => undefined } as unknown as Pool;

  it('starts once, lets ops split when ready, and keeps small ops on the calling thread', async () => {
    let starts = 0;
    const t = new Threads(() => { starts++; return Promise.resolve(fakePool); }, 3, () => undefined, 100);
    expect(t.worthSplitting(99)).toBe(false);
    expect(starts).toBe(0);
    expect(t.worthSplitting(100)).toBe(false);
    expect(t.worthSplitting(100)).toBe(false);
    await t.start();
    expect(starts).toBe(1);
    expect([t.worthSplitting(100), t.worthSplitting(99), t.threads]).toEqual([true, false, 3]);
    t.dispose();
    expect([t.worthSplitting(100), t.threads]).toEqual([false, 1]);
  });

  it('falls back to one thread and says why when the pool cannot start', async () => {
    const reasons: string[] = [];
    const t = new Threads(() => Promise.reject(new Error('no workers here')), 4, (r) => reasons.push(r), 1);
    expect(t.worthSplitting(10)).toBe(false);
    await expect(t.start()).rejects.toThrow('no workers here');
    expect([t.threads, t.worthSplitting(10), reasons]).toEqual([1, false, ['starting the worker threads failed: no workers here']]);
  });
});

describe('a pool worker waits for a new generation, not for a wake-up', () => {
  // The pool bumps the generation and then notifies; a worker that has already run that phase
  // and waits again can be woken by the late notify. This notify comes with no new generation:
  // the worker must keep waiting (taken as a phase, it would run the old one twice and count
  // twice towards DONE, so the pool would go on while another worker had not run its part).
  it('a notify without a new generation does not end the wait', async () => {
    const { Worker } = await import('node:worker_threads');
    const { GENERATION, nextGeneration } = await import('../src/pool.js');
    const slots = new Int32Array(new SharedArrayBuffer(32));
    Atomics.store(slots, GENERATION, 7);
    const notifier = new Worker(`
      const { workerData } = require('node:worker_threads');
      const slots = new Int32Array(workerData.buffer);
      const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      sleep(50);
      Atomics.notify(slots, workerData.at);
      sleep(150);
      Atomics.store(slots, workerData.at, 8);
      Atomics.notify(slots, workerData.at);
    `, { eval: true, workerData: { buffer: slots.buffer, at: GENERATION } });
    try {
      const started = performance.now();
      expect(nextGeneration(slots, 7)).toBe(8);
      expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    } finally {
      await notifier.terminate();
    }
  });
});
