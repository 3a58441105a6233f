// The package internals the bench reaches into, in one place: the facade's layout rule, the
// kernels' op dispatch and workspace, the pool's wait, the split threshold and the Node pool.
// The bench times the very calls the layer makes, so it cannot use the public API alone;
// when one of these signatures changes in src/, the fix is here.
import { Workspace, backwardTrain, forwardEval, forwardTrain } from '../dist/ops.js';

export { layoutOf, sizeOf } from '../dist/shape.js';
export { allocate, free } from '../dist/heap.js';
export { attachSplitter } from '../dist/ops.js';
export { waitForChange } from '../dist/pool.js';
export { MIN_SPLIT_VALUES } from '../dist/threads.js';
export { startNodeThreads } from '../dist/threads.node.js';

/** Bytes of the per-channel workspace of an op over C channels. */
export function workspaceBytes(C) {
  return Workspace.bytes(C);
}

/**
 * The kernel calls of the timed ops on buffers already in k's memory, as the layer makes
 * them (training-mode backward). `b` holds the pointers: x, y, dy, dx, weight, bias,
 * runningMean, runningVar, gradWeight, gradBias, and ws (workspaceBytes(L.C) of them).
 */
export function kernelOps(k, L, b, momentum, eps) {
  const params = { weight: b.weight, bias: b.bias, runningMean: b.runningMean, runningVar: b.runningVar };
  const ws = new Workspace(b.ws, L.C);
  return {
    'forward-train': () => forwardTrain(k, L, b.x, b.y, params, momentum, eps, ws),
    'forward-eval': () => forwardEval(k, L, b.x, b.y, params, eps, ws),
    backward: () => backwardTrain(k, L, b.dy, b.x, b.dx, b.weight, b.gradWeight, b.gradBias, ws),
  };
}
