// Inverted dropout (PyTorch's nn.Dropout): in training each element is zeroed with
// probability p and the survivors are scaled by 1/(1 − p), so eval is the identity and
// needs no rescaling. The mask is drawn inside wasm from one seed per forward, taken from
// the layer's Rng: a seed fixes every mask, on both builds (assembly/nn.ts, f32_dropout).
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { checkBoolean, checkNumber, typeError } from '../errors.js';
import { Rng } from './rng.js';
import { checkGrad, Owned, type Layer, type LayerState, type Parameter } from './layer.js';

export interface DropoutOptions {
  /** Draws one mask seed per training forward; required so that a seed fixes the masks. */
  rng: Rng;
}

export class Dropout implements Layer {
  /** Probability of zeroing an element, in [0, 1]. */
  readonly p: number;
  training = true;
  readonly #rt: Runtime;
  readonly #rng: Rng;
  readonly #out = new Owned();
  readonly #mask = new Owned();
  readonly #dx = new Owned();
  #disposed = false;

  constructor(rt: Runtime, p: number, options: DropoutOptions) {
    this.p = checkNumber('p', p, 0, 1);
    if (options === null || typeof options !== 'object') throw typeError('options', 'an object with an rng', options);
    if (!(options.rng instanceof Rng)) throw typeError('options.rng', 'an Rng (nn.Rng(seed))', options.rng);
    this.#rt = rt;
    this.#rng = options.rng;
  }

  get output(): Tensor | null {
    return this.#out.current;
  }

  /** The multipliers of the last forward(): 0 where dropped, 1/(1 − p) where kept (all 1 in eval). */
  get mask(): Float32Array | null {
    return this.#mask.current?.toArray() ?? null;
  }

  forward(x: Tensor): Tensor {
    this.#live();
    this.#rt.checkTensor('x', x);
    const y = this.#out.get(this.#rt, x.shape);
    const mask = this.#mask.get(this.#rt, x.shape);
    // Eval runs the same kernel with p = 0 (mask of ones) and draws nothing, so switching
    // to eval and back does not shift the training masks.
    const drop = this.training && this.p > 0;
    const seed = drop ? this.#rng.nextUint32() : 0;
    this.#rt.kernels.f32_dropout(x.ptr, y.ptr, mask.ptr, x.size, drop ? this.p : 0, seed);
    return y;
  }

  backward(dy: Tensor, inputGrad = true): Tensor | null {
    this.#live();
    checkGrad(dy, this.#out.current, 'Dropout');
    if (!inputGrad) return null;
    const dx = this.#dx.get(this.#rt, dy.shape);
    this.#rt.kernels.f32_mul(dy.ptr, this.#mask.current!.ptr, dx.ptr, dy.size);
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
      throw new RangeError('Dropout.loadStateDict: expected an empty object (the layer has no state)');
    }
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#out.dispose();
    this.#mask.dispose();
    this.#dx.dispose();
    this.#disposed = true;
  }

  toString(): string {
    return `Dropout(p=${this.p})`;
  }

  #live(): void {
    if (this.#disposed) throw new TypeError(`Dropout(p=${this.p}) was disposed and cannot be used`);
  }
}
