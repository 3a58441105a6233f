// Backward: one reduction pass, then one elementwise pass.
//   sumDy = Σdy = dβ,   sumDyXmu = Σdy·(x − mean),   dγ = sumDyXmu·invstd
// Training (batch stats):  dx = γ·invstd/n · (n·dy − sumDy − x̂·dγ), rewritten per channel as
//   dx = dy·k + (x − shift)·p + q,  k = γ·invstd,  p = −k·invstd²·sumDyXmu/n,
//   q = −k·sumDy/n − p·(mean − shift)
// with shift the f32 head of the mean as in forward (headOf: 0 where the mean is within a
// standard deviation of 0), so x − shift is exact on offset data; interleaved rows with
// every shift 0 skip the subtraction. The sums run about f32(mean): Σdy·(x − shift), then
// − (mean − shift)·Σdy in f64.
// Eval (running stats are constants): dx = dy·γ·invstd_running.
// dγ and dβ ACCUMULATE into gradWeight/gradBias (null pointers: not wanted).
//
// Sums run in f32 for at most DOT_TERMS terms per lane, then add up in f64, so sums over
// millions of values do not drift: a constant dy summed 10^6 times stays within 1e-6.
// coef is f32[4C]: shift, k, p, q; shifts is f32[C], the f32 shift of each channel's
// interleaved sums.
//
// The phases (see parts.ts): planar training is f32_bn_backward_train_planar_reduce (sums, dγ,
// dβ and coefficients of a part's channels) then f32_bn_backward_apply_planar (a part's
// rows); planar eval is f32_bn_backward_eval_planar_reduce (coefficients, and the sums when
// a gradient is wanted) then f32_bn_apply_planar (dx = dy·γ·invstd). Interleaved sums
// split by row groups and merge in a phase of their own (see f32_bn_backward_shifts). Sync
// batch norm's halves are f32_bn_backward_reduce_* alone (interleaved: with its shifts and
// merge), and f32_bn_backward_fold then f32_bn_backward_apply_*.

import {
  CHUNK, COLUMNS, DOT_TERMS, INTERLEAVED_UNIT, MAX_ROW_IN_LANES, MIN_FOUR_ROW_COLUMNS, PATH_COLUMNS, PATH_FOUR_ROWS,
  PATH_IN_LANES, PATH_INTERLEAVED, PATH_ROWS, PATH_SPLATS, ROW_UNIT, SHORT_ROW, columnRows, splatRows, tookPath, withinL2,
} from "./limits";
import {
  COLUMN_D, COLUMN_Q, COLUMN_SHIFT, EXPANDED_COEF, LANE_D, LANE_Q, LANE_SHIFT, groupCount, groupRows, groupSlot, partChannels,
  partChannelsEach, partEnd, partFirst, partPlanarChannels, partRows, unitStart,
} from "./parts";
import { gamma, headOf } from "./forward";
import { about, aboutAt, aboutAtf, anyNonZero, expandColumns, laneSum, lanesTotal, plusLane0 } from "./vec";

// The second result of the dots functions.
let dotSum: f64 = 0;

// Returns Σdy over `len` contiguous values; Σdy·(x − shift) is left in dotSum.
function rowDots(dy: usize, x: usize, len: i32, shift: f32): f64 {
  let s: f64 = 0, d: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const m = f32x4.splat(shift);
    const chunk = DOT_TERMS * 16;
    let sw = f64x2.splat(0), dw = f64x2.splat(0);
    while (i + 16 <= len) {
      const end = min(len, i + chunk) & ~15;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
      for (; i < end; i += 16) {
        const o = <usize>i << 2;
        const g0 = v128.load(dy + o), g1 = v128.load(dy + o, 16), g2 = v128.load(dy + o, 32), g3 = v128.load(dy + o, 48);
        s0 = f32x4.add(s0, g0);
        s1 = f32x4.add(s1, g1);
        s2 = f32x4.add(s2, g2);
        s3 = f32x4.add(s3, g3);
        d0 = f32x4.add(d0, f32x4.mul(g0, f32x4.sub(v128.load(x + o), m)));
        d1 = f32x4.add(d1, f32x4.mul(g1, f32x4.sub(v128.load(x + o, 16), m)));
        d2 = f32x4.add(d2, f32x4.mul(g2, f32x4.sub(v128.load(x + o, 32), m)));
        d3 = f32x4.add(d3, f32x4.mul(g3, f32x4.sub(v128.load(x + o, 48), m)));
      }
      sw = addWide(sw, f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
      dw = addWide(dw, f32x4.add(f32x4.add(d0, d1), f32x4.add(d2, d3)));
    }
    s = f64x2.extract_lane(sw, 0) + f64x2.extract_lane(sw, 1);
    d = f64x2.extract_lane(dw, 0) + f64x2.extract_lane(dw, 1);
    let s4 = f32x4.splat(0), d4 = f32x4.splat(0);
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      const g = v128.load(dy + o);
      s4 = f32x4.add(s4, g);
      d4 = f32x4.add(d4, f32x4.mul(g, f32x4.sub(v128.load(x + o), m)));
    }
    s += <f64>laneSum(s4);
    d += <f64>laneSum(d4);
  } else {
    while (i + 4 <= len) {
      const end = min(len, i + DOT_TERMS * 4) & ~3;
      let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0, d0: f32 = 0, d1: f32 = 0, d2: f32 = 0, d3: f32 = 0;
      for (; i < end; i += 4) {
        const o = <usize>i << 2;
        const g0 = load<f32>(dy + o), g1 = load<f32>(dy + o, 4), g2 = load<f32>(dy + o, 8), g3 = load<f32>(dy + o, 12);
        s0 += g0;
        s1 += g1;
        s2 += g2;
        s3 += g3;
        d0 += g0 * (load<f32>(x + o) - shift);
        d1 += g1 * (load<f32>(x + o, 4) - shift);
        d2 += g2 * (load<f32>(x + o, 8) - shift);
        d3 += g3 * (load<f32>(x + o, 12) - shift);
      }
      s += <f64>((s0 + s1) + (s2 + s3));
      d += <f64>((d0 + d1) + (d2 + d3));
    }
  }
  let tailS: f32 = 0, tailD: f32 = 0;
  for (; i < len; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(dy + o);
    tailS += g;
    tailD += g * (load<f32>(x + o) - shift);
  }
  dotSum = d + <f64>tailD;
  return s + <f64>tailS;
}

// acc (f64x2) += the four lanes of v (f32x4), pairwise.
// @ts-ignore: decorator
@inline function addWide(acc: v128, v: v128): v128 {
  return f64x2.add(acc, f64x2.add(f64x2.promote_low_f32x4(v), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3))));
}

