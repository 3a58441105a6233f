// Softmax cross-entropy over [N, classes] logits with class-index labels, PyTorch's
// CrossEntropyLoss (mean reduction). Loss and gradient come from one kernel call.
import { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { formatShape } from '../shape.js';
import { disposedError, noForwardError, typeError } from '../errors.js';
import { Owned } from './layer.js';

function checkPair(rt: Runtime, logits: Tensor, labels: Tensor): [number, number] {
  rt.checkTensor('logits', logits);
  rt.checkTensor('labels', labels);
  if (logits.shape.length !== 2 || logits.shape[0]! < 1 || logits.shape[1]! < 1) {
    throw new RangeError(`logits: expected shape [N, classes] with N, classes >= 1, got ${formatShape(logits.shape)}`);
  }
  const [N, C] = logits.shape as [number, number];
  if (labels.shape.length !== 1 || labels.shape[0] !== N) {
    throw new RangeError(`labels: expected shape [${N}] (one class index per row of logits), got ${formatShape(labels.shape)}`);
  }
  return [N, C];
}

function labelError(C: number): RangeError {
  return new RangeError(`labels: expected integer class indices in [0, ${C - 1}], got a value outside`);
}

/**
 * Mean softmax cross-entropy over a batch of logits `[N, C]` and labels `[N]` (class indices stored as
 * float32). forward() returns the loss and computes its gradient in the same kernel call; backward() returns it.
 *
 * @example
 * ```js
 * const loss = new nn.SoftmaxCrossEntropy(rt);
 * const value = loss.forward(net.forward(x), labels);
 * net.backward(loss.backward());
 * ```
 */
export class SoftmaxCrossEntropy {
  readonly #rt: Runtime;
  readonly #grad = new Owned(this);
  #fresh = false;
  #disposed = false;

  constructor(rt: Runtime) {
    if (!(rt instanceof Runtime)) throw typeError('rt', 'a Runtime (from init())', rt);
    this.#rt = rt;
    if (new.target === SoftmaxCrossEntropy) Object.freeze(this);
  }

  /** Mean loss over the rows; also computes d loss/d logits for backward(). */
  forward(logits: Tensor, labels: Tensor): number {
    this.#live();
    // Until this call succeeds there is no gradient to hand out, not even the last one.
    this.#fresh = false;
    const [N, C] = checkPair(this.#rt, logits, labels);
    if (logits === this.#grad.current) {
      throw new RangeError('logits: must not be SoftmaxCrossEntropy\'s own gradient, which forward() overwrites (copy it with rt.tensor(logits.shape, logits.data))');
    }
    const grad = this.#grad.get(this.#rt, logits.shape);
    const loss = this.#rt.kernels.f32_softmax_xent(logits.ptr, labels.ptr, grad.ptr, N, C);
    if (Number.isNaN(loss) && !this.#labelsValid(logits, labels, N, C)) throw labelError(C);
    this.#fresh = true;
    return loss;
  }

  /** d loss / d logits of the last forward(); owned by the loss, valid until the next. */
  backward(): Tensor {
    this.#live();
    const grad = this.#grad.current;
    if (grad === null || !this.#fresh) throw noForwardError(String(this));
    return grad;
  }

  /** Frees the gradient tensor the loss owns; forward() and backward() throw after it, a second call does nothing. */
  dispose(): void {
    this.#grad.dispose();
    this.#fresh = false;
    this.#disposed = true;
  }

  /** 'SoftmaxCrossEntropy', the name its error messages use. */
  toString(): string {
    return 'SoftmaxCrossEntropy';
  }

  // Like every nn layer's: a disposed loss refuses work instead of allocating a new gradient.
  #live(): void {
    if (this.#disposed) throw disposedError(String(this));
  }

  // NaN means bad labels unless the logits themselves are not finite (then NaN is the loss).
  #labelsValid(logits: Tensor, labels: Tensor, N: number, C: number): boolean {
    return this.#rt.kernels.f32_argmax_correct(logits.ptr, labels.ptr, N, C) >= 0;
  }
}

/** Mean loss without a gradient (evaluation). */
export function crossEntropy(rt: Runtime, logits: Tensor, labels: Tensor): number {
  const [N, C] = checkPair(rt, logits, labels);
  const loss = rt.kernels.f32_softmax_xent(logits.ptr, labels.ptr, 0, N, C);
  if (Number.isNaN(loss) && rt.kernels.f32_argmax_correct(logits.ptr, labels.ptr, N, C) < 0) throw labelError(C);
  return loss;
}

/** How many rows have their largest logit at the label (first index on ties). */
export function correctCount(rt: Runtime, logits: Tensor, labels: Tensor): number {
  const [N, C] = checkPair(rt, logits, labels);
  const correct = rt.kernels.f32_argmax_correct(logits.ptr, labels.ptr, N, C);
  if (correct < 0) throw labelError(C);
  return correct;
}
