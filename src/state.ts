// State dicts: PyTorch's key names; loading converts and checks every value into scratch
// before anything is written, and the object stateDict() returns survives JSON.stringify.
import { checkNonNegativeInteger, readNumbers, typeError } from './errors.js';

/**
 * What stateDict() returns: copies under PyTorch's keys, numbers for counters.
 *
 * @inline
 */
export type State = Record<string, Float32Array | number>;

/**
 * What loadStateDict() takes: the same keys, each tensor any array-like (a parsed JSON array too).
 *
 * @inline
 */
export type StateLike = Record<string, ArrayLike<number> | number>;

/** The keys a layer's state has: tensors by size, and counters (non-negative safe integers). */
export interface StateSpec {
  readonly tensors: readonly (readonly [key: string, size: number])[];
  readonly counters: readonly string[];
}

// Float32Arrays stringify as {"0": ...}; as plain arrays they parse back into what
// loadStateDict takes. Non-enumerable, so Object.keys and spreads see only the state.
function toJSON(this: State): Record<string, number[] | number> {
  const plain: Record<string, number[] | number> = {};
  for (const key of Object.keys(this)) {
    const value = this[key]!;
    plain[key] = typeof value === 'number' ? value : Array.from(value);
  }
  return plain;
}

/** @internal gives `state` the toJSON every stateDict() result has */
export function serializable<T extends State>(state: T): T {
  Object.defineProperty(state, 'toJSON', { value: toJSON, enumerable: false });
  return state;
}

/**
 * @internal reads `input` once against `spec`: exactly its keys (each prefixed with `prefix`,
 * the layer's place in a network, in messages), every tensor copied into a new Float32Array
 * and every counter checked. Nothing is written: the caller writes the result only when
 * this returns, so a refused state dict leaves the layer as it was.
 */
export function readState(input: unknown, spec: StateSpec, prefix = ''): Map<string, Float32Array | number> {
  if (input === null || typeof input !== 'object') throw typeError('stateDict', 'an object', input);
  const keys = [...spec.tensors.map(([key]) => key), ...spec.counters];
  const expected = keys.length > 0 ? `expected ${keys.map((k) => prefix + k).join(', ')}` : 'the layer has no state';
  for (const key of Object.keys(input)) {
    if (!keys.includes(key)) throw new RangeError(`stateDict: unexpected key "${prefix}${key}" (${expected})`);
  }
  const read = new Map<string, Float32Array | number>();
  const valueOf = (key: string): unknown => {
    const value: unknown = (input as Record<string, unknown>)[key];
    if (value === undefined) throw new RangeError(`stateDict: missing key "${prefix}${key}"`);
    return value;
  };
  for (const [key, size] of spec.tensors) read.set(key, readNumbers(`stateDict.${prefix}${key}`, valueOf(key), size, Float32Array));
  for (const key of spec.counters) read.set(key, checkNonNegativeInteger(`stateDict.${prefix}${key}`, valueOf(key)));
  return read;
}
