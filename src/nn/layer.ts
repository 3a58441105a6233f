// What Sequential needs from a layer, and the pieces every layer shares: checked inputs
// and output tensors the layer owns and reuses from step to step.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { formatShape, sameShape, sizeOf } from '../shape.js';

/** A learnable tensor and the gradient that backward() accumulates into. */
export interface Parameter {
  /** PyTorch's name within its layer: 'weight' or 'bias'. */
  readonly name: string;
  readonly value: Tensor;
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
  training: boolean;
  /** The last forward()'s result, or null before the first. */
  readonly output: Tensor | null;
  forward(x: Tensor): Tensor;
  /**
   * Gradients of the parameters ACCUMULATE; returns dx, or null when `inputGrad` is
   * false and the layer may skip computing it (the first layer of a network).
   */
  backward(dy: Tensor, inputGrad?: boolean): Tensor | null;
  parameters(): Parameter[];
  zeroGrad(): void;
  train(mode?: boolean): this;
  eval(): this;
  stateDict(): LayerState;
  loadStateDict(state: LayerState): void;
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

  dispose(): void {
    this.#tensor?.dispose();
    this.#tensor = null;
  }
}

/** x must be a live [N, features] tensor of this runtime. */
export function checkRows(rt: Runtime, argument: string, x: Tensor, features: number): void {
  rt.checkTensor(argument, x);
  if (x.shape.length !== 2 || x.shape[1] !== features) {
    throw new RangeError(`${argument}: expected shape [N, ${features}], got ${formatShape(x.shape)}`);
  }
}

/** dy must match the shape of what forward() produced. */
export function checkGrad(dy: Tensor, output: Tensor | null, layer: string): void {
  if (output === null) throw new TypeError(`${layer}: backward() called before forward()`);
  output.runtime.checkTensor('dy', dy);
  if (!sameShape(dy.shape, output.shape)) {
    throw new RangeError(`dy: expected shape ${formatShape(output.shape)} (${layer}'s output), got ${formatShape(dy.shape)}`);
  }
}

/** Copies the named tensors out, PyTorch's state_dict. */
export function saveTensors(params: readonly Parameter[]): LayerState {
  const state: LayerState = {};
  for (const p of params) state[p.name] = p.value.toArray();
  return state;
}

/** Strict: exactly these keys, each of the right length, checked before anything changes. */
export function loadTensors(params: readonly Parameter[], state: LayerState, layer: string): void {
  if (state === null || typeof state !== 'object') throw new TypeError(`${layer}.loadStateDict: expected an object, got ${String(state)}`);
  const names = params.map((p) => p.name);
  for (const key of Object.keys(state)) {
    if (!names.includes(key)) throw new RangeError(`${layer}.loadStateDict: unexpected key "${key}" (expected ${names.join(', ') || 'none'})`);
  }
  for (const p of params) {
    const v = state[p.name] as unknown;
    if (v === undefined) throw new RangeError(`${layer}.loadStateDict: missing key "${p.name}"`);
    if (v === null || typeof v !== 'object' || (v as ArrayLike<number>).length !== p.value.size) {
      throw new RangeError(`${layer}.loadStateDict: "${p.name}" must hold ${p.value.size} numbers`);
    }
  }
  for (const p of params) p.value.set(state[p.name] as ArrayLike<number>);
}
