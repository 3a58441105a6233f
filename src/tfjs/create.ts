// createTfjsBatchNorm: one runtime and one layer class bound to the caller's own `tf`.
import type { InitOptions } from '../init.js';
import type { Runtime } from '../runtime.js';
import { typeError } from '../errors.js';
import {
  defineBatchNormalization, TFJS_CLASS, type BatchNormalizationArgs, type BatchNormalizationClass, type Tf, type TfjsBatchNormalization,
} from './layer.js';

/** What {@link createTfjsBatchNorm} returns: a layer factory, its class and the runtime they share. */
export interface TfjsBatchNorm {
  /** The batchnorm-wasm runtime whose memory and kernels the layers use. */
  readonly runtime: Runtime;
  /** The layer class (className 'BatchNormalization'), a subclass of tfjs's own. */
  readonly BatchNormalization: BatchNormalizationClass;
  /** tf.layers.batchNormalization's counterpart: the same config, the same weights. */
  batchNormalization(config?: BatchNormalizationArgs): TfjsBatchNormalization;
  /**
   * Makes tf.loadLayersModel (and every deserialization) build 'BatchNormalization' layers
   * with this class. Returns a function that puts back the class registered before.
   */
  registerForLoading(): () => void;
}

export type { BatchNormalizationArgs, BatchNormalizationClass, Tf, TfjsBatchNormalization };

type ClassEntry = [BatchNormalizationClass, unknown];

function checkTf(tf: unknown): Tf {
  const t = tf as Partial<Tf> | null;
  if (
    t === null || typeof t !== 'object' || typeof t.customGrad !== 'function' || typeof t.layers?.batchNormalization !== 'function' ||
    typeof t.serialization?.SerializationMap?.getMap !== 'function'
  ) {
    throw typeError('tf', 'the @tensorflow/tfjs namespace (import * as tf from \'@tensorflow/tfjs\')', tf);
  }
  return t as Tf;
}

function classNameMap(tf: Tf): Record<string, ClassEntry> {
  return tf.serialization.SerializationMap.getMap().classNameMap as unknown as Record<string, ClassEntry>;
}

// tfjs's own class, even when an earlier factory's class is the one registered now.
function tfjsClass(tf: Tf): BatchNormalizationClass {
  const registered = classNameMap(tf)['BatchNormalization']?.[0] as (BatchNormalizationClass & { [TFJS_CLASS]?: BatchNormalizationClass }) | undefined;
  if (registered === undefined) throw new TypeError('tf: expected tfjs-layers to have registered its BatchNormalization class, got none');
  return registered[TFJS_CLASS] ?? registered;
}

export async function createWith(
  init: (options?: InitOptions) => Promise<Runtime>, tf: unknown, options?: InitOptions,
): Promise<TfjsBatchNorm> {
  const t = checkTf(tf);
  const base = tfjsClass(t);
  const runtime = await init(options);
  const warned = new Set<string>();
  const BatchNormalization = defineBatchNormalization(t, runtime, base, (backend) => {
    if (warned.has(backend)) return;
    warned.add(backend);
    console.warn(
      `batchnorm-wasm/tfjs: the "${backend}" backend cannot be read synchronously, so BatchNormalization layers run tfjs's own batch norm there (the fused kernels run on the cpu and wasm backends)`,
    );
  });
  return {
    runtime,
    BatchNormalization,
    batchNormalization: (config) => new BatchNormalization(config),
    registerForLoading: () => {
      const previous = classNameMap(t)['BatchNormalization']?.[0] ?? base;
      t.serialization.registerClass(BatchNormalization as unknown as Parameters<Tf['serialization']['registerClass']>[0]);
      return () => {
        t.serialization.registerClass(previous as unknown as Parameters<Tf['serialization']['registerClass']>[0]);
      };
    },
  };
}
