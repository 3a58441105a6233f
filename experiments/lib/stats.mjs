// The statistics every claim is reported with. Seeds are the unit of replication: each
// seed gives one paired value (BN minus baseline, or BN over baseline, measured on runs
// that share initial weights and batch order), and the claim is the mean of those values
// with a 95% Student t interval. The verdict is read off the interval alone:
//   held          the whole interval lies on the side of "no effect" the paper claims
//   did not hold  the whole interval lies on the other side
//   inconclusive  the interval contains "no effect" (or there is no interval at all)
// Where two models are scored on the same test digits, McNemar's exact test on those
// digits is reported beside the interval; it does not decide the verdict.

const VERDICTS = Object.freeze({ held: 'held', notHeld: 'did not hold', inconclusive: 'inconclusive' });
const CONFIDENCE = 0.95;

// Lanczos (g = 7, n = 9) for ln Γ, accurate to about 1e-15 for x > 0.
const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

function logGamma(x) {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

// The continued fraction of the regularized incomplete beta (modified Lentz).
function betaFraction(x, a, b) {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - (a + b) * x / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    for (const coefficient of [m * (b - m) * x / ((a + m2 - 1) * (a + m2)), -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))]) {
      d = 1 + coefficient * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + coefficient / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
function incompleteBeta(x, a, b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? front * betaFraction(x, a, b) / a : 1 - front * betaFraction(1 - x, b, a) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
function studentCdf(t, df) {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile (0.5 < p < 1) of Student's t with `df` degrees of freedom, by bisection. */
export function studentQuantile(p, df) {
  let lo = 0;
  let hi = 1;
  while (studentCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Mean of `values` with its 95% t interval (n − 1 degrees of freedom). Needs at least two
 * finite values; otherwise { mean: null, ci95: [null, null] }.
 */
export function meanInterval(values) {
  const n = values.length;
  if (n < 2 || !values.every(Number.isFinite)) return { mean: null, ci95: [null, null] };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  const half = studentQuantile(1 - (1 - CONFIDENCE) / 2, n - 1) * Math.sqrt(variance / n);
  return { mean, ci95: [mean - half, mean + half] };
}

/**
 * Geometric mean of positive ratios with the 95% t interval of their logarithms, mapped
 * back: a ratio of 1 means no effect. A ratio that is not positive and finite leaves no interval.
 */
export function ratioInterval(ratios) {
  if (!ratios.every((r) => Number.isFinite(r) && r > 0)) return { mean: null, ci95: [null, null] };
  const { mean, ci95 } = meanInterval(ratios.map(Math.log));
  if (mean === null) return { mean, ci95 };
  return { mean: Math.exp(mean), ci95: [Math.exp(ci95[0]), Math.exp(ci95[1])] };
}

/** The verdict the interval gives: see the top of this file. */
export function verdict(ci95, noEffect, direction) {
  if (direction !== 'greater' && direction !== 'less') throw new RangeError(`direction: expected "greater" or "less", got ${direction}`);
  const [lo, hi] = ci95;
  if (lo === null || hi === null) return VERDICTS.inconclusive;
  const above = lo > noEffect;
  const below = hi < noEffect;
  if (!above && !below) return VERDICTS.inconclusive;
  return above === (direction === 'greater') ? VERDICTS.held : VERDICTS.notHeld;
}

/**
 * One claim in the shape results.json keeps: `perSeed` holds one paired value per seed,
 * differences (kind 'difference', no effect at 0) or ratios (kind 'ratio', no effect at 1);
 * null where the measure is undefined for a seed (then no interval and `inconclusive`).
 */
export function claim({ perSeed, kind, direction, unit, rule }) {
  if (kind !== 'difference' && kind !== 'ratio') throw new RangeError(`kind: expected "difference" or "ratio", got ${kind}`);
  const noEffect = kind === 'ratio' ? 1 : 0;
  // Both intervals give none (mean null) where a seed's value is null or not finite.
  const { mean, ci95 } = kind === 'ratio' ? ratioInterval(perSeed) : meanInterval(perSeed);
  return { verdict: verdict(ci95, noEffect, direction), effect: mean, ci95, noEffect, direction, unit, seeds: perSeed.length, rule };
}

/**
 * McNemar's exact test on paired right/wrong outcomes: `b` digits only the first model gets
 * right, `c` only the second. Two-sided p = min(1, 2·P(X ≤ min(b, c))), X ~ Binomial(b + c, ½).
 */
export function mcnemarExact(b, c) {
  for (const [name, v] of [['b', b], ['c', c]]) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name}: expected a non-negative integer count, got ${v}`);
  }
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // Sum the binomial terms in log space: n is up to the 10,000 test digits.
  const logHalfN = -n * Math.LN2;
  let logTerm = logHalfN;
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logTerm += Math.log((n - i + 1) / i);
    tail += Math.exp(logTerm);
  }
  return Math.min(1, 2 * tail);
}

/** The McNemar counts of two models' per-digit outcomes (1 right, 0 wrong) on the same digits. */
export function discordant(first, second) {
  if (first.length !== second.length) throw new RangeError(`second: expected ${first.length} outcomes like first, got ${second.length}`);
  let b = 0;
  let c = 0;
  for (let i = 0; i < first.length; i++) {
    if (first[i] && !second[i]) b++;
    else if (!first[i] && second[i]) c++;
  }
  return { b, c, p: mcnemarExact(b, c) };
}
