// SGD with momentum and weight decay, PyTorch's update (dampening 0, no Nesterov):
//   d = g + weightDecay·p;  buf = momentum·buf + d (buf = d at the first step);  p −= lr·d'
// where d' is buf with momentum and d without. One kernel call per parameter.
import type { Tensor } from '../tensor.js';
import { checkNonNegativeFinite, disposedError, typeError } from '../errors.js';
import type { Parameter } from './layer.js';

/** Options of SGD, PyTorch's names. */
export interface SGDOptions {
  lr: number;
  /** Default 0. */
  momentum?: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
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
  readonly params: readonly Parameter[];
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly #buffers: (Tensor | null)[];
  #steps = 0;
  // Without its momentum buffers a step would silently be plain SGD, so use after dispose() throws.
  #disposed = false;

  constructor(params: readonly Parameter[], options: SGDOptions) {
    if (!Array.isArray(params)) throw typeError('params', 'an array of parameters (net.parameters())', params);
    if (options === null || typeof options !== 'object') throw typeError('options', 'an object with lr', options);
    params.forEach((p: Parameter, i: number) => {
      if (p === null || typeof p !== 'object' || !p.value || !p.grad || p.value.size !== p.grad.size) {
        throw typeError(`params[${i}]`, 'a { value, grad } pair of tensors of one size', p);
      }
    });
    this.params = params.slice();
    this.lr = checkNonNegativeFinite('options.lr', options.lr);
    this.momentum = checkNonNegativeFinite('options.momentum', options.momentum ?? 0);
    this.weightDecay = checkNonNegativeFinite('options.weightDecay', options.weightDecay ?? 0);
    this.#buffers = this.params.map((p) => (this.momentum > 0 ? p.value.runtime.tensor(p.value.shape) : null));
  }

  /** Updates every parameter from its accumulated gradient. */
  step(): void {
    this.#live();
    checkNonNegativeFinite('lr', this.lr);
    const first = this.#steps === 0;
    this.params.forEach((p, i) => {
      const rt = p.value.runtime;
      rt.checkTensor('parameter', p.value);
      rt.checkTensor('gradient', p.grad);
      const buf = this.#buffers[i];
      rt.kernels.f32_sgd_momentum(p.value.ptr, p.grad.ptr, buf?.ptr ?? 0, p.value.size, this.lr, this.momentum, this.weightDecay, first);
    });
    this.#steps++;
  }

  /** Sets every parameter's gradient to zero (gradients accumulate across backward() calls). */
  zeroGrad(): void {
    this.#live();
    for (const p of this.params) p.grad.data.fill(0);
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
