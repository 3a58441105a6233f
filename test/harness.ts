// What several suites share around the public API (the f64 reference lives in reference.ts).
import type { BatchNorm, BatchNormOptions, Runtime } from '../src/index.node.js';

export type Dims = 1 | 2 | 3;

/** rt.batchNorm1d, 2d or 3d by the number of spatial dimensions the layer is for. */
export function batchNormFor(rt: Runtime, dims: Dims, C: number, options?: BatchNormOptions): BatchNorm {
  return dims === 1 ? rt.batchNorm1d(C, options) : dims === 2 ? rt.batchNorm2d(C, options) : rt.batchNorm3d(C, options);
}
