// Forward: y = (x − shift)·scale + offset per channel, folded from the statistics as
//   scale = γ·invstd,   shift = headOf(mean, invstd),   offset = β − (mean − shift)·scale.
// This is ATen's y = x·α + β with the mean split into an f32 head (shift), subtracted
// from x exactly, and the f64 remainder folded into the offset: on data with a large
// offset x·α + β loses the digits that (x − shift)·scale keeps. Where |mean|·invstd ≤ 1
// it loses at most about one ulp of |γ|, so there the shift is 0 (headOf) and
// y = x·scale + offset (ATen's form) skips a subtraction per value.
//
// Training: invstd = 1/sqrt(M2/n + eps) from the batch (biased variance), 0 when that sum is
// 0 (ATen's rule for eps = 0 on a constant channel: y = β, not NaN); running stats
// r = (1 − m)·r + m·batch with the unbiased variance M2/(n − 1). Eval: the running stats.
//
// coef is f32[3C]: shift[C], scale[C], offset[C]. mean/invstd are f64[C] and hold what
// backward needs; m2 is f64[C], Σ(x − mean)².
// Null weight/bias mean γ = 1, β = 0; a null runMean means no running stats to update.
//
// The phases (see parts.ts): planar training is f32_bn_forward_train_planar_reduce
// (statistics and coefficients of a part's channels) then f32_bn_apply_planar (a part's
// rows); interleaved training is f32_bn_stats_interleaved (a part's row groups), then
// f32_bn_forward_train_interleaved_fold, then f32_bn_apply_interleaved; eval and the
// elementwise half of sync batch norm fold their coefficients per channel
// (f32_bn_fold_running, f32_bn_fold_batch) then apply.

import {
  COLUMNS, PATH_COLUMNS, PATH_FOUR_ROWS, PATH_INTERLEAVED, PATH_ROWS, PATH_SPLATS, ROW_UNIT, SHORT_ROW, splatRows, tookPath, withinL2,
} from "./limits";
import { EXPANDED_COEF, partChannelsEach, partEnd, partFirst, partRows } from "./parts";
import { mergeGroupStats, planarStats } from "./stats";
import { about, aboutAt, aboutAtf, aboutf, anyNonZero, expandColumns } from "./vec";

// @ts-ignore: decorator
@inline export function gamma(weight: usize, c: i32): f64 {
  return weight ? <f64>load<f32>(weight + (<usize>c << 2)) : 1.0;
}

// @ts-ignore: decorator
@inline function beta(bias: usize, c: i32): f64 {
  return bias ? <f64>load<f32>(bias + (<usize>c << 2)) : 0.0;
}

// The f32 head of the mean that x − shift removes exactly: 0 where the mean is within one
// standard deviation of 0 (see the top of this file).
// @ts-ignore: decorator
@inline export function headOf(mean: f64, invstd: f64): f32 {
  return Math.abs(mean) * invstd <= 1 ? 0 : <f32>mean;
}

// @ts-ignore: decorator
@inline function storeCoef(coef: usize, C: i32, c: i32, mean: f64, invstd: f64, g: f64, b: f64): void {
  const shift = headOf(mean, invstd);
  const s = <f32>(g * invstd);
  const p = coef + (<usize>c << 2), step = <usize>C << 2;
  store<f32>(p, shift);
  store<f32>(p + step, s);
  store<f32>(p + (step << 1), <f32>(b - (mean - <f64>shift) * <f64>s));
}

// storeCoef for channels c and c + 1 at once, from f64x2 mean and invstd; only reached
// inside ASC_FEATURE_SIMD branches, so the scalar build never compiles it.
// @ts-ignore: decorator
@inline function storeCoef2(coef: usize, C: i32, c: i32, mean: v128, invstd: v128, weight: usize, bias: usize): void {
  const o4 = <usize>c << 2, step = <usize>C << 2;
  const g = weight ? f64x2.promote_low_f32x4(v128.load64_zero(weight + o4)) : f64x2.splat(1.0);
  const b = bias ? f64x2.promote_low_f32x4(v128.load64_zero(bias + o4)) : f64x2.splat(0.0);
  const near = f64x2.le(f64x2.mul(f64x2.abs(mean), invstd), f64x2.splat(1.0));
  const shift = f32x4.demote_f64x2_zero(v128.andnot(mean, near));
  const scale = f32x4.demote_f64x2_zero(f64x2.mul(g, invstd));
  const offset = f64x2.sub(b, f64x2.mul(f64x2.sub(mean, f64x2.promote_low_f32x4(shift)), f64x2.promote_low_f32x4(scale)));
  const p = coef + o4;
  v128.store64_lane(p, shift, 0);
  v128.store64_lane(p + step, scale, 0);
  v128.store64_lane(p + (step << 1), f32x4.demote_f64x2_zero(offset), 0);
}

