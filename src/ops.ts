// The kernel calls of each operation, picking the planar or interleaved variant. Shared by
// the layer and the functional ops; callers have validated everything already.
//
// Every op is a fixed list of phases (assembly/parts.ts): each phase is one kernel export,
// called with the phase's arguments plus (scratch, part, parts) by every thread taking
// part, and the next phase starts when all parts have finished. The results are the same
// bits for any number of parts. runPhases runs them on the calling thread as one part.
import type { Kernels, Part } from './wasm.js';
import type { Layout } from './shape.js';

/** The kernel exports that are phases: those ending in (scratch, part, parts). */
export type PhaseName = {
  [K in keyof Kernels]: Kernels[K] extends (...args: [...infer _, ...Part]) => void ? K : never
}[keyof Kernels];

/** One phase of an op: the export and its arguments before (scratch, part, parts). */
export interface Phase {
  readonly name: PhaseName;
  readonly args: readonly number[];
}

/**
 * Per-channel scratch one operation needs, 60·C bytes, one slot per quantity: f64 mean,
 * M2 (Σ(x − mean)²), invstd, sumDy, sumDyXmu, then f32 coefficients (4·C) and the f32
 * shifts of the interleaved backward sums.
 */
export class Workspace {
  constructor(readonly ptr: number, readonly channels: number) {}
  static bytes(channels: number): number {
    return 60 * channels;
  }
  get mean(): number { return this.ptr; }
  get m2(): number { return this.ptr + 8 * this.channels; }
  get invstd(): number { return this.ptr + 16 * this.channels; }
  get sumDy(): number { return this.ptr + 24 * this.channels; }
  get sumDyXmu(): number { return this.ptr + 32 * this.channels; }
  get coef(): number { return this.ptr + 40 * this.channels; }
  get shifts(): number { return this.ptr + 56 * this.channels; }
}

/** Pointers to per-channel f32 parameters; 0 where absent. */
export interface Params {
  weight: number;
  bias: number;
  runningMean: number;
  runningVar: number;
}

// The calling thread's kernel scratch, one region per instance, allocated on first use and
// kept as long as the instance (it is the instance's, not a caller's allocation).
const callerScratch = new WeakMap<Kernels, number>();

export function scratchOf(k: Kernels): number {
  let ptr = callerScratch.get(k);
  if (ptr === undefined) {
    ptr = k.alloc(Number(k.SCRATCH_BYTES.value)) >>> 0;
    callerScratch.set(k, ptr);
  }
  return ptr;
}

/** Runs an op's phases on the calling thread alone. */
export function runPhases(k: Kernels, phases: readonly Phase[]): void {
  const scratch = scratchOf(k);
  for (const { name, args } of phases) (k[name] as (...a: number[]) => void)(...args, scratch, 0, 1);
}

export function forwardTrainPhases(L: Layout, x: number, y: number, p: Params, momentum: number, eps: number, ws: Workspace): Phase[] {
  const tail = [p.weight, p.bias, p.runningMean, p.runningVar, momentum, eps, ws.mean, ws.m2, ws.invstd, ws.coef];
  return L.planar
    ? [{ name: 'f32_bn_forward_train_planar_reduce', args: [x, L.N, L.C, L.S, ...tail] }, apply(L, x, y, ws)]
    : [{ name: 'f32_bn_forward_train_interleaved_reduce', args: [x, L.R, L.C, ...tail] }, apply(L, x, y, ws)];
}

export function forwardEvalPhases(L: Layout, x: number, y: number, p: Params, eps: number, ws: Workspace): Phase[] {
  return [
    { name: 'f32_bn_fold_running', args: [L.C, p.weight, p.bias, p.runningMean, p.runningVar, eps, ws.coef] },
    apply(L, x, y, ws),
  ];
}

/** Normalizes with ws.mean, ws.invstd as given. */
export function forwardElemtPhases(L: Layout, x: number, y: number, p: Params, ws: Workspace): Phase[] {
  return [{ name: 'f32_bn_fold_batch', args: [L.C, p.weight, p.bias, ws.mean, ws.invstd, ws.coef] }, apply(L, x, y, ws)];
}

/** y = (x − shift)·scale + offset with the coefficients in ws.coef. */
function apply(L: Layout, x: number, y: number, ws: Workspace): Phase {
  return L.planar
    ? { name: 'f32_bn_apply_planar', args: [x, y, L.N, L.C, L.S, ws.coef] }
    : { name: 'f32_bn_apply_interleaved', args: [x, y, L.R, L.C, ws.coef] };
}

/** Count, mean and M2 per channel into ws.mean, ws.m2. */
export function statsPhases(L: Layout, x: number, ws: Workspace): Phase[] {
  return L.planar
    ? [{ name: 'f32_bn_stats_planar', args: [x, L.N, L.C, L.S, ws.mean, ws.m2] }]
    : [{ name: 'f32_bn_stats_interleaved', args: [x, L.R, L.C, ws.mean, ws.m2] }];
}