// Planar [N, C, S] into sumDy[c], sumDyXmu[c] about the f64 mean for channels [c0, c1),
// sample by sample so memory is read in order (see planarStats).
function planarDots(dy: usize, x: usize, N: i32, C: i32, S: i32, mean: usize, sumDy: usize, sumDyXmu: usize, scratch: usize, c0: i32, c1: i32): void {
  memory.fill(sumDy + (<usize>c0 << 3), 0, <usize>(c1 - c0) << 3);
  memory.fill(sumDyXmu + (<usize>c0 << 3), 0, <usize>(c1 - c0) << 3);
  if (columnRows(S)) {
    // The widest chunk's columns: a property of the shape, so every part takes the same path.
    const columns = min(COLUMNS / S, C) * S;
    const rows4 = ASC_FEATURE_SIMD && (withinL2(<f64>N * <f64>C * <f64>S) || columns >= MIN_FOUR_ROW_COLUMNS);
    tookPath(PATH_COLUMNS | (rows4 ? PATH_FOUR_ROWS : 0));
    planarDotsColumns(dy, x, N, C, S, mean, sumDy, sumDyXmu, scratch, c0, c1, rows4);
  } else if (S < MAX_ROW_IN_LANES) {
    tookPath(PATH_IN_LANES);
    planarDotsInLanes(dy, x, N, C, S, mean, sumDy, sumDyXmu, scratch, c0, c1);
  } else {
    tookPath(PATH_ROWS);
    for (let n = 0; n < N; n++) {
      for (let c = c0; c < c1; c++) {
        const o = (<usize>n * <usize>C + <usize>c) * <usize>S << 2;
        const s = rowDots(dy + o, x + o, S, <f32>load<f64>(mean + (<usize>c << 3)));
        addSums(sumDy, sumDyXmu, c, s, dotSum);
      }
    }
  }
  recentre(c0, c1, mean, sumDy, sumDyXmu);
}

// The dots ran about f32(mean): Σdy·(x − mean) = Σdy·(x − f32(mean)) − (mean − f32(mean))·Σdy,
// in f64.
function recentre(c0: i32, c1: i32, mean: usize, sumDy: usize, sumDyXmu: usize): void {
  for (let c = c0; c < c1; c++) {
    const o = <usize>c << 3;
    const m = load<f64>(mean + o);
    store<f64>(sumDyXmu + o, load<f64>(sumDyXmu + o) - (m - <f64><f32>m) * load<f64>(sumDy + o));
  }
}

// Each row's Σdy and Σdy·(x − shift) go into its channel's lanes (two f32x4 in the
// scratch), which are added into the f64 sums after every k rows (at most DOT_TERMS values
// per lane). Channels [first, end), CHUNK at a time.
function planarDotsInLanes(dy: usize, x: usize, N: i32, C: i32, S: i32, mean: usize, sumDy: usize, sumDyXmu: usize, scratch: usize, first: i32, end: i32): void {
  const rowStride = <usize>C * <usize>S << 2;
  // A row adds ⌈S/4⌉ values to each lane (its tail to lane 0).
  const k = max(1, DOT_TERMS / ((S + 3) >> 2));
  const shiftP = scratch + LANE_SHIFT, sP = scratch + LANE_D, dP = scratch + LANE_Q;
  for (let c0 = first; c0 < end; c0 += CHUNK) {
    const W = min(CHUNK, end - c0);
    for (let c = 0; c < W; c++) store<f32>(shiftP + (<usize>c << 2), <f32>load<f64>(mean + (<usize>(c0 + c) << 3)));
    for (let n0 = 0; n0 < N; n0 += k) {
      const rows = min(k, N - n0);
      memory.fill(sP, 0, <usize>W << 4);
      memory.fill(dP, 0, <usize>W << 4);
      const o = (<usize>n0 * <usize>C + <usize>c0) * <usize>S << 2;
      if (ASC_FEATURE_SIMD && splatRows(S)) {
        if (S == 8) dotsSplatRows8(dy + o, x + o, rows, rowStride, W, shiftP, sP, dP);
        else dotsSplatRows12(dy + o, x + o, rows, rowStride, W, shiftP, sP, dP);
      } else dotsRows(dy + o, x + o, rows, rowStride, W, S, shiftP, sP, dP);
      for (let c = 0; c < W; c++) {
        addSums(sumDy, sumDyXmu, c0 + c, lanesTotal(sP + (<usize>c << 4)), lanesTotal(dP + (<usize>c << 4)));
      }
    }
  }
}

// `rows` samples of W channels' rows of S values from dy, x into their lanes.
function dotsRows(dy: usize, x: usize, rows: i32, rowStride: usize, W: i32, S: i32, shiftP: usize, sP: usize, dP: usize): void {
  for (let r = 0; r < rows; r++, dy += rowStride, x += rowStride) {
    for (let c = 0; c < W; c++) {
      const oc = <usize>c * <usize>S << 2;
      rowDotsInto(dy + oc, x + oc, S, load<f32>(shiftP + (<usize>c << 2)), sP + (<usize>c << 4), dP + (<usize>c << 4));
    }
  }
}

// Rows of 8 and of 12 values each get their own copy (see MIN_SPLAT_ROW).
function dotsSplatRows8(dy: usize, x: usize, rows: i32, rowStride: usize, W: i32, shiftP: usize, sP: usize, dP: usize): void {
  dotsSplatRows(dy, x, rows, rowStride, W, 8, shiftP, sP, dP);
}

function dotsSplatRows12(dy: usize, x: usize, rows: i32, rowStride: usize, W: i32, shiftP: usize, sP: usize, dP: usize): void {
  dotsSplatRows(dy, x, rows, rowStride, W, 12, shiftP, sP, dP);
}

// dotsRows for S = 8 or 12, two channels at a time.
// @ts-ignore: decorator
@inline
function dotsSplatRows(dy: usize, x: usize, rows: i32, rowStride: usize, W: i32, S: i32, shiftP: usize, sP: usize, dP: usize): void {
  const row = <usize>S << 2;
  for (let r = 0; r < rows; r++, dy += rowStride, x += rowStride) {
    let g = dy, v = x, c = 0;
    for (; c + 2 <= W; c += 2, g += row << 1, v += row << 1) {
      const at = shiftP + (<usize>c << 2), o = <usize>c << 4;
      dotsSplatRow(g, v, S, at, sP + o, dP + o);
      dotsSplatRow(g + row, v + row, S, at + 4, sP + o + 16, dP + o + 16);
    }
    if (c < W) dotsSplatRow(g, v, S, shiftP + (<usize>c << 2), sP + (<usize>c << 4), dP + (<usize>c << 4));
  }
}

