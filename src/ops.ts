// The kernel calls, one per operation, picking the planar or interleaved variant. Shared by
// the layer and the functional ops; callers have validated everything already.
import type { Kernels } from './wasm.js';
import type { Layout } from './shape.js';

/**
 * Per-channel scratch one operation needs, 48·C bytes: f64 mean, invstd, sumDy, sumDyXmu
 * then f32 coefficients (4·C).
 */
export class Workspace {
  /** Frozen: its pointer and size are handed to kernels that trust them. */
  constructor(readonly ptr: number, readonly channels: number) {
    Object.freeze(this);
  }
  static bytes(channels: number): number {
    return 48 * channels;
  }
  get mean(): number { return this.ptr; }
  get invstd(): number { return this.ptr + 8 * this.channels; }
  get sumDy(): number { return this.ptr + 16 * this.channels; }
  get sumDyXmu(): number { return this.ptr + 24 * this.channels; }
  get coef(): number { return this.ptr + 32 * this.channels; }
}

/** Pointers to per-channel f32 parameters; 0 where absent. */
export interface Params {
  weight: number;
  bias: number;
  runningMean: number;
  runningVar: number;
}

export function forwardTrain(k: Kernels, L: Layout, x: number, y: number, p: Params, momentum: number, eps: number, ws: Workspace): void {
  if (L.planar) {
    k.f32_bn_forward_train_planar(x, y, L.N, L.C, L.S, p.weight, p.bias, p.runningMean, p.runningVar, momentum, eps, ws.mean, ws.invstd, ws.coef);
  } else {
    k.f32_bn_forward_train_interleaved(x, y, L.R, L.C, p.weight, p.bias, p.runningMean, p.runningVar, momentum, eps, ws.mean, ws.invstd, ws.coef);
  }
}

export function forwardEval(k: Kernels, L: Layout, x: number, y: number, p: Params, eps: number, ws: Workspace): void {
  if (L.planar) k.f32_bn_forward_eval_planar(x, y, L.N, L.C, L.S, p.weight, p.bias, p.runningMean, p.runningVar, eps, ws.coef);
  else k.f32_bn_forward_eval_interleaved(x, y, L.R, L.C, p.weight, p.bias, p.runningMean, p.runningVar, eps, ws.coef);
}

/** Normalizes with ws.mean, ws.invstd as given. */
export function forwardElemt(k: Kernels, L: Layout, x: number, y: number, p: Params, ws: Workspace): void {
  if (L.planar) k.f32_bn_forward_elemt_planar(x, y, L.N, L.C, L.S, p.weight, p.bias, ws.mean, ws.invstd, ws.coef);
  else k.f32_bn_forward_elemt_interleaved(x, y, L.R, L.C, p.weight, p.bias, ws.mean, ws.invstd, ws.coef);
}

export function stats(k: Kernels, L: Layout, x: number, ws: Workspace): void {
  // M2 lands in the invstd slot; the caller reads it as M2.
  if (L.planar) k.f32_bn_stats_planar(x, L.N, L.C, L.S, ws.mean, ws.invstd);
  else k.f32_bn_stats_interleaved(x, L.R, L.C, ws.mean, ws.invstd);
}

/** Training-mode backward with ws.mean, ws.invstd from the forward pass. */
export function backwardTrain(k: Kernels, L: Layout, dy: number, x: number, dx: number, weight: number, gradWeight: number, gradBias: number, ws: Workspace): void {
  if (L.planar) {
    k.f32_bn_backward_train_planar(dy, x, dx, L.N, L.C, L.S, weight, ws.mean, ws.invstd, gradWeight, gradBias, ws.sumDy, ws.sumDyXmu, ws.coef);
  } else {
    k.f32_bn_backward_train_interleaved(dy, x, dx, L.R, L.C, weight, ws.mean, ws.invstd, gradWeight, gradBias, ws.sumDy, ws.sumDyXmu, ws.coef);
  }
}

export function backwardEval(k: Kernels, L: Layout, dy: number, x: number, dx: number, p: Params, eps: number, gradWeight: number, gradBias: number, ws: Workspace): void {
  if (L.planar) {
    k.f32_bn_backward_eval_planar(dy, x, dx, L.N, L.C, L.S, p.weight, p.runningMean, p.runningVar, eps, gradWeight, gradBias, ws.mean, ws.invstd, ws.sumDy, ws.sumDyXmu, ws.coef);
  } else {
    k.f32_bn_backward_eval_interleaved(dy, x, dx, L.R, L.C, p.weight, p.runningMean, p.runningVar, eps, gradWeight, gradBias, ws.mean, ws.invstd, ws.sumDy, ws.sumDyXmu, ws.coef);
  }
}

export function backwardReduce(k: Kernels, L: Layout, dy: number, x: number, ws: Workspace): void {
  if (L.planar) k.f32_bn_backward_reduce_planar(dy, x, L.N, L.C, L.S, ws.mean, ws.sumDy, ws.sumDyXmu);
  else k.f32_bn_backward_reduce_interleaved(dy, x, L.R, L.C, ws.mean, ws.sumDy, ws.sumDyXmu, ws.coef);
}

/** dx from ws.mean, ws.invstd, ws.sumDy, ws.sumDyXmu over `count` values per channel. */
export function backwardElemt(k: Kernels, L: Layout, dy: number, x: number, dx: number, weight: number, count: number, ws: Workspace): void {
  if (L.planar) k.f32_bn_backward_elemt_planar(dy, x, dx, L.N, L.C, L.S, weight, ws.mean, ws.invstd, ws.sumDy, ws.sumDyXmu, count, ws.coef);
  else k.f32_bn_backward_elemt_interleaved(dy, x, dx, L.R, L.C, weight, ws.mean, ws.invstd, ws.sumDy, ws.sumDyXmu, count, ws.coef);
}
