// The README's headline tables, filled from the files that hold the numbers, never retyped:
// speed from bench/results/latest.json, the papers' claims from docs/results.json, sizes
// from the built files. Each table sits between `<!-- begin:NAME -->` and
// `<!-- end:NAME -->`; `npm run readme` rewrites them, test/generated.test.ts fails when
// the README and these renderers disagree.
//
//   npm run readme
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fmtRatio, fmtTime } from '../bench/page.mjs';
import { markdownTable as table } from './generated.mjs';
import { sizes, sizesTable } from './sizes.mjs';

const ROOT = new URL('../', import.meta.url);
export const README = new URL('README.md', ROOT);
export const LATEST = new URL('bench/results/latest.json', ROOT);
export const RESULTS = new URL('docs/results.json', ROOT);

// The speed headline: the ResNet-sized NCHW layer, its channels-last twin, a BatchNorm1d of
// MLP size and the Ioffe network's tiny one.
const SPEED_ROWS = [
  ['nchw-32x64x56x56', 'forward-train'],
  ['nchw-32x64x56x56', 'forward-eval'],
  ['nchw-32x64x56x56', 'backward'],
  ['nhwc-32x56x56x64', 'forward-train'],
  ['bn1d-256x1024', 'forward-train'],
  ['bn1d-60x100', 'forward-train'],
  ['bn1d-60x100', 'backward'],
];

// What each claim id of docs/results.json says, in the README's words.
const CLAIMS = {
  'ioffe.fasterTraining': 'BN trains faster (Ioffe Fig. 1a)',
  'ioffe.higherAccuracy': 'BN ends with higher test accuracy (Ioffe Fig. 1a)',
  'ioffe.stableInputs': 'BN keeps a sigmoid\'s input distribution stable (Ioffe Fig. 1b, c)',
  higherLearningRates: 'BN allows higher learning rates (Ioffe §3.3)',
  initialization: 'BN makes training robust to the initial weights (Ioffe §3.2)',
  regularization: 'BN regularizes: a smaller train–test gap (Ioffe §3.4)',
  replacesDropout: 'BN can replace Dropout (Ioffe §3.4)',
  vanishingGradients: 'BN eases vanishing gradients in deep sigmoid nets (Ioffe §1)',
  'santurkar.noisyBnTrainsAsWell': 'Noisy BN still trains better than no BN (Santurkar Fig. 2)',
  'santurkar.icsNotReduced': 'BN does not reduce internal covariate shift (Santurkar Fig. 5)',
  'santurkar.lossVariation': 'BN smooths the loss: smaller loss variation (Santurkar Fig. 4a)',
  'santurkar.gradientPredictiveness': 'More predictive gradients (Santurkar Fig. 4b)',
  'santurkar.betaSmoothness': 'Smaller effective β-smoothness (Santurkar Fig. 4c)',
};

function when(env) {
  return `${env.date.slice(0, 10)}, ${env.cpus} × ${env.cpu}, \`${env.command}\``;
}

export function speedTable(latest) {
  const rows = SPEED_ROWS.map(([id, op]) => {
    const w = latest.workloads.find((candidate) => candidate.id === id);
    const row = w?.ops[op];
    const o = row?.ours;
    if (o === undefined) throw new Error(`bench/results/latest.json has no ${op} for ${id}`);
    const two = row['ours-2t']?.ms;
    return [w.label, op, fmtTime(o.ms), fmtRatio(o.vsFloor), fmtRatio(o.ms / two), fmtRatio(o.speedup['torch-1']),
      fmtRatio(row['torch-2']?.ms / two), fmtRatio(o.speedup['tfjs-wasm'])];
  });
  return [
    table(['workload', 'op', 'time', '× floor', '2 threads', 'vs PyTorch, 1 thread', 'vs PyTorch, 2 threads', 'vs TF.js wasm'], rows),
    '',
    `From \`bench/results/latest.json\` (${when(latest.env)}); time and × floor on one thread (× floor: the time over the ` +
      'memory sweeps the operation must make, timed without arithmetic); "2 threads" is our speed-up with `init({ threads: 2 })`; ' +
      '"vs" is the peer\'s time over ours, with as many threads on both sides (— where the run had no such peer).',
  ].join('\n');
}

function number(x) {
  // A claim with no effect (a seed where it is undefined, e.g. a model that trains at no
  // rate) carries null in effect and ci95: its verdict is inconclusive and its cells a dash.
  if (x === null) return '—';
  return Math.abs(x) >= 100 ? x.toFixed(0) : String(Number(x.toPrecision(3)));
}

/** One row per claim of `results.json`'s `claims`, in the order of its keys. */
export function claimsTable(claims) {
  const rows = Object.entries(claims).map(([id, c]) => {
    const side = c.direction === 'greater' ? '>' : '<';
    return [
      CLAIMS[id] ?? `\`${id}\``,
      `**${c.verdict}**`,
      `${number(c.effect)} [${number(c.ci95[0])}, ${number(c.ci95[1])}] ${c.unit}`,
      `${side} ${number(c.noEffect)}`,
      String(c.seeds),
    ];
  });
  return table(['claim', 'verdict', 'effect [95% CI]', 'paper\'s side', 'seeds'], rows);
}

export function resultsSection(results) {
  if (results === null) {
    return 'The table of verdicts is written here from `docs/results.json` by `npm run readme` once ' +
      '`npm run reproduce -- --full` has produced it; [docs/results.md](docs/results.md) has the full report.';
  }
  return [
    claimsTable(results.claims),
    '',
    'From `docs/results.json`: each verdict is decided by its interval alone (held: the whole interval on the ' +
      'paper\'s side of "no effect"; did not hold: the whole interval on the other side; inconclusive: it contains ' +
      'no effect). [docs/results.md](docs/results.md) has each claim\'s setup, rule and plots.',
  ].join('\n');
}

/** The README with every `begin:NAME`/`end:NAME` region replaced by `tables[NAME]`. */
export function fillRegions(readme, tables) {
  let out = readme;
  for (const [name, body] of Object.entries(tables)) {
    const begin = `<!-- begin:${name} -->`;
    const end = `<!-- end:${name} -->`;
    const from = out.indexOf(begin);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md has no ${begin} … ${end} region`);
    out = `${out.slice(0, from + begin.length)}\n${body}\n${out.slice(to)}`;
  }
  return out;
}

function readJson(url) {
  return existsSync(url) ? JSON.parse(readFileSync(url, 'utf8')) : null;
}

/** The tables as the files on disk give them. */
export async function readmeTables() {
  const latest = readJson(LATEST);
  if (latest === null) throw new Error('no bench/results/latest.json: run npm run bench');
  return { speed: speedTable(latest), results: resultsSection(readJson(RESULTS)), sizes: sizesTable(await sizes()) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(README, fillRegions(readFileSync(README, 'utf8'), await readmeTables()));
}