// One channel's row of 8 or 12 values: its Σdy and Σdy·(x − shift) into its lanes, the
// shift at shiftAt splat.
// @ts-ignore: decorator
@inline
function dotsSplatRow(dy: usize, x: usize, S: i32, shiftAt: usize, sAt: usize, dAt: usize): void {
  const m = v128.load32_splat(shiftAt);
  const g0 = v128.load(dy), g1 = v128.load(dy, 16);
  let s = f32x4.add(g0, g1);
  let d = f32x4.add(f32x4.mul(g0, f32x4.sub(v128.load(x), m)), f32x4.mul(g1, f32x4.sub(v128.load(x, 16), m)));
  if (S > 8) {
    const g2 = v128.load(dy, 32);
    s = f32x4.add(s, g2);
    d = f32x4.add(d, f32x4.mul(g2, f32x4.sub(v128.load(x, 32), m)));
  }
  v128.store(sAt, f32x4.add(v128.load(sAt), s));
  v128.store(dAt, f32x4.add(v128.load(dAt), d));
}

// Short rows (see SHORT_ROW) but those of splatRows: each sample is an interleaved row of
// C·S columns, each column shifted by its channel's shift; every DOT_TERMS samples, channel
// c's S column sums go into its f64 sums. COLUMNS/S channels at a time, channels
// [first, end) of each chunk.
function planarDotsColumns(dy: usize, x: usize, N: i32, C: i32, S: i32, mean: usize, sumDy: usize, sumDyXmu: usize, scratch: usize, first: i32, end: i32, rows4: bool): void {
  const stride = <usize>C * <usize>S << 2, perChunk = COLUMNS / S;
  const shiftP = scratch + COLUMN_SHIFT, sP = scratch + COLUMN_D, dP = scratch + COLUMN_Q;
  for (let chunk = first - first % perChunk; chunk < end; chunk += perChunk) {
    const c0 = max(chunk, first), Wc = min(chunk + perChunk, end) - c0, W = Wc * S, o = <usize>c0 * <usize>S << 2;
    for (let c = 0; c < Wc; c++) store<f32>(sP + (<usize>c << 2), <f32>load<f64>(mean + (<usize>(c0 + c) << 3)));
    expandColumns(sP, 0, 1, Wc, S, shiftP);
    for (let n = 0; n < N; n += DOT_TERMS) {
      const rows = min(DOT_TERMS, N - n);
      memory.fill(sP, 0, <usize>W << 2);
      memory.fill(dP, 0, <usize>W << 2);
      columnDotsShifted(dy + <usize>n * stride + o, x + <usize>n * stride + o, rows, W, stride, shiftP, sP, dP, rows4);
      for (let c = 0; c < Wc; c++) {
        let ts: f64 = 0, td: f64 = 0;
        for (let s = 0; s < S; s++) {
          const at = <usize>(c * S + s) << 2;
          ts += <f64>load<f32>(sP + at);
          td += <f64>load<f32>(dP + at);
        }
        addSums(sumDy, sumDyXmu, c0 + c, ts, td);
      }
    }
  }
}

// Adds Σdy and Σdy·(x − shift) over one row of `len` values into the lanes at sAt and dAt
// (lane 0 alone in the scalar build).
// @ts-ignore: decorator
@inline function rowDotsInto(dy: usize, x: usize, len: i32, shift: f32, sAt: usize, dAt: usize): void {
  let i = 0, tailS: f32 = 0, tailD: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    // Two chains: rows are short, and the next channel's row runs alongside.
    const m = f32x4.splat(shift);
    let s0 = v128.load(sAt), d0 = v128.load(dAt), s1 = f32x4.splat(0), d1 = f32x4.splat(0);
    for (; i + 8 <= len; i += 8) {
      const o = <usize>i << 2;
      const g0 = v128.load(dy + o), g1 = v128.load(dy + o, 16);
      s0 = f32x4.add(s0, g0);
      s1 = f32x4.add(s1, g1);
      d0 = f32x4.add(d0, f32x4.mul(g0, f32x4.sub(v128.load(x + o), m)));
      d1 = f32x4.add(d1, f32x4.mul(g1, f32x4.sub(v128.load(x + o, 16), m)));
    }
    if (i + 4 <= len) {
      const o = <usize>i << 2;
      const g = v128.load(dy + o);
      s1 = f32x4.add(s1, g);
      d1 = f32x4.add(d1, f32x4.mul(g, f32x4.sub(v128.load(x + o), m)));
      i += 4;
    }
    if (i < len) {
      for (; i < len; i++) {
        const o = <usize>i << 2;
        const g = load<f32>(dy + o);
        tailS += g;
        tailD += g * (load<f32>(x + o) - shift);
      }
      s1 = plusLane0(s1, tailS);
      d1 = plusLane0(d1, tailD);
    }
    v128.store(sAt, f32x4.add(s0, s1));
    v128.store(dAt, f32x4.add(d0, d1));
  } else {
    for (; i < len; i++) {
      const o = <usize>i << 2;
      const g = load<f32>(dy + o);
      tailS += g;
      tailD += g * (load<f32>(x + o) - shift);
    }
    store<f32>(sAt, load<f32>(sAt) + tailS);
    store<f32>(dAt, load<f32>(dAt) + tailD);
  }
}

// Interleaved [R, C]: Σdy and Σdy·(x − shift) about the f32 shifts, for this part's row
// groups (each into its own sums: group 0 into sumDy, sumDyXmu, group g into its slot of
// `groups`) or, where there is one group, its units of channels (parts.ts).
// f32_bn_backward_merge_interleaved then merges the groups and recentres the sums.
function interleavedDots(dy: usize, x: usize, R: i32, C: i32, shifts: usize, sumDy: usize, sumDyXmu: usize, groups: usize, scratch: usize, part: i32, parts: i32): void {
  const rows4 = withinL2(<f64>R * <f64>C);
  tookPath(PATH_INTERLEAVED | (ASC_FEATURE_SIMD && rows4 ? PATH_FOUR_ROWS : 0));
  const G = groupCount(R, C);
  if (G > 1) {
    const rows = groupRows(R), stride = <usize>C << 2;
    for (let g = unitStart(G, part, parts), end = unitStart(G, part + 1, parts); g < end; g++) {
      const slot = groupSlot(groups, C, g), o = <usize>(g * rows) * stride;
      const s = g == 0 ? sumDy : slot, d = g == 0 ? sumDyXmu : slot + (<usize>C << 3);
      dotsChain(dy + o, x + o, min(rows, R - g * rows), C, 0, C, shifts, s, d, scratch, rows4);
    }
    return;
  }
  partChannels(C, CHUNK, INTERLEAVED_UNIT, part, parts);
  dotsChain(dy, x, R, C, partFirst, partEnd, shifts, sumDy, sumDyXmu, scratch, rows4);
}

