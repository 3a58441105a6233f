// The kernels' phases driven directly (no facade), for the tests that split ops into parts:
// cases generated around every threshold that chooses a path (read from the module's
// globals), and one run of every op over a case that snapshots each op's outputs and the
// path each phase took.
import { readFileSync } from 'node:fs';
import { instantiateKernels, type Kernels } from '../src/wasm.js';
import { layoutOf, type Layout } from '../src/shape.js';
import * as ops from '../src/ops.js';
import { CALLER_PHASES } from '../src/pool.js';
import { Rng } from './reference.js';

export type Build = 'simd' | 'scalar';

export async function kernelsOf(build: Build): Promise<Kernels> {
  const bytes = readFileSync(new URL(`../build/${build}.wasm`, import.meta.url));
  return instantiateKernels(await WebAssembly.compile(bytes));
}

/**
 * Centred data (shift 0), data on an offset, an offset that jumps between samples, and one
 * that moves in every seventh channel after the first 128 samples (so that some columns of
 * a chunk, not all, are far from their shift and summed again).
 */
export type Data = 'centred' | 'offset' | 'jump' | 'jumpSome';

export interface Case {
  /** Which threshold, and where the shape sits against it. */
  name: string;
  shape: number[];
  channelsLast: boolean;
  data: Data;
}

/** The value of the module's exported global `name` (a threshold, a path, lastPath). */
export function globalOf(k: Kernels, name: string): number {
  return Number((k as unknown as Record<string, WebAssembly.Global>)[name]!.value);
}

/** Runs part `part` of `parts` of one phase on this thread. */
export function callPart(k: Kernels, phase: ops.Phase, scratch: number, part: number, parts: number): void {
  (k[phase.name] as (...a: number[]) => void)(...phase.args, scratch, part, parts);
}

