// Per-channel batch statistics: count, mean and M2 = Σ(x − mean)².
//
// The shift trick: a block of at most BLOCK values is summed as d = x − shift and d² in
// f32, with the shift close to the channel's mean. The d are small and centred, so
// nothing cancels even when the data sits on a large offset (mean 1e4, std 1, where
// E[x²] − E[x]² in f32 is garbage). Exactly:
//   block mean = shift + Σd/n,   block M2 = Σd² − (Σd)²/n.
// The shift is the channel's mean so far (for its first block, the mean of a few leading
// values), so one pass reads each value once. The subtraction loses bits only when the
// shift lies more than one block standard deviation from the block's mean, which is
// exactly when (Σd)²/n > Σd²/2 (data whose offset jumps between samples); such a block is
// summed again about shift + Σd/n, its mean to f32 accuracy (from L1 when the block was
// gathered; from L2 or memory when it was read in order or as columns).
// Blocks merge in f64 by Chan et al.'s formula, so a channel of 10^7 values does not
// drift the way a single f32 running sum would:
//   δ = mean_b − mean_a,  mean = mean_a + δ·n_b/n,  M2 = M2_a + M2_b + δ²·n_a·n_b/n.
// Every channel of a call advances through the same counts n_a, n_b, so the weights
// n_b/n and n_a·n_b/n are computed once per block, not once per channel. Interleaved inputs
// of at most CHUNK channels are cut into row groups (parts.ts), each one such chain of
// blocks, and the groups merge in order by the same formula.
// Each f32 lane adds at most MAX_BLOCK_ROWS values (interleaved rows, and planar rows under
// SHORT_ROW values read as columns) or BLOCK/16 (planar rows read in order, and gathered
// rows a multiple of 16 long); a gathered block's remainders add at most BLOCK/4 to one
// lane or to a scalar, and the scalar build's two accumulators BLOCK/2 each.

import {
  BLOCK, CHUNK, COLUMNS, MAX_BLOCK_ROWS, MAX_ROW_IN_ORDER, MAX_TWO_ROWS_CHANNELS, PATH_COLUMNS, PATH_GATHERED,
  PATH_IN_ORDER, PATH_INTERLEAVED, columnRows, splatRows, togetherPath, tookPath, withinL2,
} from "./limits";
import {
  COLUMN_D, COLUMN_Q, COLUMN_SHIFT, LANE_D, LANE_Q, LANE_SHIFT, groupCount, groupRows, groupSlot, partChannels, partChannelsEach, partEnd, partFirst, partPlanarChannels,
  unitStart,
} from "./parts";
import { about, aboutAt, aboutAtf, aboutf, anyNonZero, expandColumns, laneSum, lanesTotal, plusLane0 } from "./vec";

// Leading values of a channel averaged for its first shift.
const PILOT: i32 = 16;

// The second result of centredSums.
let sumSquares: f64 = 0;

// Returns Σ(x − shift) over `rows` rows of `len` contiguous values, rows `stride` bytes
// apart; Σ(x − shift)² is left in sumSquares. A shift of 0 (data centred near zero, the
// usual case) skips the subtraction: the sums then cost two additions and a product per
// value instead of three additions and a product, and stats run at the speed of memory.
function centredSums(p: usize, rows: i32, len: i32, stride: usize, shift: f32): f64 {
  return shift == 0 ? blockSumsUnshifted(p, rows, len, stride) : blockSumsShifted(p, rows, len, stride, shift);
}

function blockSumsShifted(p: usize, rows: i32, len: i32, stride: usize, shift: f32): f64 {
  return blockSums(p, rows, len, stride, shift, true);
}

function blockSumsUnshifted(p: usize, rows: i32, len: i32, stride: usize): f64 {
  return blockSums(p, rows, len, stride, 0, false);
}

// @ts-ignore: decorator
@inline function blockSums(p: usize, rows: i32, len: i32, stride: usize, shift: f32, centred: bool): f64 {
  let tailD: f32 = 0, tailQ: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    const m = f32x4.splat(shift);
    let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
    let q0 = f32x4.splat(0), q1 = f32x4.splat(0), q2 = f32x4.splat(0), q3 = f32x4.splat(0);
    for (let r = 0; r < rows; r++, p += stride) {
      let i = 0;
      for (; i + 16 <= len; i += 16) {
        const a = p + (<usize>i << 2);
        const x0 = about(v128.load(a), m, centred);
        const x1 = about(v128.load(a, 16), m, centred);
        const x2 = about(v128.load(a, 32), m, centred);
        const x3 = about(v128.load(a, 48), m, centred);
        d0 = f32x4.add(d0, x0);
        d1 = f32x4.add(d1, x1);
        d2 = f32x4.add(d2, x2);
        d3 = f32x4.add(d3, x3);
        q0 = f32x4.add(q0, f32x4.mul(x0, x0));
        q1 = f32x4.add(q1, f32x4.mul(x1, x1));
        q2 = f32x4.add(q2, f32x4.mul(x2, x2));
        q3 = f32x4.add(q3, f32x4.mul(x3, x3));
      }
      for (; i + 4 <= len; i += 4) {
        const x0 = about(v128.load(p + (<usize>i << 2)), m, centred);
        d0 = f32x4.add(d0, x0);
        q0 = f32x4.add(q0, f32x4.mul(x0, x0));
      }
      for (; i < len; i++) {
        const x = aboutf(load<f32>(p + (<usize>i << 2)), shift, centred);
        tailD += x;
        tailQ += x * x;
      }
    }
    sumSquares = <f64>laneSum(f32x4.add(f32x4.add(q0, q1), f32x4.add(q2, q3))) + <f64>tailQ;
    return <f64>laneSum(f32x4.add(f32x4.add(d0, d1), f32x4.add(d2, d3))) + <f64>tailD;
  } else {
    let d0: f32 = 0, d1: f32 = 0, q0: f32 = 0, q1: f32 = 0;
    for (let r = 0; r < rows; r++, p += stride) {
      let i = 0;
      for (; i + 2 <= len; i += 2) {
        const a = p + (<usize>i << 2);
        const x0 = aboutf(load<f32>(a), shift, centred);
        const x1 = aboutf(load<f32>(a, 4), shift, centred);
        d0 += x0;
        d1 += x1;
        q0 += x0 * x0;
        q1 += x1 * x1;
      }
      for (; i < len; i++) {
        const x = aboutf(load<f32>(p + (<usize>i << 2)), shift, centred);
        tailD += x;
        tailQ += x * x;
      }
    }
    sumSquares = <f64>(q0 + q1) + <f64>tailQ;
    return <f64>(d0 + d1) + <f64>tailD;
  }
}

