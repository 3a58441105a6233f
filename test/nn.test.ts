// batchnorm-wasm/nn on both builds: the matrix and nn kernels against f64 references,
// every layer's backward against central finite differences, a whole Sequential, the
// optimizer against PyTorch's update rule, and training on a small separable problem.
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/index.node.js';
import * as nn from '../src/nn/index.js';
import { expectError } from './harness.js';

type Runtime = Awaited<ReturnType<typeof init>>;
type Tensor = ReturnType<Runtime['tensor']>;

const BUILDS = [['SIMD', true], ['scalar', false]] as const;

function randn(rng: nn.Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

// Σ r·t in f64: a scalar objective whose gradient with respect to t is r.
function project(t: Tensor, r: Float32Array): number {
  const d = t.data;
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]! * r[i]!;
  return s;
}

// Central differences over every entry of t. The step actually taken is what f32 stores,
// so the quotient uses the stored values, not ±h.
function numericGrad(t: Tensor, f: () => number, h = 1e-2): Float64Array {
  const g = new Float64Array(t.size);
  for (let i = 0; i < t.size; i++) {
    const orig = t.data[i]!;
    t.data[i] = orig + h;
    const up = t.data[i]!;
    const fp = f();
    t.data[i] = orig - h;
    const down = t.data[i]!;
    const fm = f();
    t.data[i] = orig;
    g[i] = (fp - fm) / (up - down);
  }
  return g;
}

// f32 forward passes limit finite differences to about 1e-3 relative; a wrong formula
// (a missing term, a transposed index) is off by tens of percent.
const GRAD_RTOL = 1e-2;

function expectGradClose(analytic: ArrayLike<number>, numeric: Float64Array, what: string): void {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < numeric.length; i++) {
    diff += (analytic[i]! - numeric[i]!) ** 2;
    norm += numeric[i]! ** 2;
  }
  expect(norm, `${what}: the numeric gradient is zero, the check would prove nothing`).toBeGreaterThan(1e-8);
  expect(Math.sqrt(diff / norm), `${what}: relative L2 error of the analytic gradient`).toBeLessThan(GRAD_RTOL);
}

