// Backward: one reduction pass, then one elementwise pass.
//   sumDy = Σdy = dβ,   sumDyXmu = Σdy·(x − mean),   dγ = sumDyXmu·invstd
// Training (batch stats):  dx = γ·invstd/n · (n·dy − sumDy − x̂·dγ), rewritten per channel as
//   dx = dy·k + (x − shift)·p + q,  k = γ·invstd,  p = −k·invstd²·sumDyXmu/n,
//   q = −k·sumDy/n − p·(mean − shift)
// with shift = f32(mean) as in forward, so x − shift is exact on offset data.
// Eval (running stats are constants): dx = dy·γ·invstd_running.
// dγ and dβ ACCUMULATE into gradWeight/gradBias (null pointers: not wanted).
//
// Sums run in f32 inside a block of at most BLOCK values and add up in f64, so sums over
// millions of values do not drift. coef is f32[4C]: shift, k, p, q.

import { BLOCK, interleavedBlockRows } from "./stats";
import { applyPlanarChannel, applyInterleaved } from "./forward";

// The second result of blockDots.
let dotSum: f64 = 0;

// Returns Σdy over the block; Σdy·(x − shift) is left in dotSum.
function blockDots(dy: usize, x: usize, rows: i32, len: i32, stride: usize, shift: f32): f64 {
  let tailS: f32 = 0, tailD: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    const m = f32x4.splat(shift);
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), d0 = f32x4.splat(0), d1 = f32x4.splat(0);
    for (let r = 0; r < rows; r++, dy += stride, x += stride) {
      let i = 0;
      for (; i + 8 <= len; i += 8) {
        const o = <usize>i << 2;
        const g0 = v128.load(dy + o), g1 = v128.load(dy + o, 16);
        s0 = f32x4.add(s0, g0);
        s1 = f32x4.add(s1, g1);
        d0 = f32x4.add(d0, f32x4.mul(g0, f32x4.sub(v128.load(x + o), m)));
        d1 = f32x4.add(d1, f32x4.mul(g1, f32x4.sub(v128.load(x + o, 16), m)));
      }
      for (; i + 4 <= len; i += 4) {
        const o = <usize>i << 2;
        const g0 = v128.load(dy + o);
        s0 = f32x4.add(s0, g0);
        d0 = f32x4.add(d0, f32x4.mul(g0, f32x4.sub(v128.load(x + o), m)));
      }
      for (; i < len; i++) {
        const o = <usize>i << 2;
        const g = load<f32>(dy + o);
        tailS += g;
        tailD += g * (load<f32>(x + o) - shift);
      }
    }
    const s = f32x4.add(s0, s1), d = f32x4.add(d0, d1);
    dotSum = <f64>(f32x4.extract_lane(d, 0) + f32x4.extract_lane(d, 1)) +
      <f64>(f32x4.extract_lane(d, 2) + f32x4.extract_lane(d, 3)) + <f64>tailD;
    return <f64>(f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) +
      <f64>(f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3)) + <f64>tailS;
  } else {
    let s0: f32 = 0, s1: f32 = 0, d0: f32 = 0, d1: f32 = 0;
    for (let r = 0; r < rows; r++, dy += stride, x += stride) {
      let i = 0;
      for (; i + 2 <= len; i += 2) {
        const o = <usize>i << 2;
        const g0 = load<f32>(dy + o), g1 = load<f32>(dy + o, 4);
        s0 += g0;
        s1 += g1;
        d0 += g0 * (load<f32>(x + o) - shift);
        d1 += g1 * (load<f32>(x + o, 4) - shift);
      }
      for (; i < len; i++) {
        const o = <usize>i << 2;
        const g = load<f32>(dy + o);
        tailS += g;
        tailD += g * (load<f32>(x + o) - shift);
      }
    }
    dotSum = <f64>(d0 + d1) + <f64>tailD;
    return <f64>(s0 + s1) + <f64>tailS;
  }
}

// Channel c of planar [N, C, S] into sumDy[c], sumDyXmu[c] about the f64 mean.
function planarChannelDots(dy: usize, x: usize, N: i32, C: i32, S: i32, c: i32, mean: f64, sumDy: usize, sumDyXmu: usize): void {
  const shift = <f32>mean;
  const rowStride = <usize>C * <usize>S << 2;
  const o = <usize>c * <usize>S << 2;
  let s: f64 = 0, d: f64 = 0;
  if (S >= BLOCK) {
    for (let n = 0; n < N; n++) {
      const row = o + <usize>n * rowStride;
      for (let i = 0; i < S; i += BLOCK) {
        const at = row + (<usize>i << 2);
        s += blockDots(dy + at, x + at, 1, min(BLOCK, S - i), rowStride, shift);
        d += dotSum;
      }
    }
  } else {
    const rowsPerBlock = BLOCK / S;
    for (let n = 0; n < N; n += rowsPerBlock) {
      const at = o + <usize>n * rowStride;
      s += blockDots(dy + at, x + at, min(rowsPerBlock, N - n), S, rowStride, shift);
      d += dotSum;
    }
  }
  store<f64>(sumDy + (<usize>c << 3), s);
  store<f64>(sumDyXmu + (<usize>c << 3), d - (mean - <f64>shift) * s);
}

