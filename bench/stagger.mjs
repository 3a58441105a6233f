// What assembly/heap.ts's stagger is for, measured: each op on one thread with x, y, dy and
// dx placed as the heap places tensors allocated one after the other (staggered round a
// 4 KiB page), against the same tensors 16 bytes past each other's end (where consecutive
// blocks of a size that is a multiple of 4 KiB sat before the stagger), alternating batch by
// batch in one process. The speed-up is the median over rounds of each round's ratio, with
// the lowest and highest: the machine's speed moves within seconds. Prints a Markdown table
// headed with the date and the machine.
//   npm run build && node bench/stagger.mjs
import { init } from '../dist/index.node.js';
import { generatedHeader, markdownTable } from '../scripts/generated.mjs';
import { msPerCall } from './batched.mjs';
import { kernelOps, layoutOf, sizeOf, workspaceBytes } from './internals.mjs';

// Rows of 1,024 and 2,048 channels are a multiple of 4 KiB long; rows of 1,000 are not
// (the tensor is, so both placements are 16 bytes apart there too).
const SHAPES = [[256, 1024], [128, 2048], [256, 1000]];
const ROUNDS = 31;
// Calls are batched to at least this long, so the timer's own cost does not count.
const BATCH_MS = 2;
// The heap's gap between consecutive blocks.
const BLOCK_GAP = 16;

const rt = await init({ threads: 1 });
const k = rt.kernels;

function fill(p, n, seed) {
  const f = new Float32Array(k.memory.buffer, p, n);
  for (let i = 0; i < n; i++) f[i] = Math.sin(i * 0.7 + seed) * 2 + 0.5;
}

/** The ops on x, y, dy, dx at `at` (four pointers), with their own parameters and workspace. */
function opsAt(L, at) {
  const n = sizeOf(L.shape), b = { x: at[0], y: at[1], dy: at[2], dx: at[3] };
  for (const key of ['weight', 'bias', 'runningMean', 'runningVar', 'gradWeight', 'gradBias']) b[key] = k.alloc(L.C * 4) >>> 0;
  b.ws = k.alloc(workspaceBytes(L.C)) >>> 0;
  new Float32Array(k.memory.buffer, b.weight, L.C).fill(1);
  new Float32Array(k.memory.buffer, b.runningVar, L.C).fill(1);
  fill(b.x, n, 1);
  fill(b.dy, n, 2);
  return kernelOps(k, L, b, 0.1, 1e-5);
}

const time = (fn) => msPerCall(fn, BATCH_MS);

const rows = [];
for (const shape of SHAPES) {
  const L = { ...layoutOf(shape, false), shape };
  const bytes = sizeOf(shape) * 4;
  const staggered = opsAt(L, [0, 1, 2, 3].map(() => k.alloc(bytes) >>> 0));
  const region = k.alloc(4 * (bytes + BLOCK_GAP)) >>> 0;
  const adjacent = opsAt(L, [0, 1, 2, 3].map((i) => region + i * (bytes + BLOCK_GAP)));
  for (const op of Object.keys(staggered)) {
    const ratios = [], best = { adjacent: Infinity, staggered: Infinity };
    for (let round = 0; round < ROUNDS; round++) {
      const a = time(adjacent[op]), b = time(staggered[op]);
      ratios.push(a / b);
      best.adjacent = Math.min(best.adjacent, a);
      best.staggered = Math.min(best.staggered, b);
    }
    ratios.sort((p, q) => p - q);
    const ratio = (r) => `${r.toFixed(2)}×`;
    rows.push([`[${shape.join(',')}]`, op, `${(best.adjacent * 1000).toFixed(1)} µs`, `${(best.staggered * 1000).toFixed(1)} µs`,
      ratio(ratios[ROUNDS >> 1]), `${ratio(ratios[0])} – ${ratio(ratios[ROUNDS - 1])}`]);
  }
}
rt.dispose();

process.stdout.write(`${generatedHeader({ title: 'Tensors 16 bytes apart round a 4 KiB page against staggered, one thread', command: 'node bench/stagger.mjs' })}\n`);
process.stdout.write(`${markdownTable(['shape', 'op', '16 bytes apart (best)', 'staggered (best)', 'speed-up (median round)', 'lowest – highest round'], rows, 2)}\n`);
