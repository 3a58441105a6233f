// The adapter that lets the package's BatchNorm (rt.batchNorm1d) sit in a Sequential:
// it gives the layer owned output tensors and the Layer interface; the math is the
// BatchNorm's own, one forward and one backward call.
import { BatchNorm } from '../batchnorm.js';
import { Tensor } from '../tensor.js';
import { checkBoolean, disposedError, typeError } from '../errors.js';
import { checkGrad, Owned, type Layer, type LayerState, type Parameter } from './layer.js';

export class BatchNormLayer implements Layer {
  /** The wrapped layer; the adapter disposes it with itself. */
  readonly module: BatchNorm;
  readonly #out: Owned;
  readonly #dx: Owned;
  #disposed = false;

  constructor(module: BatchNorm) {
    if (!(module instanceof BatchNorm)) throw typeError('module', 'a BatchNorm (rt.batchNorm1d/2d/3d)', module);
    if (module.disposed) throw disposedError(`module: ${module}`);
    this.module = module;
    this.#out = new Owned();
    this.#dx = new Owned();
  }

  get training(): boolean {
    return this.module.training;
  }

  set training(mode: boolean) {
    this.module.train(mode);
  }

  get output(): Tensor | null {
    return this.#out.current;
  }

  forward(x: Tensor): Tensor {
    this.#live();
    // The BatchNorm checks the rest of x (rank, channels, runtime, one value per channel);
    // only it knows which ranks it takes, so the output is written through Owned.write:
    // an x it refuses leaves this layer's output and the live tensors as they were.
    if (!(x instanceof Tensor)) throw typeError('x', 'a Tensor', x);
    x.runtime.checkTensor('x', x);
    return this.#out.write(x.runtime, x.shape, (out) => this.module.forward(x, out));
  }

  backward(dy: Tensor, inputGrad = true): Tensor | null {
    this.#live();
    checkGrad(dy, this.#out.current, String(this));
    // dγ and dβ need the same pass as dx, so dx is computed either way.
    const dx = this.#dx.write(dy.runtime, dy.shape, (out) => this.module.backward(dy, out));
    return inputGrad ? dx : null;
  }

  parameters(): Parameter[] {
    const m = this.module;
    if (!m.weight || !m.bias || !m.weightGrad || !m.biasGrad) return [];
    return [{ name: 'weight', value: m.weight, grad: m.weightGrad }, { name: 'bias', value: m.bias, grad: m.biasGrad }];
  }

  zeroGrad(): void {
    this.module.zeroGrad();
  }

  train(mode = true): this {
    this.module.train(checkBoolean('mode', mode));
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  stateDict(): LayerState {
    return { ...this.module.stateDict() };
  }

  loadStateDict(state: LayerState): void {
    this.module.loadStateDict(state);
  }

  dispose(): void {
    if (this.#disposed) return;
    this.module.dispose();
    this.#out.dispose();
    this.#dx.dispose();
    this.#disposed = true;
  }

  toString(): string {
    return String(this.module);
  }

  #live(): void {
    if (this.#disposed) throw disposedError(String(this));
  }
}
