// From the per-seed results of study.mjs to the claims: for each claim id, one paired
// value per seed, then stats.claim() (mean, 95% t interval, verdict from the interval).
// Each claim also names what the paper says and what we ran, for the report; `secondary`
// holds the same statistics for the variants reported beside a claim (which never decide it).
import { claim } from './stats.mjs';
import { CONFIG, TRAINS_ACCURACY } from './study.mjs';

const POINTS = 100;

/** Geometric mean of the finite positive values, null if there are none. */
export function geometricMean(values) {
  const kept = values.filter((v) => Number.isFinite(v) && v > 0);
  if (kept.length === 0) return null;
  return Math.exp(kept.reduce((s, v) => s + Math.log(v), 0) / kept.length);
}

/** a / b, null unless both are finite and positive. */
function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && a > 0 && b > 0 ? a / b : null;
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

/** The largest rate whose final validation accuracy reaches TRAINS_ACCURACY, as a grid index; null if none. */
export function largestTrainingRate(finalValidation) {
  let best = null;
  finalValidation.forEach((a, i) => {
    if (Number.isFinite(a) && a >= TRAINS_ACCURACY) best = i;
  });
  return best;
}

const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
// A claim with the per-seed values it was computed from (results.json keeps those beside
// `claims`, whose shape is fixed, and inside `secondary`).
const difference = (perSeed, direction, unit, rule) => ({ ...claim({ perSeed, kind: 'difference', direction, unit, rule }), perSeed });
const ratioClaim = (perSeed, direction, unit, rule) => ({ ...claim({ perSeed, kind: 'ratio', direction, unit, rule }), perSeed });
const pct = (v) => `${Math.round(v * 100)}%`;

// Landscape measure `key`, BN over baseline, per seed: the geometric mean over checkpoints
// of each model's measure (each the mean over several batches), as a ratio.
function landscapeRatio(seedRuns, key) {
  return seedRuns.map((r) => ratio(geometricMean(r.bn.landscape.map((m) => m[key])), geometricMean(r.baseline.landscape.map((m) => m[key]))));
}

// ICS measure `key` of one run: the geometric mean over checkpoints and layers.
const icsLevel = (run, key) => geometricMean(run.ics.flat().map((m) => m[key]));

/**
 * The claims, in report order: { id, paper, setup, claim, secondary: { label: claim } }.
 * `runs` holds each task's per-seed results; `s` the schedule in steps.
 */
