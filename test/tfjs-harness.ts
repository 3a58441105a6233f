// Shared by the tfjs suites: the two backends, layers built twice with the same weights,
// and the bound our layer is held to against tfjs's own.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { FUSED_BACKENDS } from '../src/tfjs/transfer.js';
import { maxAbs, maxAbsDiff, type Values } from './reference.js';

export { tf };

/** The tfjs backends the fused path runs on. */
export const BACKENDS = FUSED_BACKENDS;

export async function useBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend ${name} did not start`);
  await tf.ready();
}

/**
 * Ours must be within max(2·e_tfjs, 1e-5·max|ref|) of the f64 reference, e_tfjs being
 * tfjs's own f32 error on the same inputs against that reference: "as accurate as tfjs",
 * with a factor 2 for a different but equally good summation order, and a floor so that
 * values tfjs happens to get exactly do not demand bit-identical results. This is the
 * golden suite's bound against PyTorch, with tfjs in PyTorch's place.
 */
export function checkAgainst(what: string, ours: Values, tfjs: Values, ref: Values): string | null {
  const eTfjs = maxAbsDiff(tfjs, ref).err;
  const bound = Math.max(2 * eTfjs, 1e-5 * maxAbs(ref));
  const { err, at } = maxAbsDiff(ours, ref);
  if (err <= bound) return null;
  return `${what}: max error ${err.toExponential(3)} > bound ${bound.toExponential(3)} (tfjs ${eTfjs.toExponential(3)}; at [${at}] ours ${ours[at]} ref ${ref[at]})`;
}

/** `values` of `shape` with axis `axis` moved last: tfjs's native layout, and the reference's. */
export function moveAxisLast(values: Values, shape: readonly number[], axis: number): Float64Array {
  const before = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const C = shape[axis]!;
  const after = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float64Array(values.length);
  // Element (n, c, s) of [before, C, after] moves to (n, s, c).
  for (let n = 0; n < before; n++) {
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < after; s++) out[(n * after + s) * C + c] = values[(n * C + c) * after + s]!;
    }
  }
  return out;
}
