// batchnorm-wasm/tfjs inside tfjs models: fit, save and load both ways, getConfig, errors,
// the fallback on other backends, memory over a long fit, a layer applied twice in one tape.
import { describe, it, expect, beforeAll, vi } from 'vitest';
import { createTfjsBatchNorm, type TfjsBatchNorm } from '../src/tfjs/index.node.js';
import { createWith } from '../src/tfjs/create.js';
import { referenceBackward, Rng, randn } from './reference.js';
import { BACKENDS, checkAgainst, tf, useBackend } from './tfjs-harness.js';
import { thrown } from './harness.js';

type Layer = ReturnType<typeof tf.layers.batchNormalization>;
type BatchNormFactory = (config: Parameters<typeof tf.layers.batchNormalization>[0]) => Layer;

const f32 = (v: ArrayLike<number>) => Float32Array.from(v);

// A small net whose only difference between the two builds is the BN layer's class. A
// pointwise dense layer stands in for a convolution: tfjs's wasm backend has no
// Conv2DBackpropFilter kernel, so no conv net trains there.
function smallNet(bn: BatchNormFactory, seed: number): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [6, 6, 2], units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed }) }));
  model.add(bn({ axis: -1, momentum: 0.9 }));
  model.add(tf.layers.activation({ activation: 'relu' }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }));
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  return model;
}

function data(seed: number, n: number): { x: tf.Tensor; y: tf.Tensor } {
  const rng = new Rng(seed);
  const labels = Array.from({ length: n }, () => rng.int(0, 2));
  return { x: tf.tensor(f32(randn(rng, n * 72, { mean: 1, std: 2 })), [n, 6, 6, 2]), y: tf.oneHot(labels, 3) };
}

