// Linear: y = x·Wᵀ + b with PyTorch's layout W[out, in], three kernel calls forward and
// backward at most (assembly/matmul.ts).
import type { Runtime } from '../runtime.js';
import { setOwner, type Tensor } from '../tensor.js';
import { checkBoolean, checkPositiveInteger, disposedError, rangeError, typeError } from '../errors.js';
import { Rng } from './rng.js';
import { checkRows, LayerBase, parameter, type Layer, type Parameter } from './layer.js';

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

/**
 * A fully connected layer, PyTorch's nn.Linear: `y = x·Wᵀ + b` for `x` of shape `[N, inFeatures]`,
 * with `W` of shape `[outFeatures, inFeatures]`.
 *
 * @example
 * ```js
 * const lin = new nn.Linear(rt, 3, 2, { rng: new nn.Rng(1) }); // String(lin): 'Linear(3, 2, bias=true)'
 * const y = lin.forward(x);   // x [N, 3] -> y [N, 2], owned by lin
 * lin.backward(dy);           // dW and db accumulate in lin.weightGrad and lin.biasGrad
 * ```
 */
export class Linear extends LayerBase implements Layer {
  readonly #inFeatures: number;
  readonly #outFeatures: number;
  readonly #weight: Tensor;
  readonly #bias: Tensor | null;
  readonly #weightGrad: Tensor;
  readonly #biasGrad: Tensor | null;
  readonly #params: readonly Parameter[];
  readonly #rt: Runtime;

  constructor(rt: Runtime, inFeatures: number, outFeatures: number, options: LinearOptions) {
    super(rt);
    this.#inFeatures = checkPositiveInteger('inFeatures', inFeatures);
    this.#outFeatures = checkPositiveInteger('outFeatures', outFeatures);
    if (options === null || typeof options !== 'object') throw typeError('options', 'an object with an rng', options);
    if (!(options.rng instanceof Rng)) throw typeError('options.rng', 'an Rng (nn.Rng(seed))', options.rng);
    // Only undefined means "default": null is a value of the wrong kind.
    const hasBias = checkBoolean('options.bias', options.bias === undefined ? true : options.bias);
    const init = options.init === undefined ? 'default' : options.init;
    const inits = "'default', 'xavier' or a non-negative standard deviation";
    if (typeof init !== 'string' && typeof init !== 'number') throw typeError('options.init', inits, init);
    if (init !== 'default' && init !== 'xavier' && !(typeof init === 'number' && init >= 0 && Number.isFinite(init))) {
      throw rangeError('options.init', inits, init);
    }
    this.#rt = rt;
    // Out of memory part-way releases what was made.
    const made: Tensor[] = [];
    const make = (shape: number[]): Tensor => {
      const t = rt.tensor(shape);
      made.push(t);
      return t;
    };
    try {
      this.#weight = make([outFeatures, inFeatures]);
      this.#weightGrad = make([outFeatures, inFeatures]);
      this.#bias = hasBias ? make([outFeatures]) : null;
      this.#biasGrad = hasBias ? make([outFeatures]) : null;
    } catch (error) {
      for (const t of made) t.dispose();
      throw error;
    }
    const params = [parameter('weight', this.#weight, this.#weightGrad)];
    if (this.#bias && this.#biasGrad) params.push(parameter('bias', this.#bias, this.#biasGrad));
    this.#params = Object.freeze(params);
    for (const t of made) setOwner(t, String(this));
    this.#initialize(init, options.rng);
    if (new.target === Linear) Object.freeze(this);
  }

  get inFeatures(): number {
    return this.#inFeatures;
  }

  get outFeatures(): number {
    return this.#outFeatures;
  }

  /** [outFeatures, inFeatures], PyTorch's layout. */
  get weight(): Tensor {
    return this.#weight;
  }

  get bias(): Tensor | null {
    return this.#bias;
  }

  get weightGrad(): Tensor {
    return this.#weightGrad;
  }

  get biasGrad(): Tensor | null {
    return this.#biasGrad;
  }

  /** {@inheritDoc Layer.parameters} */
  parameters(): Parameter[] {
    return this.#params.slice();
  }

  protected checkShape(inputShape: readonly number[]): readonly number[] {
    return [checkRows(inputShape, this.#inFeatures)[0]!, this.#outFeatures];
  }

  protected run(x: Tensor, y: Tensor): void {
    this.#rt.kernels.f32_matmul_nt(x.ptr, this.#weight.ptr, this.#bias?.ptr ?? 0, y.ptr, x.shape[0]!, this.#inFeatures, this.#outFeatures);
  }

  protected runBackward(dy: Tensor, x: Tensor, dx: Tensor | null): void {
    const k = this.#rt.kernels;
    const M = dy.shape[0]!;
    k.f32_matmul_tn_acc(dy.ptr, x.ptr, this.#weightGrad.ptr, M, this.#outFeatures, this.#inFeatures);
    if (this.#biasGrad) k.f32_sum_rows_acc(dy.ptr, this.#biasGrad.ptr, M, this.#outFeatures);
    if (dx !== null) k.f32_matmul_nn(dy.ptr, this.#weight.ptr, dx.ptr, M, this.#outFeatures, this.#inFeatures);
  }

  protected release(): void {
    for (const t of [this.#weight, this.#weightGrad, this.#bias, this.#biasGrad]) t?.dispose();
  }

  toString(): string {
    return `Linear(${this.#inFeatures}, ${this.#outFeatures}, bias=${this.#bias !== null})`;
  }

  #initialize(init: LinearInit, rng: Rng): void {
    const n = this.#outFeatures * this.#inFeatures;
    const w = new Float32Array(n);
    if (init === 'default') {
      const bound = 1 / Math.sqrt(this.#inFeatures);
      for (let i = 0; i < n; i++) w[i] = rng.uniformRange(-bound, bound);
      if (this.#bias) {
        const b = new Float32Array(this.#outFeatures);
        for (let i = 0; i < this.#outFeatures; i++) b[i] = rng.uniformRange(-bound, bound);
        this.#bias.set(b);
      }
    } else if (init === 'xavier') {
      const bound = Math.sqrt(6 / (this.#inFeatures + this.#outFeatures));
      for (let i = 0; i < n; i++) w[i] = rng.uniformRange(-bound, bound);
    } else {
      for (let i = 0; i < n; i++) w[i] = init * rng.normal();
    }
    this.#weight.set(w);
  }

  // A parameter disposed on its own would reach the kernels as pointer 0.
  protected live(): void {
    super.live();
    for (const p of this.#params) {
      if (p.value.disposed || p.grad.disposed) throw disposedError(`${this}.${p.name}`, 'dispose the layer, not its tensors');
    }
  }
}
