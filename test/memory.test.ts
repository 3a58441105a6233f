// Memory: no leaks over long training, views that survive growth, out of memory as a clear
// RangeError with the runtime still usable, copies where copies are promised, no error path
// that strands a tensor, `using`, and the debug report of tensors collected undisposed.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { init, type BatchNorm, type Runtime, type Tensor } from '../src/index.node.js';
import { makeRuntime, MAX_ALLOCATION_BYTES } from '../src/runtime.js';
import { instantiateKernels } from '../src/wasm.js';
import { channelsFitting } from './harness.js';
import { globalOf, kernelsOf } from './phases.js';
import { randn, Rng } from './reference.js';

let simdModule: WebAssembly.Module;
let scalarModule: WebAssembly.Module;

beforeAll(async () => {
  simdModule = await WebAssembly.compile(readFileSync(new URL('../build/simd.wasm', import.meta.url)));
  scalarModule = await WebAssembly.compile(readFileSync(new URL('../build/scalar.wasm', import.meta.url)));
});

/** A runtime of its own: these tests grow memory and count allocations from zero. */
function fresh(simd = true): Promise<Runtime> {
  return init({ wasm: simd ? simdModule : scalarModule });
}

/** memoryUsage() without bytesReserved, which only grows and is checked on its own. */
function held(rt: Runtime): { liveTensors: number; bytesAllocated: number } {
  const { liveTensors, bytesAllocated } = rt.memoryUsage();
  return { liveTensors, bytesAllocated };
}

describe.each([true, false])('leaks (simd: %s)', (simd) => {
  it('10,000 training steps with dispose leave memoryUsage() where it started', async () => {
    const rt = await fresh(simd);
    const rng = new Rng(7);
    const bn1 = rt.batchNorm1d(4);
    const bn2 = rt.batchNorm2d(4, { channelsLast: true, momentum: null });
    const x1 = randn(rng, 8 * 4);
    const x2 = randn(rng, 2 * 3 * 3 * 4);
    const start = held(rt);
    let reservedAfterWarmup = 0;
    for (let step = 0; step < 10_000; step++) {
      if (step === 100) reservedAfterWarmup = rt.memoryUsage().bytesReserved;
      const [bn, shape, data] = step % 2 === 0 ? [bn1, [8, 4], x1] as const : [bn2, [2, 3, 3, 4], x2] as const;
      bn.train(step % 7 !== 0);
      using x = rt.tensor(shape, data);
      using y = bn.forward(x);
      using dx = bn.backward(y);
      if (step % 50 === 0) {
        // The functional ops share one scratch region; none of it may pile up either.
        using z = rt.batchNorm(x, { training: true, runningMean: bn1.runningMean, runningVar: bn1.runningVar, channelsLast: bn === bn2 });
        const stats = rt.batchNormStats(x, { channelsLast: bn === bn2 });
        using e = rt.batchNormElemt(x, stats, { channelsLast: bn === bn2 });
        const sums = rt.batchNormBackwardReduce(dx, x, stats.mean, { channelsLast: bn === bn2 });
        using g = rt.batchNormBackwardElemt(dx, x, { ...stats, ...sums }, { channelsLast: bn === bn2 });
        void z; void e; void g;
      }
      bn.zeroGrad();
    }
    expect(held(rt)).toEqual(start);
    // Leaks the accounting would miss (a block freed twice, scratch never returned) show up as
    // a heap that keeps growing.
    expect(rt.memoryUsage().bytesReserved).toBe(reservedAfterWarmup);
    bn1.dispose();
    bn2.dispose();
    expect(rt.memoryUsage()).toMatchObject({ liveTensors: 0, bytesAllocated: 0 });
  });

  it('layers made and disposed 1,000 times leave nothing behind', async () => {
    const rt = await fresh(simd);
    for (let i = 0; i < 1_000; i++) {
      using bn = rt.batchNorm3d(1 + (i % 17), { affine: i % 2 === 0, trackRunningStats: i % 3 !== 0 });
      void bn;
    }
    expect(rt.memoryUsage()).toMatchObject({ liveTensors: 0, bytesAllocated: 0 });
  });
});

