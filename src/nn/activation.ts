// Elementwise activations over tensors of any shape: one kernel call each way.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { checkOwnedLive, LayerBase, type Layer } from './layer.js';

abstract class Elementwise extends LayerBase {
  readonly #rt: Runtime;

  constructor(rt: Runtime) {
    super(rt);
    this.#rt = rt;
  }

  /** @internal */
  protected get kernels(): Runtime['kernels'] {
    return this.#rt.kernels;
  }

  protected checkShape(inputShape: readonly number[]): readonly number[] {
    return inputShape;
  }

  protected release(): void {}
}

/** y = 1/(1 + e^−x); backward uses the saved output: dx = dy·y·(1 − y). */
export class Sigmoid extends Elementwise implements Layer {
  constructor(rt: Runtime) {
    super(rt);
    if (new.target === Sigmoid) Object.freeze(this);
  }

  protected run(x: Tensor, y: Tensor): void {
    this.kernels.f32_sigmoid(x.ptr, y.ptr, x.size);
  }

  // Backward reads the output, not the input.
  protected checkSaved(): void {
    checkOwnedLive(`${this}.output`, this.output!);
  }

  protected runBackward(dy: Tensor, _x: Tensor, dx: Tensor | null): void {
    if (dx !== null) this.kernels.f32_sigmoid_backward(dy.ptr, this.output!.ptr, dx.ptr, dy.size);
  }

  toString(): string {
    return 'Sigmoid()';
  }
}

/** y = max(x, 0); the gradient at 0 is 0, as in PyTorch. */
export class ReLU extends Elementwise implements Layer {
  constructor(rt: Runtime) {
    super(rt);
    if (new.target === ReLU) Object.freeze(this);
  }

  protected run(x: Tensor, y: Tensor): void {
    this.kernels.f32_relu(x.ptr, y.ptr, x.size);
  }

  protected runBackward(dy: Tensor, x: Tensor, dx: Tensor | null): void {
    if (dx !== null) this.kernels.f32_relu_backward(dy.ptr, x.ptr, dx.ptr, dy.size);
  }

  toString(): string {
    return 'ReLU()';
  }
}
