// The claims' statistics (experiments/lib/stats.mjs) on synthetic inputs whose answers are
// known: printed t quantiles, hand-computed intervals and McNemar p-values, and verdicts
// for an effect of exactly zero, a large one, and one on the wrong side.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM without types
import { claim, discordant, mcnemarExact, meanInterval, ratioInterval, studentQuantile, verdict } from '../experiments/lib/stats.mjs';

describe('Student t', () => {
  it('0.975 quantiles match the printed tables', () => {
    // Any t table: df 1, 2, 4, 9, 30.
    for (const [df, q] of [[1, 12.7062], [2, 4.3027], [4, 2.7764], [9, 2.2622], [30, 2.0423]]) {
      expect(studentQuantile(0.975, df)).toBeCloseTo(q!, 3);
    }
  });

  it('meanInterval: mean ± t·s/√n, none from fewer than two seeds or a non-finite value', () => {
    // 1..5: mean 3, s = √2.5, half-width 2.7764·√0.5.
    const { mean, ci95 } = meanInterval([1, 2, 3, 4, 5]);
    expect(mean).toBe(3);
    expect(ci95[0]).toBeCloseTo(3 - 2.776445 * Math.sqrt(0.5), 5);
    expect(ci95[1]).toBeCloseTo(3 + 2.776445 * Math.sqrt(0.5), 5);
    expect(meanInterval([4])).toEqual({ mean: null, ci95: [null, null] });
    expect(meanInterval([1, NaN, 3])).toEqual({ mean: null, ci95: [null, null] });
  });

  it('ratioInterval works on logarithms: ratios 2 and 8 have geometric mean 4', () => {
    const { mean, ci95 } = ratioInterval([2, 8]);
    expect(mean).toBeCloseTo(4, 12);
    expect(ci95[0]! * ci95[1]!).toBeCloseTo(16, 9);
    expect(ratioInterval([2, 0]).ci95).toEqual([null, null]);
  });
});

describe('verdicts come from the interval alone', () => {
  const differences = { kind: 'difference', direction: 'greater', unit: 'points', rule: 'synthetic' };

  it('an effect of exactly zero is inconclusive, whatever its spread', () => {
    expect(claim({ ...differences, perSeed: [0, 0, 0] }).verdict).toBe('inconclusive');
    expect(claim({ ...differences, perSeed: [-1, 0, 1] }).verdict).toBe('inconclusive');
    expect(claim({ ...differences, kind: 'ratio', perSeed: [1, 1, 1, 1] }).verdict).toBe('inconclusive');
  });

  it('a large effect on the paper\'s side holds; on the other side it does not', () => {
    const held = claim({ ...differences, perSeed: [5, 5.2, 4.9, 5.1, 5] });
    expect(held.verdict).toBe('held');
    expect(held.effect).toBeCloseTo(5.04, 12);
    expect(held.ci95[0]).toBeGreaterThan(0);
    expect(held).toMatchObject({ noEffect: 0, direction: 'greater', unit: 'points', seeds: 5, rule: 'synthetic' });
    expect(claim({ ...differences, perSeed: [-5, -5.2, -4.9] }).verdict).toBe('did not hold');
    expect(claim({ ...differences, direction: 'less', perSeed: [-5, -5.2, -4.9] }).verdict).toBe('held');
    const ratio = claim({ ...differences, kind: 'ratio', direction: 'less', perSeed: [0.1, 0.12, 0.09] });
    expect(ratio).toMatchObject({ verdict: 'held', noEffect: 1 });
    expect(ratio.ci95[1]).toBeLessThan(1);
  });

  it('an interval that touches no effect, or is missing, is inconclusive', () => {
    expect(verdict([0, 2], 0, 'greater')).toBe('inconclusive');
    expect(verdict([null, null], 0, 'greater')).toBe('inconclusive');
    expect(claim({ ...differences, perSeed: [3, null, 4] })).toMatchObject({ verdict: 'inconclusive', effect: null, ci95: [null, null] });
    expect(() => verdict([1, 2], 0, 'more')).toThrow(RangeError);
    expect(() => claim({ ...differences, kind: 'log', perSeed: [1, 2] })).toThrow(/kind/);
  });
});

describe('McNemar exact', () => {
  it('p-values worked by hand', () => {
    expect(mcnemarExact(0, 10)).toBeCloseTo(2 / 1024, 15);
    expect(mcnemarExact(5, 5)).toBe(1);
    expect(mcnemarExact(0, 0)).toBe(1);
    // b = 1, c = 4: 2·(1 + 5)/32.
    expect(mcnemarExact(1, 4)).toBeCloseTo(12 / 32, 15);
    expect(mcnemarExact(4, 1)).toBeCloseTo(12 / 32, 15);
    // Large counts stay finite and in (0, 1).
    const p = mcnemarExact(3000, 3200);
    expect(p).toBeGreaterThan(0.005);
    expect(p).toBeLessThan(0.02);
    expect(() => mcnemarExact(-1, 2)).toThrow(RangeError);
  });

  it('discordant counts the digits only one model gets right', () => {
    expect(discordant([1, 1, 0, 0, 1], [1, 0, 1, 0, 0])).toMatchObject({ b: 2, c: 1 });
    expect(() => discordant([1], [1, 0])).toThrow(RangeError);
  });
});
