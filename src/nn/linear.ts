// Linear: y = x·Wᵀ + b with PyTorch's layout W[out, in], three kernel calls forward and
// backward at most (assembly/matmul.ts).
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { checkBoolean, checkPositiveInteger, disposedError, rangeError, typeError } from '../errors.js';
import { Rng } from './rng.js';
import { checkGrad, checkRows, checkSavedInput, loadTensors, Owned, saveTensors, type Layer, type LayerState, type Parameter } from './layer.js';

/**
 * 'default': PyTorch's, U(−1/√in, 1/√in) for weight and bias. 'xavier': Glorot uniform,
 * U(±√(6/(in + out))), bias 0. A number: Gaussian weights with that standard deviation,
 * bias 0 (Ioffe & Szegedy's "small random Gaussian values").
 */
export type LinearInit = 'default' | 'xavier' | number;

/** Options of Linear. */
export interface LinearOptions {
  /** Draws the initial weights; required so that a seed fixes them. */
  rng: Rng;
  /** Default true. */
  bias?: boolean;
  /** Default 'default'. */
  init?: LinearInit;
}

export class Linear implements Layer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly weightGrad: Tensor;
  readonly biasGrad: Tensor | null;
  training = true;
  readonly #rt: Runtime;
  readonly #out: Owned;
  readonly #dx: Owned;
  #input: Tensor | null = null;
  #disposed = false;

  constructor(rt: Runtime, inFeatures: number, outFeatures: number, options: LinearOptions) {
    this.inFeatures = checkPositiveInteger('inFeatures', inFeatures);
    this.outFeatures = checkPositiveInteger('outFeatures', outFeatures);
    if (options === null || typeof options !== 'object') throw typeError('options', 'an object with an rng', options);
    if (!(options.rng instanceof Rng)) throw typeError('options.rng', 'an Rng (nn.Rng(seed))', options.rng);
    const hasBias = checkBoolean('options.bias', options.bias ?? true);
    const init = options.init ?? 'default';
    const inits = "'default', 'xavier' or a non-negative standard deviation";
    if (typeof init !== 'string' && typeof init !== 'number') throw typeError('options.init', inits, init);
    if (init !== 'default' && init !== 'xavier' && !(typeof init === 'number' && init >= 0 && Number.isFinite(init))) {
      throw rangeError('options.init', inits, init);
    }
    this.#rt = rt;
    const n = outFeatures * inFeatures;
    this.weight = rt.tensor([outFeatures, inFeatures]);
    this.weightGrad = rt.tensor([outFeatures, inFeatures]);
    this.bias = hasBias ? rt.tensor([outFeatures]) : null;
    this.biasGrad = hasBias ? rt.tensor([outFeatures]) : null;
    this.#out = new Owned();
    this.#dx = new Owned();
    const w = new Float32Array(n);
    const rng = options.rng;
    if (init === 'default') {
      const bound = 1 / Math.sqrt(inFeatures);
      for (let i = 0; i < n; i++) w[i] = rng.uniformRange(-bound, bound);
      if (this.bias) {
        const b = new Float32Array(outFeatures);
        for (let i = 0; i < outFeatures; i++) b[i] = rng.uniformRange(-bound, bound);
        this.bias.set(b);
      }
    } else if (init === 'xavier') {
      const bound = Math.sqrt(6 / (inFeatures + outFeatures));
      for (let i = 0; i < n; i++) w[i] = rng.uniformRange(-bound, bound);
    } else {
      for (let i = 0; i < n; i++) w[i] = init * rng.normal();
    }
    this.weight.set(w);
  }

  get output(): Tensor | null {
    return this.#out.current;
  }

  forward(x: Tensor): Tensor {
    this.#live();
    checkRows(this.#rt, 'x', x, this.inFeatures);
    const M = x.shape[0]!;
    const y = this.#out.get(this.#rt, [M, this.outFeatures]);
    this.#rt.kernels.f32_matmul_nt(x.ptr, this.weight.ptr, this.bias?.ptr ?? 0, y.ptr, M, this.inFeatures, this.outFeatures);
    this.#input = x;
    return y;
  }

  backward(dy: Tensor, inputGrad = true): Tensor | null {
    this.#live();
    checkGrad(dy, this.#out.current, String(this));
    const x = this.#input!;
    checkSavedInput(x, String(this));
    const k = this.#rt.kernels;
    const M = dy.shape[0]!;
    k.f32_matmul_tn_acc(dy.ptr, x.ptr, this.weightGrad.ptr, M, this.outFeatures, this.inFeatures);
    if (this.biasGrad) k.f32_sum_rows_acc(dy.ptr, this.biasGrad.ptr, M, this.outFeatures);
    if (!inputGrad) return null;
    const dx = this.#dx.get(this.#rt, [M, this.inFeatures]);
    k.f32_matmul_nn(dy.ptr, this.weight.ptr, dx.ptr, M, this.outFeatures, this.inFeatures);
    return dx;
  }

  parameters(): Parameter[] {
    const params: Parameter[] = [{ name: 'weight', value: this.weight, grad: this.weightGrad }];
    if (this.bias && this.biasGrad) params.push({ name: 'bias', value: this.bias, grad: this.biasGrad });
    return params;
  }

  zeroGrad(): void {
    this.#live();
    this.weightGrad.data.fill(0);
    this.biasGrad?.data.fill(0);
  }

  train(mode = true): this {
    this.#live();
    this.training = checkBoolean('mode', mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  stateDict(): LayerState {
    this.#live();
    return saveTensors(this.parameters());
  }

  loadStateDict(state: LayerState): void {
    this.#live();
    loadTensors(this.parameters(), state);
  }

  dispose(): void {
    if (this.#disposed) return;
    for (const t of [this.weight, this.weightGrad, this.bias, this.biasGrad]) t?.dispose();
    this.#out.dispose();
    this.#dx.dispose();
    this.#input = null;
    this.#disposed = true;
  }

  toString(): string {
    return `Linear(${this.inFeatures}, ${this.outFeatures}, bias=${this.bias !== null})`;
  }

  #live(): void {
    if (this.#disposed) throw disposedError(String(this));
  }
}