// Turns channel c's (mean, M2) over n values into invstd, updates the running stats and
// folds the coefficients. invN = 1/n, invN1 = 1/(n − 1).
// @ts-ignore: decorator
@inline function finishTrainChannel(
  c: i32, C: i32, invN: f64, invN1: f64, meanP: usize, m2P: usize, invstdP: usize,
  weight: usize, bias: usize, runMean: usize, runVar: usize, momentum: f64, eps: f64, coef: usize,
): void {
  const o = <usize>c << 3;
  const mean = load<f64>(meanP + o);
  const m2 = load<f64>(m2P + o);
  const v = m2 * invN + eps;
  const invstd = v == 0 ? 0 : 1.0 / Math.sqrt(v);
  store<f64>(invstdP + o, invstd);
  if (runMean) {
    const rm = runMean + (<usize>c << 2), rv = runVar + (<usize>c << 2);
    store<f32>(rm, <f32>((1.0 - momentum) * <f64>load<f32>(rm) + momentum * mean));
    store<f32>(rv, <f32>((1.0 - momentum) * <f64>load<f32>(rv) + momentum * (m2 * invN1)));
  }
  storeCoef(coef, C, c, mean, invstd, gamma(weight, c), beta(bias, c));
}

// finishTrainChannel for channels [c0, c1), two at a time in f64x2 (a square root and a
// division per channel are most of a small call's fold; each lane's arithmetic is the
// scalar one, so where a pair starts does not matter).
function finishTrain(
  C: i32, c0: i32, c1: i32, n: f64, meanP: usize, m2P: usize, invstdP: usize,
  weight: usize, bias: usize, runMean: usize, runVar: usize, momentum: f64, eps: f64, coef: usize,
): void {
  const invN = 1.0 / n, invN1 = 1.0 / (n - 1.0);
  let c = c0;
  if (ASC_FEATURE_SIMD) {
    const m = f64x2.splat(momentum), keep = f64x2.splat(1.0 - momentum);
    for (; c + 2 <= c1; c += 2) {
      const o8 = <usize>c << 3, o4 = <usize>c << 2;
      const mean = v128.load(meanP + o8), m2 = v128.load(m2P + o8);
      const v = f64x2.add(f64x2.mul(m2, f64x2.splat(invN)), f64x2.splat(eps));
      const invstd = v128.andnot(f64x2.div(f64x2.splat(1.0), f64x2.sqrt(v)), f64x2.eq(v, f64x2.splat(0)));
      v128.store(invstdP + o8, invstd);
      if (runMean) {
        const rm = runMean + o4, rv = runVar + o4;
        const unbiased = f64x2.mul(m2, f64x2.splat(invN1));
        v128.store64_lane(rm, f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(keep, f64x2.promote_low_f32x4(v128.load64_zero(rm))), f64x2.mul(m, mean))), 0);
        v128.store64_lane(rv, f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(keep, f64x2.promote_low_f32x4(v128.load64_zero(rv))), f64x2.mul(m, unbiased))), 0);
      }
      storeCoef2(coef, C, c, mean, invstd, weight, bias);
    }
  }
  for (; c < c1; c++) {
    finishTrainChannel(c, C, invN, invN1, meanP, m2P, invstdP, weight, bias, runMean, runVar, momentum, eps, coef);
  }
}