// Chan's weights for merging a block of nb values into na: nb/n and na·nb/n.
let weightMean: f64 = 0;
let weightM2: f64 = 0;

// @ts-ignore: decorator
@inline function setWeights(na: f64, nb: f64): void {
  const n = na + nb;
  weightMean = nb / n;
  weightM2 = na * weightMean;
}

// Merges a block's (mean, m2) into channel c of the f64 arrays at meanP and m2P, with the
// weights of setWeights.
// @ts-ignore: decorator
@inline function mergeInto(meanP: usize, m2P: usize, c: i32, mean: f64, m2: f64): void {
  const pm = meanP + (<usize>c << 3), pq = m2P + (<usize>c << 3);
  const ma = load<f64>(pm);
  const delta = mean - ma;
  // ±Inf on either side (an Inf in the data): the weighted sum keeps it, where
  // ma + delta·w would give Inf − Inf = NaN; PyTorch's mean is ±Inf there.
  store<f64>(pm, isFinite(delta) ? ma + delta * weightMean : ma * (1 - weightMean) + mean * weightMean);
  store<f64>(pq, load<f64>(pq) + m2 + delta * delta * weightM2);
}

// Channel c's shift for its next block: its mean so far, or for the first block (na = 0)
// the mean of its first PILOT values (they are read again right after). Zero instead when
// that mean lies within half a standard deviation (of the data so far, no eps) of 0: the
// block sums are as exact about 0 (settleBlock's check holds with a margin of four) and
// cheaper.
// @ts-ignore: decorator
@inline function nextShift(p: usize, len: i32, meanP: usize, m2P: usize, c: i32, na: f64): f32 {
  let mean: f64, variance: f64;
  if (na > 0) {
    mean = load<f64>(meanP + (<usize>c << 3));
    variance = load<f64>(m2P + (<usize>c << 3)) / na;
  } else {
    const k = min(len, PILOT);
    let s: f64 = 0, q: f64 = 0;
    for (let i = 0; i < k; i++) {
      const v = <f64>load<f32>(p + (<usize>i << 2));
      s += v;
      q += v * v;
    }
    mean = s / <f64>k;
    variance = q / <f64>k - mean * mean;
  }
  return 4 * mean * mean <= variance ? 0 : <f32>mean;
}

// One block of channel c, merged with the weights of setWeights; invNb = 1/(rows·len).
function mergeBlock(p: usize, rows: i32, len: i32, stride: usize, meanP: usize, m2P: usize, c: i32, na: f64, invNb: f64): void {
  const shift = nextShift(p, len, meanP, m2P, c, na);
  const d = centredSums(p, rows, len, stride, shift);
  settleBlock(p, rows, len, stride, meanP, m2P, c, invNb, shift, d, sumSquares);
}

// Merges the block's sums d = Σ(x − shift), q = Σ(x − shift)² into channel c, after summing
// the block again about its own mean if the shift was too far from it, or in f64 if the f32
// sums are not finite.
function settleBlock(p: usize, rows: i32, len: i32, stride: usize, meanP: usize, m2P: usize, c: i32, invNb: f64, shift: f32, d: f64, q: f64): void {
  if (d * d * invNb > 0.5 * q) {
    shift = <f32>(<f64>shift + d * invNb);
    d = centredSums(p, rows, len, stride, shift);
    q = sumSquares;
  }
  if (!isFinite(d) || !isFinite(q)) {
    // A shift of ±Inf (the mean so far is) would turn every value into NaN or Inf.
    if (!isFinite(shift)) shift = 0;
    d = centredSums64(p, rows, len, stride, shift);
    q = sumSquares;
  }
  const dm = d * invNb;
  mergeInto(meanP, m2P, c, <f64>shift + dm, max(q - d * dm, 0));
}

// centredSums in f64, for the rare block whose f32 lane sums overflowed (|x| near 1e37) or
// hold NaN: then it is the sums, not the data, that must not be infinite.
function centredSums64(p: usize, rows: i32, len: i32, stride: usize, shift: f32): f64 {
  let d: f64 = 0, q: f64 = 0;
  for (let r = 0; r < rows; r++, p += stride) {
    for (let i = 0; i < len; i++) {
      const v = <f64>load<f32>(p + (<usize>i << 2)) - <f64>shift;
      d += v;
      q += v * v;
    }
  }
  sumSquares = q;
  return d;
}

