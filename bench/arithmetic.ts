// The least arithmetic any f32 batch-norm kernel without fused multiply-add must do, with
// nothing else: no shift, no blocks, no merges, every accumulator in a register. Timed
// against the memory sweeps of floors.ts (re-exported here, so both come from one module)
// by bench/arithmetic-floor.mjs, it says how close to the floor a kernel on one thread can
// get where the input is in cache and the floor is no longer set by memory.
//   forward-train  moments(x): Σx and Σx² (an addition, a product and an addition per value),
//                  then scaleShift(y, x): y = x·a + b
//   forward-eval   scaleShift(y, x)
//   backward       dots(x, dy): Σdy and Σdy·x, then gradient(dx, x, dy): dx = dy·k + q + x·p
export { sum, sum2, copyLoop, add } from "./floors";

// The sums are whole (all four lanes), so a test can check that every value was read.
function lanes(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// Σx + Σx².
export function moments(p: usize, n: i32): f32 {
  let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0, q0 = s0, q1 = s0, q2 = s0, q3 = s0;
  const whole = n & ~15;
  let i = 0;
  for (; i < whole; i += 16) {
    const a = p + (<usize>i << 2);
    const v0 = v128.load(a), v1 = v128.load(a, 16), v2 = v128.load(a, 32), v3 = v128.load(a, 48);
    s0 = f32x4.add(s0, v0);
    s1 = f32x4.add(s1, v1);
    s2 = f32x4.add(s2, v2);
    s3 = f32x4.add(s3, v3);
    q0 = f32x4.add(q0, f32x4.mul(v0, v0));
    q1 = f32x4.add(q1, f32x4.mul(v1, v1));
    q2 = f32x4.add(q2, f32x4.mul(v2, v2));
    q3 = f32x4.add(q3, f32x4.mul(v3, v3));
  }
  let s = lanes(f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(f32x4.add(q0, q1), f32x4.add(q2, q3))));
  for (; i < n; i++) {
    const v = load<f32>(p + (<usize>i << 2));
    s += v + v * v;
  }
  return s;
}

// y = x·1.5 + 0.25.
export function scaleShift(dst: usize, src: usize, n: i32): void {
  const a = f32x4.splat(1.5), b = f32x4.splat(0.25);
  const whole = n & ~15;
  let i = 0;
  for (; i < whole; i += 16) {
    const o = <usize>i << 2;
    const v0 = v128.load(src + o), v1 = v128.load(src + o, 16), v2 = v128.load(src + o, 32), v3 = v128.load(src + o, 48);
    v128.store(dst + o, f32x4.add(f32x4.mul(v0, a), b));
    v128.store(dst + o, f32x4.add(f32x4.mul(v1, a), b), 16);
    v128.store(dst + o, f32x4.add(f32x4.mul(v2, a), b), 32);
    v128.store(dst + o, f32x4.add(f32x4.mul(v3, a), b), 48);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(src + o) * 1.5 + 0.25);
  }
}

// Σdy + Σdy·x.
export function dots(x: usize, dy: usize, n: i32): f32 {
  let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0, d0 = s0, d1 = s0, d2 = s0, d3 = s0;
  const whole = n & ~15;
  let i = 0;
  for (; i < whole; i += 16) {
    const o = <usize>i << 2, g = dy + o, v = x + o;
    const g0 = v128.load(g), g1 = v128.load(g, 16), g2 = v128.load(g, 32), g3 = v128.load(g, 48);
    s0 = f32x4.add(s0, g0);
    s1 = f32x4.add(s1, g1);
    s2 = f32x4.add(s2, g2);
    s3 = f32x4.add(s3, g3);
    d0 = f32x4.add(d0, f32x4.mul(g0, v128.load(v)));
    d1 = f32x4.add(d1, f32x4.mul(g1, v128.load(v, 16)));
    d2 = f32x4.add(d2, f32x4.mul(g2, v128.load(v, 32)));
    d3 = f32x4.add(d3, f32x4.mul(g3, v128.load(v, 48)));
  }
  let s = lanes(f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(f32x4.add(d0, d1), f32x4.add(d2, d3))));
  for (; i < n; i++) {
    const o = <usize>i << 2, g = load<f32>(dy + o);
    s += g + g * load<f32>(x + o);
  }
  return s;
}

// dx = (dy·1.5 + 0.25) + x·(−0.5).
export function gradient(dx: usize, x: usize, dy: usize, n: i32): void {
  const k = f32x4.splat(1.5), p = f32x4.splat(-0.5), q = f32x4.splat(0.25);
  const whole = n & ~7;
  let i = 0;
  for (; i < whole; i += 8) {
    const o = <usize>i << 2;
    v128.store(dx + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(dy + o), k), q), f32x4.mul(v128.load(x + o), p)));
    v128.store(dx + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(dy + o, 16), k), q), f32x4.mul(v128.load(x + o, 16), p)), 16);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, (load<f32>(dy + o) * 1.5 + 0.25) + load<f32>(x + o) * -0.5);
  }
}
