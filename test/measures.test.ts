// Issue 8's measures (experiments/lib/measures.mjs) on networks of one or two tiny
// Linears whose gradients can be written down by hand, and the promise that measuring
// leaves training untouched. They import dist/ like the experiments: `npm run build` first.
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM without types
import { covariateShift, firstLastRatio, generalizationGap, layerGradNorms } from '../experiments/lib/measures.mjs';
// @ts-expect-error: plain ESM without types
import { train, checkpoints } from '../experiments/lib/train.mjs';
import * as nn from '../dist/nn/index.js';
import { init } from '../dist/index.node.js';

type Runtime = Awaited<ReturnType<typeof init>>;

const sigmoid = (t: number): number => 1 / (1 + Math.exp(-t));

function linear(rt: Runtime, inFeatures: number, outFeatures: number, weight: number[]): nn.Linear {
  const layer = new nn.Linear(rt, inFeatures, outFeatures, { rng: new nn.Rng(0), bias: false });
  layer.weight.set(weight);
  return layer;
}

// One forward and backward on (x, y), as a training step does before its update.
function backward(net: nn.Sequential, loss: nn.SoftmaxCrossEntropy, x: nn.Parameter['value'], y: nn.Parameter['value']): void {
  net.zeroGrad();
  loss.forward(net.forward(x), y);
  net.backward(loss.backward());
}