// Every channel of planar x [N, C, S] into mean[C], m2[C] (f64); this part's channels
// (see parts.ts). A block of channel c is gathered from up to BLOCK/S samples, which keeps
// its sums in registers and costs nothing in cache. From memory, gathering short rows means
// many streams far apart ([64,512,14,14]: ten, 400 KB apart) and reading in order is
// faster. (Walking one channel at a time would keep it in L2 for the normalize pass, but
// visits [32,64,56,56] in 2048 chunks of 12 KB, and reading that way is slower than reading
// in order on the machines measured by more than the second pass costs.)
export function planarStats(x: usize, N: i32, C: i32, S: i32, meanP: usize, m2P: usize, scratch: usize, part: i32, parts: i32): void {
  partPlanarChannels(C, S, part, parts);
  const c0 = partFirst, c1 = partEnd;
  memory.fill(meanP + (<usize>c0 << 3), 0, <usize>(c1 - c0) << 3);
  memory.fill(m2P + (<usize>c0 << 3), 0, <usize>(c1 - c0) << 3);
  const inL2 = withinL2(<f64>N * <f64>C * <f64>S);
  if (columnRows(S)) {
    const together = ASC_FEATURE_SIMD && inL2 ? 4 : 1;
    tookPath(PATH_COLUMNS | togetherPath(together));
    planarStatsColumns(x, N, C, S, meanP, m2P, scratch, c0, c1, together);
  } else if (splatRows(S) || (!inL2 && S < MAX_ROW_IN_ORDER)) {
    tookPath(PATH_IN_ORDER);
    planarStatsInOrder(x, N, C, S, meanP, m2P, scratch, c0, c1);
  } else {
    tookPath(PATH_GATHERED);
    planarStatsGathered(x, N, C, S, meanP, m2P, c0, c1);
  }
}

// Rows under SHORT_ROW values (but those of splatRows): a sample [C, S] is summed like an
// interleaved row of C·S columns, each column shifted by its channel's shift, and channel
// c's block is then the sum of its S columns over MAX_BLOCK_ROWS samples. Channels are
// taken COLUMNS/S at a time, channels [c0, c1) of each such chunk here.
function planarStatsColumns(x: usize, N: i32, C: i32, S: i32, meanP: usize, m2P: usize, scratch: usize, c0: i32, c1: i32, together: i32): void {
  const stride = <usize>C * <usize>S << 2;
  const shiftP = scratch + COLUMN_SHIFT, dP = scratch + COLUMN_D, qP = scratch + COLUMN_Q;
  const perChunk = COLUMNS / S;
  for (let chunk = c0 - c0 % perChunk; chunk < c1; chunk += perChunk) {
    const first = max(chunk, c0), Wc = min(chunk + perChunk, c1) - first, W = Wc * S;
    for (let n = 0; n < N; n += MAX_BLOCK_ROWS) {
      const rows = min(MAX_BLOCK_ROWS, N - n);
      const block = x + <usize>n * stride + (<usize>first * <usize>S << 2);
      const na = <f64>n * <f64>S, nb = <f64>rows * <f64>S;
      setWeights(na, nb);
      // The channels' shifts pass through dP on their way to one per column.
      for (let c = 0; c < Wc; c++) {
        store<f32>(dP + (<usize>c << 2), nextShift(block + (<usize>c * <usize>S << 2), S, meanP, m2P, first + c, na));
      }
      expandColumns(dP, 0, 1, Wc, S, shiftP);
      memory.fill(dP, 0, <usize>W << 2);
      memory.fill(qP, 0, <usize>W << 2);
      columnSums(block, rows, W, stride, shiftP, dP, qP, together);
      const invNb = 1.0 / nb;
      for (let c = 0; c < Wc; c++) {
        let d: f64 = 0, q: f64 = 0;
        for (let s = 0; s < S; s++) {
          const o = <usize>(c * S + s) << 2;
          d += <f64>load<f32>(dP + o);
          q += <f64>load<f32>(qP + o);
        }
        const p = block + (<usize>c * <usize>S << 2);
        settleBlock(p, rows, S, stride, meanP, m2P, first + c, invNb, load<f32>(shiftP + (<usize>(c * S) << 2)), d, q);
      }
    }
  }
}

// A block is one row cut at BLOCK values, or BLOCK/S rows of one channel; channels [c0, c1).
function planarStatsGathered(x: usize, N: i32, C: i32, S: i32, meanP: usize, m2P: usize, c0: i32, c1: i32): void {
  const rowStride = <usize>C * <usize>S << 2;
  const blockRows = S >= BLOCK ? 1 : BLOCK / S;
  for (let n = 0; n < N; n += blockRows) {
    const rows = min(blockRows, N - n);
    const sample = x + <usize>n * rowStride;
    for (let c = c0; c < c1; c++) {
      for (let s = 0; s < S; s += BLOCK) {
        const len = min(BLOCK, S - s);
        const na = <f64>n * <f64>S + <f64>s * <f64>rows, nb = <f64>rows * <f64>len;
        setWeights(na, nb);
        mergeBlock(sample + ((<usize>c * <usize>S + <usize>s) << 2), rows, len, rowStride, meanP, m2P, c, na, 1.0 / nb);
      }
    }
  }
}

