// The one shape validator, and the mapping from a layer's input shape to the two data
// shapes the kernels know: planar [N, C, S] and interleaved [R, C].
import { checkNonNegativeInteger, rangeError, readArray } from './errors.js';

/** Dimensions a tensor may have. */
export const MAX_RANK = 8;

/** A checked copy of `shape`, read once (a getter cannot make the copy differ from what was checked). */
export function checkShape(argument: string, shape: unknown): number[] {
  const dims = readArray(argument, shape, 'an array of dimension sizes');
  if (dims.length > MAX_RANK) throw rangeError(argument, `at most ${MAX_RANK} dimensions`, dims);
  for (let i = 0; i < dims.length; i++) checkNonNegativeInteger(`${argument}[${i}]`, dims[i]);
  return dims as number[];
}

export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Planar [N, C, S]: the channel axis is 1, S the product of the spatial axes.
 * Interleaved [R, C]: the channel axis is last (channels-last, and [N, C]).
 */
export interface Layout {
  readonly planar: boolean;
  /** The product of the axes before the channel axis (for interleaved, R). */
  readonly N: number;
  readonly C: number;
  /** Values per channel and sample: S for planar, 1 for interleaved. */
  readonly S: number;
  /** Rows of an interleaved layout (every axis but the channel axis); N for planar. */
  readonly R: number;
  /** Values per channel over the batch: the n of the statistics. */
  readonly count: number;
}

/**
 * The layout of `shape` with its channel axis at `axis`: the axes before it are the batch N,
 * those after it the spatial S. One value per sample and channel (S = 1, channels-last or
 * [N, C]) is interleaved [R, C], the faster path for that memory; anything else is planar.
 */
export function layoutAt(shape: readonly number[], axis: number): Layout {
  let N = 1, S = 1;
  for (let i = 0; i < axis; i++) N *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) S *= shape[i]!;
  const C = shape[axis]!;
  if (S === 1) return { planar: false, N, C, S: 1, R: N, count: N };
  return { planar: true, N, C, S, R: N, count: N * S };
}

/** The layout of a layer's input: channel axis 1, or last with channelsLast (and for [N, C]). */
export function layoutOf(shape: readonly number[], channelsLast: boolean): Layout {
  const rank = shape.length;
  return layoutAt(shape, rank === 2 || channelsLast ? rank - 1 : 1);
}

/**
 * Checks an input's rank and channel count and returns its layout. `ranks` lists the ranks
 * a layer accepts (null: any rank >= 2); `channels` the expected C (null: any).
 */
export function inputLayout(
  argument: string, shape: readonly number[], channelsLast: boolean, ranks: readonly number[] | null, channels: number | null,
): Layout {
  const rank = shape.length;
  if (ranks ? !ranks.includes(rank) : rank < 2) {
    const expected = ranks ? ranks.map((r) => `${r}D`).join(' or ') : 'at least 2D';
    throw new RangeError(`${argument}: expected ${expected} input (got ${rank}D input of shape ${formatShape(shape)})`);
  }
  const axis = channelsLast ? rank - 1 : 1;
  if (channels !== null && shape[axis] !== channels) {
    throw new RangeError(
      `${argument}: expected ${channels} channels on axis ${axis}${channelsLast ? ' (channels-last)' : ''}, got ${shape[axis]} in shape ${formatShape(shape)}`,
    );
  }
  return layoutOf(shape, channelsLast);
}

/** PyTorch's check: batch statistics need more than one value per channel. */
export function checkBatchStatsCount(layout: Layout, shape: readonly number[]): void {
  if (layout.count === 1) {
    throw new RangeError(`Expected more than 1 value per channel when training, got input size ${formatShape(shape)}`);
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A RangeError naming `argument` unless `shape` is `expected`; `whose` says where that came from. */
export function checkSameShape(argument: string, shape: readonly number[], expected: readonly number[], whose?: string): void {
  if (!sameShape(shape, expected)) {
    throw new RangeError(`${argument}: expected shape ${formatShape(expected)}${whose === undefined ? '' : ` (${whose})`}, got ${formatShape(shape)}`);
  }
}
