/**
 * A drop-in `BatchNormalization` layer for TensorFlow.js on batchnorm-wasm's kernels: the config, weights,
 * `getConfig()` and Keras semantics of `tf.layers.batchNormalization`, with a training forward of one fused
 * kernel call and a backward of one more, on tfjs's `cpu` and `wasm` backends. tfjs is never imported: the
 * caller passes its own `tf` in.
 *
 * @packageDocumentation
 * @module batchnorm-wasm/tfjs
 */
// batchnorm-wasm/tfjs for browsers and bundlers: the runtime comes from the main entry's init().
import { init, type InitOptions } from '../index.js';
import { createWith, type TfjsBatchNorm } from './create.js';

export type { TfjsBatchNorm, BatchNormalizationArgs, BatchNormalizationClass, Tf, TfjsBatchNormalization } from './create.js';

/**
 * A BatchNormalization layer for TensorFlow.js on batchnorm-wasm's kernels. `tf` is the
 * caller's namespace (never imported here); `options` go to init() unchanged.
 *
 * Each call makes its own runtime and its own layer class. A `tf` that is not the tfjs
 * namespace is a `TypeError`; a bad option is init()'s own error.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { createTfjsBatchNorm } from 'batchnorm-wasm/tfjs';
 *
 * const bnw = await createTfjsBatchNorm(tf);
 * const model = tf.sequential();
 * model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3 }));
 * model.add(bnw.batchNormalization({ axis: -1 }));  // tf.layers.batchNormalization's config
 * model.add(tf.layers.activation({ activation: 'relu' }));
 * bnw.registerForLoading();  // tf.loadLayersModel now builds 'BatchNormalization' layers with ours
 * ```
 */
export function createTfjsBatchNorm(tf: unknown, options?: InitOptions): Promise<TfjsBatchNorm> {
  return createWith(init, tf, options);
}
