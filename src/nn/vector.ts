// Whole-tensor vector arithmetic for measuring training: loss-landscape walks along the
// gradient, gradient distances and norms. Sums are in f64.
import { isTensor, type Tensor } from '../tensor.js';
import { typeError } from '../errors.js';
import { formatShape } from '../shape.js';

/** `b` must be a live tensor of `a`'s runtime with as many values as `a`; `a` is checked first. */
function checkSame(aName: string, a: unknown, bName: string, b: unknown): asserts a is Tensor {
  if (!isTensor(a)) throw typeError(aName, 'a Tensor', a);
  a.runtime.checkTensor(aName, a);
  const t = a.runtime.checkTensor(bName, b);
  if (t.size !== a.size) {
    throw new RangeError(`${bName}: expected ${a.size} values (like ${aName}, ${formatShape(a.shape)}), got ${formatShape(t.shape)}`);
  }
}

/** out = x + alpha·y; out may be x or y. */
export function addScaled(out: Tensor, x: Tensor, alpha: number, y: Tensor): Tensor {
  checkSame('x', x, 'y', y);
  checkSame('x', x, 'out', out);
  if (typeof alpha !== 'number') throw typeError('alpha', 'a number', alpha);
  x.runtime.kernels.f32_axpy(x.ptr, y.ptr, alpha, out.ptr, x.size);
  return out;
}

/** Σ a·b. */
export function dot(a: Tensor, b: Tensor): number {
  checkSame('a', a, 'b', b);
  return a.runtime.kernels.f32_dot(a.ptr, b.ptr, a.size);
}

/** Σ (a − b)². */
export function squaredDistance(a: Tensor, b: Tensor): number {
  checkSame('a', a, 'b', b);
  return a.runtime.kernels.f32_sqdist(a.ptr, b.ptr, a.size);
}