// Channels [first, end) of `R` interleaved rows into sumDy, sumDyXmu (f64, indexed by
// channel), row by row over chunks of at most CHUNK channels, with each channel's f32 sums
// in the scratch for DOT_TERMS rows at a time.
function dotsChain(dy: usize, x: usize, R: i32, C: i32, first: i32, end: i32, shifts: usize, sumDy: usize, sumDyXmu: usize, scratch: usize, rows4: bool): void {
  memory.fill(sumDy + (<usize>first << 3), 0, <usize>(end - first) << 3);
  memory.fill(sumDyXmu + (<usize>first << 3), 0, <usize>(end - first) << 3);
  const stride = <usize>C << 2;
  const sP = scratch + COLUMN_D, dP = scratch + COLUMN_Q;
  // addColumns leaves the sums at 0 for the next rows and the next chunk.
  memory.fill(sP, 0, <usize>min(CHUNK, end - first) << 2);
  memory.fill(dP, 0, <usize>min(CHUNK, end - first) << 2);
  for (let chunk = first - first % CHUNK; chunk < end; chunk += CHUNK) {
    const c0 = max(chunk, first), W = min(chunk + CHUNK, end) - c0;
    const o0 = <usize>c0 << 2, shifted = anyNonZero(shifts + o0, W);
    for (let r = 0; r < R; r += DOT_TERMS) {
      const rows = min(DOT_TERMS, R - r), g = dy + <usize>r * stride + o0, v = x + <usize>r * stride + o0;
      if (shifted) columnDotsShifted(g, v, rows, W, stride, shifts + o0, sP, dP, rows4);
      else columnDotsUnshifted(g, v, rows, W, stride, shifts + o0, sP, dP, rows4);
      addColumns(W, sP, dP, sumDy + (<usize>c0 << 3), sumDyXmu + (<usize>c0 << 3));
    }
  }
}

function columnDotsShifted(dy: usize, x: usize, rows: i32, W: i32, stride: usize, shiftP: usize, sP: usize, dP: usize, rows4: bool): void {
  columnDotsAbout(dy, x, rows, W, stride, shiftP, sP, dP, rows4, true);
}

function columnDotsUnshifted(dy: usize, x: usize, rows: i32, W: i32, stride: usize, shiftP: usize, sP: usize, dP: usize, rows4: bool): void {
  columnDotsAbout(dy, x, rows, W, stride, shiftP, sP, dP, rows4, false);
}

// s[c] += Σdy, d[c] += Σdy·(x − shift[c]) down `rows` rows of W columns; four rows at a
// time share each load and store of the sums. `centred` false: every shift is 0.
// @ts-ignore: decorator
@inline
function columnDotsAbout(dy: usize, x: usize, rows: i32, W: i32, stride: usize, shiftP: usize, sP: usize, dP: usize, rows4: bool, centred: bool): void {
  let r = 0;
  if (ASC_FEATURE_SIMD && rows4) {
    const W4 = W & ~3;
    for (; r + 4 <= rows; r += 4, dy += stride << 2, x += stride << 2) {
      // Eight columns a step: V8 unrolls this loop where the memory is not shared but
      // leaves it rolled on a shared memory (the threads build, even on one thread).
      let c = 0;
      for (; c + 8 <= W4; c += 8) {
        fourRowDots4(dy, x, c, stride, shiftP, sP, dP, centred);
        fourRowDots4(dy, x, c + 4, stride, shiftP, sP, dP, centred);
      }
      if (c < W4) fourRowDots4(dy, x, c, stride, shiftP, sP, dP, centred);
      for (let i = 0; i < 4; i++) columnDotsRow(dy + stride * i, x + stride * i, W4, W, shiftP, sP, dP, centred);
    }
  }
  for (; r < rows; r++, dy += stride, x += stride) columnDotsRow(dy, x, 0, W, shiftP, sP, dP, centred);
}

// Columns [c, c + 4) of four rows.
// @ts-ignore: decorator
@inline
function fourRowDots4(dy: usize, x: usize, c: i32, stride: usize, shiftP: usize, sP: usize, dP: usize, centred: bool): void {
  const o = <usize>c << 2;
  const m = centred ? v128.load(shiftP + o) : f32x4.splat(0), g = dy + o, v = x + o;
  const g0 = v128.load(g), g1 = v128.load(g + stride), g2 = v128.load(g + (stride << 1)), g3 = v128.load(g + stride * 3);
  const d0 = f32x4.mul(g0, about(v128.load(v), m, centred));
  const d1 = f32x4.mul(g1, about(v128.load(v + stride), m, centred));
  const d2 = f32x4.mul(g2, about(v128.load(v + (stride << 1)), m, centred));
  const d3 = f32x4.mul(g3, about(v128.load(v + stride * 3), m, centred));
  v128.store(sP + o, f32x4.add(v128.load(sP + o), f32x4.add(f32x4.add(g0, g1), f32x4.add(g2, g3))));
  v128.store(dP + o, f32x4.add(v128.load(dP + o), f32x4.add(f32x4.add(d0, d1), f32x4.add(d2, d3))));
}

// Columns [c0, W) of one row.
// @ts-ignore: decorator
@inline
function columnDotsRow(dy: usize, x: usize, c0: i32, W: i32, shiftP: usize, sP: usize, dP: usize, centred: bool): void {
  let c = c0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 8 <= W; c += 8) {
      const o = <usize>c << 2;
      const g0 = v128.load(dy + o), g1 = v128.load(dy + o, 16);
      v128.store(sP + o, f32x4.add(v128.load(sP + o), g0));
      v128.store(sP + o, f32x4.add(v128.load(sP + o, 16), g1), 16);
      v128.store(dP + o, f32x4.add(v128.load(dP + o), f32x4.mul(g0, aboutAt(v128.load(x + o), shiftP + o, centred))));
      v128.store(dP + o, f32x4.add(v128.load(dP + o, 16), f32x4.mul(g1, aboutAt(v128.load(x + o, 16), shiftP + o + 16, centred))), 16);
    }
    for (; c + 4 <= W; c += 4) {
      const o = <usize>c << 2;
      const g0 = v128.load(dy + o);
      v128.store(sP + o, f32x4.add(v128.load(sP + o), g0));
      v128.store(dP + o, f32x4.add(v128.load(dP + o), f32x4.mul(g0, aboutAt(v128.load(x + o), shiftP + o, centred))));
    }
  }
  for (; c < W; c++) {
    const o = <usize>c << 2;
    const g = load<f32>(dy + o);
    store<f32>(sP + o, load<f32>(sP + o) + g);
    store<f32>(dP + o, load<f32>(dP + o) + g * aboutAtf(load<f32>(x + o), shiftP + o, centred));
  }
}

