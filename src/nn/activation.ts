// Elementwise activations over tensors of any shape: one kernel call each way.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { checkSavedInput, StatelessLayer } from './layer.js';

abstract class Elementwise extends StatelessLayer {
  protected readonly rt: Runtime;
  protected input: Tensor | null = null;

  constructor(rt: Runtime) {
    super();
    this.rt = rt;
  }

  protected abstract readonly name: string;
  protected abstract apply(x: Tensor, y: Tensor): void;
  protected abstract gradient(dy: Tensor, dx: Tensor): void;

  forward(x: Tensor): Tensor {
    this.live();
    this.rt.checkTensor('x', x);
    const y = this.outputFor(this.rt, x.shape);
    this.apply(x, y);
    this.input = x;
    return y;
  }

  backward(dy: Tensor, inputGrad = true): Tensor | null {
    this.checkBackward(dy);
    checkSavedInput(this.input!, String(this));
    if (!inputGrad) return null;
    const dx = this.gradFor(this.rt, dy);
    this.gradient(dy, dx);
    return dx;
  }

  protected release(): void {
    this.input = null;
  }

  toString(): string {
    return `${this.name}()`;
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
