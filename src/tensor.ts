// A float32 tensor that lives in a runtime's wasm memory.
import type { Runtime } from './runtime.js';
import { rangeError, typeError } from './errors.js';
import { formatShape } from './shape.js';

export const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  /** @internal */ readonly runtime: Runtime;
  /** @internal byte offset in wasm memory; 0 once disposed */
  ptr: number;
  #view: Float32Array | null = null;

  /** @internal use rt.tensor() */
  constructor(runtime: Runtime, shape: readonly number[], size: number, ptr: number) {
    this.runtime = runtime;
    this.shape = Object.freeze(shape.slice());
    this.size = size;
    this.ptr = ptr;
  }

  get disposed(): boolean {
    return this.ptr === 0;
  }

  /** A live view onto wasm memory; re-derived after memory growth detaches the old one. */
  get data(): Float32Array {
    if (this.ptr === 0) throw this.#disposedError();
    const buffer = this.runtime.memory.buffer;
    if (this.#view === null || this.#view.buffer !== buffer) this.#view = new Float32Array(buffer, this.ptr, this.size);
    return this.#view;
  }

  /** A copy of the values. */
  toArray(): Float32Array {
    return this.data.slice();
  }

  set(values: ArrayLike<number>): this {
    const data = this.data;
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw typeError('values', `an array-like of ${this.size} numbers`, values);
    }
    if (values.length !== this.size) {
      throw rangeError('values', `${this.size} values for shape ${formatShape(this.shape)}`, values);
    }
    data.set(values);
    return this;
  }

  dispose(): void {
    if (this.ptr === 0) return;
    this.runtime.release(this);
    this.ptr = 0;
    this.#view = null;
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}${this.ptr === 0 ? ', disposed' : ''})`;
  }

  #disposedError(): Error {
    return new TypeError(`Tensor ${formatShape(this.shape)} was disposed and cannot be used`);
  }
}
