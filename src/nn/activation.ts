// Elementwise activations over tensors of any shape: one kernel call each way.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { checkBoolean } from '../errors.js';
import { checkGrad, Owned, type Layer, type LayerState, type Parameter } from './layer.js';

abstract class Elementwise implements Layer {
  training = true;
  protected readonly rt: Runtime;
  protected input: Tensor | null = null;
  readonly #out: Owned;
  readonly #dx: Owned;
  #disposed = false;

  constructor(rt: Runtime) {
    this.rt = rt;
    this.#out = new Owned();
    this.#dx = new Owned();
  }

  protected abstract readonly name: string;
  protected abstract apply(x: Tensor, y: Tensor): void;
  protected abstract gradient(dy: Tensor, dx: Tensor): void;

  get output(): Tensor | null {
    return this.#out.current;
  }

  forward(x: Tensor): Tensor {
    this.#live();
    this.rt.checkTensor('x', x);
    const y = this.#out.get(this.rt, x.shape);
    this.apply(x, y);
    this.input = x;
    return y;
  }

  backward(dy: Tensor, inputGrad = true): Tensor | null {
    this.#live();
    checkGrad(dy, this.#out.current, this.name);
    if (this.input!.disposed) throw new TypeError(`${this.name}: the input saved by forward() was disposed before backward()`);
    if (!inputGrad) return null;
    const dx = this.#dx.get(this.rt, dy.shape);
    this.gradient(dy, dx);
    return dx;
  }

  parameters(): Parameter[] {
    return [];
  }

  zeroGrad(): void {}

  train(mode = true): this {
    this.training = checkBoolean('mode', mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  stateDict(): LayerState {
    return {};
  }

  loadStateDict(state: LayerState): void {
    if (state === null || typeof state !== 'object' || Object.keys(state).length > 0) {
      throw new RangeError(`${this.name}.loadStateDict: expected an empty object (the layer has no state)`);
    }
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#out.dispose();
    this.#dx.dispose();
    this.input = null;
    this.#disposed = true;
  }

  toString(): string {
    return `${this.name}()`;
  }

  #live(): void {
    if (this.#disposed) throw new TypeError(`${this.name} was disposed and cannot be used`);
  }
}

/** y = 1/(1 + e^−x); backward uses the saved output: dx = dy·y·(1 − y). */
export class Sigmoid extends Elementwise {
  protected readonly name = 'Sigmoid';

  protected apply(x: Tensor, y: Tensor): void {
    this.rt.kernels.f32_sigmoid(x.ptr, y.ptr, x.size);
  }

  protected gradient(dy: Tensor, dx: Tensor): void {
    this.rt.kernels.f32_sigmoid_backward(dy.ptr, this.output!.ptr, dx.ptr, dy.size);
  }
}

/** y = max(x, 0); the gradient at 0 is 0, as in PyTorch. */
export class ReLU extends Elementwise {
  protected readonly name = 'ReLU';

  protected apply(x: Tensor, y: Tensor): void {
    this.rt.kernels.f32_relu(x.ptr, y.ptr, x.size);
  }

  protected gradient(dy: Tensor, dx: Tensor): void {
    this.rt.kernels.f32_relu_backward(dy.ptr, this.input!.ptr, dx.ptr, dy.size);
  }
}