// Blocks of channel c's rows in k consecutive samples (at most BLOCK/16 values per lane,
// so fewer samples than a gathered block), but samples are read whole, in memory order:
// each row's sums go into its channel's lanes (an f32x4 of Σd and one of Σd² in the
// scratch), which are merged after every k samples. Channels [c0, c1), CHUNK at a time
// (reading parts of samples is slower, but C > CHUNK with short rows is rare).
function planarStatsInOrder(x: usize, N: i32, C: i32, S: i32, meanP: usize, m2P: usize, scratch: usize, c0: i32, c1: i32): void {
  const rowStride = <usize>C * <usize>S << 2;
  // A row adds ⌈S/4⌉ values to each lane; a lane may add BLOCK/16.
  const k = max(1, (BLOCK >> 4) / ((S + 3) >> 2));
  const shiftP = scratch + LANE_SHIFT, dP = scratch + LANE_D, qP = scratch + LANE_Q;
  for (let first = c0; first < c1; first += CHUNK) {
    const W = min(CHUNK, c1 - first);
    for (let n0 = 0; n0 < N; n0 += k) {
      const rows = min(k, N - n0);
      const na = <f64>n0 * <f64>S, nb = <f64>rows * <f64>S;
      setWeights(na, nb);
      const block = x + <usize>n0 * rowStride + (<usize>first * <usize>S << 2);
      for (let c = 0; c < W; c++) {
        store<f32>(shiftP + (<usize>c << 2), nextShift(block + (<usize>c * <usize>S << 2), S, meanP, m2P, first + c, na));
      }
      memory.fill(dP, 0, <usize>W << 4);
      memory.fill(qP, 0, <usize>W << 4);
      const shifted = anyNonZero(shiftP, W);
      if (ASC_FEATURE_SIMD && splatRows(S)) {
        if (S == 8) {
          if (shifted) rowsInOrder8Shifted(block, rows, rowStride, W, shiftP, dP, qP);
          else rowsInOrder8Unshifted(block, rows, rowStride, W, shiftP, dP, qP);
        } else {
          if (shifted) rowsInOrder12Shifted(block, rows, rowStride, W, shiftP, dP, qP);
          else rowsInOrder12Unshifted(block, rows, rowStride, W, shiftP, dP, qP);
        }
      } else if (shifted) rowsInOrderShifted(block, rows, rowStride, W, S, shiftP, dP, qP);
      else rowsInOrderUnshifted(block, rows, rowStride, W, S, shiftP, dP, qP);
      const invNb = 1.0 / nb;
      for (let c = 0; c < W; c++) {
        const d = lanesTotal(dP + (<usize>c << 4)), q = lanesTotal(qP + (<usize>c << 4));
        settleBlock(block + (<usize>c * <usize>S << 2), rows, S, rowStride, meanP, m2P, first + c, invNb, load<f32>(shiftP + (<usize>c << 2)), d, q);
      }
    }
  }
}

// Rows of 8 and of 12 values each get their own copy (see MIN_SPLAT_ROW).
function rowsInOrder8Shifted(block: usize, rows: i32, rowStride: usize, W: i32, shiftP: usize, dP: usize, qP: usize): void {
  rowsInOrderSplat(block, rows, rowStride, W, 8, shiftP, dP, qP, true);
}

function rowsInOrder8Unshifted(block: usize, rows: i32, rowStride: usize, W: i32, shiftP: usize, dP: usize, qP: usize): void {
  rowsInOrderSplat(block, rows, rowStride, W, 8, shiftP, dP, qP, false);
}

function rowsInOrder12Shifted(block: usize, rows: i32, rowStride: usize, W: i32, shiftP: usize, dP: usize, qP: usize): void {
  rowsInOrderSplat(block, rows, rowStride, W, 12, shiftP, dP, qP, true);
}

function rowsInOrder12Unshifted(block: usize, rows: i32, rowStride: usize, W: i32, shiftP: usize, dP: usize, qP: usize): void {
  rowsInOrderSplat(block, rows, rowStride, W, 12, shiftP, dP, qP, false);
}

// rowsInOrder for S = 8 or 12, two channels at a time.
// @ts-ignore: decorator
@inline
function rowsInOrderSplat(block: usize, rows: i32, rowStride: usize, W: i32, S: i32, shiftP: usize, dP: usize, qP: usize, centred: bool): void {
  const row = <usize>S << 2;
  for (let r = 0; r < rows; r++) {
    let p = block + <usize>r * rowStride, c = 0;
    for (; c + 2 <= W; c += 2, p += row << 1) {
      splatRowSums(p, S, shiftP + (<usize>c << 2), dP + (<usize>c << 4), qP + (<usize>c << 4), centred);
      splatRowSums(p + row, S, shiftP + (<usize>c << 2) + 4, dP + (<usize>c << 4) + 16, qP + (<usize>c << 4) + 16, centred);
    }
    if (c < W) splatRowSums(p, S, shiftP + (<usize>c << 2), dP + (<usize>c << 4), qP + (<usize>c << 4), centred);
  }
}

// rowSumsInto for one channel's row of 8 or 12 values, its shift at shiftAt splat.
// @ts-ignore: decorator
@inline
function splatRowSums(p: usize, S: i32, shiftAt: usize, dAt: usize, qAt: usize, centred: bool): void {
  const m = centred ? v128.load32_splat(shiftAt) : f32x4.splat(0);
  const x0 = about(v128.load(p), m, centred), x1 = about(v128.load(p, 16), m, centred);
  let d = f32x4.add(x0, x1), q = f32x4.add(f32x4.mul(x0, x0), f32x4.mul(x1, x1));
  if (S > 8) {
    const x2 = about(v128.load(p, 32), m, centred);
    d = f32x4.add(d, x2);
    q = f32x4.add(q, f32x4.mul(x2, x2));
  }
  v128.store(dAt, f32x4.add(v128.load(dAt), d));
  v128.store(qAt, f32x4.add(v128.load(qAt), q));
}

