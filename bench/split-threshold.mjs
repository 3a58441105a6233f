// The split threshold measured: each op on the kernels directly (the calls the layer makes),
// at sizes around MIN_SPLIT_VALUES (src/threads.ts), once on the calling thread alone and once
// split across two threads of a pool on the simd-threads build, timed interleaved. Below
// MIN_SPLIT_VALUES the package runs an op on the calling thread alone; these rows say
// whether splitting would pay there, and from which size it does.
import { MIN_SPLIT_VALUES, attachSplitter, kernelOps, layoutOf, sizeOf, startNodeThreads, workspaceBytes } from './internals.mjs';

const SPLIT_THREADS = 2;
const SPLIT_OPS = ['forward-train', 'forward-eval', 'backward'];

// A planar and an interleaved shape of each size: ResNet-like [N, 16, 16, 16] and
// BatchNorm1d [R, 256] (its reductions split by row groups, as channels-last ones do).
const SHAPES = [
  { layout: 'planar', shapeOf: (values) => [Math.max(1, Math.round(values / 4096)), 16, 16, 16] },
  { layout: 'interleaved', shapeOf: (values) => [Math.max(1, Math.round(values / 256)), 256] },
];

/** Powers of two from MIN_SPLIT_VALUES / 8 up to MIN_SPLIT_VALUES · 16. */
function splitSizes() {
  const sizes = [];
  for (let v = MIN_SPLIT_VALUES / 8; v <= MIN_SPLIT_VALUES * 16; v *= 2) sizes.push(v);
  return sizes;
}

/**
 * latest.json's `split`: the thread count, MIN_SPLIT_VALUES, and rows { layout, shape,
 * values, op, one, split } per shape, size and op, where `one` and `split` are the best of
 * `rounds` measurements ({ ms, rounds }). `measure(fn)` times a call; `fill(size, seed)`
 * makes input data.
 */
export async function measureSplitThreshold({ measure, rounds, momentum, eps, fill }) {
  const cases = SHAPES.flatMap(({ layout, shapeOf }) => splitSizes().map((values) => {
    const shape = shapeOf(values);
    return { layout, shape, L: { ...layoutOf(shape, false), size: sizeOf(shape) } };
  }));
  const largest = Math.max(...cases.map((c) => c.L.size)), widest = Math.max(...cases.map((c) => c.L.C));
  const { kernels: k, pool } = await startNodeThreads(SPLIT_THREADS);
  const splitter = { worthSplitting: () => true, run: (phases) => pool.run(phases) };
  const allocated = [];
  const alloc = (bytes) => {
    const p = k.alloc(bytes) >>> 0;
    allocated.push(p);
    return p;
  };
  try {
    const b = {
      x: alloc(4 * largest), y: alloc(4 * largest), dy: alloc(4 * largest), dx: alloc(4 * largest),
      weight: alloc(4 * widest), bias: alloc(4 * widest), runningMean: alloc(4 * widest), runningVar: alloc(4 * widest),
      gradWeight: alloc(4 * widest), gradBias: alloc(4 * widest), ws: alloc(workspaceBytes(widest)),
    };
    const f32 = (p, n) => new Float32Array(k.memory.buffer, p, n);
    f32(b.x, largest).set(fill(largest, 1));
    f32(b.dy, largest).set(fill(largest, 2));
    f32(b.weight, widest).set(fill(widest, 3));
    f32(b.bias, widest).set(fill(widest, 4));
    f32(b.runningMean, widest).fill(0);
    f32(b.runningVar, widest).fill(1);
    const timed = new Map();
    const keep = (key, m) => (timed.get(key) ?? timed.set(key, []).get(key)).push(m);
    for (let round = 0; round < rounds; round++) {
      for (const c of cases) {
        const run = kernelOps(k, c.L, b, momentum, eps);
        for (const op of SPLIT_OPS) {
          // The backward reads the forward's statistics of this shape.
          if (op === 'backward') run['forward-train']();
          attachSplitter(k, null);
          keep(`${c.layout} ${c.L.size} ${op} one`, await measure(run[op]));
          attachSplitter(k, splitter);
          keep(`${c.layout} ${c.L.size} ${op} split`, await measure(run[op]));
        }
      }
    }
    attachSplitter(k, null);
    const best = (key) => {
      const all = timed.get(key);
      return { ms: Math.min(...all.map((m) => m.ms)), rounds: all.map((m) => m.ms) };
    };
    const rows = cases.flatMap((c) => SPLIT_OPS.map((op) => ({
      layout: c.layout, shape: c.shape, values: c.L.size, op,
      one: best(`${c.layout} ${c.L.size} ${op} one`), split: best(`${c.layout} ${c.L.size} ${op} split`),
    })));
    return { threads: SPLIT_THREADS, minSplitValues: MIN_SPLIT_VALUES, rows };
  } finally {
    for (const p of allocated) k.free(p);
    pool.dispose();
  }
}
