// The arithmetic floor against the memory floor, on one thread: for the workloads named on
// the command line (ids of bench/workloads.json; all of them by default), each op's least
// arithmetic (bench/arithmetic.ts) over as many values as the workload has, timed
// interleaved with the same op's memory sweeps (bench/floors.ts) in one module. A ratio
// over 1 is how far above the memory floor any f32 kernel without fused multiply-add must
// stay there, whatever its blocking. Prints a Markdown table headed with the date and the
// machine. Needs `npm run bench:arithmetic` (which compiles build/arithmetic.wasm first).
import { readFileSync } from 'node:fs';
import { generatedHeader, markdownTable } from '../scripts/generated.mjs';
import { msPerCall } from './batched.mjs';

const ROUNDS = 7;
// Calls are batched to at least this long, so the timer's own cost does not count.
const BATCH_MS = 5;

const spec = JSON.parse(readFileSync(new URL('workloads.json', import.meta.url), 'utf8'));
const wanted = process.argv.slice(2);
const workloads = spec.workloads.filter((w) => wanted.length === 0 || wanted.includes(w.id));
const unknown = wanted.filter((id) => !spec.workloads.some((w) => w.id === id));
if (unknown.length > 0) throw new RangeError(`arithmetic-floor: no workload ${unknown.join(', ')} in bench/workloads.json`);

const bytes = readFileSync(new URL('../build/arithmetic.wasm', import.meta.url));
const { instance } = await WebAssembly.instantiate(bytes, { env: { abort() { throw new Error('abort'); } } });
const k = instance.exports;

const largest = Math.max(...workloads.map((w) => w.shape.reduce((a, b) => a * b, 1)));
const base = k.memory.buffer.byteLength;
k.memory.grow(Math.ceil((4 * 4 * largest + 64) / 65536));
const buffer = (i) => base + 16 * Math.ceil((4 * largest * i) / 16);
const [x, y, dy, dx] = [0, 1, 2, 3].map(buffer);
for (const p of [x, dy]) {
  const values = new Float32Array(k.memory.buffer, p, largest);
  for (let i = 0; i < largest; i++) values[i] = Math.sin(i * 0.7 + p) * 2 + 0.5;
}

/** The floor's and the arithmetic's calls of each op over n values. */
function opsOf(n) {
  return {
    'forward-train': { floor: () => { k.sum(x, n); k.copyLoop(y, x, n); }, arithmetic: () => { k.moments(x, n); k.scaleShift(y, x, n); } },
    'forward-eval': { floor: () => k.copyLoop(y, x, n), arithmetic: () => k.scaleShift(y, x, n) },
    backward: { floor: () => { k.sum2(x, dy, n); k.add(dx, x, dy, n); }, arithmetic: () => { k.dots(x, dy, n); k.gradient(dx, x, dy, n); } },
  };
}

/** Milliseconds per call, over a batch of calls. */
const time = (fn) => msPerCall(fn, BATCH_MS);

const rows = [];
for (const w of workloads) {
  const n = w.shape.reduce((a, b) => a * b, 1);
  for (const [op, pair] of Object.entries(opsOf(n))) {
    const best = { floor: Infinity, arithmetic: Infinity };
    for (let round = 0; round < ROUNDS; round++) {
      for (const which of ['floor', 'arithmetic']) best[which] = Math.min(best[which], time(pair[which]));
    }
    const mb = (4 * n) / 1e6;
    rows.push([w.label, op, `${mb.toFixed(1)} MB`, `${(best.floor * 1000).toFixed(1)} µs`, `${(best.arithmetic * 1000).toFixed(1)} µs`, `${(best.arithmetic / best.floor).toFixed(2)}×`]);
  }
}

process.stdout.write(`${generatedHeader({ title: 'Arithmetic floor against memory floor, one thread', command: ['node bench/arithmetic-floor.mjs', ...wanted].join(' ') })}\n`);
process.stdout.write(`${markdownTable(['workload', 'op', 'input', 'memory floor', 'arithmetic floor', 'arithmetic / memory'], rows, 3)}\n`);
