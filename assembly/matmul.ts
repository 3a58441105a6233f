// Linear layer kernels, row-major f32, PyTorch's weight layout W[out, in]:
//   forward    y[M,N]  = x[M,K]·W[N,K]ᵀ + b[N]       f32_matmul_nt
//   input grad dx[M,K] = dy[M,N]·W[N,K]               f32_matmul_nn
//   weight grad dW[N,K] += dy[M,N]ᵀ·x[M,K]            f32_matmul_tn_acc
//   bias grad  db[N]  += Σ_m dy[m,N]                  f32_sum_rows_acc
// M is the batch, K the input features, N the output features. Gradients accumulate, as
// PyTorch's do, so zeroGrad() decides when they start over.
//
// Every loop keeps the contiguous axis innermost so the v128 body reads whole vectors:
// forward dots rows of x with rows of W (both contiguous along K), the other two are
// row updates along K. Register tiles reuse each loaded vector several times: the
// forward holds 2 rows of x against 4 rows of W (8 accumulators); the row updates fold 4
// scaled source rows into one destination row per load/store of it.
// Sums stay f32 like every BLAS sgemm: K is at most a few thousand here.

import { laneSum } from "./vec";

// @ts-ignore: decorator
@inline function biasAt(b: usize, n: i32): f32 {
  return b ? load<f32>(b + (<usize>n << 2)) : 0;
}

// Σ_k a[k]·w[k] over K values.
function dot(a: usize, w: usize, K: i32): f32 {
  let k = 0;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0);
    for (; k + 8 <= K; k += 8) {
      const o = <usize>k << 2;
      acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(w + o)));
      acc1 = f32x4.add(acc1, f32x4.mul(v128.load(a + o, 16), v128.load(w + o, 16)));
    }
    s = laneSum(f32x4.add(acc0, acc1));
  }
  for (; k < K; k++) s += load<f32>(a + (<usize>k << 2)) * load<f32>(w + (<usize>k << 2));
  return s;
}

// y[m, n..n+3] and y[m+1, n..n+3] for rows a0, a1 of x against rows w..w+3 of W.
function tile2x4(a0: usize, a1: usize, w: usize, K: i32, y0: usize, y1: usize, b: usize, n: i32): void {
  const rowW = <usize>K << 2;
  const w0 = w, w1 = w + rowW, w2 = w1 + rowW, w3 = w2 + rowW;
  let k = 0;
  let s00: f32 = 0, s01: f32 = 0, s02: f32 = 0, s03: f32 = 0;
  let s10: f32 = 0, s11: f32 = 0, s12: f32 = 0, s13: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
    for (; k + 4 <= K; k += 4) {
      const o = <usize>k << 2;
      const x0 = v128.load(a0 + o), x1 = v128.load(a1 + o);
      const v0 = v128.load(w0 + o), v1 = v128.load(w1 + o), v2 = v128.load(w2 + o), v3 = v128.load(w3 + o);
      c00 = f32x4.add(c00, f32x4.mul(x0, v0)); c01 = f32x4.add(c01, f32x4.mul(x0, v1));
      c02 = f32x4.add(c02, f32x4.mul(x0, v2)); c03 = f32x4.add(c03, f32x4.mul(x0, v3));
      c10 = f32x4.add(c10, f32x4.mul(x1, v0)); c11 = f32x4.add(c11, f32x4.mul(x1, v1));
      c12 = f32x4.add(c12, f32x4.mul(x1, v2)); c13 = f32x4.add(c13, f32x4.mul(x1, v3));
    }
    s00 = laneSum(c00); s01 = laneSum(c01); s02 = laneSum(c02); s03 = laneSum(c03);
    s10 = laneSum(c10); s11 = laneSum(c11); s12 = laneSum(c12); s13 = laneSum(c13);
  }
  for (; k < K; k++) {
    const o = <usize>k << 2;
    const x0 = load<f32>(a0 + o), x1 = load<f32>(a1 + o);
    const v0 = load<f32>(w0 + o), v1 = load<f32>(w1 + o), v2 = load<f32>(w2 + o), v3 = load<f32>(w3 + o);
    s00 += x0 * v0; s01 += x0 * v1; s02 += x0 * v2; s03 += x0 * v3;
    s10 += x1 * v0; s11 += x1 * v1; s12 += x1 * v2; s13 += x1 * v3;
  }
  const b0 = biasAt(b, n), b1 = biasAt(b, n + 1), b2 = biasAt(b, n + 2), b3 = biasAt(b, n + 3);
  store<f32>(y0, s00 + b0); store<f32>(y0, s01 + b1, 4); store<f32>(y0, s02 + b2, 8); store<f32>(y0, s03 + b3, 12);
  store<f32>(y1, s10 + b0); store<f32>(y1, s11 + b1, 4); store<f32>(y1, s12 + b2, 8); store<f32>(y1, s13 + b3, 12);
}

// y = x·Wᵀ + b; b = 0 (null) means no bias.
export function f32_matmul_nt(x: usize, w: usize, b: usize, y: usize, M: i32, K: i32, N: i32): void {
  const rowX = <usize>K << 2, rowY = <usize>N << 2;
  let m = 0;
  for (; m + 2 <= M; m += 2) {
    const a0 = x + <usize>m * rowX, a1 = a0 + rowX;
    const y0 = y + <usize>m * rowY, y1 = y0 + rowY;
    let n = 0;
    for (; n + 4 <= N; n += 4) {
      tile2x4(a0, a1, w + <usize>n * rowX, K, y0 + (<usize>n << 2), y1 + (<usize>n << 2), b, n);
    }
    for (; n < N; n++) {
      const wn = w + <usize>n * rowX, bn = biasAt(b, n);
      store<f32>(y0 + (<usize>n << 2), dot(a0, wn, K) + bn);
      store<f32>(y1 + (<usize>n << 2), dot(a1, wn, K) + bn);
    }
  }
  for (; m < M; m++) {
    const a = x + <usize>m * rowX, ym = y + <usize>m * rowY;
    for (let n = 0; n < N; n++) store<f32>(ym + (<usize>n << 2), dot(a, w + <usize>n * rowX, K) + biasAt(b, n));
  }
}