function rowsInOrderShifted(block: usize, rows: i32, rowStride: usize, W: i32, S: i32, shiftP: usize, dP: usize, qP: usize): void {
  rowsInOrder(block, rows, rowStride, W, S, shiftP, dP, qP, true);
}

function rowsInOrderUnshifted(block: usize, rows: i32, rowStride: usize, W: i32, S: i32, shiftP: usize, dP: usize, qP: usize): void {
  rowsInOrder(block, rows, rowStride, W, S, shiftP, dP, qP, false);
}

// The rows of W channels in `rows` samples from `block`, each into its channel's lanes.
// @ts-ignore: decorator
@inline
function rowsInOrder(block: usize, rows: i32, rowStride: usize, W: i32, S: i32, shiftP: usize, dP: usize, qP: usize, centred: bool): void {
  for (let r = 0; r < rows; r++) {
    const sample = block + <usize>r * rowStride;
    for (let c = 0; c < W; c++) {
      const p = sample + (<usize>c * <usize>S << 2);
      rowSumsInto(p, S, load<f32>(shiftP + (<usize>c << 2)), dP + (<usize>c << 4), qP + (<usize>c << 4), centred);
    }
  }
}

// Adds Σ(x − shift) and Σ(x − shift)² over one row of `len` values into the lanes at dAt
// and qAt (lane 0 alone in the scalar build).
// @ts-ignore: decorator
@inline function rowSumsInto(p: usize, len: i32, shift: f32, dAt: usize, qAt: usize, centred: bool): void {
  let i = 0, tailD: f32 = 0, tailQ: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    // Two chains, not four: rows are short, and the next channel's row runs alongside.
    const m = f32x4.splat(shift);
    let d0 = v128.load(dAt), q0 = v128.load(qAt), d1 = f32x4.splat(0), q1 = f32x4.splat(0);
    for (; i + 8 <= len; i += 8) {
      const a = p + (<usize>i << 2);
      const x0 = about(v128.load(a), m, centred);
      const x1 = about(v128.load(a, 16), m, centred);
      d0 = f32x4.add(d0, x0);
      d1 = f32x4.add(d1, x1);
      q0 = f32x4.add(q0, f32x4.mul(x0, x0));
      q1 = f32x4.add(q1, f32x4.mul(x1, x1));
    }
    if (i + 4 <= len) {
      const x0 = about(v128.load(p + (<usize>i << 2)), m, centred);
      d1 = f32x4.add(d1, x0);
      q1 = f32x4.add(q1, f32x4.mul(x0, x0));
      i += 4;
    }
    if (i < len) {
      for (; i < len; i++) {
        const v = aboutf(load<f32>(p + (<usize>i << 2)), shift, centred);
        tailD += v;
        tailQ += v * v;
      }
      d1 = plusLane0(d1, tailD);
      q1 = plusLane0(q1, tailQ);
    }
    v128.store(dAt, f32x4.add(d0, d1));
    v128.store(qAt, f32x4.add(q0, q1));
  } else {
    for (; i < len; i++) {
      const v = aboutf(load<f32>(p + (<usize>i << 2)), shift, centred);
      tailD += v;
      tailQ += v * v;
    }
    store<f32>(dAt, load<f32>(dAt) + tailD);
    store<f32>(qAt, load<f32>(qAt) + tailQ);
  }
}

// Lanes whose Σd² − (Σd)²/n would cancel (see the top of this file).
// @ts-ignore: decorator
@inline function farLanes(d: v128, q: v128, invNb: f32): v128 {
  return f32x4.gt(f32x4.mul(f32x4.mul(d, d), f32x4.splat(invNb)), f32x4.mul(q, f32x4.splat(0.5)));
}

// Merges four channels' block sums (about shift m) into meanP/m2P in f64x2.
// @ts-ignore: decorator
@inline function merge4(meanP: usize, m2P: usize, c: i32, m: v128, d: v128, q: v128, invNb: f64): void {
  const o = <usize>c << 3;
  mergeHalf(meanP + o, m2P + o, f64x2.promote_low_f32x4(m), f64x2.promote_low_f32x4(d), f64x2.promote_low_f32x4(q), invNb);
  const mh = v128.shuffle<f32>(m, m, 2, 3, 2, 3), dh = v128.shuffle<f32>(d, d, 2, 3, 2, 3), qh = v128.shuffle<f32>(q, q, 2, 3, 2, 3);
  mergeHalf(meanP + o + 16, m2P + o + 16, f64x2.promote_low_f32x4(mh), f64x2.promote_low_f32x4(dh), f64x2.promote_low_f32x4(qh), invNb);
}

// @ts-ignore: decorator
@inline function mergeHalf(pm: usize, pq: usize, shift: v128, d: v128, q: v128, invNb: f64): void {
  const dm = f64x2.mul(d, f64x2.splat(invNb));
  const mean = f64x2.add(shift, dm);
  const m2 = f64x2.max(f64x2.sub(q, f64x2.mul(d, dm)), f64x2.splat(0));
  const ma = v128.load(pm);
  const delta = f64x2.sub(mean, ma);
  // mergeInto's rule for a running mean that is ±Inf, lane by lane.
  const w = f64x2.splat(weightMean);
  const chan = f64x2.add(ma, f64x2.mul(delta, w));
  const weighted = f64x2.add(f64x2.mul(ma, f64x2.splat(1 - weightMean)), f64x2.mul(mean, w));
  v128.store(pm, v128.bitselect(chan, weighted, f64x2.eq(f64x2.sub(delta, delta), f64x2.splat(0))));
  v128.store(pq, f64x2.add(f64x2.add(v128.load(pq), m2), f64x2.mul(f64x2.mul(delta, delta), f64x2.splat(weightM2))));
}