// The f32 column sums into the f64 totals, leaving the f32 sums at 0 for the next rows (a
// call to memory.fill per DOT_TERMS rows costs a noticeable part of a short row's time).
function addColumns(W: i32, sP: usize, dP: usize, sumDy: usize, sumDyXmu: usize): void {
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    for (; c + 4 <= W; c += 4) {
      const o = <usize>c << 2;
      addSums4(sumDy, sumDyXmu, c, v128.load(sP + o), v128.load(dP + o));
      v128.store(sP + o, zero);
      v128.store(dP + o, zero);
    }
  }
  for (; c < W; c++) {
    const o = <usize>c << 2;
    addSums(sumDy, sumDyXmu, c, <f64>load<f32>(sP + o), <f64>load<f32>(dP + o));
    store<f32>(sP + o, 0);
    store<f32>(dP + o, 0);
  }
}

// @ts-ignore: decorator
@inline function addSums(sumDy: usize, sumDyXmu: usize, c: i32, s: f64, d: f64): void {
  const o = <usize>c << 3;
  store<f64>(sumDy + o, load<f64>(sumDy + o) + s);
  store<f64>(sumDyXmu + o, load<f64>(sumDyXmu + o) + d);
}

// Four channels' f32 sums into the f64 arrays.
// @ts-ignore: decorator
@inline function addSums4(sumDy: usize, sumDyXmu: usize, c: i32, s: v128, d: v128): void {
  const o = <usize>c << 3;
  addHalves(sumDy + o, s);
  addHalves(sumDyXmu + o, d);
}

// @ts-ignore: decorator
@inline function addHalves(p: usize, v: v128): void {
  v128.store(p, f64x2.add(v128.load(p), f64x2.promote_low_f32x4(v)));
  v128.store(p, f64x2.add(v128.load(p, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3))), 16);
}

// @ts-ignore: decorator
@inline function accumulate(grad: usize, c: i32, value: f64): void {
  if (grad) {
    const p = grad + (<usize>c << 2);
    store<f32>(p, <f32>(<f64>load<f32>(p) + value));
  }
}

// Training-mode coefficients for channel c over 1/invCount values (global count under
// sync batch norm); accumulates dγ, dβ when asked.
function backwardCoefChannel(
  c: i32, C: i32, invCount: f64, weight: usize, mean: usize, invstd: usize,
  sumDy: usize, sumDyXmu: usize, gradWeight: usize, gradBias: usize, coef: usize,
): void {
  const o = <usize>c << 3;
  const m = load<f64>(mean + o), is = load<f64>(invstd + o);
  const s = load<f64>(sumDy + o), d = load<f64>(sumDyXmu + o);
  accumulate(gradBias, c, s);
  accumulate(gradWeight, c, d * is);
  const shift = headOf(m, is);
  const k = gamma(weight, c) * is;
  const p = -k * is * is * d * invCount;
  const q = -k * s * invCount - p * (m - <f64>shift);
  const at = coef + (<usize>c << 2), step = <usize>C << 2;
  store<f32>(at, shift);
  store<f32>(at + step, <f32>k);
  store<f32>(at + (step << 1), <f32>p);
  store<f32>(at + step * 3, <f32>q);
}

function elemtRow(dy: usize, x: usize, dx: usize, len: i32, shift: f32, k: f32, p: f32, q: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f32x4.splat(shift), vk = f32x4.splat(k), vp = f32x4.splat(p), vq = f32x4.splat(q);
    for (; i + 16 <= len; i += 16) {
      const o = <usize>i << 2;
      const a0 = f32x4.add(f32x4.mul(v128.load(dy + o), vk), vq);
      const a1 = f32x4.add(f32x4.mul(v128.load(dy + o, 16), vk), vq);
      const a2 = f32x4.add(f32x4.mul(v128.load(dy + o, 32), vk), vq);
      const a3 = f32x4.add(f32x4.mul(v128.load(dy + o, 48), vk), vq);
      v128.store(dx + o, f32x4.add(a0, f32x4.mul(f32x4.sub(v128.load(x + o), vm), vp)));
      v128.store(dx + o, f32x4.add(a1, f32x4.mul(f32x4.sub(v128.load(x + o, 16), vm), vp)), 16);
      v128.store(dx + o, f32x4.add(a2, f32x4.mul(f32x4.sub(v128.load(x + o, 32), vm), vp)), 32);
      v128.store(dx + o, f32x4.add(a3, f32x4.mul(f32x4.sub(v128.load(x + o, 48), vm), vp)), 48);
    }
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      const a0 = f32x4.add(f32x4.mul(v128.load(dy + o), vk), vq);
      v128.store(dx + o, f32x4.add(a0, f32x4.mul(f32x4.sub(v128.load(x + o), vm), vp)));
    }
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, (load<f32>(dy + o) * k + q) + (load<f32>(x + o) - shift) * p);
  }
}

