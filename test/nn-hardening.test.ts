// batchnorm-wasm/nn under hostile and careless use (issue 13): fields the kernels trust are
// read-only, a call that throws changes nothing, constructors that run out of memory release
// what they made, and the mistakes that used to give silently wrong results are refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/index.node.js';
import * as nn from '../src/nn/index.js';
import { channelsFitting, expectError, held, thrown } from './harness.js';
import { randn, Rng } from './reference.js';

type Runtime = Awaited<ReturnType<typeof init>>;

let rt: Runtime;
beforeAll(async () => {
  rt = await init();
});

describe('nn fields the kernels trust are read-only and cannot be redefined', () => {
  it('lin.inFeatures = 64 no longer lets backward write a [2, 64] gradient over a neighbouring tensor', () => {
    const rng = new nn.Rng(1);
    const lin = new nn.Linear(rt, 2, 2, { rng, bias: false });
    const neighbour = rt.tensor([256], new Float32Array(256).fill(7));
    const x = rt.tensor([2, 2], [1, 2, 3, 4]);
    const dy = rt.tensor([2, 2], [1, 0, 0, 1]);
    lin.forward(x);
    const assign = thrown(() => {
      (lin as unknown as { inFeatures: number }).inFeatures = 64;
    });
    expect(assign).toBeInstanceOf(TypeError);
    lin.backward(dy);
    expect(lin.inFeatures).toBe(2);
    expect(Array.from(lin.weightGrad.data)).toEqual([1, 2, 3, 4]);
    expect(neighbour.data.every((v) => v === 7), 'the neighbouring tensor is untouched').toBe(true);
    for (const t of [neighbour, x, dy]) t.dispose();
    lin.dispose();
  });

  it('every such field of every nn class: assignment and defineProperty throw, the value stays', () => {
    const rng = new nn.Rng(2);
    const lin = new nn.Linear(rt, 3, 2, { rng });
    const noise = new nn.UnitNoise(rt, 3, { rng });
    const drop = new nn.Dropout(rt, 0.5, { rng });
    const bn = new nn.BatchNormLayer(rt.batchNorm1d(3));
    const net = new nn.Sequential(new nn.ReLU(rt));
    const sgd = new nn.SGD(lin.parameters(), { lr: 0.1, momentum: 0.9 });
    const rows: [object, string[]][] = [
      [lin, ['inFeatures', 'outFeatures', 'weight', 'bias', 'weightGrad', 'biasGrad', 'output']],
      [noise, ['features', 'shiftRange', 'scaleRange', 'output']],
      [drop, ['p', 'output']],
      [bn, ['module', 'output']],
      [net, ['layers', 'output']],
      [sgd, ['params', 'momentum', 'weightDecay']],
    ];
    for (const [object, fields] of rows) {
      for (const field of fields) {
        const before = (object as Record<string, unknown>)[field];
        expect(thrown(() => {
          (object as Record<string, unknown>)[field] = 64;
        }), `${object}.${field} = 64`).toBeInstanceOf(TypeError);
        expect(thrown(() => Object.defineProperty(object, field, { value: 64 })), `defineProperty(${object}, ${field})`).toBeInstanceOf(TypeError);
        expect((object as Record<string, unknown>)[field]).toBe(before);
      }
    }
    expect(Object.isFrozen(lin.parameters()[0])).toBe(true);
    for (const layer of [lin, noise, drop, bn, net]) layer.dispose();
    sgd.dispose();
  });

  it('writable settings are validated: training, UnitNoise.hold, SGD.lr', () => {
    const rng = new nn.Rng(3);
    const drop = new nn.Dropout(rt, 0.5, { rng });
    const noise = new nn.UnitNoise(rt, 3, { rng });
    const lin = new nn.Linear(rt, 3, 2, { rng });
    const sgd = new nn.SGD(lin.parameters(), { lr: 0.1 });
    for (const layer of [drop, noise, lin, new nn.Sequential(new nn.ReLU(rt))] as nn.Layer[]) {
      expectError(() => {
        (layer as { training: unknown }).training = 'no';
      }, TypeError, /^training: expected a boolean, got "no"$/);
      expect(layer.training).toBe(true);
      layer.training = false;
      expect(layer.training).toBe(false);
    }
    expectError(() => {
      (noise as { hold: unknown }).hold = 1;
    }, TypeError, /^hold: expected a boolean, got 1$/);
    expectError(() => {
      sgd.lr = -1;
    }, RangeError, /^lr: expected a non-negative finite number, got -1$/);
    expect(sgd.lr).toBe(0.1);
    for (const layer of [drop, noise, lin]) layer.dispose();
  });
});

