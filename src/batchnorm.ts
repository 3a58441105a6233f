// BatchNorm1d/2d/3d: PyTorch's module semantics over the kernels. The layer owns its
// parameters, running stats, gradients and one workspace; forward saves what backward needs.
import type { Runtime } from './runtime.js';
import { allocate, free } from './heap.js';
import { disposeSymbol, setOwner, type Tensor } from './tensor.js';
import {
  checkBoolean, checkNonNegativeFinite, checkNonNegativeInteger, checkNumber, checkPositiveInteger, disposedError, noForwardError,
  savedInputDisposedError, secondBackwardError, typeError,
} from './errors.js';
import { readState, serializable, type State } from './state.js';
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

/** What stateDict() returns: copies under PyTorch's key names. JSON.stringify gives plain arrays. */
export interface StateDict {
  weight?: Float32Array;
  bias?: Float32Array;
  running_mean?: Float32Array;
  running_var?: Float32Array;
  num_batches_tracked?: number;
}

/** What loadStateDict() takes: a StateDict, or the same keys with any array-likes (parsed JSON). */
export interface StateDictLike {
  weight?: ArrayLike<number>;
  bias?: ArrayLike<number>;
  running_mean?: ArrayLike<number>;
  running_var?: ArrayLike<number>;
  num_batches_tracked?: number;
}

/** Options of BatchNorm.backward(), PyTorch's retain_graph among them. */
export interface BackwardOptions {
  /** Keep the forward usable for another backward() (the gradients then accumulate again). Default false. */
  retainGraph?: boolean;
}

function backwardOptions(options: BackwardOptions | undefined): boolean {
  if (options === undefined) return false;
  if (options === null || typeof options !== 'object') throw typeError('options', 'an object', options);
  return checkBoolean('options.retainGraph', options.retainGraph === undefined ? false : options.retainGraph);
}

const RANKS: Record<1 | 2 | 3, readonly number[]> = { 1: [2, 3], 2: [4], 3: [5] };

interface Saved {
  x: Tensor;
  layout: Layout;
  /** Batch statistics were used (training, or no running stats). */
  batchStats: boolean;
  /** backward() already ran for this forward: a second would accumulate the gradients twice. */
  used: boolean;
}

// Held only by this module: the constructor refuses any caller that does not have it.
const INTERNAL = Symbol('batchnorm-wasm internal');

