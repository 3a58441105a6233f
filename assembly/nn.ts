// Small kernels of the `nn` subpath: activations, the loss, the optimizer step and the
// vector measures the experiments take of parameters and gradients.
//   sigmoid       y = 1/(1 + e^−x),            dx = dy·y·(1 − y)
//   relu          y = max(x, 0),               dx = dy·[x > 0]
//   scale-shift   y[r,c] = x[r,c]·scale[c] + shift[c]   (per-unit noise, [R, C] interleaved; backward: shift 0)
//   softmax cross-entropy over rows of logits, labels as class indices stored in f32:
//                 loss = mean_r(logsumexp(z_r) − z_r[label_r]),  dz = (softmax(z) − onehot)/R
//   SGD (PyTorch's): d = g + wd·p;  buf = μ·buf + d (buf = d on the first step);  p −= lr·buf
//   dropout       y = x·mask,  mask[i] = [hash(seed, i) ≥ p·2³²]/(1 − p),   dx = dy·mask
// Reductions that return a number (loss, dot, squared distance) add f32 lane sums per
// block into an f64 total, so a sum over 10^6 values does not drift.

import { laneSum } from "./vec";

const BLOCK: i32 = 4096;


// The exponential has no v128 instruction; a scalar loop over a few thousand values per
// layer is far below the matrix products' cost.
export function f32_sigmoid(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    // Both branches avoid e^(large): no overflow to Infinity for very negative inputs.
    let s: f32;
    if (v >= 0) {
      s = 1 / (1 + Mathf.exp(-v));
    } else {
      const e = Mathf.exp(v);
      s = e / (1 + e);
    }
    store<f32>(y + o, s);
  }
}

export function f32_sigmoid_backward(dy: usize, y: usize, dx: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const s = v128.load(y + o);
      v128.store(dx + o, f32x4.mul(v128.load(dy + o), f32x4.mul(s, f32x4.sub(one, s))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const s = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * (s * (1 - s)));
  }
}

export function f32_relu(x: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const v = v128.load(x + o);
      // Select rather than max: NaN stays NaN, as in PyTorch.
      v128.store(y + o, v128.bitselect(zero, v, f32x4.lt(v, zero)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, v < 0 ? 0 : v);
  }
}

export function f32_relu_backward(dy: usize, x: usize, dx: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(x + o), zero)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(x + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

// y[r,c] = x[r,c]·scale[c] + shift[c] over R rows of C channels, channels contiguous
// (interleaved); shift = 0 (null) means none.
export function f32_scale_shift_interleaved(x: usize, y: usize, R: i32, C: i32, scale: usize, shift: usize): void {
  const row = <usize>C << 2;
  for (let r = 0; r < R; r++, x += row, y += row) {
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      for (; c + 4 <= C; c += 4) {
        const o = <usize>c << 2;
        let v = f32x4.mul(v128.load(x + o), v128.load(scale + o));
        if (shift) v = f32x4.add(v, v128.load(shift + o));
        v128.store(y + o, v);
      }
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      let v = load<f32>(x + o) * load<f32>(scale + o);
      if (shift) v += load<f32>(shift + o);
      store<f32>(y + o, v);
    }
  }
}

// The one exception to "kernels trust their arguments": labels are data, not sizes, and
// checking them in the facade would take a JavaScript loop over every label of every
// batch (the facade never loops over elements). An index outside [0, C) or not an integer
// would read another row's memory, so both label kernels check first and report it
// (NaN, -1); the facade turns that into a RangeError.
function labelsValid(labels: usize, R: i32, C: i32): bool {
  for (let r = 0; r < R; r++) {
    const v = load<f32>(labels + (<usize>r << 2));
    if (!(v >= 0 && v < <f32>C && v == Mathf.floor(v))) return false;
  }
  return true;
}

// Mean loss over R rows, NaN for an invalid label; writes dz unless dz = 0.
// logsumexp around the row max in f32: every term e^(z − max) is in (0, 1] and the sum of
// a row's C terms is in [1, C], so f32 loses nothing the f32 logits carry. (The f64
// Math.exp/Math.log would pull about 6.8 KB of lookup tables into every build.) The row
// losses are summed in f64.
export function f32_softmax_xent(z: usize, labels: usize, dz: usize, R: i32, C: i32): f64 {
  if (!labelsValid(labels, R, C)) return NaN;
  const row = <usize>C << 2;
  let total: f64 = 0;
  const invR: f32 = <f32>(1.0 / <f64>R);
  for (let r = 0; r < R; r++, z += row) {
    let max = load<f32>(z);
    for (let c = 1; c < C; c++) max = Mathf.max(max, load<f32>(z + (<usize>c << 2)));
    let sum: f32 = 0;
    for (let c = 0; c < C; c++) sum += Mathf.exp(load<f32>(z + (<usize>c << 2)) - max);
    const label = <i32>load<f32>(labels + (<usize>r << 2));
    const logSum = Mathf.log(sum);
    total += <f64>logSum + (<f64>max - <f64>load<f32>(z + (<usize>label << 2)));
    if (dz) {
      const d = dz + <usize>r * row;
      const invSum: f32 = 1 / sum;
      for (let c = 0; c < C; c++) {
        const p = Mathf.exp(load<f32>(z + (<usize>c << 2)) - max) * invSum;
        store<f32>(d + (<usize>c << 2), (p - (c == label ? <f32>1 : <f32>0)) * invR);
      }
    }
  }
  return total / <f64>R;
}