async function fitWeights(bn: BatchNormFactory, backend: string): Promise<Float32Array[]> {
  await useBackend(backend);
  const model = smallNet(bn, 5);
  const { x, y } = data(6, 32);
  await model.fit(x, y, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
  const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
  tf.dispose([x, y]);
  model.dispose();
  return weights;
}

// tfjs's own layer fitted on cpu and on wasm, once for both backends' blocks.
let spread: Promise<Float32Array[][]> | null = null;
function tfjsSpread(): Promise<Float32Array[][]> {
  spread ??= (async () => [await fitWeights(tf.layers.batchNormalization, 'cpu'), await fitWeights(tf.layers.batchNormalization, 'wasm')])();
  return spread;
}

describe.each(BACKENDS)('batchnorm-wasm/tfjs in models on the %s backend', (backend) => {
  let bnw: TfjsBatchNorm;
  beforeAll(async () => {
    await useBackend(backend);
    bnw = await createTfjsBatchNorm(tf);
  });

  it('fit: weights and moving statistics after 12 SGD steps match tfjs within tfjs\'s own cpu-to-wasm spread', async () => {
    // The bound: tfjs's layer on cpu and on wasm disagree by f32 rounding that 12 steps of
    // SGD carry forward; ours may differ from tfjs by twice that (floor: 1e-5·max|w|).
    const spread = await tfjsSpread();
    const reference = backend === 'cpu' ? spread[0]! : spread[1]!;
    const other = backend === 'cpu' ? spread[1]! : spread[0]!;
    const ours = await fitWeights((c) => bnw.batchNormalization(c), backend);
    expect(ours.length).toBe(reference.length);
    const failures = ours.map((w, i) => checkAgainst(`weight ${i}`, w, other[i]!, reference[i]!)).filter((f) => f !== null);
    expect(failures).toEqual([]);
  });

  it('save with tfjs\'s layer, load with ours (registerForLoading), and back', async () => {
    await useBackend(backend);
    const model = smallNet(tf.layers.batchNormalization, 9);
    const { x, y } = data(10, 16);
    await model.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
    const save = async (m: tf.LayersModel) => {
      let artifacts: tf.io.ModelArtifacts | null = null;
      await m.save(tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }));
      return artifacts!;
    };
    const restore = bnw.registerForLoading();
    let loaded: tf.LayersModel;
    try {
      loaded = await tf.loadLayersModel(tf.io.fromMemory(await save(model)));
    } finally {
      restore();
    }
    expect(loaded.layers[1]).toBeInstanceOf(bnw.BatchNormalization);
    expect(loaded.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(model.getWeights().map((w) => Array.from(w.dataSync())));
    const predicted = (m: tf.LayersModel) => (m.predict(x) as tf.Tensor).dataSync();
    const p = predicted(model);
    expect(checkAgainst('predictions', predicted(loaded), p, p)).toBeNull();

    // Back: after restore() the registered class is tfjs's again.
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(await save(loaded)));
    expect(reloaded.layers[1]).not.toBeInstanceOf(bnw.BatchNormalization);
    expect(reloaded.layers[1]!.getClassName()).toBe('BatchNormalization');
    expect(reloaded.layers[1]!.getConfig()).toEqual(model.layers[1]!.getConfig());
    expect(reloaded.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(model.getWeights().map((w) => Array.from(w.dataSync())));
    tf.dispose([x, y]);
    for (const m of [model, loaded, reloaded]) m.dispose();
  });

  it('getConfig(), the weights\' names, shapes and order are tfjs\'s for every config field', async () => {
    await useBackend(backend);
    const config = {
      axis: 1, momentum: 0.8, epsilon: 1e-4, center: true, scale: true,
      betaInitializer: 'randomNormal', gammaInitializer: 'ones', movingMeanInitializer: 'zeros', movingVarianceInitializer: 'ones',
      betaRegularizer: 'l1l2', gammaRegularizer: tf.regularizers.l2({ l2: 0.01 }), betaConstraint: 'maxNorm', gammaConstraint: 'nonNeg',
      trainable: false, name: 'bn_config',
    } as const;
    const ours = bnw.batchNormalization(config);
    const theirs = tf.layers.batchNormalization(config);
    expect(ours.getConfig()).toEqual(theirs.getConfig());
    expect(ours.getClassName()).toBe('BatchNormalization');
    ours.build([2, 5, 3]);
    theirs.build([2, 5, 3]);
    const described = (l: Layer) => l.weights.map((w) => [w.originalName, w.shape, w.trainable]);
    expect(described(ours)).toEqual(described(theirs));
    expect(described(ours).map((d) => d[0])).toEqual(['gamma', 'beta', 'moving_mean', 'moving_variance']);
  });

  it('bad axes and ranks get tfjs\'s own errors', async () => {
    await useBackend(backend);
    const cases: [Parameters<typeof tf.layers.batchNormalization>[0], number[]][] = [
      [{ axis: 3 }, [2, 3]],
      [{ axis: -4 }, [2, 3, 4]],
      [{ axis: 0.5 }, [2, 3]],
      [{}, [4]],
      [{}, [1, 2, 1, 2, 1, 2]],
    ];
    for (const [config, shape] of cases) {
      const x = tf.ones(shape);
      const mine = thrown(() => bnw.batchNormalization(config).apply(x, { training: true }));
      const tfjs = thrown(() => tf.layers.batchNormalization(config).apply(x, { training: true }));
      expect([mine.constructor.name, mine.message]).toEqual([tfjs.constructor.name, tfjs.message]);
      x.dispose();
    }
    // A built layer given another channel count: tfjs's input-spec ValueError.
    const built = bnw.batchNormalization(), tfjsBuilt = tf.layers.batchNormalization();
    built.apply(tf.ones([2, 3]));
    tfjsBuilt.apply(tf.ones([2, 3]));
    const mine = thrown(() => built.apply(tf.ones([2, 4])));
    const tfjs = thrown(() => tfjsBuilt.apply(tf.ones([2, 4])));
    expect([mine.constructor.name, mine.message.replace(/batch_normalization_\w+/g, 'L')]).toEqual([tfjs.constructor.name, tfjs.message.replace(/batch_normalization_\w+/g, 'L')]);
  });

  it('a layer applied twice in one tape differentiates each application with its own input', async () => {
    await useBackend(backend);
    const rng = new Rng(21);
    const shape = [10, 3];
    const xs = [randn(rng, 30), randn(rng, 30, { mean: 3 })];
    const dys = [randn(rng, 30), randn(rng, 30)];
    const grads = (layer: Layer) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.add(tf.sum(tf.mul(layer.apply(a, { training: true }) as tf.Tensor, tf.tensor(f32(dys[0]!), shape))),
          tf.sum(tf.mul(layer.apply(b, { training: true }) as tf.Tensor, tf.tensor(f32(dys[1]!), shape)))))(xs.map((v) => tf.tensor(f32(v), shape)))
        .map((g) => g.dataSync());
    const ours = grads(bnw.batchNormalization());
    const theirs = grads(tf.layers.batchNormalization());
    [0, 1].forEach((i) => {
      const ref = referenceBackward(dys[i]!, xs[i]!, shape, { channelsLast: true, training: true, eps: 1e-3 }).dx;
      expect(checkAgainst(`dx${i}`, ours[i]!, theirs[i]!, ref)).toBeNull();
    });
  });

  it('1,000 fit steps leak nothing in wasm or tfjs memory, and dispose() frees the saved input', async () => {
    await useBackend(backend);
    const before = bnw.runtime.memoryUsage();
    const model = tf.sequential();
    model.add(tf.layers.dense({ inputShape: [3], units: 4 }));
    const bn = bnw.batchNormalization();
    model.add(bn);
    model.add(tf.layers.dense({ units: 2 }));
    model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
    const x = tf.randomNormal([1600, 3], 0, 1, 'float32', 1), y = tf.randomNormal([1600, 2], 0, 1, 'float32', 2);
    await model.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 });
    const wasm = bnw.runtime.memoryUsage();
    const tensors = tf.memory().numTensors, buffers = tf.engine().backend.numDataIds();
    await model.fit(x, y, { epochs: 10, batchSize: 16, verbose: 0 });
    expect(bnw.runtime.memoryUsage()).toEqual(wasm);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    // What stays between calls is the one saved batch: 16 rows of 4 channels.
    expect(wasm.liveTensors - before.liveTensors).toBe(1);
    expect(wasm.bytesAllocated - before.bytesAllocated).toBe(16 * 4 * 4);
    model.dispose();
    tf.dispose([x, y]);
    const after = bnw.runtime.memoryUsage();
    expect([after.liveTensors, after.bytesAllocated]).toEqual([before.liveTensors, before.bytesAllocated]);
  });
});

