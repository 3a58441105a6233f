import type { Runtime } from '../../../src/index.js';

export interface StepBits { y: number[]; dx: number[] }
export interface LayerBits {
  train: StepBits[];
  eval: number[];
  weightGrad: number[];
  biasGrad: number[];
  runningMean: number[];
  runningVar: number[];
  numBatchesTracked: number;
}
export interface ComputeResult { simd: boolean; planar: LayerBits; interleaved: LayerBits }

export function compute(rt: Runtime): ComputeResult;
