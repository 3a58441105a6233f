// Figures as vega-lite specs, rendered to SVG in Node by vega (no browser, no canvas).
import * as vega from 'vega';
import * as vl from 'vega-lite';

export async function renderSvg(spec) {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const WIDTH = 360;
const HEIGHT = 220;

function lines(title, values, x, y, color, extra = {}) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    width: WIDTH,
    height: HEIGHT,
    mark: { type: 'line', point: values.length <= 80 },
    encoding: { x, y, color },
    ...extra,
  };
}

/** Ioffe & Szegedy Figure 1(a): test accuracy over training steps. */
export function accuracySpec(title, steps, series) {
  const values = Object.entries(series).flatMap(([model, acc]) => steps.map((step, i) => ({ step, model, accuracy: acc[i] })));
  return lines(title, values,
    { field: 'step', type: 'quantitative', title: 'training step' },
    { field: 'accuracy', type: 'quantitative', title: 'test accuracy', scale: { zero: false } },
    { field: 'model', type: 'nominal' });
}

/** Figure 1(b, c): percentiles of one sigmoid's input, one panel per model. */
export function percentileSpec(title, steps, series) {
  const values = Object.entries(series).flatMap(([model, rows]) =>
    steps.flatMap((step, i) => ['15th', '50th', '85th'].map((p, j) => ({ step, model, percentile: p, value: rows[i][j] }))));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    facet: { column: { field: 'model', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: WIDTH * 0.75,
      height: HEIGHT,
      mark: 'line',
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'training step' },
        y: { field: 'value', type: 'quantitative', title: 'input to the sigmoid' },
        color: { field: 'percentile', type: 'nominal' },
      },
    },
  };
}

/** Final test accuracy over learning rates (log scale). */
export function learningRateSpec(title, rates, series) {
  const values = Object.entries(series).flatMap(([model, acc]) => rates.map((rate, i) => ({ rate, model, accuracy: acc[i] })));
  return lines(title, values,
    { field: 'rate', type: 'quantitative', title: 'learning rate', scale: { type: 'log' } },
    { field: 'accuracy', type: 'quantitative', title: 'final test accuracy', scale: { domain: [0, 1] } },
    { field: 'model', type: 'nominal' });
}

/** Santurkar et al. Figure 4: the landscape measures at checkpoints, one panel each. */
export function landscapeSpec(title, steps, measures) {
  const values = [];
  for (const [measure, series] of Object.entries(measures)) {
    for (const [model, v] of Object.entries(series)) {
      steps.forEach((step, i) => {
        if (Number.isFinite(v[i]) && v[i] > 0) values.push({ step, model, measure, value: v[i] });
      });
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    facet: { column: { field: 'measure', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: WIDTH * 0.7,
      height: HEIGHT,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'training step' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { type: 'log' } },
        color: { field: 'model', type: 'nominal' },
      },
    },
  };
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const label = (init) => (typeof init === 'number' ? `N(0, ${init}²)` : init);

/** Final test accuracy and steps to the target per initialization, BN vs none, side by side. */
export function initializationSpec(title, init) {
  const order = init.scales.map(label);
  const values = ['bn', 'baseline'].flatMap((model) => init.scales.map((s, i) => ({
    init: label(s),
    model,
    accuracy: init.finalTestAccuracy[model][i],
    steps: init.stepsTo90[model][i],
  })));
  const x = { field: 'init', type: 'ordinal', sort: order, title: 'initial weights' };
  const color = { field: 'model', type: 'nominal' };
  const xOffset = { field: 'model', type: 'nominal' };
  return {
    $schema: SCHEMA,
    title,
    data: { values },
    hconcat: [
      {
        width: WIDTH * 0.8,
        height: HEIGHT,
        mark: 'bar',
        encoding: { x, xOffset, color, y: { field: 'accuracy', type: 'quantitative', title: 'final test accuracy', scale: { domain: [0, 1] } } },
      },
      {
        width: WIDTH * 0.8,
        height: HEIGHT,
        // Runs that never reached the target have no bar.
        transform: [{ filter: 'datum.steps !== null' }],
        mark: 'bar',
        encoding: { x: { ...x, scale: { domain: order } }, xOffset, color, y: { field: 'steps', type: 'quantitative', title: `steps to ${Math.round(init.target * 100)}% test accuracy (none: never)` } },
      },
    ],
  };
}

/** Train (dashed) and test (solid) accuracy over training for each model. */
export function regularizationSpec(title, reg) {
  const models = ['baseline', 'bn', 'dropout', 'bnDropout'];
  const values = models.flatMap((model) => reg.evalSteps.flatMap((step, i) => [
    { step, model, set: 'train', accuracy: reg[model].trainAccuracy[i] },
    { step, model, set: 'test', accuracy: reg[model].testAccuracy[i] },
  ]));
  return {
    $schema: SCHEMA,
    title,
    data: { values },
    // Step 0 (chance) would squash the interesting range.
    transform: [{ filter: 'datum.step > 0' }],
    width: WIDTH,
    height: HEIGHT,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'training step' },
      y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { zero: false } },
      color: { field: 'model', type: 'nominal', sort: models },
      strokeDash: { field: 'set', type: 'nominal', sort: ['test', 'train'] },
    },
  };
}

/** Each Linear's weight-gradient norm by depth, one line per checkpoint, one panel per model. */
export function gradNormSpec(title, van) {
  const values = [];
  for (const model of ['bn', 'baseline']) {
    van.checkpoints.forEach((step, c) => {
      van.layerGradNorm[model][c].forEach((norm, layer) => {
        if (Number.isFinite(norm) && norm > 0) values.push({ model, step, layer: layer + 1, norm });
      });
    });
  }
  return {
    $schema: SCHEMA,
    title,
    data: { values },
    facet: { column: { field: 'model', type: 'nominal', title: null } },
    spec: {
      width: WIDTH * 0.75,
      height: HEIGHT,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'layer', type: 'quantitative', title: 'layer (1 = input side)', axis: { tickMinStep: 1 } },
        y: { field: 'norm', type: 'quantitative', title: '‖∂L/∂W‖₂', scale: { type: 'log' } },
        color: { field: 'step', type: 'ordinal', title: 'step', scale: { scheme: 'viridis' } },
      },
    },
  };
}

/** Santurkar et al.'s ICS at checkpoints: ‖G − G'‖ (log) and cos(G, G'), per model. */
export function covariateShiftSpec(title, ics) {
  const models = Object.keys(ics.cosine);
  const values = models.flatMap((model) => ics.checkpoints.map((step, i) => ({ step, model, l2: ics.l2[model][i], cosine: ics.cosine[model][i] })));
  const x = { field: 'step', type: 'quantitative', title: 'training step' };
  const color = { field: 'model', type: 'nominal' };
  return {
    $schema: SCHEMA,
    title,
    data: { values },
    hconcat: [
      {
        width: WIDTH * 0.75,
        height: HEIGHT,
        transform: [{ filter: 'datum.l2 !== null && datum.l2 > 0' }],
        mark: { type: 'line', point: true },
        encoding: { x, color, y: { field: 'l2', type: 'quantitative', title: '‖G − G′‖₂', scale: { type: 'log' } } },
      },
      {
        width: WIDTH * 0.75,
        height: HEIGHT,
        transform: [{ filter: 'datum.cosine !== null' }],
        mark: { type: 'line', point: true },
        encoding: { x, color, y: { field: 'cosine', type: 'quantitative', title: 'cos(G, G′)', scale: { domain: [-1, 1] } } },
      },
    ],
  };
}