// Planar [N, C, S]: this part's rows of the N·C, or for short rows this part's samples,
// each an interleaved row of C·S columns (see applyPlanarColumns) or, from MIN_SPLAT_ROW,
// a row per channel with its coefficients splat.
function elemtPlanar(dy: usize, x: usize, dx: usize, N: i32, C: i32, S: i32, coef: usize, scratch: usize, part: i32, parts: i32): void {
  const step = <usize>C << 2;
  if (S < SHORT_ROW) {
    partRows(N, ROW_UNIT, part, parts);
    const n0 = partFirst, n1 = partEnd;
    if (ASC_FEATURE_SIMD && splatRows(S)) {
      tookPath(PATH_SPLATS);
      const shifted = anyNonZero(coef, C);
      if (S == 8) {
        if (shifted) elemtSplats8Shifted(dy, x, dx, C, coef, n0, n1);
        else elemtSplats8Unshifted(dy, x, dx, C, coef, n0, n1);
      } else {
        if (shifted) elemtSplats12Shifted(dy, x, dx, C, coef, n0, n1);
        else elemtSplats12Unshifted(dy, x, dx, C, coef, n0, n1);
      }
      return;
    }
    tookPath(PATH_COLUMNS);
    const stride = <usize>C * <usize>S << 2, perChunk = COLUMNS / S, expanded = scratch + EXPANDED_COEF;
    for (let c0 = 0; c0 < C && n0 < n1; c0 += perChunk) {
      const Wc = min(perChunk, C - c0), W = Wc * S, o = <usize>c0 * <usize>S << 2;
      expandColumns(coef + (<usize>c0 << 2), step, 4, Wc, S, expanded);
      if (anyNonZero(coef + (<usize>c0 << 2), Wc)) elemtSamplesShifted(dy + o, x + o, dx + o, n0, n1, stride, W, expanded);
      else elemtSamplesUnshifted(dy + o, x + o, dx + o, n0, n1, stride, W, expanded);
    }
    return;
  }
  tookPath(PATH_ROWS);
  partRows(N * C, ROW_UNIT, part, parts);
  for (let row = partFirst, c = partFirst % C; row < partEnd; row++, c = c + 1 == C ? 0 : c + 1) {
    const at = coef + (<usize>c << 2), o = <usize>row * <usize>S << 2;
    elemtRow(dy + o, x + o, dx + o, S,
      load<f32>(at), load<f32>(at + step), load<f32>(at + (step << 1)), load<f32>(at + step * 3));
  }
}

function elemtSamplesShifted(dy: usize, x: usize, dx: usize, n0: i32, n1: i32, stride: usize, W: i32, expanded: usize): void {
  for (let n = n0; n < n1; n++) {
    const o = <usize>n * stride;
    elemtInterleavedRow(dy + o, x + o, dx + o, 0, W, expanded, true);
  }
}

function elemtSamplesUnshifted(dy: usize, x: usize, dx: usize, n0: i32, n1: i32, stride: usize, W: i32, expanded: usize): void {
  for (let n = n0; n < n1; n++) {
    const o = <usize>n * stride;
    elemtInterleavedRow(dy + o, x + o, dx + o, 0, W, expanded, false);
  }
}

// Rows of 8 and of 12 values each get their own copy (see MIN_SPLAT_ROW).
function elemtSplats8Shifted(dy: usize, x: usize, dx: usize, C: i32, coef: usize, n0: i32, n1: i32): void {
  elemtPlanarSplats(dy, x, dx, C, 8, coef, n0, n1, true);
}

function elemtSplats8Unshifted(dy: usize, x: usize, dx: usize, C: i32, coef: usize, n0: i32, n1: i32): void {
  elemtPlanarSplats(dy, x, dx, C, 8, coef, n0, n1, false);
}

function elemtSplats12Shifted(dy: usize, x: usize, dx: usize, C: i32, coef: usize, n0: i32, n1: i32): void {
  elemtPlanarSplats(dy, x, dx, C, 12, coef, n0, n1, true);
}

function elemtSplats12Unshifted(dy: usize, x: usize, dx: usize, C: i32, coef: usize, n0: i32, n1: i32): void {
  elemtPlanarSplats(dy, x, dx, C, 12, coef, n0, n1, false);
}

// Samples [n0, n1) of planar rows of S = 8 or 12 values, two channels at a time.
// @ts-ignore: decorator
@inline
function elemtPlanarSplats(dy: usize, x: usize, dx: usize, C: i32, S: i32, coef: usize, n0: i32, n1: i32, centred: bool): void {
  const step = <usize>C << 2, row = <usize>S << 2, skip = <usize>n0 * <usize>C * row;
  dy += skip;
  x += skip;
  dx += skip;
  for (let n = n0; n < n1; n++) {
    let c = 0;
    for (; c + 2 <= C; c += 2, dy += row << 1, x += row << 1, dx += row << 1) {
      const at = coef + (<usize>c << 2);
      elemtSplatRow(dy, x, dx, S, at, step, centred);
      elemtSplatRow(dy + row, x + row, dx + row, S, at + 4, step, centred);
    }
    if (c < C) {
      elemtSplatRow(dy, x, dx, S, coef + (<usize>c << 2), step, centred);
      dy += row;
      x += row;
      dx += row;
    }
  }
}

// One channel's row of 8 or 12 values, its coefficients at `at` (shift, k, p, q, `step`
// bytes apart) splat.
// @ts-ignore: decorator
@inline
function elemtSplatRow(dy: usize, x: usize, dx: usize, S: i32, at: usize, step: usize, centred: bool): void {
  const m = centred ? v128.load32_splat(at) : f32x4.splat(0);
  const k = v128.load32_splat(at + step), p = v128.load32_splat(at + (step << 1)), q = v128.load32_splat(at + step * 3);
  v128.store(dx, f32x4.add(f32x4.add(f32x4.mul(v128.load(dy), k), q), f32x4.mul(about(v128.load(x), m, centred), p)));
  v128.store(dx, f32x4.add(f32x4.add(f32x4.mul(v128.load(dy, 16), k), q), f32x4.mul(about(v128.load(x, 16), m, centred), p)), 16);
  if (S > 8) {
    v128.store(dx, f32x4.add(f32x4.add(f32x4.mul(v128.load(dy, 32), k), q), f32x4.mul(about(v128.load(x, 32), m, centred), p)), 32);
  }
}

// Interleaved: this part's rows; in L2, four rows at a time share each load of the
// coefficients (see L2_BYTES). Where every shift is 0 the subtraction is skipped.
function elemtInterleaved(dy: usize, x: usize, dx: usize, R: i32, C: i32, coef: usize, part: i32, parts: i32): void {
  const rows4 = ASC_FEATURE_SIMD && withinL2(<f64>R * <f64>C);
  tookPath(PATH_INTERLEAVED | (rows4 ? PATH_FOUR_ROWS : 0));
  partRows(R, ROW_UNIT, part, parts);
  if (anyNonZero(coef, C)) elemtInterleavedShifted(dy, x, dx, C, coef, partFirst, partEnd, rows4);
  else elemtInterleavedUnshifted(dy, x, dx, C, coef, partFirst, partEnd, rows4);
}

function elemtInterleavedShifted(dy: usize, x: usize, dx: usize, C: i32, coef: usize, r: i32, end: i32, rows4: bool): void {
  elemtInterleavedRows(dy, x, dx, C, coef, r, end, rows4, true);
}