describe('memory growth', () => {
  it('tensor views and layer parameters stay valid after the memory grows', async () => {
    const rt = await fresh();
    const t = rt.tensor([4], [1, 2, 3, 4]);
    const bn = rt.batchNorm1d(2);
    const stale = t.data;
    const staleWeight = bn.weight!.data;
    const reserved = rt.memoryUsage().bytesReserved;
    const big = rt.tensor([reserved / 2]);
    expect(rt.memoryUsage().bytesReserved).toBeGreaterThan(reserved);
    // Growth detaches the old buffer; that is why `data` is a getter and not a field.
    expect(stale.length).toBe(0);
    expect(staleWeight.length).toBe(0);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
    // Writes through the new view reach the kernels.
    bn.weight!.data.set([2, 3]);
    bn.bias!.data.set([1, -1]);
    using x = rt.tensor([2, 2], [0, 10, 2, 30]);
    using y = bn.forward(x);
    // Columns {0, 2} and {10, 30}: x̂ = ∓1 (up to eps); y = γ·x̂ + β.
    const want = [-2 + 1, -3 - 1, 2 + 1, 3 - 1];
    Array.from(y.data).forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-4));
    t.dispose();
    big.dispose();
    bn.dispose();
  });

  it('rt.tensor(shape, other.data) copies right even when the new allocation grows the memory', async () => {
    // Regression: the source view was detached by the growth, and the copy threw after the
    // allocation (a leak) or read nothing.
    const rt = await fresh();
    let grew = 0;
    for (let n = 1024; n <= 1 << 22 && grew < 2; n *= 2) {
      const source = rt.tensor([n], Float32Array.from({ length: n }, (_, i) => i));
      const reserved = rt.memoryUsage().bytesReserved;
      const copy = rt.tensor([n], source.data);
      if (rt.memoryUsage().bytesReserved > reserved) grew++;
      expect(copy.data[n - 1]).toBe(n - 1);
      expect(copy.data[n >> 1]).toBe(n >> 1);
      source.dispose();
      copy.dispose();
    }
    expect(grew, 'no copy grew the memory; the test did not test anything').toBeGreaterThan(0);
    expect(held(rt)).toEqual({ liveTensors: 0, bytesAllocated: 0 });
  });

  it('functional stats given as views of wasm memory survive the scratch allocation growing it', async () => {
    // Regression: stats.mean = bn.runningMean.data was detached when the scratch grew memory.
    const rt = await fresh();
    let grew = 0;
    for (let C = 256; C <= 1 << 18 && grew < 2; C *= 4) {
      const bn = rt.batchNorm1d(C);
      bn.runningMean!.data.fill(1);
      bn.runningVar!.data.fill(4);
      const x = rt.tensor([2, C], new Float32Array(2 * C).fill(3));
      const reserved = rt.memoryUsage().bytesReserved;
      const y = rt.batchNormElemt(x, { mean: bn.runningMean!.data, var: bn.runningVar!.data }, { eps: 0 });
      if (rt.memoryUsage().bytesReserved > reserved) grew++;
      // (3 − 1) / sqrt(4) = 1 everywhere.
      expect(y.data.every((v) => v === 1)).toBe(true);
      bn.dispose();
      x.dispose();
      y.dispose();
    }
    expect(grew, 'no call grew the memory; the test did not test anything').toBeGreaterThan(0);
  });
});

