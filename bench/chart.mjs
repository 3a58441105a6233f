// The size-sweep chart: time per call against elements, both axes logarithmic, one line per
// implementation and operation. Plain SVG, written by hand: no chart library needed to
// draw a few polylines.
import { floorOnOneThread } from './page.mjs';

const WIDTH = 720;
const HEIGHT = 440;
const MARGIN = { left: 70, right: 190, top: 30, bottom: 50 };
const SERIES = [
  { impl: 'ours', op: 'forward-train', label: 'batchnorm-wasm forward-train', color: '#1f77b4' },
  { impl: 'ours', op: 'backward', label: 'batchnorm-wasm backward', color: '#1f77b4', dash: '6 4' },
  { impl: 'copy', op: 'copy', label: 'wasm memory.copy', color: '#7f7f7f' },
  { impl: 'js', op: 'forward-train', label: 'plain JS forward-train', color: '#ff7f0e' },
  { impl: 'tfjs-wasm', op: 'forward-train', label: 'tfjs-wasm forward-train', color: '#2ca02c' },
  { impl: 'torch-1', op: 'forward-train', label: 'PyTorch 1 thread forward-train', color: '#d62728' },
  { impl: 'torch-1', op: 'backward', label: 'PyTorch 1 thread backward', color: '#d62728', dash: '6 4' },
];

const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** sweep: the benchmark's sweep results (elements, ops[op][impl].ms). Returns SVG text. */
export function sweepChart(sweep) {
  const series = SERIES.map((s) => ({
    ...s,
    points: sweep.filter((r) => r.ops[s.op]?.[s.impl]).map((r) => [r.elements, r.ops[s.op][s.impl].ms * 1000]),
  })).filter((s) => s.points.length > 1);
  const xs = sweep.map((r) => r.elements);
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const x0 = Math.floor(Math.log10(Math.min(...xs))), x1 = Math.ceil(Math.log10(Math.max(...xs)));
  const y0 = Math.floor(Math.log10(Math.min(...ys))), y1 = Math.ceil(Math.log10(Math.max(...ys)));
  const w = WIDTH - MARGIN.left - MARGIN.right, h = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (v) => MARGIN.left + ((Math.log10(v) - x0) / (x1 - x0 || 1)) * w;
  const py = (v) => MARGIN.top + h - ((Math.log10(v) - y0) / (y1 - y0 || 1)) * h;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="18" font-size="14">BatchNorm1d [10, 10, L]: time per call against size (log-log)</text>`,
  ];
  for (let e = x0; e <= x1; e++) {
    const x = px(10 ** e);
    out.push(`<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + h}" stroke="#ddd"/>`);
    out.push(`<text x="${x}" y="${MARGIN.top + h + 18}" text-anchor="middle">1e${e}</text>`);
  }
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e);
    const label = e < 3 ? `${10 ** e} µs` : e < 6 ? `${10 ** (e - 3)} ms` : `${10 ** (e - 6)} s`;
    out.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + w}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${y + 4}" text-anchor="end">${label}</text>`);
  }
  out.push(`<text x="${MARGIN.left + w / 2}" y="${HEIGHT - 12}" text-anchor="middle">elements (f32)</text>`);
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${w}" height="${h}" fill="none" stroke="#333"/>`);
  series.forEach((s, i) => {
    const pts = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    for (const [x, y] of s.points) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    const ly = MARGIN.top + 10 + i * 20, lx = MARGIN.left + w + 12;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${escape(s.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/**
 * The scaling chart: each workload's train-step speed-up over one thread (ours / ours-Nt),
 * against the thread count, with perfect scaling as a grey line, and dashed in the same
 * colour the floor's speed-up (floor-1t / floor-Nt: the same sweeps split the same way). Where
 * the floor's line flattens, memory bandwidth stops both; where ours stays below its floor's,
 * the part of the op that does not split (or its synchronisation) does.
 */
export function scalingChart(results, threads, op = 'train-step') {
  const counts = [1, ...threads];
  const speedups = (r, one, split) => counts
    .filter((n) => n === 1 || (one(r.ops[op] ?? {}) && r.ops[op]?.[split(n)]))
    .map((n) => [n, n === 1 ? 1 : one(r.ops[op]).ms / r.ops[op][split(n)].ms]);
  const series = results.flatMap((r, i) => [
    { label: r.label, color: PALETTE[i % PALETTE.length], points: speedups(r, (row) => row.ours, (n) => `ours-${n}t`) },
    { label: null, color: PALETTE[i % PALETTE.length], dash: '5 4', points: speedups(r, floorOnOneThread, (n) => `floor-${n}t`) },
  ]).filter((s) => s.points.length > 1);
  const xMax = Math.max(...counts);
  const yMax = Math.max(xMax, ...series.flatMap((s) => s.points.map((p) => p[1])));
  const w = WIDTH - MARGIN.left - MARGIN.right, h = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (v) => MARGIN.left + ((v - 1) / (xMax - 1 || 1)) * w;
  const py = (v) => MARGIN.top + h - (v / yMax) * h;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="18" font-size="14">${escape(op)}: speed-up over one thread against threads (dashed: the floor)</text>`,
  ];
  for (const n of counts) {
    const x = px(n);
    out.push(`<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + h}" stroke="#ddd"/>`);
    out.push(`<text x="${x}" y="${MARGIN.top + h + 18}" text-anchor="middle">${n}</text>`);
  }
  for (let v = 0; v <= yMax; v++) {
    const y = py(v);
    out.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + w}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${y + 4}" text-anchor="end">${v}×</text>`);
  }
  out.push(`<text x="${MARGIN.left + w / 2}" y="${HEIGHT - 12}" text-anchor="middle">threads</text>`);
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${w}" height="${h}" fill="none" stroke="#333"/>`);
  out.push(`<line x1="${px(1)}" y1="${py(1)}" x2="${px(xMax)}" y2="${py(xMax)}" stroke="#999" stroke-dasharray="4 4"/>`);
  let legend = 0;
  for (const s of series) {
    const pts = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    for (const [x, y] of s.points) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    if (s.label === null) continue;
    const ly = MARGIN.top + 10 + legend++ * 20, lx = MARGIN.left + w + 12;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${escape(s.label)}</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
