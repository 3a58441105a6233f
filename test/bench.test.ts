// The bench's threaded floor (bench/threaded-floor.mjs) splits a sweep the way the kernels
// split an elementwise pass: each part's rows are assembly/parts.ts partRows', the kernels'
// own apply pass writes exactly the values that part of the floor sweeps, and its pool of
// workers sweeps every value of an odd-sized buffer exactly once at 1 to 4 threads.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import asc from 'assemblyscript/asc';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ops from '../src/ops.js';
import { layoutOf, type Layout } from '../src/shape.js';
import type { Kernels } from '../src/wasm.js';
import { callPart, globalOf, kernelsOf } from './phases.js';
import { repoRoot } from './portability/packed.js';
// @ts-expect-error: plain ESM scripts without type declarations
import { FloorPool, elementwiseRows, floorPhases, floorShare, partRows } from '../bench/threaded-floor.mjs';

type Split = { rows: number; values: number; unit: number };
type Limits = { rowUnit: number; shortRow: number };
const share = floorShare as (split: Split, part: number, parts: number) => [number, number];
const rowsOf = elementwiseRows as (L: Layout, limits: Limits) => Split;

const PARTS = [1, 2, 3, 4];
// Planar rows of S values, planar samples read whole (rows under SHORT_ROW), interleaved
// rows; odd sizes, fewer rows than parts, and a row count that is no multiple of the unit.
const SHAPES: { shape: number[]; channelsLast: boolean }[] = [
  { shape: [3, 5, 33], channelsLast: false },
  { shape: [7, 3, 5], channelsLast: false },
  { shape: [2, 3, 17], channelsLast: false },
  { shape: [13, 7], channelsLast: false },
  { shape: [3, 5, 7, 3], channelsLast: true },
  { shape: [1, 9], channelsLast: false },
];

function limitsOf(k: Kernels): Limits {
  return { rowUnit: globalOf(k, 'ROW_UNIT'), shortRow: globalOf(k, 'SHORT_ROW') };
}

// The SIMD kernels, compiled once for the file.
const simd = kernelsOf('simd');

describe('the threaded floor splits rows as assembly/parts.ts partRows does', () => {
  it('1 to 4 parts take consecutive shares that start on a unit and cover every row once (odd row counts)', () => {
    for (const rows of [1, 2, 3, 5, 7, 13, 101, 1001]) {
      for (const unit of [1, 4]) {
        for (const parts of PARTS) {
          let next = 0;
          for (let part = 0; part < parts; part++) {
            const [first, end] = (partRows as (r: number, u: number, p: number, ps: number) => [number, number])(rows, unit, part, parts);
            expect(first, `${rows} rows, unit ${unit}, part ${part} of ${parts}`).toBe(next);
            expect(end).toBeGreaterThanOrEqual(first);
            if (first < rows) expect(first % unit).toBe(0);
            next = end;
          }
          expect(next, `${rows} rows, unit ${unit}, ${parts} parts`).toBe(rows);
        }
      }
    }
  });

  it('each part of the kernels\' apply pass writes exactly the values that part of the floor sweeps', async () => {
    const k = await simd;
    const limits = limitsOf(k);
    const scratch = ops.scratchOf(k);
    for (const { shape, channelsLast } of SHAPES) {
      const L = layoutOf(shape, channelsLast), size = shape.reduce((a, b) => a * b, 1), C = L.C;
      const alloc = (floats: number, value: number): number => {
        const p = k.alloc(4 * Math.max(floats, 4)) >>> 0;
        new Float32Array(k.memory.buffer, p, floats).fill(value);
        return p;
      };
      const x = alloc(size, 1.5), y = alloc(size, 0);
      const params = { weight: alloc(C, 2), bias: alloc(C, 0.5), runningMean: alloc(C, 1), runningVar: alloc(C, 4) };
      const ws = new ops.Workspace(k.alloc(ops.Workspace.bytes(C)) >>> 0, C);
      const phases = ops.phasesOf((r) => ops.forwardEval(r, L, x, y, params, 1e-5, ws, 0));
      const apply = phases.at(-1)!;
      expect(apply.name).toMatch(/_apply_/);
      for (const phase of phases.slice(0, -1)) callPart(k, phase, scratch, 0, 1);
      const split = rowsOf(L, limits);
      expect(split.rows * split.values).toBe(size);
      for (const parts of PARTS) {
        for (let part = 0; part < parts; part++) {
          const out = new Float32Array(k.memory.buffer, y, size);
          out.fill(NaN);
          callPart(k, apply, scratch, part, parts);
          const written = [...out.keys()].filter((i) => !Number.isNaN(out[i]));
          const [first, end] = share(split, part, parts);
          const what = `[${shape.join(',')}]${channelsLast ? ' channels-last' : ''}, part ${part} of ${parts}`;
          expect(written.length, what).toBe(end - first);
          if (written.length > 0) expect([written[0], written.at(-1)! + 1], what).toEqual([first, end]);
        }
      }
    }
  });
});