describe.each(['simd', 'scalar'] as const)('large blocks are staggered round a 4 KiB page (assembly/heap.ts, %s)', (build) => {
  // Where the next block starts, modulo 4 KiB, after a block of `bytes` on a fresh heap.
  async function nextOffset(bytes: number): Promise<number> {
    const k = await kernelsOf(build);
    const a = k.alloc(bytes) >>> 0, b = k.alloc(16) >>> 0;
    return (b - a) % 4096;
  }

  it('from STAGGER_FROM on, a size within 1 KiB of a page multiple puts the next block about 2 KiB round the page', async () => {
    const T = globalOf(await kernelsOf(build), 'STAGGER_FROM');
    expect(T % 4096).toBe(0);
    // The heap's own gap between consecutive blocks is 16 bytes.
    expect(await nextOffset(T - 4096)).toBe(16);
    expect(await nextOffset(T - 16)).toBe(0);
    for (const bytes of [T, T + 16, T + 4096 * 240, T + 1008, T + 3088, T + 4080]) expect(await nextOffset(bytes)).toBe(2048 + 16);
    // From 1 KiB to 3 KiB past a page multiple, no pad.
    expect(await nextOffset(T + 1024)).toBe(1024 + 16);
    expect(await nextOffset(T + 3072)).toBe(3072 + 16);
  });

  it('tensors of [256,1024] allocated one after the other are 2 KiB apart round the page, and free as usual', async () => {
    const rt = await init({ wasm: build === 'simd' ? simdModule : scalarModule });
    const tensors = [0, 1, 2, 3].map(() => rt.tensor([256, 1024]));
    const at = tensors.map((t) => t.data.byteOffset);
    expect(at.slice(1).map((p, i) => (p - at[i]!) % 4096)).toEqual([2064, 2064, 2064]);
    for (const t of tensors) t.dispose();
    expect(held(rt)).toEqual({ liveTensors: 0, bytesAllocated: 0 });
    rt.dispose();
  });
});

describe('out of memory', () => {
  // The largest layer whose workspace fits one 1 GiB heap block. With neither parameters nor
  // running stats nothing but the workspace is allocated, and nothing writes to it until a
  // forward, so filling wasm32's 4 GiB costs address space, not RAM.
  const HUGE = channelsFitting(MAX_ALLOCATION_BYTES);

  it('an allocation that cannot fit throws RangeError, changes nothing, and the runtime stays usable', async () => {
    const rt = await fresh();
    const small = rt.batchNorm1d(3);
    const x = rt.tensor([4, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]);
    const y0 = small.forward(x);
    const expected = y0.toArray();
    y0.dispose();
    small.resetRunningStats();

    const hogs: BatchNorm[] = [];
    let error: unknown = null;
    for (let i = 0; i < 8 && error === null; i++) {
      const before = held(rt);
      try {
        hogs.push(rt.batchNorm1d(HUGE, { affine: false, trackRunningStats: false }));
      } catch (e) {
        error = e;
        expect(held(rt)).toEqual(before);
      }
    }
    expect(hogs.length).toBeGreaterThanOrEqual(2);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/^out of memory: cannot allocate 1073741\d+ bytes \(wasm memory is \d+ bytes, 4 GiB at most\)$/);

    // A layer whose parameters fit but whose workspace does not: the parameters made on the
    // way are released, not stranded.
    const before = held(rt);
    expect(() => rt.batchNorm1d(HUGE)).toThrow(RangeError);
    expect(held(rt)).toEqual(before);
    expect(() => rt.tensor([2 ** 28 - 4])).toThrow(/^out of memory/);
    expect(held(rt)).toEqual(before);

    // Still usable: small allocations, the kernels, the same answer as before.
    const y1 = small.forward(x);
    expect(y1.toArray()).toEqual(expected);
    y1.dispose();

    for (const bn of hogs) bn.dispose();
    // What was freed is reused: a hog fits again without the memory growing.
    const reserved = rt.memoryUsage().bytesReserved;
    rt.batchNorm1d(HUGE, { affine: false, trackRunningStats: false }).dispose();
    expect(rt.memoryUsage().bytesReserved).toBe(reserved);
    small.dispose();
    x.dispose();
    expect(held(rt)).toEqual({ liveTensors: 0, bytesAllocated: 0 });
  });

  it('tensors past 2 GiB work: the heap returns pointers as signed i32', async () => {
    // Regression: alloc() came back negative past 2 GiB; every view of such a tensor threw.
    const rt = await fresh();
    const low = await fresh();
    const hogs: BatchNorm[] = [];
    for (let i = 0; i < 2; i++) hogs.push(rt.batchNorm1d(HUGE, { affine: false, trackRunningStats: false }));
    const rng = new Rng(11);
    const data = randn(rng, 64 * 33);
    const dyData = randn(rng, 64 * 33);
    const run = (r: Runtime): Float32Array[] => {
      const bn = r.batchNorm1d(33);
      const x = r.tensor([64, 33], data);
      const y = bn.forward(x);
      const dx = bn.backward(r.tensor([64, 33], dyData));
      const out = [y.toArray(), dx.toArray(), bn.runningVar!.toArray(), bn.weightGrad!.toArray()];
      expect(x.data[5]).toBe(Math.fround(data[5]!));
      return out;
    };
    const high = run(rt);
    expect((rt.batchNorm1d(1) as unknown as { weight: { ptr: number } }).weight.ptr).toBeGreaterThan(2 ** 31);
    expect(high).toEqual(run(low));
  });

  it('a tensor larger than one heap block is refused before anything is allocated', async () => {
    const rt = await fresh();
    const reserved = rt.memoryUsage().bytesReserved;
    expect(() => rt.tensor([2 ** 28])).toThrow(RangeError);
    expect(() => rt.tensor([65536, 65536, 65536])).toThrow(/^shape: needs \d+ bytes in one allocation/);
    expect(() => rt.batchNorm2d(HUGE + 1)).toThrow(/^numFeatures: needs \d+ bytes in one allocation/);
    expect(rt.memoryUsage()).toEqual({ liveTensors: 0, bytesAllocated: 0, bytesReserved: reserved });
  });
});

