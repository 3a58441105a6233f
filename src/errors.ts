// The one place errors are made: every message names the argument, what was expected
// and what came, so a caller can fix the call without reading our source.
//
// TypeError: the wrong kind of value, or an object in the wrong state for the call (disposed,
// from another runtime, backward before forward), as the platform does for detached buffers.
// RangeError: the right kind of value outside what is allowed (a size, a shape, a number's range).

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'boolean' || typeof value === 'symbol') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) {
    return value.length <= 8 ? `[${value.map(describe).join(', ')}]` : `an array of length ${value.length}`;
  }
  if (ArrayBuffer.isView(value)) {
    const length = 'length' in value ? (value as unknown as { length: number }).length : value.byteLength;
    return `a ${value.constructor.name} of length ${length}`;
  }
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

export function typeError(argument: string, expected: string, got: unknown): TypeError {
  return new TypeError(`${argument}: expected ${expected}, got ${describe(got)}`);
}

export function rangeError(argument: string, expected: string, got: unknown): RangeError {
  return new RangeError(`${argument}: expected ${expected}, got ${describe(got)}`);
}

/** `what` (a tensor or a layer) was used after dispose(); `hint` says why or what to do instead. */
export function disposedError(what: string, hint?: string): TypeError {
  return new TypeError(`${what} was disposed and cannot be used${hint === undefined ? '' : ` (${hint})`}`);
}

/** An operation out of order, e.g. backward() before forward(). */
export function stateError(message: string): TypeError {
  return new TypeError(message);
}

// The two ways backward() can find nothing to differentiate, worded once for every layer;
// `owner` (e.g. "Linear(3, 2)") says which layer of a network refused.
function backwardOf(owner?: string): string {
  return owner === undefined ? 'backward()' : `${owner}.backward()`;
}

/** backward() with no forward() before it. */
export function noForwardError(owner?: string): TypeError {
  return stateError(`${backwardOf(owner)}: expected a forward() first, got no saved input`);
}

/**
 * backward() a second time after one forward(): gradients accumulate, so it would add them
 * twice. PyTorch refuses this too ("Trying to backward through the graph a second time").
 */
export function secondBackwardError(owner?: string): TypeError {
  return stateError(`${backwardOf(owner)}: expected a new forward() before this backward(), got a forward() that backward() already used (a second pass would accumulate the gradients twice)`);
}

/** The input forward() saved was disposed before backward(); `input` describes it ("Tensor [4, 3]"). */
export function savedInputDisposedError(input: string, owner?: string): TypeError {
  return stateError(`${backwardOf(owner)}: expected the input forward() saved to be live, got ${input} disposed (dispose it after backward())`);
}

// A finite number in [min, max]; `argument` names the argument in the message.
export function checkNumber(argument: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw typeError(argument, `a number in [${min}, ${max}]`, value);
  if (!(value >= min && value <= max)) throw rangeError(argument, `a finite number in [${min}, ${max}]`, value);
  return value;
}

/** eps and its kin: 0 is allowed (PyTorch allows it), NaN and Infinity are not. */
export function checkNonNegativeFinite(argument: string, value: unknown): number {
  if (typeof value !== 'number') throw typeError(argument, 'a non-negative finite number', value);
  if (!(value >= 0 && value < Infinity)) throw rangeError(argument, 'a non-negative finite number', value);
  return value;
}

export function checkBoolean(argument: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw typeError(argument, 'a boolean', value);
  return value;
}

export function checkPositiveInteger(argument: string, value: unknown): number {
  if (typeof value !== 'number') throw typeError(argument, 'a positive integer', value);
  if (!Number.isSafeInteger(value) || value < 1) throw rangeError(argument, 'a positive integer', value);
  return value;
}

export function checkNonNegativeInteger(argument: string, value: unknown): number {
  if (typeof value !== 'number') throw typeError(argument, 'a non-negative integer', value);
  if (!Number.isSafeInteger(value) || value < 0) throw rangeError(argument, 'a non-negative integer', value);
  return value;
}

// Intrinsics of every typed array, captured once: they read the internal length and kind,
// which a subclass's `length` getter or an own property cannot fake.
const typedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype) as object;
const typedArrayName = Object.getOwnPropertyDescriptor(typedArrayPrototype, Symbol.toStringTag)!.get as (this: unknown) => string | undefined;
const typedArrayLength = Object.getOwnPropertyDescriptor(typedArrayPrototype, 'length')!.get as (this: unknown) => number;

type NumberArray = Float32Array | Float64Array;

/**
 * The read-once rule for array arguments: `length` is read once and every element once, by
 * index (never by iteration, which an iterator can make disagree with `length`), into a new
 * `Target`; what the caller validates and uses is that copy, so a getter cannot change it
 * between the check and the use. A typed array is copied whole by the engine (BigInt kinds
 * refused up front). `shapeNote` adds to the length message, e.g. " for shape [2, 3]".
 */
export function readNumbers<T extends NumberArray>(
  argument: string, value: unknown, length: number, Target: new (length: number) => T, shapeNote = '',
): T {
  const expected = `an array-like of ${length} numbers`;
  if (value === null || typeof value !== 'object') throw typeError(argument, expected, value);
  const kind = typedArrayName.call(value);
  if (kind !== undefined) {
    if (kind.startsWith('Big')) throw typeError(argument, expected, value);
    if (typedArrayLength.call(value) !== length) throw rangeError(argument, `${length} values${shapeNote}`, value);
    const copy = new Target(length);
    copy.set(value as ArrayLike<number>);
    return copy;
  }
  const n: unknown = (value as { length?: unknown }).length;
  if (typeof n !== 'number') throw typeError(argument, expected, value);
  if (n !== length) throw rangeError(argument, `${length} values${shapeNote}`, value);
  const copy = new Target(length);
  for (let i = 0; i < length; i++) {
    const v: unknown = (value as ArrayLike<unknown>)[i];
    if (typeof v !== 'number') throw typeError(`${argument}[${i}]`, 'a number', v);
    copy[i] = v;
  }
  return copy;
}

/** The read-once rule for arrays of anything: a plain copy read by index, `length` read once. */
export function readArray(argument: string, value: unknown, expected: string): unknown[] {
  if (!Array.isArray(value)) throw typeError(argument, expected, value);
  const n = value.length;
  const copy = new Array<unknown>(n);
  for (let i = 0; i < n; i++) copy[i] = value[i];
  return copy;
}