function interleavedDots(dy: usize, x: usize, R: i32, C: i32, mean: usize, sumDy: usize, sumDyXmu: usize, shifts: usize): void {
  memory.fill(sumDy, 0, <usize>C << 3);
  memory.fill(sumDyXmu, 0, <usize>C << 3);
  for (let c = 0; c < C; c++) store<f32>(shifts + (<usize>c << 2), <f32>load<f64>(mean + (<usize>c << 3)));
  const stride = <usize>C << 2;
  const rowsPerBlock = interleavedBlockRows(C);
  for (let r = 0; r < R; r += rowsPerBlock) {
    const rows = min(rowsPerBlock, R - r);
    const at = <usize>r * stride;
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      for (; c + 4 <= C; c += 4) {
        const o = at + (<usize>c << 2);
        const m = v128.load(shifts + (<usize>c << 2));
        let s = f32x4.splat(0), d = f32x4.splat(0);
        let pg = dy + o, px = x + o;
        for (let k = 0; k < rows; k++, pg += stride, px += stride) {
          const g = v128.load(pg);
          s = f32x4.add(s, g);
          d = f32x4.add(d, f32x4.mul(g, f32x4.sub(v128.load(px), m)));
        }
        addSums(sumDy, sumDyXmu, c, f32x4.extract_lane(s, 0), f32x4.extract_lane(d, 0));
        addSums(sumDy, sumDyXmu, c + 1, f32x4.extract_lane(s, 1), f32x4.extract_lane(d, 1));
        addSums(sumDy, sumDyXmu, c + 2, f32x4.extract_lane(s, 2), f32x4.extract_lane(d, 2));
        addSums(sumDy, sumDyXmu, c + 3, f32x4.extract_lane(s, 3), f32x4.extract_lane(d, 3));
      }
    }
    for (; c < C; c++) {
      const o = at + (<usize>c << 2);
      const s = blockDots(dy + o, x + o, rows, 1, stride, load<f32>(shifts + (<usize>c << 2)));
      addSums(sumDy, sumDyXmu, c, s, dotSum);
    }
  }
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 3;
    const m = load<f64>(mean + o);
    const shift = <f64>load<f32>(shifts + (<usize>c << 2));
    store<f64>(sumDyXmu + o, load<f64>(sumDyXmu + o) - (m - shift) * load<f64>(sumDy + o));
  }
}

// @ts-ignore: decorator
@inline function addSums(sumDy: usize, sumDyXmu: usize, c: i32, s: f64, d: f64): void {
  const o = <usize>c << 3;
  store<f64>(sumDy + o, load<f64>(sumDy + o) + s);
  store<f64>(sumDyXmu + o, load<f64>(sumDyXmu + o) + d);
}

// @ts-ignore: decorator
@inline function accumulate(grad: usize, c: i32, value: f64): void {
  if (grad) {
    const p = grad + (<usize>c << 2);
    store<f32>(p, <f32>(<f64>load<f32>(p) + value));
  }
}

// Training-mode coefficients for channel c over `count` values (global count under
// sync batch norm); accumulates dγ, dβ when asked.
function finishTrainChannel(
  c: i32, C: i32, count: f64, weight: usize, mean: usize, invstd: usize,
  sumDy: usize, sumDyXmu: usize, gradWeight: usize, gradBias: usize, coef: usize,
): void {
  const o = <usize>c << 3;
  const m = load<f64>(mean + o), is = load<f64>(invstd + o);
  const s = load<f64>(sumDy + o), d = load<f64>(sumDyXmu + o);
  accumulate(gradBias, c, s);
  accumulate(gradWeight, c, d * is);
  const shift = <f32>m;
  const k = (weight ? <f64>load<f32>(weight + (<usize>c << 2)) : 1.0) * is;
  const p = -k * is * is * d / count;
  const q = -k * s / count - p * (m - <f64>shift);
  const at = coef + (<usize>c << 2), step = <usize>C << 2;
  store<f32>(at, shift);
  store<f32>(at + step, <f32>k);
  store<f32>(at + (step << 1), <f32>p);
  store<f32>(at + step * 3, <f32>q);
}

