// The end-to-end experiment's code on a few digits: the same seed trains each network to
// the same test accuracy with tfjs's BatchNormalization and with ours.
import { describe, it, expect } from 'vitest';
import { tf, useBackend } from './tfjs-harness.js';
import { createTfjsBatchNorm } from '../src/tfjs/index.node.js';
// @ts-expect-error: plain JavaScript without type declarations
import { loadSplit, networkFor, trainVariant } from '../experiments/tfjs-cnn.mjs';
// @ts-expect-error: plain JavaScript without type declarations
import { summarize } from '../experiments/lib/tfjs-report.mjs';

interface Run {
  variant: string;
  accuracy: number[];
  seconds: number[];
}

describe('experiments/tfjs-cnn.mjs', () => {
  it.each(['cpu', 'wasm'])('trains tfjs\'s and our BN to the same accuracy from the same seed (%s backend)', async (backend) => {
    await useBackend(backend);
    const network = networkFor(backend);
    const bnw = await createTfjsBatchNorm(tf);
    const digits = await loadSplit(64, 100);
    const runs: Run[] = [];
    const kept: number[] = [];
    for (const variant of ['tfjs', 'ours']) {
      const before = tf.memory().numTensors;
      runs.push(await trainVariant({ variant, bnw, digits, seed: 4, epochs: 2, network }));
      kept.push(tf.memory().numTensors - before);
    }
    // tfjs keeps a few tensors of every compiled model (its optimizer's); ours adds none.
    expect(kept[1]).toBe(kept[0]);
    const [theirs, ours] = runs as [Run, Run];
    expect(ours.accuracy).toHaveLength(2);
    // One test digit of 100 may flip on an f32 rounding difference; more would be a bug.
    ours.accuracy.forEach((a, e) => expect(Math.abs(a - theirs.accuracy[e]!)).toBeLessThanOrEqual(1 / 100));
    const summary = summarize(runs);
    expect(summary.ours.accuracy.map((a: { mean: number }) => a.mean)).toEqual(ours.accuracy);
  });
});
