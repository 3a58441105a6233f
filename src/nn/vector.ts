// Whole-tensor vector arithmetic for measuring training: loss-landscape walks along the
// gradient, gradient distances and norms. Sums are in f64.
import type { Tensor } from '../tensor.js';
import { formatShape } from '../shape.js';

function checkSame(a: Tensor, b: Tensor, argument: string): void {
  a.runtime.checkTensor('a', a);
  a.runtime.checkTensor(argument, b);
  if (a.size !== b.size) throw new RangeError(`${argument}: expected ${a.size} values (like ${formatShape(a.shape)}), got ${formatShape(b.shape)}`);
}

/** out = x + alpha·y; out may be x or y. */
export function addScaled(out: Tensor, x: Tensor, alpha: number, y: Tensor): Tensor {
  checkSame(x, y, 'y');
  checkSame(x, out, 'out');
  if (typeof alpha !== 'number') throw new TypeError(`alpha: expected a number, got ${typeof alpha}`);
  x.runtime.kernels.f32_axpy(x.ptr, y.ptr, alpha, out.ptr, x.size);
  return out;
}

/** Σ a·b. */
export function dot(a: Tensor, b: Tensor): number {
  checkSame(a, b, 'b');
  return a.runtime.kernels.f32_dot(a.ptr, b.ptr, a.size);
}

/** Σ (a − b)². */
export function squaredDistance(a: Tensor, b: Tensor): number {
  checkSame(a, b, 'b');
  return a.runtime.kernels.f32_sqdist(a.ptr, b.ptr, a.size);
}