function elemtPlanarChannel(dy: usize, x: usize, dx: usize, N: i32, S: i32, stride: usize, shift: f32, k: f32, p: f32, q: f32): void {
  for (let n = 0; n < N; n++, dy += stride, x += stride, dx += stride) {
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const vm = f32x4.splat(shift), vk = f32x4.splat(k), vp = f32x4.splat(p), vq = f32x4.splat(q);
      for (; i + 8 <= S; i += 8) {
        const o = <usize>i << 2;
        const a0 = f32x4.add(f32x4.mul(v128.load(dy + o), vk), vq);
        const a1 = f32x4.add(f32x4.mul(v128.load(dy + o, 16), vk), vq);
        v128.store(dx + o, f32x4.add(a0, f32x4.mul(f32x4.sub(v128.load(x + o), vm), vp)));
        v128.store(dx + o, f32x4.add(a1, f32x4.mul(f32x4.sub(v128.load(x + o, 16), vm), vp)), 16);
      }
      for (; i + 4 <= S; i += 4) {
        const o = <usize>i << 2;
        const a0 = f32x4.add(f32x4.mul(v128.load(dy + o), vk), vq);
        v128.store(dx + o, f32x4.add(a0, f32x4.mul(f32x4.sub(v128.load(x + o), vm), vp)));
      }
    }
    for (; i < S; i++) {
      const o = <usize>i << 2;
      store<f32>(dx + o, (load<f32>(dy + o) * k + q) + (load<f32>(x + o) - shift) * p);
    }
  }
}

function elemtPlanar(dy: usize, x: usize, dx: usize, N: i32, C: i32, S: i32, coef: usize): void {
  const stride = <usize>C * <usize>S << 2, step = <usize>C << 2;
  for (let c = 0; c < C; c++) {
    const at = coef + (<usize>c << 2), o = <usize>c * <usize>S << 2;
    elemtPlanarChannel(dy + o, x + o, dx + o, N, S, stride,
      load<f32>(at), load<f32>(at + step), load<f32>(at + (step << 1)), load<f32>(at + step * 3));
  }
}

function elemtInterleaved(dy: usize, x: usize, dx: usize, R: i32, C: i32, coef: usize): void {
  const step = <usize>C << 2;
  for (let r = 0; r < R; r++, dy += step, x += step, dx += step) {
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      for (; c + 4 <= C; c += 4) {
        const o = <usize>c << 2, k = coef + o;
        const a = f32x4.add(f32x4.mul(v128.load(dy + o), v128.load(k + step)), v128.load(k + step * 3));
        const b = f32x4.mul(f32x4.sub(v128.load(x + o), v128.load(k)), v128.load(k + (step << 1)));
        v128.store(dx + o, f32x4.add(a, b));
      }
    }
    for (; c < C; c++) {
      const o = <usize>c << 2, k = coef + o;
      store<f32>(dx + o, (load<f32>(dy + o) * load<f32>(k + step) + load<f32>(k + step * 3)) +
        (load<f32>(x + o) - load<f32>(k)) * load<f32>(k + (step << 1)));
    }
  }
}

// Planar training backward: a channel's reduction and its dx pass run back to back, so
// the second reads of x and dy come from cache.
export function f32_bn_backward_train_planar(
  dy: usize, x: usize, dx: usize, N: i32, C: i32, S: i32, weight: usize, mean: usize, invstd: usize,
  gradWeight: usize, gradBias: usize, sumDy: usize, sumDyXmu: usize, coef: usize,
): void {
  const count = <f64>N * <f64>S;
  const stride = <usize>C * <usize>S << 2, step = <usize>C << 2;
  for (let c = 0; c < C; c++) {
    planarChannelDots(dy, x, N, C, S, c, load<f64>(mean + (<usize>c << 3)), sumDy, sumDyXmu);
    finishTrainChannel(c, C, count, weight, mean, invstd, sumDy, sumDyXmu, gradWeight, gradBias, coef);
    const at = coef + (<usize>c << 2), o = <usize>c * <usize>S << 2;
    elemtPlanarChannel(dy + o, x + o, dx + o, N, S, stride,
      load<f32>(at), load<f32>(at + step), load<f32>(at + (step << 1)), load<f32>(at + step * 3));
  }
}

export function f32_bn_backward_train_interleaved(
  dy: usize, x: usize, dx: usize, R: i32, C: i32, weight: usize, mean: usize, invstd: usize,
  gradWeight: usize, gradBias: usize, sumDy: usize, sumDyXmu: usize, coef: usize,
): void {
  interleavedDots(dy, x, R, C, mean, sumDy, sumDyXmu, coef);
  for (let c = 0; c < C; c++) {
    finishTrainChannel(c, C, <f64>R, weight, mean, invstd, sumDy, sumDyXmu, gradWeight, gradBias, coef);
  }
  elemtInterleaved(dy, x, dx, R, C, coef);
}

