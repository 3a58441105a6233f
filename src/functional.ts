// Stateless ops for people who keep their own layer state, and the pieces of sync batch
// norm (stats → merge across workers → elemt; backwardReduce → all-reduce → backwardElemt).
// Per-channel quantities cross the boundary as Float64Array copies.
import type { Runtime } from './runtime.js';
import { f64, scratchWorkspace } from './heap.js';
import type { Tensor } from './tensor.js';
import {
  checkBoolean, checkNonNegativeFinite, checkNonNegativeInteger, checkNumber, checkPositiveInteger, readArray, readNumbers, typeError,
} from './errors.js';
import { checkBatchStatsCount, checkSameShape, inputLayout, type Layout } from './shape.js';
import * as ops from './ops.js';

/** Where the channel axis is: second (the default) or last. */
export interface LayoutOptions {
  /** Channel axis last instead of second. Default false. */
  channelsLast?: boolean;
}

/** Options of rt.batchNormElemt() and rt.batchNormBackwardElemt(). */
export interface ElemtOptions extends LayoutOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  out?: Tensor;
}

/** Options of rt.batchNorm(), torch.nn.functional.batch_norm's arguments. */
export interface BatchNormFunctionalOptions extends ElemtOptions {
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  /** Batch statistics (updating running stats when given) or running stats. Default false. */
  training?: boolean;
  /** Running-stats update factor. Default 0.1. */
  momentum?: number;
}

/** Per channel: values counted, mean, biased variance. */
export interface ChannelStats {
  count: number;
  mean: Float64Array;
  var: Float64Array;
}

/** The statistics rt.batchNormElemt() normalizes with. */
export interface ElemtStats {
  mean: ArrayLike<number>;
  /** Biased variance, as batchNormStats and mergeChannelStats give it. */
  var: ArrayLike<number>;
}

/** Per-channel sums of the backward pass, from rt.batchNormBackwardReduce(), to be all-reduced across workers. */
export interface BackwardSums {
  /** Σdy per channel: the bias gradient. */
  sumDy: Float64Array;
  /** Σdy·(x − mean) per channel: invstd times it is the weight gradient. */
  sumDyXmu: Float64Array;
}

/** Everything rt.batchNormBackwardElemt() needs: the forward statistics and the all-reduced sums. */
export interface BackwardElemtStats extends ElemtStats, BackwardSums {
  /** Values per channel over all workers. */
  count: number;
}

function layoutOptions(options: LayoutOptions | undefined): boolean {
  if (options === undefined) return false;
  if (options === null || typeof options !== 'object') throw typeError('options', 'an object', options);
  return checkBoolean('options.channelsLast', options.channelsLast === undefined ? false : options.channelsLast);
}

function channelTensor(rt: Runtime, argument: string, t: Tensor | null | undefined, C: number): number {
  if (t === undefined || t === null) return 0;
  rt.checkTensor(argument, t);
  checkSameShape(argument, t.shape, [C]);
  return t.ptr;
}

// A copy, taken before anything is allocated: the values may view wasm memory (a layer's
// runningMean.data, say), and growing the memory would detach them.
function channelArray(argument: string, values: unknown, C: number): Float64Array {
  return readNumbers(argument, values, C, Float64Array);
}

function input(rt: Runtime, argument: string, x: Tensor, channelsLast: boolean): Layout {
  rt.checkTensor(argument, x);
  return inputLayout(argument, x.shape, channelsLast, null, null);
}

function eps(options: ElemtOptions): number {
  return checkNonNegativeFinite('options.eps', options.eps === undefined ? 1e-5 : options.eps);
}

interface MeanInvstd {
  mean: Float64Array;
  invstd: Float64Array;
}

