// The thresholds that choose a kernel's path, with their reasons, and the debug global
// that says which path the last pass took. Every choice depends on the shape alone (never
// on a thread's part of it), so every part of a split call takes the same path. Each
// constant is exported as a wasm global, so tests build their cases around the values the
// module was compiled with.

// Values per gathered planar block: 8 KiB, read from L1 if it must be summed again.
export const BLOCK: i32 = 2048;

// Rows per interleaved (or planar-columns) block: each channel's f32 lane adds at most this
// many values before the block merges into the f64 statistics.
export const MAX_BLOCK_ROWS: i32 = 128;

// f32 terms per accumulator lane in the backward sums before the lane is added into f64.
export const DOT_TERMS: i32 = 16;

// The L2 size assumed (1 MiB). Interleaved passes take four rows at a time (one load of the
// per-channel values for four rows) when the input fits, where those loads are what limits
// them; from memory, one row at a time keeps the store stream in order and is faster
// (bench/run.mjs, channels-last workloads). Planar statistics read short rows in memory
// order above it instead of gathering them.
export const L2_BYTES: f64 = 1048576;

// Channels per chunk. Interleaved passes, and planar ones reading rows in order, walk a
// block row by row over a chunk of at most CHUNK channels, keeping their f32 sums in the
// thread's scratch (three f32 per interleaved channel, or a planar row's shift and two f32x4
// of sums: 36 bytes).
export const CHUNK: i32 = 1024;

// Columns per chunk when planar samples are read as columns (rows under SHORT_ROW values),
// with up to four f32 each in the thread's scratch. Reading part of each sample at a time
// is much slower than reading samples whole, so this is large: [2048,256,8] fits whole.
export const COLUMNS: i32 = 4096;

// Planar rows shorter than this are too short to handle one by one: every planar pass takes
// a sample [C, S] as an interleaved row of C·S columns instead (but for rows of 8 or 12
// values on the SIMD build, see MIN_SPLAT_ROW).
export const SHORT_ROW: i32 = 16;

// From SHORT_ROW up to this row length, planar statistics of an input larger than L2 read
// rows in memory order (gathering short rows from memory means many streams far apart);
// from here on, a gathered block has at most four rows.
export const MAX_ROW_IN_ORDER: i32 = BLOCK / 4;

// Interleaved statistics of an input larger than L2 with fewer channels than this take two
// rows at a time: the two are added first, so each column's sums are loaded and stored once
// per two rows. From this many channels on, one row at a time is faster (measured on
// 25.7 MB inputs of 8 to 384 channels). The backward sums gain nothing from two rows at 64
// channels and lose from about 120, so they keep one.
export const MAX_TWO_ROWS_CHANNELS: i32 = 128;

// Planar rows under SHORT_ROW that are a multiple of four values long (8 or 12), from this
// length on, are handled per channel on the SIMD build, as longer rows are, not as
// columns: their statistics go into f32 lanes per channel in memory order (PATH_IN_ORDER),
// their backward sums too (PATH_IN_LANES), and the elementwise passes splat each channel's
// coefficients, one v128 to every four values of its row (PATH_SPLATS). Two channels at a
// time, with S a constant in each copy: a loop or a test per channel over its two or
// three v128 costs more than it moves. As columns they need per-column shifts, sums or
// coefficients (12 to 16 bytes per column), which crowd the samples out of L1 when they
// come from memory. At four values a channel's row is one v128, and splats cost what they
// save.
export const MIN_SPLAT_ROW: i32 = 8;

// Planar rows under SHORT_ROW read as columns: from memory, the backward sums take four
// samples at a time (as they do in L2) where a chunk has at least this many columns. Their
// three f32 arrays per column (shift, Σdy, Σdy·x: 24 KiB at 2048 columns) then no longer
// stay in L1 beside the samples streaming past them, and four samples share each load and
// store of the sums. Below it, four samples gain at some widths and lose at others, so
// one stays (measured on inputs of 6 to 26 MB with rows of 3 to 10 values and 320 to
// 4000 columns).
export const MIN_FOUR_ROW_COLUMNS: i32 = 2048;

// Whether planar rows of S values are handled per channel as MIN_SPLAT_ROW says (8 or 12).
// A branch that holds SIMD code tests ASC_FEATURE_SIMD itself as well: asc drops such a
// branch from the scalar build only when it sees the constant in the condition.
// @ts-ignore: decorator
@inline export function splatRows(S: i32): bool {
  return ASC_FEATURE_SIMD && S >= MIN_SPLAT_ROW && S < SHORT_ROW && (S & 3) == 0;
}

// Whether the planar passes read rows of S values as columns (SHORT_ROW, MIN_SPLAT_ROW).
// @ts-ignore: decorator
@inline export function columnRows(S: i32): bool {
  return S < SHORT_ROW && !splatRows(S);
}

// Planar rows shorter than this add their backward sums into f32 lanes per channel instead
// of into f64 one by one: for short rows that f64 step is most of the work.
export const MAX_ROW_IN_LANES: i32 = 64;

// Interleaved channels per unit of a split reduction: one 64-byte cache line of f32, a
// multiple of four so that no unit boundary falls inside a v128 group of columns.
export const INTERLEAVED_UNIT: i32 = 16;

// Row groups of an interleaved reduction over at most CHUNK channels. Split by channels,
// every part would stream all the rows for a few cache lines of each; split by rows, each
// group of whole MAX_BLOCK_ROWS blocks is reduced as its own chain of blocks (as a whole
// input is) into its own f64 sums, and the groups then merge in order. An input has at
// most this many groups (the number depends on the shape alone), so up to this many
// threads share such a reduction.
export const MAX_GROUPS: i32 = 8;

// Rows per unit of a split elementwise pass: the four-row groups of the interleaved passes.
export const ROW_UNIT: i32 = 4;

// The paths, as lastPath reports them. PATH_FOUR_ROWS is added to an interleaved or
// columns path that took four rows at a time, PATH_TWO_ROWS to interleaved statistics that
// took two.
export const PATH_COLUMNS: i32 = 1;       // planar rows under SHORT_ROW, as columns
export const PATH_IN_ORDER: i32 = 2;      // planar statistics, rows in memory order
export const PATH_GATHERED: i32 = 3;      // planar statistics, gathered blocks
export const PATH_IN_LANES: i32 = 4;      // planar backward sums, rows into f32 lanes
export const PATH_ROWS: i32 = 5;          // planar, row by row (backward sums, elementwise)
export const PATH_INTERLEAVED: i32 = 6;   // interleaved rows
export const PATH_SPLATS: i32 = 7;        // planar short rows, coefficients splat per channel
export const PATH_FOUR_ROWS: i32 = 8;
export const PATH_TWO_ROWS: i32 = 16;

// The path of the last reduction or elementwise pass this instance ran (a debug export:
// tests assert it so that a case cannot drift to another path when a threshold moves).
export let lastPath: i32 = 0;

// @ts-ignore: decorator
@inline export function tookPath(path: i32): void {
  lastPath = path;
}

// The flag lastPath adds to a pass that took `together` (1, 2 or 4) rows at a time.
// @ts-ignore: decorator
@inline export function togetherPath(together: i32): i32 {
  return together == 4 ? PATH_FOUR_ROWS : together == 2 ? PATH_TWO_ROWS : 0;
}

// Whether an input of `values` f32 fits in L2 (four rows at a time, see L2_BYTES).
// @ts-ignore: decorator
@inline export function withinL2(values: f64): bool {
  return values * 4 <= L2_BYTES;
}