/** T − 1, T, T + 1 around each threshold; sizes just under, at and over L2. */
export function thresholdCases(k: Kernels): Case[] {
  const SHORT_ROW = globalOf(k, 'SHORT_ROW'), COLUMNS = globalOf(k, 'COLUMNS'), CHUNK = globalOf(k, 'CHUNK'), BLOCK = globalOf(k, 'BLOCK');
  const MAX_ROW_IN_ORDER = globalOf(k, 'MAX_ROW_IN_ORDER'), MAX_ROW_IN_LANES = globalOf(k, 'MAX_ROW_IN_LANES');
  const MAX_BLOCK_ROWS = globalOf(k, 'MAX_BLOCK_ROWS'), DOT_TERMS = globalOf(k, 'DOT_TERMS'), UNIT = globalOf(k, 'INTERLEAVED_UNIT');
  const MAX_GROUPS = globalOf(k, 'MAX_GROUPS');
  const L2 = globalOf(k, 'L2_BYTES') / 4;
  const cases: Case[] = [];
  const around = (T: number): number[] => [T - 1, T, T + 1];
  const planar = (name: string, N: number, C: number, S: number, data: Data = 'offset'): void => {
    cases.push({ name, shape: [N, C, S], channelsLast: false, data });
  };
  const interleaved = (name: string, R: number, C: number, data: Data = 'offset'): void => {
    cases.push({ name, shape: [R, C], channelsLast: false, data });
  };
  for (const S of around(SHORT_ROW)) planar(`SHORT_ROW ${S}`, 9, 5, S);
  const MIN_SPLAT_ROW = globalOf(k, 'MIN_SPLAT_ROW');
  for (const S of [MIN_SPLAT_ROW - 4, ...around(MIN_SPLAT_ROW), MIN_SPLAT_ROW + 4]) {
    planar(`MIN_SPLAT_ROW ${S}`, 7, 5, S);
    planar(`MIN_SPLAT_ROW ${S}, centred`, 7, 5, S, 'centred');
  }
  // Rows handled per channel: blocks of statistics and flushes of backward lanes end
  // after (BLOCK/16)/(S/4) and DOT_TERMS/(S/4) samples.
  for (const S of [MIN_SPLAT_ROW, MIN_SPLAT_ROW + 4]) {
    for (const N of around((BLOCK / 16) / (S / 4) | 0)) planar(`rows of ${S}, statistics block ${N} samples`, N, 5, S, 'jump');
    for (const N of around(DOT_TERMS / (S / 4) | 0)) planar(`rows of ${S}, backward lanes ${N} samples`, N, 5, S);
  }
  for (const S of [3, 4]) {
    const perChunk = Math.floor(COLUMNS / S);
    for (const C of around(perChunk)) planar(`COLUMNS/${S} channels ${C}`, 3, C, S);
  }
  for (const N of around(MAX_BLOCK_ROWS)) planar(`MAX_BLOCK_ROWS samples ${N}, columns`, N, 3, 4, 'jump');
  // Planar statistics read rows in order only from memory: N·C·S just over L2.
  for (const S of around(MAX_ROW_IN_ORDER)) planar(`MAX_ROW_IN_ORDER ${S}`, Math.ceil(L2 / (3 * S)) + 1, 3, S, 'jump');
  planar('CHUNK channels in order', Math.ceil(L2 / ((CHUNK + 1) * SHORT_ROW)) + 1, CHUNK + 1, SHORT_ROW);
  for (const S of around(MAX_ROW_IN_LANES)) planar(`MAX_ROW_IN_LANES ${S}`, 5, 3, S);
  for (const S of around(BLOCK)) planar(`BLOCK ${S}`, 3, 2, S, 'jump');
  // L2: at and just over it, for rows in order, and for short rows (columns, four rows).
  const side = Math.round(Math.cbrt(L2));
  for (const N of [side - 1, side, side + 1]) planar(`L2 planar ${N}x${side}x${side}`, N, side, side);
  for (const N of [L2 / 4 / 64, L2 / 4 / 64 + 1]) planar(`L2 columns ${N}x64x4`, N, 64, 4, 'jump');
  for (const N of [L2 / 8 / 64, L2 / 8 / 64 + 1]) planar(`L2 rows of 8 ${N}x64x8`, N, 64, 8, 'jump');
  // From memory, backward sums of short rows read as columns take four samples at a time
  // from MIN_FOUR_ROW_COLUMNS columns per chunk: C·S at T − 1, T and T + 1 (S the longest
  // such row that divides it), over L2 with rows left after the last four.
  for (const W of around(globalOf(k, 'MIN_FOUR_ROW_COLUMNS'))) {
    let S = SHORT_ROW - 1;
    while (W % S !== 0 || splatRows(k, S)) S--;
    planar(`MIN_FOUR_ROW_COLUMNS ${W} columns, rows of ${S}`, Math.ceil(L2 / W) | 3, W / S, S);
  }
  for (const R of around(MAX_BLOCK_ROWS)) interleaved(`MAX_BLOCK_ROWS rows ${R}`, R, 5, 'jump');
  for (const R of around(DOT_TERMS)) interleaved(`DOT_TERMS rows ${R}`, R, 7);
  for (const C of around(CHUNK)) interleaved(`CHUNK channels ${C}`, 9, C);
  // Row groups: one group up to a block of rows, a group per block up to MAX_GROUPS blocks,
  // then groups of several blocks (the last one short); above CHUNK channels, one group.
  for (const R of around(MAX_GROUPS * MAX_BLOCK_ROWS)) interleaved(`MAX_GROUPS rows ${R}`, R, 5, 'jump');
  interleaved('MAX_GROUPS groups of three blocks, the last short', (2 * MAX_GROUPS + 1) * MAX_BLOCK_ROWS - 3, 6, 'jumpSome');
  for (const C of around(CHUNK)) interleaved(`MAX_GROUPS over CHUNK channels ${C}`, 2 * MAX_BLOCK_ROWS + 1, C);
  for (const C of around(2 * CHUNK + UNIT)) interleaved(`INTERLEAVED_UNIT channels ${C}`, 21, C);
  for (const R of [L2 / 64, L2 / 64 + 1]) interleaved(`L2 interleaved ${R}x64`, R, 64, 'jump');
  // Interleaved statistics from memory take two rows at a time below MAX_TWO_ROWS_CHANNELS;
  // an odd row count leaves one row, and channels past a multiple of 8 run one by one.
  for (const C of around(globalOf(k, 'MAX_TWO_ROWS_CHANNELS'))) interleaved(`MAX_TWO_ROWS_CHANNELS ${C}`, Math.ceil(L2 / C) | 1, C, 'jumpSome');
  for (const R of [1, 2, 3, 4, 5]) interleaved(`rows ${R}`, R, 6);
  interleaved('far columns in some units of a chunk', 300, 64, 'jumpSome');
  planar('far columns in some units of a chunk', 300, 64, 2, 'jumpSome');
  cases.push({ name: 'channels-last [2,5,7,6]', shape: [2, 5, 7, 6], channelsLast: true, data: 'centred' });
  planar('centred planar', 6, 4, 20, 'centred');
  interleaved('centred interleaved', 70, 12, 'centred');
  return cases;
}

