// issue 13, the core: what plain JavaScript can do to the facade's objects and arguments
// (reassign, redefine, forge, change between two reads) cannot reach the kernels, and a
// call that throws changes nothing. Each block guards one class of fault.
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm, init, Runtime, Tensor, type StateDictLike } from '../src/index.node.js';
import { loadStateDictAt } from '../src/batchnorm.js';
import { thrown } from './harness.js';

let rt: Runtime;

beforeAll(async () => {
  rt = await init();
});

function expectThrow(f: () => unknown, type: typeof TypeError | typeof RangeError, message: RegExp | string): void {
  const error = thrown(f);
  expect(error.constructor).toBe(type);
  if (typeof message === 'string') expect(error.message).toBe(message);
  else expect(error.message).toMatch(message);
}

function bnState(bn: BatchNorm): unknown {
  return [bn.stateDict(), bn.numBatchesTracked, bn.training, bn.weightGrad?.toArray(), bn.biasGrad?.toArray()];
}

describe('fields the kernels trust cannot be changed or redefined', () => {
  it('Tensor: no assignment, no redefinition on the instance or the prototype', () => {
    const t = rt.tensor([2, 2], [1, 2, 3, 4]);
    const ptr = t.ptr;
    for (const key of ['ptr', 'shape', 'size', 'runtime', 'data']) {
      expect(() => { (t as unknown as Record<string, unknown>)[key] = 8; }, key).toThrow(TypeError);
      expect(() => Object.defineProperty(t, key, { value: 8 }), key).toThrow(TypeError);
      expect(() => Object.defineProperty(Tensor.prototype, key, { get: () => 8 }), `prototype ${key}`).toThrow(TypeError);
    }
    expect(() => { (t.shape as number[])[1] = 100; }).toThrow(TypeError);
    expect([t.ptr, t.shape, t.size]).toEqual([ptr, [2, 2], 4]);
    t.dispose();
  });

  it('BatchNorm: sizes, options and owned tensors are getters on a frozen instance; redefining them throws', () => {
    const bn = rt.batchNorm1d(3);
    const other = rt.tensor([100]);
    for (const key of ['numFeatures', 'eps', 'momentum', 'affine', 'trackRunningStats', 'channelsLast',
      'weight', 'bias', 'weightGrad', 'biasGrad', 'runningMean', 'runningVar']) {
      expect(() => { (bn as unknown as Record<string, unknown>)[key] = other; }, key).toThrow(TypeError);
      expect(() => Object.defineProperty(bn, key, { value: other }), key).toThrow(TypeError);
      expect(() => Object.defineProperty(BatchNorm.prototype, key, { get: () => other }), `prototype ${key}`).toThrow(TypeError);
    }
    expect(bn.numFeatures).toBe(3);
    expect(bn.weight!.shape).toEqual([3]);
    bn.dispose();
    other.dispose();
  });

  it('Runtime: its kernels, memory and allocator cannot be replaced', () => {
    for (const key of ['kernels', 'memory', 'simd', 'newTensor', 'release']) {
      expect(() => Object.defineProperty(rt, key, { value: null }), key).toThrow(TypeError);
    }
    expect(() => { (rt.kernels as unknown as Record<string, unknown>)['alloc'] = () => 8; }).toThrow(TypeError);
    // Raw memory is handed out and freed by module functions only, not by methods, and the
    // one method that allocates checks the size against the shape.
    for (const key of ['allocate', 'free', 'scratch']) expect(key in rt, key).toBe(false);
    const newTensor = (rt as unknown as { newTensor(shape: number[], size: number): Tensor }).newTensor.bind(rt);
    expectThrow(() => newTensor([1000], 1), RangeError, 'size: expected 1000 for shape [1000], got 1');
  });

  it('training and numBatchesTracked are validated setters; a count cannot pass 2^53 - 1', () => {
    const bn = rt.batchNorm1d(2);
    expectThrow(() => { bn.training = 'no' as never; }, TypeError, 'training: expected a boolean, got "no"');
    expectThrow(() => { bn.numBatchesTracked = -1; }, RangeError, 'numBatchesTracked: expected a non-negative integer, got -1');
    expectThrow(() => { bn.numBatchesTracked = 2 ** 53; }, RangeError, 'numBatchesTracked: expected a non-negative integer, got 9007199254740992');
    expect(bn.training).toBe(true);
    bn.numBatchesTracked = Number.MAX_SAFE_INTEGER;
    const x = rt.tensor([2, 2], [1, 2, 3, 5]);
    const before = [bnState(bn), rt.memoryUsage()];
    expectThrow(() => bn.forward(x), RangeError, /^numBatchesTracked: BatchNorm1d\(2\)'s count would pass Number\.MAX_SAFE_INTEGER/);
    expect([bnState(bn), rt.memoryUsage()]).toEqual(before);
    // Whatever count stateDict() gives, loadStateDict() takes back.
    bn.loadStateDict(bn.stateDict());
    bn.dispose();
    x.dispose();
  });
});

describe('only the runtime makes tensors, runtimes and layers', () => {
  it('their constructors throw a TypeError that says what to call instead', () => {
    const any = (c: unknown) => c as new (...args: unknown[]) => object;
    expectThrow(() => new (any(Tensor))(rt, [2], 2, 16), TypeError, 'Tensor: use rt.tensor(shape, data) to make a tensor; the constructor is internal');
    expectThrow(() => new (any(Runtime))(rt.kernels, false), TypeError, 'Runtime: use init() to make a runtime; the constructor is internal');
    expectThrow(() => new (any(BatchNorm))(rt, 1, 3), TypeError, 'BatchNorm: use rt.batchNorm1d/2d/3d(numFeatures, options); the constructor is internal');
    expectThrow(() => new (class extends (any(Tensor)) {})(rt, [2], 2, 16), TypeError, /^Tensor: use rt\.tensor/);
  });

  it('a forged tensor (Tensor.prototype, no private state) is not a Tensor to the facade', () => {
    const bn = rt.batchNorm1d(2);
    const forged = Object.create(Tensor.prototype) as Tensor;
    expect(forged instanceof Tensor).toBe(true);
    expectThrow(() => bn.forward(forged), TypeError, 'x: expected a Tensor, got a Tensor');
    expectThrow(() => rt.batchNormStats(forged), TypeError, 'x: expected a Tensor, got a Tensor');
    bn.dispose();
  });
});

describe('array arguments are read once, by index, and the copy is what is checked and used', () => {
  it('a shape whose element getter changes between reads makes the tensor it first said', () => {
    const shape = [4, 2];
    let reads = 0;
    Object.defineProperty(shape, 1, { get: () => (reads++ === 0 ? 2 : 2.5) });
    const before = rt.memoryUsage();
    const t = rt.tensor(shape);
    expect([t.shape, t.size, reads]).toEqual([[4, 2], 8, 1]);
    t.dispose();
    expect(rt.memoryUsage()).toEqual(before);
  });

  it('an array-like whose iterator disagrees with its elements: the elements count', () => {
    const x = rt.tensor([2, 3], [1, 2, 3, 4, 5, 7]);
    const mean = [2.5, 3.5, 5];
    Object.defineProperty(mean, Symbol.iterator, { value: function* () { yield 100; yield 100; yield 100; } });
    const y = rt.batchNormElemt(x, { mean, var: [1, 1, 1] }, { eps: 0 });
    expect(Array.from(y.data)).toEqual([-1.5, -1.5, -2, 1.5, 1.5, 2]);
    for (const t of [x, y]) t.dispose();
  });

  it('an array-like whose length changes between reads is read at the length it first had', () => {
    const x = rt.tensor([2, 3], [1, 2, 3, 4, 5, 7]);
    let lengthReads = 0;
    const mean = { get length() { return lengthReads++ === 0 ? 3 : 1e6; }, 0: 2.5, 1: 3.5, 2: 5 };
    const y = rt.batchNormElemt(x, { mean, var: [1, 1, 1] }, { eps: 0 });
    expect([lengthReads, Array.from(y.data)]).toEqual([1, [-1.5, -1.5, -2, 1.5, 1.5, 2]]);
    for (const t of [x, y]) t.dispose();
  });

  it('a value that is not a number is refused by its index, before anything is allocated', () => {
    const before = rt.memoryUsage();
    expectThrow(() => rt.tensor([3], [1, '2', 3] as never), TypeError, 'data[1]: expected a number, got "2"');
    expectThrow(() => rt.tensor([2], new BigInt64Array(2) as never), TypeError, 'data: expected an array-like of 2 numbers, got a BigInt64Array of length 2');
    expect(rt.memoryUsage()).toEqual(before);
  });
});

describe('loadStateDict converts and checks everything before it writes', () => {
  function loaded(): BatchNorm {
    const bn = rt.batchNorm1d(3);
    bn.loadStateDict({ weight: [1, 2, 3], bias: [4, 5, 6], running_mean: [7, 8, 9], running_var: [1, 2, 3], num_batches_tracked: 4 });
    return bn;
  }

  it.each([
    ['a BigInt64Array', () => new BigInt64Array(3), TypeError, 'stateDict.running_var: expected an array-like of 3 numbers, got a BigInt64Array of length 3'],
    ['an element getter that throws', () => ({ length: 3, 0: 1, 1: 2, get 2(): number { throw new RangeError('boom'); } }), RangeError, 'boom'],
    ['a string element', () => [1, 2, 'x'], TypeError, 'stateDict.running_var[2]: expected a number, got "x"'],
  ] as const)('running_var %s leaves weight, bias and running_mean as they were', (_what, value, type, message) => {
    const bn = loaded();
    const before = bnState(bn);
    const sd = { weight: [0, 0, 0], bias: [0, 0, 0], running_mean: [0, 0, 0], running_var: value(), num_batches_tracked: 0 };
    expectThrow(() => bn.loadStateDict(sd as never), type, message);
    expect(bnState(bn)).toEqual(before);
    bn.dispose();
  });

  it('a prefix (the layer\'s place in a network) makes messages name the full key', () => {
    const bn = loaded();
    expectThrow(() => loadStateDictAt(bn, { ...bn.stateDict(), running_var: [1] }, '1.'), RangeError,
      'stateDict.1.running_var: expected 3 values, got [1]');
    expectThrow(() => loadStateDictAt(bn, { ...bn.stateDict(), gamma: [1] } as never, '1.'), RangeError,
      'stateDict: unexpected key "1.gamma" (expected 1.weight, 1.bias, 1.running_mean, 1.running_var, 1.num_batches_tracked)');
    bn.dispose();
  });
});

describe('state dicts survive JSON', () => {
  it('JSON.stringify(stateDict()) gives plain arrays that loadStateDict takes back', () => {
    const a = rt.batchNorm1d(3);
    const b = rt.batchNorm1d(3);
    a.loadStateDict({ weight: [1, 2, 3], bias: [4, 5, 6], running_mean: [7, 8, 9], running_var: [0.5, 2, 3], num_batches_tracked: 4 });
    const sd = a.stateDict();
    expect(Object.keys(sd)).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    const json = JSON.stringify(sd);
    expect(JSON.parse(json)).toEqual({ weight: [1, 2, 3], bias: [4, 5, 6], running_mean: [7, 8, 9], running_var: [0.5, 2, 3], num_batches_tracked: 4 });
    b.loadStateDict(JSON.parse(json) as StateDictLike);
    expect(b.stateDict()).toEqual(sd);
    a.dispose();
    b.dispose();
  });
});

describe('backward twice after one forward', () => {
  it('throws as PyTorch does, leaving the gradients as the first left them; retainGraph keeps the forward', () => {
    const bn = rt.batchNorm1d(2);
    const x = rt.tensor([3, 2], [1, 2, 3, 5, 4, 9]);
    const dy = rt.tensor([3, 2], [1, 0, 2, 1, 0, 3]);
    bn.forward(x).dispose();
    bn.backward(dy).dispose();
    const grads = [bn.weightGrad!.toArray(), bn.biasGrad!.toArray()];
    expectThrow(() => bn.backward(dy), TypeError,
      'backward(): expected a new forward() before this backward(), got a forward() that backward() already used (a second pass would accumulate the gradients twice)');
    expect([bn.weightGrad!.toArray(), bn.biasGrad!.toArray()]).toEqual(grads);
    bn.forward(x).dispose();
    bn.zeroGrad();
    bn.backward(dy, undefined, { retainGraph: true }).dispose();
    bn.backward(dy).dispose();
    expect(bn.biasGrad!.toArray()).toEqual(grads[1]!.map((g) => 2 * g));
    expectThrow(() => bn.backward(dy, undefined, { retainGraph: 1 as never }), TypeError, 'options.retainGraph: expected a boolean, got 1');
    for (const t of [bn, x, dy]) t.dispose();
  });
});

describe('a disposed tensor passed in', () => {
  it('names the layer that owns it', () => {
    const bn = rt.batchNorm1d(2);
    const x = rt.tensor([3, 2]);
    const weight = bn.weight!;
    weight.dispose();
    expectThrow(() => rt.batchNorm(x, { training: true, weight }), TypeError,
      'options.weight: Tensor [2] was disposed and cannot be used (owned by BatchNorm1d(2), which disposes its tensors with itself or when it replaces them; copy one with toArray() to keep its values)');
    bn.dispose();
    // A tensor the caller owns has no owner to name.
    const caller = rt.batchNorm1d(2);
    x.dispose();
    expectThrow(() => caller.forward(x), TypeError, 'x: Tensor [3, 2] was disposed and cannot be used');
    caller.dispose();
  });
});

describe('debug mode', () => {
  it('fills a freed block with NaN, so a stale .data view shows NaN instead of the old values', async () => {
    const debug = await init({ debug: true });
    const t = debug.tensor([64], new Float32Array(64).fill(1));
    const stale = t.data;
    t.dispose();
    // The allocator keeps its free-list links in the first two values of a free block.
    expect(Array.from(stale.subarray(2)).every(Number.isNaN)).toBe(true);
  });
});
