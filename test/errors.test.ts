// Bad input, table-driven: every public entry, every check in the README's Errors section. Each row names
// the error type and a message pattern that must hold the argument, the expectation and the
// value; after every throw the runtime holds exactly the memory it held before and the layer
// is as it was (a failed call changes nothing).
import { beforeAll, describe, expect, it } from 'vitest';
import { init, mergeChannelStats, type BatchNorm, type Runtime, type Tensor } from '../src/index.node.js';

// Bad values reach the API through `bad(...)`: the types say they cannot, plain JS callers can.
const bad = (value: unknown): never => value as never;

let rt: Runtime;
let other: Runtime;

beforeAll(async () => {
  rt = await init();
  other = await init({ simd: false });
});

interface Fixture {
  bn1: BatchNorm;
  bn2: BatchNorm;
  bn3: BatchNorm;
  bn5: BatchNorm;
  /** BatchNorm2d(3), channels-last */
  bnLast: BatchNorm;
  /** BatchNorm1d(3) without running stats, in eval mode */
  bnNoStats: BatchNorm;
  /** [1, 3]: one value per channel */
  single: Tensor;
  single3: Tensor;
  single4: Tensor;
  /** [4, 3], a valid input of bn1 */
  x: Tensor;
  /** [2, 3, 2, 2], a valid input of bn2 */
  x4: Tensor;
  /** [2, 3, 2, 2, 2], a valid input of bn3 */
  x5: Tensor;
  /** [4, 3] of values for backward */
  dy: Tensor;
  /** [4, 3] in the other runtime */
  foreign: Tensor;
  /** [4, 3], disposed */
  gone: Tensor;
  /** [3] in this runtime, for functional weights */
  w: Tensor;
  /** [3] in the other runtime */
  foreign3: Tensor;
  /** [0, 3] */
  empty: Tensor;
}

function fixture(): Fixture {
  const f: Fixture = {
    bn1: rt.batchNorm1d(3),
    bn2: rt.batchNorm2d(3),
    bn3: rt.batchNorm3d(3),
    bn5: rt.batchNorm1d(5),
    bnLast: rt.batchNorm2d(3, { channelsLast: true }),
    bnNoStats: rt.batchNorm1d(3, { trackRunningStats: false }).eval(),
    single: rt.tensor([1, 3], [1, 2, 3]),
    single3: rt.tensor([1, 3, 1], [1, 2, 3]),
    single4: rt.tensor([1, 3, 1, 1], [1, 2, 3]),
    x: rt.tensor([4, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]),
    x4: rt.tensor([2, 3, 2, 2], Array.from({ length: 24 }, (_, i) => Math.sin(i))),
    x5: rt.tensor([2, 3, 2, 2, 2], Array.from({ length: 48 }, (_, i) => Math.cos(i))),
    dy: rt.tensor([4, 3], [1, -1, 2, 0, 3, 1, -2, 1, 0, 1, 1, 1]),
    foreign: other.tensor([4, 3]),
    gone: rt.tensor([4, 3]),
    w: rt.tensor([3], [1, 2, 3]),
    foreign3: other.tensor([3]),
    empty: rt.tensor([0, 3]),
  };
  f.gone.dispose();
  return f;
}

function release(f: Fixture): void {
  for (const v of Object.values(f)) (v as { dispose(): void }).dispose();
}

interface Row {
  what: string;
  /** What must happen first (a forward before a backward); the layer may change here. */
  setup?: (f: Fixture) => void;
  run: (f: Fixture) => unknown;
  type: typeof TypeError | typeof RangeError;
  message: RegExp;
}

const forward1 = (f: Fixture): void => f.bn1.forward(f.x).dispose();

const PYTORCH_ONE_VALUE = /^Expected more than 1 value per channel when training, got input size \[1, 3\]$/;

