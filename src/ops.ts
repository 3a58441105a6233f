// The kernel calls of each operation, picking the planar or interleaved variant. Shared by
// the layer and the functional ops; callers have validated everything already.
//
// Every op is a fixed list of phases (assembly/parts.ts): each phase is one kernel export,
// called with the phase's arguments plus (scratch, part, parts) by every thread taking
// part, and the next phase starts when all parts have finished. The results are the same
// bits for any number of parts. The functions below call the phases as part 0 of 1 on the
// calling thread (no list is built: a small op costs a few microseconds); phasesOf records
// the same calls as a list, to be run by several parts.
import type { Kernels } from './wasm.js';
import type { Layout } from './shape.js';

/** The kernel exports that are phases: the batch-norm ones, each ending in (scratch, part, parts). */
export type PhaseName = Extract<keyof Kernels, `f32_bn_${string}`>;

/** One phase of an op: the export and its arguments before (scratch, part, parts). */
export interface Phase {
  readonly name: PhaseName;
  readonly args: readonly number[];
}

/**
 * The slots of interleaved reductions split by row groups (assembly/limits.ts MAX_GROUPS − 1
 * groups beside the op's own arrays, for inputs of at most CHUNK channels; test/parts.test.ts
 * checks both against the module's globals).
 */
export const GROUP_SLOTS = 7;
export const GROUPED_CHANNELS = 1024;

/**
 * Per-channel scratch one operation needs, one slot per quantity: f64 mean, M2
 * (Σ(x − mean)²), invstd, sumDy, sumDyXmu; the row groups' f64 sums (two per channel and
 * group, up to GROUPED_CHANNELS channels); then f32 coefficients (4·C) and the f32 shifts
 * of the interleaved backward sums. 60·C bytes plus the groups' 112·min(C, 1024).
 */
export class Workspace {
  /** Frozen: its pointer and size are handed to kernels that trust them. */
  constructor(readonly ptr: number, readonly channels: number) {
    Object.freeze(this);
  }
  static bytes(channels: number): number {
    return 60 * channels + Workspace.#groupBytes(channels);
  }
  static #groupBytes(channels: number): number {
    return 16 * GROUP_SLOTS * Math.min(channels, GROUPED_CHANNELS);
  }
  get mean(): number { return this.ptr; }
  get m2(): number { return this.ptr + 8 * this.channels; }
  get invstd(): number { return this.ptr + 16 * this.channels; }
  get sumDy(): number { return this.ptr + 24 * this.channels; }
  get sumDyXmu(): number { return this.ptr + 32 * this.channels; }
  get groups(): number { return this.ptr + 40 * this.channels; }
  get coef(): number { return this.groups + Workspace.#groupBytes(this.channels); }
  get shifts(): number { return this.coef + 16 * this.channels; }
}

/** Pointers to per-channel f32 parameters; 0 where absent. */
export interface Params {
  weight: number;
  bias: number;
  runningMean: number;
  runningVar: number;
}

/** What runs an op's phases across threads (a pool, src/threads.ts). */
export interface Splitter {
  /** Whether an op over this many values is worth splitting (and can be, now). */
  worthSplitting(values: number): boolean;
  /** Runs each phase on every thread, one after the other. */
  run(phases: readonly Phase[]): void;
}

// Per kernel instance: the calling thread's scratch (allocated on first use and kept as long
// as the instance: it is the instance's, not a caller's allocation) and its splitter. One
// lookup per op: a small op costs a few microseconds.
interface Caller {
  scratch: number;
  splitter: Splitter | null;
}

const callers = new WeakMap<Kernels, Caller>();

function callerOf(k: Kernels): Caller {
  let caller = callers.get(k);
  if (caller === undefined) {
    caller = { scratch: k.alloc(Number(k.SCRATCH_BYTES.value)) >>> 0, splitter: null };
    callers.set(k, caller);
  }
  return caller;
}

/** The calling thread's kernel scratch for `k`. */
export function scratchOf(k: Kernels): number {
  return callerOf(k).scratch;
}

/** Ops on `k` split across `splitter` from now on (null: the calling thread alone). */
export function attachSplitter(k: Kernels, splitter: Splitter | null): void {
  callerOf(k).splitter = splitter;
}

// The splitter that should run an op over L on `k`, or null for the calling thread.
function splitterFor(caller: Caller, L: Layout): Splitter | null {
  const splitter = caller.splitter;
  return splitter !== null && splitter.worthSplitting(L.R * L.C * L.S) ? splitter : null;
}

