// issue 5: the packed package in Deno, Bun and Cloudflare workerd, each compared with the
// Node result for the same input (same wasm, so bit-identical).
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectBitIdentical, nodeResult, nodeThreadedResult, type RuntimeResult } from './portability/compare.js';
import type { ThreadedResult } from './portability/app/threads.mjs';
import { packedInstall, type PackedInstall } from './portability/packed.js';
import { findBinary, withRuntime } from './portability/runtimes.js';
import { bundleWorker, startWorkerd, type Workerd } from './portability/workerd.js';

const run = promisify(execFile);

const [deno, bun, workerd] = await Promise.all([findBinary('deno'), findBinary('bun'), findBinary('workerd')]);

let packed: PackedInstall;
let expected: RuntimeResult;
let expectedThreaded: ThreadedResult;

beforeAll(async () => {
  [packed, expected, expectedThreaded] = await Promise.all([packedInstall(), nodeResult(), nodeThreadedResult()]);
}, 300_000);

async function runScript<T = RuntimeResult>(binary: string, args: string[]): Promise<T> {
  const { stdout } = await run(binary, args, {
    cwd: packed.dir,
    timeout: 60_000,
    maxBuffer: 16 << 20,
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  });
  return JSON.parse(stdout) as T;
}

withRuntime('Deno', deno, (binary, version) => {
  describe(version, () => {
    it('init() finds its wasm in the packed package; SIMD and scalar builds match Node bit for bit', async () => {
      const result = await runScript(binary, ['run', '--allow-read', '--no-lock', 'node.mjs']);
      expect(result.simd.simd).toBe(true);
      expect(result.scalar.simd).toBe(false);
      expectBitIdentical(result, expected, 'deno');
    }, 90_000);

    it('init({ threads: 2 }) starts a worker; a step split across two threads matches Node on one thread bit for bit', async () => {
      const result = await runScript<ThreadedResult>(binary, ['run', '--allow-read', '--no-lock', 'threads-node.mjs']);
      expect(result).toEqual({ ...expectedThreaded, threads: 2 });
    }, 90_000);
  });
});

withRuntime('Bun', bun, (binary, version) => {
  describe(`Bun ${version}`, () => {
    it('init() finds its wasm in the packed package; SIMD and scalar builds match Node bit for bit', async () => {
      const result = await runScript(binary, ['node.mjs']);
      expect(result.simd.simd).toBe(true);
      expect(result.scalar.simd).toBe(false);
      expectBitIdentical(result, expected, 'bun');
    }, 90_000);

    it('init({ threads: 2 }) starts a worker; a step split across two threads matches Node on one thread bit for bit', async () => {
      const result = await runScript<ThreadedResult>(binary, ['threads-node.mjs']);
      expect(result).toEqual({ ...expectedThreaded, threads: 2 });
    }, 90_000);
  });
});

withRuntime('workerd', workerd, (binary, version) => {
  describe(`Cloudflare ${version}`, () => {
    let server: Workerd | null = null;
    let bundleDir: string | null = null;

    beforeAll(async () => {
      bundleDir = await bundleWorker((await packedInstall()).dir);
      server = await startWorkerd(binary, bundleDir);
    }, 300_000);

    afterAll(async () => {
      await server?.stop();
      if (bundleDir !== null) await rm(bundleDir, { recursive: true, force: true });
    }, 30_000);

    it('an esbuild bundle that imports batchnorm-wasm/simd.wasm and scalar.wasm matches Node bit for bit', async () => {
      const response = await fetch(`${server!.origin}/`, { signal: AbortSignal.timeout(30_000) });
      expect(response.status).toBe(200);
      const result = await response.json() as RuntimeResult;
      expect(result.simd.simd).toBe(true);
      expect(result.scalar.simd).toBe(false);
      expectBitIdentical(result, expected, 'workerd');
    }, 60_000);

    it('init() without a WebAssembly.Module rejects with a TypeError that says what to import', async () => {
      const response = await fetch(`${server!.origin}/errors`, { signal: AbortSignal.timeout(30_000) });
      const how = "write `import wasm from 'batchnorm-wasm/simd.wasm'` and call `init({ wasm })`";
      expect(await response.json()).toEqual({
        withoutWasm: `TypeError: opts.wasm: required in Cloudflare workerd; ${how}`,
        withBytes: 'TypeError: opts.wasm: expected a WebAssembly.Module in Cloudflare workerd (it cannot compile bytes at run time), '
          + `got a Uint8Array of length 8; ${how}`,
      });
    }, 60_000);

    it("threads: 'auto' runs one thread; threads: 2 rejects and says workerd has no worker threads", async () => {
      const response = await fetch(`${server!.origin}/threads`, { signal: AbortSignal.timeout(30_000) });
      expect(await response.json()).toEqual({
        auto: 1,
        two: 'Error: opts.threads: 2, but Cloudflare workerd has no worker threads (and no shared memory between isolates)',
      });
    }, 60_000);
  });
});
