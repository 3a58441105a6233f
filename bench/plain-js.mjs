// Batch norm as a user would write it by hand in JavaScript: Float32Array in and out, a
// mean pass and a variance pass with Number (f64) sums, then the normalize pass; backward
// is one reduction pass and one elementwise pass. This is the "plain JS" peer of the
// benchmark, over the package's two layouts: planar [N, C, S] and interleaved [R, C].

function count(L) {
  return L.planar ? L.N * L.S : L.R;
}

/** Per-channel Σx and Σ(x − mean)² into mean (as the mean) and sq. */
function moments(x, L, mean, sq) {
  const n = count(L);
  mean.fill(0);
  sq.fill(0);
  if (L.planar) {
    for (let c = 0; c < L.C; c++) {
      let s = 0;
      for (let b = 0; b < L.N; b++) {
        const o = (b * L.C + c) * L.S;
        for (let i = o; i < o + L.S; i++) s += x[i];
      }
      const m = s / n;
      let q = 0;
      for (let b = 0; b < L.N; b++) {
        const o = (b * L.C + c) * L.S;
        for (let i = o; i < o + L.S; i++) q += (x[i] - m) * (x[i] - m);
      }
      mean[c] = m;
      sq[c] = q;
    }
  } else {
    for (let r = 0, i = 0; r < L.R; r++) for (let c = 0; c < L.C; c++, i++) mean[c] += x[i];
    for (let c = 0; c < L.C; c++) mean[c] /= n;
    for (let r = 0, i = 0; r < L.R; r++) for (let c = 0; c < L.C; c++, i++) sq[c] += (x[i] - mean[c]) * (x[i] - mean[c]);
  }
}

/** y = x·a[c] + b[c]. */
function affine(x, y, L, a, b) {
  if (L.planar) {
    for (let n = 0; n < L.N; n++) {
      for (let c = 0; c < L.C; c++) {
        const o = (n * L.C + c) * L.S, ac = a[c], bc = b[c];
        for (let i = o; i < o + L.S; i++) y[i] = x[i] * ac + bc;
      }
    }
  } else {
    for (let r = 0, i = 0; r < L.R; r++) for (let c = 0; c < L.C; c++, i++) y[i] = x[i] * a[c] + b[c];
  }
}

/** Scratch for one layer of C channels. */
export function workspace(C) {
  const f = () => new Float64Array(C);
  return { mean: f(), invstd: f(), sq: f(), a: f(), b: f(), proj: f(), meanDy: f() };
}

/** Training forward: batch mean and biased variance; running stats updated with the unbiased one. */
export function forwardTrain(x, y, L, p, momentum, eps, ws) {
  const n = count(L);
  moments(x, L, ws.mean, ws.sq);
  for (let c = 0; c < L.C; c++) {
    const invstd = 1 / Math.sqrt(ws.sq[c] / n + eps);
    ws.invstd[c] = invstd;
    p.runningMean[c] = (1 - momentum) * p.runningMean[c] + momentum * ws.mean[c];
    p.runningVar[c] = (1 - momentum) * p.runningVar[c] + momentum * ws.sq[c] / (n - 1);
    ws.a[c] = p.weight[c] * invstd;
    ws.b[c] = p.bias[c] - ws.mean[c] * ws.a[c];
  }
  affine(x, y, L, ws.a, ws.b);
}

export function forwardEval(x, y, L, p, eps, ws) {
  for (let c = 0; c < L.C; c++) {
    ws.a[c] = p.weight[c] / Math.sqrt(p.runningVar[c] + eps);
    ws.b[c] = p.bias[c] - p.runningMean[c] * ws.a[c];
  }
  affine(x, y, L, ws.a, ws.b);
}

/** Training backward with ws.mean, ws.invstd from forwardTrain; dγ, dβ accumulate into p. */
export function backward(dy, x, dx, L, p, ws) {
  const n = count(L);
  const sumDy = ws.sq, sumDyXmu = ws.b;
  sumDy.fill(0);
  sumDyXmu.fill(0);
  if (L.planar) {
    for (let b = 0; b < L.N; b++) {
      for (let c = 0; c < L.C; c++) {
        const o = (b * L.C + c) * L.S, m = ws.mean[c];
        let s = 0, d = 0;
        for (let i = o; i < o + L.S; i++) {
          s += dy[i];
          d += dy[i] * (x[i] - m);
        }
        sumDy[c] += s;
        sumDyXmu[c] += d;
      }
    }
  } else {
    for (let r = 0, i = 0; r < L.R; r++) {
      for (let c = 0; c < L.C; c++, i++) {
        sumDy[c] += dy[i];
        sumDyXmu[c] += dy[i] * (x[i] - ws.mean[c]);
      }
    }
  }
  const k = ws.a, proj = ws.proj, meanDy = ws.meanDy;
  for (let c = 0; c < L.C; c++) {
    const invstd = ws.invstd[c];
    p.biasGrad[c] += sumDy[c];
    p.weightGrad[c] += sumDyXmu[c] * invstd;
    k[c] = p.weight[c] * invstd;
    proj[c] = sumDyXmu[c] * invstd * invstd / n;
    meanDy[c] = sumDy[c] / n;
  }
  if (L.planar) {
    for (let b = 0; b < L.N; b++) {
      for (let c = 0; c < L.C; c++) {
        const o = (b * L.C + c) * L.S, m = ws.mean[c], kc = k[c], pc = proj[c], md = meanDy[c];
        for (let i = o; i < o + L.S; i++) dx[i] = (dy[i] - md - (x[i] - m) * pc) * kc;
      }
    }
  } else {
    for (let r = 0, i = 0; r < L.R; r++) {
      for (let c = 0; c < L.C; c++, i++) dx[i] = (dy[i] - meanDy[c] - (x[i] - ws.mean[c]) * proj[c]) * k[c];
    }
  }
}
