// Per-channel batch statistics: count, mean and M2 = Σ(x − mean)².
//
// A block of at most BLOCK values stays in L1 between two passes. Pass 1 sums in f32 to
// get a shift m ≈ block mean; pass 2 sums d = x − m and d² in f32. The values d are small
// and centred, so nothing cancels even when the data sits on a large offset (mean 1e4,
// std 1, where E[x²] − E[x]² in f32 is garbage). Exactly:
//   block mean = m + Σd/n,   block M2 = Σd² − (Σd)²/n.
// Blocks merge in f64 by Chan et al.'s formula, so a channel of 10^7 values does not
// drift the way a single f32 running sum would:
//   δ = mean_b − mean_a,  mean = mean_a + δ·n_b/n,  M2 = M2_a + M2_b + δ²·n_a·n_b/n.
// Each f32 lane adds at most BLOCK/16 (planar) or MAX_BLOCK_ROWS (interleaved) values.

// Values per planar block: 8 KiB, so pass 2 reads from L1.
export const BLOCK: i32 = 2048;
// Interleaved blocks span whole rows: about 64 KiB, so pass 2 reads from L2 ...
export const INTERLEAVED_BLOCK: i32 = 16384;
// ... and no f32 lane sums more than this many rows.
export const MAX_BLOCK_ROWS: i32 = 256;

// The second result of centredSums (pass 2 returns two sums).
let sumSquares: f64 = 0;

// Σx over `rows` rows of `len` contiguous values, rows `stride` bytes apart.
export function blockSum(p: usize, rows: i32, len: i32, stride: usize): f32 {
  let tail: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let r = 0; r < rows; r++, p += stride) {
      let i = 0;
      for (; i + 16 <= len; i += 16) {
        const q = p + (<usize>i << 2);
        a0 = f32x4.add(a0, v128.load(q));
        a1 = f32x4.add(a1, v128.load(q, 16));
        a2 = f32x4.add(a2, v128.load(q, 32));
        a3 = f32x4.add(a3, v128.load(q, 48));
      }
      for (; i + 4 <= len; i += 4) a0 = f32x4.add(a0, v128.load(p + (<usize>i << 2)));
      for (; i < len; i++) tail += load<f32>(p + (<usize>i << 2));
    }
    return laneSum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3))) + tail;
  } else {
    let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
    for (let r = 0; r < rows; r++, p += stride) {
      let i = 0;
      for (; i + 4 <= len; i += 4) {
        const q = p + (<usize>i << 2);
        a0 += load<f32>(q);
        a1 += load<f32>(q, 4);
        a2 += load<f32>(q, 8);
        a3 += load<f32>(q, 12);
      }
      for (; i < len; i++) tail += load<f32>(p + (<usize>i << 2));
    }
    return (a0 + a1) + (a2 + a3) + tail;
  }
}

// Returns Σ(x − shift); Σ(x − shift)² is left in sumSquares.
export function centredSums(p: usize, rows: i32, len: i32, stride: usize, shift: f32): f64 {
  let tailD: f32 = 0, tailQ: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    const m = f32x4.splat(shift);
    let d0 = f32x4.splat(0), d1 = f32x4.splat(0), q0 = f32x4.splat(0), q1 = f32x4.splat(0);
    for (let r = 0; r < rows; r++, p += stride) {
      let i = 0;
      for (; i + 8 <= len; i += 8) {
        const a = p + (<usize>i << 2);
        const x0 = f32x4.sub(v128.load(a), m);
        const x1 = f32x4.sub(v128.load(a, 16), m);
        d0 = f32x4.add(d0, x0);
        d1 = f32x4.add(d1, x1);
        q0 = f32x4.add(q0, f32x4.mul(x0, x0));
        q1 = f32x4.add(q1, f32x4.mul(x1, x1));
      }
      for (; i + 4 <= len; i += 4) {
        const x0 = f32x4.sub(v128.load(p + (<usize>i << 2)), m);
        d0 = f32x4.add(d0, x0);
        q0 = f32x4.add(q0, f32x4.mul(x0, x0));
      }
      for (; i < len; i++) {
        const x = load<f32>(p + (<usize>i << 2)) - shift;
        tailD += x;
        tailQ += x * x;
      }
    }
    sumSquares = <f64>laneSum(f32x4.add(q0, q1)) + <f64>tailQ;
    return <f64>laneSum(f32x4.add(d0, d1)) + <f64>tailD;
  } else {
    let d0: f32 = 0, d1: f32 = 0, q0: f32 = 0, q1: f32 = 0;
    for (let r = 0; r < rows; r++, p += stride) {
      let i = 0;
      for (; i + 2 <= len; i += 2) {
        const a = p + (<usize>i << 2);
        const x0 = load<f32>(a) - shift;
        const x1 = load<f32>(a, 4) - shift;
        d0 += x0;
        d1 += x1;
        q0 += x0 * x0;
        q1 += x1 * x1;
      }
      for (; i < len; i++) {
        const x = load<f32>(p + (<usize>i << 2)) - shift;
        tailD += x;
        tailQ += x * x;
      }
    }
    sumSquares = <f64>(q0 + q1) + <f64>tailQ;
    return <f64>(d0 + d1) + <f64>tailD;
  }
}

// @ts-ignore: decorator
@inline export function laneSum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// Chan's merge of a block (count nb, mean, m2) into channel c of the f64 arrays at
// meanP and m2P, which already hold `na` values.
// @ts-ignore: decorator
@inline export function mergeInto(meanP: usize, m2P: usize, c: i32, na: f64, nb: f64, mean: f64, m2: f64): void {
  const pm = meanP + (<usize>c << 3), pq = m2P + (<usize>c << 3);
  const n = na + nb;
  const ma = load<f64>(pm);
  const delta = mean - ma;
  store<f64>(pm, ma + delta * (nb / n));
  store<f64>(pq, load<f64>(pq) + m2 + delta * delta * (na * nb / n));
}

