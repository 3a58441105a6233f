// The wasm half of one tfjs layer: each call copies its input into the runtime's memory,
// makes one fused kernel call and leaves the output there for the caller to copy out. The
// input of the latest training forward stays in wasm memory for its backward (one saved
// batch per layer, replaced by the next training forward, freed by dispose()).
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { sameShape, type Layout } from '../shape.js';
import * as ops from '../ops.js';
import { f64, scratchWorkspace } from '../heap.js';

/** Per-channel values of one call, f32 as tfjs holds them; null where the layer has none. */
export interface ChannelParams {
  gamma: Float32Array | null;
  beta: Float32Array | null;
}

export interface TrainForward {
  /** Output in wasm memory; the caller copies it out and disposes it. */
  y: Tensor;
  /** Batch mean and 1/sqrt(biased variance + epsilon), f64 as the kernel computed them. */
  mean: Float64Array;
  invstd: Float64Array;
  /** The biased batch variance, M2/n, for the moving variance. */
  variance: Float32Array;
  /** Identifies the saved input; a later training forward replaces it. */
  generation: number;
}

export interface Backward {
  /** dx in wasm memory; the caller copies it out and disposes it. */
  dx: Tensor;
  /** Σdy·x̂ per channel (the gamma gradient whether or not the layer has gamma). */
  dgamma: Float32Array;
  /** Σdy per channel. */
  dbeta: Float32Array;
}

export class FusedBatchNorm {
  readonly #rt: Runtime;
  #saved: Tensor | null = null;
  #generation = 0;

  constructor(rt: Runtime) {
    this.#rt = rt;
  }

