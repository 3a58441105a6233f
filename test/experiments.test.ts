// The measuring helpers of experiments/ on inputs whose answers can be worked out by hand,
// and the landscape walk's promise to leave training untouched. They import dist/ (the
// experiments are plain ESM over the built package): `npm run build` first.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM without types
import { percentile, divergedAtStep, checkpoints, landscape, DIVERGENCE_LOSS } from '../experiments/lib/train.mjs';
// @ts-expect-error: plain ESM without types
import { drift, stepsTo } from '../experiments/lib/report.mjs';
// The experiments' own copy of the package, so their instanceof checks hold.
import * as nnDist from '../dist/nn/index.js';
import { init as initDist } from '../dist/index.node.js';

describe('experiment helpers', () => {
  it('percentile interpolates between ranks like numpy', () => {
    const sorted = [1, 2, 3, 4, 5];
    expect(percentile(sorted, 0)).toBe(1);
    expect(percentile(sorted, 50)).toBe(3);
    expect(percentile(sorted, 15)).toBeCloseTo(1.6, 12);
    expect(percentile(sorted, 85)).toBeCloseTo(4.4, 12);
    expect(percentile([7], 85)).toBe(7);
  });

  it('checkpoints start at 0, end at the last step, evenly between', () => {
    expect(checkpoints(100, 4)).toEqual([0, 25, 50, 75, 100]);
    expect(checkpoints(3, 10)).toEqual([0, 1, 2, 3]);
  });

  it('divergence: non-finite at once, or above the threshold from some window to the end; not a spike, not chance', () => {
    const w = (...means: number[]) => means.map((mean, i) => ({ start: i * 10, mean }));
    const high = DIVERGENCE_LOSS + 1;
    expect(divergedAtStep(w(2.3, 2.3, 2.3))).toBeNull();
    expect(divergedAtStep(w(high, 0.5, 0.4))).toBeNull();
    expect(divergedAtStep(w(1, 0.5, high, high))).toBe(20);
    expect(divergedAtStep(w(1, high, 0.5, high))).toBe(30);
    expect(divergedAtStep(w(1, NaN))).toBe(10);
  });

  it('stepsTo and drift', () => {
    expect(stepsTo([0, 10, 20], [0.1, 0.95, 0.97], 0.9)).toBe(10);
    expect(stepsTo([0, 10, 20], [0.1, 0.5, 0.6], 0.9)).toBeNull();
    // From step 10 on (10% of 100): ranges 2, 4, 6 → mean 4; step 0 is left out.
    const rows = [[100, 100, 100], [0, 0, 0], [1, 2, 3], [2, 4, 6]];
    expect(drift([0, 10, 50, 100], rows)).toBe(4);
  });
});

describe('landscape walk', () => {
  it('restores weights, gradients and running stats; for a tiny step the loss changes by η‖g‖²', async () => {
    const rt = await initDist();
    const rng = new nnDist.Rng(3);
    const net = new nnDist.Sequential(new nnDist.Linear(rt, 4, 5, { rng }), rt.batchNorm1d(5), new nnDist.Sigmoid(rt), new nnDist.Linear(rt, 5, 3, { rng }));
    const loss = new nnDist.SoftmaxCrossEntropy(rt);
    const x = rt.tensor([6, 4], Array.from({ length: 24 }, () => rng.normal()));
    const y = rt.tensor([6], [0, 1, 2, 0, 1, 2]);
    const before = net.stateDict();
    const eta = 1e-3;
    const m = landscape(rt, net, loss, x, y, [eta]);
    expect(net.stateDict()).toEqual(before);
    for (const p of net.parameters()) expect(Array.from(p.grad.data).every((v: number) => v === 0)).toBe(true);
    net.zeroGrad();
    loss.forward(net.forward(x), y);
    net.backward(loss.backward());
    let g2 = 0;
    for (const p of net.parameters()) g2 += nnDist.dot(p.grad, p.grad);
    expect(m.lossVariation).toBeGreaterThan(0);
    expect(Math.abs(m.lossVariation - eta * g2) / (eta * g2)).toBeLessThan(0.05);
    expect(m.gradientPredictiveness).toBeGreaterThan(0);
    expect(m.betaSmoothness).toBeCloseTo(m.gradientPredictiveness / (eta * Math.sqrt(g2)), 6);
    net.dispose();
    loss.dispose();
    x.dispose();
    y.dispose();
  });
});