/** Whether the SIMD kernels handle planar rows of S values per channel (assembly/limits.ts splatRows). */
function splatRows(k: Kernels, S: number): boolean {
  return Boolean(k.SIMD.value) && S >= globalOf(k, 'MIN_SPLAT_ROW') && S < globalOf(k, 'SHORT_ROW') && S % 4 === 0;
}

/** The path each phase of a case must take, from the thresholds (the kernels' rules). */
export function expectedPaths(k: Kernels, L: Layout): { reduce: number; dots: number; apply: number } {
  const simd = Boolean(k.SIMD.value);
  const four = simd && L.R * L.C * L.S * 4 <= globalOf(k, 'L2_BYTES') ? globalOf(k, 'PATH_FOUR_ROWS') : 0;
  if (!L.planar) {
    const p = globalOf(k, 'PATH_INTERLEAVED') | four;
    const two = simd && four === 0 && L.C < globalOf(k, 'MAX_TWO_ROWS_CHANNELS') ? globalOf(k, 'PATH_TWO_ROWS') : 0;
    return { reduce: p | two, dots: p, apply: p };
  }
  if (splatRows(k, L.S)) {
    return { reduce: globalOf(k, 'PATH_IN_ORDER'), dots: globalOf(k, 'PATH_IN_LANES'), apply: globalOf(k, 'PATH_SPLATS') };
  }
  if (L.S < globalOf(k, 'SHORT_ROW')) {
    const columns = globalOf(k, 'PATH_COLUMNS');
    const chunkColumns = Math.min(Math.floor(globalOf(k, 'COLUMNS') / L.S), L.C) * L.S;
    const wide = simd && chunkColumns >= globalOf(k, 'MIN_FOUR_ROW_COLUMNS') ? globalOf(k, 'PATH_FOUR_ROWS') : 0;
    return { reduce: columns | four, dots: columns | four | wide, apply: columns };
  }
  const fromMemory = L.N * L.C * L.S * 4 > globalOf(k, 'L2_BYTES');
  return {
    reduce: fromMemory && L.S < globalOf(k, 'MAX_ROW_IN_ORDER') ? globalOf(k, 'PATH_IN_ORDER') : globalOf(k, 'PATH_GATHERED'),
    dots: L.S < globalOf(k, 'MAX_ROW_IN_LANES') ? globalOf(k, 'PATH_IN_LANES') : globalOf(k, 'PATH_ROWS'),
    apply: globalOf(k, 'PATH_ROWS'),
  };
}

/** Runs one op's phases, each phase by every part in turn, on this thread. */
export type PartsRunner = (phases: readonly ops.Phase[]) => void;

export function sequentialParts(k: Kernels, parts: number): PartsRunner {
  const scratch = ops.scratchOf(k);
  return (phases) => {
    for (const phase of phases) {
      for (let part = 0; part < parts; part++) callPart(k, phase, scratch, part, parts);
    }
  };
}

export interface Run {
  /** Each op's outputs, in order, as bytes. */
  outputs: { op: string; bytes: Uint8Array }[];
  /** lastPath after each phase that takes a path, by op. */
  paths: Record<string, number[]>;
}

/**
 * Every op over one case: forward train, backward train, forward eval, backward eval (with
 * gradients), and sync batch norm's stats, backward reduce, forward and backward elemt.
 */