// Interleaved x [R, C]: this part's row groups, or its chunks of channels where there is
// one group (parts.ts), each into its own mean and M2 (group 0 and chunks: mean[C], m2[C];
// group g: its slot of `groups`). f32_bn_stats_interleaved_merge then merges the groups.
function interleavedStats(x: usize, R: i32, C: i32, meanP: usize, m2P: usize, groups: usize, scratch: usize, part: i32, parts: i32): void {
  const together = !ASC_FEATURE_SIMD ? 1 : withinL2(<f64>R * <f64>C) ? 4 : C < MAX_TWO_ROWS_CHANNELS ? 2 : 1;
  tookPath(PATH_INTERLEAVED | togetherPath(together));
  const G = groupCount(R, C);
  if (G > 1) {
    const rows = groupRows(R), stride = <usize>C << 2;
    for (let g = unitStart(G, part, parts), end = unitStart(G, part + 1, parts); g < end; g++) {
      const slot = groupSlot(groups, C, g), r0 = g * rows;
      const mean = g == 0 ? meanP : slot, m2 = g == 0 ? m2P : slot + (<usize>C << 3);
      statsChain(x + <usize>r0 * stride, min(rows, R - r0), C, 0, C, mean, m2, scratch, together);
    }
    return;
  }
  // Whole chunks: resumFarColumns decides per chunk how to sum far columns again.
  partChannels(C, CHUNK, CHUNK, part, parts);
  for (let c0 = partFirst; c0 < partEnd; c0 += CHUNK) {
    statsChain(x, R, C, c0, min(CHUNK, partEnd - c0), meanP, m2P, scratch, together);
  }
}

// Channels [c0, c0 + W) of `R` interleaved rows as one chain of MAX_BLOCK_ROWS blocks, each
// merged into the f64 mean and m2 arrays (indexed by channel) as it ends.
function statsChain(x: usize, R: i32, C: i32, c0: i32, W: i32, meanP: usize, m2P: usize, scratch: usize, together: i32): void {
  const bytes = <usize>W << 2, stride = <usize>C << 2;
  const shiftP = scratch + COLUMN_SHIFT, dP = scratch + COLUMN_D, qP = scratch + COLUMN_Q;
  const mean = meanP + (<usize>c0 << 3), m2 = m2P + (<usize>c0 << 3);
  memory.fill(mean, 0, <usize>W << 3);
  memory.fill(m2, 0, <usize>W << 3);
  for (let r = 0; r < R; r += MAX_BLOCK_ROWS) {
    const rows = min(MAX_BLOCK_ROWS, R - r);
    const block = x + <usize>r * stride + (<usize>c0 << 2);
    const na = <f64>r, nb = <f64>rows;
    setWeights(na, nb);
    const invNb = 1.0 / nb;
    if (r == 0) pilotShifts(block, min(rows, PILOT), W, stride, shiftP);
    else meanShifts(W, mean, shiftP);
    memory.fill(dP, 0, bytes);
    memory.fill(qP, 0, bytes);
    columnSums(block, rows, W, stride, shiftP, dP, qP, together);
    resumFarColumns(block, rows, W, stride, invNb, shiftP, dP, qP, together);
    mergeColumns(W, invNb, shiftP, dP, qP, mean, m2, block, rows, stride);
  }
}

// Merges groups 1.. of interleaved [R, C] into group 0's mean and m2, in order, for
// channels [c0, c1).
export function mergeGroupStats(R: i32, C: i32, meanP: usize, m2P: usize, groups: usize, c0: i32, c1: i32): void {
  const G = groupCount(R, C), rows = groupRows(R);
  for (let g = 1; g < G; g++) {
    const slot = groupSlot(groups, C, g), m2Slot = slot + (<usize>C << 3);
    setWeights(<f64>(g * rows), <f64>min(rows, R - g * rows));
    for (let c = c0; c < c1; c++) {
      const o = <usize>c << 3;
      mergeInto(meanP, m2P, c, load<f64>(slot + o), load<f64>(m2Slot + o));
    }
  }
}

// Merges every column's block sums into the f64 mean and m2 arrays; the block (`rows` rows
// at `block`) is read again only for a column whose f32 sums are not finite.
function mergeColumns(W: i32, invNb: f64, shiftP: usize, dP: usize, qP: usize, mean: usize, m2: usize, block: usize, rows: i32, stride: usize): void {
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    for (; c + 4 <= W; c += 4) {
      const o = <usize>c << 2;
      const d = v128.load(dP + o), q = v128.load(qP + o);
      if (i32x4.all_true(v128.and(f32x4.eq(f32x4.sub(d, d), zero), f32x4.eq(f32x4.sub(q, q), zero)))) {
        merge4(mean, m2, c, v128.load(shiftP + o), d, q, invNb);
      } else {
        for (let i = 0; i < 4; i++) mergeColumn(c + i, invNb, shiftP, dP, qP, mean, m2, block, rows, stride);
      }
    }
  }
  for (; c < W; c++) mergeColumn(c, invNb, shiftP, dP, qP, mean, m2, block, rows, stride);
}