describe('the threaded floor\'s pool', () => {
  let module: WebAssembly.Module;
  let limits: Limits;
  beforeAll(async () => {
    limits = limitsOf(await simd);
    // floors-threads.wasm is built by npm run bench, not npm test: compiled here from bench/floors.ts.
    const dir = await mkdtemp(join(tmpdir(), 'batchnorm-wasm-floors-'));
    try {
      const out = join(dir, 'floors-threads.wasm');
      const argv = ['--config', join(repoRoot, 'bench', 'asconfig.json'), '--target', 'floors-threads', '--outFile', out];
      const { error, stderr } = await asc.main(argv, { stdout: asc.createMemoryStream(), stderr: asc.createMemoryStream() });
      if (error) throw new Error(`asc failed: ${stderr.toString()}`);
      module = await WebAssembly.compile(await readFile(out));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it.each(PARTS)('%i threads: a train step writes every value of y and dx exactly once and from its own x and dy', async (threads) => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    const pool = await FloorPool.start(module, memory, threads);
    try {
      for (const { shape, channelsLast } of SHAPES) {
        const L = layoutOf(shape, channelsLast), size = shape.reduce((a, b) => a * b, 1);
        const base = 65536, stride = 4 * size;
        const need = base + 4 * stride - memory.buffer.byteLength;
        if (need > 0) memory.grow(Math.ceil(need / 65536));
        const b = { x: base, y: base + stride, dy: base + 2 * stride, dx: base + 3 * stride };
        const view = (p: number): Float32Array => new Float32Array(memory.buffer, p, size);
        view(b.x).set(Array.from({ length: size }, (_, i) => i));
        view(b.dy).set(Array.from({ length: size }, (_, i) => 0.5 * i));
        view(b.y).fill(NaN);
        view(b.dx).fill(NaN);
        (pool as { run(phases: unknown, split: Split): void }).run(floorPhases('train-step', b), rowsOf(L, limits));
        const what = `[${shape.join(',')}], ${threads} threads`;
        expect(Array.from(view(b.y)), what).toEqual(Array.from({ length: size }, (_, i) => i));
        expect(Array.from(view(b.dx)), what).toEqual(Array.from({ length: size }, (_, i) => 1.5 * i));
      }
    } finally {
      await (pool as { dispose(): Promise<void> }).dispose();
    }
  });
});

describe('the arithmetic floor\'s sweeps (bench/arithmetic.ts)', () => {
  let k: Record<string, (...args: number[]) => number> & { memory: WebAssembly.Memory };
  beforeAll(async () => {
    // build/arithmetic.wasm is built by npm run bench:arithmetic, not npm test: compiled here.
    const dir = await mkdtemp(join(tmpdir(), 'batchnorm-wasm-arithmetic-'));
    try {
      const out = join(dir, 'arithmetic.wasm');
      const argv = [join(repoRoot, 'bench', 'arithmetic.ts'), '--config', join(repoRoot, 'bench', 'asconfig.json'), '--target', 'arithmetic', '--outFile', out];
      const { error, stderr } = await asc.main(argv, { stdout: asc.createMemoryStream(), stderr: asc.createMemoryStream() });
      if (error) throw new Error(`asc failed: ${stderr.toString()}`);
      const { instance } = await WebAssembly.instantiate(await readFile(out), { env: { abort: () => { throw new Error('abort'); } } });
      k = instance.exports as typeof k;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  // Small integers, so every f32 sum is exact whatever the order; n past the SIMD steps, and
  // buffers 4 bytes off a 16-byte boundary, as a thread's share of rows may be.
  it.each([1, 15, 16, 37, 1000])('reads and writes every one of %i values', (n) => {
    const base = k.memory.buffer.byteLength + 4;
    k.memory.grow(Math.ceil((4 * 4 * n + 64) / 65536));
    const x = base, dy = base + 4 * n, y = base + 8 * n, dx = base + 12 * n;
    const view = (p: number): Float32Array => new Float32Array(k.memory.buffer, p, n);
    view(x).set(Array.from({ length: n }, (_, i) => i % 3));
    view(dy).set(Array.from({ length: n }, (_, i) => (i % 5) - 2));
    const xs = Array.from(view(x)), dys = Array.from(view(dy));
    expect(k.moments!(x, n)).toBe(xs.reduce((s, v) => s + v + v * v, 0));
    expect(k.dots!(x, dy, n)).toBe(xs.reduce((s, v, i) => s + dys[i]! + dys[i]! * v, 0));
    k.scaleShift!(y, x, n);
    expect(Array.from(view(y))).toEqual(xs.map((v) => Math.fround(Math.fround(v * 1.5) + 0.25)));
    k.gradient!(dx, x, dy, n);
    expect(Array.from(view(dx))).toEqual(xs.map((v, i) => Math.fround(Math.fround(Math.fround(dys[i]! * 1.5) + 0.25) + Math.fround(v * -0.5))));
  });
});
