// Where the channel axis sits decides which of the two kernel layouts a tfjs input maps to.
import type { Layout } from '../shape.js';
import { sizeOf } from '../shape.js';

/** Ranks the fused path handles; anything else goes to tfjs's own layer (and its errors). */
export const MIN_RANK = 2;
export const MAX_RANK = 5;

/**
 * The channel axis `axis` (already non-negative) of `shape` as a kernel layout: axes before
 * it are the batch N, axes after it the spatial S. Channels-last (S = 1) is interleaved
 * [R, C]; anything else is planar [N, C, S].
 */
export function channelLayout(shape: readonly number[], axis: number): Layout {
  const N = sizeOf(shape.slice(0, axis));
  const C = shape[axis]!;
  const S = sizeOf(shape.slice(axis + 1));
  if (S === 1) return { planar: false, N, C, S: 1, R: N, count: N };
  return { planar: true, N, C, S, R: N, count: N * S };
}