/** Training-mode backward with ws.mean, ws.invstd from the forward pass. */
export function backwardTrainPhases(L: Layout, dy: number, x: number, dx: number, weight: number, gradWeight: number, gradBias: number, ws: Workspace): Phase[] {
  const grads = [weight, ws.mean, ws.invstd, gradWeight, gradBias, ws.sumDy, ws.sumDyXmu];
  return L.planar
    ? [{ name: 'f32_bn_backward_train_planar_reduce', args: [dy, x, L.N, L.C, L.S, ...grads, ws.coef] }, backwardApply(L, dy, x, dx, ws)]
    : [{ name: 'f32_bn_backward_train_interleaved_reduce', args: [dy, x, L.R, L.C, ...grads, ws.shifts, ws.coef] }, backwardApply(L, dy, x, dx, ws)];
}

export function backwardEvalPhases(L: Layout, dy: number, x: number, dx: number, p: Params, eps: number, gradWeight: number, gradBias: number, ws: Workspace): Phase[] {
  const stats = [p.weight, p.runningMean, p.runningVar, eps, gradWeight, gradBias, ws.mean, ws.invstd, ws.sumDy, ws.sumDyXmu];
  // The coefficients are (0, γ·invstd, 0): the forward's apply turns dy into dx.
  return L.planar
    ? [{ name: 'f32_bn_backward_eval_planar_reduce', args: [dy, x, L.N, L.C, L.S, ...stats, ws.coef] }, apply(L, dy, dx, ws)]
    : [{ name: 'f32_bn_backward_eval_interleaved_reduce', args: [dy, x, L.R, L.C, ...stats, ws.shifts, ws.coef] }, apply(L, dy, dx, ws)];
}

/** Σdy and Σdy·(x − mean) per channel into ws.sumDy, ws.sumDyXmu. */
export function backwardReducePhases(L: Layout, dy: number, x: number, ws: Workspace): Phase[] {
  return L.planar
    ? [{ name: 'f32_bn_backward_reduce_planar', args: [dy, x, L.N, L.C, L.S, ws.mean, ws.sumDy, ws.sumDyXmu] }]
    : [{ name: 'f32_bn_backward_reduce_interleaved', args: [dy, x, L.R, L.C, ws.mean, ws.sumDy, ws.sumDyXmu, ws.shifts] }];
}

/** dx from ws.mean, ws.invstd, ws.sumDy, ws.sumDyXmu over `count` values per channel. */
export function backwardElemtPhases(L: Layout, dy: number, x: number, dx: number, weight: number, count: number, ws: Workspace): Phase[] {
  return [
    { name: 'f32_bn_backward_fold', args: [L.C, weight, ws.mean, ws.invstd, ws.sumDy, ws.sumDyXmu, count, ws.coef] },
    backwardApply(L, dy, x, dx, ws),
  ];
}

function backwardApply(L: Layout, dy: number, x: number, dx: number, ws: Workspace): Phase {
  return L.planar
    ? { name: 'f32_bn_backward_apply_planar', args: [dy, x, dx, L.N, L.C, L.S, ws.coef] }
    : { name: 'f32_bn_backward_apply_interleaved', args: [dy, x, dx, L.R, L.C, ws.coef] };
}

// Each op on the calling thread.
export function forwardTrain(k: Kernels, L: Layout, x: number, y: number, p: Params, momentum: number, eps: number, ws: Workspace): void {
  runPhases(k, forwardTrainPhases(L, x, y, p, momentum, eps, ws));
}

export function forwardEval(k: Kernels, L: Layout, x: number, y: number, p: Params, eps: number, ws: Workspace): void {
  runPhases(k, forwardEvalPhases(L, x, y, p, eps, ws));
}

export function forwardElemt(k: Kernels, L: Layout, x: number, y: number, p: Params, ws: Workspace): void {
  runPhases(k, forwardElemtPhases(L, x, y, p, ws));
}

export function stats(k: Kernels, L: Layout, x: number, ws: Workspace): void {
  runPhases(k, statsPhases(L, x, ws));
}

export function backwardTrain(k: Kernels, L: Layout, dy: number, x: number, dx: number, weight: number, gradWeight: number, gradBias: number, ws: Workspace): void {
  runPhases(k, backwardTrainPhases(L, dy, x, dx, weight, gradWeight, gradBias, ws));
}

export function backwardEval(k: Kernels, L: Layout, dy: number, x: number, dx: number, p: Params, eps: number, gradWeight: number, gradBias: number, ws: Workspace): void {
  runPhases(k, backwardEvalPhases(L, dy, x, dx, p, eps, gradWeight, gradBias, ws));
}

export function backwardReduce(k: Kernels, L: Layout, dy: number, x: number, ws: Workspace): void {
  runPhases(k, backwardReducePhases(L, dy, x, ws));
}

export function backwardElemt(k: Kernels, L: Layout, dy: number, x: number, dx: number, weight: number, count: number, ws: Workspace): void {
  runPhases(k, backwardElemtPhases(L, dy, x, dx, weight, count, ws));
}