describe('batchnorm-wasm/tfjs on a backend it cannot read synchronously', () => {
  it('runs tfjs\'s own batch norm there, with one console warning', async () => {
    const Cpu = tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend;
    if (tf.findBackend('fake-gpu') === null) {
      tf.registerBackend('fake-gpu', () => new Cpu(), 0);
      for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: 'fake-gpu' });
    }
    await useBackend('fake-gpu');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const bnw = await createTfjsBatchNorm(tf);
      const ours = bnw.batchNormalization({ axis: -1 }), theirs = tf.layers.batchNormalization({ axis: -1 });
      const x = tf.randomNormal([4, 5, 3], 1, 2, 'float32', 3);
      const results = [ours, theirs].map((l) => [l.apply(x, { training: true }), l.apply(x, { training: true }), l.apply(x)].map((t) => Array.from((t as tf.Tensor).dataSync())));
      expect(results[0]).toEqual(results[1]);
      expect(ours.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(theirs.getWeights().map((w) => Array.from(w.dataSync())));
      // tfjs's own Node hint may be among the warnings; ours is one.
      const warnings = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.startsWith('batchnorm-wasm'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('"fake-gpu"');
      expect(bnw.runtime.memoryUsage().liveTensors).toBe(0);
    } finally {
      warn.mockRestore();
      await useBackend('cpu');
    }
  });
});

describe('createTfjsBatchNorm', () => {
  it('passes its options to init() unchanged, known or not', async () => {
    const options = { simd: false, threads: 2 } as Parameters<typeof createTfjsBatchNorm>[1];
    let received: unknown;
    const stub = async (o?: unknown) => {
      received = o;
      return (await createTfjsBatchNorm(tf, { simd: false })).runtime;
    };
    const bnw = await createWith(stub, tf, options);
    expect(received).toBe(options);
    expect(bnw.runtime.simd).toBe(false);
  });

  it('refuses a tf that is not the tfjs namespace, and bad init options, with init\'s own error', async () => {
    await expect(createTfjsBatchNorm(null)).rejects.toThrow(/^tf: expected the @tensorflow\/tfjs namespace/);
    await expect(createTfjsBatchNorm({ layers: {} })).rejects.toThrow(TypeError);
    await expect(createTfjsBatchNorm(tf, { simd: 'yes' as unknown as boolean })).rejects.toThrow(/^opts\.simd: expected 'auto', true or false/);
  });
});
