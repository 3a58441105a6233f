// Santurkar et al. (2018)'s "noisy BatchNorm": after a BatchNorm, each unit's activations
// are scaled and shifted by random amounts drawn anew at every training step, so the
// distribution each following layer sees keeps moving (non-zero mean, non-unit scale):
//   y[r,c] = x[r,c]·scale[c] + shift[c],   scale[c] ~ U(scale), shift[c] ~ U(shift).
// Eval passes x through unchanged (scale 1, shift 0).
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { checkPositiveInteger, rangeError, typeError } from '../errors.js';
import { Rng } from './rng.js';
import { checkRows, StatelessLayer } from './layer.js';

/** Options of UnitNoise. */
export interface UnitNoiseOptions {
  /** Draws the noise; required so that a seed fixes it. */
  rng: Rng;
  /** [low, high) of each unit's shift. Default [-1, 1]. */
  shift?: readonly [number, number];
  /** [low, high) of each unit's scale. Default [1, 2]. */
  scale?: readonly [number, number];
}

function checkRange(argument: string, value: unknown): [number, number] {
  const expected = 'a [low, high] pair of finite numbers with low <= high';
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number')) throw typeError(argument, expected, value);
  if (value.length !== 2 || !value.every(Number.isFinite)) throw rangeError(argument, expected, value);
  const [low, high] = value as [number, number];
  if (low > high) throw rangeError(argument, expected, value);
  return [low, high];
}

/**
 * Santurkar et al.'s "noisy BN": `y = x·scale[c] + shift[c]` with scale and shift drawn per unit at every
 * training forward (identity in eval), so the distribution a layer sees moves at every step.
 *
 * @example
 * ```js
 * const noise = new nn.UnitNoise(rt, 100, { rng: new nn.Rng(1), shift: [-1, 1], scale: [1, 2] });
 * ```
 */
export class UnitNoise extends StatelessLayer {
  readonly features: number;
  readonly shiftRange: readonly [number, number];
  readonly scaleRange: readonly [number, number];
  /**
   * When true, training forwards reuse the last draw instead of drawing anew: a
   * measurement that repeats a step's forward pass on the same batch sees the same noise.
   */
  hold = false;
  readonly #rt: Runtime;
  readonly #rng: Rng;
  readonly #scale: Tensor;
  readonly #shift: Tensor;
  // The scale and shift tensors hold a training draw (not eval's ones and zeros).
  #drawn = false;

  constructor(rt: Runtime, features: number, options: UnitNoiseOptions) {
    super();
    this.features = checkPositiveInteger('features', features);
    if (options === null || typeof options !== 'object') throw typeError('options', 'an object with an rng', options);
    if (!(options.rng instanceof Rng)) throw typeError('options.rng', 'an Rng (nn.Rng(seed))', options.rng);
    this.shiftRange = checkRange('options.shift', options.shift ?? [-1, 1]);
    this.scaleRange = checkRange('options.scale', options.scale ?? [1, 2]);
    this.#rt = rt;
    this.#rng = options.rng;
    this.#scale = rt.tensor([features]);
    this.#shift = rt.tensor([features]);
  }

  /** The scale and shift of the last forward(). */
  get noise(): { scale: Float32Array; shift: Float32Array } {
    return { scale: this.#scale.toArray(), shift: this.#shift.toArray() };
  }

  forward(x: Tensor): Tensor {
    this.live();
    checkRows(this.#rt, 'x', x, this.features);
    const scale = this.#scale.data;
    const shift = this.#shift.data;
    if (!this.training) {
      scale.fill(1);
      shift.fill(0);
      this.#drawn = false;
    } else if (!this.hold || !this.#drawn) {
      // One draw per unit and step (features values), not per element.
      const [s0, s1] = this.scaleRange;
      const [m0, m1] = this.shiftRange;
      for (let c = 0; c < this.features; c++) {
        scale[c] = this.#rng.uniformRange(s0, s1);
        shift[c] = this.#rng.uniformRange(m0, m1);
      }
      this.#drawn = true;
    }
    const y = this.outputFor(this.#rt, x.shape);
    this.#rt.kernels.f32_scale_shift_interleaved(x.ptr, y.ptr, x.shape[0]!, this.features, this.#scale.ptr, this.#shift.ptr);
    return y;
  }

  backward(dy: Tensor, inputGrad = true): Tensor | null {
    this.checkBackward(dy);
    if (!inputGrad) return null;
    const dx = this.gradFor(this.#rt, dy);
    this.#rt.kernels.f32_scale_shift_interleaved(dy.ptr, dx.ptr, dy.shape[0]!, this.features, this.#scale.ptr, 0);
    return dx;
  }

  protected release(): void {
    this.#scale.dispose();
    this.#shift.dispose();
  }

  toString(): string {
    return `UnitNoise(${this.features})`;
  }
}