describe('a failed call changes nothing', () => {
  it('Sequential.forward checks the shapes through every layer before the first runs', () => {
    const rng = new nn.Rng(4);
    const bn = rt.batchNorm1d(3);
    const net = new nn.Sequential(bn, new nn.Linear(rt, 3, 2, { rng }), new nn.Linear(rt, 4, 2, { rng }));
    const x = rt.tensor([4, 3], randn(new Rng(12), 12));
    const state = net.stateDict();
    expectError(() => net.forward(x), RangeError, /^layers\[2\] \(Linear\(4, 2, bias=true\)\): x: expected shape \[N, 4\], got \[4, 2\]$/);
    expect(net.stateDict()).toEqual(state);
    expect(bn.numBatchesTracked).toBe(0);
    for (const layer of net.layers) expect(layer.output, `${layer} did not run`).toBeNull();
    x.dispose();
    net.dispose();
  });

  it('Sequential.forward refuses an input that one of its layers overwrites', () => {
    const rng = new nn.Rng(5);
    const net = new nn.Sequential(new nn.Linear(rt, 2, 2, { rng }), new nn.ReLU(rt));
    const x = rt.tensor([3, 2], randn(new Rng(6), 6));
    const h = net.forward(x);
    expectError(() => net.forward(h), RangeError, /^x: must not be the output of layers\[1\] \(ReLU\(\)\), which this forward\(\) overwrites \(copy it with rt\.tensor\(x\.shape, x\.data\)\)$/);
    x.dispose();
    net.dispose();
  });

  it('Sequential.backward checks every saved input first: a refusal accumulates no gradient', () => {
    const rng = new nn.Rng(6);
    const first = new nn.Linear(rt, 3, 2, { rng });
    const last = new nn.Linear(rt, 2, 2, { rng });
    const net = new nn.Sequential(first, new nn.ReLU(rt), last);
    const x = rt.tensor([4, 3], randn(new Rng(12), 12));
    const dy = rt.tensor([4, 2], randn(new Rng(8), 8));
    net.forward(x);
    x.dispose();
    expectError(() => net.backward(dy), TypeError, /^Linear\(3, 2, bias=true\)\.backward\(\): expected the input forward\(\) saved to be live/);
    expect(last.weightGrad.data.every((v) => v === 0), 'the last layer accumulated nothing').toBe(true);
    expect(last.biasGrad!.data.every((v) => v === 0)).toBe(true);
    dy.dispose();
    net.dispose();
  });

  it('SoftmaxCrossEntropy.backward() after a forward() that threw is backward-before-forward', () => {
    const loss = new nn.SoftmaxCrossEntropy(rt);
    const logits = rt.tensor([2, 3], [1, 2, 3, 4, 5, 6]);
    const labels = rt.tensor([2], [0, 2]);
    loss.forward(logits, labels);
    const wide = rt.tensor([4, 3]);
    const bad = rt.tensor([4], [0, 1, 9, 0]);
    expectError(() => loss.forward(wide, bad), RangeError, /^labels: expected integer class indices in \[0, 2\]/);
    expectError(() => loss.backward(), TypeError, /^SoftmaxCrossEntropy\.backward\(\): expected a forward\(\) first, got no saved input$/);
    for (const t of [logits, labels, wide, bad]) t.dispose();
    loss.dispose();
  });

  it('Linear.loadStateDict converts every value before writing: a BigInt64Array or a throwing getter leaves it as it was', () => {
    const lin = new nn.Linear(rt, 3, 2, { rng: new nn.Rng(7) });
    const good = lin.stateDict();
    const weight = new Float32Array(6).fill(5);
    expectError(() => lin.loadStateDict({ weight, bias: new BigInt64Array(2) as never }), TypeError, /^stateDict\.bias: expected an array-like of 2 numbers, got a BigInt64Array of length 2$/);
    expect(lin.stateDict()).toEqual(good);
    const throwing = new Proxy([0, 0], { get: (target, key) => (key === '1' ? (() => { throw new Error('getter'); })() : Reflect.get(target, key)) });
    expect(thrown(() => lin.loadStateDict({ weight, bias: throwing as never })).message).toBe('getter');
    expect(lin.stateDict()).toEqual(good);
    lin.dispose();
  });
});