let construct: (rt: Runtime, dims: 1 | 2 | 3, numFeatures: number, options?: BatchNormOptions) => BatchNorm;
let loadPrefixed: (bn: BatchNorm, sd: StateDictLike, prefix: string) => void;

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
  // Private fields behind getters, on a frozen instance with a frozen prototype: these size
  // the kernel calls and hold their pointers, so plain JS (bn.numFeatures = 100,
  // bn.weight = other, Object.defineProperty) must not reach them.
  readonly #numFeatures: number;
  readonly #eps: number;
  readonly #momentum: number | null;
  readonly #affine: boolean;
  readonly #trackRunningStats: boolean;
  readonly #channelsLast: boolean;
  readonly #weight: Tensor | null;
  readonly #bias: Tensor | null;
  readonly #weightGrad: Tensor | null;
  readonly #biasGrad: Tensor | null;
  readonly #runningMean: Tensor | null;
  readonly #runningVar: Tensor | null;
  #numBatchesTracked = 0;
  #training = true;
  readonly #rt: Runtime;
  readonly #dims: 1 | 2 | 3;
  #workspace: ops.Workspace | null;
  #saved: Saved | null = null;
  /** The tensors above that exist, and their names, for the disposed check. */
  readonly #owned: Tensor[] = [];
  readonly #ownedNames: string[] = [];

  static {
    construct = (rt, dims, numFeatures, options) => new BatchNorm(INTERNAL, rt, dims, numFeatures, options);
    loadPrefixed = (bn, sd, prefix) => bn.#load(sd, prefix);
  }

  /** Layers come from rt.batchNorm1d/2d/3d; this constructor refuses every other caller. */
  private constructor(token: unknown, rt: Runtime, dims: 1 | 2 | 3, numFeatures: number, options: BatchNormOptions = {}) {
    if (token !== INTERNAL) throw new TypeError('BatchNorm: use rt.batchNorm1d/2d/3d(numFeatures, options); the constructor is internal');
    const C = checkPositiveInteger('numFeatures', numFeatures);
    if (options === null || typeof options !== 'object') throw typeError('options', 'an object', options);
    // Only undefined means "default": null is a value and PyTorch would read affine=None as false.
    const eps = checkNonNegativeFinite('options.eps', options.eps === undefined ? 1e-5 : options.eps);
    const momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (momentum !== null) {
      if (typeof momentum !== 'number') throw typeError('options.momentum', 'a number in [0, 1] or null', momentum);
      checkNumber('options.momentum', momentum, 0, 1);
    }
    const affine = checkBoolean('options.affine', options.affine === undefined ? true : options.affine);
    const trackRunningStats = checkBoolean(
      'options.trackRunningStats', options.trackRunningStats === undefined ? true : options.trackRunningStats,
    );
    const channelsLast = checkBoolean('options.channelsLast', options.channelsLast === undefined ? false : options.channelsLast);
    // The workspace is the largest allocation: refuse before the parameters are allocated.
    rt.checkAllocation(ops.Workspace.bytes(C), 'numFeatures');
    this.#rt = rt;
    this.#dims = dims;
    this.#numFeatures = C;
    this.#eps = eps;
    this.#momentum = momentum;
    this.#affine = affine;
    this.#trackRunningStats = trackRunningStats;
    this.#channelsLast = channelsLast;
    const make = (name: string): Tensor => {
      const t = rt.newTensor([C], C, 'numFeatures');
      setOwner(t, String(this));
      this.#owned.push(t);
      this.#ownedNames.push(name);
      return t;
    };
    try {
      this.#weight = affine ? make('weight') : null;
      this.#bias = affine ? make('bias') : null;
      this.#weightGrad = affine ? make('weightGrad') : null;
      this.#biasGrad = affine ? make('biasGrad') : null;
      this.#runningMean = trackRunningStats ? make('runningMean') : null;
      this.#runningVar = trackRunningStats ? make('runningVar') : null;
      this.#workspace = new ops.Workspace(allocate(rt, ops.Workspace.bytes(C), 'numFeatures'), C);
    } catch (error) {
      for (const t of this.#owned) t.dispose();
      throw error;
    }
    this.resetParameters();
    this.zeroGrad();
    Object.freeze(this);
  }

  get numFeatures(): number { return this.#numFeatures; }
  get eps(): number { return this.#eps; }
  get momentum(): number | null { return this.#momentum; }
  get affine(): boolean { return this.#affine; }
  get trackRunningStats(): boolean { return this.#trackRunningStats; }
  get channelsLast(): boolean { return this.#channelsLast; }
  get weight(): Tensor | null { return this.#weight; }
  get bias(): Tensor | null { return this.#bias; }
  get weightGrad(): Tensor | null { return this.#weightGrad; }
  get biasGrad(): Tensor | null { return this.#biasGrad; }
  get runningMean(): Tensor | null { return this.#runningMean; }
  get runningVar(): Tensor | null { return this.#runningVar; }

  /** Training mode (batch statistics, running stats updated); a boolean, as train(mode) sets it. */
  get training(): boolean {
    return this.#training;
  }

  set training(mode: boolean) {
    this.#training = checkBoolean('training', mode);
  }

  /** Training batches seen; a non-negative safe integer (the cumulative average divides by it). */
  get numBatchesTracked(): number {
    return this.#numBatchesTracked;
  }

  set numBatchesTracked(count: number) {
    this.#numBatchesTracked = checkNonNegativeInteger('numBatchesTracked', count);
  }

  get disposed(): boolean {
    return this.#workspace === null;
  }

  /** Sets training mode (`mode` true, the default) or eval mode; returns the layer. */
  train(mode = true): this {
    this.#live();
    this.#training = checkBoolean('mode', mode);
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
    const layout = inputLayout('x', x.shape, this.#channelsLast, RANKS[this.#dims], this.#numFeatures);
    const batchStats = this.#training || !this.#trackRunningStats;
    if (batchStats) checkBatchStatsCount(layout, x.shape);
    const tracking = this.#training && this.#trackRunningStats;
    if (tracking && this.#numBatchesTracked === Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`numBatchesTracked: ${this}'s count would pass Number.MAX_SAFE_INTEGER (reset it with resetRunningStats())`);
    }
    const y = rt.outputFor('out', out, x, [x]);
    let momentum = 0;
    if (tracking) {
      this.#numBatchesTracked += 1;
      momentum = this.#momentum ?? 1 / this.#numBatchesTracked;
    }
    if (x.size > 0) {
      const p = this.#params();
      if (batchStats) {
        ops.forwardTrain(rt.kernels, layout, x.ptr, y.ptr, p, momentum, this.#eps, ws);
      } else {
        ops.forwardEval(rt.kernels, layout, x.ptr, y.ptr, p, this.#eps, ws);
      }
    }
    this.#saved = { x, layout, batchStats, used: false };
    return y;
  }

  /**
   * dx for the last forward; dγ, dβ ACCUMULATE into weightGrad, biasGrad. Once per forward,
   * as PyTorch frees its graph: a second call throws instead of adding the gradients twice,
   * unless the previous backward() passed `retainGraph: true` (PyTorch's retain_graph).
   */
  backward(dy: Tensor, out?: Tensor, options?: BackwardOptions): Tensor {
    const ws = this.#live();
    const retainGraph = backwardOptions(options);
    const rt = this.#rt;
    const saved = this.#saved;
    if (saved === null) throw noForwardError();
    if (saved.used) throw secondBackwardError();
    if (saved.x.disposed) throw savedInputDisposedError(`Tensor ${formatShape(saved.x.shape)}`);
    rt.checkTensor('dy', dy);
    checkSameShape('dy', dy.shape, saved.x.shape, "the forward input's");
    const dx = rt.outputFor('out', out, saved.x, [saved.x, dy]);
    if (dy.size > 0) {
      const p = this.#params();
      const gw = this.#weightGrad?.ptr ?? 0;
      const gb = this.#biasGrad?.ptr ?? 0;
      if (saved.batchStats) ops.backwardTrain(rt.kernels, saved.layout, dy.ptr, saved.x.ptr, dx.ptr, p.weight, gw, gb, ws);
      else ops.backwardEval(rt.kernels, saved.layout, dy.ptr, saved.x.ptr, dx.ptr, p, this.#eps, gw, gb, ws);
    }
    saved.used = !retainGraph;
    return dx;
  }

  /** Sets weightGrad and biasGrad to zero; backward() accumulates into them. */
  zeroGrad(): void {
    this.#live();
    this.#weightGrad?.data.fill(0);
    this.#biasGrad?.data.fill(0);
  }

  /** running_mean 0, running_var 1, numBatchesTracked 0, as PyTorch's reset_running_stats(). */
  resetRunningStats(): void {
    this.#live();
    this.#runningMean?.data.fill(0);
    this.#runningVar?.data.fill(1);
    this.#numBatchesTracked = 0;
  }

  /** Resets the running stats, then the weight to 1 and the bias to 0, as PyTorch's reset_parameters(). */
  resetParameters(): void {
    this.resetRunningStats();
    this.#weight?.data.fill(1);
    this.#bias?.data.fill(0);
  }

  /** Copies of the state under PyTorch's key names; JSON.stringify turns it into plain arrays. */
  stateDict(): StateDict {
    this.#live();
    const sd: StateDict = {};
    if (this.#weight && this.#bias) {
      sd.weight = this.#weight.toArray();
      sd.bias = this.#bias.toArray();
    }
    if (this.#runningMean && this.#runningVar) {
      sd.running_mean = this.#runningMean.toArray();
      sd.running_var = this.#runningVar.toArray();
      sd.num_batches_tracked = this.#numBatchesTracked;
    }
    return serializable(sd as State) as StateDict;
  }

  /**
   * Strict like PyTorch's: every key this layer has, no others. Every value is converted and
   * checked before anything is written.
   */
  loadStateDict(sd: StateDictLike): void {
    this.#load(sd, '');
  }

  /** loadStateDict, with `prefix` (the layer's place in a network, "1.") in the messages. */
  #load(sd: StateDictLike, prefix: string): void {
    this.#live();
    const tensors = this.#stateTensors();
    const read = readState(sd, {
      tensors: tensors.map(([key]) => [key, this.#numFeatures] as const),
      counters: this.#trackRunningStats ? ['num_batches_tracked'] : [],
    }, prefix);
    for (const [key, t] of tensors) t.data.set(read.get(key) as Float32Array);
    if (this.#trackRunningStats) this.#numBatchesTracked = read.get('num_batches_tracked') as number;
  }

  /** Frees the parameters, gradients, running stats and workspace; using the layer afterwards throws. */
  dispose(): void {
    if (this.#workspace === null) return;
    for (const t of this.#owned) t.dispose();
    free(this.#rt, this.#workspace.ptr, ops.Workspace.bytes(this.#numFeatures));
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
    return `BatchNorm${this.#dims}d(${this.#numFeatures})`;
  }

  /** The tensors of the state dict, under PyTorch's keys. */
  #stateTensors(): [string, Tensor][] {
    const named: [string, Tensor | null][] = [
      ['weight', this.#weight], ['bias', this.#bias], ['running_mean', this.#runningMean], ['running_var', this.#runningVar],
    ];
    return named.filter((entry): entry is [string, Tensor] => entry[1] !== null);
  }

  #params(): ops.Params {
    return {
      weight: this.#weight?.ptr ?? 0,
      bias: this.#bias?.ptr ?? 0,
      runningMean: this.#runningMean?.ptr ?? 0,
      runningVar: this.#runningVar?.ptr ?? 0,
    };
  }

  static {
    Object.freeze(this.prototype);
    Object.freeze(this);
  }
}

/** @internal the one way to make a layer: rt.batchNorm1d/2d/3d call it */
export function makeBatchNorm(rt: Runtime, dims: 1 | 2 | 3, numFeatures: number, options?: BatchNormOptions): BatchNorm {
  return construct(rt, dims, numFeatures, options);
}

/**
 * @internal bn.loadStateDict(sd) for a layer inside a network: `prefix` ("1.") makes the
 * messages name the full key ("stateDict.1.running_var")
 */
export function loadStateDictAt(bn: BatchNorm, sd: StateDictLike, prefix: string): void {
  loadPrefixed(bn, sd, prefix);
}
