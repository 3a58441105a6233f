// Small helpers every kernel family shares, written once. Those taking a `centred` flag
// are inlined where it is a constant, so the branch folds away. A loop built on them is
// compiled twice, each copy in a function of its own (a ...Shifted and an ...Unshifted
// one, chosen by the shifts): where one function inlined both copies, one under each arm
// of an `if`, Binaryen folded the arms back into a single loop that tests the flag on
// every vector, which is slower.

// The sum of the four f32 lanes, pairwise.
// @ts-ignore: decorator
@inline export function laneSum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// v − m, or v when the shift is 0.
// @ts-ignore: decorator
@inline export function about(v: v128, m: v128, centred: bool): v128 {
  return centred ? f32x4.sub(v, m) : v;
}

// @ts-ignore: decorator
@inline export function aboutf(v: f32, shift: f32, centred: bool): f32 {
  return centred ? v - shift : v;
}

// v − the four shifts at k, or v when `centred` is false (then they are not read).
// @ts-ignore: decorator
@inline export function aboutAt(v: v128, k: usize, centred: bool): v128 {
  return centred ? f32x4.sub(v, v128.load(k)) : v;
}

// aboutAt for one f32 shift at k.
// @ts-ignore: decorator
@inline export function aboutAtf(v: f32, k: usize, centred: bool): f32 {
  return centred ? v - load<f32>(k) : v;
}

// v with t added to its lane 0: a short row's scalar tail joins its channel's lanes.
// @ts-ignore: decorator
@inline export function plusLane0(v: v128, t: f32): v128 {
  return f32x4.replace_lane(v, 0, f32x4.extract_lane(v, 0) + t);
}

// The sum of a channel's lanes (four f32, or lane 0 alone in the scalar build), in f64.
// @ts-ignore: decorator
@inline export function lanesTotal(p: usize): f64 {
  if (ASC_FEATURE_SIMD) return <f64>laneSum(v128.load(p));
  return <f64>load<f32>(p);
}

// Whether any of the n f32 at p is not 0.
export function anyNonZero(p: usize, n: i32): bool {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) if (v128.any_true(f32x4.ne(v128.load(p + (<usize>i << 2)), zero))) return true;
  }
  for (; i < n; i++) if (load<f32>(p + (<usize>i << 2)) != 0) return true;
  return false;
}

// Copies `arrays` arrays of Wc f32 (at src, srcStep bytes apart) to dst, each value S
// times: per-channel values become per-column ones for a planar sample read as columns.
// The arrays land Wc·S values apart.
export function expandColumns(src: usize, srcStep: usize, arrays: i32, Wc: i32, S: i32, dst: usize): void {
  const W = <usize>(Wc * S);
  for (let a = 0; a < arrays; a++) {
    const from = src + <usize>a * srcStep, to = dst + (<usize>a * W << 2);
    for (let c = 0; c < Wc; c++) {
      const v = load<f32>(from + (<usize>c << 2)), at = to + (<usize>(c * S) << 2);
      for (let s = 0; s < S; s++) store<f32>(at + (<usize>s << 2), v);
    }
  }
}