describe('Sequential state dicts: PyTorch key spelling exactly, full keys in errors', () => {
  it('accepts "0.weight", "12.running_var", "3.num_batches_tracked" and refuses every other spelling, loading nothing', () => {
    const rng = new nn.Rng(8);
    const layers: (nn.Layer | ReturnType<Runtime['batchNorm1d']>)[] = [new nn.Linear(rt, 2, 2, { rng })];
    for (let i = 1; i < 13; i++) layers.push(i === 3 || i === 12 ? rt.batchNorm1d(2) : new nn.ReLU(rt));
    const net = new nn.Sequential(...layers);
    const state = net.stateDict();
    expect(Object.keys(state)).toContain('12.running_var');
    expect(Object.keys(state)).toContain('3.num_batches_tracked');
    net.loadStateDict(state);
    const { ['0.weight']: weight, ...rest } = state;
    for (const key of ['00.weight', ' 0.weight', '-0.weight', '+0.weight', '0.weight ', '0x0.weight', '1e0.weight']) {
      expectError(() => net.loadStateDict({ ...rest, [key]: weight! }), RangeError, /^stateDict: unexpected key /);
    }
    expectError(() => net.loadStateDict(JSON.parse('{"0.__proto__": {}}')), RangeError, /^stateDict: unexpected key "0\.__proto__"/);
    expectError(() => net.loadStateDict({ ...state, '13.weight': weight! }), RangeError, /^stateDict: unexpected key "13\.weight"/);
    expectError(() => net.loadStateDict(rest), RangeError, /^stateDict: missing key "0\.weight"$/);
    expect(net.stateDict()).toEqual(state);
    net.dispose();
  });

  it('a value refused in a later layer loads nothing in the earlier ones; the error names the full key', () => {
    const rng = new nn.Rng(9);
    const net = new nn.Sequential(new nn.Linear(rt, 2, 3, { rng }), rt.batchNorm1d(3));
    const state = net.stateDict();
    const changed = { ...state, '0.weight': new Float32Array(6).fill(1) };
    expectError(() => net.loadStateDict({ ...changed, '1.running_var': new Float32Array(2) }), RangeError,
      /^stateDict\.1\.running_var: expected 3 values, got a Float32Array of length 2$/);
    expectError(() => net.loadStateDict({ ...changed, '1.num_batches_tracked': -1 }), RangeError, /^stateDict\.1\.num_batches_tracked: /);
    expect(net.stateDict()).toEqual(state);
    net.dispose();
  });
});

describe('out of memory inside a constructor releases what it made', () => {
  // Fills wasm32's 4 GiB with BatchNorm workspaces (address space, never written, so no RAM)
  // down to less than 48 KiB free, apart from one block of `hole` bytes set aside first.
  function squeeze(r: Runtime, hole: number): () => void {
    const hogs: { dispose(): void }[] = [];
    const gap = r.batchNorm1d(channelsFitting(hole), { affine: false, trackRunningStats: false });
    for (let bytes = 2 ** 30 - 64; bytes >= 48 * 1024; bytes = Math.floor(bytes / 2)) {
      for (;;) {
        try {
          hogs.push(r.batchNorm1d(channelsFitting(bytes), { affine: false, trackRunningStats: false }));
        } catch {
          break;
        }
      }
    }
    gap.dispose();
    return () => {
      for (const h of hogs) h.dispose();
    };
  }

  it('new nn.Linear whose gradient does not fit, nn.UnitNoise whose shift does not, nn.SGD whose second momentum buffer does not', async () => {
    const r = await init();
    const rng = new nn.Rng(10);
    const small = [new nn.Linear(r, 256, 512, { rng }), new nn.Linear(r, 256, 512, { rng })];
    const release = squeeze(r, 900 * 1024);
    try {
      let before = held(r);
      // The weight (640 KiB) fits the 900 KiB hole; its gradient then does not.
      expectError(() => new nn.Linear(r, 256, 640, { rng }), RangeError, /^out of memory/);
      expect(held(r)).toEqual(before);
      // UnitNoise's scale (640 KiB) fits; its shift then does not.
      expectError(() => new nn.UnitNoise(r, 160 * 1024, { rng }), RangeError, /^out of memory/);
      expect(held(r)).toEqual(before);
      // The first weight's momentum buffer (512 KiB) fits; the second one's does not.
      before = held(r);
      expectError(() => new nn.SGD(small.flatMap((l) => l.parameters()), { lr: 0.1, momentum: 0.9 }), RangeError, /^out of memory/);
      expect(held(r)).toEqual(before);
    } finally {
      release();
      for (const l of small) l.dispose();
    }
  });
});

