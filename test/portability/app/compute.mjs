// The same small workload for every runtime, so each result can be compared with Node's
// bit for bit. Plain ESM with no imports: browsers, workerd, Deno and Bun load it as is.

// mulberry32: a seeded generator that gives every runtime the same input.
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function values(count, seed, offset = 0) {
  const next = random(seed);
  return Array.from({ length: count }, () => offset + 4 * next() - 2);
}

// f32 bit patterns: exact, NaN-safe, and JSON-safe across process and page boundaries.
function bits(tensorOrArray) {
  const array = tensorOrArray instanceof Float32Array ? tensorOrArray : tensorOrArray.toArray();
  return Array.from(new Uint32Array(array.buffer, array.byteOffset, array.length));
}

function trainStep(rt, layer, shape, seed, offset) {
  const size = shape.reduce((a, b) => a * b, 1);
  const x = rt.tensor(shape, values(size, seed, offset));
  const dy = rt.tensor(shape, values(size, seed + 1));
  const y = layer.forward(x);
  const dx = layer.backward(dy);
  const out = { y: bits(y), dx: bits(dx) };
  for (const t of [x, dy, y, dx]) t.dispose();
  return out;
}

function evalStep(rt, layer, shape, seed) {
  const size = shape.reduce((a, b) => a * b, 1);
  const x = rt.tensor(shape, values(size, seed));
  layer.eval();
  const y = layer.forward(x);
  const out = bits(y);
  x.dispose();
  y.dispose();
  return out;
}

function state(layer) {
  const sd = layer.stateDict();
  return {
    weightGrad: bits(layer.weightGrad),
    biasGrad: bits(layer.biasGrad),
    runningMean: bits(sd.running_mean),
    runningVar: bits(sd.running_var),
    numBatchesTracked: sd.num_batches_tracked,
  };
}

/** Planar and interleaved kernels, train (two steps) and eval, forward and backward. */
export function compute(rt) {
  const planar = rt.batchNorm2d(3);
  const planarTrain = [trainStep(rt, planar, [4, 3, 5, 7], 1), trainStep(rt, planar, [4, 3, 5, 7], 3, 1e4)];
  const planarEval = evalStep(rt, planar, [2, 3, 5, 7], 5);

  const interleaved = rt.batchNorm2d(6, { channelsLast: true, momentum: null });
  const interleavedTrain = [trainStep(rt, interleaved, [3, 5, 2, 6], 7)];
  const interleavedEval = evalStep(rt, interleaved, [1, 5, 2, 6], 9);

  const result = {
    simd: rt.simd,
    planar: { train: planarTrain, eval: planarEval, ...state(planar) },
    interleaved: { train: interleavedTrain, eval: interleavedEval, ...state(interleaved) },
  };
  planar.dispose();
  interleaved.dispose();
  return result;
}
