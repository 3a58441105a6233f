// issue 5: Chromium (Debian's /usr/bin/chromium through playwright-core, never a downloaded
// browser) loads the packed package from loopback as plain ESM, as a Vite build, from the
// Vite dev server and as an esbuild bundle, and computes what Node computes, bit for bit.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build, createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectBitIdentical, nodeResult, nodeThreadedResult, type RuntimeResult } from './portability/compare.js';
import { bundleForBrowser } from './portability/esbuild.js';
import { packedInstall, type PackedInstall } from './portability/packed.js';
import { findChromium, withRuntime } from './portability/runtimes.js';
import { CROSS_ORIGIN_ISOLATED, serveStatic, type StaticServer } from './portability/serve.js';
import type { ThreadedResult } from './portability/app/threads.mjs';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const browserBinary = await findChromium();

withRuntime('Chromium', browserBinary, (executablePath, version) => {
  describe(version, () => {
    let packed: PackedInstall;
    let expected: RuntimeResult;
    let expectedThreaded: ThreadedResult;
    // One temp folder for the browser profile and Vite's output and cache, removed in afterAll.
    let scratch: string | null = null;
    let viteCache = '';
    let context: BrowserContext | null = null;
    let plainServer: StaticServer | null = null;
    let buildServer: StaticServer | null = null;
    let isolatedServer: StaticServer | null = null;
    let esbuildServer: StaticServer | null = null;
    let devServer: ViteDevServer | null = null;

    beforeAll(async () => {
      [packed, expected, expectedThreaded] = await Promise.all([packedInstall(), nodeResult(), nodeThreadedResult()]);
      scratch = await mkdtemp(join(tmpdir(), 'batchnorm-wasm-browser-'));
      const [profile, viteOut] = [join(scratch, 'profile'), join(scratch, 'vite-out')];
      viteCache = join(scratch, 'vite-cache');
      await build({
        root: packed.dir,
        configFile: false,
        cacheDir: viteCache,
        logLevel: 'silent',
        build: {
          outDir: viteOut,
          emptyOutDir: true,
          rollupOptions: { input: { index: join(packed.dir, 'index.html'), threads: join(packed.dir, 'threads.html') } },
        },
      });
      const esbuildOut = join(scratch, 'esbuild');
      await bundleForBrowser(packed.dir, esbuildOut);
      plainServer = await serveStatic(packed.dir);
      buildServer = await serveStatic(viteOut);
      isolatedServer = await serveStatic(viteOut, { headers: CROSS_ORIGIN_ISOLATED });
      esbuildServer = await serveStatic(esbuildOut);
      context = await chromium.launchPersistentContext(profile, {
        executablePath, args: CHROMIUM_ARGS, headless: true, timeout: 60_000,
      });
    }, 300_000);

    afterAll(async () => {
      await context?.close();
      await Promise.all([plainServer?.close(), buildServer?.close(), isolatedServer?.close(), esbuildServer?.close(), devServer?.close()]);
      if (scratch !== null) await rm(scratch, { recursive: true, force: true });
    }, 60_000);

    /** Opens a page, waits for app/browser.mjs to publish its result; page errors fail the test. */
    async function pageResult(url: string, before?: (page: Page) => Promise<unknown>): Promise<{ page: Page; result: RuntimeResult }> {
      const page = await context!.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
      await before?.(page);
      await page.goto(url, { timeout: 30_000 });
      await page.waitForFunction(() => 'result' in globalThis, null, { timeout: 30_000 }).catch((error: Error) => {
        throw new Error(`${url}: no result (${errors.join('; ') || error.message})`);
      });
      expect(errors).toEqual([]);
      return { page, result: await page.evaluate(() => (globalThis as unknown as { result: RuntimeResult }).result) };
    }

    it('plain <script type="module"> with an import map: init() fetches its wasm; SIMD and scalar match Node bit for bit', async () => {
      const { page, result } = await pageResult(`${plainServer!.origin}/plain.html`);
      expect(result.simd.simd).toBe(true);
      expect(result.scalar.simd).toBe(false);
      expectBitIdentical(result, expected, 'chromium (plain ESM)');
      await page.close();
    }, 90_000);

    it('Vite build: the wasm becomes a hashed asset that init() finds; results match Node bit for bit', async () => {
      const { page, result } = await pageResult(`${buildServer!.origin}/index.html`);
      expect(result.simd.simd).toBe(true);
      expectBitIdentical(result, expected, 'chromium (vite build)');
      await page.close();
    }, 90_000);

    type ThreadsPage = { isolated: boolean; mainThread: string; worker: { auto: number; two: ThreadedResult | string } };

    it('cross-origin isolated page (Vite build): in a worker, threads: 2 starts a module worker and a split step matches Node on one thread bit for bit; the main thread runs one', async () => {
      const { page, result } = await pageResult(`${isolatedServer!.origin}/threads.html`);
      const got = result as unknown as ThreadsPage;
      expect(got.isolated).toBe(true);
      expect(got.worker.two).toEqual({ ...expectedThreaded, threads: 2 });
      expect(got.mainThread).toBe("Error: opts.threads: 2, but a page's main thread may not wait for workers (Atomics.wait): run batch norm in a worker to use threads");
      await page.close();
    }, 90_000);

    it('a page that is not cross-origin isolated: \'auto\' runs one thread in a worker, and threads: 2 rejects with the reason', async () => {
      const { page, result } = await pageResult(`${buildServer!.origin}/threads.html`);
      expect(result as unknown).toEqual({
        isolated: false,
        mainThread: "Error: opts.threads: 2, but a page's main thread may not wait for workers (Atomics.wait): run batch norm in a worker to use threads",
        worker: {
          auto: 1,
          two: 'Error: opts.threads: 2, but the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin '
            + 'and Cross-Origin-Embedder-Policy: require-corp), so it has no SharedArrayBuffer',
        },
      });
      await page.close();
    }, 90_000);

    it('esbuild bundle: the imported wasm URLs become files beside the bundle; SIMD and scalar match Node bit for bit', async () => {
      const { page, result } = await pageResult(`${esbuildServer!.origin}/esbuild.html`);
      expect(result.simd.simd).toBe(true);
      expect(result.scalar.simd).toBe(false);
      expectBitIdentical(result, expected, 'chromium (esbuild)');
      await page.close();
    }, 90_000);

    it('Vite dev server (dependency pre-bundling on, no config): results match Node bit for bit', async () => {
      devServer = await createServer({
        root: packed.dir,
        configFile: false,
        cacheDir: viteCache,
        logLevel: 'silent',
        server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
      });
      await devServer.listen();
      const origin = devServer.resolvedUrls?.local[0];
      expect(origin, 'the dev server reports a loopback URL').toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const { page, result } = await pageResult(`${origin}index.html`);
      expectBitIdentical(result, expected, 'chromium (vite dev)');
      expect(await readdir(join(viteCache, 'deps')), 'Vite pre-bundled the package').toContain('batchnorm-wasm.js');
      await page.close();
    }, 120_000);

    it('Vite dev server with the two headers: threads: 2 in a worker matches Node on one thread bit for bit', async () => {
      const isolatedDev = await createServer({
        root: packed.dir,
        configFile: false,
        cacheDir: viteCache,
        logLevel: 'silent',
        server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null, headers: CROSS_ORIGIN_ISOLATED },
      });
      try {
        await isolatedDev.listen();
        const { page, result } = await pageResult(`${isolatedDev.resolvedUrls!.local[0]}threads.html`);
        expect((result as unknown as ThreadsPage).worker.two).toEqual({ ...expectedThreaded, threads: 2 });
        await page.close();
      } finally {
        await isolatedDev.close();
      }
    }, 120_000);

    it('an engine whose WebAssembly.validate rejects the v128 probe gets the scalar build by itself', async () => {
      const { page, result } = await pageResult(`${plainServer!.origin}/plain.html`, (p) => p.addInitScript(() => {
        WebAssembly.validate = () => false;
      }));
      expect(result.simd.simd).toBe(false);
      expectBitIdentical(result.simd, expected.scalar, 'chromium (no SIMD, auto)');
      // A string, so vitest's transform leaves the page's dynamic import() alone.
      const forced = await page.evaluate(`import('batchnorm-wasm').then((m) => m.init({ simd: true }))
        .then(() => 'resolved', (e) => e.name + ': ' + e.message)`);
      expect(forced).toBe("TypeError: opts.simd: true, but this engine does not support WebAssembly SIMD (use 'auto' or false)");
      await page.close();
    }, 90_000);
  });
});
