// The adapter that lets the package's BatchNorm (rt.batchNorm1d) sit in a Sequential:
// it gives the layer owned output tensors and the Layer interface; the math is the
// BatchNorm's own, one forward and one backward call.
import { BatchNorm, type StateDict } from '../batchnorm.js';
import type { Tensor } from '../tensor.js';
import { checkBatchStatsCount, inputLayout } from '../shape.js';
import { checkBoolean, disposedError, typeError } from '../errors.js';
import { serializable, readState } from '../state.js';
import { LayerBase, parameter, type Layer, specOf, type LayerStateInput, type LayerState, type Parameter } from './layer.js';

// The ranks each BatchNorm takes, by its name (BatchNorm1d(3)): the name is the only public
// record of its dimensionality, and Sequential must check a whole chain before it runs.
const RANKS: Record<string, readonly number[]> = { BatchNorm1d: [2, 3], BatchNorm2d: [4], BatchNorm3d: [5] };

/**
 * A core BatchNorm (rt.batchNorm1d/2d/3d) as a Layer; the math is the BatchNorm's own.
 * A Sequential wraps a BatchNorm passed to it in one, so it is rarely made by hand.
 */
export class BatchNormLayer extends LayerBase implements Layer {
  readonly #module: BatchNorm;
  readonly #ranks: readonly number[];

  constructor(module: BatchNorm) {
    // The BatchNorm checks that every tensor is of its runtime.
    super(null);
    if (!(module instanceof BatchNorm)) throw typeError('module', 'a BatchNorm (rt.batchNorm1d/2d/3d)', module);
    if (module.disposed) throw disposedError(`module: ${module}`);
    this.#module = module;
    this.#ranks = RANKS[String(module).slice(0, 'BatchNorm1d'.length)]!;
    if (new.target === BatchNormLayer) Object.freeze(this);
  }

  /** The wrapped layer; the adapter disposes it with itself. */
  get module(): BatchNorm {
    return this.#module;
  }

  get training(): boolean {
    return this.#module.training;
  }

  set training(mode: boolean) {
    this.#module.train(checkBoolean('training', mode));
  }

  /** {@inheritDoc Layer.parameters} */
  parameters(): Parameter[] {
    const m = this.#module;
    if (!m.weight || !m.bias || !m.weightGrad || !m.biasGrad) return [];
    return [parameter('weight', m.weight, m.weightGrad), parameter('bias', m.bias, m.biasGrad)];
  }

  /** {@inheritDoc Layer.zeroGrad} */
  zeroGrad(): void {
    this.live();
    this.#module.zeroGrad();
  }

  /** The wrapped BatchNorm's state dict: weight and bias (affine), running statistics and their count (trackRunningStats). */
  stateDict(): LayerState {
    this.live();
    return serializable({ ...this.#module.stateDict() } as LayerState);
  }

  prepareLoad(state: LayerStateInput, prefix: string): () => void {
    this.live();
    const read = readState(state, specOf(this.stateDict()), prefix);
    const converted = Object.fromEntries(read) as StateDict;
    return () => this.#module.loadStateDict(converted);
  }

  toString(): string {
    return String(this.#module);
  }

  protected checkShape(inputShape: readonly number[]): readonly number[] {
    const m = this.#module;
    const layout = inputLayout('x', inputShape, m.channelsLast, this.#ranks, m.numFeatures);
    if (m.training || !m.trackRunningStats) checkBatchStatsCount(layout, inputShape);
    return inputShape;
  }

  protected run(x: Tensor, y: Tensor): void {
    this.#module.forward(x, y);
  }

  // dγ and dβ need the same pass as dx, so dx is computed either way.
  protected get alwaysComputesDx(): boolean {
    return true;
  }

  protected runBackward(dy: Tensor, _x: Tensor, dx: Tensor | null): void {
    this.#module.backward(dy, dx!);
  }

  protected release(): void {
    this.#module.dispose();
  }

  protected live(): void {
    super.live();
    if (this.#module.disposed) throw disposedError(String(this));
  }
}
