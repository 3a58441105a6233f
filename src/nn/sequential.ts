// Sequential: forward through the layers in order, backward in reverse. A BatchNorm from
// rt.batchNorm1d can be passed as it is; it is wrapped in a BatchNormLayer.
import { BatchNorm } from '../batchnorm.js';
import type { Tensor } from '../tensor.js';
import { checkBoolean, disposedError, typeError } from '../errors.js';
import { BatchNormLayer } from './batchnorm.js';
import type { Layer, LayerState, Parameter } from './layer.js';

export interface NamedParameter extends Parameter {
  /** PyTorch's dotted name, e.g. '0.weight'. */
  readonly path: string;
}

function isLayer(value: unknown): value is Layer {
  const v = value as Partial<Layer> | null;
  return v !== null && typeof v === 'object' && typeof v.forward === 'function' && typeof v.backward === 'function'
    && typeof v.parameters === 'function';
}

export class Sequential implements Layer {
  readonly layers: readonly Layer[];
  #disposed = false;

  constructor(...layers: (Layer | BatchNorm)[]) {
    if (layers.length === 0) throw new RangeError('layers: expected at least one layer, got none');
    this.layers = Object.freeze(layers.map((layer, i) => {
      if (layer instanceof BatchNorm) return new BatchNormLayer(layer);
      if (!isLayer(layer)) throw typeError(`layers[${i}]`, 'a Layer or a BatchNorm', layer);
      return layer;
    }));
  }

  get training(): boolean {
    return this.layers[0]!.training;
  }

  set training(mode: boolean) {
    this.train(mode);
  }

  get output(): Tensor | null {
    return this.layers[this.layers.length - 1]!.output;
  }

  forward(x: Tensor): Tensor {
    this.#live();
    let h = x;
    for (const layer of this.layers) h = layer.forward(h);
    return h;
  }

  /**
   * Backward through every layer; parameter gradients accumulate. Returns dx for the
   * network's input when `inputGrad` is true; by default the first layer skips it (the
   * input is data, as in PyTorch where inputs do not require grad).
   */
  backward(dy: Tensor, inputGrad = false): Tensor | null {
    this.#live();
    let g: Tensor | null = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      g = this.layers[i]!.backward(g!, i > 0 || inputGrad);
    }
    return g;
  }

  parameters(): NamedParameter[] {
    return this.layers.flatMap((layer, i) => layer.parameters().map((p) => ({ ...p, path: `${i}.${p.name}` })));
  }

  zeroGrad(): void {
    this.#live();
    for (const layer of this.layers) layer.zeroGrad();
  }

  train(mode = true): this {
    this.#live();
    checkBoolean('mode', mode);
    for (const layer of this.layers) layer.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Every layer's state under PyTorch's keys ('0.weight', '1.running_mean', ...). */
  stateDict(): LayerState {
    this.#live();
    const state: LayerState = {};
    this.layers.forEach((layer, i) => {
      for (const [key, value] of Object.entries(layer.stateDict())) state[`${i}.${key}`] = value;
    });
    return state;
  }

  loadStateDict(state: LayerState): void {
    this.#live();
    if (state === null || typeof state !== 'object') throw typeError('state', 'an object', state);
    const parts: LayerState[] = this.layers.map(() => ({}));
    for (const [key, value] of Object.entries(state)) {
      const dot = key.indexOf('.');
      const part = parts[Number(key.slice(0, dot))];
      if (dot < 1 || part === undefined) throw new RangeError(`state: unexpected key "${key}"`);
      part[key.slice(dot + 1)] = value;
    }
    // Each layer checks its own part and loads it; when one refuses, the layers already
    // loaded get their previous state back, so a failed call changes nothing.
    const before = this.stateDict();
    try {
      this.layers.forEach((layer, i) => layer.loadStateDict(parts[i]!));
    } catch (error) {
      this.layers.forEach((layer, i) => {
        const own: LayerState = {};
        for (const [key, value] of Object.entries(before)) if (key.startsWith(`${i}.`)) own[key.slice(`${i}.`.length)] = value;
        layer.loadStateDict(own);
      });
      throw error;
    }
  }

  /** Disposes every layer, the BatchNorms passed in included. */
  dispose(): void {
    if (this.#disposed) return;
    for (const layer of this.layers) layer.dispose();
    this.#disposed = true;
  }

  toString(): string {
    return `Sequential(${this.layers.map(String).join(', ')})`;
  }

  #live(): void {
    if (this.#disposed) throw disposedError('Sequential');
  }
}