for (const [build, simd] of BUILDS) {
  describe(`nn kernels (${build})`, () => {
    let rt: Runtime;
    beforeAll(async () => {
      rt = await init({ simd });
    });

    // Sizes that leave every remainder of the 2×4 tiles and the 4- and 8-wide vectors.
    const SIZES: [number, number, number][] = [[1, 1, 1], [2, 3, 5], [3, 7, 4], [5, 9, 6], [6, 16, 13], [7, 33, 8], [4, 100, 12]];

    it('f32_matmul_nt, _nn, _tn_acc and _sum_rows_acc match f64 references', () => {
      const rng = new nn.Rng(11);
      const k = rt.kernels;
      for (const [M, K, N] of SIZES) {
        const x = rt.tensor([M, K], randn(rng, M * K));
        const w = rt.tensor([N, K], randn(rng, N * K));
        const b = rt.tensor([N], randn(rng, N));
        const dy = rt.tensor([M, N], randn(rng, M * N));
        const y = rt.tensor([M, N], new Float32Array(M * N).fill(NaN));
        const dx = rt.tensor([M, K], new Float32Array(M * K).fill(NaN));
        const dw0 = randn(rng, N * K);
        const db0 = randn(rng, N);
        const dw = rt.tensor([N, K], dw0);
        const db = rt.tensor([N], db0);
        k.f32_matmul_nt(x.ptr, w.ptr, b.ptr, y.ptr, M, K, N);
        k.f32_matmul_nn(dy.ptr, w.ptr, dx.ptr, M, N, K);
        k.f32_matmul_tn_acc(dy.ptr, x.ptr, dw.ptr, M, N, K);
        k.f32_sum_rows_acc(dy.ptr, db.ptr, M, N);
        const X = x.data, W = w.data, B = b.data, DY = dy.data;
        // f32 sums of K products: error below K·2^-24 of Σ|terms|.
        const close = (got: number, want: number, abs: number, terms: number, what: string) =>
          expect(Math.abs(got - want), `${what} [${M},${K},${N}]`).toBeLessThanOrEqual(2 * (terms + 1) * 6e-8 * abs + 1e-30);
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < N; n++) {
            let s = B[n]!, a = Math.abs(B[n]!);
            for (let i = 0; i < K; i++) {
              s += X[m * K + i]! * W[n * K + i]!;
              a += Math.abs(X[m * K + i]! * W[n * K + i]!);
            }
            close(y.data[m * N + n]!, s, a, K, 'y');
          }
          for (let i = 0; i < K; i++) {
            let s = 0, a = 0;
            for (let n = 0; n < N; n++) {
              s += DY[m * N + n]! * W[n * K + i]!;
              a += Math.abs(DY[m * N + n]! * W[n * K + i]!);
            }
            close(dx.data[m * K + i]!, s, a, N, 'dx');
          }
        }
        for (let n = 0; n < N; n++) {
          for (let i = 0; i < K; i++) {
            let s = dw0[n * K + i]!, a = Math.abs(s);
            for (let m = 0; m < M; m++) {
              s += DY[m * N + n]! * X[m * K + i]!;
              a += Math.abs(DY[m * N + n]! * X[m * K + i]!);
            }
            close(dw.data[n * K + i]!, s, a, M, 'dW');
          }
          let s = db0[n]!, a = Math.abs(s);
          for (let m = 0; m < M; m++) {
            s += DY[m * N + n]!;
            a += Math.abs(DY[m * N + n]!);
          }
          close(db.data[n]!, s, a, M, 'db');
        }
        for (const t of [x, w, b, dy, y, dx, dw, db]) t.dispose();
      }
    });

    it('f32_matmul_nt without a bias adds nothing', () => {
      const x = rt.tensor([3, 5], randn(new nn.Rng(3), 15));
      const w = rt.tensor([2, 5], randn(new nn.Rng(4), 10));
      const y = rt.tensor([3, 2], new Float32Array(6).fill(NaN));
      rt.kernels.f32_matmul_nt(x.ptr, w.ptr, 0, y.ptr, 3, 5, 2);
      for (let m = 0; m < 3; m++) {
        for (let n = 0; n < 2; n++) {
          let s = 0;
          for (let i = 0; i < 5; i++) s += x.data[m * 5 + i]! * w.data[n * 5 + i]!;
          expect(y.data[m * 2 + n]).toBeCloseTo(s, 5);
        }
      }
    });

    it('elementwise kernels match their formulas, tails included', () => {
      const rng = new nn.Rng(5);
      const n = 23;
      const xs = randn(rng, n, 3);
      xs[0] = -100;
      xs[1] = 100;
      xs[2] = 0;
      const x = rt.tensor([n], xs);
      const y = rt.tensor([n], new Float32Array(n).fill(NaN));
      rt.kernels.f32_sigmoid(x.ptr, y.ptr, n);
      for (let i = 0; i < n; i++) expect(y.data[i]).toBeCloseTo(1 / (1 + Math.exp(-xs[i]!)), 6);
      rt.kernels.f32_relu(x.ptr, y.ptr, n);
      for (let i = 0; i < n; i++) expect(y.data[i]).toBe(Math.max(xs[i]!, 0));
      const scale = rt.tensor([n], randn(rng, n));
      rt.kernels.f32_axpy(x.ptr, scale.ptr, -0.5, y.ptr, n);
      for (let i = 0; i < n; i++) expect(y.data[i]).toBeCloseTo(xs[i]! - 0.5 * scale.data[i]!, 5);
      let dot = 0, sq = 0;
      for (let i = 0; i < n; i++) {
        dot += xs[i]! * scale.data[i]!;
        sq += (xs[i]! - scale.data[i]!) ** 2;
      }
      expect(nn.dot(x, scale)).toBeCloseTo(dot, 3);
      expect(nn.squaredDistance(x, scale)).toBeCloseTo(sq, 3);
      for (const t of [x, y, scale]) t.dispose();
    });

    it('relu passes NaN through', () => {
      const x = rt.tensor([5], [NaN, -1, 2, NaN, 3]);
      const y = rt.tensor([5]);
      rt.kernels.f32_relu(x.ptr, y.ptr, 5);
      expect(Array.from(y.data)).toEqual([NaN, 0, 2, NaN, 3]);
      x.dispose();
      y.dispose();
    });
  });

  describe(`nn layers: gradients against finite differences (${build})`, () => {
    let rt: Runtime;
    beforeAll(async () => {
      rt = await init({ simd });
    });

    it('Linear: dx, dW and db', () => {
      const rng = new nn.Rng(21);
      const layer = new nn.Linear(rt, 7, 5, { rng });
      const x = rt.tensor([3, 7], randn(rng, 21));
      const r = randn(rng, 15);
      const f = () => project(layer.forward(x), r);
      const dy = rt.tensor([3, 5], r);
      layer.forward(x);
      layer.zeroGrad();
      const dx = layer.backward(dy)!.toArray();
      expectGradClose(dx, numericGrad(x, f), 'Linear dx');
      expectGradClose(layer.weightGrad.toArray(), numericGrad(layer.weight, f), 'Linear dW');
      expectGradClose(layer.biasGrad!.toArray(), numericGrad(layer.bias!, f), 'Linear db');
      // Gradients accumulate, as in PyTorch.
      const once = layer.weightGrad.toArray();
      layer.forward(x);
      layer.backward(dy);
      layer.weightGrad.data.forEach((v, i) => expect(v).toBeCloseTo(2 * once[i]!, 5));
      layer.forward(x);
      expect(layer.backward(dy, false)).toBeNull();
      for (const t of [x, dy]) t.dispose();
      layer.dispose();
    });

    it('Sigmoid and ReLU: dx', () => {
      const rng = new nn.Rng(22);
      const xs = randn(rng, 24, 2);
      // ReLU is checked away from its kink, where the difference quotient is exact.
      for (let i = 0; i < xs.length; i++) if (Math.abs(xs[i]!) < 0.1) xs[i] = 0.5;
      for (const layer of [new nn.Sigmoid(rt), new nn.ReLU(rt)]) {
        const x = rt.tensor([4, 6], xs);
        const r = randn(rng, 24);
        const dy = rt.tensor([4, 6], r);
        const f = () => project(layer.forward(x), r);
        layer.forward(x);
        expectGradClose(layer.backward(dy)!.toArray(), numericGrad(x, f), `${layer} dx`);
        for (const t of [x, dy]) t.dispose();
        layer.dispose();
      }
    });

    it('BatchNorm1d inside the adapter: dx, dγ, dβ in training mode', () => {
      const rng = new nn.Rng(23);
      const bn = rt.batchNorm1d(4);
      bn.weight!.set([1.5, 0.5, -1, 2]);
      bn.bias!.set([0.1, -0.2, 0.3, 0]);
      const layer = new nn.BatchNormLayer(bn);
      const x = rt.tensor([6, 4], randn(rng, 24, 2));
      const r = randn(rng, 24);
      const dy = rt.tensor([6, 4], r);
      const f = () => project(layer.forward(x), r);
      layer.forward(x);
      layer.zeroGrad();
      expectGradClose(layer.backward(dy)!.toArray(), numericGrad(x, f), 'BatchNorm dx');
      expectGradClose(bn.weightGrad!.toArray(), numericGrad(bn.weight!, f), 'BatchNorm dγ');
      expectGradClose(bn.biasGrad!.toArray(), numericGrad(bn.bias!, f), 'BatchNorm dβ');
      expect(layer.parameters().map((p) => p.name)).toEqual(['weight', 'bias']);
      for (const t of [x, dy]) t.dispose();
      layer.dispose();
      expect(bn.disposed).toBe(true);
    });

    it('SoftmaxCrossEntropy: d loss / d logits, and the loss itself', () => {
      const rng = new nn.Rng(24);
      const logits = rt.tensor([5, 4], randn(rng, 20, 2));
      const labels = rt.tensor([5], [0, 3, 1, 1, 2]);
      const loss = new nn.SoftmaxCrossEntropy(rt);
      const value = loss.forward(logits, labels);
      let want = 0;
      for (let r = 0; r < 5; r++) {
        const row = Array.from(logits.data.subarray(r * 4, r * 4 + 4));
        const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
        want += lse - row[labels.data[r]!]!;
      }
      expect(value).toBeCloseTo(want / 5, 6);
      expect(nn.crossEntropy(rt, logits, labels)).toBeCloseTo(want / 5, 6);
      const grad = loss.backward().toArray();
      expectGradClose(grad, numericGrad(logits, () => loss.forward(logits, labels), 1e-2), 'cross-entropy dz');
      for (const t of [logits, labels]) t.dispose();
      loss.dispose();
    });

    it('UnitNoise: y = x·scale + shift per unit, dx = dy·scale; fresh noise each step, fixed by the seed', () => {
      const make = () => new nn.UnitNoise(rt, 5, { rng: new nn.Rng(9), shift: [0.5, 1], scale: [2, 3] });
      const layer = make();
      const x = rt.tensor([3, 5], randn(new nn.Rng(25), 15));
      const y = layer.forward(x).toArray();
      const { scale, shift } = layer.noise;
      for (let c = 0; c < 5; c++) {
        expect(scale[c]).toBeGreaterThanOrEqual(2);
        expect(scale[c]).toBeLessThan(3);
        expect(shift[c]).toBeGreaterThanOrEqual(0.5);
        expect(shift[c]).toBeLessThan(1);
        for (let r = 0; r < 3; r++) expect(y[r * 5 + c]).toBeCloseTo(x.data[r * 5 + c]! * scale[c]! + shift[c]!, 5);
      }
      const dy = rt.tensor([3, 5], randn(new nn.Rng(26), 15));
      const dx = layer.backward(dy)!.toArray();
      for (let i = 0; i < 15; i++) expect(dx[i]).toBeCloseTo(dy.data[i]! * scale[i % 5]!, 5);
      layer.forward(x);
      expect(Array.from(layer.noise.scale)).not.toEqual(Array.from(scale));
      const again = make();
      again.forward(x);
      expect(Array.from(again.noise.scale)).toEqual(Array.from(scale));
      layer.eval();
      expect(Array.from(layer.forward(x).data)).toEqual(Array.from(x.data));
      for (const t of [x, dy]) t.dispose();
      layer.dispose();
      again.dispose();
    });

    it('UnitNoise.hold: training forwards reuse the last draw until released; eval does not count as a draw', () => {
      const layer = new nn.UnitNoise(rt, 5, { rng: new nn.Rng(10) });
      const x = rt.tensor([2, 5], randn(new nn.Rng(28), 10));
      layer.hold = true;
      const first = layer.forward(x).toArray();
      expect(Array.from(layer.forward(x).data)).toEqual(Array.from(first));
      layer.hold = false;
      expect(Array.from(layer.forward(x).data)).not.toEqual(Array.from(first));
      layer.eval().forward(x);
      layer.train().hold = true;
      const drawn = layer.forward(x).toArray();
      expect(Array.from(drawn)).not.toEqual(Array.from(x.data));
      expect(Array.from(layer.forward(x).data)).toEqual(Array.from(drawn));
      x.dispose();
      layer.dispose();
    });

    it('Dropout: inverted scaling in training, dx = dy·mask, identity in eval', () => {
      const p = 0.25;
      const layer = new nn.Dropout(rt, p, { rng: new nn.Rng(11) });
      // 5·103 elements: the SIMD body and the scalar tail both run.
      const x = rt.tensor([5, 103], randn(new nn.Rng(29), 515));
      const y = layer.forward(x).toArray();
      const mask = layer.mask!;
      const keep = Math.fround(1 / (1 - p));
      let dropped = 0;
      for (let i = 0; i < 515; i++) {
        expect([0, keep]).toContain(mask[i]);
        if (mask[i] === 0) dropped++;
        expect(y[i]).toBe(Math.fround(x.data[i]! * mask[i]!));
      }
      expect(dropped).toBeGreaterThan(0);
      expect(dropped).toBeLessThan(515);
      const dy = rt.tensor([5, 103], randn(new nn.Rng(30), 515));
      const dx = layer.backward(dy)!.toArray();
      for (let i = 0; i < 515; i++) expect(dx[i]).toBe(Math.fround(dy.data[i]! * mask[i]!));
      layer.forward(x);
      expect(layer.backward(dy, false)).toBeNull();
      layer.eval();
      expect(Array.from(layer.forward(x).data)).toEqual(Array.from(x.data));
      expect(layer.mask!.every((v) => v === 1)).toBe(true);
      expect(Array.from(layer.backward(dy)!.data)).toEqual(Array.from(dy.data));
      expect(layer.parameters()).toEqual([]);
      for (const t of [x, dy]) t.dispose();
      layer.dispose();
      expect(() => layer.forward(x)).toThrow('Dropout(p=0.25) was disposed');
    });

    it('Dropout: masks fixed by the seed, fresh each step, dropping a fraction p; eval draws nothing', () => {
      const n = 100_001;
      const x = rt.tensor([n], new Float32Array(n).fill(1));
      const masks = (p: number, seed: number, steps: number, evalBetween = false): Float32Array[] => {
        const layer = new nn.Dropout(rt, p, { rng: new nn.Rng(seed) });
        const out: Float32Array[] = [];
        for (let s = 0; s < steps; s++) {
          if (evalBetween) layer.eval().forward(x);
          out.push(layer.train().forward(x).toArray());
        }
        layer.dispose();
        return out;
      };
      for (const p of [0.1, 0.5, 0.9]) {
        const [a, b] = masks(p, 12, 2);
        const [again] = masks(p, 12, 1);
        expect(Array.from(again!)).toEqual(Array.from(a!));
        expect(Array.from(masks(p, 12, 2, true)[1]!)).toEqual(Array.from(b!));
        let droppedA = 0;
        let droppedBoth = 0;
        for (let i = 0; i < n; i++) {
          if (a![i] === 0) droppedA++;
          if (a![i] === 0 && b![i] === 0) droppedBoth++;
        }
        // Binomial counts: within 5 standard deviations of n·p, and of n·p² for two
        // independent masks (a mask repeated or shifted by one step would fail this).
        const sd = (q: number) => Math.sqrt(n * q * (1 - q));
        expect(Math.abs(droppedA - n * p)).toBeLessThan(5 * sd(p));
        expect(Math.abs(droppedBoth - n * p * p)).toBeLessThan(5 * sd(p * p));
      }
      expect(masks(0, 13, 1)[0]!.every((v) => v === 1)).toBe(true);
      expect(masks(1, 13, 1)[0]!.every((v) => v === 0)).toBe(true);
      x.dispose();
    });

    it('a whole Sequential (Linear, BatchNorm1d, Sigmoid, ReLU) with cross-entropy: every parameter and the input', () => {
      const rng = new nn.Rng(27);
      const net = new nn.Sequential(
        new nn.Linear(rt, 5, 6, { rng }),
        rt.batchNorm1d(6),
        new nn.Sigmoid(rt),
        new nn.Linear(rt, 6, 4, { rng, init: 'xavier' }),
        new nn.ReLU(rt),
        new nn.Linear(rt, 4, 3, { rng, init: 0.5 }),
      );
      const bn = net.layers[1] as nn.BatchNormLayer;
      bn.module.weight!.set(randn(rng, 6, 0.5).map((v) => v + 1));
      bn.module.bias!.set(randn(rng, 6, 0.3));
      const x = rt.tensor([8, 5], randn(rng, 40));
      const labels = rt.tensor([8], [0, 1, 2, 0, 1, 2, 2, 1]);
      const loss = new nn.SoftmaxCrossEntropy(rt);
      const f = () => loss.forward(net.forward(x), labels);
      net.zeroGrad();
      f();
      const dx = net.backward(loss.backward(), true)!.toArray();
      const analytic = net.parameters().map((p) => ({ path: p.path, grad: p.grad.toArray(), value: p.value }));
      expect(analytic.map((p) => p.path)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '3.weight', '3.bias', '5.weight', '5.bias']);
      for (const p of analytic) {
        if (p.path === '0.bias') {
          // BatchNorm subtracts the batch mean right after this bias: its gradient is 0.
          for (const g of p.grad) expect(Math.abs(g)).toBeLessThan(1e-6);
          for (const g of numericGrad(p.value, f)) expect(Math.abs(g)).toBeLessThan(1e-3);
        } else {
          expectGradClose(p.grad, numericGrad(p.value, f), `Sequential ${p.path}`);
        }
      }
      expectGradClose(dx, numericGrad(x, f), 'Sequential dx');
      expect(net.backward(loss.backward())).toBeNull();
      for (const t of [x, labels]) t.dispose();
      loss.dispose();
      net.dispose();
    });
  });
}