export function computeClaims(runs, s) {
  const { figure1: f1, santurkar: sa, learningRate: lr, initialization: ini, regularization: reg, vanishingGradients: van } = runs;
  const f = CONFIG.figure1;
  const fig1Setup = `784-${f.hidden.join('-')}-10 sigmoid, batch 60, N(0, ${f.init}²) weights, plain SGD, ${s.figure1} steps; each model at its best rate of {${f.rateGrid.join(', ')}} on validation (tuning runs of ${s.figure1Tuning} steps), same initial weights and batches`;
  const curveGap = (pair) => mean(pair.bn.testAccuracy.map((a, i) => a - pair.baseline.testAccuracy[i])) * POINTS;
  const finalGap = (pair) => (pair.bn.finalTest - pair.baseline.finalTest) * POINTS;
  const driftRatio = (pair, evalAt) => ratio(drift(evalAt, pair.bn.percentiles), drift(evalAt, pair.baseline.percentiles));
  const sharedNote = `both models at rate ${f.sharedRate}`;
  const list = [];

  list.push({
    id: 'ioffe.fasterTraining',
    paper: 'Ioffe & Szegedy Fig. 1(a): the BN network is ahead throughout training and reaches the baseline\'s accuracy far sooner',
    setup: fig1Setup,
    claim: difference(f1.map((r) => curveGap(r.tuned)), 'greater', 'test accuracy points, mean over checkpoints',
      'BN minus baseline test accuracy averaged over all checkpoints of training (the area between the curves per step), paired per seed'),
    secondary: { [sharedNote]: difference(f1.map((r) => curveGap(r.shared)), 'greater', 'test accuracy points, mean over checkpoints', 'as the claim, one shared rate') },
  });
  list.push({
    id: 'ioffe.higherAccuracy',
    paper: 'Ioffe & Szegedy Fig. 1(a): the BN network ends with higher test accuracy',
    setup: fig1Setup,
    claim: difference(f1.map((r) => finalGap(r.tuned)), 'greater', 'test accuracy points',
      'BN minus baseline test accuracy on the 10,000 test digits, each the mean of the last 3 checkpoints, paired per seed'),
    secondary: { [sharedNote]: difference(f1.map((r) => finalGap(r.shared)), 'greater', 'test accuracy points', 'as the claim, one shared rate') },
  });
  list.push({
    id: 'ioffe.stableInputs',
    paper: 'Ioffe & Szegedy Fig. 1(b, c): the 15/50/85th percentiles of a sigmoid\'s input drift over training without BN and stay put with BN',
    setup: `${fig1Setup}; input to unit 0 of the last hidden sigmoid over the test digits, eval mode`,
    claim: ratioClaim(f1.map((r) => driftRatio(r.tuned, r.evalAt)), 'less', 'ratio BN / baseline',
      'range of each percentile (15/50/85) from 10% of training to the end, averaged over the three; BN over baseline, geometric mean over seeds'),
    secondary: { [sharedNote]: ratioClaim(f1.map((r) => driftRatio(r.shared, r.evalAt)), 'less', 'ratio BN / baseline', 'as the claim, one shared rate') },
  });

  const l = CONFIG.learningRate;
  const rateSteps = lr.map((r) => {
    const bn = largestTrainingRate(r.bn.finalValidation);
    const baseline = largestTrainingRate(r.baseline.finalValidation);
    return bn === null || baseline === null ? null : bn - baseline;
  });
  list.push({
    id: 'higherLearningRates',
    paper: 'Ioffe & Szegedy §3.3, §4.2: BN lets a network train at much higher learning rates',
    setup: `Figure 1 network from Glorot weights (where the baseline trains), plain SGD, ${s.learningRate} steps at each rate of {${l.rates.join(', ')}}`,
    claim: difference(rateSteps, 'greater', 'grid steps (rates about 3× apart)',
      `largest rate at which BN trains minus the largest at which the baseline trains, in steps of the grid; "trains" = validation accuracy (mean of the last 3 checkpoints) at least ${pct(TRAINS_ACCURACY)}; no value (inconclusive) for a seed where either model trains at no rate; a model that trains at the top rate is censored there`),
    secondary: {},
  });

  const i = CONFIG.initialization;
  const reached = (m) => m.stepsToTarget.filter((v) => v !== null).length;
  const stepsRatio = ini.map((r) => geometricMean(r.bn.stepsToTarget.map((b, k) => ratio(b, r.baseline.stepsToTarget[k]))));
  list.push({
    id: 'initialization',
    paper: 'Ioffe & Szegedy (abstract, §3.2): BN allows us to be less careful about initialization',
    setup: `Figure 1 network, plain SGD at ${i.lr}, ${s.initialization} steps from each of: N(0, σ²) for σ in {${i.inits.filter((v) => typeof v === 'number').join(', ')}}, Glorot uniform, He normal`,
    claim: difference(ini.map((r) => reached(r.bn) - reached(r.baseline)), 'greater', `initializations reaching the target (of ${i.inits.length})`,
      `number of initializations from which test accuracy reaches ${pct(TRAINS_ACCURACY)} within the schedule, BN minus baseline, paired per seed`),
    secondary: {
      'steps to the target where both reach it, BN / baseline': ratioClaim(stepsRatio, 'less', 'ratio BN / baseline',
        'geometric mean over the inits both models reach the target from, of BN\'s steps over the baseline\'s'),
    },
  });

  const g = CONFIG.regularization;
  const regSetup = `ReLU 784-${g.hidden.join('-')}-10, PyTorch default init, SGD momentum ${g.momentum}, rate ${g.lr} with cosine decay to 0 over ${s.regularization} steps; Dropout after each ReLU at the rate of {${g.dropoutGrid.join(', ')}} best on validation`;
  const gap = (m) => m.finalTrain - m.finalTest;
  list.push({
    id: 'regularization',
    paper: 'Ioffe & Szegedy §3.4: a training example is seen together with the rest of its batch, which regularizes the network',
    setup: regSetup,
    claim: difference(reg.map((r) => (gap(r.bn) - gap(r.baseline)) * POINTS), 'less', 'generalization gap, points',
      'BN minus baseline generalization gap (accuracy on 10,000 training digits minus test accuracy, each the mean of the last 3 checkpoints), paired per seed'),
    secondary: {
      'test accuracy, BN minus baseline': difference(reg.map((r) => (r.bn.finalTest - r.baseline.finalTest) * POINTS), 'greater', 'test accuracy points', 'final test accuracies'),
    },
  });
  list.push({
    id: 'replacesDropout',
    paper: 'Ioffe & Szegedy §3.4, §4.2.1: with BN, Dropout can be removed without losing accuracy',
    setup: regSetup,
    claim: difference(reg.map((r) => (r.bn.finalTest - r.dropout.finalTest) * POINTS), 'greater', 'test accuracy points',
      'BN alone minus baseline+Dropout (tuned rate) test accuracy, each the mean of the last 3 checkpoints, paired per seed; "held" needs BN to be better, "did not hold" worse, and no tolerance makes a small gap count as equal'),
    secondary: {
      'BN+Dropout minus Dropout': difference(reg.map((r) => (r.bnDropout.finalTest - r.dropout.finalTest) * POINTS), 'greater', 'test accuracy points', 'final test accuracies'),
    },
  });

  const v = CONFIG.vanishingGradients;
  list.push({
    id: 'vanishingGradients',
    paper: 'Ioffe & Szegedy §1, §3.3: with BN, saturating nonlinearities no longer make the gradient vanish toward the input',
    setup: `${v.hidden.length} sigmoid hidden layers of ${v.hidden[0]}, Glorot weights, plain SGD at ${v.lr}, ${s.vanishingGradients} steps; ‖∂L/∂W‖ of every Linear at ${v.normPoints} checkpoints`,
    claim: ratioClaim(van.map((r) => ratio(geometricMean(r.bn.firstLastRatio), geometricMean(r.baseline.firstLastRatio))), 'greater', 'ratio BN / baseline',
      'first layer\'s over last layer\'s weight-gradient norm, geometric mean over checkpoints; BN\'s over the baseline\'s (> 1: less vanishing with BN)'),
    secondary: {},
  });

  const c = CONFIG.santurkar;
  const saSetup = `Figure 1 network from Glorot weights, plain SGD at ${c.lr}, ${s.santurkar} steps`;
  list.push({
    id: 'santurkar.noisyBnTrainsAsWell',
    paper: 'Santurkar et al. Fig. 2: BN with injected non-stationary noise (moving distributions) still trains better than no BN, about as well as BN',
    setup: `${saSetup}; noise after each BN per activation and per sample, its distribution redrawn every step`,
    claim: difference(sa.map((r) => (r.noisyBn.finalTest - r.baseline.finalTest) * POINTS), 'greater', 'test accuracy points',
      'noisy BN minus no BN test accuracy, each the mean of the last 3 checkpoints, paired per seed (noisy BN minus BN is reported beside it)'),
    secondary: {
      'noisy BN minus BN': difference(sa.map((r) => (r.noisyBn.finalTest - r.bn.finalTest) * POINTS), 'greater', 'test accuracy points', 'final test accuracies'),
      'BN minus no BN': difference(sa.map((r) => (r.bn.finalTest - r.baseline.finalTest) * POINTS), 'greater', 'test accuracy points', 'final test accuracies'),
    },
  });
  list.push({
    id: 'santurkar.icsNotReduced',
    paper: 'Santurkar et al. §2.2, Fig. 5: BN does not reduce internal covariate shift (a layer\'s gradient changes as much or more when the layers below update)',
    setup: `${saSetup}; ICS (their Definition 2.1) of every Linear above the first at ${c.icsPoints} checkpoints`,
    claim: ratioClaim(sa.map((r) => ratio(icsLevel(r.bn, 'relativeL2'), icsLevel(r.baseline, 'relativeL2'))), 'greater', 'ratio BN / baseline',
      '‖G − G′‖/‖G‖ (G, G′: a layer\'s gradient before and after the layers below take their SGD step), geometric mean over layers and checkpoints; BN over baseline (≥ 1 supports the paper)'),
    secondary: {
      'cos(G, G′), BN minus baseline': difference(sa.map((r) => mean(r.bn.ics.flat().map((m) => m.cosine)) - mean(r.baseline.ics.flat().map((m) => m.cosine))), 'less',
        'cosine', 'mean cosine over layers and checkpoints; less than 0 means BN moves the gradient more'),
    },
  });
  for (const [key, name, fig] of [
    ['lossVariation', 'loss variation along the gradient', '4(a)'], ['gradientPredictiveness', 'gradient change along the gradient (predictiveness)', '4(b)'],
    ['betaSmoothness', 'effective β-smoothness', '4(c)'],
  ]) {
    list.push({
      id: `santurkar.${key}`,
      paper: `Santurkar et al. Fig. ${fig}: BN makes the ${name} much smaller`,
      setup: `${saSetup}; at ${c.probePoints} checkpoints, mean over ${c.probeBatches} batches, walking W − η·g for η in {${c.stepSizes.join(', ')}}`,
      claim: ratioClaim(landscapeRatio(sa, key), 'less', 'ratio BN / baseline',
        `${name} (max over the step sizes), geometric mean over checkpoints; BN over baseline, Glorot network`),
      secondary: {
        'Figure 1 network (N(0, 0.01²) weights, tuned rates)': ratioClaim(landscapeRatio(f1.map((r) => r.tuned), key), 'less', 'ratio BN / baseline', 'as the claim, on the Figure 1 runs'),
      },
    });
  }
  return list;
}

/** The paired tests on the same test digits, by claim id (they never decide a verdict). */
export function pairedTests(runs) {
  const per = (list, pick) => list.map(pick);
  return {
    'ioffe.higherAccuracy': { test: 'McNemar exact, BN vs baseline', perSeed: per(runs.figure1, (r) => r.tuned.mcnemar) },
    replacesDropout: { test: 'McNemar exact, BN vs baseline+Dropout', perSeed: per(runs.regularization, (r) => r.mcnemar.bnDropout) },
    'santurkar.noisyBnTrainsAsWell': { test: 'McNemar exact, noisy BN vs no BN', perSeed: per(runs.santurkar, (r) => r.mcnemar.noisyBnBaseline) },
  };
}