/** The phases an op calls, in order, with their arguments before (scratch, part, parts). */
export function phasesOf(op: (k: Kernels) => void): Phase[] {
  const phases: Phase[] = [];
  const recorder = new Proxy({} as Kernels, {
    get: (_, name) => (...args: number[]) => {
      phases.push({ name: name as PhaseName, args: args.slice(0, -3) });
    },
  });
  op(recorder);
  return phases;
}

// Each op is its kernel calls, made by runOp. Without `scratch` (the facade's calls) the op
// runs across the attached splitter's threads when large enough, else on the calling thread
// with its scratch; with `scratch` (recording, or a caller's own) as part 0 of 1.
function runOp(k: Kernels, L: Layout, scratch: number | undefined, calls: (k: Kernels, scratch: number) => void): void {
  if (scratch !== undefined) return calls(k, scratch);
  const caller = callerOf(k), splitter = splitterFor(caller, L);
  if (splitter !== null) splitter.run(phasesOf((recorder) => calls(recorder, 0)));
  else calls(k, caller.scratch);
}

export function forwardTrain(k: Kernels, L: Layout, x: number, y: number, p: Params, momentum: number, eps: number, ws: Workspace, scratch?: number): void {
  runOp(k, L, scratch, (k, scratch) => {
    if (L.planar) {
      k.f32_bn_forward_train_planar_reduce(x, L.N, L.C, L.S, p.weight, p.bias, p.runningMean, p.runningVar, momentum, eps, ws.mean, ws.m2, ws.invstd, ws.coef, scratch, 0, 1);
    } else {
      k.f32_bn_stats_interleaved(x, L.R, L.C, ws.mean, ws.m2, ws.groups, scratch, 0, 1);
      k.f32_bn_forward_train_interleaved_fold(L.R, L.C, p.weight, p.bias, p.runningMean, p.runningVar, momentum, eps, ws.mean, ws.m2, ws.groups, ws.invstd, ws.coef, scratch, 0, 1);
    }
    apply(k, L, x, y, ws, scratch);
  });
}

export function forwardEval(k: Kernels, L: Layout, x: number, y: number, p: Params, eps: number, ws: Workspace, scratch?: number): void {
  runOp(k, L, scratch, (k, scratch) => {
    k.f32_bn_fold_running(L.C, p.weight, p.bias, p.runningMean, p.runningVar, eps, ws.coef, scratch, 0, 1);
    apply(k, L, x, y, ws, scratch);
  });
}

/** Normalizes with ws.mean, ws.invstd as given. */
export function forwardElemt(k: Kernels, L: Layout, x: number, y: number, p: Params, ws: Workspace, scratch?: number): void {
  runOp(k, L, scratch, (k, scratch) => {
    k.f32_bn_fold_batch(L.C, p.weight, p.bias, ws.mean, ws.invstd, ws.coef, scratch, 0, 1);
    apply(k, L, x, y, ws, scratch);
  });
}

/** y = (x − shift)·scale + offset with the coefficients in ws.coef. */
function apply(k: Kernels, L: Layout, x: number, y: number, ws: Workspace, scratch: number): void {
  if (L.planar) k.f32_bn_apply_planar(x, y, L.N, L.C, L.S, ws.coef, scratch, 0, 1);
  else k.f32_bn_apply_interleaved(x, y, L.R, L.C, ws.coef, scratch, 0, 1);
}

/** Count, mean and M2 per channel into ws.mean, ws.m2. */
export function stats(k: Kernels, L: Layout, x: number, ws: Workspace, scratch?: number): void {
  runOp(k, L, scratch, (k, scratch) => {
    if (L.planar) k.f32_bn_stats_planar(x, L.N, L.C, L.S, ws.mean, ws.m2, scratch, 0, 1);
    else {
      k.f32_bn_stats_interleaved(x, L.R, L.C, ws.mean, ws.m2, ws.groups, scratch, 0, 1);
      k.f32_bn_stats_interleaved_merge(L.R, L.C, ws.mean, ws.m2, ws.groups, scratch, 0, 1);
    }
  });
}