function mergeColumn(c: i32, invNb: f64, shiftP: usize, dP: usize, qP: usize, mean: usize, m2: usize, block: usize, rows: i32, stride: usize): void {
  const o = <usize>c << 2;
  let shift = load<f32>(shiftP + o);
  let d = <f64>load<f32>(dP + o), q = <f64>load<f32>(qP + o);
  if (!isFinite(d) || !isFinite(q)) {
    if (!isFinite(shift)) shift = 0; // as in settleBlock
    d = centredSums64(block + o, rows, 1, stride, shift);
    q = sumSquares;
  }
  const dm = d * invNb;
  mergeInto(mean, m2, c, <f64>shift + dm, max(q - d * dm, 0));
}

// shift[c] = mean of the first k rows of column c (each term scaled first: no overflow).
function pilotShifts(p: usize, k: i32, W: i32, stride: usize, shiftP: usize): void {
  const inv = <f32>1 / <f32>k;
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    const vinv = f32x4.splat(inv);
    for (; c + 4 <= W; c += 4) {
      let s = f32x4.splat(0), q = p + (<usize>c << 2);
      for (let r = 0; r < k; r++, q += stride) s = f32x4.add(s, f32x4.mul(v128.load(q), vinv));
      v128.store(shiftP + (<usize>c << 2), s);
    }
  }
  for (; c < W; c++) {
    let s: f32 = 0, q = p + (<usize>c << 2);
    for (let r = 0; r < k; r++, q += stride) s += load<f32>(q) * inv;
    store<f32>(shiftP + (<usize>c << 2), s);
  }
}

// shift[c] = f32(mean[c]).
function meanShifts(W: i32, mean: usize, shiftP: usize): void {
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 4 <= W; c += 4) {
      const q = mean + (<usize>c << 3);
      v128.store(shiftP + (<usize>c << 2), v128.shuffle<f32>(f32x4.demote_f64x2_zero(v128.load(q)), f32x4.demote_f64x2_zero(v128.load(q, 16)), 0, 1, 4, 5));
    }
  }
  for (; c < W; c++) store<f32>(shiftP + (<usize>c << 2), <f32>load<f64>(mean + (<usize>c << 3)));
}

// d[c] += Σ(x − shift[c]), q[c] += Σ(x − shift[c])² down `rows` rows of W columns,
// `together` (1, 2 or 4) rows at a time: rows taken together are added to each other first
// and share one load and store of the sums. Where every shift is 0 the subtraction is
// skipped (x − 0 is x: the same bits), as in centredSums.
function columnSums(p: usize, rows: i32, W: i32, stride: usize, shiftP: usize, dP: usize, qP: usize, together: i32): void {
  if (anyNonZero(shiftP, W)) columnSumsShifted(p, rows, W, stride, shiftP, dP, qP, together);
  else columnSumsUnshifted(p, rows, W, stride, shiftP, dP, qP, together);
}

function columnSumsShifted(p: usize, rows: i32, W: i32, stride: usize, shiftP: usize, dP: usize, qP: usize, together: i32): void {
  columnSumsAbout(p, rows, W, stride, shiftP, dP, qP, together, true);
}

function columnSumsUnshifted(p: usize, rows: i32, W: i32, stride: usize, shiftP: usize, dP: usize, qP: usize, together: i32): void {
  columnSumsAbout(p, rows, W, stride, shiftP, dP, qP, together, false);
}

// @ts-ignore: decorator
@inline
function columnSumsAbout(p: usize, rows: i32, W: i32, stride: usize, shiftP: usize, dP: usize, qP: usize, together: i32, centred: bool): void {
  let r = 0;
  if (ASC_FEATURE_SIMD && together == 4) {
    const W4 = W & ~3;
    for (; r + 4 <= rows; r += 4, p += stride << 2) {
      for (let c = 0; c < W4; c += 4) {
        const o = <usize>c << 2, a = p + o;
        const m = centred ? v128.load(shiftP + o) : f32x4.splat(0);
        const x0 = about(v128.load(a), m, centred);
        const x1 = about(v128.load(a + stride), m, centred);
        const x2 = about(v128.load(a + (stride << 1)), m, centred);
        const x3 = about(v128.load(a + stride * 3), m, centred);
        v128.store(dP + o, f32x4.add(v128.load(dP + o), f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3))));
        const q01 = f32x4.add(f32x4.mul(x0, x0), f32x4.mul(x1, x1));
        const q23 = f32x4.add(f32x4.mul(x2, x2), f32x4.mul(x3, x3));
        v128.store(qP + o, f32x4.add(v128.load(qP + o), f32x4.add(q01, q23)));
      }
      for (let i = 0; i < 4; i++) columnSumsRow(p + stride * i, W4, W, shiftP, dP, qP, centred);
    }
  } else if (ASC_FEATURE_SIMD && together == 2) {
    const W8 = W & ~7;
    for (; r + 2 <= rows; r += 2, p += stride << 1) {
      for (let c = 0; c < W8; c += 8) {
        const o = <usize>c << 2, a = p + o;
        const m0 = centred ? v128.load(shiftP + o) : f32x4.splat(0), m1 = centred ? v128.load(shiftP + o, 16) : f32x4.splat(0);
        const x0 = about(v128.load(a), m0, centred), x1 = about(v128.load(a, 16), m1, centred);
        const y0 = about(v128.load(a + stride), m0, centred), y1 = about(v128.load(a + stride, 16), m1, centred);
        v128.store(dP + o, f32x4.add(v128.load(dP + o), f32x4.add(x0, y0)));
        v128.store(dP + o, f32x4.add(v128.load(dP + o, 16), f32x4.add(x1, y1)), 16);
        v128.store(qP + o, f32x4.add(v128.load(qP + o), f32x4.add(f32x4.mul(x0, x0), f32x4.mul(y0, y0))));
        v128.store(qP + o, f32x4.add(v128.load(qP + o, 16), f32x4.add(f32x4.mul(x1, x1), f32x4.mul(y1, y1))), 16);
      }
      columnSumsRow(p, W8, W, shiftP, dP, qP, centred);
      columnSumsRow(p + stride, W8, W, shiftP, dP, qP, centred);
    }
  }
  for (; r < rows; r++, p += stride) columnSumsRow(p, 0, W, shiftP, dP, qP, centred);
}

