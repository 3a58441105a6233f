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

/** `what` (a tensor or a layer) was used after dispose(); `hint` says what to do instead. */
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
