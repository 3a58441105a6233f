// Messages between the page (main.ts) and the training worker (worker.ts).
import { FIGURE1 as REPRODUCE } from '../experiments/lib/figure1.mjs';

/** init()'s threads option: 'auto' (half the logical cores, at most 4) or a count. */
export type ThreadsChoice = 'auto' | number;

/** What a Reset starts from. */
export interface RunConfig {
  seed: number;
  /** Standard deviation of the Gaussian initial weights (Linear's numeric init). */
  initStd: number;
  batch: number;
  lr: number;
  simd: boolean;
  threads: ThreadsChoice;
}

/**
 * Ioffe & Szegedy's Figure 1 setting as `npm run reproduce` runs it with its default seed
 * (experiments/lib/figure1.mjs); the page's controls start from these values.
 */
export const FIGURE1 = Object.freeze({
  hidden: REPRODUCE.hidden as readonly number[],
  trainSize: REPRODUCE.trainSize,
  defaults: Object.freeze({ seed: 1, initStd: REPRODUCE.initStd, batch: REPRODUCE.batch, lr: REPRODUCE.lr, simd: true, threads: 'auto' }) as RunConfig,
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
  /** Moves both networks, mid-training, to the runtime of this build and these threads. */
  | { type: 'runtime'; simd: boolean; threads: ThreadsChoice };

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

/** The runtime both networks train on. */
export interface RuntimeInfo {
  simd: boolean;
  /** rt.threads: how many threads a large op runs on. */
  threads: number;
  /** The threads option init() was given. */
  asked: ThreadsChoice;
  /** Why init() refused the threads asked for (the networks then train on one thread), or null. */
  refused: string | null;
}

export type FromWorker =
  | {
    type: 'reset';
    runtime: RuntimeInfo;
    config: RunConfig;
    trainDigits: number;
    testDigits: number;
    /** A few test digits, 784 floats each, and their labels, for the prediction grid. */
    grid: { images: Float32Array; labels: number[] };
  }
  | { type: 'runtime'; runtime: RuntimeInfo }
  /** `threads`: rt.threads now (1 once a pool that failed to start gave up). */
  | { type: 'progress'; step: number; running: boolean; threads: number; losses: LossPoint[]; evaluations: Evaluation[]; speed: Speed | null; divergedAt: PerModel<number | null> }
  | { type: 'error'; message: string };