// Eval-mode backward: the running stats were constants of the forward pass.
// mean/invstd are f64 scratch[C] filled here from the running stats.
function foldEvalBackward(
  C: i32, weight: usize, runMean: usize, runVar: usize, eps: f64, mean: usize, invstd: usize, coef: usize,
): void {
  const step = <usize>C << 2;
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const is = 1.0 / Math.sqrt(<f64>load<f32>(runVar + o) + eps);
    store<f64>(mean + (<usize>c << 3), <f64>load<f32>(runMean + o));
    store<f64>(invstd + (<usize>c << 3), is);
    store<f32>(coef + o, 0);
    store<f32>(coef + step + o, <f32>((weight ? <f64>load<f32>(weight + o) : 1.0) * is));
    store<f32>(coef + (step << 1) + o, 0);
  }
}

function accumulateEvalGrads(C: i32, invstd: usize, sumDy: usize, sumDyXmu: usize, gradWeight: usize, gradBias: usize): void {
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 3;
    accumulate(gradBias, c, load<f64>(sumDy + o));
    accumulate(gradWeight, c, load<f64>(sumDyXmu + o) * load<f64>(invstd + o));
  }
}

export function f32_bn_backward_eval_planar(
  dy: usize, x: usize, dx: usize, N: i32, C: i32, S: i32, weight: usize, runMean: usize, runVar: usize, eps: f64,
  gradWeight: usize, gradBias: usize, mean: usize, invstd: usize, sumDy: usize, sumDyXmu: usize, coef: usize,
): void {
  foldEvalBackward(C, weight, runMean, runVar, eps, mean, invstd, coef);
  if (gradWeight | gradBias) {
    for (let c = 0; c < C; c++) planarChannelDots(dy, x, N, C, S, c, load<f64>(mean + (<usize>c << 3)), sumDy, sumDyXmu);
    accumulateEvalGrads(C, invstd, sumDy, sumDyXmu, gradWeight, gradBias);
  }
  const stride = <usize>C * <usize>S << 2, step = <usize>C << 2;
  for (let c = 0; c < C; c++) {
    const o = <usize>c * <usize>S << 2;
    applyPlanarChannel(dy + o, dx + o, N, S, stride, 0, load<f32>(coef + step + (<usize>c << 2)), 0);
  }
}

export function f32_bn_backward_eval_interleaved(
  dy: usize, x: usize, dx: usize, R: i32, C: i32, weight: usize, runMean: usize, runVar: usize, eps: f64,
  gradWeight: usize, gradBias: usize, mean: usize, invstd: usize, sumDy: usize, sumDyXmu: usize, coef: usize,
): void {
  foldEvalBackward(C, weight, runMean, runVar, eps, mean, invstd, coef);
  if (gradWeight | gradBias) {
    // The q quarter of coef is unused in eval: scratch for the f32 shifts.
    interleavedDots(dy, x, R, C, mean, sumDy, sumDyXmu, coef + (<usize>C << 2) * 3);
    accumulateEvalGrads(C, invstd, sumDy, sumDyXmu, gradWeight, gradBias);
  }
  applyInterleaved(dy, dx, R, C, coef);
}

// The two halves of training-mode backward on their own, for sync batch norm: reduce
// locally, all-reduce sumDy and sumDyXmu across workers, then elemt with the global count.
export function f32_bn_backward_reduce_planar(
  dy: usize, x: usize, N: i32, C: i32, S: i32, mean: usize, sumDy: usize, sumDyXmu: usize,
): void {
  for (let c = 0; c < C; c++) planarChannelDots(dy, x, N, C, S, c, load<f64>(mean + (<usize>c << 3)), sumDy, sumDyXmu);
}

export function f32_bn_backward_reduce_interleaved(
  dy: usize, x: usize, R: i32, C: i32, mean: usize, sumDy: usize, sumDyXmu: usize, scratch: usize,
): void {
  interleavedDots(dy, x, R, C, mean, sumDy, sumDyXmu, scratch);
}

export function f32_bn_backward_elemt_planar(
  dy: usize, x: usize, dx: usize, N: i32, C: i32, S: i32, weight: usize, mean: usize, invstd: usize,
  sumDy: usize, sumDyXmu: usize, count: f64, coef: usize,
): void {
  for (let c = 0; c < C; c++) finishTrainChannel(c, C, count, weight, mean, invstd, sumDy, sumDyXmu, 0, 0, coef);
  elemtPlanar(dy, x, dx, N, C, S, coef);
}

export function f32_bn_backward_elemt_interleaved(
  dy: usize, x: usize, dx: usize, R: i32, C: i32, weight: usize, mean: usize, invstd: usize,
  sumDy: usize, sumDyXmu: usize, count: f64, coef: usize,
): void {
  for (let c = 0; c < C; c++) finishTrainChannel(c, C, count, weight, mean, invstd, sumDy, sumDyXmu, 0, 0, coef);
  elemtInterleaved(dy, x, dx, R, C, coef);
}
