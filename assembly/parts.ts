// How an op is split across threads, and the per-thread scratch.
//
// The protocol. An op is a fixed sequence of phases. Each phase is one export, called by
// every participating thread with the same arguments followed by (scratch, part, parts):
// `parts` threads take part, this one is `part` in [0, parts), and `scratch` is this
// thread's own SCRATCH_BYTES region (16-byte aligned, allocated by the main thread: the
// kernels hold no mutable static data, because a module instantiated again on a shared
// memory would re-apply its data segments). The next phase starts when every part of this
// one has finished. Phases that need no scratch still take it, so every phase is called
// the same way.
//
// Bit-identical for any `parts`: no value's arithmetic depends on `parts`.
//  - Reductions split by channel. Each channel is reduced whole, by one part, in the same
//    order as on one thread; every path choice depends on the shape, never on the part's
//    range. Channels are cut into units that keep each unit's arithmetic what it is on one
//    thread: single channels where each channel is summed on its own; where f32 sums run
//    across a chunk of columns (interleaved rows, planar samples read as columns) the units
//    never cross a chunk and start on a column multiple of four within it, so no part's
//    range ends inside a v128 group that one thread summed whole; interleaved statistics,
//    whose re-summing of far columns is decided per chunk, take whole chunks.
//  - Interleaved reductions over at most CHUNK channels split by row groups instead
//    (MAX_GROUPS in limits.ts): a part reduces whole groups, each into its own slot of the
//    workspace's group sums, and a later phase merges the groups in order.
//  - Elementwise passes split by rows in units of ROW_UNIT: interleaved rows, planar rows of
//    S values (samples where S is under SHORT_ROW), since every element's arithmetic is the
//    same in any row.
// Parts take consecutive units: part p has units [⌊U·p/parts⌋, ⌊U·(p+1)/parts⌋).

import { CHUNK, COLUMNS, MAX_BLOCK_ROWS, MAX_GROUPS, columnRows } from "./limits";

// One thread's scratch. Each pass lays its arrays out from the start of the region:
//  - column passes (interleaved rows, planar samples as columns): f32 shift, Σd, Σd² per
//    column at COLUMN_SHIFT, COLUMN_D, COLUMN_Q (up to COLUMNS columns each);
//  - row passes into lanes (planar statistics in order, backward sums in lanes): f32 shift
//    per channel at LANE_SHIFT, f32x4 Σd and Σd² per channel at LANE_D, LANE_Q (CHUNK each);
//  - elementwise passes over planar samples as columns: the coefficients repeated per
//    column, up to four arrays of COLUMNS f32 from EXPANDED_COEF.
export const SCRATCH_BYTES: i32 = COLUMNS * 16;
export const COLUMN_SHIFT: usize = 0;
export const COLUMN_D: usize = <usize>COLUMNS << 2;
export const COLUMN_Q: usize = <usize>COLUMNS << 3;
export const LANE_SHIFT: usize = 0;
export const LANE_D: usize = <usize>CHUNK << 2;
export const LANE_Q: usize = LANE_D + (<usize>CHUNK << 4);
export const EXPANDED_COEF: usize = 0;

// The first unit of part `part`.
// @ts-ignore: decorator
@inline export function unitStart(units: i32, part: i32, parts: i32): i32 {
  return <i32>(<i64>units * <i64>part / <i64>parts);
}

// The channels of a part: [partFirst, partEnd), set by partChannels.
export let partFirst: i32 = 0;
export let partEnd: i32 = 0;

// C channels in chunks of `chunk` channels (the last may be short), each chunk cut into
// units of `unit` channels (the last unit of a chunk may be short); sets partFirst and
// partEnd to the channels of part's consecutive units.
export function partChannels(C: i32, chunk: i32, unit: i32, part: i32, parts: i32): void {
  const perChunk = (chunk + unit - 1) / unit;
  const fullChunks = C / chunk, rest = C - fullChunks * chunk;
  const units = fullChunks * perChunk + (rest + unit - 1) / unit;
  partFirst = unitChannel(unitStart(units, part, parts), C, chunk, unit, perChunk);
  partEnd = unitChannel(unitStart(units, part + 1, parts), C, chunk, unit, perChunk);
}

// @ts-ignore: decorator
@inline function unitChannel(u: i32, C: i32, chunk: i32, unit: i32, perChunk: i32): i32 {
  const k = u / perChunk;
  return min(C, k * chunk + min(chunk, (u - k * perChunk) * unit));
}

// Channels one at a time: [partFirst, partEnd) a plain share of C.
export function partChannelsEach(C: i32, part: i32, parts: i32): void {
  partFirst = unitStart(C, part, parts);
  partEnd = unitStart(C, part + 1, parts);
}

// The rows of a part for an elementwise pass over R rows (or samples): [partFirst, partEnd).
export function partRows(R: i32, unit: i32, part: i32, parts: i32): void {
  const units = (R + unit - 1) / unit;
  partFirst = min(R, unitStart(units, part, parts) * unit);
  partEnd = min(R, unitStart(units, part + 1, parts) * unit);
}

// Channels per unit of a planar-columns reduction: the fewest whose S columns make a
// multiple of four.
// @ts-ignore: decorator
@inline export function columnsUnit(S: i32): i32 {
  return (S & 3) == 0 ? 1 : (S & 1) == 0 ? 2 : 4;
}

// The channels of a part of a planar reduction (statistics, backward sums): units of
// columnsUnit(S) channels within chunks of COLUMNS/S where rows are read as columns
// (columnRows), else single channels.
export function partPlanarChannels(C: i32, S: i32, part: i32, parts: i32): void {
  if (columnRows(S)) partChannels(C, COLUMNS / S, columnsUnit(S), part, parts);
  else partChannelsEach(C, part, parts);
}

// The row groups of interleaved [R, C]: 1 above CHUNK channels, else up to MAX_GROUPS groups
// of groupRows(R) rows each (the last may be short).
export function groupCount(R: i32, C: i32): i32 {
  if (C > CHUNK || R <= MAX_BLOCK_ROWS) return 1;
  const blocks = (R + MAX_BLOCK_ROWS - 1) / MAX_BLOCK_ROWS;
  const perGroup = (blocks + MAX_GROUPS - 1) / MAX_GROUPS;
  return (blocks + perGroup - 1) / perGroup;
}

// Rows per group: whole blocks, as evenly as whole blocks allow.
// @ts-ignore: decorator
@inline export function groupRows(R: i32): i32 {
  const blocks = (R + MAX_BLOCK_ROWS - 1) / MAX_BLOCK_ROWS;
  return (blocks + MAX_GROUPS - 1) / MAX_GROUPS * MAX_BLOCK_ROWS;
}

// Group g's two f64 sums per channel (mean and M2, or Σdy and Σdy·(x − shift)): group 0
// writes the op's own arrays, group g > 0 the workspace's slot g − 1 of 2·C f64.
// @ts-ignore: decorator
@inline export function groupSlot(groups: usize, C: i32, g: i32): usize {
  return groups + (<usize>(g - 1) * <usize>C << 4);
}