// Rows whose largest logit (first on ties) is at the label's index; −1 for an invalid label.
export function f32_argmax_correct(z: usize, labels: usize, R: i32, C: i32): i32 {
  if (!labelsValid(labels, R, C)) return -1;
  const row = <usize>C << 2;
  let correct = 0;
  for (let r = 0; r < R; r++, z += row) {
    let best = 0;
    let max = load<f32>(z);
    for (let c = 1; c < C; c++) {
      const v = load<f32>(z + (<usize>c << 2));
      if (v > max) {
        max = v;
        best = c;
      }
    }
    if (best == <i32>load<f32>(labels + (<usize>r << 2))) correct++;
  }
  return correct;
}

export function f32_sgd_momentum(p: usize, g: usize, buf: usize, n: i32, lr: f32, momentum: f32, weightDecay: f32, first: bool): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vlr = f32x4.splat(lr), vmu = f32x4.splat(momentum), vwd = f32x4.splat(weightDecay);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const pv = v128.load(p + o);
      let d = v128.load(g + o);
      if (weightDecay != 0) d = f32x4.add(d, f32x4.mul(vwd, pv));
      if (buf) {
        if (!first) d = f32x4.add(f32x4.mul(vmu, v128.load(buf + o)), d);
        v128.store(buf + o, d);
      }
      v128.store(p + o, f32x4.sub(pv, f32x4.mul(vlr, d)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pv = load<f32>(p + o);
    let d = load<f32>(g + o);
    if (weightDecay != 0) d += weightDecay * pv;
    if (buf) {
      if (!first) d = momentum * load<f32>(buf + o) + d;
      store<f32>(buf + o, d);
    }
    store<f32>(p + o, pv - lr * d);
  }
}

// out = x + alpha·y.
export function f32_axpy(x: usize, y: usize, alpha: f32, out: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const a = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.add(v128.load(x + o), f32x4.mul(a, v128.load(y + o))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(x + o) + alpha * load<f32>(y + o));
  }
}

// Σ a·b (diff = false) or Σ (a − b)² (diff = true) over one block, in f32 lanes.
function blockReduce(a: usize, b: usize, n: i32, diff: bool): f32 {
  let i = 0;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const u = v128.load(a + o), v = v128.load(b + o);
      if (diff) {
        const d = f32x4.sub(u, v);
        acc = f32x4.add(acc, f32x4.mul(d, d));
      } else {
        acc = f32x4.add(acc, f32x4.mul(u, v));
      }
    }
    s = laneSum(acc);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const u = load<f32>(a + o), v = load<f32>(b + o);
    s += diff ? (u - v) * (u - v) : u * v;
  }
  return s;
}

function reduce(a: usize, b: usize, n: i32, diff: bool): f64 {
  let total: f64 = 0;
  for (let i = 0; i < n; i += BLOCK) {
    const o = <usize>i << 2;
    total += <f64>blockReduce(a + o, b + o, min(BLOCK, n - i), diff);
  }
  return total;
}

export function f32_dot(a: usize, b: usize, n: i32): f64 {
  return reduce(a, b, n, false);
}

export function f32_sqdist(a: usize, b: usize, n: i32): f64 {
  return reduce(a, b, n, true);
}

// Inverted dropout with a counter-based mask: element i is dropped when
//   h(i) = mix(i·φ ⊕ mix(seed)) < p·2³²,   mask[i] = dropped ? 0 : 1/(1 − p),   y = x·mask.
// mix is Wellons' lowbias32 integer hash and φ = 0x9e3779b9. The mask depends only on
// (seed, i): no generator state lives in wasm, and the SIMD and scalar builds draw the
// same mask. Different seeds give unrelated masks, not shifted copies of one sequence,
// because the seed is mixed before it meets the index. p ≥ 1 drops everything (PyTorch
// returns zeros).
const GOLDEN: u32 = 0x9e3779b9;

// @ts-ignore: decorator
@inline function lowbias32(h: u32): u32 {
  h ^= h >> 16;
  h *= 0x7feb352d;
  h ^= h >> 15;
  h *= 0x846ca68b;
  h ^= h >> 16;
  return h;
}

export function f32_dropout(x: usize, y: usize, mask: usize, n: i32, p: f32, seed: u32): void {
  const all = p >= 1;
  const threshold: u32 = all ? 0xffffffff : <u32>(<f64>p * 4294967296.0);
  const scale: f32 = all ? 0 : <f32>(1.0 / (1.0 - <f64>p));
  const key = lowbias32(seed);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vscale = f32x4.splat(scale);
    const vthreshold = i32x4.splat(threshold);
    const vgolden = i32x4.splat(GOLDEN);
    const vkey = i32x4.splat(key);
    const step = i32x4.splat(4);
    let index = i32x4(0, 1, 2, 3);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      let h = v128.xor(i32x4.mul(index, vgolden), vkey);
      h = v128.xor(h, i32x4.shr_u(h, 16));
      h = i32x4.mul(h, i32x4.splat(0x7feb352d));
      h = v128.xor(h, i32x4.shr_u(h, 15));
      h = i32x4.mul(h, i32x4.splat(<i32>0x846ca68b));
      h = v128.xor(h, i32x4.shr_u(h, 16));
      const m = v128.and(i32x4.ge_u(h, vthreshold), vscale);
      v128.store(mask + o, m);
      v128.store(y + o, f32x4.mul(v128.load(x + o), m));
      index = i32x4.add(index, step);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const m: f32 = lowbias32((<u32>i * GOLDEN) ^ key) >= threshold ? scale : 0;
    store<f32>(mask + o, m);
    store<f32>(y + o, load<f32>(x + o) * m);
  }
}

// out = a·b elementwise (dropout's backward: dx = dy·mask).
export function f32_mul(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}