// Eval coefficients of channels [c0, c1) from the running stats, two channels at a time
// in f64x2.
function foldRunning(C: i32, c0: i32, c1: i32, runMean: usize, runVar: usize, weight: usize, bias: usize, eps: f64, coef: usize): void {
  let c = c0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 2 <= c1; c += 2) {
      const o4 = <usize>c << 2;
      const mean = f64x2.promote_low_f32x4(v128.load64_zero(runMean + o4));
      const invstd = f64x2.div(f64x2.splat(1.0), f64x2.sqrt(f64x2.add(f64x2.promote_low_f32x4(v128.load64_zero(runVar + o4)), f64x2.splat(eps))));
      storeCoef2(coef, C, c, mean, invstd, weight, bias);
    }
  }
  for (; c < c1; c++) {
    const invstd = 1.0 / Math.sqrt(<f64>load<f32>(runVar + (<usize>c << 2)) + eps);
    storeCoef(coef, C, c, <f64>load<f32>(runMean + (<usize>c << 2)), invstd, gamma(weight, c), beta(bias, c));
  }
}

// y = (x − shift)·scale + offset over `len` contiguous values; `centred` false: the
// shift is 0 (see about()).
// @ts-ignore: decorator
@inline function applyRow(x: usize, y: usize, len: i32, shift: f32, scale: f32, offset: f32, centred: bool): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const m = f32x4.splat(shift), a = f32x4.splat(scale), b = f32x4.splat(offset);
    for (; i + 16 <= len; i += 16) {
      const p = x + (<usize>i << 2), q = y + (<usize>i << 2);
      const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
      v128.store(q, f32x4.add(f32x4.mul(about(v0, m, centred), a), b));
      v128.store(q, f32x4.add(f32x4.mul(about(v1, m, centred), a), b), 16);
      v128.store(q, f32x4.add(f32x4.mul(about(v2, m, centred), a), b), 32);
      v128.store(q, f32x4.add(f32x4.mul(about(v3, m, centred), a), b), 48);
    }
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.add(f32x4.mul(about(v128.load(x + o), m, centred), a), b));
    }
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, aboutf(load<f32>(x + o), shift, centred) * scale + offset);
  }
}

// Planar [N, C, S]: rows of S values in memory order, this part's rows of the N·C; short
// rows (see SHORT_ROW) as columns, or from MIN_SPLAT_ROW with each channel's coefficients
// splat, this part's samples.
function applyPlanar(x: usize, y: usize, N: i32, C: i32, S: i32, coef: usize, scratch: usize, part: i32, parts: i32): void {
  if (S < SHORT_ROW) {
    partRows(N, ROW_UNIT, part, parts);
    if (ASC_FEATURE_SIMD && splatRows(S)) {
      tookPath(PATH_SPLATS);
      const shifted = anyNonZero(coef, C), n0 = partFirst, n1 = partEnd;
      if (S == 8) {
        if (shifted) applySplats8Shifted(x, y, C, coef, n0, n1);
        else applySplats8Unshifted(x, y, C, coef, n0, n1);
      } else {
        if (shifted) applySplats12Shifted(x, y, C, coef, n0, n1);
        else applySplats12Unshifted(x, y, C, coef, n0, n1);
      }
      return;
    }
    tookPath(PATH_COLUMNS);
    applyPlanarColumns(x, y, N, C, S, coef, scratch, partFirst, partEnd);
    return;
  }
  tookPath(PATH_ROWS);
  partRows(N * C, ROW_UNIT, part, parts);
  if (anyNonZero(coef, C)) applyRowsShifted(x, y, C, S, coef, partFirst, partEnd);
  else applyRowsUnshifted(x, y, C, S, coef, partFirst, partEnd);
}

function applyRowsShifted(x: usize, y: usize, C: i32, S: i32, coef: usize, first: i32, end: i32): void {
  applyRows(x, y, C, S, coef, first, end, true);
}

function applyRowsUnshifted(x: usize, y: usize, C: i32, S: i32, coef: usize, first: i32, end: i32): void {
  applyRows(x, y, C, S, coef, first, end, false);
}