describe('issue 8 measures on hand-worked networks', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await init();
  });

  // x = 1 → h = a·x (A: 1 → 1) → z = [u·h, v·h] (B: 1 → 2), label 0. With p₁ = softmax(z)₁,
  // dz = [−p₁, p₁], so ∂L/∂B = [−p₁h, p₁h] and ∂L/∂A = p₁(v − u)·x.
  it('layerGradNorms and firstLastRatio: ‖∂L/∂W‖ per Linear, input side first', () => {
    const [a, u, v] = [1, 1, -1];
    const net = new nn.Sequential(linear(rt, 1, 1, [a]), linear(rt, 1, 2, [u, v]));
    const loss = new nn.SoftmaxCrossEntropy(rt);
    const x = rt.tensor([1, 1], [1]);
    const y = rt.tensor([1], [0]);
    backward(net, loss, x, y);
    const p1 = sigmoid((v - u) * a);
    const norms = layerGradNorms(net) as number[];
    expect(norms).toHaveLength(2);
    expect(norms[0]).toBeCloseTo(Math.abs(p1 * (v - u)), 6);
    expect(norms[1]).toBeCloseTo(Math.SQRT2 * p1 * Math.abs(a), 6);
    // |v − u| / (√2·|a|) = 2/√2.
    expect(firstLastRatio(norms)).toBeCloseTo(Math.SQRT2, 5);
    expect(generalizationGap([0.2, 0.99], [0.2, 0.95])).toBeCloseTo(0.04, 12);
    for (const t of [x, y]) t.dispose();
    net.dispose();
    loss.dispose();
  });

  // x = 1 → h = a (A: 1 → 2, a = [1, 0]) → z = [u·h, v·h] (B: 2 → 2, u = [1, 0], v = [0, 1]),
  // label 0. G = ∂L/∂B = p₁·[−h; h]; A's gradient is p₁(v − u) = p₁·[−1, 1], so one SGD step
  // of rate η below B gives h′ = [1 + ηp₁, −ηp₁] and G′ = p₁′·[−h′; h′] with
  // p₁′ = σ(h′₂ − h′₁). Hence cos(G, G′) = cos(h, h′) and ‖G − G′‖ = √2·‖p₁h − p₁′h′‖.
  it('covariateShift: B\'s gradient before and after A takes its step on the same batch', () => {
    const eta = 1;
    const net = new nn.Sequential(linear(rt, 1, 2, [1, 0]), linear(rt, 2, 2, [1, 0, 0, 1]));
    const loss = new nn.SoftmaxCrossEntropy(rt);
    const x = rt.tensor([1, 1], [1]);
    const y = rt.tensor([1], [0]);
    backward(net, loss, x, y);
    const before = net.stateDict();
    const grads = net.parameters().map((p) => p.grad.toArray());

    const m = covariateShift(rt, net, loss, x, y, 1, eta);
    const p1 = sigmoid(0 - 1);
    const h = [1, 0];
    const hNext = [1 + eta * p1, -eta * p1];
    const p1Next = sigmoid(hNext[1]! - hNext[0]!);
    const diff = Math.SQRT2 * Math.hypot(p1 * h[0]! - p1Next * hNext[0]!, p1 * h[1]! - p1Next * hNext[1]!);
    expect(m.l2).toBeCloseTo(diff, 6);
    expect(m.relativeL2).toBeCloseTo(diff / (Math.SQRT2 * p1), 6);
    expect(m.cosine).toBeCloseTo(hNext[0]! / Math.hypot(hNext[0]!, hNext[1]!), 6);
    expect(m.cosine).toBeLessThan(0.99);

    // Nothing of the measurement stays: weights and this step's gradients as they were.
    expect(net.stateDict()).toEqual(before);
    net.parameters().forEach((p, i) => expect(Array.from(p.grad.data)).toEqual(Array.from(grads[i]!)));
    // With nothing below the layer, nothing moves: G′ = G.
    const first = covariateShift(rt, net, loss, x, y, 0, eta);
    expect(first.l2).toBe(0);
    expect(first.cosine).toBeCloseTo(1, 12);
    expect(() => covariateShift(rt, net, loss, x, y, 5, eta)).toThrow(/expected the index of a Linear/);
    for (const t of [x, y]) t.dispose();
    net.dispose();
    loss.dispose();
  });

  it('covariateShift restores BatchNorm running statistics and replays the noise of UnitNoise', () => {
    const make = () => {
      const rng = new nn.Rng(4);
      return new nn.Sequential(new nn.Linear(rt, 3, 4, { rng }), rt.batchNorm1d(4), new nn.UnitNoise(rt, 4, { rng: new nn.Rng(5) }),
        new nn.Sigmoid(rt), new nn.Linear(rt, 4, 3, { rng }));
    };
    const measured = make();
    const twin = make();
    const loss = new nn.SoftmaxCrossEntropy(rt);
    const rng = new nn.Rng(6);
    const x = rt.tensor([5, 3], Array.from({ length: 15 }, () => rng.normal()));
    const y = rt.tensor([5], [0, 1, 2, 0, 1]);
    backward(measured, loss, x, y);
    backward(twin, loss, x, y);
    const m = covariateShift(rt, measured, loss, x, y, 4, 0.5);
    expect(m.l2).toBeGreaterThan(0);
    expect(m.cosine).toBeLessThan(1);
    expect(measured.stateDict()).toEqual(twin.stateDict());
    measured.parameters().forEach((p, i) => expect(Array.from(p.grad.data)).toEqual(Array.from(twin.parameters()[i]!.grad.data)));
    // The next step draws the same noise in both: the measurement took no draw.
    expect(Array.from(measured.forward(x).data)).toEqual(Array.from(twin.forward(x).data));
    for (const t of [x, y]) t.dispose();
    measured.dispose();
    twin.dispose();
    loss.dispose();
  });

  it('train(): measuring gradient norms, ICS and the landscape along the way changes no other number', () => {
    const rng = new nn.Rng(7);
    const digits = (count: number) => ({
      images: Float32Array.from({ length: count * 784 }, () => rng.uniform()),
      labels: Float32Array.from({ length: count }, (_, i) => i % 10),
      count,
    });
    const data = { train: digits(180), test: digits(20) };
    const steps = 8;
    const options = {
      hidden: [6, 5], bn: true, noisy: true, initStd: 'xavier', lr: 0.5, momentum: 0, steps, evalAt: checkpoints(steps, 4),
      seeds: { init: 1, batches: 2, noise: 3, dropout: 4, probe: 5 }, trainEval: true,
    };
    const plain = train(rt, data, options, () => {});
    const at = [0, 3, 6];
    const measured = train(rt, data, { ...options, gradNormAt: at, icsAt: at }, () => {});
    expect(measured.testAccuracy).toEqual(plain.testAccuracy);
    expect(measured.trainAccuracy).toEqual(plain.trainAccuracy);
    expect(measured.lossWindows).toEqual(plain.lossWindows);
    expect(measured.gradNorms).toHaveLength(3);
    for (const norms of measured.gradNorms) expect(norms).toHaveLength(3);
    expect(measured.ics).toHaveLength(3);
    for (const layers of measured.ics) {
      expect(layers).toHaveLength(2);
      for (const m of layers) expect(m.cosine).toBeLessThanOrEqual(1 + 1e-6);
    }
    expect(() => train(rt, data, { ...options, momentum: 0.9, icsAt: at }, () => {})).toThrow(/needs plain SGD \(momentum 0, constant rate\)/);
    // The landscape walk draws its batches from a stream of its own (noise and Dropout, which
    // would draw from training's streams, are refused).
    const quiet = { ...options, noisy: false };
    const probed = train(rt, data, { ...quiet, probeAt: at, stepSizes: [0.1, 0.2], probeBatches: 2 }, () => {});
    expect(probed.landscape).toHaveLength(3);
    for (const m of probed.landscape) expect(m.lossVariation).toBeGreaterThan(0);
    expect(probed.testAccuracy).toEqual(train(rt, data, quiet, () => {}).testAccuracy);
    expect(probed.lossWindows).toEqual(train(rt, data, quiet, () => {}).lossWindows);
    expect(() => train(rt, data, { ...options, probeAt: at, stepSizes: [0.1] }, () => {})).toThrow(/landscape walk needs a network without noise or Dropout/);
  });
});