function elemtInterleavedUnshifted(dy: usize, x: usize, dx: usize, C: i32, coef: usize, r: i32, end: i32, rows4: bool): void {
  elemtInterleavedRows(dy, x, dx, C, coef, r, end, rows4, false);
}

// Rows [r, end); `centred` false: every shift is 0.
// @ts-ignore: decorator
@inline
function elemtInterleavedRows(dy: usize, x: usize, dx: usize, C: i32, coef: usize, r: i32, end: i32, rows4: bool, centred: bool): void {
  const step = <usize>C << 2, skip = <usize>r * step;
  dy += skip;
  x += skip;
  dx += skip;
  if (ASC_FEATURE_SIMD && rows4) {
    const C4 = C & ~3;
    for (; r + 4 <= end; r += 4, dy += step << 2, x += step << 2, dx += step << 2) {
      for (let c = 0; c < C4; c += 4) {
        const o = <usize>c << 2, at = coef + o;
        const k = v128.load(at + step), p = v128.load(at + (step << 1)), q = v128.load(at + step * 3);
        const g = dy + o, v = x + o, d = dx + o;
        v128.store(d, f32x4.add(f32x4.add(f32x4.mul(v128.load(g), k), q), f32x4.mul(aboutAt(v128.load(v), at, centred), p)));
        v128.store(d + step, f32x4.add(f32x4.add(f32x4.mul(v128.load(g + step), k), q), f32x4.mul(aboutAt(v128.load(v + step), at, centred), p)));
        v128.store(d + (step << 1), f32x4.add(f32x4.add(f32x4.mul(v128.load(g + (step << 1)), k), q), f32x4.mul(aboutAt(v128.load(v + (step << 1)), at, centred), p)));
        v128.store(d + step * 3, f32x4.add(f32x4.add(f32x4.mul(v128.load(g + step * 3), k), q), f32x4.mul(aboutAt(v128.load(v + step * 3), at, centred), p)));
      }
      for (let i = 0; i < 4; i++) elemtInterleavedRow(dy + step * i, x + step * i, dx + step * i, C4, C, coef, centred);
    }
  }
  for (; r < end; r++, dy += step, x += step, dx += step) elemtInterleavedRow(dy, x, dx, 0, C, coef, centred);
}

// Channels [c0, C) of one interleaved row; `centred` false: every shift is 0 (not read).
// @ts-ignore: decorator
@inline
function elemtInterleavedRow(dy: usize, x: usize, dx: usize, c0: i32, C: i32, coef: usize, centred: bool): void {
  const step = <usize>C << 2;
  let c = c0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 8 <= C; c += 8) {
      const o = <usize>c << 2, m = coef + o, k = m + step, p = m + (step << 1), q = m + step * 3;
      const a0 = f32x4.add(f32x4.mul(v128.load(dy + o), v128.load(k)), v128.load(q));
      const a1 = f32x4.add(f32x4.mul(v128.load(dy + o, 16), v128.load(k, 16)), v128.load(q, 16));
      v128.store(dx + o, f32x4.add(a0, f32x4.mul(aboutAt(v128.load(x + o), m, centred), v128.load(p))));
      v128.store(dx + o, f32x4.add(a1, f32x4.mul(aboutAt(v128.load(x + o, 16), m + 16, centred), v128.load(p, 16))), 16);
    }
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2, k = coef + o;
      const a = f32x4.add(f32x4.mul(v128.load(dy + o), v128.load(k + step)), v128.load(k + step * 3));
      const b = f32x4.mul(aboutAt(v128.load(x + o), k, centred), v128.load(k + (step << 1)));
      v128.store(dx + o, f32x4.add(a, b));
    }
  }
  for (; c < C; c++) {
    const o = <usize>c << 2, k = coef + o;
    store<f32>(dx + o, (load<f32>(dy + o) * load<f32>(k + step) + load<f32>(k + step * 3)) +
      aboutAtf(load<f32>(x + o), k, centred) * load<f32>(k + (step << 1)));
  }
}

// Training coefficients, dγ and dβ of channels [c0, c1) from their sums.
function backwardCoefs(
  C: i32, c0: i32, c1: i32, count: f64, weight: usize, mean: usize, invstd: usize,
  sumDy: usize, sumDyXmu: usize, gradWeight: usize, gradBias: usize, coef: usize,
): void {
  const invCount = 1.0 / count;
  for (let c = c0; c < c1; c++) {
    backwardCoefChannel(c, C, invCount, weight, mean, invstd, sumDy, sumDyXmu, gradWeight, gradBias, coef);
  }
}

// Phase 1 of training: this part's channels' sums, dγ, dβ and coefficients. Phase 2:
// f32_bn_backward_apply_planar(dy, x, dx, N, C, S, coef).
export function f32_bn_backward_train_planar_reduce(
  dy: usize, x: usize, N: i32, C: i32, S: i32, weight: usize, mean: usize, invstd: usize,
  gradWeight: usize, gradBias: usize, sumDy: usize, sumDyXmu: usize, coef: usize, scratch: usize, part: i32, parts: i32,
): void {
  partPlanarChannels(C, S, part, parts);
  const c0 = partFirst, c1 = partEnd;
  planarDots(dy, x, N, C, S, mean, sumDy, sumDyXmu, scratch, c0, c1);
  backwardCoefs(C, c0, c1, <f64>N * <f64>S, weight, mean, invstd, sumDy, sumDyXmu, gradWeight, gradBias, coef);
}

// The last phase of training backward: dx = dy·k + (x − shift)·p + q with coef.
export function f32_bn_backward_apply_planar(
  dy: usize, x: usize, dx: usize, N: i32, C: i32, S: i32, coef: usize, scratch: usize, part: i32, parts: i32,
): void {
  elemtPlanar(dy, x, dx, N, C, S, coef, scratch, part, parts);
}

export function f32_bn_backward_apply_interleaved(
  dy: usize, x: usize, dx: usize, R: i32, C: i32, coef: usize, scratch: usize, part: i32, parts: i32,
): void {
  elemtInterleaved(dy, x, dx, R, C, coef, part, parts);
}

// Eval-mode backward: the running stats were constants of the forward pass. Channels
// [c0, c1): mean, invstd (f64) from the running stats, and coef = (0, γ·invstd, 0), so
// that f32_bn_apply_* turns dy into dx = dy·γ·invstd.
function foldEvalBackward(
  C: i32, c0: i32, c1: i32, weight: usize, runMean: usize, runVar: usize, eps: f64, mean: usize, invstd: usize, coef: usize,
): void {
  const step = <usize>C << 2;
  for (let c = c0; c < c1; c++) {
    const o = <usize>c << 2;
    const is = 1.0 / Math.sqrt(<f64>load<f32>(runVar + o) + eps);
    store<f64>(mean + (<usize>c << 3), <f64>load<f32>(runMean + o));
    store<f64>(invstd + (<usize>c << 3), is);
    store<f32>(coef + o, 0);
    store<f32>(coef + step + o, <f32>(gamma(weight, c) * is));
    store<f32>(coef + (step << 1) + o, 0);
  }
}