describe('copies', () => {
  it('stateDict() returns copies, and loadStateDict() copies in', async () => {
    const rt = await fresh();
    const bn = rt.batchNorm1d(3);
    const sd = bn.stateDict();
    for (const key of ['weight', 'bias', 'running_mean', 'running_var'] as const) {
      expect(sd[key]!.buffer).not.toBe(rt.memory.buffer);
    }
    sd.weight![0] = 99;
    sd.running_var![1] = 99;
    expect(bn.weight!.data[0]).toBe(1);
    expect(bn.runningVar!.data[1]).toBe(1);

    // Training afterwards does not reach an earlier state dict either.
    const snapshot = bn.stateDict();
    using x = rt.tensor([2, 3], [1, 2, 3, 5, 7, 11]);
    bn.forward(x).dispose();
    expect(Array.from(snapshot.running_mean!)).toEqual([0, 0, 0]);

    const source = { weight: new Float32Array([1, 2, 3]), bias: new Float32Array([4, 5, 6]), running_mean: new Float32Array(3), running_var: new Float32Array(3).fill(2), num_batches_tracked: 5 };
    bn.loadStateDict(source);
    source.weight[0] = -1;
    expect(Array.from(bn.weight!.data)).toEqual([1, 2, 3]);
    expect(bn.numBatchesTracked).toBe(5);
    bn.dispose();
  });

  it('toArray() is a copy; data is the live view', async () => {
    const rt = await fresh();
    using t = rt.tensor([2], [1, 2]);
    const copy = t.toArray();
    t.data[0] = 5;
    expect(copy[0]).toBe(1);
    expect(t.toArray()[0]).toBe(5);
  });
});