/** Training-mode backward with ws.mean, ws.invstd from the forward pass. */
export function backwardTrain(k: Kernels, L: Layout, dy: number, x: number, dx: number, weight: number, gradWeight: number, gradBias: number, ws: Workspace, scratch?: number): void {
  runOp(k, L, scratch, (k, scratch) => {
    if (L.planar) {
      k.f32_bn_backward_train_planar_reduce(dy, x, L.N, L.C, L.S, weight, ws.mean, ws.invstd, gradWeight, gradBias, ws.sumDy, ws.sumDyXmu, ws.coef, scratch, 0, 1);
    } else {
      interleavedSums(k, L, dy, x, ws, scratch);
      k.f32_bn_backward_fold(L.C, weight, ws.mean, ws.invstd, ws.sumDy, ws.sumDyXmu, L.R, gradWeight, gradBias, ws.coef, scratch, 0, 1);
    }
    backwardApply(k, L, dy, x, dx, ws, scratch);
  });
}

export function backwardEval(k: Kernels, L: Layout, dy: number, x: number, dx: number, p: Params, eps: number, gradWeight: number, gradBias: number, ws: Workspace, scratch?: number): void {
  runOp(k, L, scratch, (k, scratch) => {
    if (L.planar) {
      k.f32_bn_backward_eval_planar_reduce(dy, x, L.N, L.C, L.S, p.weight, p.runningMean, p.runningVar, eps, gradWeight, gradBias, ws.mean, ws.invstd, ws.sumDy, ws.sumDyXmu, ws.coef, scratch, 0, 1);
    } else {
      k.f32_bn_backward_eval_fold(L.C, p.weight, p.runningMean, p.runningVar, eps, ws.mean, ws.invstd, ws.coef, scratch, 0, 1);
      if (gradWeight !== 0 || gradBias !== 0) {
        interleavedSums(k, L, dy, x, ws, scratch);
        k.f32_bn_backward_eval_grads(L.C, ws.invstd, ws.sumDy, ws.sumDyXmu, gradWeight, gradBias, scratch, 0, 1);
      }
    }
    // The coefficients are (0, γ·invstd, 0): the forward's apply turns dy into dx.
    apply(k, L, dy, dx, ws, scratch);
  });
}

/** Σdy and Σdy·(x − mean) per channel into ws.sumDy, ws.sumDyXmu. */
export function backwardReduce(k: Kernels, L: Layout, dy: number, x: number, ws: Workspace, scratch?: number): void {
  runOp(k, L, scratch, (k, scratch) => {
    if (L.planar) k.f32_bn_backward_reduce_planar(dy, x, L.N, L.C, L.S, ws.mean, ws.sumDy, ws.sumDyXmu, scratch, 0, 1);
    else interleavedSums(k, L, dy, x, ws, scratch);
  });
}

/** Interleaved Σdy and Σdy·(x − mean) about ws.mean: shifts, the row groups' sums, their merge. */
function interleavedSums(k: Kernels, L: Layout, dy: number, x: number, ws: Workspace, scratch: number): void {
  k.f32_bn_backward_shifts(L.C, ws.mean, ws.shifts, scratch, 0, 1);
  k.f32_bn_backward_reduce_interleaved(dy, x, L.R, L.C, ws.shifts, ws.sumDy, ws.sumDyXmu, ws.groups, scratch, 0, 1);
  k.f32_bn_backward_merge_interleaved(L.R, L.C, ws.mean, ws.sumDy, ws.sumDyXmu, ws.groups, scratch, 0, 1);
}

/** dx from ws.mean, ws.invstd, ws.sumDy, ws.sumDyXmu over `count` values per channel. */
export function backwardElemt(k: Kernels, L: Layout, dy: number, x: number, dx: number, weight: number, count: number, ws: Workspace, scratch?: number): void {
  runOp(k, L, scratch, (k, scratch) => {
    k.f32_bn_backward_fold(L.C, weight, ws.mean, ws.invstd, ws.sumDy, ws.sumDyXmu, count, 0, 0, ws.coef, scratch, 0, 1);
    backwardApply(k, L, dy, x, dx, ws, scratch);
  });
}

function backwardApply(k: Kernels, L: Layout, dy: number, x: number, dx: number, ws: Workspace, scratch: number): void {
  if (L.planar) k.f32_bn_backward_apply_planar(dy, x, dx, L.N, L.C, L.S, ws.coef, scratch, 0, 1);
  else k.f32_bn_backward_apply_interleaved(dy, x, dx, L.R, L.C, ws.coef, scratch, 0, 1);
}
