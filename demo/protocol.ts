// Messages between the page (main.ts) and the training worker (worker.ts).
import { FIGURE1 as REPRODUCE } from '../experiments/lib/figure1.mjs';

/** What a Reset starts from. */
export interface RunConfig {
  seed: number;
  /** Standard deviation of the Gaussian initial weights (Linear's numeric init). */
  initStd: number;
  batch: number;
  lr: number;
  simd: boolean;
}

/**
 * Ioffe & Szegedy's Figure 1 setting as `npm run reproduce` runs it with its default seed
 * (experiments/lib/figure1.mjs); the page's controls start from these values.
 */
export const FIGURE1 = Object.freeze({
  hidden: REPRODUCE.hidden as readonly number[],
  trainSize: REPRODUCE.trainSize,
  defaults: Object.freeze({ seed: 1, initStd: REPRODUCE.initStd, batch: REPRODUCE.batch, lr: REPRODUCE.lr, simd: true }) as RunConfig,
});

export const MODELS = ['bn', 'plain'] as const;
export type Model = (typeof MODELS)[number];
export type PerModel<T> = Record<Model, T>;

export type ToWorker =
  /** `stopAt`: pause by itself at this step (the page's ?steps=N), null for never. */
  | { type: 'load'; digitsUrl: string; config: RunConfig; stopAt: number | null }
  | { type: 'reset'; config: RunConfig }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'lr'; lr: number }
  | { type: 'simd'; simd: boolean };

export interface Evaluation {
  step: number;
  accuracy: PerModel<number>;
  /** 15th, 50th, 85th percentile over the test digits of the input to one last-layer sigmoid. */
  percentiles: PerModel<[number, number, number]>;
  /** Predicted class of each digit in the grid. */
  predictions: PerModel<number[]>;
}

export interface LossPoint {
  /** The step that ends the window. */
  step: number;
  loss: PerModel<number>;
}

export interface Speed {
  stepsPerSecond: number;
  /** Microseconds per BatchNorm forward and backward call at the current batch size. */
  bnForwardUs: number;
  bnBackwardUs: number;
}

export type FromWorker =
  | {
    type: 'reset';
    simd: boolean;
    config: RunConfig;
    trainDigits: number;
    testDigits: number;
    /** A few test digits, 784 floats each, and their labels, for the prediction grid. */
    grid: { images: Float32Array; labels: number[] };
  }
  | { type: 'simd'; simd: boolean }
  | { type: 'progress'; step: number; running: boolean; losses: LossPoint[]; evaluations: Evaluation[]; speed: Speed | null; divergedAt: PerModel<number | null> }
  | { type: 'error'; message: string };