// Every allocation an operation makes, made to fail in turn: whatever the operation had
// allocated before the failing one must be released, and nothing else may change.
describe('no error path leaks a tensor', () => {
  // The runtime and its kernels are frozen, so the fault goes into a runtime made over a
  // copy of the kernels whose alloc can be told to fail.
  const faults = new WeakMap<Runtime, { fail: number; calls: number }>();

  async function faultyRuntime(): Promise<Runtime> {
    const kernels = await instantiateKernels(simdModule);
    const fault = { fail: -1, calls: 0 };
    const rt = makeRuntime({
      ...kernels,
      alloc: (bytes: number) => {
        if (fault.calls++ === fault.fail) throw new RangeError('injected: out of memory');
        return kernels.alloc(bytes);
      },
    }, false);
    faults.set(rt, fault);
    return rt;
  }

  /** Makes the k-th allocation (0-based) from now on throw; returns how many were attempted. */
  function injectFault(rt: Runtime, k: number): () => number {
    const fault = faults.get(rt)!;
    fault.calls = 0;
    fault.fail = k;
    return () => fault.calls;
  }

  interface Setup {
    bn: BatchNorm;
    /** in eval mode */
    ev: BatchNorm;
    x: Tensor;
    dy: Tensor;
    w: Tensor;
    rm: Tensor;
    rv: Tensor;
  }

  const OPS: [string, (s: Setup, rt: Runtime) => { dispose(): void } | object][] = [
    ['rt.tensor', (_s, rt) => rt.tensor([4, 3], new Float32Array(12))],
    ['rt.batchNorm1d', (_s, rt) => rt.batchNorm1d(3)],
    ['rt.batchNorm2d without affine', (_s, rt) => rt.batchNorm2d(3, { affine: false })],
    ['rt.batchNorm3d without running stats', (_s, rt) => rt.batchNorm3d(3, { trackRunningStats: false })],
    ['forward (training)', (s) => s.bn.forward(s.x)],
    ['forward (eval)', (s) => s.ev.forward(s.x)],
    ['backward (eval)', (s) => s.ev.backward(s.dy)],
    ['backward', (s) => s.bn.backward(s.dy)],
    ['rt.batchNorm (training)', (s, rt) => rt.batchNorm(s.x, { training: true, weight: s.w, runningMean: s.rm, runningVar: s.rv })],
    ['rt.batchNorm (eval)', (s, rt) => rt.batchNorm(s.x, { runningMean: s.rm, runningVar: s.rv })],
    ['rt.batchNormStats', (s, rt) => rt.batchNormStats(s.x)],
    ['rt.batchNormElemt', (s, rt) => rt.batchNormElemt(s.x, { mean: [0, 1, 2], var: [1, 1, 1] }, { weight: s.w })],
    ['rt.batchNormBackwardReduce', (s, rt) => rt.batchNormBackwardReduce(s.dy, s.x, [0, 1, 2])],
    [
      'rt.batchNormBackwardElemt',
      (s, rt) => rt.batchNormBackwardElemt(s.dy, s.x, { count: 4, mean: [0, 1, 2], var: [1, 1, 1], sumDy: new Float64Array(3), sumDyXmu: new Float64Array(3) }),
    ],
  ];

  async function setup(): Promise<{ rt: Runtime; s: Setup }> {
    const rt = await faultyRuntime();
    const s: Setup = {
      bn: rt.batchNorm1d(3),
      ev: rt.batchNorm1d(3).eval(),
      x: rt.tensor([4, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]),
      dy: rt.tensor([4, 3], [1, -1, 2, 0, 3, 1, -2, 1, 0, 1, 1, 1]),
      w: rt.tensor([3], [1, 2, 3]),
      rm: rt.tensor([3]),
      rv: rt.tensor([3], [1, 1, 1]),
    };
    s.bn.forward(s.x).dispose();
    s.ev.forward(s.x).dispose();
    return { rt, s };
  }

  function snapshot(s: Setup): unknown {
    return [s.bn, s.ev].flatMap((bn) => [bn.stateDict(), bn.numBatchesTracked, bn.training, bn.weightGrad!.toArray(), bn.biasGrad!.toArray()])
      .concat([s.rm.toArray(), s.rv.toArray()]);
  }

  function release(result: unknown): void {
    if (result !== null && typeof result === 'object' && 'dispose' in result) (result as { dispose(): void }).dispose();
  }

  it.each(OPS)('%s', async (_name, op) => {
    const clean = await setup();
    const count = injectFault(clean.rt, -1);
    release(op(clean.s, clean.rt));
    const allocations = count();
    // Fresh runtimes: every op allocates at least its output or its scratch the first time.
    expect(allocations).toBeGreaterThan(0);
    for (let k = 0; k < allocations; k++) {
      const { rt, s } = await setup();
      const before = held(rt);
      const state = snapshot(s);
      injectFault(rt, k);
      expect(() => op(s, rt), `allocation ${k} of ${allocations}`).toThrow('injected: out of memory');
      expect(held(rt), `allocation ${k} of ${allocations}`).toEqual(before);
      expect(snapshot(s)).toEqual(state);
    }
  });
});

