// A float32 tensor that lives in a runtime's wasm memory. Only the runtime makes them: the
// facade passes a tensor's pointer and size to kernels that trust both.
import type { Runtime } from './runtime.js';
import { disposedError, readNumbers } from './errors.js';
import { formatShape } from './shape.js';

export const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

// Held only by this module: the constructor refuses any caller that does not have it.
const INTERNAL = Symbol('batchnorm-wasm internal');

let construct: (runtime: Runtime, shape: readonly number[], size: number, ptr: number) => Tensor;
let brand: (value: unknown) => value is Tensor;
let labelOwner: (t: Tensor, owner: string) => void;
let ownerOf: (t: Tensor) => string | null;
let clearPtr: (t: Tensor) => void;

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
  // Private fields on a frozen instance with a frozen prototype: a plain-JS `t.shape = [...]`,
  // `t.ptr = ...` or Object.defineProperty cannot redirect a kernel into another tensor.
  readonly #runtime: Runtime;
  readonly #shape: readonly number[];
  readonly #size: number;
  #ptr: number;
  #view: Float32Array | null = null;
  #owner: string | null = null;

  static {
    construct = (runtime, shape, size, ptr) => new Tensor(INTERNAL, runtime, shape, size, ptr);
    brand = (value): value is Tensor => typeof value === 'object' && value !== null && #ptr in value;
    labelOwner = (t, owner) => { t.#owner = owner; };
    ownerOf = (t) => t.#owner;
    clearPtr = (t) => { t.#ptr = 0; t.#view = null; };
  }

  /** Tensors come from rt.tensor() (or a layer); this constructor refuses every other caller. */
  private constructor(token: unknown, runtime: Runtime, shape: readonly number[], size: number, ptr: number) {
    if (token !== INTERNAL) throw new TypeError('Tensor: use rt.tensor(shape, data) to make a tensor; the constructor is internal');
    this.#runtime = runtime;
    this.#shape = Object.freeze(shape.slice());
    this.#size = size;
    this.#ptr = ptr;
    Object.freeze(this);
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
    if (this.#ptr === 0) throw disposedError(`Tensor ${formatShape(this.#shape)}`, ownerHint(this));
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
    data.set(readNumbers('values', values, this.#size, Float32Array, ` for shape ${formatShape(this.#shape)}`));
    return this;
  }

  /** Frees the memory; a second call does nothing. */
  dispose(): void {
    if (this.#ptr === 0) return;
    this.#runtime.release(this);
  }

  /** The same as dispose(), for `using t = rt.tensor(...)`. */
  [disposeSymbol](): void {
    this.dispose();
  }

  /** The shape, e.g. `Tensor([2, 3])` (or `Tensor([2, 3], disposed)`), for messages and the console. */
  toString(): string {
    return `Tensor(${formatShape(this.#shape)}${this.#ptr === 0 ? ', disposed' : ''})`;
  }

  static {
    Object.freeze(this.prototype);
    Object.freeze(this);
  }
}

/** @internal the one way to make a tensor: the runtime's allocator calls it */
export function makeTensor(runtime: Runtime, shape: readonly number[], size: number, ptr: number): Tensor {
  return construct(runtime, shape, size, ptr);
}

/** @internal true only for a tensor a runtime made (instanceof can be faked with Object.create) */
export function isTensor(value: unknown): value is Tensor {
  return brand(value);
}

/**
 * @internal names the layer that owns `t` ("Linear(3, 2)"): the error for a disposed tensor
 * passed in then says whose it was
 */
export function setOwner(t: Tensor, owner: string): void {
  labelOwner(t, owner);
}

/** @internal the runtime marks a tensor freed after it released the memory */
export function markFreed(t: Tensor): void {
  clearPtr(t);
}

/** @internal the hint a disposed tensor's error carries: whose it was, when a layer owns it */
export function ownerHint(t: Tensor): string | undefined {
  const owner = ownerOf(t);
  return owner === null
    ? undefined
    : `owned by ${owner}, which disposes its tensors with itself or when it replaces them; copy one with toArray() to keep its values`;
}
