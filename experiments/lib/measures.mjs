// Measures taken along training for issue 8's experiments: per-layer gradient norms
// (vanishing gradients) and Santurkar et al.'s internal covariate shift. Both read the
// gradients that the step's backward() left in the parameters and leave the network as
// they found it, so training goes on as if nothing was measured.
import * as nn from '../../dist/nn/index.js';

/** The Linear layers of a Sequential, input side first. */
export function linearLayers(net) {
  return net.layers.filter((l) => l instanceof nn.Linear);
}

/** ‖∂L/∂W‖₂ of each Linear's weight, input side first, from the gradients in place. */
export function layerGradNorms(net) {
  return linearLayers(net).map((l) => Math.sqrt(nn.dot(l.weightGrad, l.weightGrad)));
}

/** The first layer's gradient norm over the last layer's (< 1: the gradient shrinks toward the input). */
export function firstLastRatio(norms) {
  return norms[0] / norms[norms.length - 1];
}

/** Final train minus final test accuracy. */
export function generalizationGap(trainAccuracy, testAccuracy) {
  return trainAccuracy[trainAccuracy.length - 1] - testAccuracy[testAccuracy.length - 1];
}

/**
 * Internal covariate shift as Santurkar et al. (2018, Definition 2.1) define it, for the
 * weights of `net.layers[layer]` (a Linear): G is that layer's gradient on the batch (x, y),
 * G' its gradient on the same batch after every layer below it takes the SGD step this
 * batch's gradient gives (W ← W − lr·∂L/∂W; plain SGD, as in the runs that use this) while
 * the layer itself and those above keep their weights. Returns ‖G − G'‖₂, ‖G − G'‖₂/‖G‖₂
 * and cos(G, G').
 *
 * Expects backward() on (x, y) to have just run, so the parameters hold this batch's
 * gradients. Restores the weights, the gradients and BatchNorm running statistics; noise
 * layers (nn.UnitNoise, SampleNoise: anything with a `hold` switch) replay this step's draw, so G and G' see the same noise and differ
 * only by the update below.
 */
export function covariateShift(rt, net, loss, x, y, layer, lr) {
  const target = net.layers[layer];
  if (!(target instanceof nn.Linear)) throw new TypeError(`layer ${layer}: expected the index of a Linear, got ${target}`);
  const below = net.layers.slice(0, layer).flatMap((l) => l.parameters());
  const params = net.parameters();
  const stateful = net.layers.filter((l) => l instanceof nn.BatchNormLayer);
  const noise = net.layers.filter((l) => typeof l.hold === 'boolean');
  const running = stateful.map((l) => l.stateDict());
  const grads = params.map((p) => rt.tensor(p.grad.shape, p.grad.data));
  const weights = below.map((p) => rt.tensor(p.value.shape, p.value.data));
  const g = rt.tensor(target.weightGrad.shape, target.weightGrad.data);

  for (const p of below) nn.addScaled(p.value, p.value, -lr, p.grad);
  for (const l of noise) l.hold = true;
  net.zeroGrad();
  loss.forward(net.forward(x), y);
  net.backward(loss.backward());
  for (const l of noise) l.hold = false;
  const gNext = target.weightGrad;
  const distance = Math.sqrt(nn.squaredDistance(g, gNext));
  const norm = Math.sqrt(nn.dot(g, g));
  const cosine = nn.dot(g, gNext) / (norm * Math.sqrt(nn.dot(gNext, gNext)));

  below.forEach((p, i) => p.value.set(weights[i].data));
  params.forEach((p, i) => p.grad.set(grads[i].data));
  stateful.forEach((l, i) => l.loadStateDict(running[i]));
  for (const t of [...grads, ...weights, g]) t.dispose();
  return { l2: distance, relativeL2: distance / norm, cosine };
}
