// BatchNorm1d/2d/3d: PyTorch's module semantics over the kernels. The layer owns its
// parameters, running stats, gradients and one workspace; forward saves what backward needs.
import type { Runtime } from './runtime.js';
import type { Tensor } from './tensor.js';
import { disposeSymbol } from './tensor.js';
import {
  checkBoolean, checkNonNegativeFinite, checkNonNegativeInteger, checkNumber, checkPositiveInteger, disposedError, noForwardError, rangeError,
  savedInputDisposedError, typeError,
} from './errors.js';
import { checkBatchStatsCount, checkSameShape, formatShape, inputLayout, type Layout } from './shape.js';
import * as ops from './ops.js';

/**
 * Options of rt.batchNorm1d/2d/3d, PyTorch's names in camelCase; `undefined` means the default, `null` is an error except for momentum.
 */
export interface BatchNormOptions {
  /** Added to the variance for stability. Default 1e-5. */
  eps?: number;
  /** Running-stats update factor; null for a cumulative average. Default 0.1. */
  momentum?: number | null;
  /** Learnable weight (gamma) and bias (beta). Default true. */
  affine?: boolean;
  /** Keep running mean/var for eval; without, batch stats are used always. Default true. */
  trackRunningStats?: boolean;
  /** Channel axis last ([N,L,C], [N,H,W,C], [N,D,H,W,C]) instead of second. Default false. */
  channelsLast?: boolean;
}

/** A layer's state under PyTorch's state_dict keys, as copies: what stateDict() returns and loadStateDict() takes. */
export interface StateDict {
  weight?: Float32Array;
  bias?: Float32Array;
  running_mean?: Float32Array;
  running_var?: Float32Array;
  num_batches_tracked?: number;
}

const RANKS: Record<1 | 2 | 3, readonly number[]> = { 1: [2, 3], 2: [4], 3: [5] };

// TypeScript's readonly is gone at runtime; these feed sizes and pointers to the kernels, so a
// plain-JS assignment (bn.numFeatures = 100, bn.weight = other) must throw, not redirect them.
const FROZEN = [
  'numFeatures', 'eps', 'momentum', 'affine', 'trackRunningStats', 'channelsLast',
  'weight', 'bias', 'weightGrad', 'biasGrad', 'runningMean', 'runningVar',
] as const;

interface Saved {
  x: Tensor;
  layout: Layout;
  /** Batch statistics were used (training, or no running stats). */
  batchStats: boolean;
}

/**
 * PyTorch's BatchNorm1d/2d/3d: made by rt.batchNorm1d/2d/3d(numFeatures, options). It owns its parameters,
 * gradients, running statistics and a workspace; dispose() frees them.
 *
 * @example
 * ```js
 * const bn = rt.batchNorm2d(16, { momentum: 0.1 });
 * const y = bn.forward(x);               // training mode: batch statistics, running stats updated
 * const dx = bn.backward(dy);            // dγ, dβ accumulate in bn.weightGrad, bn.biasGrad
 * bn.eval();
 * const yEval = bn.forward(x);           // running statistics
 * const saved = bn.stateDict();          // { weight, bias, running_mean, running_var, num_batches_tracked }
 * ```
 */
export class BatchNorm {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  readonly channelsLast: boolean;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly weightGrad: Tensor | null;
  readonly biasGrad: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  numBatchesTracked = 0;
  training = true;
  readonly #rt: Runtime;
  readonly #dims: 1 | 2 | 3;
  #workspace: ops.Workspace | null;
  #saved: Saved | null = null;
  /** The tensors above that exist, and their names, for the disposed check. */
  readonly #owned: Tensor[] = [];
  readonly #ownedNames: string[] = [];