// One block of a channel: the two passes, then the merge.
function mergeBlock(p: usize, rows: i32, len: i32, stride: usize, meanP: usize, m2P: usize, c: i32, na: f64): void {
  const nb = <f64>rows * <f64>len;
  const shift = <f32>(<f64>blockSum(p, rows, len, stride) / nb);
  const d = centredSums(p, rows, len, stride, shift);
  const dm = d / nb;
  mergeInto(meanP, m2P, c, na, nb, <f64>shift + dm, max(sumSquares - d * dm, 0));
}

// Channel c of planar x [N, C, S] into mean[c], m2[c] (f64).
export function planarChannelStats(x: usize, N: i32, C: i32, S: i32, c: i32, meanP: usize, m2P: usize): void {
  store<f64>(meanP + (<usize>c << 3), 0);
  store<f64>(m2P + (<usize>c << 3), 0);
  const rowStride = <usize>C * <usize>S << 2;
  const base = x + (<usize>c * <usize>S << 2);
  let na: f64 = 0;
  if (S >= BLOCK) {
    for (let n = 0; n < N; n++) {
      const row = base + <usize>n * rowStride;
      for (let s = 0; s < S; s += BLOCK) {
        const len = min(BLOCK, S - s);
        mergeBlock(row + (<usize>s << 2), 1, len, rowStride, meanP, m2P, c, na);
        na += <f64>len;
      }
    }
  } else {
    // Short rows: one block gathers the same channel from several consecutive samples.
    const rowsPerBlock = BLOCK / S;
    for (let n = 0; n < N; n += rowsPerBlock) {
      const rows = min(rowsPerBlock, N - n);
      mergeBlock(base + <usize>n * rowStride, rows, S, rowStride, meanP, m2P, c, na);
      na += <f64>rows * <f64>S;
    }
  }
}

// Rows per interleaved block for C channels.
// @ts-ignore: decorator
@inline export function interleavedBlockRows(C: i32): i32 {
  return max(1, min(MAX_BLOCK_ROWS, INTERLEAVED_BLOCK / C));
}

// Every channel of interleaved x [R, C] into mean[C], m2[C] (f64). Four channels share a
// v128 lane each, walking down the rows of a block.
export function interleavedStats(x: usize, R: i32, C: i32, meanP: usize, m2P: usize): void {
  memory.fill(meanP, 0, <usize>C << 3);
  memory.fill(m2P, 0, <usize>C << 3);
  const stride = <usize>C << 2;
  const rowsPerBlock = interleavedBlockRows(C);
  for (let r = 0; r < R; r += rowsPerBlock) {
    const rows = min(rowsPerBlock, R - r);
    const na = <f64>r, nb = <f64>rows;
    const block = x + <usize>r * stride;
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      for (; c + 4 <= C; c += 4) {
        const p = block + (<usize>c << 2);
        let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
        let q = p, k = 0;
        for (; k + 2 <= rows; k += 2, q += stride << 1) {
          s0 = f32x4.add(s0, v128.load(q));
          s1 = f32x4.add(s1, v128.load(q + stride));
        }
        if (k < rows) s0 = f32x4.add(s0, v128.load(q));
        const m = f32x4.div(f32x4.add(s0, s1), f32x4.splat(<f32>rows));
        let d = f32x4.splat(0), sq = f32x4.splat(0);
        q = p;
        for (k = 0; k < rows; k++, q += stride) {
          const v = f32x4.sub(v128.load(q), m);
          d = f32x4.add(d, v);
          sq = f32x4.add(sq, f32x4.mul(v, v));
        }
        mergeLane(meanP, m2P, c, na, nb, f32x4.extract_lane(m, 0), f32x4.extract_lane(d, 0), f32x4.extract_lane(sq, 0));
        mergeLane(meanP, m2P, c + 1, na, nb, f32x4.extract_lane(m, 1), f32x4.extract_lane(d, 1), f32x4.extract_lane(sq, 1));
        mergeLane(meanP, m2P, c + 2, na, nb, f32x4.extract_lane(m, 2), f32x4.extract_lane(d, 2), f32x4.extract_lane(sq, 2));
        mergeLane(meanP, m2P, c + 3, na, nb, f32x4.extract_lane(m, 3), f32x4.extract_lane(d, 3), f32x4.extract_lane(sq, 3));
      }
    }
    for (; c < C; c++) mergeBlock(block + (<usize>c << 2), rows, 1, stride, meanP, m2P, c, na);
  }
}

// @ts-ignore: decorator
@inline function mergeLane(meanP: usize, m2P: usize, c: i32, na: f64, nb: f64, shift: f32, d: f32, sq: f32): void {
  const dm = <f64>d / nb;
  mergeInto(meanP, m2P, c, na, nb, <f64>shift + dm, max(<f64>sq - <f64>d * dm, 0));
}

// Statistics alone, for callers that merge them across workers (sync batch norm).
export function f32_bn_stats_planar(x: usize, N: i32, C: i32, S: i32, meanP: usize, m2P: usize): void {
  for (let c = 0; c < C; c++) planarChannelStats(x, N, C, S, c, meanP, m2P);
}

export function f32_bn_stats_interleaved(x: usize, R: i32, C: i32, meanP: usize, m2P: usize): void {
  interleavedStats(x, R, C, meanP, m2P);
}