describe('mistakes that gave silently wrong results are refused', () => {
  it('the same layer twice in a Sequential', () => {
    const relu = new nn.ReLU(rt);
    const bn = rt.batchNorm1d(2);
    const lin = new nn.Linear(rt, 2, 2, { rng: new nn.Rng(11) });
    expectError(() => new nn.Sequential(relu, lin, relu), RangeError, /^layers\[2\]: expected a layer not already in this Sequential, got ReLU\(\) \(also layers\[0\]\)$/);
    expectError(() => new nn.Sequential(bn, bn), RangeError, /^layers\[1\]: expected a layer not already in this Sequential, got BatchNorm1d\(2\) \(also layers\[0\]\)$/);
    expectError(() => new nn.Sequential(lin, lin), RangeError, /^layers\[1\]: expected a layer not already in this Sequential/);
    expectError(() => new nn.Sequential(new nn.Sequential(lin), relu, lin), RangeError, /^layers\[2\]: expected a layer not already in this Sequential/);
    for (const layer of [relu, lin]) layer.dispose();
    bn.dispose();
  });

  it('a Linear fed its own output, or backward fed its own input gradient', () => {
    const lin = new nn.Linear(rt, 2, 2, { rng: new nn.Rng(12) });
    const x = rt.tensor([3, 2], [1, 2, 3, 4, 5, 6]);
    const y = lin.forward(x);
    const message = thrown(() => lin.forward(y)).message;
    expect(message).toBe('x: must not be Linear(2, 2, bias=true)\'s own output, which forward() overwrites (copy it with rt.tensor(x.shape, x.data))');
    expect(message).not.toMatch(/\bout\b/);
    const dx = lin.backward(rt.tensor([3, 2], [1, 1, 1, 1, 1, 1]))!;
    lin.forward(x);
    expectError(() => lin.backward(dx), RangeError, /^dy: must not be Linear\(2, 2, bias=true\)'s own input gradient, which backward\(\) overwrites/);
    x.dispose();
    lin.dispose();
  });

  it('backward() twice after one forward() throws for every nn layer and a Sequential', () => {
    const rng = new nn.Rng(13);
    const x = rt.tensor([4, 3], randn(new Rng(12), 12));
    const dy = rt.tensor([4, 3], randn(new Rng(13), 12));
    const layers: nn.Layer[] = [
      new nn.Sigmoid(rt), new nn.ReLU(rt), new nn.Dropout(rt, 0.25, { rng }), new nn.UnitNoise(rt, 3, { rng }),
      new nn.Linear(rt, 3, 3, { rng }), new nn.BatchNormLayer(rt.batchNorm1d(3)), new nn.Sequential(new nn.Linear(rt, 3, 3, { rng })),
    ];
    for (const layer of layers) {
      layer.forward(x);
      layer.backward(dy);
      const grads = layer.parameters().map((p) => p.grad.toArray());
      expectError(() => layer.backward(dy), TypeError, /\.backward\(\): expected a new forward\(\) before this backward\(\), got a forward\(\) that backward\(\) already used/);
      expect(layer.parameters().map((p) => p.grad.toArray()), `${layer}: nothing accumulated`).toEqual(grads);
      layer.forward(x);
      layer.backward(dy);
      layer.dispose();
    }
    x.dispose();
    dy.dispose();
  });
});

describe('options and parameters of the wrong kind', () => {
  it('null is a TypeError, never the default', () => {
    const rng = new nn.Rng(14);
    const rows: [() => unknown, RegExp][] = [
      [() => new nn.Linear(rt, 3, 2, { rng, bias: null as never }), /^options\.bias: expected a boolean, got null$/],
      [() => new nn.Linear(rt, 3, 2, { rng, init: null as never }), /^options\.init: expected .*, got null$/],
      [() => new nn.UnitNoise(rt, 2, { rng, shift: null as never }), /^options\.shift: expected .*, got null$/],
      [() => new nn.UnitNoise(rt, 2, { rng, scale: null as never }), /^options\.scale: expected .*, got null$/],
      [() => new nn.SGD([], { lr: 0.1, momentum: null as never }), /^options\.momentum: expected a non-negative finite number, got null$/],
      [() => new nn.SGD([], { lr: 0.1, weightDecay: null as never }), /^options\.weightDecay: expected a non-negative finite number, got null$/],
    ];
    const before = held(rt);
    for (const [run, message] of rows) expectError(run, TypeError, message);
    expect(held(rt)).toEqual(before);
  });

  it('nn.SGD refuses parameters that are not the runtime\'s live tensors', () => {
    const value = rt.tensor([3]);
    const grad = rt.tensor([3]);
    const fake = { size: 3, shape: [3], runtime: rt, ptr: 8 };
    expectError(() => new nn.SGD([{ name: 'w', value: fake as never, grad }], { lr: 0.1 }), TypeError, /^params\[0\]\.value: expected a Tensor, got an object$/);
    expectError(() => new nn.SGD([{ name: 'w', value: {} as never, grad }], { lr: 0.1 }), TypeError, /^params\[0\]\.value: expected a Tensor, got an object$/);
    expectError(() => new nn.SGD([null as never], { lr: 0.1 }), TypeError, /^params\[0\]: expected a \{ name, value, grad \} parameter/);
    expectError(() => new nn.SGD([{ name: 'w', value, grad: fake as never }], { lr: 0.1 }), TypeError, /^params\[0\]\.grad: expected a Tensor, got an object$/);
    const short = rt.tensor([2]);
    expectError(() => new nn.SGD([{ name: 'w', value, grad: short }], { lr: 0.1 }), RangeError, /^params\[0\]\.grad: expected shape \[3\] \(params\[0\]\.value's\), got \[2\]$/);
    short.dispose();
    expectError(() => new nn.SGD([{ name: 'w', value, grad: short }], { lr: 0.1 }), TypeError, /^params\[0\]\.grad: Tensor \[2\] was disposed/);
    for (const t of [value, grad]) t.dispose();
  });
});

describe('state dicts through JSON', () => {
  it('a Sequential\'s stateDict() survives JSON.stringify and JSON.parse and loads into a twin', () => {
    const make = () => new nn.Sequential(new nn.Linear(rt, 3, 4, { rng: new nn.Rng(15) }), rt.batchNorm1d(4), new nn.ReLU(rt), new nn.Linear(rt, 4, 2, { rng: new nn.Rng(16) }));
    const a = make();
    const x = rt.tensor([5, 3], randn(new Rng(17), 15));
    a.forward(x);
    const b = make();
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    expect(b.stateDict()).toEqual(a.stateDict());
    a.eval();
    b.eval();
    expect(Array.from(b.forward(x).data)).toEqual(Array.from(a.forward(x).data));
    x.dispose();
    a.dispose();
    b.dispose();
  });
});

describe('layers own their outputs', () => {
  it('a disposed output is never written again, and its misuse names the layer that owns it', () => {
    const rng = new nn.Rng(18);
    const lin = new nn.Linear(rt, 3, 2, { rng });
    const relu = new nn.ReLU(rt);
    const net = new nn.Sequential(lin, relu);
    const x = rt.tensor([4, 3], randn(new Rng(12), 12));
    const dy = rt.tensor([4, 2], randn(new Rng(8), 8));
    const owned = /was disposed and cannot be used \(owned by Linear\(3, 2, bias=true\)/;
    const h = lin.forward(x);
    h.dispose();
    expectError(() => h.data, TypeError, owned);
    const again = lin.forward(x);
    expect(again.disposed, 'the next forward writes a live tensor, not pointer 0').toBe(false);
    net.forward(x);
    lin.output!.dispose();
    expectError(() => net.backward(dy), TypeError, /^ReLU\(\)\.backward\(\): the input forward\(\) saved, Tensor \[4, 2\], was disposed and cannot be used \(owned by Linear\(3, 2, bias=true\)/);
    expect(lin.weightGrad.data.every((v) => v === 0), 'nothing accumulated').toBe(true);
    const sigmoid = new nn.Sigmoid(rt);
    sigmoid.forward(x).dispose();
    expectError(() => sigmoid.backward(x), TypeError, /^Sigmoid\(\)\.output: Tensor \[4, 3\] was disposed and cannot be used \(owned by Sigmoid\(\)/);
    for (const t of [x, dy]) t.dispose();
    net.dispose();
    sigmoid.dispose();
  });

  it('a parameter disposed on its own is refused before a kernel reads pointer 0', () => {
    const lin = new nn.Linear(rt, 3, 2, { rng: new nn.Rng(19) });
    const x = rt.tensor([4, 3]);
    lin.weight.dispose();
    expectError(() => lin.forward(x), TypeError, /^Linear\(3, 2, bias=true\)\.weight was disposed and cannot be used \(dispose the layer, not its tensors\)$/);
    expect(lin.output).toBeNull();
    x.dispose();
    lin.dispose();
  });
});
