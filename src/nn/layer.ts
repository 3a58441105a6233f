// What Sequential needs from a layer, and the pieces every layer shares: checked inputs,
// output tensors the layer owns and reuses from step to step, one backward per forward,
// and state dicts checked and converted in full before anything is written.
import { Runtime } from '../runtime.js';
import { Tensor } from '../tensor.js';
import { formatShape, sameShape, sizeOf } from '../shape.js';
import {
  checkBoolean, checkNonNegativeInteger, disposedError, noForwardError, rangeError, savedInputDisposedError, stateError, typeError,
} from '../errors.js';

/** A learnable tensor and the gradient that backward() accumulates into. */
export interface Parameter {
  /** PyTorch's name within its layer: 'weight' or 'bias'. */
  readonly name: string;
  readonly value: Tensor;
  readonly grad: Tensor;
}

/** Tensors by name, PyTorch's state_dict keys (numbers for counters). */
export type LayerState = Record<string, Float32Array | number>;

/** What loadStateDict() accepts: the values may be any array-likes of numbers (parsed JSON). */
export type LayerStateInput = Record<string, ArrayLike<number> | number>;

/**
 * A layer of a Sequential. Outputs belong to the layer: forward() and backward() return
 * tensors that stay valid until the layer's next call of the same method (copy with
 * toArray() to keep one). forward() keeps a reference to its input for backward(), and
 * one backward() follows each forward().
 */
export interface Layer {
  training: boolean;
  /** The last forward()'s result, or null before the first. */
  readonly output: Tensor | null;
  forward(x: Tensor): Tensor;
  /**
   * Gradients of the parameters ACCUMULATE; returns dx, or null when `inputGrad` is
   * false and the layer may skip computing it (the first layer of a network).
   */
  backward(dy: Tensor, inputGrad?: boolean): Tensor | null;
  /**
   * The shape forward() returns for an input of `inputShape`; throws what forward() would
   * for it, and runs nothing. A Sequential checks its whole chain with it first.
   */
  outputShape(inputShape: readonly number[]): readonly number[];
  /**
   * The shape of dx backward() returns for a dy of `dyShape`; throws what backward() would
   * now (no forward, a second backward, a disposed saved input, a wrong shape), runs nothing.
   */
  inputGradShape(dyShape: readonly number[]): readonly number[];
  parameters(): Parameter[];
  zeroGrad(): void;
  train(mode?: boolean): this;
  eval(): this;
  stateDict(): LayerState;
  loadStateDict(state: LayerStateInput): void;
  /**
   * Checks `state` in full and converts it to the layer's own kinds; returns the write,
   * which cannot fail. `prefix` ('1.' inside a Sequential) makes messages name full keys.
   */
  prepareLoad(state: LayerStateInput, prefix: string): () => void;
  dispose(): void;
}

/** A tensor a layer owns and reuses while the requested shape stays the same. */
export class Owned {
  #tensor: Tensor | null = null;

  get current(): Tensor | null {
    return this.#tensor;
  }

  get(rt: Runtime, shape: readonly number[]): Tensor {
    return this.write(rt, shape, (t) => t);
  }

  /**
   * Calls `fill` with the tensor for `shape`. When that needs a new tensor, it replaces
   * the owned one only if `fill` returns: a call that throws (bad input found by a
   * wrapped layer) leaves the previous tensor owned and nothing extra alive. A tensor
   * disposed from outside is never reused: its pointer is 0.
   */
  write<R>(rt: Runtime, shape: readonly number[], fill: (t: Tensor) => R): R {
    const t = this.#tensor;
    if (t !== null && !t.disposed && t.runtime === rt && sameShape(t.shape, shape)) return fill(t);
    const fresh = rt.newTensor(shape, sizeOf(shape));
    let result: R;
    try {
      result = fill(fresh);
    } catch (error) {
      fresh.dispose();
      throw error;
    }
    t?.dispose();
    this.#tensor = fresh;
    return result;
  }

  dispose(): void {
    this.#tensor?.dispose();
    this.#tensor = null;
  }
}

/** backward() a second time after one forward(): PyTorch refuses it too (the graph is freed). */
export function backwardTwiceError(layer: string): TypeError {
  return stateError(`${layer}.backward(): expected one backward() per forward(), got a second backward() (run forward() again first)`);
}

