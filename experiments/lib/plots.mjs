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
