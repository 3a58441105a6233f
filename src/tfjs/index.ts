// batchnorm-wasm/tfjs for browsers and bundlers: the runtime comes from the main entry's init().
import { init, type InitOptions } from '../index.js';
import { createWith, type TfjsBatchNorm } from './create.js';

export type { TfjsBatchNorm, BatchNormalizationArgs, BatchNormalizationClass, Tf, TfjsBatchNormalization } from './create.js';

/**
 * A BatchNormalization layer for TensorFlow.js on batchnorm-wasm's kernels. `tf` is the
 * caller's namespace (never imported here); `options` go to init() unchanged.
 */
export function createTfjsBatchNorm(tf: unknown, options?: InitOptions): Promise<TfjsBatchNorm> {
  return createWith(init, tf, options);
}
