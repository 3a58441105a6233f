// What Sequential needs from a layer, and the pieces every layer shares: checked inputs
// and output tensors the layer owns and reuses from step to step.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { formatShape, sameShape, sizeOf } from '../shape.js';
import { checkBoolean, disposedError, noForwardError, rangeError, savedInputDisposedError, typeError } from '../errors.js';

/** A learnable tensor and the gradient that backward() accumulates into. */
export interface Parameter {
  /** PyTorch's name within its layer: 'weight' or 'bias'. */
  readonly name: string;
  /** The parameter itself. */
  readonly value: Tensor;
  /** Its gradient, same shape; backward() accumulates into it. */
  readonly grad: Tensor;
}

/** Tensors by name, PyTorch's state_dict keys (numbers for counters). */
export type LayerState = Record<string, Float32Array | number>;

/**
 * A layer of a Sequential. Outputs belong to the layer: forward() and backward() return
 * tensors that stay valid until the layer's next call of the same method (copy with
 * toArray() to keep one). forward() keeps a reference to its input for backward().
 */
export interface Layer {
  /** true in training mode (the default), false after eval(). */
  training: boolean;
  /** The last forward()'s result, or null before the first. */
  readonly output: Tensor | null;
  /** The layer's output for `x`, a tensor the layer owns (valid until its next forward()). */
  forward(x: Tensor): Tensor;
  /**
   * Gradients of the parameters ACCUMULATE; returns dx, or null when `inputGrad` is
   * false and the layer may skip computing it (the first layer of a network).
   */
  backward(dy: Tensor, inputGrad?: boolean): Tensor | null;
  /** The learnable tensors and their gradients, in PyTorch's order; empty for a layer without any. */
  parameters(): Parameter[];
  /** Sets every parameter gradient to zero (gradients accumulate across backward() calls). */
  zeroGrad(): void;
  /** Sets training mode (`mode` true, the default) or eval mode; returns the layer. */
  train(mode?: boolean): this;
  /** Sets eval mode, like train(false); returns the layer. */
  eval(): this;
  /** Copies of the layer's state under PyTorch's state_dict keys. */
  stateDict(): LayerState;
  /** Loads a stateDict(); every key and length is checked before anything is written. */
  loadStateDict(state: LayerState): void;
  /** Frees every tensor the layer owns; using the layer afterwards throws. */
  dispose(): void;
}

/** A tensor a layer owns and reuses while the requested shape stays the same. */
export class Owned {
  #tensor: Tensor | null = null;

  get current(): Tensor | null {
    return this.#tensor;
  }

  get(rt: Runtime, shape: readonly number[]): Tensor {
    const t = this.#tensor;
    if (t !== null && t.runtime === rt && sameShape(t.shape, shape)) return t;
    t?.dispose();
    this.#tensor = rt.newTensor(shape, sizeOf(shape));
    return this.#tensor;
  }

  /**
   * Calls `fill` with the tensor for `shape`. When that needs a new tensor, it replaces
   * the owned one only if `fill` returns: a call that throws (bad input found by a
   * wrapped layer) leaves the previous tensor owned and nothing extra alive.
   */
  write<R>(rt: Runtime, shape: readonly number[], fill: (t: Tensor) => R): R {
    const t = this.#tensor;
    if (t !== null && t.runtime === rt && sameShape(t.shape, shape)) return fill(t);
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

/**
 * The bookkeeping of a layer with no parameters and no state (activations, dropout,
 * noise): it owns the output and the input gradient (reused while the shape holds);
 * subclasses write forward, backward, release and toString.
 */
export abstract class StatelessLayer implements Layer {
  training = true;
  #disposed = false;
  readonly #out = new Owned();
  readonly #dx = new Owned();

  get output(): Tensor | null {
    return this.#out.current;
  }

  /** The output tensor for an input of this shape. */
  protected outputFor(rt: Runtime, shape: readonly number[]): Tensor {
    return this.#out.get(rt, shape);
  }

  /** backward()'s first step: the layer is live and dy matches the last output. */
  protected checkBackward(dy: Tensor): void {
    this.live();
    checkGrad(dy, this.#out.current, String(this));
  }

  /** The input-gradient tensor for dy. */
  protected gradFor(rt: Runtime, dy: Tensor): Tensor {
    return this.#dx.get(rt, dy.shape);
  }

  /** {@inheritDoc Layer.forward} */
  abstract forward(x: Tensor): Tensor;
  /** {@inheritDoc Layer.backward} */
  abstract backward(dy: Tensor, inputGrad?: boolean): Tensor | null;
  /** Frees the subclass's own tensors; dispose() calls it once. */
  protected abstract release(): void;

  parameters(): Parameter[] {
    return [];
  }

  zeroGrad(): void {
    this.live();
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
    return {};
  }

  loadStateDict(state: LayerState): void {
    this.live();
    loadTensors([], state);
  }

  dispose(): void {
    if (this.#disposed) return;
    this.release();
    this.#out.dispose();
    this.#dx.dispose();
    this.#disposed = true;
  }

  /** The methods that use the layer's tensors or state start here. */
  protected live(): void {
    if (this.#disposed) throw disposedError(String(this));
  }
}

/** x must be a live [N, features] tensor of this runtime. */
export function checkRows(rt: Runtime, argument: string, x: Tensor, features: number): void {
  rt.checkTensor(argument, x);
  if (x.shape.length !== 2 || x.shape[1] !== features) {
    throw new RangeError(`${argument}: expected shape [N, ${features}], got ${formatShape(x.shape)}`);
  }
}

/** dy must match the shape of what forward() produced; `layer` names the layer in messages. */
export function checkGrad(dy: Tensor, output: Tensor | null, layer: string): void {
  if (output === null) throw noForwardError(layer);
  output.runtime.checkTensor('dy', dy);
  if (!sameShape(dy.shape, output.shape)) {
    throw new RangeError(`dy: expected shape ${formatShape(output.shape)} (${layer}'s output), got ${formatShape(dy.shape)}`);
  }
}

/** The input forward() kept must still be alive when backward() reads it. */
export function checkSavedInput(x: Tensor, layer: string): void {
  if (x.disposed) throw savedInputDisposedError(`Tensor ${formatShape(x.shape)}`, layer);
}

/** Copies the named tensors out, PyTorch's state_dict. */
export function saveTensors(params: readonly Parameter[]): LayerState {
  const state: LayerState = {};
  for (const p of params) state[p.name] = p.value.toArray();
  return state;
}

/**
 * Strict, like BatchNorm.loadStateDict: exactly these keys, each an array-like of the
 * right length, all checked before anything changes. A wrong kind of value is a TypeError,
 * a missing or unexpected key or a wrong length a RangeError.
 */
export function loadTensors(params: readonly Parameter[], state: LayerState): void {
  if (state === null || typeof state !== 'object') throw typeError('state', 'an object', state);
  const names = params.map((p) => p.name);
  const expected = names.length > 0 ? `expected ${names.join(', ')}` : 'the layer has no state';
  for (const key of Object.keys(state)) {
    if (!names.includes(key)) throw new RangeError(`state: unexpected key "${key}" (${expected})`);
  }
  for (const p of params) {
    const v = state[p.name] as unknown;
    if (v === undefined) throw new RangeError(`state: missing key "${p.name}"`);
    if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number') {
      throw typeError(`state.${p.name}`, `an array-like of ${p.value.size} numbers`, v);
    }
    if ((v as ArrayLike<number>).length !== p.value.size) throw rangeError(`state.${p.name}`, `${p.value.size} values`, v);
  }
  for (const p of params) p.value.set(state[p.name] as ArrayLike<number>);
}