// Planar rows [first, end) of the N·C.
// @ts-ignore: decorator
@inline
function applyRows(x: usize, y: usize, C: i32, S: i32, coef: usize, first: i32, end: i32, centred: bool): void {
  const step = <usize>C << 2;
  // The channel of each row, counted along instead of a remainder per row.
  for (let row = first, c = first % C; row < end; row++, c = c + 1 == C ? 0 : c + 1) {
    const p = coef + (<usize>c << 2), o = <usize>row * <usize>S << 2;
    applyRow(x + o, y + o, S, load<f32>(p), load<f32>(p + step), load<f32>(p + (step << 1)), centred);
  }
}

// Rows of 8 and of 12 values each get their own copy (see MIN_SPLAT_ROW).
function applySplats8Shifted(x: usize, y: usize, C: i32, coef: usize, n0: i32, n1: i32): void {
  applyPlanarSplats(x, y, C, 8, coef, n0, n1, true);
}

function applySplats8Unshifted(x: usize, y: usize, C: i32, coef: usize, n0: i32, n1: i32): void {
  applyPlanarSplats(x, y, C, 8, coef, n0, n1, false);
}

function applySplats12Shifted(x: usize, y: usize, C: i32, coef: usize, n0: i32, n1: i32): void {
  applyPlanarSplats(x, y, C, 12, coef, n0, n1, true);
}

function applySplats12Unshifted(x: usize, y: usize, C: i32, coef: usize, n0: i32, n1: i32): void {
  applyPlanarSplats(x, y, C, 12, coef, n0, n1, false);
}

// Samples [n0, n1) of planar rows of S = 8 or 12 values, two channels at a time.
// @ts-ignore: decorator
@inline
function applyPlanarSplats(x: usize, y: usize, C: i32, S: i32, coef: usize, n0: i32, n1: i32, centred: bool): void {
  const step = <usize>C << 2, row = <usize>S << 2, skip = <usize>n0 * <usize>C * row;
  x += skip;
  y += skip;
  for (let n = n0; n < n1; n++) {
    let c = 0;
    for (; c + 2 <= C; c += 2, x += row << 1, y += row << 1) {
      const at = coef + (<usize>c << 2);
      applySplatRow(x, y, S, at, step, centred);
      applySplatRow(x + row, y + row, S, at + 4, step, centred);
    }
    if (c < C) {
      applySplatRow(x, y, S, coef + (<usize>c << 2), step, centred);
      x += row;
      y += row;
    }
  }
}

// One channel's row of 8 or 12 values, its coefficients at `at` (shift, scale, offset,
// `step` bytes apart) splat.
// @ts-ignore: decorator
@inline
function applySplatRow(x: usize, y: usize, S: i32, at: usize, step: usize, centred: bool): void {
  const m = centred ? v128.load32_splat(at) : f32x4.splat(0);
  const a = v128.load32_splat(at + step), b = v128.load32_splat(at + (step << 1));
  v128.store(y, f32x4.add(f32x4.mul(about(v128.load(x), m, centred), a), b));
  v128.store(y, f32x4.add(f32x4.mul(about(v128.load(x, 16), m, centred), a), b), 16);
  if (S > 8) v128.store(y, f32x4.add(f32x4.mul(about(v128.load(x, 32), m, centred), a), b), 32);
}

// Short rows: samples [n0, n1), each an interleaved row of C·S columns, with the
// coefficients repeated S times in the scratch, COLUMNS/S channels at a time.
function applyPlanarColumns(x: usize, y: usize, N: i32, C: i32, S: i32, coef: usize, scratch: usize, n0: i32, n1: i32): void {
  const stride = <usize>C * <usize>S << 2, perChunk = COLUMNS / S, expanded = scratch + EXPANDED_COEF;
  for (let c0 = 0; c0 < C && n0 < n1; c0 += perChunk) {
    const Wc = min(perChunk, C - c0), W = Wc * S, o = <usize>c0 * <usize>S << 2;
    expandColumns(coef + (<usize>c0 << 2), <usize>C << 2, 3, Wc, S, expanded);
    if (anyNonZero(coef + (<usize>c0 << 2), Wc)) applySamplesShifted(x + o, y + o, n0, n1, stride, W, expanded);
    else applySamplesUnshifted(x + o, y + o, n0, n1, stride, W, expanded);
  }
}

