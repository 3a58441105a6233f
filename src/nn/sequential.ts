// Sequential: forward through the layers in order, backward in reverse. A BatchNorm from
// rt.batchNorm1d can be passed as it is; it is wrapped in a BatchNormLayer. Every call
// checks the whole chain before the first layer runs, so a call that throws changes nothing.
import { BatchNorm } from '../batchnorm.js';
import { isTensor, type Tensor } from '../tensor.js';
import { serializable } from '../state.js';
import { checkBoolean, disposedError, typeError } from '../errors.js';
import { BatchNormLayer } from './batchnorm.js';
import { type Layer, type LayerState, type LayerStateInput, type Parameter } from './layer.js';

export interface NamedParameter extends Parameter {
  /** PyTorch's dotted name, e.g. '0.weight'. */
  readonly path: string;
}

function isLayer(value: unknown): value is Layer {
  const v = value as Partial<Layer> | null;
  return v !== null && typeof v === 'object' && typeof v.forward === 'function' && typeof v.backward === 'function'
    && typeof v.parameters === 'function' && typeof v.outputShape === 'function' && typeof v.inputGradShape === 'function'
    && typeof v.prepareLoad === 'function';
}

// PyTorch's state_dict index: a decimal without leading zeros, then the layer's own key.
const KEY = /^(0|[1-9][0-9]*)\.(.+)$/s;

/**
 * Layers run in order by forward() and in reverse by backward(), PyTorch's nn.Sequential. A
 * BatchNorm from rt.batchNorm1d/2d/3d may be passed as it is; each instance may appear once.
 *
 * @example
 * ```js
 * const rng = new nn.Rng(1);
 * const net = new nn.Sequential(new nn.Linear(rt, 784, 100, { rng }), rt.batchNorm1d(100), new nn.ReLU(rt));
 * Object.keys(net.stateDict()); // ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', ...]
 * net.dispose();                 // disposes every layer, the BatchNorm included
 * ```
 */
export class Sequential implements Layer {
  readonly #layers: readonly Layer[];
  #disposed = false;

