// The BatchNormalization layer: tfjs's own class with call() replaced by one fused kernel
// call forward and one backward (through tf.customGrad), so build(), the weights, their
// names and order, getConfig() and serialization are tfjs's, unchanged.
import type * as tfc from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { layoutAt, type Layout } from '../shape.js';
import { FusedBatchNorm, type ChannelParams } from './fused.js';
import { FUSED_BACKENDS, tensorFrom, valuesOf } from './transfer.js';

/** What the package needs of the `tf` namespace: @tensorflow/tfjs, or tfjs-core plus tfjs-layers. */
export type Tf = typeof tfc & { layers: typeof tfl.layers };

/** The config of `tf.layers.batchNormalization`, every field: what `batchNormalization(config)` accepts. */
export type BatchNormalizationArgs = NonNullable<Parameters<typeof tfl.layers.batchNormalization>[0]>;
/** The layer `tf.layers.batchNormalization` returns; ours is an instance of a subclass of it. */
export type TfjsBatchNormalization = ReturnType<typeof tfl.layers.batchNormalization>;
type Kwargs = Parameters<TfjsBatchNormalization['call']>[1];

/** The layer class: a subclass of tfjs's own `BatchNormalization` with the same `className`. */
export interface BatchNormalizationClass {
  new (args?: BatchNormalizationArgs): TfjsBatchNormalization;
  readonly className: string;
}

/** On our class: the tfjs class it extends, so a second factory extends tfjs's, not ours. */
export const TFJS_CLASS = Symbol('batchnorm-wasm tfjs class');

/** Ranks the fused path handles; anything else goes to tfjs's own layer (and its errors). */
const MIN_RANK = 2;
const MAX_RANK = 5;

// tfjs's private fields, which the fused call() reads exactly as tfjs's call() does.
interface KerasFields {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: tfl.LayerVariable;
  beta?: tfl.LayerVariable;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}

type Grads = tfc.Tensor[];

function copyOut(tf: Tf, t: Tensor): tfc.Tensor {
  try {
    return tensorFrom(tf, t);
  } finally {
    t.dispose();
  }
}

/**
 * tfjs's BatchNormalization class `base` with call() on our kernels. `unsupported(name)` is
 * told of a backend the fused path cannot read synchronously, where tfjs's call() runs.
 */