function applySamplesShifted(x: usize, y: usize, n0: i32, n1: i32, stride: usize, W: i32, expanded: usize): void {
  for (let n = n0; n < n1; n++) applyInterleavedRow(x + <usize>n * stride, y + <usize>n * stride, 0, W, expanded, true);
}

function applySamplesUnshifted(x: usize, y: usize, n0: i32, n1: i32, stride: usize, W: i32, expanded: usize): void {
  for (let n = n0; n < n1; n++) applyInterleavedRow(x + <usize>n * stride, y + <usize>n * stride, 0, W, expanded, false);
}

// Interleaved: channels contiguous, so four channels' coefficients fill one v128; in L2
// four rows at a time share each load of them (see L2_BYTES). This part's rows. Where every
// shift is 0 (the usual case, see headOf) the subtraction is skipped: x − 0 is x, bit for bit.
function applyInterleaved(x: usize, y: usize, R: i32, C: i32, coef: usize, part: i32, parts: i32): void {
  const rows4 = ASC_FEATURE_SIMD && withinL2(<f64>R * <f64>C);
  tookPath(PATH_INTERLEAVED | (rows4 ? PATH_FOUR_ROWS : 0));
  partRows(R, ROW_UNIT, part, parts);
  if (anyNonZero(coef, C)) applyInterleavedShifted(x, y, C, coef, partFirst, partEnd, rows4);
  else applyInterleavedUnshifted(x, y, C, coef, partFirst, partEnd, rows4);
}

function applyInterleavedShifted(x: usize, y: usize, C: i32, coef: usize, r: i32, end: i32, rows4: bool): void {
  applyInterleavedRows(x, y, C, coef, r, end, rows4, true);
}

function applyInterleavedUnshifted(x: usize, y: usize, C: i32, coef: usize, r: i32, end: i32, rows4: bool): void {
  applyInterleavedRows(x, y, C, coef, r, end, rows4, false);
}

// Rows [r, end) of interleaved [R, C]; `centred` false: every shift is 0.
// @ts-ignore: decorator
@inline
function applyInterleavedRows(x: usize, y: usize, C: i32, coef: usize, r: i32, end: i32, rows4: bool, centred: bool): void {
  const step = <usize>C << 2;
  x += <usize>r * step;
  y += <usize>r * step;
  if (ASC_FEATURE_SIMD && rows4) {
    const C4 = C & ~3;
    for (; r + 4 <= end; r += 4, x += step << 2, y += step << 2) {
      for (let c = 0; c < C4; c += 4) {
        const o = <usize>c << 2, k = coef + o;
        const a = v128.load(k + step), b = v128.load(k + (step << 1));
        const p = x + o, q = y + o;
        v128.store(q, f32x4.add(f32x4.mul(aboutAt(v128.load(p), k, centred), a), b));
        v128.store(q + step, f32x4.add(f32x4.mul(aboutAt(v128.load(p + step), k, centred), a), b));
        v128.store(q + (step << 1), f32x4.add(f32x4.mul(aboutAt(v128.load(p + (step << 1)), k, centred), a), b));
        v128.store(q + step * 3, f32x4.add(f32x4.mul(aboutAt(v128.load(p + step * 3), k, centred), a), b));
      }
      for (let i = 0; i < 4; i++) applyInterleavedRow(x + step * i, y + step * i, C4, C, coef, centred);
    }
  }
  for (; r < end; r++, x += step, y += step) applyInterleavedRow(x, y, 0, C, coef, centred);
}