// mean and invstd, checked and copied before anything is allocated. invstd follows ATen's
// InvStd: 1/sqrt(var + eps), but 0 when both are 0, so a constant channel with eps = 0
// normalizes to beta (and its gradient to 0) instead of 0·Inf = NaN.
function meanInvstd(stats: ElemtStats, C: number, e: number): MeanInvstd {
  if (stats === null || typeof stats !== 'object') throw typeError('stats', 'an object with mean and var', stats);
  const mean = channelArray('stats.mean', stats.mean, C);
  const invstd = channelArray('stats.var', stats.var, C);
  for (let c = 0; c < C; c++) invstd[c] = invstd[c] === 0 && e === 0 ? 0 : 1 / Math.sqrt(invstd[c]! + e);
  return { mean, invstd };
}

function setMeanInvstd(rt: Runtime, ws: ops.Workspace, s: MeanInvstd): void {
  f64(rt, ws.mean, ws.channels).set(s.mean);
  f64(rt, ws.invstd, ws.channels).set(s.invstd);
}

export function batchNorm(rt: Runtime, x: Tensor, options: BatchNormFunctionalOptions = {}): Tensor {
  const L = input(rt, 'x', x, layoutOptions(options));
  const C = L.C;
  const training = checkBoolean('options.training', options.training === undefined ? false : options.training);
  const m = options.momentum === undefined ? 0.1 : options.momentum;
  // No null here: a functional call has no numBatchesTracked to average over.
  if (typeof m !== 'number') throw typeError('options.momentum', 'a number in [0, 1] (for a cumulative average pass 1 / batches seen)', m);
  const momentum = checkNumber('options.momentum', m, 0, 1);
  const e = eps(options);
  const p: ops.Params = {
    weight: channelTensor(rt, 'options.weight', options.weight, C),
    bias: channelTensor(rt, 'options.bias', options.bias, C),
    runningMean: channelTensor(rt, 'options.runningMean', options.runningMean, C),
    runningVar: channelTensor(rt, 'options.runningVar', options.runningVar, C),
  };
  if ((p.runningMean === 0) !== (p.runningVar === 0)) throw new TypeError('options.runningMean and options.runningVar: give both or neither');
  if (!training && p.runningMean === 0) throw new TypeError('options.runningMean: required when options.training is false');
  if (training) checkBatchStatsCount(L, x.shape);
  const ws = scratchWorkspace(rt, C);
  const y = rt.outputFor('options.out', options.out, x, [x]);
  if (x.size > 0) {
    if (training) ops.forwardTrain(rt.kernels, L, x.ptr, y.ptr, p, momentum, e, ws);
    else ops.forwardEval(rt.kernels, L, x.ptr, y.ptr, p, e, ws);
  }
  return y;
}

export function batchNormStats(rt: Runtime, x: Tensor, options?: LayoutOptions): ChannelStats {
  const L = input(rt, 'x', x, layoutOptions(options));
  const C = L.C;
  // The variance of no values is NaN (torch.var of an empty tensor), as mergeChannelStats
  // gives for parts that count nothing; the mean is 0 there too.
  if (L.count === 0) return { count: 0, mean: new Float64Array(C), var: new Float64Array(C).fill(NaN) };
  const ws = scratchWorkspace(rt, C);
  ops.stats(rt.kernels, L, x.ptr, ws);
  const mean = f64(rt, ws.mean, C).slice();
  const m2 = f64(rt, ws.m2, C);
  const variance = new Float64Array(C);
  for (let c = 0; c < C; c++) variance[c] = m2[c]! / L.count;
  return { count: L.count, mean, var: variance };
}

