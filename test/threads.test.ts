// The simd-threads build with a pool of workers (Node worker_threads): every op at 1, 2, 3
// and 4 threads gives the same bits as the single-thread SIMD build, both layouts, over the
// cases around every threshold (the pool runs each phase on every thread at once; more
// threads than cores is fine here). Runs the built package (dist/): the workers load
// dist/pool-worker.js.
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Kernels } from '../src/wasm.js';
import { firstDifference, kernelsOf, runEveryOp, sequentialParts, thresholdCases, type Case, type Run } from './phases.js';

type Threads = typeof import('../dist/threads.node.js');
type Api = typeof import('../dist/index.node.js');
const threadsModule = '../dist/threads.node.js';
const apiModule = '../dist/index.node.js';

const THREADS = [1, 2, 3, 4];

describe('simd-threads build, threads split every op', () => {
  let single: Kernels;
  let cases: Case[] = [];
  const reference = new Map<Case, Run>();
  let threads: Threads;
  beforeAll(async () => {
    single = await kernelsOf('simd');
    cases = thresholdCases(single);
    for (const c of cases) reference.set(c, runEveryOp(single, c, sequentialParts(single, 1)));
    threads = (await import(threadsModule)) as Threads;
  });

  it.each(THREADS)('%i threads: same bits as one thread of the SIMD build', async (n) => {
    const { rt, pool } = await threads.startNodeThreads(n);
    try {
      const k = rt.kernels as unknown as Kernels;
      const run = pool === null ? sequentialParts(k, 1) : (phases: Parameters<typeof pool.run>[0]) => pool.run(phases);
      for (const c of cases) {
        const got = runEveryOp(k, c, run), want = reference.get(c)!;
        expect(got.paths, c.name).toEqual(want.paths);
        got.outputs.forEach((out, i) => {
          const at = firstDifference(want.outputs[i]!.bytes, out.bytes);
          expect(at, `${c.name} [${c.shape.join(',')}], ${n} threads: ${out.op} output ${i} differs at byte ${at}`).toBe(-1);
        });
      }
    } finally {
      pool?.dispose();
    }
  });

  it('splits ops from the facade above the size threshold, with the same bits', async () => {
    const api = (await import(apiModule)) as Api;
    const one = await api.init();
    const { rt, pool } = await threads.startNodeThreads(3, { minSplitValues: 1000 });
    const shapes: [number[], boolean][] = [[[4, 6, 9, 11], false], [[4, 9, 11, 6], true], [[300, 40], false]];
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
    pool!.dispose();
  });

  it('dispose ends the workers, and ops then run on the calling thread', async () => {
    const { rt, pool } = await threads.startNodeThreads(2, { minSplitValues: 1 });
    pool!.dispose();
    await pool!.ended;
    const bn = rt.batchNorm1d(3);
    expect(bn.forward(rt.tensor([4, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])).toArray()[0]).toBeCloseTo(-1.3416, 3);
  });

  it('live workers do not keep the process alive', () => {
    const script = `import(${JSON.stringify(new URL(threadsModule, import.meta.url).href)})
      .then((t) => t.startNodeThreads(4)).then(({ pool }) => console.log(pool.threads));`;
    const out = execFileSync(process.execPath, ['-e', script], { timeout: 20000 }).toString();
    expect(out.trim()).toBe('4');
  });
});

