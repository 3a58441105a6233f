// batchnorm-wasm/tfjs for Node, Deno and Bun: the runtime comes from the Node entry's init().
import { init, type InitOptions } from '../index.node.js';
import { createWith, type TfjsBatchNorm } from './create.js';

export type { TfjsBatchNorm, BatchNormalizationArgs, BatchNormalizationClass, Tf, TfjsBatchNormalization } from './create.js';

/**
 * A BatchNormalization layer for TensorFlow.js on batchnorm-wasm's kernels. `tf` is the
 * caller's namespace (never imported here); `options` go to init() unchanged.
 */
export function createTfjsBatchNorm(tf: unknown, options?: InitOptions): Promise<TfjsBatchNorm> {
  return createWith(init, tf, options);
}
