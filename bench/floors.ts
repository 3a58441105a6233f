// The memory sweeps each batch norm operation must make, with no arithmetic: what its time
// would be if the kernels cost nothing beyond moving the bytes. `npm run bench` compiles
// this twice: build/floors.wasm, timed next to the kernels on one thread, and
// build/floors-threads.wasm (shared, imported memory), whose sweeps bench/threaded-floor.mjs
// splits across threads the way the kernels split their elementwise passes.
//
// Unlike memory.copy (which the engine runs as a bulk copy that can skip reading the
// destination), these store with v128.store like the kernels, so they pay what any wasm
// kernel pays to write a new buffer.
//   forward-eval   copyLoop(y, x)                 one read of x, one write of y
//   forward-train  sum(x), then copyLoop(y, x)    the stats need all of x before any y
//   backward       sum2(x, dy), then add(dx, x, dy)
// Buffers are n f32, 4-byte aligned: a thread's share of the rows starts anywhere, so each
// sweep ends with the values that do not fill a whole step.

export function sum(p: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const whole = n & ~15;
  let i = 0;
  for (; i < whole; i += 16) {
    const a = p + (<usize>i << 2);
    a0 = f32x4.add(a0, v128.load(a));
    a1 = f32x4.add(a1, v128.load(a, 16));
    a2 = f32x4.add(a2, v128.load(a, 32));
    a3 = f32x4.add(a3, v128.load(a, 48));
  }
  let s = f32x4.extract_lane(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), 0);
  for (; i < n; i++) s += load<f32>(p + (<usize>i << 2));
  return s;
}

export function sum2(p: usize, q: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const whole = n & ~7;
  let i = 0;
  for (; i < whole; i += 8) {
    const o = <usize>i << 2;
    a0 = f32x4.add(a0, v128.load(p + o));
    a1 = f32x4.add(a1, v128.load(p + o, 16));
    a2 = f32x4.add(a2, v128.load(q + o));
    a3 = f32x4.add(a3, v128.load(q + o, 16));
  }
  let s = f32x4.extract_lane(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), 0);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    s += load<f32>(p + o) + load<f32>(q + o);
  }
  return s;
}

export function copyLoop(dst: usize, src: usize, n: i32): void {
  const whole = n & ~15;
  let i = 0;
  for (; i < whole; i += 16) {
    const o = <usize>i << 2;
    const v0 = v128.load(src + o), v1 = v128.load(src + o, 16), v2 = v128.load(src + o, 32), v3 = v128.load(src + o, 48);
    v128.store(dst + o, v0);
    v128.store(dst + o, v1, 16);
    v128.store(dst + o, v2, 32);
    v128.store(dst + o, v3, 48);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(src + o));
  }
}

export function add(dst: usize, p: usize, q: usize, n: i32): void {
  const whole = n & ~7;
  let i = 0;
  for (; i < whole; i += 8) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(p + o), v128.load(q + o)));
    v128.store(dst + o, f32x4.add(v128.load(p + o, 16), v128.load(q + o, 16)), 16);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(p + o) + load<f32>(q + o));
  }
}

// The f32 sum keeps the loops from being optimized away; its value means nothing.
export function forwardTrain(x: usize, y: usize, n: i32): f32 {
  const s = sum(x, n);
  copyLoop(y, x, n);
  return s;
}

export function backward(x: usize, dy: usize, dx: usize, n: i32): f32 {
  const s = sum2(x, dy, n);
  add(dx, x, dy, n);
  return s;
}

export function trainStep(x: usize, y: usize, dy: usize, dx: usize, n: i32): f32 {
  return forwardTrain(x, y, n) + backward(x, dy, dx, n);
}
