// Figures as vega-lite specs, rendered to SVG in Node by vega (no browser, no canvas).
// Every curve is the mean over seeds with a band from the lowest to the highest seed.
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { initName } from './report.mjs';

export async function renderSvg(spec) {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const WIDTH = 360;
const HEIGHT = 220;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Mean, lowest and highest of the finite (and, on a log axis, positive) values; null if none. */
export function band(values, log = false) {
  const kept = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (kept.length === 0) return null;
  return { mean: kept.reduce((a, b) => a + b, 0) / kept.length, lo: Math.min(...kept), hi: Math.max(...kept) };
}

/**
 * Mean line with a min–max band per series. `points`: [{ x, series, panel?, values }]
 * with one value per seed. `x.type` is 'quantitative' (optionally log) or 'ordinal'.
 */
function bandSpec({ title, points, x, y, series = 'model', panels = false }) {
  const values = points.flatMap((p) => {
    const b = band(p.values, y.log);
    return b ? [{ x: p.x, series: p.series, panel: p.panel, ...b }] : [];
  });
  const xEnc = { field: 'x', type: x.type ?? 'quantitative', title: x.title, ...(x.log ? { scale: { type: 'log' } } : {}), ...(x.sort ? { sort: x.sort } : {}) };
  const yScale = y.log ? { type: 'log' } : { zero: false };
  const color = { field: 'series', type: 'nominal', title: series };
  const layer = [
    { mark: { type: 'area', opacity: 0.2 }, encoding: { x: xEnc, y: { field: 'lo', type: 'quantitative', title: y.title, scale: yScale }, y2: { field: 'hi' }, color } },
    { mark: { type: 'line', point: true }, encoding: { x: xEnc, y: { field: 'mean', type: 'quantitative', title: y.title, scale: yScale }, color } },
  ];
  if (!panels) return { $schema: SCHEMA, title, data: { values }, width: WIDTH, height: HEIGHT, layer };
  return {
    $schema: SCHEMA, title, data: { values },
    facet: { column: { field: 'panel', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: { width: WIDTH * 0.75, height: HEIGHT, layer },
  };
}

// Per-seed series → points: `pick(seedResult)` gives one seed's series over `xs`.
function curves(perSeed, xs, entries) {
  return entries.flatMap(([series, pick, panel]) => xs.map((x, i) => ({ x, series, panel, values: perSeed.map((r) => pick(r)[i]) })));
}

const MODELS = [['BN', 'bn'], ['baseline', 'baseline']];
/** Every figure of the report, by file name. */
export function figures(results) {
  const { runs, config } = results;
  const f1 = runs.figure1;
  const sa = runs.santurkar;
  const out = {};
  out['ioffe2015-fig1a-test-accuracy.svg'] = bandSpec({
    title: 'Ioffe & Szegedy Fig. 1(a): test accuracy, each model at its tuned rate and both at one shared rate',
    points: curves(f1, f1[0].evalAt, [
      ...MODELS.map(([name, m]) => [`${name}, tuned rate`, (r) => r.tuned[m].testAccuracy]),
      ...MODELS.map(([name, m]) => [`${name}, rate ${config.figure1.sharedRate}`, (r) => r.shared[m].testAccuracy]),
    ]),
    x: { title: 'training step' }, y: { title: 'test accuracy' },
  });
  out['ioffe2015-fig1bc-sigmoid-input.svg'] = bandSpec({
    title: 'Fig. 1(b, c): 15/50/85th percentile of a last-layer sigmoid input (tuned rates)',
    points: MODELS.flatMap(([name, m]) => curves(f1, f1[0].evalAt, [15, 50, 85].map((q, j) => [`${q}th`, (r) => r.tuned[m].percentiles.map((p) => p[j]), name]))),
    x: { title: 'training step' }, y: { title: 'input to the sigmoid' }, series: 'percentile', panels: true,
  });
  out['learning-rate-sweep.svg'] = bandSpec({
    title: 'Validation accuracy at the end of training, by learning rate (Glorot init)',
    points: curves(runs.learningRate, config.learningRate.rates, MODELS.map(([name, m]) => [name, (r) => r[m].finalValidation])),
    x: { title: 'learning rate', log: true }, y: { title: 'validation accuracy' },
  });
  out['santurkar2018-noisy-bn.svg'] = bandSpec({
    title: 'Santurkar et al. Fig. 2: noisy BN vs BN vs none, test accuracy',
    points: curves(sa, sa[0].evalAt, [['BN', (r) => r.bn.testAccuracy], ['noisy BN', (r) => r.noisyBn.testAccuracy], ['none', (r) => r.baseline.testAccuracy]]),
    x: { title: 'training step' }, y: { title: 'test accuracy' },
  });
  out['santurkar2018-landscape.svg'] = bandSpec({
    title: 'Santurkar et al. Fig. 4: landscape along the gradient, Glorot network (log scale)',
    points: ['lossVariation', 'gradientPredictiveness', 'betaSmoothness'].flatMap((key) =>
      curves(sa, sa[0].probeAt, MODELS.map(([name, m]) => [name, (r) => r[m].landscape.map((l) => l[key]), key]))),
    x: { title: 'training step' }, y: { title: 'measure', log: true }, panels: true,
  });
  out['initialization.svg'] = bandSpec({
    title: 'Final test accuracy by initialization',
    points: curves(runs.initialization, config.initialization.inits.map(initName), MODELS.map(([name, m]) => [name, (r) => r[m].finalTest])),
    x: { title: 'initial weights', type: 'ordinal', sort: null }, y: { title: 'test accuracy' },
  });
  const reg = runs.regularization;
  out['regularization.svg'] = bandSpec({
    title: 'Train and test accuracy: BN, Dropout (tuned), both, neither',
    points: curves(reg, reg[0].evalAt, [['baseline', 'none'], ['bn', 'BN'], ['dropout', 'Dropout'], ['bnDropout', 'BN+Dropout']].flatMap(([m, name]) => [
      [`${name} train`, (r) => r[m].trainAccuracy], [`${name} test`, (r) => r[m].testAccuracy],
    ])),
    x: { title: 'training step' }, y: { title: 'accuracy' },
  });
  const van = runs.vanishingGradients;
  out['vanishing-gradients.svg'] = bandSpec({
    title: `‖∂L/∂W‖ first layer over last, ${config.vanishingGradients.hidden.length}-hidden-layer sigmoid net (log scale)`,
    points: curves(van, van[0].normAt, MODELS.map(([name, m]) => [name, (r) => r[m].firstLastRatio])),
    x: { title: 'training step' }, y: { title: 'first / last', log: true },
  });
  const layers = sa[0].bn.ics[0]?.length ?? 0;
  out['internal-covariate-shift.svg'] = bandSpec({
    title: 'Santurkar et al. ICS: ‖G − G′‖/‖G‖ per layer (log scale)',
    points: Array.from({ length: layers }, (_, l) => curves(sa, sa[0].icsAt, [['BN', 'bn'], ['noisy BN', 'noisyBn'], ['none', 'baseline']].map(([name, m]) =>
      [name, (r) => r[m].ics.map((c) => c[l].relativeL2), `Linear ${l + 2}`]))).flat(),
    x: { title: 'training step' }, y: { title: 'relative change', log: true }, panels: true,
  });
  return out;
}
