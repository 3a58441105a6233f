// A forward and backward large enough to split across threads (over the package's
// MIN_SPLIT_VALUES), planar and channels-last, reduced to a digest of its f32 bits so that
// runtimes can compare results with Node's single thread without shipping megabytes of JSON.
// Plain ESM with no imports, like compute.mjs.

// 8 × 16 × 32 × 32 = 131,072 values: every op of the step splits.
const SHAPE = [8, 16, 32, 32];

// FNV-1a over 32-bit words: any differing bit changes it.
function digest(into, array) {
  const words = new Uint32Array(array.buffer, array.byteOffset, array.length);
  let h = into;
  for (const w of words) h = Math.imul(h ^ w, 0x01000193) >>> 0;
  return h;
}

function values(count, seed) {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5 >>> 0;
    out[i] = (state / 4294967296) * 4 - 2;
  }
  return out;
}

function step(rt, channelsLast) {
  const shape = channelsLast ? [SHAPE[0], SHAPE[2], SHAPE[3], SHAPE[1]] : SHAPE;
  const size = shape.reduce((a, b) => a * b, 1);
  const layer = rt.batchNorm2d(SHAPE[1], { channelsLast });
  const x = rt.tensor(shape, values(size, 1));
  const dy = rt.tensor(shape, values(size, 2));
  const y = layer.forward(x);
  const dx = layer.backward(dy);
  let h = 0x811c9dc5;
  for (const t of [y, dx, layer.weightGrad, layer.biasGrad]) h = digest(h, t.toArray());
  for (const t of [x, dy, y, dx]) t.dispose();
  layer.dispose();
  return h.toString(16).padStart(8, '0');
}

/** rt.threads and a digest of a forward + backward step's bits on each layout. */
export function computeThreaded(rt) {
  return { threads: rt.threads, planar: step(rt, false), interleaved: step(rt, true) };
}