export function runEveryOp(k: Kernels, c: Case, run: PartsRunner): Run {
  const L = layoutOf(c.shape, c.channelsLast);
  const size = c.shape.reduce((a, b) => a * b, 1), C = L.C;
  const rng = new Rng(size * 31 + C);
  const sampleOf = (i: number): number => (L.planar ? Math.floor(i / (C * L.S)) : Math.floor(i / C));
  const channelOf = (i: number): number => (L.planar ? Math.floor(i / L.S) % C : i % C);
  const jumps = (i: number): boolean => c.data === 'jump' ? sampleOf(i) % 3 === 2 : sampleOf(i) >= 128 && channelOf(i) % 7 === 0;
  const offset = (i: number): number => (c.data === 'centred' ? 0 : c.data === 'offset' ? 1000 : jumps(i) ? 60 : 0);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const bytes = { x: size * 4, y: size * 4, dy: size * 4, dx: size * 4, ws: ops.Workspace.bytes(C), param: C * 4 };
  const ptr = (n: number): number => {
    const p = k.alloc(Math.max(n, 16)) >>> 0;
    new Uint8Array(k.memory.buffer, p, n).fill(0);
    return p;
  };
  const x = ptr(bytes.x), y = ptr(bytes.y), dy = ptr(bytes.dy), dx = ptr(bytes.dx), wsPtr = ptr(bytes.ws);
  const weight = ptr(bytes.param), bias = ptr(bytes.param), runMean = ptr(bytes.param), runVar = ptr(bytes.param);
  const gw = ptr(bytes.param), gb = ptr(bytes.param);
  const f32 = (p: number, n: number): Float32Array => new Float32Array(k.memory.buffer, p, n);
  const xs = f32(x, size), dys = f32(dy, size);
  for (let i = 0; i < size; i++) {
    xs[i] = offset(i) + normal();
    dys[i] = normal();
  }
  for (let ch = 0; ch < C; ch++) {
    f32(weight, C)[ch] = 0.5 + rng.next();
    f32(bias, C)[ch] = rng.next() - 0.5;
    f32(runVar, C)[ch] = 1;
  }
  const ws = new ops.Workspace(wsPtr, C);
  const p: ops.Params = { weight, bias, runningMean: runMean, runningVar: runVar };
  const result: Run = { outputs: [], paths: {} };
  const op = (name: string, phases: ops.Phase[], outputs: [number, number][]): void => {
    // The calling thread's per-channel phases take no path.
    result.paths[name] = phases.flatMap((phase) => {
      run([phase]);
      return CALLER_PHASES.has(phase.name) ? [] : [globalOf(k, 'lastPath')];
    });
    for (const [at, n] of outputs) result.outputs.push({ op: name, bytes: new Uint8Array(k.memory.buffer, at, n).slice() });
  };
  const params: [number, number][] = [[gw, bytes.param], [gb, bytes.param]];
  op('forward train', ops.phasesOf((r) => ops.forwardTrain(r, L, x, y, p, 0.1, 1e-5, ws, 0)), [[y, bytes.y], [runMean, bytes.param], [runVar, bytes.param], [wsPtr, bytes.ws]]);
  op('backward train', ops.phasesOf((r) => ops.backwardTrain(r, L, dy, x, dx, weight, gw, gb, ws, 0)), [[dx, bytes.dx], ...params, [wsPtr, bytes.ws]]);
  op('forward eval', ops.phasesOf((r) => ops.forwardEval(r, L, x, y, p, 1e-5, ws, 0)), [[y, bytes.y], [ws.coef, 12 * C]]);
  op('backward eval', ops.phasesOf((r) => ops.backwardEval(r, L, dy, x, dx, p, 1e-5, gw, gb, ws, 0)), [[dx, bytes.dx], ...params, [wsPtr, bytes.ws]]);
  op('stats', ops.phasesOf((r) => ops.stats(r, L, x, ws, 0)), [[ws.mean, 8 * C], [ws.m2, 8 * C]]);
  op('backward reduce', ops.phasesOf((r) => ops.backwardReduce(r, L, dy, x, ws, 0)), [[ws.sumDy, 8 * C], [ws.sumDyXmu, 8 * C]]);
  op('forward elemt', ops.phasesOf((r) => ops.forwardElemt(r, L, x, y, p, ws, 0)), [[y, bytes.y]]);
  op('backward elemt', ops.phasesOf((r) => ops.backwardElemt(r, L, dy, x, dx, weight, L.count, ws, 0)), [[dx, bytes.dx]]);
  for (const at of [x, y, dy, dx, wsPtr, weight, bias, runMean, runVar, gw, gb]) k.free(at);
  return result;
}

/** The index of the first differing byte, or -1. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