  forwardTrain(L: Layout, shape: readonly number[], x: Float32Array, p: ChannelParams, epsilon: number): TrainForward {
    const rt = this.#rt;
    const saved = this.#savedFor(shape, x.length);
    saved.data.set(x);
    const generation = ++this.#generation;
    const temporary: Tensor[] = [];
    try {
      const params = this.#params(p, temporary);
      const ws = scratchWorkspace(this.#rt, L.C);
      const y = rt.newTensor(shape, x.length);
      // Running stats 0: Keras updates them its own way, from the statistics returned here.
      ops.forwardTrain(rt.kernels, L, saved.ptr, y.ptr, params, 0, epsilon, ws);
      const mean = f64(rt, ws.mean, L.C).slice();
      const invstd = f64(rt, ws.invstd, L.C).slice();
      const variance = Float32Array.from(f64(rt, ws.m2, L.C), (m2) => m2 / L.count);
      return { y, mean, invstd, variance, generation };
    } finally {
      for (const t of temporary) t.dispose();
    }
  }

  /**
   * The training backward of the forward numbered `generation`. Its input is still saved
   * unless another training forward (the same layer applied twice in one tape) replaced
   * it; then `x()` gives it again and it is copied in once more.
   */
  backwardTrain(
    L: Layout, shape: readonly number[], generation: number, dy: Float32Array, x: () => Float32Array,
    gamma: Float32Array | null, mean: Float64Array, invstd: Float64Array,
  ): Backward {
    const rt = this.#rt;
    const temporary: Tensor[] = [];
    try {
      const xw = generation === this.#generation && this.#saved !== null ? this.#saved : this.#copyIn(shape, x(), temporary);
      const dyw = this.#copyIn(shape, dy, temporary);
      const weight = this.#params({ gamma, beta: null }, temporary).weight;
      const grads = this.#grads(L.C, temporary);
      const ws = scratchWorkspace(this.#rt, L.C);
      f64(rt, ws.mean, L.C).set(mean);
      f64(rt, ws.invstd, L.C).set(invstd);
      const dx = rt.newTensor(shape, dy.length);
      ops.backwardTrain(rt.kernels, L, dyw.ptr, xw.ptr, dx.ptr, weight, grads.dgamma.ptr, grads.dbeta.ptr, ws);
      return { dx, dgamma: grads.dgamma.toArray(), dbeta: grads.dbeta.toArray() };
    } finally {
      for (const t of temporary) t.dispose();
    }
  }

  forwardEval(L: Layout, shape: readonly number[], x: Float32Array, p: ChannelParams, movingMean: Float32Array, movingVariance: Float32Array, epsilon: number): Tensor {
    const rt = this.#rt;
    const temporary: Tensor[] = [];
    try {
      const params = this.#params(p, temporary, movingMean, movingVariance);
      const xw = this.#copyIn(shape, x, temporary);
      const ws = scratchWorkspace(this.#rt, L.C);
      const y = rt.newTensor(shape, x.length);
      ops.forwardEval(rt.kernels, L, xw.ptr, y.ptr, params, epsilon, ws);
      return y;
    } finally {
      for (const t of temporary) t.dispose();
    }
  }

  /** The inference-mode backward: the moving statistics were constants of the forward. */
  backwardEval(
    L: Layout, shape: readonly number[], dy: Float32Array, x: Float32Array, gamma: Float32Array | null,
    movingMean: Float32Array, movingVariance: Float32Array, epsilon: number,
  ): Backward & { invstd: Float64Array } {
    const rt = this.#rt;
    const temporary: Tensor[] = [];
    try {
      const params = this.#params({ gamma, beta: null }, temporary, movingMean, movingVariance);
      const dyw = this.#copyIn(shape, dy, temporary);
      const xw = this.#copyIn(shape, x, temporary);
      const grads = this.#grads(L.C, temporary);
      const ws = scratchWorkspace(this.#rt, L.C);
      const dx = rt.newTensor(shape, dy.length);
      ops.backwardEval(rt.kernels, L, dyw.ptr, xw.ptr, dx.ptr, params, epsilon, grads.dgamma.ptr, grads.dbeta.ptr, ws);
      const invstd = f64(rt, ws.invstd, L.C).slice();
      return { dx, dgamma: grads.dgamma.toArray(), dbeta: grads.dbeta.toArray(), invstd };
    } finally {
      for (const t of temporary) t.dispose();
    }
  }

  /** Frees the saved input; a backward after this copies its input in again. */
  dispose(): void {
    this.#saved?.dispose();
    this.#saved = null;
    this.#generation++;
  }

  // The saved buffer is reused while the input shape stays the same (a training loop).
  #savedFor(shape: readonly number[], size: number): Tensor {
    const saved = this.#saved;
    if (saved !== null && sameShape(saved.shape, shape)) return saved;
    this.dispose();
    this.#saved = this.#rt.newTensor(shape, size);
    return this.#saved;
  }

  /** A new tensor holding `values`, added to `owned` (which the caller disposes). */
  #copyIn(shape: readonly number[], values: Float32Array, owned: Tensor[]): Tensor {
    const t = this.#rt.newTensor(shape, values.length);
    owned.push(t);
    t.data.set(values);
    return t;
  }

  // Gradient accumulators, added to `owned`: the kernels add into them, so they start at zero.
  #grads(C: number, owned: Tensor[]): { dgamma: Tensor; dbeta: Tensor } {
    const dgamma = this.#rt.tensor([C]);
    owned.push(dgamma);
    const dbeta = this.#rt.tensor([C]);
    owned.push(dbeta);
    return { dgamma, dbeta };
  }

  // The per-channel values in wasm memory, added to `owned`; pointer 0 where absent.
  #params(p: ChannelParams, owned: Tensor[], movingMean?: Float32Array, movingVariance?: Float32Array): ops.Params {
    const put = (values: Float32Array | null | undefined): number => (values == null ? 0 : this.#copyIn([values.length], values, owned).ptr);
    return { weight: put(p.gamma), bias: put(p.beta), runningMean: put(movingMean), runningVar: put(movingVariance) };
  }
}