describe('nn training and bookkeeping', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await init();
  });

  it('Sequential with BatchNorm1d and SGD with momentum learns a separable 3-class problem', () => {
    const rng = new nn.Rng(31);
    const n = 300;
    const centres = [[2, 0, 0, 1], [-2, 1, 0, -1], [0, -2, 2, 0]];
    const xs = new Float32Array(n * 4);
    const ys = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % 3;
      ys[i] = c;
      for (let j = 0; j < 4; j++) xs[i * 4 + j] = centres[c]![j]! + 0.7 * rng.normal();
    }
    const net = new nn.Sequential(new nn.Linear(rt, 4, 16, { rng }), rt.batchNorm1d(16), new nn.ReLU(rt), new nn.Linear(rt, 16, 3, { rng }));
    const sgd = new nn.SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
    const loss = new nn.SoftmaxCrossEntropy(rt);
    const bx = rt.tensor([30, 4]);
    const by = rt.tensor([30]);
    let live = 0;
    const losses: number[] = [];
    for (let step = 0; step < 200; step++) {
      const order = rng.permutation(n).subarray(0, 30);
      order.forEach((r, i) => {
        bx.data.set(xs.subarray(r * 4, r * 4 + 4), i * 4);
        by.data[i] = ys[r]!;
      });
      sgd.zeroGrad();
      losses.push(loss.forward(net.forward(bx), by));
      net.backward(loss.backward());
      sgd.step();
      // The layers reuse their outputs: nothing is allocated per step.
      if (step === 0) live = rt.memoryUsage().liveTensors;
      else expect(rt.memoryUsage().liveTensors).toBe(live);
    }
    expect(losses.slice(-10).reduce((a, b) => a + b) / 10).toBeLessThan(0.2);
    const X = rt.tensor([n, 4], xs);
    const Y = rt.tensor([n], ys);
    net.eval();
    expect(nn.correctCount(rt, net.forward(X), Y) / n).toBeGreaterThan(0.95);
    for (const t of [bx, by, X, Y]) t.dispose();
    sgd.dispose();
    loss.dispose();
    net.dispose();
  });

  it('SGD follows PyTorch: momentum buffer starts at the first gradient, weight decay adds to it', () => {
    const value = rt.tensor([5], [1, -2, 3, 0.5, -0.25]);
    const grad = rt.tensor([5], [0.5, 0.1, -0.3, 2, 1]);
    const sgd = new nn.SGD([{ name: 'w', value, grad }], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    const p = Array.from(value.data), g = Array.from(grad.data);
    let buf: number[] | null = null;
    for (let step = 0; step < 3; step++) {
      sgd.step();
      const d = p.map((v, i) => g[i]! + 0.01 * v);
      buf = buf === null ? d : buf.map((b, i) => 0.9 * b + d[i]!);
      for (let i = 0; i < 5; i++) p[i] = p[i]! - 0.1 * buf[i]!;
      value.data.forEach((v, i) => expect(v).toBeCloseTo(p[i]!, 6));
    }
    sgd.zeroGrad();
    expect(Array.from(grad.data)).toEqual([0, 0, 0, 0, 0]);
    sgd.dispose();
    value.dispose();
    grad.dispose();
  });

  it('Rng: a seed fixes the stream; uniform, normal, int and permutations are what they claim', () => {
    const a = new nn.Rng(42), b = new nn.Rng(42), c = new nn.Rng(43);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(sa);
    const rng = new nn.Rng(1);
    let sum = 0, sq = 0, usum = 0;
    const N = 20000;
    for (let i = 0; i < N; i++) {
      const z = rng.normal();
      sum += z;
      sq += z * z;
      const u = rng.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      usum += u;
    }
    expect(Math.abs(sum / N)).toBeLessThan(0.03);
    expect(Math.abs(sq / N - 1)).toBeLessThan(0.05);
    expect(Math.abs(usum / N - 0.5)).toBeLessThan(0.01);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 6000; i++) counts[rng.int(6)]++;
    for (const k of counts) expect(k).toBeGreaterThan(850);
    const perm = Array.from(rng.permutation(50)).sort((x, y) => x - y);
    expect(perm).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(new nn.Rng(5).split().nextUint32()).toBe(new nn.Rng(5).split().nextUint32());
    expect(() => new nn.Rng(1.5)).toThrow(RangeError);
  });

  it('Linear initializations: bounds, Gaussian scale, and the same seed gives the same weights', () => {
    const w = (init: nn.LinearInit, seed = 3) => {
      const layer = new nn.Linear(rt, 400, 50, { rng: new nn.Rng(seed), init });
      const out = { w: layer.weight.toArray(), b: layer.bias!.toArray() };
      layer.dispose();
      return out;
    };
    const d = w('default');
    expect(Math.max(...d.w.map(Math.abs))).toBeLessThanOrEqual(1 / 20);
    expect(Math.max(...d.b.map(Math.abs))).toBeGreaterThan(0);
    const x = w('xavier');
    expect(Math.max(...x.w.map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(6 / 450));
    expect(Array.from(x.b)).toEqual(new Array(50).fill(0));
    const g = w(0.01);
    const std = Math.sqrt(g.w.reduce((s, v) => s + v * v, 0) / g.w.length);
    expect(std).toBeGreaterThan(0.0097);
    expect(std).toBeLessThan(0.0103);
    expect(Array.from(w(0.01).w)).toEqual(Array.from(g.w));
    expect(Array.from(w(0.01, 4).w)).not.toEqual(Array.from(g.w));
  });

  it('stateDict round-trips a Sequential under PyTorch names', () => {
    const rng = new nn.Rng(7);
    const make = () => new nn.Sequential(new nn.Linear(rt, 3, 4, { rng }), rt.batchNorm1d(4), new nn.Sigmoid(rt), new nn.Linear(rt, 4, 2, { rng }));
    const a = make();
    const x = rt.tensor([5, 3], randn(rng, 15));
    a.forward(x);
    const state = a.stateDict();
    expect(Object.keys(state)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '3.weight', '3.bias']);
    const b = make();
    b.loadStateDict(state);
    a.eval();
    b.eval();
    expect(Array.from(b.forward(x).data)).toEqual(Array.from(a.forward(x).data));
    expect(() => b.loadStateDict({ ...state, '9.weight': new Float32Array(1) })).toThrow(/unexpected key "9.weight"/);
    x.dispose();
    a.dispose();
    b.dispose();
  });

  it('Dropout draws the same mask on the SIMD and scalar builds', async () => {
    const scalar = await init({ simd: false });
    const draw = (r: Runtime): Float32Array => {
      const x = r.tensor([7, 131], randn(new nn.Rng(31), 917));
      const layer = new nn.Dropout(r, 0.3, { rng: new nn.Rng(14) });
      layer.forward(x);
      const y = layer.forward(x).toArray();
      x.dispose();
      layer.dispose();
      return y;
    };
    expect(Array.from(draw(scalar))).toEqual(Array.from(draw(rt)));
  });

  it('refuses bad arguments with messages that name them', () => {
    const rng = new nn.Rng(1);
    const layer = new nn.Linear(rt, 3, 2, { rng });
    const wrong = rt.tensor([4, 5]);
    expect(() => layer.forward(wrong)).toThrow('x: expected shape [N, 3], got [4, 5]');
    expect(() => layer.backward(wrong)).toThrow('Linear(3, 2, bias=true).backward(): expected a forward() first, got no saved input');
    expect(() => new nn.Linear(rt, 3, 2, {} as nn.LinearOptions)).toThrow(TypeError);
    expect(() => new nn.Linear(rt, 0, 2, { rng })).toThrow(RangeError);
    expect(() => new nn.Linear(rt, 3, 2, { rng, init: -1 })).toThrow(/options.init/);
    const logits = rt.tensor([2, 3]);
    expect(() => new nn.SoftmaxCrossEntropy(rt).forward(logits, rt.tensor([2], [0, 3]))).toThrow('labels: expected integer class indices in [0, 2]');
    expect(() => nn.correctCount(rt, logits, rt.tensor([2], [0, 0.5]))).toThrow(RangeError);
    expect(() => nn.correctCount(rt, logits, rt.tensor([3]))).toThrow('labels: expected shape [2]');
    expect(() => new nn.Sequential()).toThrow(RangeError);
    expect(() => new nn.Sequential({} as nn.Layer)).toThrow('layers[0]: expected a Layer or a BatchNorm');
    expect(() => new nn.SGD([], { lr: -1 })).toThrow(/options.lr/);
    expect(() => new nn.Dropout(rt, 1.5, { rng })).toThrow(/^p: expected a finite number in \[0, 1\], got 1.5/);
    expect(() => new nn.Dropout(rt, 0.5, {} as nn.DropoutOptions)).toThrow('options.rng: expected an Rng');
    layer.dispose();
    expect(() => layer.forward(wrong)).toThrow('Linear(3, 2, bias=true) was disposed');
  });
});