describe('dispose', () => {
  it('Symbol.dispose: `using` frees tensors and layers at the end of the block, thrown or not', async () => {
    const rt = await fresh();
    let t: Tensor | undefined;
    let bn: BatchNorm | undefined;
    {
      using a = rt.tensor([3]);
      using b = rt.batchNorm1d(3);
      t = a;
      bn = b;
      expect(rt.memoryUsage().liveTensors).toBe(7);
    }
    expect(t.disposed && bn.disposed).toBe(true);
    expect(() => {
      using c = rt.tensor([5]);
      t = c;
      throw new Error('inside');
    }).toThrow('inside');
    expect(t.disposed).toBe(true);
    expect(rt.memoryUsage()).toMatchObject({ liveTensors: 0, bytesAllocated: 0 });
  });
});

// init({ debug: true }) registers every tensor with a FinalizationRegistry that WARNS when one
// is collected undisposed; it must not free it (the wasm heap is not the JS heap's business,
// and a silent free would hide the bug). GC is forced through V8's gc(), exposed at runtime.
describe('debug: FinalizationRegistry report', () => {
  let gc: (() => void) | null = null;
  try {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  } catch {
    gc = null;
  }
  // Where V8 refuses the flag at runtime these are reported as skipped, the reason in the name.
  const itGc = it.skipIf(gc === null);

  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function collect(until: () => boolean): Promise<void> {
    for (let i = 0; i < 50 && !until(); i++) {
      gc!();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  // Allocating in a function of its own leaves no reference on this stack frame.
  function drop(rt: Runtime, shape: number[], dispose: boolean): void {
    const t = rt.tensor(shape);
    if (dispose) t.dispose();
  }

  itGc('warns, naming the tensor, when a tensor is collected undisposed, and leaves it allocated (needs gc() from --expose-gc)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const rt = await init({ debug: true, wasm: simdModule });
    drop(rt, [7, 5], true);
    drop(rt, [3, 11], false);
    await collect(() => warn.mock.calls.length > 0);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toBe('batchnorm-wasm: Tensor [3, 11] was garbage-collected without dispose(); its memory stays allocated');
    expect(held(rt)).toEqual({ liveTensors: 1, bytesAllocated: 3 * 11 * 4 });
  });

  itGc('stays silent without the flag (needs gc() from --expose-gc)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const rt = await init({ wasm: simdModule });
    drop(rt, [3, 11], false);
    // A debug runtime's report is the signal that collection has happened for this one too.
    const probe = await init({ debug: true, wasm: simdModule });
    drop(probe, [2, 2], false);
    await collect(() => warn.mock.calls.length > 0);
    expect(warn.mock.calls.map((c) => c[0])).toEqual(['batchnorm-wasm: Tensor [2, 2] was garbage-collected without dispose(); its memory stays allocated']);
  });
});
