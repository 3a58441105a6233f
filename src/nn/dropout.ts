// Inverted dropout (PyTorch's nn.Dropout): in training each element is zeroed with
// probability p and the survivors are scaled by 1/(1 − p), so eval is the identity and
// needs no rescaling. The mask is drawn inside wasm from one seed per forward, taken from
// the layer's Rng: a seed fixes every mask, on both builds (assembly/nn.ts, f32_dropout).
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { checkNumber, typeError } from '../errors.js';
import { Rng } from './rng.js';
import { LayerBase, Owned, type Layer } from './layer.js';

/** Options of Dropout. */
export interface DropoutOptions {
  /** Draws one mask seed per training forward; required so that a seed fixes the masks. */
  rng: Rng;
}

/**
 * Inverted dropout, PyTorch's nn.Dropout: in training each element is zeroed with probability
 * `p` and the others are scaled by 1/(1 − p); in eval the layer is the identity.
 *
 * @example
 * ```js
 * const drop = new nn.Dropout(rt, 0.5, { rng: new nn.Rng(1) }); // the seed fixes every mask
 * ```
 */
export class Dropout extends LayerBase implements Layer {
  readonly #p: number;
  readonly #rt: Runtime;
  readonly #rng: Rng;
  readonly #mask = new Owned(this);

  constructor(rt: Runtime, p: number, options: DropoutOptions) {
    super(rt);
    this.#p = checkNumber('p', p, 0, 1);
    if (options === null || typeof options !== 'object') throw typeError('options', 'an object with an rng', options);
    if (!(options.rng instanceof Rng)) throw typeError('options.rng', 'an Rng (nn.Rng(seed))', options.rng);
    this.#rt = rt;
    this.#rng = options.rng;
    if (new.target === Dropout) Object.freeze(this);
  }

  /** Probability of zeroing an element, in [0, 1]. */
  get p(): number {
    return this.#p;
  }

  /** The multipliers of the last forward(): 0 where dropped, 1/(1 − p) where kept (all 1 in eval). */
  get mask(): Float32Array | null {
    return this.#mask.current?.toArray() ?? null;
  }

  protected checkShape(inputShape: readonly number[]): readonly number[] {
    return inputShape;
  }

  protected run(x: Tensor, y: Tensor): void {
    const mask = this.#mask.get(this.#rt, x.shape);
    // Eval runs the same kernel with p = 0 (mask of ones) and draws nothing, so switching
    // to eval and back does not shift the training masks.
    const drop = this.training && this.#p > 0;
    const seed = drop ? this.#rng.nextUint32() : 0;
    this.#rt.kernels.f32_dropout(x.ptr, y.ptr, mask.ptr, x.size, drop ? this.#p : 0, seed);
  }

  // Backward reads the mask, which the layer keeps: the input may be gone.
  protected checkSaved(): void {}

  protected runBackward(dy: Tensor, _x: Tensor, dx: Tensor | null): void {
    if (dx !== null) this.#rt.kernels.f32_mul(dy.ptr, this.#mask.current!.ptr, dx.ptr, dy.size);
  }

  protected release(): void {
    this.#mask.dispose();
  }

  toString(): string {
    return `Dropout(p=${this.#p})`;
  }
}