  /** @internal use rt.batchNorm1d/2d/3d */
  constructor(rt: Runtime, dims: 1 | 2 | 3, numFeatures: number, options: BatchNormOptions = {}) {
    const C = checkPositiveInteger('numFeatures', numFeatures);
    if (options === null || typeof options !== 'object') throw typeError('options', 'an object', options);
    // Only undefined means "default": null is a value and PyTorch would read affine=None as false.
    const eps = checkNonNegativeFinite('options.eps', options.eps === undefined ? 1e-5 : options.eps);
    const momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (momentum !== null) {
      if (typeof momentum !== 'number') throw typeError('options.momentum', 'a number in [0, 1] or null', momentum);
      checkNumber('options.momentum', momentum, 0, 1);
    }
    // The workspace is the largest allocation: refuse before the parameters are allocated.
    rt.checkAllocation(ops.Workspace.bytes(C), 'numFeatures');
    this.#rt = rt;
    this.#dims = dims;
    this.numFeatures = C;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = checkBoolean('options.affine', options.affine === undefined ? true : options.affine);
    this.trackRunningStats = checkBoolean(
      'options.trackRunningStats', options.trackRunningStats === undefined ? true : options.trackRunningStats,
    );
    this.channelsLast = checkBoolean('options.channelsLast', options.channelsLast === undefined ? false : options.channelsLast);
    const make = (name: string): Tensor => {
      const t = rt.newTensor([C], C, 'numFeatures');
      this.#owned.push(t);
      this.#ownedNames.push(name);
      return t;
    };
    try {
      this.weight = this.affine ? make('weight') : null;
      this.bias = this.affine ? make('bias') : null;
      this.weightGrad = this.affine ? make('weightGrad') : null;
      this.biasGrad = this.affine ? make('biasGrad') : null;
      this.runningMean = this.trackRunningStats ? make('runningMean') : null;
      this.runningVar = this.trackRunningStats ? make('runningVar') : null;
      this.#workspace = new ops.Workspace(rt.allocate(ops.Workspace.bytes(C), 'numFeatures'), C);
    } catch (error) {
      for (const t of this.#owned) t.dispose();
      throw error;
    }
    for (const key of FROZEN) Object.defineProperty(this, key, { writable: false });
    this.resetParameters();
    this.zeroGrad();
  }

  get disposed(): boolean {
    return this.#workspace === null;
  }

  /** Sets training mode (`mode` true, the default) or eval mode; returns the layer. */
  train(mode = true): this {
    this.#live();
    this.training = checkBoolean('mode', mode);
    return this;
  }

  /** Sets eval mode: forward() uses the running statistics (batch statistics without trackRunningStats). */
  eval(): this {
    return this.train(false);
  }

  /** y = BN(x); a new caller-owned tensor unless `out` is given. Saves x for backward. */
  forward(x: Tensor, out?: Tensor): Tensor {
    const ws = this.#live();
    const rt = this.#rt;
    rt.checkTensor('x', x);
    const layout = inputLayout('x', x.shape, this.channelsLast, RANKS[this.#dims], this.numFeatures);
    const batchStats = this.training || !this.trackRunningStats;
    if (batchStats) checkBatchStatsCount(layout, x.shape);
    const y = rt.outputFor('out', out, x, [x]);
    let momentum = 0;
    if (this.training && this.trackRunningStats) {
      this.numBatchesTracked += 1;
      momentum = this.momentum ?? 1 / this.numBatchesTracked;
    }
    if (x.size > 0) {
      const p = this.#params();
      if (batchStats) {
        ops.forwardTrain(rt.kernels, layout, x.ptr, y.ptr, p, momentum, this.eps, ws);
      } else {
        ops.forwardEval(rt.kernels, layout, x.ptr, y.ptr, p, this.eps, ws);
      }
    }
    this.#saved = { x, layout, batchStats };
    return y;
  }

  /** dx for the last forward; dγ, dβ ACCUMULATE into weightGrad, biasGrad. */
  backward(dy: Tensor, out?: Tensor): Tensor {
    const ws = this.#live();
    const rt = this.#rt;
    const saved = this.#saved;
    if (saved === null) throw noForwardError();
    if (saved.x.disposed) throw savedInputDisposedError(`Tensor ${formatShape(saved.x.shape)}`);
    rt.checkTensor('dy', dy);
    checkSameShape('dy', dy.shape, saved.x.shape, "the forward input's");
    const dx = rt.outputFor('out', out, saved.x, [saved.x, dy]);
    if (dy.size > 0) {
      const p = this.#params();
      const gw = this.weightGrad?.ptr ?? 0;
      const gb = this.biasGrad?.ptr ?? 0;
      if (saved.batchStats) ops.backwardTrain(rt.kernels, saved.layout, dy.ptr, saved.x.ptr, dx.ptr, p.weight, gw, gb, ws);
      else ops.backwardEval(rt.kernels, saved.layout, dy.ptr, saved.x.ptr, dx.ptr, p, this.eps, gw, gb, ws);
    }
    return dx;
  }

  /** Sets weightGrad and biasGrad to zero; backward() accumulates into them. */
  zeroGrad(): void {
    this.#live();
    this.weightGrad?.data.fill(0);
    this.biasGrad?.data.fill(0);
  }

  /** running_mean 0, running_var 1, numBatchesTracked 0, as PyTorch's reset_running_stats(). */
  resetRunningStats(): void {
    this.#live();
    this.runningMean?.data.fill(0);
    this.runningVar?.data.fill(1);
    this.numBatchesTracked = 0;
  }

  /** Resets the running stats, then the weight to 1 and the bias to 0, as PyTorch's reset_parameters(). */
  resetParameters(): void {
    this.resetRunningStats();
    this.weight?.data.fill(1);
    this.bias?.data.fill(0);
  }

  /** Copies of the state under PyTorch's key names. */
  stateDict(): StateDict {
    this.#live();
    const sd: StateDict = {};
    if (this.weight && this.bias) {
      sd.weight = this.weight.toArray();
      sd.bias = this.bias.toArray();
    }
    if (this.runningMean && this.runningVar) {
      sd.running_mean = this.runningMean.toArray();
      sd.running_var = this.runningVar.toArray();
      sd.num_batches_tracked = this.numBatchesTracked;
    }
    return sd;
  }

  /** Strict like PyTorch's: every key this layer has, no others; checked before anything changes. */
  loadStateDict(sd: StateDict): void {
    this.#live();
    if (sd === null || typeof sd !== 'object') throw typeError('stateDict', 'an object', sd);
    const tensors: [keyof StateDict, Tensor | null][] = [
      ['weight', this.weight], ['bias', this.bias], ['running_mean', this.runningMean], ['running_var', this.runningVar],
    ];
    const expected = tensors.filter(([, t]) => t).map(([k]) => k as string);
    if (this.trackRunningStats) expected.push('num_batches_tracked');
    for (const key of Object.keys(sd)) {
      if (!expected.includes(key)) throw new RangeError(`stateDict: unexpected key "${key}" (expected ${expected.join(', ')})`);
    }
    for (const key of expected) {
      if (!(key in sd) || sd[key as keyof StateDict] === undefined) throw new RangeError(`stateDict: missing key "${key}"`);
    }
    for (const [key, t] of tensors) {
      if (!t) continue;
      const v = sd[key] as unknown;
      if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number') {
        throw typeError(`stateDict.${key}`, `an array-like of ${this.numFeatures} numbers`, v);
      }
      if ((v as ArrayLike<number>).length !== this.numFeatures) {
        throw rangeError(`stateDict.${key}`, `${this.numFeatures} values`, v);
      }
    }
    const nbt = sd.num_batches_tracked;
    if (this.trackRunningStats) checkNonNegativeInteger('stateDict.num_batches_tracked', nbt);
    for (const [key, t] of tensors) if (t) t.data.set(sd[key] as ArrayLike<number>);
    if (this.trackRunningStats) this.numBatchesTracked = nbt as number;
  }

  /** Frees the parameters, gradients, running stats and workspace; using the layer afterwards throws. */
  dispose(): void {
    if (this.#workspace === null) return;
    for (const t of [this.weight, this.bias, this.weightGrad, this.biasGrad, this.runningMean, this.runningVar]) t?.dispose();
    this.#rt.free(this.#workspace.ptr, ops.Workspace.bytes(this.numFeatures));
    this.#workspace = null;
    this.#saved = null;
  }

  /** The same as dispose(), for `using bn = rt.batchNorm2d(...)`. */
  [disposeSymbol](): void {
    this.dispose();
  }

  // Every entry starts here, before anything is allocated or changed. A parameter disposed
  // on its own would otherwise reach the kernels as pointer 0, which they read as "absent".
  #live(): ops.Workspace {
    if (this.#workspace === null) throw disposedError(String(this));
    const owned = this.#owned;
    for (let i = 0; i < owned.length; i++) {
      if (owned[i]!.ptr === 0) throw disposedError(`${this}.${this.#ownedNames[i]}`, 'dispose the layer, not its tensors');
    }
    return this.#workspace;
  }

  /** The layer's kind and size, e.g. `BatchNorm2d(16)`, for messages and the console. */
  toString(): string {
    return `BatchNorm${this.#dims}d(${this.numFeatures})`;
  }

  #params(): ops.Params {
    return {
      weight: this.weight?.ptr ?? 0,
      bias: this.bias?.ptr ?? 0,
      runningMean: this.runningMean?.ptr ?? 0,
      runningVar: this.runningVar?.ptr ?? 0,
    };
  }
}