export function defineBatchNormalization(tf: Tf, rt: Runtime, base: BatchNormalizationClass, unsupported: (backend: string) => void): BatchNormalizationClass {
  const Base = base as new (args?: BatchNormalizationArgs) => TfjsBatchNormalization;

  class BatchNormalization extends Base {
    static readonly className: string = base.className;
    static readonly [TFJS_CLASS] = base;
    readonly #fused = new FusedBatchNorm(rt);

    override call(inputs: tfc.Tensor | tfc.Tensor[], kwargs: Kwargs): tfc.Tensor | tfc.Tensor[] {
      const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0]! : null) : inputs;
      if (x === null || !this.#fusable(x)) return super.call(inputs, kwargs);
      const training = kwargs['training'] == null ? false : Boolean(kwargs['training']);
      return tf.tidy(() => (training ? this.#train(x) : this.#infer(x)));
    }

    override dispose(): ReturnType<TfjsBatchNormalization['dispose']> {
      const result = super.dispose();
      if (result.refCountAfterDispose === 0) this.#fused.dispose();
      return result;
    }

    // Everything else (int tensors, empty or rank-1 or rank-6 inputs, several inputs, a
    // backend without synchronous reads) is tfjs's own call(), with tfjs's own errors.
    #fusable(x: tfc.Tensor): boolean {
      if (x.dtype !== 'float32' || x.size === 0 || x.rank < MIN_RANK || x.rank > MAX_RANK) return false;
      const backend = tf.getBackend();
      if (FUSED_BACKENDS.includes(backend)) return true;
      unsupported(backend);
      return false;
    }

    #keras(): KerasFields {
      return this as unknown as KerasFields;
    }

    #layout(x: tfc.Tensor): Layout {
      const { axis } = this.#keras();
      return layoutAt(x.shape, axis >= 0 ? axis : axis + x.rank);
    }

    // The layer's gamma and beta as customGrad inputs (so their gradients reach tfjs) and
    // their values for the kernels.
    #params(): { tensors: tfc.Tensor[]; values: ChannelParams } {
      const k = this.#keras();
      const gamma = k.gamma?.read() ?? null;
      const beta = k.beta?.read() ?? null;
      return {
        tensors: [gamma, beta].filter((t): t is tfc.Tensor => t !== null),
        values: { gamma: gamma && (gamma.dataSync() as Float32Array), beta: beta && (beta.dataSync() as Float32Array) },
      };
    }

    #train(x: tfc.Tensor): tfc.Tensor {
      const k = this.#keras();
      const L = this.#layout(x);
      const params = this.#params();
      let batchMean: Float64Array = new Float64Array(0), batchVariance: Float32Array = new Float32Array(0);
      const normalize = tf.customGrad((...args: unknown[]) => {
        const save = args[args.length - 1] as tfc.GradSaveFunc;
        const forward = this.#fused.forwardTrain(L, x.shape, valuesOf(tf, x), params.values, k.epsilon);
        batchMean = forward.mean;
        batchVariance = forward.variance;
        const value = copyOut(tf, forward.y);
        save([x]);
        return {
          value,
          gradFunc: (dy: tfc.Tensor, saved: tfc.Tensor[]): Grads => {
            const g = this.#fused.backwardTrain(
              L, x.shape, forward.generation, valuesOf(tf, dy), () => valuesOf(tf, saved[0]!), params.values.gamma, forward.mean, forward.invstd,
            );
            const dx = copyOut(tf, g.dx);
            return [dx, ...this.#paramGrads(params.values, g.dgamma, g.dbeta)];
          },
        };
      });
      const y = normalize(x, ...params.tensors) as tfc.Tensor;
      this.#movingAverage(k.movingMean, Float32Array.from(batchMean));
      this.#movingAverage(k.movingVariance, batchVariance);
      return y;
    }

    #infer(x: tfc.Tensor): tfc.Tensor {
      const k = this.#keras();
      const L = this.#layout(x);
      const params = this.#params();
      const movingMean = k.movingMean.read(), movingVariance = k.movingVariance.read();
      const normalize = tf.customGrad((...args: unknown[]) => {
        const save = args[args.length - 1] as tfc.GradSaveFunc;
        const mean = movingMean.dataSync() as Float32Array, variance = movingVariance.dataSync() as Float32Array;
        const value = copyOut(tf, this.#fused.forwardEval(L, x.shape, valuesOf(tf, x), params.values, mean, variance, k.epsilon));
        save([x]);
        return {
          value,
          gradFunc: (dy: tfc.Tensor, saved: tfc.Tensor[]): Grads => {
            const gamma = params.values.gamma;
            const g = this.#fused.backwardEval(L, x.shape, valuesOf(tf, dy), valuesOf(tf, saved[0]!), gamma, mean, variance, k.epsilon);
            const dx = copyOut(tf, g.dx);
            // y = (x − m)·γ·invstd + β with invstd = (v + ε)^-½, so ∂/∂m = −γ·invstd·Σdy and
            // ∂/∂v = −½·γ·invstd²·Σdy·x̂ (x̂ = (x − m)·invstd).
            const dMean = Float32Array.from(g.dbeta, (s, c) => -(gamma?.[c] ?? 1) * g.invstd[c]! * s);
            const dVariance = Float32Array.from(g.dgamma, (s, c) => -0.5 * (gamma?.[c] ?? 1) * g.invstd[c]! ** 2 * s);
            return [dx, ...this.#paramGrads(params.values, g.dgamma, g.dbeta), tf.tensor1d(dMean), tf.tensor1d(dVariance)];
          },
        };
      });
      return normalize(x, ...params.tensors, movingMean, movingVariance) as tfc.Tensor;
    }

    #paramGrads(values: ChannelParams, dgamma: Float32Array, dbeta: Float32Array): Grads {
      const grads: Grads = [];
      if (values.gamma !== null) grads.push(tf.tensor1d(dgamma));
      if (values.beta !== null) grads.push(tf.tensor1d(dbeta));
      return grads;
    }

    // tfjs's own update, op for op: moving −= (moving − batch)·(1 − momentum).
    #movingAverage(variable: tfl.LayerVariable, batch: Float32Array): void {
      const decay = 1 - this.#keras().momentum;
      tf.tidy(() => {
        const moving = variable.read();
        variable.write(tf.sub(moving, tf.mul(tf.sub(moving, tf.tensor1d(batch)), decay)));
      });
    }
  }
  return BatchNormalization;
}