// Columns [c0, W) of one row.
// @ts-ignore: decorator
@inline
function columnSumsRow(p: usize, c0: i32, W: i32, shiftP: usize, dP: usize, qP: usize, centred: bool): void {
  let c = c0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 16 <= W; c += 16) {
      const o = <usize>c << 2, k = shiftP + o;
      const x0 = aboutAt(v128.load(p + o), k, centred);
      const x1 = aboutAt(v128.load(p + o, 16), k + 16, centred);
      const x2 = aboutAt(v128.load(p + o, 32), k + 32, centred);
      const x3 = aboutAt(v128.load(p + o, 48), k + 48, centred);
      v128.store(dP + o, f32x4.add(v128.load(dP + o), x0));
      v128.store(dP + o, f32x4.add(v128.load(dP + o, 16), x1), 16);
      v128.store(dP + o, f32x4.add(v128.load(dP + o, 32), x2), 32);
      v128.store(dP + o, f32x4.add(v128.load(dP + o, 48), x3), 48);
      v128.store(qP + o, f32x4.add(v128.load(qP + o), f32x4.mul(x0, x0)));
      v128.store(qP + o, f32x4.add(v128.load(qP + o, 16), f32x4.mul(x1, x1)), 16);
      v128.store(qP + o, f32x4.add(v128.load(qP + o, 32), f32x4.mul(x2, x2)), 32);
      v128.store(qP + o, f32x4.add(v128.load(qP + o, 48), f32x4.mul(x3, x3)), 48);
    }
    for (; c + 4 <= W; c += 4) {
      const o = <usize>c << 2;
      const x0 = aboutAt(v128.load(p + o), shiftP + o, centred);
      v128.store(dP + o, f32x4.add(v128.load(dP + o), x0));
      v128.store(qP + o, f32x4.add(v128.load(qP + o), f32x4.mul(x0, x0)));
    }
  }
  for (; c < W; c++) {
    const o = <usize>c << 2;
    const v = aboutAtf(load<f32>(p + o), shiftP + o, centred);
    store<f32>(dP + o, load<f32>(dP + o) + v);
    store<f32>(qP + o, load<f32>(qP + o) + v * v);
  }
}

// Moves the shift of every channel whose Σd² − (Σd)²/n would cancel (see the top of this
// file) to its block mean and sums that column again. A few such columns are summed one
// by one; when more than one in eight moved (an offset jump across all channels), the
// whole block is summed again row by row.
function resumFarColumns(block: usize, rows: i32, W: i32, stride: usize, invNb: f64, shiftP: usize, dP: usize, qP: usize, together: i32): void {
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    let far = f32x4.splat(0);
    for (; c + 4 <= W; c += 4) {
      const o = <usize>c << 2;
      far = v128.or(far, farLanes(v128.load(dP + o), v128.load(qP + o), <f32>invNb));
    }
    if (v128.any_true(far)) c = 0;
  }
  let moved = 0;
  for (let i = c; i < W; i++) {
    const o = <usize>i << 2;
    const d = <f64>load<f32>(dP + o);
    if (d * d * invNb > 0.5 * <f64>load<f32>(qP + o)) moved++;
  }
  if (moved == 0) return;
  const all = moved > W >> 3;
  for (; c < W; c++) {
    const o = <usize>c << 2;
    const d = <f64>load<f32>(dP + o);
    if (d * d * invNb > 0.5 * <f64>load<f32>(qP + o)) {
      const shift = <f32>(<f64>load<f32>(shiftP + o) + d * invNb);
      store<f32>(shiftP + o, shift);
      if (!all) {
        store<f32>(dP + o, <f32>centredSums(block + o, rows, 1, stride, shift));
        store<f32>(qP + o, <f32>sumSquares);
      }
    }
  }
  if (all) {
    memory.fill(dP, 0, <usize>W << 2);
    memory.fill(qP, 0, <usize>W << 2);
    columnSums(block, rows, W, stride, shiftP, dP, qP, together);
  }
}

// Statistics alone, for callers that merge them across workers (sync batch norm): one
// phase. M2 = Σ(x − mean)², not the variance.
export function f32_bn_stats_planar(x: usize, N: i32, C: i32, S: i32, mean: usize, m2: usize, scratch: usize, part: i32, parts: i32): void {
  planarStats(x, N, C, S, mean, m2, scratch, part, parts);
}

// The first phase of interleaved statistics alone: this part's groups or chunks. The second,
// f32_bn_stats_interleaved_merge, merges the groups per channel.
export function f32_bn_stats_interleaved(x: usize, R: i32, C: i32, mean: usize, m2: usize, groups: usize, scratch: usize, part: i32, parts: i32): void {
  interleavedStats(x, R, C, mean, m2, groups, scratch, part, parts);
}

export function f32_bn_stats_interleaved_merge(R: i32, C: i32, mean: usize, m2: usize, groups: usize, scratch: usize, part: i32, parts: i32): void {
  partChannelsEach(C, part, parts);
  mergeGroupStats(R, C, mean, m2, groups, partFirst, partEnd);
}