// Each row: the call, the error type, and the whole message, so a change of wording or of
// type fails here rather than in a user's catch.
describe('nn error paths: type, wording and no side effects', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await init();
  });

  it('BatchNormLayer: a refused input leaves the output, the live tensors and the running stats as they were', () => {
    const layer = new nn.BatchNormLayer(rt.batchNorm1d(3));
    const x = rt.tensor([4, 3], randn(new nn.Rng(2), 12));
    const y = layer.forward(x);
    const before = y.toArray();
    const live = rt.memoryUsage().liveTensors;
    const stats = layer.stateDict();
    const bad: [number[], RegExp][] = [
      [[4, 5], /^x: expected 3 channels on axis 1, got 5 in shape \[4, 5\]$/],
      [[6, 5], /^x: expected 3 channels on axis 1, got 5 in shape \[6, 5\]$/],
      [[2, 3, 1, 1], /^x: expected 2D or 3D input \(got 4D input of shape \[2, 3, 1, 1\]\)$/],
      [[1, 3], /^Expected more than 1 value per channel when training, got input size \[1, 3\]$/],
    ];
    for (const [shape, message] of bad) {
      const wrong = rt.tensor(shape);
      expectError(() => layer.forward(wrong), RangeError, message);
      wrong.dispose();
      expect(layer.output, `${shape}: the output is the last good forward's`).toBe(y);
      expect(y.disposed).toBe(false);
      expect(Array.from(y.data)).toEqual(Array.from(before));
      expect(rt.memoryUsage().liveTensors, `${shape}: no tensor left behind`).toBe(live);
    }
    expect(layer.stateDict()).toEqual(stats);
    // backward still differentiates the last good forward.
    const dy = rt.tensor([4, 3], randn(new nn.Rng(3), 12));
    expect(layer.backward(dy)!.shape).toEqual([4, 3]);
    for (const t of [x, dy]) t.dispose();
    layer.dispose();
  });

  it('vector measures name each argument and check it is a tensor', () => {
    const a = rt.tensor([2, 3]);
    const b = rt.tensor([6]);
    const short = rt.tensor([5]);
    expectError(() => nn.addScaled(a, 'x' as never, 1, b), TypeError, /^x: expected a Tensor, got "x"$/);
    expectError(() => nn.addScaled(a, b, 1, null as never), TypeError, /^y: expected a Tensor, got null$/);
    expectError(() => nn.addScaled({} as never, a, 1, b), TypeError, /^out: expected a Tensor, got an object$/);
    expectError(() => nn.addScaled(a, a, '2' as never, b), TypeError, /^alpha: expected a number, got "2"$/);
    expectError(() => nn.addScaled(a, a, 1, short), RangeError, /^y: expected 6 values \(like x, \[2, 3\]\), got \[5\]$/);
    expectError(() => nn.dot(undefined as never, b), TypeError, /^a: expected a Tensor, got undefined$/);
    expectError(() => nn.squaredDistance(a, 3 as never), TypeError, /^b: expected a Tensor, got 3$/);
    short.dispose();
    expectError(() => nn.dot(a, short), TypeError, /^b: Tensor \[5\] was disposed and cannot be used$/);
    // Same size, different shape is fine: the measures are over flat vectors.
    a.data.set([1, 2, 3, 4, 5, 6]);
    b.data.set([1, 1, 1, 1, 1, 1]);
    expect(nn.dot(a, b)).toBe(21);
    expect(Array.from(nn.addScaled(b, a, -1, b).data)).toEqual([0, 1, 2, 3, 4, 5]);
    a.dispose();
    b.dispose();
  });

  it('SoftmaxCrossEntropy: use after dispose() is an error, not a fresh gradient tensor allocated behind the caller', () => {
    const loss = new nn.SoftmaxCrossEntropy(rt);
    const logits = rt.tensor([2, 3], [1, 2, 3, 4, 5, 6]);
    const labels = rt.tensor([2], [0, 2]);
    loss.forward(logits, labels);
    loss.dispose();
    const live = rt.memoryUsage().liveTensors;
    expectError(() => loss.forward(logits, labels), TypeError, /^SoftmaxCrossEntropy was disposed and cannot be used$/);
    expectError(() => loss.backward(), TypeError, /^SoftmaxCrossEntropy was disposed and cannot be used$/);
    expect(rt.memoryUsage().liveTensors, 'nothing allocated by the refused forward()').toBe(live);
    loss.dispose();
    logits.dispose();
    labels.dispose();
  });

  it('SGD: use after dispose() is an error, not plain SGD; the hyperparameters are non-negative finite numbers', () => {
    const value = rt.tensor([3], [1, 2, 3]);
    const grad = rt.tensor([3], [1, 1, 1]);
    const sgd = new nn.SGD([{ name: 'w', value, grad }], { lr: 0.1, momentum: 0.9 });
    sgd.step();
    const after = value.toArray();
    sgd.dispose();
    expectError(() => sgd.step(), TypeError, /^SGD was disposed and cannot be used$/);
    expectError(() => sgd.zeroGrad(), TypeError, /^SGD was disposed and cannot be used$/);
    expect(Array.from(value.data)).toEqual(Array.from(after));
    expect(Array.from(grad.data)).toEqual([1, 1, 1]);
    const params = [{ name: 'w', value, grad }];
    expectError(() => new nn.SGD(params, { lr: Infinity }), RangeError, /^options\.lr: expected a non-negative finite number, got Infinity$/);
    expectError(() => new nn.SGD(params, { lr: 0.1, momentum: -0.5 }), RangeError, /^options\.momentum: expected a non-negative finite number, got -0\.5$/);
    expectError(() => new nn.SGD(params, { lr: 0.1, weightDecay: NaN }), RangeError, /^options\.weightDecay: expected a non-negative finite number, got NaN$/);
    expectError(() => new nn.SGD(params, { lr: '0.1' as never }), TypeError, /^options\.lr: expected a non-negative finite number, got "0\.1"$/);
    const plain = new nn.SGD(params, { lr: 0.1 });
    expectError(() => {
      plain.lr = -1;
    }, RangeError, /^lr: expected a non-negative finite number, got -1$/);
    value.dispose();
    grad.dispose();
  });

  it('every layer: one wording for a disposed layer, for backward() before forward(), and for a disposed saved input', () => {
    const rng = new nn.Rng(4);
    const x = rt.tensor([4, 3], randn(rng, 12));
    const dy = rt.tensor([4, 3], randn(rng, 12));
    const layers: [nn.Layer, string][] = [
      [new nn.Sigmoid(rt), 'Sigmoid\\(\\)'],
      [new nn.ReLU(rt), 'ReLU\\(\\)'],
      [new nn.Dropout(rt, 0.25, { rng }), 'Dropout\\(p=0\\.25\\)'],
      [new nn.UnitNoise(rt, 3, { rng }), 'UnitNoise\\(3\\)'],
      [new nn.Linear(rt, 3, 3, { rng }), 'Linear\\(3, 3, bias=true\\)'],
      [new nn.BatchNormLayer(rt.batchNorm1d(3)), 'BatchNorm1d\\(3\\)'],
    ];
    for (const [layer, name] of layers) {
      expectError(() => layer.backward(dy), TypeError, new RegExp(`^${name}\\.backward\\(\\): expected a forward\\(\\) first, got no saved input$`));
      layer.dispose();
      for (const call of [() => layer.forward(x), () => layer.backward(dy), () => layer.train(), () => layer.zeroGrad(), () => layer.stateDict(), () => layer.loadStateDict({})]) {
        expectError(call, TypeError, new RegExp(`^${name} was disposed and cannot be used$`));
      }
      layer.dispose();
    }
    const net = new nn.Sequential(new nn.ReLU(rt));
    net.dispose();
    expectError(() => net.forward(x), TypeError, /^Sequential was disposed and cannot be used$/);
    expectError(() => net.train(), TypeError, /^Sequential was disposed and cannot be used$/);
    const gone = rt.batchNorm1d(2);
    gone.dispose();
    expectError(() => new nn.BatchNormLayer(gone), TypeError, /^module: BatchNorm1d\(2\) was disposed and cannot be used$/);
    expectError(() => new nn.SoftmaxCrossEntropy(rt).backward(), TypeError, /^SoftmaxCrossEntropy\.backward\(\): expected a forward\(\) first, got no saved input$/);

    // The core BatchNorm's words for an input disposed between forward and backward, for
    // every layer whose backward reads its input.
    const saved: [nn.Layer, string][] = [
      [new nn.ReLU(rt), 'ReLU\\(\\)\\.'],
      [new nn.Linear(rt, 3, 3, { rng }), 'Linear\\(3, 3, bias=true\\)\\.'],
      [new nn.BatchNormLayer(rt.batchNorm1d(3)), 'BatchNorm1d\\(3\\)\\.'],
    ];
    for (const [layer, owner] of saved) {
      const input = rt.tensor([4, 3], x.data);
      layer.forward(input);
      input.dispose();
      expectError(() => layer.backward(dy), TypeError,
        new RegExp(`^${owner}backward\\(\\): expected the input forward\\(\\) saved to be live, got Tensor \\[4, 3\\] disposed \\(dispose it after backward\\(\\)\\)$`));
      layer.dispose();
    }
    x.dispose();
    dy.dispose();
  });

  it('loadStateDict: a wrong kind of value is a TypeError, a missing key or a wrong length a RangeError; nothing loads', () => {
    const rng = new nn.Rng(5);
    const linear = new nn.Linear(rt, 3, 2, { rng });
    const good = linear.stateDict();
    const rows: [unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      [null, TypeError, /^stateDict: expected an object, got null$/],
      ['weights', TypeError, /^stateDict: expected an object, got "weights"$/],
      [{ ...good, weight: 'abcdef' }, TypeError, /^stateDict\.weight: expected an array-like of 6 numbers, got "abcdef"$/],
      [{ ...good, bias: 7 }, TypeError, /^stateDict\.bias: expected an array-like of 2 numbers, got 7$/],
      [{ ...good, bias: null }, TypeError, /^stateDict\.bias: expected an array-like of 2 numbers, got null$/],
      [{ ...good, weight: new Float32Array(5) }, RangeError, /^stateDict\.weight: expected 6 values, got a Float32Array of length 5$/],
      [{ weight: good.weight }, RangeError, /^stateDict: missing key "bias"$/],
      [{ ...good, gamma: new Float32Array(2) }, RangeError, /^stateDict: unexpected key "gamma" \(expected weight, bias\)$/],
    ];
    for (const [state, type, message] of rows) {
      expectError(() => linear.loadStateDict(state as never), type, message);
      expect(linear.stateDict()).toEqual(good);
    }
    linear.dispose();
    for (const layer of [new nn.Sigmoid(rt), new nn.Dropout(rt, 0.5, { rng }), new nn.UnitNoise(rt, 2, { rng })]) {
      layer.loadStateDict({});
      expectError(() => layer.loadStateDict({ a: 1 }), RangeError, /^stateDict: unexpected key "a" \(the layer has no state\)$/);
      expectError(() => layer.loadStateDict(null as never), TypeError, /^stateDict: expected an object, got null$/);
      layer.dispose();
    }
  });

  it('constructor options: a wrong kind is a TypeError, a value out of range a RangeError', () => {
    const rng = new nn.Rng(6);
    const rows: [() => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      [() => new nn.Linear(rt, 3, 2, { rng, init: {} as never }), TypeError, /^options\.init: expected 'default', 'xavier' or a non-negative standard deviation, got an object$/],
      [() => new nn.Linear(rt, 3, 2, { rng, init: 'he' as never }), RangeError, /^options\.init: expected .*, got "he"$/],
      [() => new nn.Linear(rt, 3, 2, { rng, init: -1 }), RangeError, /^options\.init: expected .*, got -1$/],
      [() => new nn.UnitNoise(rt, 2, { rng, shift: [1, 0] }), RangeError, /^options\.shift: expected a \[low, high\] pair of finite numbers with low <= high, got \[1, 0\]$/],
      [() => new nn.UnitNoise(rt, 2, { rng, scale: [0, Infinity] }), RangeError, /^options\.scale: expected .*, got \[0, Infinity\]$/],
      [() => new nn.UnitNoise(rt, 2, { rng, scale: [0, 1, 2] as never }), RangeError, /^options\.scale: expected .*, got \[0, 1, 2\]$/],
      [() => new nn.UnitNoise(rt, 2, { rng, shift: '01' as never }), TypeError, /^options\.shift: expected .*, got "01"$/],
      [() => new nn.UnitNoise(rt, 2, { rng, shift: [0, '1'] as never }), TypeError, /^options\.shift: expected .*, got \[0, "1"\]$/],
    ];
    const live = rt.memoryUsage().liveTensors;
    for (const [run, type, message] of rows) expectError(run, type, message);
    expect(rt.memoryUsage().liveTensors).toBe(live);
  });
});