/** A tensor a layer owns, its output or input gradient, was disposed by someone else. */
export function ownedOutputDisposedError(layer: string, t: Tensor): TypeError {
  return disposedError(`Tensor ${formatShape(t.shape)}`, `it is owned by ${layer}; layers own their outputs: copy it with rt.tensor(t.shape, t.data) to keep it`);
}

/**
 * The bookkeeping every nn layer shares: the training flag, disposal, the output and
 * input-gradient tensors it owns, the input forward() saved, one backward() per forward(),
 * and the checks that run before anything is written. Subclasses say which shapes they
 * take (checkShape), what forward and backward compute (run, runBackward) and what state
 * they keep (parameters, prepareLoad, release). All state is private: a plain-JS
 * assignment cannot change what sizes a kernel call.
 */
export abstract class LayerBase implements Layer {
  readonly #rt: Runtime | null;
  #training = true;
  #disposed = false;
  readonly #out = new Owned();
  readonly #dx = new Owned();
  #input: Tensor | null = null;
  #backwardDone = false;

  /** `rt` null: each input's own runtime (a wrapped BatchNorm checks it itself). */
  protected constructor(rt: Runtime | null) {
    if (rt !== null && !(rt instanceof Runtime)) throw typeError('rt', 'a Runtime (from init())', rt);
    this.#rt = rt;
  }

  get training(): boolean {
    return this.#training;
  }

  set training(mode: boolean) {
    this.#training = checkBoolean('training', mode);
  }

  get output(): Tensor | null {
    return this.#out.current;
  }

  /** The shape of the output for an input of `inputShape`; a RangeError naming x otherwise. */
  protected abstract checkShape(inputShape: readonly number[]): readonly number[];
  /** Writes the output of x into y; everything is checked. */
  protected abstract run(x: Tensor, y: Tensor): void;
  /** Accumulates the parameter gradients and writes dx unless it is null. */
  protected abstract runBackward(dy: Tensor, x: Tensor, dx: Tensor | null): void;
  /** Frees the subclass's own tensors; dispose() calls it once. */
  protected abstract release(): void;

  /** What backward() reads besides dy must be live: by default the saved input. */
  protected checkSaved(x: Tensor): void {
    checkSavedInput(x, String(this));
  }

  /** True when backward() computes dx even when the caller does not want it. */
  protected get alwaysComputesDx(): boolean {
    return false;
  }

  outputShape(inputShape: readonly number[]): readonly number[] {
    this.live();
    return this.checkShape(inputShape);
  }

