// Moving values between tfjs tensors and our wasm memory with one copy each way.
//
// In: the wasm backend can hand out a view onto its own heap (typedArrayFromHeap), which
// we copy straight into ours; the cpu backend's dataSync() returns its stored array without
// a copy. Out: the wasm backend copies a new tensor's values into its heap when the tensor
// is made, so it may be given a view onto our memory; the cpu backend keeps the array it is
// given, so it gets its own copy.
import type * as tfc from '@tensorflow/tfjs-core';
import type { Tensor } from '../tensor.js';

/** The tfjs backends whose tensors are readable synchronously, which the fused path needs. */
export const FUSED_BACKENDS: readonly string[] = ['cpu', 'wasm'];

interface HeapBackend {
  typedArrayFromHeap(t: tfc.TensorInfo): Float32Array;
  dataIdMap: { has(dataId: object): boolean };
}

function isHeapBackend(backend: unknown): backend is HeapBackend {
  const b = backend as Partial<HeapBackend> | null;
  return typeof b?.typedArrayFromHeap === 'function' && typeof b.dataIdMap?.has === 'function';
}

/**
 * A float32 tensor's values, valid until the next tfjs call (a view, where the backend
 * allows one): read it, copy it, let it go.
 */
export function valuesOf(tf: typeof tfc, t: tfc.Tensor): Float32Array {
  const backend = tf.backend();
  if (isHeapBackend(backend) && backend.dataIdMap.has(t.dataId)) return backend.typedArrayFromHeap(t);
  return t.dataSync() as Float32Array;
}

/** A new tfjs tensor holding a copy of `source`'s values; `source` stays the caller's. */
export function tensorFrom(tf: typeof tfc, source: Tensor): tfc.Tensor {
  const view = source.data;
  return tf.tensor(tf.getBackend() === 'wasm' ? view : view.slice(), source.shape.slice(), 'float32');
}