/** Chan et al.'s merge of per-worker stats: what an all-gather of batchNormStats feeds. */
export function mergeChannelStats(parts: readonly ChannelStats[]): ChannelStats {
  const expected = 'a non-empty array of ChannelStats';
  const list = readArray('parts', parts, expected);
  if (list.length === 0) throw typeError('parts', expected, parts);
  // Every part read once and checked before the merge starts.
  let C = -1;
  const read = list.map((part, i) => {
    if (part === null || typeof part !== 'object') throw typeError(`parts[${i}]`, 'a ChannelStats ({ count, mean, var })', part);
    const { count, mean, var: variance } = part as Partial<ChannelStats>;
    if (C < 0) {
      const length: unknown = (mean as { length?: unknown } | null | undefined)?.length;
      if (typeof length !== 'number') throw typeError('parts[0].mean', 'an array-like of per-channel means', mean);
      C = length;
    }
    return {
      count: checkNonNegativeInteger(`parts[${i}].count`, count),
      mean: channelArray(`parts[${i}].mean`, mean, C),
      var: channelArray(`parts[${i}].var`, variance, C),
    };
  });
  const mean = new Float64Array(C), m2 = new Float64Array(C);
  let count = 0;
  for (const part of read) {
    if (part.count === 0) continue;
    const n = count + part.count;
    for (let c = 0; c < C; c++) {
      const delta = part.mean[c]! - mean[c]!;
      mean[c] = mean[c]! + delta * (part.count / n);
      m2[c] = m2[c]! + part.var[c]! * part.count + delta * delta * (count * part.count / n);
    }
    count = n;
  }
  for (let c = 0; c < C; c++) m2[c] = count > 0 ? m2[c]! / count : NaN;
  return { count, mean, var: m2 };
}

export function batchNormElemt(rt: Runtime, x: Tensor, stats: ElemtStats, options: ElemtOptions = {}): Tensor {
  const L = input(rt, 'x', x, layoutOptions(options));
  const C = L.C;
  const p: ops.Params = {
    weight: channelTensor(rt, 'options.weight', options.weight, C),
    bias: channelTensor(rt, 'options.bias', options.bias, C),
    runningMean: 0,
    runningVar: 0,
  };
  const s = meanInvstd(stats, C, eps(options));
  const ws = scratchWorkspace(rt, C);
  setMeanInvstd(rt, ws, s);
  const y = rt.outputFor('options.out', options.out, x, [x]);
  if (x.size > 0) ops.forwardElemt(rt.kernels, L, x.ptr, y.ptr, p, ws);
  return y;
}

export function batchNormBackwardReduce(rt: Runtime, dy: Tensor, x: Tensor, mean: ArrayLike<number>, options?: LayoutOptions): BackwardSums {
  const L = input(rt, 'x', x, layoutOptions(options));
  rt.checkTensor('dy', dy);
  checkSameShape('dy', dy.shape, x.shape, "x's");
  const C = L.C;
  const m = channelArray('mean', mean, C);
  if (x.size === 0) return { sumDy: new Float64Array(C), sumDyXmu: new Float64Array(C) };
  const ws = scratchWorkspace(rt, C);
  f64(rt, ws.mean, C).set(m);
  ops.backwardReduce(rt.kernels, L, dy.ptr, x.ptr, ws);
  return { sumDy: f64(rt, ws.sumDy, C).slice(), sumDyXmu: f64(rt, ws.sumDyXmu, C).slice() };
}

export function batchNormBackwardElemt(rt: Runtime, dy: Tensor, x: Tensor, stats: BackwardElemtStats, options: ElemtOptions = {}): Tensor {
  const L = input(rt, 'x', x, layoutOptions(options));
  rt.checkTensor('dy', dy);
  checkSameShape('dy', dy.shape, x.shape, "x's");
  const C = L.C;
  const weight = channelTensor(rt, 'options.weight', options.weight, C);
  const s = meanInvstd(stats, C, eps(options));
  const count = checkPositiveInteger('stats.count', stats.count);
  const sumDy = channelArray('stats.sumDy', stats.sumDy, C);
  const sumDyXmu = channelArray('stats.sumDyXmu', stats.sumDyXmu, C);
  const ws = scratchWorkspace(rt, C);
  setMeanInvstd(rt, ws, s);
  f64(rt, ws.sumDy, C).set(sumDy);
  f64(rt, ws.sumDyXmu, C).set(sumDyXmu);
  const dx = rt.outputFor('options.out', options.out, x, [x, dy]);
  if (x.size > 0) ops.backwardElemt(rt.kernels, L, dy.ptr, x.ptr, dx.ptr, weight, count, ws);
  return dx;
}