// Channels [c0, C) of one interleaved row; `centred` false: every shift is 0 (not read).
// @ts-ignore: decorator
@inline
function applyInterleavedRow(x: usize, y: usize, c0: i32, C: i32, coef: usize, centred: bool): void {
  const step = <usize>C << 2;
  let c = c0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 16 <= C; c += 16) {
      const o = <usize>c << 2, k = coef + o, a = k + step, b = k + (step << 1);
      const p = x + o, q = y + o;
      v128.store(q, f32x4.add(f32x4.mul(aboutAt(v128.load(p), k, centred), v128.load(a)), v128.load(b)));
      v128.store(q, f32x4.add(f32x4.mul(aboutAt(v128.load(p, 16), k + 16, centred), v128.load(a, 16)), v128.load(b, 16)), 16);
      v128.store(q, f32x4.add(f32x4.mul(aboutAt(v128.load(p, 32), k + 32, centred), v128.load(a, 32)), v128.load(b, 32)), 32);
      v128.store(q, f32x4.add(f32x4.mul(aboutAt(v128.load(p, 48), k + 48, centred), v128.load(a, 48)), v128.load(b, 48)), 48);
    }
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2, k = coef + o;
      v128.store(y + o, f32x4.add(f32x4.mul(aboutAt(v128.load(x + o), k, centred), v128.load(k + step)), v128.load(k + (step << 1))));
    }
  }
  for (; c < C; c++) {
    const o = <usize>c << 2, k = coef + o;
    store<f32>(y + o, aboutAtf(load<f32>(x + o), k, centred) * load<f32>(k + step) + load<f32>(k + (step << 1)));
  }
}

// Phase 1 of training: statistics of this part's channels, then their invstd, running
// stats and coefficients. Phase 2: f32_bn_apply_planar(x, y, N, C, S, coef).
export function f32_bn_forward_train_planar_reduce(
  x: usize, N: i32, C: i32, S: i32, weight: usize, bias: usize, runMean: usize, runVar: usize, momentum: f64, eps: f64,
  mean: usize, m2: usize, invstd: usize, coef: usize, scratch: usize, part: i32, parts: i32,
): void {
  planarStats(x, N, C, S, mean, m2, scratch, part, parts);
  finishTrain(C, partFirst, partEnd, <f64>N * <f64>S, mean, m2, invstd, weight, bias, runMean, runVar, momentum, eps, coef);
}

// Interleaved training splits its reduction by row groups, so the per-channel work waits
// for all of them: f32_bn_stats_interleaved, then this phase (the groups merged, then the
// invstd, running stats and coefficients of this part's channels), then
// f32_bn_apply_interleaved(x, y, R, C, coef).
export function f32_bn_forward_train_interleaved_fold(
  R: i32, C: i32, weight: usize, bias: usize, runMean: usize, runVar: usize, momentum: f64, eps: f64,
  mean: usize, m2: usize, groups: usize, invstd: usize, coef: usize, scratch: usize, part: i32, parts: i32,
): void {
  partChannelsEach(C, part, parts);
  mergeGroupStats(R, C, mean, m2, groups, partFirst, partEnd);
  finishTrain(C, partFirst, partEnd, <f64>R, mean, m2, invstd, weight, bias, runMean, runVar, momentum, eps, coef);
}

// Phase 1 of eval: coefficients from the running stats, this part's channels.
export function f32_bn_fold_running(
  C: i32, weight: usize, bias: usize, runMean: usize, runVar: usize, eps: f64, coef: usize, scratch: usize, part: i32, parts: i32,
): void {
  partChannelsEach(C, part, parts);
  foldRunning(C, partFirst, partEnd, runMean, runVar, weight, bias, eps, coef);
}

// Phase 1 of normalizing with statistics from elsewhere (f64 mean and invstd per channel,
// e.g. merged across workers): the elementwise half of training mode.
export function f32_bn_fold_batch(
  C: i32, weight: usize, bias: usize, mean: usize, invstd: usize, coef: usize, scratch: usize, part: i32, parts: i32,
): void {
  partChannelsEach(C, part, parts);
  for (let c = partFirst; c < partEnd; c++) {
    const o = <usize>c << 3;
    storeCoef(coef, C, c, load<f64>(mean + o), load<f64>(invstd + o), gamma(weight, c), beta(bias, c));
  }
}

// The last phase of every forward: y = (x − shift)·scale + offset with coef.
export function f32_bn_apply_planar(x: usize, y: usize, N: i32, C: i32, S: i32, coef: usize, scratch: usize, part: i32, parts: i32): void {
  applyPlanar(x, y, N, C, S, coef, scratch, part, parts);
}

export function f32_bn_apply_interleaved(x: usize, y: usize, R: i32, C: i32, coef: usize, scratch: usize, part: i32, parts: i32): void {
  applyInterleaved(x, y, R, C, coef, part, parts);
}
