// What Sequential needs from a layer, and the pieces every layer shares: checked inputs,
// output tensors the layer owns and reuses from step to step, one backward per forward,
// and state dicts checked and converted in full before anything is written.
import { Runtime } from '../runtime.js';
import { isTensor, ownerHint, setOwner, type Tensor } from '../tensor.js';
import { formatShape, sameShape, sizeOf } from '../shape.js';
import { checkBoolean, disposedError, noForwardError, savedInputDisposedError, secondBackwardError, typeError } from '../errors.js';
import { readState, serializable, type State, type StateLike, type StateSpec } from '../state.js';

/** A learnable tensor and the gradient that backward() accumulates into. */
export interface Parameter {
  /** PyTorch's name within its layer: 'weight' or 'bias'. */
  readonly name: string;
  readonly value: Tensor;
  readonly grad: Tensor;
}

/**
 * Tensors by name, PyTorch's state_dict keys (numbers for counters); JSON.stringify gives arrays.
 *
 * @useDeclaredType
 */
export type LayerState = State;

/**
 * What loadStateDict() accepts: the values may be any array-likes of numbers (parsed JSON).
 *
 * @useDeclaredType
 */
export type LayerStateInput = StateLike;

/**
 * A layer of a Sequential. Outputs belong to the layer: forward() and backward() return
 * tensors that stay valid until the layer's next call of the same method (copy with
 * toArray() to keep one). forward() keeps a reference to its input for backward(), and
 * one backward() follows each forward().
 */
export interface Layer {
  /** True in training mode (the default), false in eval mode; assigning a non-boolean throws. */
  training: boolean;
  /** The last forward()'s result, or null before the first. */
  readonly output: Tensor | null;
  /** The output for `x`, owned by the layer; keeps `x` for the backward() that follows. */
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
  /** The learnable parameters in PyTorch's order (weight, then bias); empty for a layer without. */
  parameters(): Parameter[];
  /** Sets every parameter's gradient to zero: backward() accumulates into them. */
  zeroGrad(): void;
  /** Sets training mode (`mode` true, the default) or eval mode; returns the layer. */
  train(mode?: boolean): this;
  /** Eval mode, the same as train(false); returns the layer. */
  eval(): this;
  /** Copies of the layer's state under PyTorch's state_dict keys; JSON.stringify writes plain arrays. */
  stateDict(): LayerState;
  /** Replaces the layer's state with `state`, stateDict()'s keys exactly; checks every value before it writes any. */
  loadStateDict(state: LayerStateInput): void;
  /**
   * Checks `state` in full and converts it to the layer's own kinds; returns the write,
   * which cannot fail. `prefix` ('1.' inside a Sequential) makes messages name full keys.
   */
  prepareLoad(state: LayerStateInput, prefix: string): () => void;
  /** Frees every tensor the layer owns (outputs, parameters, gradients); a second call does nothing. */
  dispose(): void;
}

/** A tensor a layer owns and reuses while the requested shape stays the same. */
export class Owned {
  readonly #owner: object;
  #tensor: Tensor | null = null;

  /** `owner` names the layer in the error for a tensor of its disposed from outside. */
  constructor(owner: object) {
    this.#owner = owner;
  }

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
    setOwner(fresh, String(this.#owner));
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
  readonly #out = new Owned(this);
  readonly #dx = new Owned(this);
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
    if (this.#backwardDone) throw secondBackwardError(String(this));
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
    return serializable(state);
  }

  loadStateDict(state: LayerStateInput): void {
    this.live();
    this.prepareLoad(state, '')();
  }

  /** By default the state is the parameters: each converted to f32, then all copied in. */
  prepareLoad(state: LayerStateInput, prefix: string): () => void {
    this.live();
    const params = this.parameters();
    const values = readState(state, specOf(this.stateDict()), prefix);
    return () => {
      for (const p of params) p.value.data.set(values.get(p.name) as Float32Array);
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
    if (!isTensor(t)) throw typeError(argument, 'a Tensor', t);
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

/**
 * The input forward() kept must still be alive when backward() reads it. When another layer
 * owns it (its output), the error says so: that layer's output was disposed by mistake.
 */
export function checkSavedInput(x: Tensor, layer: string): void {
  if (!x.disposed) return;
  const hint = ownerHint(x);
  if (hint !== undefined) throw disposedError(`${layer}.backward(): the input forward() saved, Tensor ${formatShape(x.shape)},`, hint);
  throw savedInputDisposedError(`Tensor ${formatShape(x.shape)}`, layer);
}

/** A tensor a layer owns was disposed from outside: the error names the owner. */
export function checkOwnedLive(argument: string, t: Tensor): void {
  if (t.disposed) throw disposedError(`${argument}: Tensor ${formatShape(t.shape)}`, ownerHint(t));
}

/** The keys and kinds of a layer's state, read off its current state dict. */
export function specOf(current: LayerState): StateSpec {
  const tensors: [string, number][] = [];
  const counters: string[] = [];
  for (const [key, value] of Object.entries(current)) {
    if (typeof value === 'number') counters.push(key);
    else tensors.push([key, value.length]);
  }
  return { tensors, counters };
}