// dst[0..K) (+)= s0·r0 + s1·r1 + s2·r2 + s3·r3; `add` false overwrites dst.
function rowUpdate4(dst: usize, r0: usize, r1: usize, r2: usize, r3: usize, s0: f32, s1: f32, s2: f32, s3: f32, K: i32, add: bool): void {
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    const v0 = f32x4.splat(s0), v1 = f32x4.splat(s1), v2 = f32x4.splat(s2), v3 = f32x4.splat(s3);
    for (; k + 4 <= K; k += 4) {
      const o = <usize>k << 2;
      let acc = f32x4.add(
        f32x4.add(f32x4.mul(v128.load(r0 + o), v0), f32x4.mul(v128.load(r1 + o), v1)),
        f32x4.add(f32x4.mul(v128.load(r2 + o), v2), f32x4.mul(v128.load(r3 + o), v3)),
      );
      if (add) acc = f32x4.add(v128.load(dst + o), acc);
      v128.store(dst + o, acc);
    }
  }
  for (; k < K; k++) {
    const o = <usize>k << 2;
    let acc = (load<f32>(r0 + o) * s0 + load<f32>(r1 + o) * s1) + (load<f32>(r2 + o) * s2 + load<f32>(r3 + o) * s3);
    if (add) acc += load<f32>(dst + o);
    store<f32>(dst + o, acc);
  }
}

// dst[0..K) (+)= s·r.
function rowUpdate1(dst: usize, r: usize, s: f32, K: i32, add: bool): void {
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    const v = f32x4.splat(s);
    for (; k + 4 <= K; k += 4) {
      const o = <usize>k << 2;
      let acc = f32x4.mul(v128.load(r + o), v);
      if (add) acc = f32x4.add(v128.load(dst + o), acc);
      v128.store(dst + o, acc);
    }
  }
  for (; k < K; k++) {
    const o = <usize>k << 2;
    let acc = load<f32>(r + o) * s;
    if (add) acc += load<f32>(dst + o);
    store<f32>(dst + o, acc);
  }
}

// dx = dy·W: row m of dx is Σ_n dy[m,n]·W[n,:], four rows of W per pass over dx[m].
export function f32_matmul_nn(dy: usize, w: usize, dx: usize, M: i32, N: i32, K: i32): void {
  const rowW = <usize>K << 2, rowD = <usize>N << 2;
  for (let m = 0; m < M; m++) {
    const g = dy + <usize>m * rowD, out = dx + <usize>m * rowW;
    if (N == 0) {
      memory.fill(out, 0, rowW);
      continue;
    }
    let n = 0;
    for (; n + 4 <= N; n += 4) {
      const o = <usize>n << 2, r = w + <usize>n * rowW;
      rowUpdate4(out, r, r + rowW, r + 2 * rowW, r + 3 * rowW,
        load<f32>(g + o), load<f32>(g + o, 4), load<f32>(g + o, 8), load<f32>(g + o, 12), K, n > 0);
    }
    for (; n < N; n++) rowUpdate1(out, w + <usize>n * rowW, load<f32>(g + (<usize>n << 2)), K, n > 0);
  }
}

// dW += dyᵀ·x: row n of dW gains Σ_m dy[m,n]·x[m,:], four rows of x per pass over dW[n].
export function f32_matmul_tn_acc(dy: usize, x: usize, dw: usize, M: i32, N: i32, K: i32): void {
  const rowX = <usize>K << 2, rowD = <usize>N << 2;
  for (let n = 0; n < N; n++) {
    const out = dw + <usize>n * rowX, g = dy + (<usize>n << 2);
    let m = 0;
    for (; m + 4 <= M; m += 4) {
      const r = x + <usize>m * rowX, gm = g + <usize>m * rowD;
      rowUpdate4(out, r, r + rowX, r + 2 * rowX, r + 3 * rowX,
        load<f32>(gm), load<f32>(gm + rowD), load<f32>(gm + 2 * rowD), load<f32>(gm + 3 * rowD), K, true);
    }
    for (; m < M; m++) rowUpdate1(out, x + <usize>m * rowX, load<f32>(g + <usize>m * rowD), K, true);
  }
}

// db += Σ_m dy[m,:], vectorized across N.
export function f32_sum_rows_acc(dy: usize, db: usize, M: i32, N: i32): void {
  const rowD = <usize>N << 2;
  let n = 0;
  if (ASC_FEATURE_SIMD) {
    for (; n + 4 <= N; n += 4) {
      const o = <usize>n << 2;
      let acc = f32x4.splat(0);
      for (let m = 0; m < M; m++) acc = f32x4.add(acc, v128.load(dy + <usize>m * rowD + o));
      v128.store(db + o, f32x4.add(v128.load(db + o), acc));
    }
  }
  for (; n < N; n++) {
    const o = <usize>n << 2;
    let acc: f32 = 0;
    for (let m = 0; m < M; m++) acc += load<f32>(dy + <usize>m * rowD + o);
    store<f32>(db + o, load<f32>(db + o) + acc);
  }
}