// Grouped by the bullets, in its order.
const TABLE: Record<string, Row[]> = {
  'numFeatures not a positive integer': [
    ...([0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53] as const).map((v): Row => ({
      what: `batchNorm1d(${v})`, run: () => rt.batchNorm1d(v), type: RangeError,
      message: new RegExp(`^numFeatures: expected a positive integer, got ${v}$`),
    })),
    { what: "batchNorm2d('3')", run: () => rt.batchNorm2d(bad('3')), type: TypeError, message: /^numFeatures: expected a positive integer, got "3"$/ },
    { what: 'batchNorm3d(null)', run: () => rt.batchNorm3d(bad(null)), type: TypeError, message: /^numFeatures: expected a positive integer, got null$/ },
    { what: 'batchNorm1d()', run: () => rt.batchNorm1d(bad(undefined)), type: TypeError, message: /^numFeatures: expected a positive integer, got undefined$/ },
    { what: 'batchNorm1d(3n)', run: () => rt.batchNorm1d(bad(3n)), type: TypeError, message: /^numFeatures: expected a positive integer, got 3n$/ },
    // Past 1 GiB for the layer's workspace: refused before anything is allocated.
    { what: 'batchNorm1d(1e9)', run: () => rt.batchNorm1d(1e9), type: RangeError, message: /^numFeatures: needs \d+ bytes in one allocation, more than/ },
  ],
  'options not an object': [
    { what: 'batchNorm1d(3, null)', run: () => rt.batchNorm1d(3, bad(null)), type: TypeError, message: /^options: expected an object, got null$/ },
    { what: "batchNorm1d(3, 'eps')", run: () => rt.batchNorm1d(3, bad('eps')), type: TypeError, message: /^options: expected an object, got "eps"$/ },
  ],
  'eps not finite or negative': [
    ...([-1, -1e-30, NaN, Infinity, -Infinity] as const).map((v): Row => ({
      what: `eps ${v}`, run: () => rt.batchNorm1d(3, { eps: v }), type: RangeError,
      message: new RegExp(`^options\\.eps: expected a non-negative finite number, got ${v}$`),
    })),
    { what: "eps '1e-5'", run: () => rt.batchNorm2d(3, { eps: bad('1e-5') }), type: TypeError, message: /^options\.eps: expected a non-negative finite number, got "1e-5"$/ },
    // null is a value, not "use the default".
    { what: 'eps null', run: () => rt.batchNorm2d(3, { eps: bad(null) }), type: TypeError, message: /^options\.eps: expected a non-negative finite number, got null$/ },
    { what: 'functional eps -1', run: (f) => rt.batchNormElemt(f.x, { mean: [0, 0, 0], var: [1, 1, 1] }, { eps: -1 }), type: RangeError, message: /^options\.eps: expected a non-negative finite number, got -1$/ },
    { what: 'functional eps NaN', run: (f) => rt.batchNorm(f.x, { training: true, eps: NaN }), type: RangeError, message: /^options\.eps: expected a non-negative finite number, got NaN$/ },
  ],
  'momentum outside [0, 1] or not a number or null': [
    ...([-0.1, 1.0000001, 2, NaN, Infinity] as const).map((v): Row => ({
      what: `momentum ${v}`, run: () => rt.batchNorm1d(3, { momentum: v }), type: RangeError,
      message: new RegExp(`^options\\.momentum: expected a finite number in \\[0, 1\\], got ${v}$`),
    })),
    { what: "momentum '0.1'", run: () => rt.batchNorm1d(3, { momentum: bad('0.1') }), type: TypeError, message: /^options\.momentum: expected a number in \[0, 1\] or null, got "0\.1"$/ },
    { what: 'momentum true', run: () => rt.batchNorm1d(3, { momentum: bad(true) }), type: TypeError, message: /^options\.momentum: expected a number in \[0, 1\] or null, got true$/ },
    { what: 'functional momentum 2', run: (f) => rt.batchNorm(f.x, { training: true, momentum: 2 }), type: RangeError, message: /^options\.momentum: expected a finite number in \[0, 1\], got 2$/ },
    // A functional call has no numBatchesTracked, so null has nothing to average over.
    { what: 'functional momentum null', run: (f) => rt.batchNorm(f.x, { training: true, momentum: bad(null) }), type: TypeError, message: /^options\.momentum: expected a number in \[0, 1\] .*got null$/ },
  ],
  'boolean options': [
    { what: "affine 'yes'", run: () => rt.batchNorm1d(3, { affine: bad('yes') }), type: TypeError, message: /^options\.affine: expected a boolean, got "yes"$/ },
    // PyTorch reads affine=None as false; we refuse rather than guess.
    { what: 'affine null', run: () => rt.batchNorm1d(3, { affine: bad(null) }), type: TypeError, message: /^options\.affine: expected a boolean, got null$/ },
    { what: 'trackRunningStats 0', run: () => rt.batchNorm1d(3, { trackRunningStats: bad(0) }), type: TypeError, message: /^options\.trackRunningStats: expected a boolean, got 0$/ },
    { what: 'channelsLast 1', run: () => rt.batchNorm2d(3, { channelsLast: bad(1) }), type: TypeError, message: /^options\.channelsLast: expected a boolean, got 1$/ },
    { what: "train('no')", run: (f) => f.bn1.train(bad('no')), type: TypeError, message: /^mode: expected a boolean, got "no"$/ },
    { what: 'functional training 1', run: (f) => rt.batchNorm(f.x, { training: bad(1) }), type: TypeError, message: /^options\.training: expected a boolean, got 1$/ },
    { what: 'functional channelsLast null', run: (f) => rt.batchNormStats(f.x, { channelsLast: bad(null) }), type: TypeError, message: /^options\.channelsLast: expected a boolean, got null$/ },
  ],
  'shapes with negative, fractional, non-finite or too many dims': [
    { what: '[-1, 3]', run: () => rt.tensor([-1, 3]), type: RangeError, message: /^shape\[0\]: expected a non-negative integer, got -1$/ },
    { what: '[2, 1.5]', run: () => rt.tensor([2, 1.5]), type: RangeError, message: /^shape\[1\]: expected a non-negative integer, got 1\.5$/ },
    { what: '[NaN]', run: () => rt.tensor([NaN]), type: RangeError, message: /^shape\[0\]: expected a non-negative integer, got NaN$/ },
    { what: '[2, Infinity]', run: () => rt.tensor([2, Infinity]), type: RangeError, message: /^shape\[1\]: expected a non-negative integer, got Infinity$/ },
    { what: '[2 ** 53]', run: () => rt.tensor([2 ** 53]), type: RangeError, message: /^shape\[0\]: expected a non-negative integer, got 9007199254740992$/ },
    { what: "[2, '3']", run: () => rt.tensor(bad([2, '3'])), type: TypeError, message: /^shape\[1\]: expected a non-negative integer, got "3"$/ },
    { what: '[2, null]', run: () => rt.tensor(bad([2, null])), type: TypeError, message: /^shape\[1\]: expected a non-negative integer, got null$/ },
    { what: 'a hole [2, , 3]', run: () => rt.tensor(bad([2, , 3])), type: TypeError, message: /^shape\[1\]: expected a non-negative integer, got undefined$/ },
    { what: '9 dims', run: () => rt.tensor([1, 1, 1, 1, 1, 1, 1, 1, 1]), type: RangeError, message: /^shape: expected at most 8 dimensions, got an array of length 9$/ },
    { what: "'2,3'", run: () => rt.tensor(bad('2,3')), type: TypeError, message: /^shape: expected an array of dimension sizes, got "2,3"$/ },
    { what: 'Int32Array', run: () => rt.tensor(bad(new Int32Array([2, 3]))), type: TypeError, message: /^shape: expected an array of dimension sizes, got a Int32Array of length 2$/ },
    { what: 'undefined', run: () => rt.tensor(bad(undefined)), type: TypeError, message: /^shape: expected an array of dimension sizes, got undefined$/ },
    // Valid dims whose product does not fit one allocation (wasm32, 1 GiB per block).
    { what: '[2 ** 28]', run: () => rt.tensor([2 ** 28]), type: RangeError, message: /^shape: needs 1073741824 bytes in one allocation, more than the 1073741808/ },
    { what: '[2 ** 40, 2 ** 40]', run: () => rt.tensor([2 ** 40, 2 ** 40]), type: RangeError, message: /^shape: needs \d.* bytes in one allocation/ },
    { what: 'functional on a 1D tensor', run: (f) => rt.batchNormStats(f.w), type: RangeError, message: /^x: expected at least 2D input \(got 1D input of shape \[3\]\)$/ },
  ],
  'data of the wrong length': [
    { what: 'tensor([2, 3], 5 values)', run: () => rt.tensor([2, 3], [1, 2, 3, 4, 5]), type: RangeError, message: /^data: expected 6 values for shape \[2, 3\], got \[1, 2, 3, 4, 5\]$/ },
    { what: 'tensor([2, 3], Float32Array(7))', run: () => rt.tensor([2, 3], new Float32Array(7)), type: RangeError, message: /^data: expected 6 values for shape \[2, 3\], got a Float32Array of length 7$/ },
    { what: 'tensor([2], 5)', run: () => rt.tensor([2], bad(5)), type: TypeError, message: /^data: expected an array-like of 2 numbers, got 5$/ },
    { what: "tensor([2], 'ab')", run: () => rt.tensor([2], bad('ab')), type: TypeError, message: /^data: expected an array-like of 2 numbers, got "ab"$/ },
    { what: 'tensor([2], null)', run: () => rt.tensor([2], bad(null)), type: TypeError, message: /^data: expected an array-like of 2 numbers, got null$/ },
    { what: 'set(11 values)', run: (f) => f.x.set(new Array(11).fill(0)), type: RangeError, message: /^values: expected 12 values for shape \[4, 3\], got an array of length 11$/ },
    { what: 'set({})', run: (f) => f.x.set(bad({})), type: TypeError, message: /^values: expected an array-like of 12 numbers, got an object$/ },
    { what: 'BigInt64Array data', run: () => rt.tensor([2], bad(new BigInt64Array(2))), type: TypeError, message: /BigInt/ },
  ],
  'wrong rank for the layer': [
    { what: 'bn1d on [3]', run: (f) => f.bn1.forward(f.w), type: RangeError, message: /^x: expected 2D or 3D input \(got 1D input of shape \[3\]\)$/ },
    { what: 'bn1d on [2, 3, 2, 2]', run: (f) => f.bn1.forward(f.x4), type: RangeError, message: /^x: expected 2D or 3D input \(got 4D input of shape \[2, 3, 2, 2\]\)$/ },
    { what: 'bn2d on [4, 3]', run: (f) => f.bn2.forward(f.x), type: RangeError, message: /^x: expected 4D input \(got 2D input of shape \[4, 3\]\)$/ },
    { what: 'bn3d on [2, 3, 2, 2]', run: (f) => f.bn3.forward(f.x4), type: RangeError, message: /^x: expected 5D input \(got 4D input of shape \[2, 3, 2, 2\]\)$/ },
    { what: 'bn2d on [2, 3, 2, 2, 2]', run: (f) => f.bn2.forward(f.x5), type: RangeError, message: /^x: expected 4D input \(got 5D input of shape \[2, 3, 2, 2, 2\]\)$/ },
  ],
  'channel count mismatch': [
    { what: 'bn1d(5) on [4, 3]', run: (f) => f.bn5.forward(f.x), type: RangeError, message: /^x: expected 5 channels on axis 1, got 3 in shape \[4, 3\]$/ },
    {
      what: 'channels-last bn2d(3) on [2, 3, 2, 2]',
      run: (f) => f.bnLast.forward(f.x4), type: RangeError,
      message: /^x: expected 3 channels on axis 3 \(channels-last\), got 2 in shape \[2, 3, 2, 2\]$/,
    },
    { what: 'functional weight [4] for C = 3', run: (f) => rt.batchNormElemt(f.x, { mean: [0, 0, 0], var: [1, 1, 1] }, { weight: f.dy }), type: RangeError, message: /^options\.weight: expected shape \[3\], got \[4, 3\]$/ },
    { what: 'functional stats.mean of 2', run: (f) => rt.batchNormElemt(f.x, { mean: [0, 0], var: [1, 1, 1] }), type: RangeError, message: /^stats\.mean: expected 3 values, got \[0, 0\]$/ },
    { what: 'backwardReduce mean of 4', run: (f) => rt.batchNormBackwardReduce(f.dy, f.x, [0, 0, 0, 0]), type: RangeError, message: /^mean: expected 3 values, got \[0, 0, 0, 0\]$/ },
  ],
  'one value per channel in training (PyTorch\'s message)': [
    { what: 'bn1d on [1, 3]', run: (f) => f.bn1.forward(f.single), type: RangeError, message: PYTORCH_ONE_VALUE },
    { what: 'bn1d on [1, 3, 1]', run: (f) => f.bn1.forward(f.single3), type: RangeError, message: /^Expected more than 1 value per channel when training, got input size \[1, 3, 1\]$/ },
    { what: 'bn2d on [1, 3, 1, 1]', run: (f) => f.bn2.forward(f.single4), type: RangeError, message: /^Expected more than 1 value per channel when training, got input size \[1, 3, 1, 1\]$/ },
    // Without running stats eval uses batch statistics too, so PyTorch checks there as well.
    { what: 'eval without running stats', run: (f) => f.bnNoStats.forward(f.single), type: RangeError, message: PYTORCH_ONE_VALUE },
    { what: 'functional training', run: (f) => rt.batchNorm(f.single, { training: true }), type: RangeError, message: PYTORCH_ONE_VALUE },
  ],
  '`out` or `dy` of the wrong shape': [
    { what: 'forward out [3]', run: (f) => f.bn1.forward(f.x, f.w), type: RangeError, message: /^out: expected shape \[4, 3\], got \[3\]$/ },
    { what: 'forward out = x', run: (f) => f.bn1.forward(f.x, f.x), type: RangeError, message: /^out: must not be an input of the same call$/ },
    { what: 'forward out not a tensor', run: (f) => f.bn1.forward(f.x, bad(new Float32Array(12))), type: TypeError, message: /^out: expected a Tensor, got a Float32Array of length 12$/ },
    { what: 'forward out null', run: (f) => f.bn1.forward(f.x, bad(null)), type: TypeError, message: /^out: expected a Tensor, got null$/ },
    { what: 'backward dy [2, 3, 2, 2]', setup: forward1, run: (f) => f.bn1.backward(f.x4), type: RangeError, message: /^dy: expected shape \[4, 3\] \(the forward input's\), got \[2, 3, 2, 2\]$/ },
    { what: 'backward dy a plain array', setup: forward1, run: (f) => f.bn1.backward(bad([1, 2, 3])), type: TypeError, message: /^dy: expected a Tensor, got \[1, 2, 3\]$/ },
    { what: 'backward out [3]', setup: forward1, run: (f) => f.bn1.backward(f.dy, f.w), type: RangeError, message: /^out: expected shape \[4, 3\], got \[3\]$/ },
    { what: 'backward out = dy', setup: forward1, run: (f) => f.bn1.backward(f.dy, f.dy), type: RangeError, message: /^out: must not be an input of the same call$/ },
    { what: 'backward out = saved x', setup: forward1, run: (f) => f.bn1.backward(f.dy, f.x), type: RangeError, message: /^out: must not be an input of the same call$/ },
    { what: 'functional out wrong shape', run: (f) => rt.batchNorm(f.x, { training: true, out: f.x4 }), type: RangeError, message: /^options\.out: expected shape \[4, 3\], got \[2, 3, 2, 2\]$/ },
    { what: 'backwardReduce dy wrong shape', run: (f) => rt.batchNormBackwardReduce(f.x4, f.x, [0, 0, 0]), type: RangeError, message: /^dy: expected shape \[4, 3\] \(x's\), got \[2, 3, 2, 2\]$/ },
    {
      what: 'backwardElemt out = dy',
      run: (f) => rt.batchNormBackwardElemt(f.dy, f.x, { count: 4, mean: [0, 0, 0], var: [1, 1, 1], sumDy: new Float64Array(3), sumDyXmu: new Float64Array(3) }, { out: f.dy }),
      type: RangeError, message: /^options\.out: must not be an input of the same call$/,
    },
  ],
  'backward before forward': [
    { what: 'fresh layer', run: (f) => f.bn1.backward(f.dy), type: TypeError, message: /^backward\(\): expected a forward\(\) first, got no saved input$/ },
    { what: 'after a forward that threw', run: (f) => { expect(() => f.bn1.forward(f.x4)).toThrow(RangeError); return f.bn1.backward(f.dy); }, type: TypeError, message: /forward\(\) first/ },
  ],
  'the saved input disposed before backward': [
    {
      what: 'x disposed', type: TypeError, message: /^backward\(\): expected the input forward\(\) saved to be live, got Tensor \[4, 3\] disposed/,
      setup: (f) => {
        const x = rt.tensor([4, 3], f.x.data);
        f.bn1.forward(x).dispose();
        x.dispose();
      },
      run: (f) => f.bn1.backward(f.dy),
    },
  ],
  'use of a disposed tensor or layer': [
    { what: 'forward(disposed x)', run: (f) => f.bn1.forward(f.gone), type: TypeError, message: /^x: Tensor \[4, 3\] was disposed and cannot be used$/ },
    { what: 'forward(x, disposed out)', run: (f) => f.bn1.forward(f.x, f.gone), type: TypeError, message: /^out: Tensor \[4, 3\] was disposed and cannot be used$/ },
    { what: 'backward(disposed dy)', setup: forward1, run: (f) => f.bn1.backward(f.gone), type: TypeError, message: /^dy: Tensor \[4, 3\] was disposed/ },
    { what: 'disposed .data', run: (f) => f.gone.data, type: TypeError, message: /^Tensor \[4, 3\] was disposed and cannot be used$/ },
    { what: 'disposed .toArray()', run: (f) => f.gone.toArray(), type: TypeError, message: /^Tensor \[4, 3\] was disposed/ },
    { what: 'disposed .set()', run: (f) => f.gone.set(new Float32Array(12)), type: TypeError, message: /^Tensor \[4, 3\] was disposed/ },
    { what: 'functional on disposed x', run: (f) => rt.batchNormStats(f.gone), type: TypeError, message: /^x: Tensor \[4, 3\] was disposed/ },
    { what: 'functional disposed weight', run: (f) => { f.w.dispose(); return rt.batchNorm(f.x, { training: true, weight: f.w }); }, type: TypeError, message: /^options\.weight: Tensor \[3\] was disposed/ },
    ...(['forward', 'backward', 'train', 'eval', 'zeroGrad', 'resetRunningStats', 'resetParameters', 'stateDict', 'loadStateDict'] as const).map((method): Row => ({
      what: `disposed layer .${method}()`, type: TypeError, message: /^BatchNorm1d\(3\) was disposed and cannot be used$/,
      run: (f) => {
        const sd = f.bn1.stateDict();
        f.bn1.dispose();
        const args: Record<typeof method, unknown[]> = {
          forward: [f.x], backward: [f.dy], train: [], eval: [], zeroGrad: [], resetRunningStats: [], resetParameters: [], stateDict: [], loadStateDict: [sd],
        };
        return (f.bn1[method] as (...a: unknown[]) => unknown)(...args[method]);
      },
    })),
    // A parameter disposed on its own would reach the kernels as pointer 0, which they read
    // as "no weight": the layer would silently train without gamma.
    ...(['weight', 'bias', 'weightGrad', 'biasGrad', 'runningMean', 'runningVar'] as const).map((name): Row => ({
      what: `layer with .${name} disposed`, type: TypeError,
      message: new RegExp(`^BatchNorm1d\\(3\\)\\.${name} was disposed and cannot be used \\(dispose the layer, not its tensors\\)$`),
      run: (f) => {
        f.bn1[name]!.dispose();
        return f.bn1.forward(f.x);
      },
    })),
  ],
  'a tensor from another runtime': [
    { what: 'forward(x)', run: (f) => f.bn1.forward(f.foreign), type: TypeError, message: /^x: expected a Tensor of this runtime, got Tensor\(\[4, 3\]\) from another runtime/ },
    { what: 'forward(x, out)', run: (f) => f.bn1.forward(f.x, f.foreign), type: TypeError, message: /^out: expected a Tensor of this runtime/ },
    { what: 'backward(dy)', setup: forward1, run: (f) => f.bn1.backward(f.foreign), type: TypeError, message: /^dy: expected a Tensor of this runtime/ },
    { what: 'functional x', run: (f) => rt.batchNorm(f.foreign, { training: true }), type: TypeError, message: /^x: expected a Tensor of this runtime/ },
    { what: 'functional runningMean', run: (f) => rt.batchNorm(f.x, { runningMean: f.foreign3, runningVar: f.w }), type: TypeError, message: /^options\.runningMean: expected a Tensor of this runtime/ },
  ],
  'a state dict with missing keys or wrong lengths (the layer is left unchanged)': [
    ...(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'] as const).map((key): Row => ({
      what: `missing ${key}`, type: RangeError, message: new RegExp(`^stateDict: missing key "${key}"$`),
      run: (f) => {
        const sd = f.bn1.stateDict();
        delete sd[key];
        return f.bn1.loadStateDict(sd);
      },
    })),
    ...(['weight', 'bias', 'running_mean', 'running_var'] as const).map((key): Row => ({
      what: `${key} of 2 values`, type: RangeError, message: new RegExp(`^stateDict\\.${key}: expected 3 values, got a Float32Array of length 2$`),
      run: (f) => f.bn1.loadStateDict({ ...f.bn1.stateDict(), [key]: new Float32Array(2) }),
    })),
    { what: 'running_var a string', run: (f) => f.bn1.loadStateDict({ ...f.bn1.stateDict(), running_var: bad('111') }), type: TypeError, message: /^stateDict\.running_var: expected an array-like of 3 numbers, got "111"$/ },
    { what: 'num_batches_tracked -1', run: (f) => f.bn1.loadStateDict({ ...f.bn1.stateDict(), num_batches_tracked: -1 }), type: RangeError, message: /^stateDict\.num_batches_tracked: expected a non-negative integer, got -1$/ },
    { what: 'num_batches_tracked 1.5', run: (f) => f.bn1.loadStateDict({ ...f.bn1.stateDict(), num_batches_tracked: 1.5 }), type: RangeError, message: /^stateDict\.num_batches_tracked: expected a non-negative integer, got 1\.5$/ },
    { what: "num_batches_tracked '2'", run: (f) => f.bn1.loadStateDict({ ...f.bn1.stateDict(), num_batches_tracked: bad('2') }), type: TypeError, message: /^stateDict\.num_batches_tracked: expected a non-negative integer, got "2"$/ },
    { what: 'unexpected key', run: (f) => f.bn1.loadStateDict({ ...f.bn1.stateDict(), gamma: new Float32Array(3) } as never), type: RangeError, message: /^stateDict: unexpected key "gamma" \(expected weight, bias, running_mean, running_var, num_batches_tracked\)$/ },
    { what: 'running stats into a layer without them', run: (f) => f.bnNoStats.loadStateDict(f.bn1.stateDict()), type: RangeError, message: /^stateDict: unexpected key "running_mean"/ },
    { what: 'null', run: (f) => f.bn1.loadStateDict(bad(null)), type: TypeError, message: /^stateDict: expected an object, got null$/ },
  ],
  'sync batch norm statistics': [
    { what: 'mergeChannelStats([])', run: () => mergeChannelStats([]), type: TypeError, message: /^parts: expected a non-empty array of ChannelStats, got \[\]$/ },
    { what: 'mergeChannelStats([null])', run: () => mergeChannelStats(bad([null])), type: TypeError, message: /^parts\[0\]: expected a ChannelStats \(\{ count, mean, var \}\), got null$/ },
    { what: 'count -1', run: () => mergeChannelStats([{ count: -1, mean: new Float64Array(2), var: new Float64Array(2) }]), type: RangeError, message: /^parts\[0\]\.count: expected a non-negative integer, got -1$/ },
    {
      what: 'parts of different channel counts', type: RangeError, message: /^parts\[1\]\.mean: expected 2 values, got a Float64Array of length 3$/,
      run: () => mergeChannelStats([{ count: 2, mean: new Float64Array(2), var: new Float64Array(2) }, { count: 2, mean: new Float64Array(3), var: new Float64Array(3) }]),
    },
    { what: 'parts[1] a number', run: () => mergeChannelStats(bad([{ count: 2, mean: [0], var: [1] }, 5])), type: TypeError, message: /^parts\[1\]: expected a ChannelStats \(\{ count, mean, var \}\), got 5$/ },
    { what: 'elemt stats null', run: (f) => rt.batchNormElemt(f.x, bad(null)), type: TypeError, message: /^stats: expected an object with mean and var, got null$/ },
    {
      what: 'backwardElemt count 0', type: RangeError, message: /^stats\.count: expected a positive integer, got 0$/,
      run: (f) => rt.batchNormBackwardElemt(f.dy, f.x, { count: 0, mean: [0, 0, 0], var: [1, 1, 1], sumDy: new Float64Array(3), sumDyXmu: new Float64Array(3) }),
    },
  ],
  'readonly properties cannot be reassigned from plain JS': [
    // ES modules are strict code, so these assignments throw instead of being ignored; without
    // that, numFeatures = 100 would make the kernels write 100 channels into 3-float tensors.
    { what: 'bn.numFeatures = 100', run: (f) => { (f.bn1 as { numFeatures: number }).numFeatures = 100; }, type: TypeError, message: /numFeatures/ },
    { what: 'bn.weight = other', run: (f) => { (f.bn1 as { weight: Tensor | null }).weight = f.w; }, type: TypeError, message: /weight/ },
    { what: 'bn.runningVar = null', run: (f) => { (f.bn1 as { runningVar: Tensor | null }).runningVar = null; }, type: TypeError, message: /runningVar/ },
    { what: 't.shape = [12, 1] (a reshape attempt)', run: (f) => { (f.x as { shape: readonly number[] }).shape = [12, 1]; }, type: TypeError, message: /shape/ },
    { what: 't.size = 1e6', run: (f) => { (f.x as { size: number }).size = 1e6; }, type: TypeError, message: /size/ },
    { what: 't.shape[0] = 1000', run: (f) => { (f.x.shape as number[])[0] = 1000; }, type: TypeError, message: /read.only|0/ },
  ],
};

// After the throw, disposing the fixture must bring memoryUsage() back to where it was before
// the fixture: whatever the failing call allocated on its way was released.
describe.each(Object.entries(TABLE))('%s', (_bullet, rows) => {
  it.each(rows.map((r) => [r.what, r] as const))('%s', (_what, row) => {
    const baseline = rt.memoryUsage();
    const f = fixture();
    row.setup?.(f);
    const layers = [f.bn1, f.bn2, f.bn3];
    const state = layers.map((bn) => ({
      sd: bn.stateDict(), grads: [bn.weightGrad!.toArray(), bn.biasGrad!.toArray()], nbt: bn.numBatchesTracked, training: bn.training,
    }));
    let thrown: unknown;
    try {
      row.run(f);
    } catch (error) {
      thrown = error;
    }
    expect(thrown, 'did not throw').toBeInstanceOf(row.type);
    // Exactly the class asked for: a TypeError row must not pass with a subclass or a plain Error.
    expect((thrown as Error).constructor).toBe(row.type);
    expect((thrown as Error).message).toMatch(row.message);
    layers.forEach((bn, i) => {
      if (bn.disposed || [bn.weight, bn.bias, bn.weightGrad, bn.biasGrad, bn.runningMean, bn.runningVar].some((t) => t!.disposed)) return;
      expect(bn.stateDict(), `layer ${i} changed`).toEqual(state[i]!.sd);
      expect([bn.weightGrad!.toArray(), bn.biasGrad!.toArray()]).toEqual(state[i]!.grads);
      expect(bn.numBatchesTracked).toBe(state[i]!.nbt);
      expect(bn.training).toBe(state[i]!.training);
    });
    release(f);
    expect(rt.memoryUsage()).toEqual({ ...baseline, bytesReserved: rt.memoryUsage().bytesReserved });
  });
});

describe('what is allowed', () => {
  it('eps 0, momentum 0, 1 and null, numFeatures 1 with enough values', () => {
    for (const o of [{ eps: 0 }, { momentum: 0 }, { momentum: 1 }, { momentum: null }, { eps: -0 }]) {
      const bn = rt.batchNorm1d(1, o);
      const y = bn.forward(rt.tensor([2, 1], [1, 2]));
      expect(Number.isFinite(y.data[0]!)).toBe(true);
      bn.dispose();
      y.dispose();
    }
  });

  it('one value per channel is fine in eval with running stats (PyTorch agrees)', () => {
    const f = fixture();
    const y = f.bn1.eval().forward(f.single);
    // Running stats are mean 0, var 1 at start: y = x / sqrt(1 + eps).
    expect(Array.from(y.data)).toEqual(Array.from([1, 2, 3], (v) => Math.fround(v / Math.sqrt(1 + 1e-5))));
    y.dispose();
    release(f);
  });

  it('double dispose of a tensor and of a layer is harmless', () => {
    const before = rt.memoryUsage();
    const t = rt.tensor([2, 2]);
    const bn = rt.batchNorm2d(4);
    t.dispose();
    t.dispose();
    bn.dispose();
    bn.dispose();
    // A parameter disposed before its layer is not freed twice either.
    const bn2 = rt.batchNorm1d(2);
    bn2.weight!.dispose();
    bn2.dispose();
    expect(t.disposed && bn.disposed && bn2.disposed).toBe(true);
    expect(rt.memoryUsage()).toEqual({ ...before, bytesReserved: rt.memoryUsage().bytesReserved });
  });

  it('empty batches go through (PyTorch returns an empty output and counts the batch)', () => {
    const f = fixture();
    const y = f.bn1.forward(f.empty);
    expect(y.shape).toEqual([0, 3]);
    expect(f.bn1.numBatchesTracked).toBe(1);
    expect(Array.from(f.bn1.runningMean!.data)).toEqual([0, 0, 0]);
    const dx = f.bn1.backward(f.empty);
    expect(dx.shape).toEqual([0, 3]);
    y.dispose();
    dx.dispose();
    release(f);
  });

  it('the runtime keeps working after every error in the table, one after another', () => {
    const baseline = rt.memoryUsage();
    const reference = fixture();
    const y0 = reference.bn1.forward(reference.x);
    for (const row of Object.values(TABLE).flat()) {
      const f = fixture();
      row.setup?.(f);
      expect(() => row.run(f)).toThrow(row.type);
      release(f);
    }
    const bn = rt.batchNorm1d(3);
    const y = bn.forward(reference.x);
    expect(y.toArray()).toEqual(y0.toArray());
    bn.dispose();
    y.dispose();
    y0.dispose();
    release(reference);
    expect(rt.memoryUsage()).toEqual({ ...baseline, bytesReserved: rt.memoryUsage().bytesReserved });
  });
});

describe('init options', () => {
  it.each([
    ['null', null, TypeError, /^opts: expected an object, got null$/],
    ["simd 'yes'", { simd: 'yes' }, TypeError, /^opts\.simd: expected 'auto', true or false, got "yes"$/],
    ['debug 1', { debug: 1 }, TypeError, /^opts\.debug: expected a boolean, got 1$/],
    ['wasm 42', { wasm: 42 }, TypeError, /^opts\.wasm: expected a WebAssembly\.Module, BufferSource, URL, string, Response or Promise<Response>, got 42$/],
    ['wasm of another module', { wasm: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) }, TypeError, /^opts\.wasm: expected the batchnorm-wasm module/],
  ] as const)('%s', async (_what, opts, type, message) => {
    const error = await init(bad(opts)).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
  });
});
