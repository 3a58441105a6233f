// Santurkar et al. (2018, Section 2.1)'s noisy BatchNorm, as they describe it: after a
// BatchNorm, every activation of every sample is scaled and shifted by its own i.i.d.
// random draw, from a distribution with non-zero mean and non-unit variance that itself
// changes at every training step (non-stationary). Per step and unit c:
//   mean shift m_c ~ U(shift), mean scale s_c ~ U(scale);
// then per sample r:  y[r,c] = x[r,c]·a[r,c] + b[r,c],  a ~ U(s_c/2, 3s_c/2),  b ~ N(m_c, 1).
// nn.UnitNoise draws one scale and shift per unit and step, shared by the whole batch;
// this layer is the per-sample version. Eval passes x through unchanged. A plain
// nn Layer (duck-typed, no parameters, no state; one backward per forward, like nn's
// layers), written in JavaScript over the tensors' memory: a batch of 60 by 100 units is
// 6,000 multiply-adds.

const NOISE_RANGES = Object.freeze({ shift: Object.freeze([-1, 1]), scale: Object.freeze([1, 2]) });

export class SampleNoise {
  training = true;
  /**
   * When true, training forwards reuse the last draw instead of drawing anew: a
   * measurement that repeats a step's forward pass on the same batch sees the same noise.
   */
  hold = false;
  #rt;
  #rng;
  #out = null;
  #dx = null;
  #scale = new Float32Array(0);
  #shift = new Float32Array(0);
  #drawn = false;
  // backward() used the last forward() already: a second one would apply it twice.
  #backwardDone = false;

  constructor(rt, features, { rng }) {
    if (!Number.isSafeInteger(features) || features < 1) throw new RangeError(`features: expected a positive integer, got ${features}`);
    if (rng === null || typeof rng !== 'object' || typeof rng.normal !== 'function') throw new TypeError(`rng: expected an nn.Rng, got ${rng}`);
    this.features = features;
    this.#rt = rt;
    this.#rng = rng;
  }

  get output() {
    return this.#out;
  }

  #draw(rows) {
    const n = rows * this.features;
    if (this.#scale.length !== n) {
      this.#scale = new Float32Array(n);
      this.#shift = new Float32Array(n);
    }
    const rng = this.#rng;
    for (let c = 0; c < this.features; c++) {
      const m = rng.uniformRange(...NOISE_RANGES.shift);
      const s = rng.uniformRange(...NOISE_RANGES.scale);
      for (let r = 0; r < rows; r++) {
        const i = r * this.features + c;
        this.#scale[i] = rng.uniformRange(s / 2, 1.5 * s);
        this.#shift[i] = m + rng.normal();
      }
    }
    this.#drawn = true;
  }

  #owned(tensor, shape) {
    if (tensor !== null && tensor.shape[0] === shape[0] && tensor.shape[1] === shape[1]) return tensor;
    tensor?.dispose();
    return this.#rt.tensor(shape);
  }

  outputShape(inputShape) {
    if (inputShape.length !== 2 || inputShape[1] !== this.features) throw new RangeError(`x: expected shape [N, ${this.features}], got [${inputShape}]`);
    return inputShape;
  }

  inputGradShape(dyShape) {
    if (this.#out === null) throw new TypeError(`${this}.backward(): expected a forward() first, got none`);
    if (this.#backwardDone) throw new TypeError(`${this}.backward(): expected a new forward() before this backward(), got one backward() already used`);
    if (dyShape.length !== 2 || dyShape[0] !== this.#out.shape[0] || dyShape[1] !== this.features) {
      throw new RangeError(`dy: expected shape [${this.#out.shape}], got [${dyShape}]`);
    }
    return dyShape;
  }

  forward(x) {
    this.outputShape(x.shape);
    const rows = x.shape[0];
    this.#backwardDone = false;
    this.#out = this.#owned(this.#out, x.shape);
    const xs = x.data;
    const ys = this.#out.data;
    if (!this.training) {
      ys.set(xs);
      this.#drawn = false;
      return this.#out;
    }
    if (!this.hold || !this.#drawn || this.#scale.length !== xs.length) this.#draw(rows);
    for (let i = 0; i < xs.length; i++) ys[i] = xs[i] * this.#scale[i] + this.#shift[i];
    return this.#out;
  }

  backward(dy, inputGrad = true) {
    this.inputGradShape(dy.shape);
    this.#backwardDone = true;
    if (!inputGrad) return null;
    this.#dx = this.#owned(this.#dx, dy.shape);
    const d = dy.data;
    const dx = this.#dx.data;
    if (this.training) for (let i = 0; i < d.length; i++) dx[i] = d[i] * this.#scale[i];
    else dx.set(d);
    return this.#dx;
  }

  parameters() {
    return [];
  }

  zeroGrad() {}

  train(mode = true) {
    this.training = mode;
    return this;
  }

  eval() {
    return this.train(false);
  }

  stateDict() {
    return {};
  }

  prepareLoad(state, prefix) {
    const keys = Object.keys(state ?? {});
    if (keys.length > 0) throw new RangeError(`state: unexpected key "${prefix}${keys[0]}" (${this} has no state)`);
    return () => {};
  }

  loadStateDict(state) {
    this.prepareLoad(state, '')();
  }

  dispose() {
    this.#out?.dispose();
    this.#dx?.dispose();
    this.#out = null;
    this.#dx = null;
  }

  toString() {
    return `SampleNoise(${this.features})`;
  }
}
