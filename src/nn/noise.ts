// Santurkar et al. (2018)'s "noisy BatchNorm": after a BatchNorm, each unit's activations
// are scaled and shifted by random amounts drawn anew at every training step, so the
// distribution each following layer sees keeps moving (non-zero mean, non-unit scale):
//   y[r,c] = x[r,c]·scale[c] + shift[c],   scale[c] ~ U(scale), shift[c] ~ U(shift).
// Eval passes x through unchanged (scale 1, shift 0).
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { checkBoolean, checkPositiveInteger, rangeError, typeError } from '../errors.js';
import { Rng } from './rng.js';
import { checkRows, LayerBase, type Layer } from './layer.js';

/** Options of UnitNoise. */
export interface UnitNoiseOptions {
  /** Draws the noise; required so that a seed fixes it. */
  rng: Rng;
  /** [low, high) of each unit's shift. Default [-1, 1]. */
  shift?: readonly [number, number];
  /** [low, high) of each unit's scale. Default [1, 2]. */
  scale?: readonly [number, number];
}

function checkRange(argument: string, value: unknown): readonly [number, number] {
  const expected = 'a [low, high] pair of finite numbers with low <= high';
  if (!Array.isArray(value)) throw typeError(argument, expected, value);
  // Read once: the pair that was checked is the pair that is kept.
  const pair: unknown[] = [];
  for (let i = 0; i < value.length; i++) pair.push(value[i]);
  if (!pair.every((v) => typeof v === 'number')) throw typeError(argument, expected, value);
  if (pair.length !== 2 || !pair.every(Number.isFinite)) throw rangeError(argument, expected, value);
  const [low, high] = pair as [number, number];
  if (low > high) throw rangeError(argument, expected, value);
  return Object.freeze([low, high] as const);
}

/**
 * Santurkar et al. (2018)'s "noisy BatchNorm" noise for `[N, features]` inputs: in training
 * `y[r, c] = x[r, c]·scale[c] + shift[c]`, with each unit's scale and shift drawn anew at
 * every forward (unless `hold` is set); in eval the layer is the identity.
 *
 * @example
 * ```js
 * const noise = new nn.UnitNoise(rt, 100, { rng: new nn.Rng(1), shift: [-1, 1], scale: [1, 2] });
 * ```
 */
export class UnitNoise extends LayerBase implements Layer {
  readonly #features: number;
  readonly #shiftRange: readonly [number, number];
  readonly #scaleRange: readonly [number, number];
  #hold = false;
  readonly #rt: Runtime;
  readonly #rng: Rng;
  readonly #scale: Tensor;
  readonly #shift: Tensor;
  // The scale and shift tensors hold a training draw (not eval's ones and zeros).
  #drawn = false;

  constructor(rt: Runtime, features: number, options: UnitNoiseOptions) {
    super(rt);
    this.#features = checkPositiveInteger('features', features);
    if (options === null || typeof options !== 'object') throw typeError('options', 'an object with an rng', options);
    if (!(options.rng instanceof Rng)) throw typeError('options.rng', 'an Rng (nn.Rng(seed))', options.rng);
    // Only undefined means "default": null is a value of the wrong kind.
    this.#shiftRange = checkRange('options.shift', options.shift === undefined ? [-1, 1] : options.shift);
    this.#scaleRange = checkRange('options.scale', options.scale === undefined ? [1, 2] : options.scale);
    this.#rt = rt;
    this.#rng = options.rng;
    this.#scale = rt.tensor([features]);
    try {
      this.#shift = rt.tensor([features]);
    } catch (error) {
      this.#scale.dispose();
      throw error;
    }
    if (new.target === UnitNoise) Object.freeze(this);
  }

  get features(): number {
    return this.#features;
  }

  /** [low, high) of each unit's shift. */
  get shiftRange(): readonly [number, number] {
    return this.#shiftRange;
  }

  /** [low, high) of each unit's scale. */
  get scaleRange(): readonly [number, number] {
    return this.#scaleRange;
  }

  /**
   * When true, training forwards reuse the last draw instead of drawing anew: a
   * measurement that repeats a step's forward pass on the same batch sees the same noise.
   */
  get hold(): boolean {
    return this.#hold;
  }

  set hold(value: boolean) {
    this.#hold = checkBoolean('hold', value);
  }

  /** The scale and shift of the last forward(). */
  get noise(): { scale: Float32Array; shift: Float32Array } {
    return { scale: this.#scale.toArray(), shift: this.#shift.toArray() };
  }

  protected checkShape(inputShape: readonly number[]): readonly number[] {
    return checkRows(inputShape, this.#features);
  }

  protected run(x: Tensor, y: Tensor): void {
    const scale = this.#scale.data;
    const shift = this.#shift.data;
    if (!this.training) {
      scale.fill(1);
      shift.fill(0);
      this.#drawn = false;
    } else if (!this.#hold || !this.#drawn) {
      // One draw per unit and step (features values), not per element.
      const [s0, s1] = this.#scaleRange;
      const [m0, m1] = this.#shiftRange;
      for (let c = 0; c < this.#features; c++) {
        scale[c] = this.#rng.uniformRange(s0, s1);
        shift[c] = this.#rng.uniformRange(m0, m1);
      }
      this.#drawn = true;
    }
    this.#rt.kernels.f32_scale_shift_interleaved(x.ptr, y.ptr, x.shape[0]!, this.#features, this.#scale.ptr, this.#shift.ptr);
  }

  // Backward reads the scale, which the layer keeps: the input may be gone.
  protected checkSaved(): void {}

  protected runBackward(dy: Tensor, _x: Tensor, dx: Tensor | null): void {
    if (dx !== null) this.#rt.kernels.f32_scale_shift_interleaved(dy.ptr, dx.ptr, dy.shape[0]!, this.#features, this.#scale.ptr, 0);
  }

  protected release(): void {
    this.#scale.dispose();
    this.#shift.dispose();
  }

  toString(): string {
    return `UnitNoise(${this.#features})`;
  }
}