  constructor(...layers: (Layer | BatchNorm)[]) {
    if (layers.length === 0) throw new RangeError('layers: expected at least one layer, got none');
    // One instance twice would overwrite its own saved input on the second forward: the
    // gradients would be wrong, and without autograd there is no right way to share it.
    const seen = new Map<unknown, number>();
    this.#layers = Object.freeze(layers.map((layer, i) => {
      if (!(layer instanceof BatchNorm) && !isLayer(layer)) throw typeError(`layers[${i}]`, 'a Layer or a BatchNorm', layer);
      for (const part of parts(layer)) {
        const first = seen.get(part);
        if (first !== undefined) {
          throw new RangeError(`layers[${i}]: expected a layer not already in this Sequential, got ${part} (also layers[${first}])`);
        }
        seen.set(part, i);
      }
      return layer instanceof BatchNorm ? new BatchNormLayer(layer) : layer;
    }));
    if (new.target === Sequential) Object.freeze(this);
  }

  get layers(): readonly Layer[] {
    return this.#layers;
  }

  get training(): boolean {
    return this.#layers[0]!.training;
  }

  set training(mode: boolean) {
    checkBoolean('training', mode);
    this.train(mode);
  }

  get output(): Tensor | null {
    return this.#layers[this.#layers.length - 1]!.output;
  }

  outputShape(inputShape: readonly number[]): readonly number[] {
    this.#live();
    let shape = inputShape;
    this.#layers.forEach((layer, i) => {
      try {
        shape = layer.outputShape(shape);
      } catch (error) {
        if (error instanceof Error) error.message = `layers[${i}] (${layer}): ${error.message}`;
        throw error;
      }
    });
    return shape;
  }

  inputGradShape(dyShape: readonly number[]): readonly number[] {
    this.#live();
    let shape = dyShape;
    for (let i = this.#layers.length - 1; i >= 0; i--) shape = this.#layers[i]!.inputGradShape(shape);
    return shape;
  }

  forward(x: Tensor): Tensor {
    this.#live();
    if (!isTensor(x)) throw typeError('x', 'a Tensor', x);
    x.runtime.checkTensor('x', x);
    // A layer's output is rewritten by its next forward: as the network's input it would
    // be overwritten while earlier layers still need it for backward.
    this.#layers.forEach((layer, i) => {
      if (layer.output === x) {
        throw new RangeError(`x: must not be the output of layers[${i}] (${layer}), which this forward() overwrites (copy it with rt.tensor(x.shape, x.data))`);
      }
    });
    this.outputShape(x.shape);
    let h = x;
    for (const layer of this.#layers) h = layer.forward(h);
    return h;
  }

  /**
   * Backward through every layer; parameter gradients accumulate. Returns dx for the
   * network's input when `inputGrad` is true; by default the first layer skips it (the
   * input is data, as in PyTorch where inputs do not require grad).
   */
  backward(dy: Tensor, inputGrad = false): Tensor | null {
    this.#live();
    checkBoolean('inputGrad', inputGrad);
    if (!isTensor(dy)) throw typeError('dy', 'a Tensor', dy);
    dy.runtime.checkTensor('dy', dy);
    this.inputGradShape(dy.shape);
    let g: Tensor | null = dy;
    for (let i = this.#layers.length - 1; i >= 0; i--) {
      g = this.#layers[i]!.backward(g!, i > 0 || inputGrad);
    }
    return g;
  }

  /** Every layer's parameters in order, each with its PyTorch path ('0.weight'). */
  parameters(): NamedParameter[] {
    return this.#layers.flatMap((layer, i) => layer.parameters().map((p) => Object.freeze({ name: p.name, value: p.value, grad: p.grad, path: `${i}.${p.name}` })));
  }

  zeroGrad(): void {
    this.#live();
    for (const layer of this.#layers) layer.zeroGrad();
  }

  train(mode = true): this {
    this.#live();
    checkBoolean('mode', mode);
    for (const layer of this.#layers) layer.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Every layer's state under PyTorch's keys ('0.weight', '1.running_mean', ...). */
  stateDict(): LayerState {
    this.#live();
    const state: LayerState = {};
    this.#layers.forEach((layer, i) => {
      for (const [key, value] of Object.entries(layer.stateDict())) state[`${i}.${key}`] = value;
    });
    return serializable(state);
  }

  /** Exactly PyTorch's keys; every value is checked and converted before any layer changes. */
  loadStateDict(state: LayerStateInput): void {
    this.prepareLoad(state, '')();
  }

  prepareLoad(state: LayerStateInput, prefix: string): () => void {
    this.#live();
    if (state === null || typeof state !== 'object') throw typeError('stateDict', 'an object', state);
    // Null-prototype parts: a key such as "0.__proto__" stays a key.
    const split: Record<string, ArrayLike<number> | number>[] = this.#layers.map(() => Object.create(null));
    for (const key of Object.keys(state)) {
      const match = KEY.exec(key);
      const part = match === null ? undefined : split[Number(match[1])];
      if (part === undefined) throw new RangeError(`stateDict: unexpected key "${prefix}${key}"`);
      part[match![2]!] = state[key]!;
    }
    const writes = this.#layers.map((layer, i) => layer.prepareLoad(split[i]!, `${prefix}${i}.`));
    return () => {
      for (const write of writes) write();
    };
  }

  /** Disposes every layer, the BatchNorms passed in included. */
  dispose(): void {
    if (this.#disposed) return;
    for (const layer of this.#layers) layer.dispose();
    this.#disposed = true;
  }

  toString(): string {
    return `Sequential(${this.#layers.map(String).join(', ')})`;
  }

  #live(): void {
    if (this.#disposed) throw disposedError('Sequential');
  }
}

/** What one entry of a Sequential uses: itself, its wrapped BatchNorm, or a nested network's parts. */
function parts(layer: Layer | BatchNorm): unknown[] {
  if (layer instanceof Sequential) return layer.layers.flatMap(parts);
  if (layer instanceof BatchNormLayer) return [layer, layer.module];
  return [layer];
}
