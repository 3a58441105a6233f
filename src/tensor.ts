// A float32 tensor that lives in a runtime's wasm memory.
import type { Runtime } from './runtime.js';
import { disposedError, rangeError, typeError } from './errors.js';
import { formatShape } from './shape.js';

export const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

/**
 * A float32 tensor in a runtime's wasm memory, made by rt.tensor(). Free it with dispose() (or `using`);
 * using a disposed tensor throws, disposing twice is harmless.
 *
 * @example
 * ```js
 * const t = rt.tensor([2, 2], [1, 2, 3, 4]);
 * t.data[0] = 5;           // a live view: read it again after a call that allocates
 * const copy = t.toArray(); // Float32Array [5, 2, 3, 4], independent of wasm memory
 * t.dispose();
 * ```
 */
export class Tensor {
  // Private with getters, not public fields: TypeScript's readonly is gone at runtime, and a
  // plain-JS `t.shape = [...]` (a reshape attempt) or `t.ptr = ...` would otherwise send a
  // kernel past the allocation into another tensor.
  readonly #runtime: Runtime;
  readonly #shape: readonly number[];
  readonly #size: number;
  #ptr: number;
  #view: Float32Array | null = null;

  /** @internal use rt.tensor() */
  constructor(runtime: Runtime, shape: readonly number[], size: number, ptr: number) {
    this.#runtime = runtime;
    this.#shape = Object.freeze(shape.slice());
    this.#size = size;
    this.#ptr = ptr;
  }

  get shape(): readonly number[] {
    return this.#shape;
  }

  get size(): number {
    return this.#size;
  }

  /** @internal */
  get runtime(): Runtime {
    return this.#runtime;
  }

  /** @internal byte offset in wasm memory; 0 once disposed */
  get ptr(): number {
    return this.#ptr;
  }

  get disposed(): boolean {
    return this.#ptr === 0;
  }

  /** A live view onto wasm memory; re-derived after memory growth detaches the old one. */
  get data(): Float32Array {
    if (this.#ptr === 0) throw disposedError(`Tensor ${formatShape(this.#shape)}`);
    const buffer = this.#runtime.memory.buffer;
    if (this.#view === null || this.#view.buffer !== buffer) this.#view = new Float32Array(buffer, this.#ptr, this.#size);
    return this.#view;
  }

  /** A copy of the values. */
  toArray(): Float32Array {
    return this.data.slice();
  }

  /** Copies `values` (exactly `size` numbers) into the tensor; returns it. */
  set(values: ArrayLike<number>): this {
    const data = this.data;
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw typeError('values', `an array-like of ${this.#size} numbers`, values);
    }
    if (values.length !== this.#size) {
      throw rangeError('values', `${this.#size} values for shape ${formatShape(this.#shape)}`, values);
    }
    data.set(values);
    return this;
  }

  /** Frees the memory; a second call does nothing. */
  dispose(): void {
    if (this.#ptr === 0) return;
    this.#runtime.release(this);
    this.#ptr = 0;
    this.#view = null;
  }

  /** The same as dispose(), for `using t = rt.tensor(...)`. */
  [disposeSymbol](): void {
    this.dispose();
  }

  /** The shape, e.g. `Tensor([2, 3])` (or `Tensor([2, 3], disposed)`), for messages and the console. */
  toString(): string {
    return `Tensor(${formatShape(this.#shape)}${this.#ptr === 0 ? ', disposed' : ''})`;
  }
}
