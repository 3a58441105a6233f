// SGD with momentum and weight decay, PyTorch's update (dampening 0, no Nesterov):
//   d = g + weightDecay·p;  buf = momentum·buf + d (buf = d at the first step);  p −= lr·d'
// where d' is buf with momentum and d without. One kernel call per parameter.
import { isTensor, type Tensor } from '../tensor.js';
import { checkNonNegativeFinite, disposedError, typeError } from '../errors.js';
import { checkSameShape } from '../shape.js';
import { parameter, type Parameter } from './layer.js';

/** Options of SGD, PyTorch's names. */
export interface SGDOptions {
  lr: number;
  /** Default 0. */
  momentum?: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
}

/** The parameter at `params[i]`, read once into a frozen copy: live tensors of one runtime and shape. */
function checkParameter(params: readonly Parameter[], i: number): Parameter {
  const p: unknown = params[i];
  if (p === null || typeof p !== 'object') throw typeError(`params[${i}]`, 'a { name, value, grad } parameter (net.parameters())', p);
  const { name, value, grad } = p as Parameter;
  if (!isTensor(value)) throw typeError(`params[${i}].value`, 'a Tensor', value);
  value.runtime.checkTensor(`params[${i}].value`, value);
  value.runtime.checkTensor(`params[${i}].grad`, grad);
  checkSameShape(`params[${i}].grad`, grad.shape, value.shape, `params[${i}].value's`);
  return parameter(name, value, grad);
}

/**
 * PyTorch's SGD: `v = momentum·v + g` (v starts at the first gradient), `p −= lr·v`, with weight decay
 * added to the gradient. `lr` may be changed between steps.
 *
 * @example
 * ```js
 * const sgd = new nn.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
 * sgd.zeroGrad();
 * // forward, loss, backward
 * sgd.step();
 * ```
 */
export class SGD {
  readonly #params: readonly Parameter[];
  #lr: number;
  readonly #momentum: number;
  readonly #weightDecay: number;
  readonly #buffers: readonly (Tensor | null)[];
  #steps = 0;
  // Without its momentum buffers a step would silently be plain SGD, so use after dispose() throws.
  #disposed = false;

  constructor(params: readonly Parameter[], options: SGDOptions) {
    if (!Array.isArray(params)) throw typeError('params', 'an array of parameters (net.parameters())', params);
    if (options === null || typeof options !== 'object') throw typeError('options', 'an object with lr', options);
    const copies: Parameter[] = [];
    const count = params.length;
    for (let i = 0; i < count; i++) copies.push(checkParameter(params, i));
    this.#params = Object.freeze(copies);
    this.#lr = checkNonNegativeFinite('options.lr', options.lr);
    // Only undefined means "default": null is a value of the wrong kind.
    this.#momentum = checkNonNegativeFinite('options.momentum', options.momentum === undefined ? 0 : options.momentum);
    this.#weightDecay = checkNonNegativeFinite('options.weightDecay', options.weightDecay === undefined ? 0 : options.weightDecay);
    const buffers: (Tensor | null)[] = [];
    try {
      for (const p of copies) buffers.push(this.#momentum > 0 ? p.value.runtime.tensor(p.value.shape) : null);
    } catch (error) {
      for (const b of buffers) b?.dispose();
      throw error;
    }
    this.#buffers = Object.freeze(buffers);
    if (new.target === SGD) Object.freeze(this);
  }

  get params(): readonly Parameter[] {
    return this.#params;
  }

  /** The learning rate; may change between steps (a schedule). */
  get lr(): number {
    return this.#lr;
  }

  set lr(value: number) {
    this.#lr = checkNonNegativeFinite('lr', value);
  }

  get momentum(): number {
    return this.#momentum;
  }

  get weightDecay(): number {
    return this.#weightDecay;
  }

  /** Updates every parameter from its accumulated gradient. */
  step(): void {
    this.#live();
    // Every tensor is checked before the first parameter moves.
    this.#params.forEach((p, i) => {
      p.value.runtime.checkTensor(`params[${i}].value`, p.value);
      p.value.runtime.checkTensor(`params[${i}].grad`, p.grad);
    });
    const first = this.#steps === 0;
    this.#params.forEach((p, i) => {
      const buf = this.#buffers[i];
      p.value.runtime.kernels.f32_sgd_momentum(p.value.ptr, p.grad.ptr, buf?.ptr ?? 0, p.value.size, this.#lr, this.#momentum, this.#weightDecay, first);
    });
    this.#steps++;
  }

  /** Sets every parameter's gradient to zero (gradients accumulate across backward() calls). */
  zeroGrad(): void {
    this.#live();
    for (const p of this.#params) p.grad.data.fill(0);
  }

  /** Frees the momentum buffers (the parameters belong to their layers). */
  dispose(): void {
    for (const b of this.#buffers) b?.dispose();
    this.#disposed = true;
  }

  #live(): void {
    if (this.#disposed) throw disposedError('SGD');
  }
}