function accumulateEvalGrads(c0: i32, c1: i32, invstd: usize, sumDy: usize, sumDyXmu: usize, gradWeight: usize, gradBias: usize): void {
  for (let c = c0; c < c1; c++) {
    const o = <usize>c << 3;
    accumulate(gradBias, c, load<f64>(sumDy + o));
    accumulate(gradWeight, c, load<f64>(sumDyXmu + o) * load<f64>(invstd + o));
  }
}

// Phase 1 of eval: this part's channels' coefficients, and their sums, dγ and dβ when a
// gradient is wanted. Phase 2: f32_bn_apply_planar(dy, dx, N, C, S, coef).
export function f32_bn_backward_eval_planar_reduce(
  dy: usize, x: usize, N: i32, C: i32, S: i32, weight: usize, runMean: usize, runVar: usize, eps: f64,
  gradWeight: usize, gradBias: usize, mean: usize, invstd: usize, sumDy: usize, sumDyXmu: usize, coef: usize,
  scratch: usize, part: i32, parts: i32,
): void {
  partPlanarChannels(C, S, part, parts);
  const c0 = partFirst, c1 = partEnd;
  foldEvalBackward(C, c0, c1, weight, runMean, runVar, eps, mean, invstd, coef);
  if (gradWeight | gradBias) {
    planarDots(dy, x, N, C, S, mean, sumDy, sumDyXmu, scratch, c0, c1);
    accumulateEvalGrads(c0, c1, invstd, sumDy, sumDyXmu, gradWeight, gradBias);
  }
}

// Sync batch norm's planar reduction on its own (one phase): sum locally, all-reduce sumDy
// and sumDyXmu across workers, then f32_bn_backward_fold with the global count.
export function f32_bn_backward_reduce_planar(
  dy: usize, x: usize, N: i32, C: i32, S: i32, mean: usize, sumDy: usize, sumDyXmu: usize, scratch: usize, part: i32, parts: i32,
): void {
  partPlanarChannels(C, S, part, parts);
  planarDots(dy, x, N, C, S, mean, sumDy, sumDyXmu, scratch, partFirst, partEnd);
}

// Interleaved sums split by row groups, so the per-channel work waits for all of them:
// f32_bn_backward_shifts, f32_bn_backward_reduce_interleaved (a part's groups or channels),
// then f32_bn_backward_merge_interleaved. Training then folds its coefficients
// (f32_bn_backward_fold) and applies them (f32_bn_backward_apply_interleaved); eval folds
// first (f32_bn_backward_eval_fold, which sets the mean the shifts come from), adds its
// gradients (f32_bn_backward_eval_grads) and applies with f32_bn_apply_interleaved.

// The f32 shift of each channel's sums: f32(mean). It is that even where dx takes shift 0
// (headOf): invstd includes eps, so a channel with var ≪ eps can pass headOf's test with
// |mean| far beyond its spread, and Σdy·x − mean·Σdy would then cancel. A mean of exactly 0
// still skips the subtraction.
export function f32_bn_backward_shifts(C: i32, mean: usize, shifts: usize, scratch: usize, part: i32, parts: i32): void {
  partChannelsEach(C, part, parts);
  for (let c = partFirst; c < partEnd; c++) store<f32>(shifts + (<usize>c << 2), <f32>load<f64>(mean + (<usize>c << 3)));
}

export function f32_bn_backward_reduce_interleaved(
  dy: usize, x: usize, R: i32, C: i32, shifts: usize, sumDy: usize, sumDyXmu: usize, groups: usize, scratch: usize, part: i32, parts: i32,
): void {
  interleavedDots(dy, x, R, C, shifts, sumDy, sumDyXmu, groups, scratch, part, parts);
}

// Adds groups 1.. into group 0's sums in order, then turns Σdy·(x − shift) into
// Σdy·(x − mean); this part's channels.
export function f32_bn_backward_merge_interleaved(
  R: i32, C: i32, mean: usize, sumDy: usize, sumDyXmu: usize, groups: usize, scratch: usize, part: i32, parts: i32,
): void {
  partChannelsEach(C, part, parts);
  const c0 = partFirst, c1 = partEnd, G = groupCount(R, C);
  for (let g = 1; g < G; g++) {
    const slot = groupSlot(groups, C, g);
    for (let c = c0; c < c1; c++) {
      const o = <usize>c << 3;
      addSums(sumDy, sumDyXmu, c, load<f64>(slot + o), load<f64>(slot + (<usize>C << 3) + o));
    }
  }
  recentre(c0, c1, mean, sumDy, sumDyXmu);
}

// Coefficients over `count` values per channel from the sums, and dγ, dβ added into
// gradWeight, gradBias where those are not null: training's fold after
// f32_bn_backward_merge_interleaved, and sync batch norm's after its all-reduce.
export function f32_bn_backward_fold(
  C: i32, weight: usize, mean: usize, invstd: usize, sumDy: usize, sumDyXmu: usize, count: f64, gradWeight: usize, gradBias: usize,
  coef: usize, scratch: usize, part: i32, parts: i32,
): void {
  partChannelsEach(C, part, parts);
  backwardCoefs(C, partFirst, partEnd, count, weight, mean, invstd, sumDy, sumDyXmu, gradWeight, gradBias, coef);
}

// Eval's coefficients (and the f64 mean and invstd the sums need) from the running stats.
export function f32_bn_backward_eval_fold(
  C: i32, weight: usize, runMean: usize, runVar: usize, eps: f64, mean: usize, invstd: usize, coef: usize, scratch: usize, part: i32, parts: i32,
): void {
  partChannelsEach(C, part, parts);
  foldEvalBackward(C, partFirst, partEnd, weight, runMean, runVar, eps, mean, invstd, coef);
}

export function f32_bn_backward_eval_grads(
  C: i32, invstd: usize, sumDy: usize, sumDyXmu: usize, gradWeight: usize, gradBias: usize, scratch: usize, part: i32, parts: i32,
): void {
  partChannelsEach(C, part, parts);
  accumulateEvalGrads(partFirst, partEnd, invstd, sumDy, sumDyXmu, gradWeight, gradBias);
}