  inputGradShape(dyShape: readonly number[]): readonly number[] {
    this.live();
    const x = this.#input;
    const out = this.#out.current;
    if (x === null || out === null) throw noForwardError(String(this));
    if (this.#backwardDone) throw backwardTwiceError(String(this));
    this.checkSaved(x);
    if (!sameShape(dyShape, out.shape)) {
      throw new RangeError(`dy: expected shape ${formatShape(out.shape)} (${this}'s output), got ${formatShape(dyShape)}`);
    }
    return x.shape;
  }

  forward(x: Tensor): Tensor {
    this.live();
    const rt = this.#runtimeFor('x', x);
    if (x === this.#out.current) {
      throw new RangeError(`x: must not be ${this}'s own output, which forward() overwrites (copy it with rt.tensor(x.shape, x.data))`);
    }
    const shape = this.checkShape(x.shape);
    const y = this.#out.write(rt, shape, (y) => {
      this.run(x, y);
      return y;
    });
    this.#input = x;
    this.#backwardDone = false;
    return y;
  }

  backward(dy: Tensor, inputGrad = true): Tensor | null {
    this.live();
    checkBoolean('inputGrad', inputGrad);
    const rt = this.#runtimeFor('dy', dy);
    if (dy === this.#dx.current) {
      throw new RangeError(`dy: must not be ${this}'s own input gradient, which backward() overwrites (copy it with rt.tensor(dy.shape, dy.data))`);
    }
    const dxShape = this.inputGradShape(dy.shape);
    const x = this.#input!;
    let dx: Tensor | null = null;
    if (inputGrad || this.alwaysComputesDx) {
      dx = this.#dx.write(rt, dxShape, (dx) => {
        this.runBackward(dy, x, dx);
        return dx;
      });
    } else {
      this.runBackward(dy, x, null);
    }
    this.#backwardDone = true;
    return inputGrad ? dx : null;
  }

  parameters(): Parameter[] {
    return [];
  }

  zeroGrad(): void {
    this.live();
    for (const p of this.parameters()) p.grad.data.fill(0);
  }

  train(mode = true): this {
    this.live();
    this.training = checkBoolean('mode', mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  stateDict(): LayerState {
    this.live();
    const state: LayerState = {};
    for (const p of this.parameters()) state[p.name] = p.value.toArray();
    return state;
  }

  loadStateDict(state: LayerStateInput): void {
    this.live();
    this.prepareLoad(state, '')();
  }

  /** By default the state is the parameters: each converted to f32, then all copied in. */
  prepareLoad(state: LayerStateInput, prefix: string): () => void {
    this.live();
    const params = this.parameters();
    const values = convertState(this.stateDict(), state, prefix);
    return () => {
      for (const p of params) p.value.data.set(values[p.name] as Float32Array);
    };
  }

  dispose(): void {
    if (this.#disposed) return;
    this.release();
    this.#out.dispose();
    this.#dx.dispose();
    this.#input = null;
    this.#disposed = true;
  }

  /** The methods that use the layer's tensors or state start here. */
  protected live(): void {
    if (this.#disposed) throw disposedError(String(this));
  }

  #runtimeFor(argument: string, t: unknown): Runtime {
    if (!(t instanceof Tensor)) throw typeError(argument, 'a Tensor', t);
    const rt = this.#rt ?? t.runtime;
    rt.checkTensor(argument, t);
    return rt;
  }
}

/** A frozen { name, value, grad }: neither a layer nor SGD can be handed another tensor later. */
export function parameter(name: string, value: Tensor, grad: Tensor): Parameter {
  return Object.freeze({ name, value, grad });
}

/** A [N, features] input shape, or a RangeError naming x. */
export function checkRows(shape: readonly number[], features: number): readonly number[] {
  if (shape.length !== 2 || shape[1] !== features) {
    throw new RangeError(`x: expected shape [N, ${features}], got ${formatShape(shape)}`);
  }
  return shape;
}

/** The input forward() kept must still be alive when backward() reads it. */
export function checkSavedInput(x: Tensor, layer: string): void {
  if (x.disposed) throw savedInputDisposedError(`Tensor ${formatShape(x.shape)}`, layer);
}

/** `value` read once, by index, into `size` f32s; `argument` names it in messages. */
function readValues(argument: string, value: unknown, size: number): Float32Array {
  const expected = `an array-like of ${size} numbers`;
  if (value === null || typeof value !== 'object') throw typeError(argument, expected, value);
  const length = (value as ArrayLike<unknown>).length;
  if (typeof length !== 'number') throw typeError(argument, expected, value);
  if (length !== size) throw rangeError(argument, `${size} values`, value);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const v = (value as ArrayLike<unknown>)[i];
    if (typeof v !== 'number') throw typeError(`${argument}[${i}]`, 'a number', v);
    values[i] = v;
  }
  return values;
}

/**
 * Strict, like PyTorch's load_state_dict: exactly the keys of `current`, each converted to
 * the kind it has there (f32 values of the same count, or a non-negative integer counter).
 * Nothing is written: the caller writes the result. `prefix` ('1.' in a Sequential) makes
 * every message name the full key. A wrong kind is a TypeError, a missing or unexpected key
 * or a wrong count a RangeError.
 */
export function convertState(current: LayerState, state: unknown, prefix: string): LayerState {
  if (state === null || typeof state !== 'object') throw typeError('state', 'an object', state);
  const names = Object.keys(current);
  const expected = names.length > 0 ? `expected ${names.map((n) => prefix + n).join(', ')}` : 'the layer has no state';
  for (const key of Object.keys(state)) {
    if (!names.includes(key)) throw new RangeError(`state: unexpected key "${prefix}${key}" (${expected})`);
  }
  const converted: LayerState = {};
  for (const name of names) {
    const value = (state as Record<string, unknown>)[name];
    if (value === undefined) throw new RangeError(`state: missing key "${prefix}${name}"`);
    const was = current[name]!;
    const argument = `state.${prefix}${name}`;
    converted[name] = typeof was === 'number' ? checkNonNegativeInteger(argument, value) : readValues(argument, value, was.length);
  }
  return converted;
}
