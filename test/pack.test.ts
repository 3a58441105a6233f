// issue 3/5: the package works from its tarball. `npm pack`, install into an empty folder,
// then plain Node (no build step, no TypeScript) imports it by name.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/index.node.js';
import { nodeResult, expectBitIdentical, type RuntimeResult } from './portability/compare.js';
import { packedInstall, repoRoot, type PackedInstall } from './portability/packed.js';

const run = promisify(execFile);

let packed: PackedInstall;
let expected: RuntimeResult;

beforeAll(async () => {
  [packed, expected] = await Promise.all([packedInstall(), nodeResult()]);
}, 300_000);

describe('npm pack', () => {
  it('ships the built JS, types, both pool worker scripts and the three wasm builds, and no sources', () => {
    for (const file of ['package.json', 'dist/index.js', 'dist/index.node.js', 'dist/index.workerd.js', 'dist/index.d.ts',
      'dist/pool-worker.node.js', 'dist/pool-worker.web.js', 'build/simd.wasm', 'build/scalar.wasm', 'build/simd-threads.wasm']) {
      expect(packed.files, file).toContain(file);
    }
    expect(packed.files.filter((f) => /^(src|test|assembly|scripts|bench|experiments|node_modules)\//.test(f))).toEqual([]);
  });

  it('every target in the exports map is in the tarball', async () => {
    const manifest = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const targets = (value: unknown): string[] =>
      typeof value === 'string' ? [value] : Object.values(value as Record<string, unknown>).flatMap(targets);
    const missing = targets(manifest.exports).map((t) => t.replace(/^\.\//, '')).filter((t) => !packed.files.includes(t));
    expect(missing).toEqual([]);
  });

  it('Node resolves the node entry and the raw wasm subpaths by package name', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e',
      "for (const s of ['batchnorm-wasm', 'batchnorm-wasm/simd.wasm', 'batchnorm-wasm/scalar.wasm']) console.log(import.meta.resolve(s))"],
    { cwd: packed.dir, timeout: 30_000 });
    expect(stdout.trim().split('\n').map((url) => url.slice(url.indexOf('/node_modules/')))).toEqual([
      '/node_modules/batchnorm-wasm/dist/index.node.js',
      '/node_modules/batchnorm-wasm/build/simd.wasm',
      '/node_modules/batchnorm-wasm/build/scalar.wasm',
    ]);
  });

  it('plain Node imports { init } from the installed tarball; SIMD and scalar match the source tree bit for bit', async () => {
    const { stdout } = await run(process.execPath, ['node.mjs'], { cwd: packed.dir, timeout: 60_000 });
    const result = JSON.parse(stdout) as RuntimeResult;
    expect(result.simd.simd).toBe(true);
    expect(result.scalar.simd).toBe(false);
    expectBitIdentical(result, expected, 'node (packed)');
  });

  // issue 13: the .d.ts must not need lib "dom" (WebAssembly, BufferSource, Response), and
  // node10 resolution, which ignores "exports", must find batchnorm-wasm/nn through typesVersions.
  const RESOLUTIONS = [
    { resolution: 'nodenext', module: 'nodenext', file: 'consumer.mts' },
    { resolution: 'bundler', module: 'esnext', file: 'consumer.ts' },
    { resolution: 'node10', module: 'esnext', file: 'consumer.ts' },
  ] as const;
  const CONSUMER = [
    "import { init, simdSupported, type Runtime, type Tensor, type BatchNorm, type InitOptions, type StateDictLike } from 'batchnorm-wasm';",
    "import { Runtime as RuntimeClass, Tensor as TensorClass, BatchNorm as BatchNormClass } from 'batchnorm-wasm';",
    "import * as nn from 'batchnorm-wasm/nn';",
    "const options: InitOptions = { simd: simdSupported() ? 'auto' : false };",
    'const rt: Runtime = await init(options);',
    'const bn: BatchNorm = rt.batchNorm2d(3, { momentum: null, channelsLast: false });',
    'const y: Tensor = bn.forward(rt.tensor([2, 3, 4, 4]));',
    'export const first: number | undefined = y.data[0];',
    'export const simd: boolean = rt.simd;',
    '// A state dict parsed from JSON type-checks as loadStateDict input.',
    'const parsed: { weight: number[]; bias: number[]; running_mean: number[]; running_var: number[]; num_batches_tracked: number } =',
    '  JSON.parse(JSON.stringify(bn.stateDict()));',
    'const loadable: StateDictLike = parsed;',
    'bn.loadStateDict(loadable);',
    'export const net = new nn.Sequential(new nn.Linear(rt, 3, 2, { rng: new nn.Rng(1) }));',
    "// @ts-expect-error: simd is 'auto' or a boolean",
    "await init({ simd: 'yes' });",
    '// @ts-expect-error: runtimes come from init()',
    'new RuntimeClass();',
    '// @ts-expect-error: tensors come from rt.tensor()',
    'new TensorClass();',
    '// @ts-expect-error: layers come from rt.batchNorm1d/2d/3d()',
    'new BatchNormClass();',
    '',
  ].join('\n');

  /** tsc's output for `source` as `file` in a fresh folder of the packed install: '' when it checks. */
  async function typeCheck(folder: string, file: string, source: string, options: Record<string, unknown>): Promise<string> {
    const dir = join(packed.dir, folder);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'es2022', types: ['node'], typeRoots: [join(repoRoot, 'node_modules', '@types')], ...options,
      },
      files: [file],
    }));
    await writeFile(join(dir, file), source);
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', dir], { cwd: dir, timeout: 90_000 })
      .catch((error: { stdout: string }) => ({ stdout: error.stdout }));
    return result.stdout;
  }

  it.each(RESOLUTIONS.flatMap((r) => [true, false].map((dom) => ({ ...r, dom }))))(
    'the shipped types check a strict TypeScript consumer: moduleResolution $resolution, dom $dom',
    async ({ resolution, module, file, dom }) => {
      expect(await typeCheck(`types-${resolution}-${dom ? 'dom' : 'nodom'}`, file, CONSUMER, {
        module, moduleResolution: resolution, lib: dom ? ['es2022', 'dom'] : ['es2022'], skipLibCheck: false,
      })).toBe('');
    },
    120_000,
  );

  // batchnorm-wasm/tfjs with its optional peer installed, as a tfjs user has it: the tarball's
  // install has no peer, so `paths` maps @tensorflow/* to the repository's copy. tfjs's own
  // .d.ts fail skipLibCheck: false (tfjs-core's missing Long, tfjs-layers' LayersModel against
  // InferenceModel, and without lib dom tfjs-backend-webgl's WebGL names), so this consumer
  // skips lib checks: it checks that the subpath resolves (node10 through typesVersions) and
  // that its types type a real use, with a wrong config rejected.
  const TFJS_CONSUMER = [
    "import * as tf from '@tensorflow/tfjs';",
    "import { createTfjsBatchNorm, type TfjsBatchNorm, type BatchNormalizationArgs } from 'batchnorm-wasm/tfjs';",
    'const bnw: TfjsBatchNorm = await createTfjsBatchNorm(tf, { simd: \'auto\' });',
    'const config: BatchNormalizationArgs = { axis: -1, momentum: 0.9, epsilon: 1e-3 };',
    'const model = tf.sequential();',
    'model.add(bnw.batchNormalization(config));',
    'export const restore: () => void = bnw.registerForLoading();',
    'export const className: string = bnw.BatchNormalization.className;',
    'export const simd: boolean = bnw.runtime.simd;',
    "// @ts-expect-error: axis is a number, as in tf.layers.batchNormalization",
    "bnw.batchNormalization({ axis: 'last' });",
    '',
  ].join('\n');

  it.each(RESOLUTIONS)(
    'batchnorm-wasm/tfjs types check a strict consumer that has tfjs: moduleResolution $resolution',
    async ({ resolution, module, file }) => {
      expect(await typeCheck(`types-tfjs-${resolution}`, file, TFJS_CONSUMER, {
        module, moduleResolution: resolution, lib: ['es2022', 'dom'], skipLibCheck: true,
        // Each tfjs package's types entry: nodenext's ESM mode does not resolve a mapped folder.
        paths: { '@tensorflow/*': [join(repoRoot, 'node_modules', '@tensorflow', '*', 'dist', 'index.d.ts')] },
      })).toBe('');
    },
    120_000,
  );
});

describe('init({ wasm }) in Node reads every documented source', () => {
  const scalarPath = join(repoRoot, 'build', 'scalar.wasm');

  it.each([
    ['a relative path', () => relative(process.cwd(), scalarPath)],
    ['an absolute path', () => scalarPath],
    ['a file: URL string', () => pathToFileURL(scalarPath).href],
    ['a file: URL', () => pathToFileURL(scalarPath)],
    ['bytes', () => readFile(scalarPath)],
    ['a WebAssembly.Module', async () => new WebAssembly.Module(await readFile(scalarPath))],
    ['a Response', async () => new Response(await readFile(scalarPath))],
  ] as const)('%s', async (_, source) => {
    const rt = await init({ wasm: await source() });
    expect(rt.simd).toBe(false);
  });

  it('a missing file names the path, as an Error (nothing is wrong with the kind of value)', async () => {
    const missing = join(repoRoot, 'build', 'missing.wasm');
    const thrown = await init({ wasm: missing }).catch((error: unknown) => error);
    expect((thrown as Error).constructor).toBe(Error);
    expect((thrown as Error).message).toBe(
      `opts.wasm: loading ${pathToFileURL(missing)} failed (ENOENT: no such file or directory, open '${missing}')`,
    );
  });
});
