// issue 9: the demo page, built by Vite exactly as `npm run demo:build` builds it, served
// from a plain static server below a sub-path on 127.0.0.1, opened in Debian's Chromium
// (playwright-core, never a downloaded browser): it trains both Figure 1 networks in its
// worker and draws them. issue 17: served with the two cross-origin isolation headers (as
// the dev and preview servers send them) its trainer runs threads; served without them it
// trains on one thread and says why. `DEMO_SCREENSHOT=1` also trains a fresh page to step
// 3,000 and writes docs/demo.png.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build, createServer as createViteServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoThreads } from '../src/threads.js';
import { findChromium, withRuntime } from './portability/runtimes.js';
import { CROSS_ORIGIN_ISOLATED, serveStatic, type StaticServer } from './portability/serve.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// Below a sub-path, as on a static host: the build must use relative URLs only.
const MOUNT = '/hosted/demo/';
// The series colors of demo/main.ts.
const BN = [0x1d, 0x4e, 0xd8];
const PLAIN = [0xea, 0x58, 0x0c];
const STEPS = 400;
const THREADS_STEPS = 200;

const value = (page: Page, id: string) => page.$eval(`#${id}`, (e) => (e as HTMLElement).dataset.value ?? '');
const numberValue = async (page: Page, id: string) => Number(await value(page, id));
const isolated = (page: Page) => page.evaluate(() => crossOriginIsolated);
/** The threads the trainer reports, and the readout's text (the count and, for 1, why). */
const threadsShown = async (page: Page) => ({ threads: await numberValue(page, 'threads-run'), text: await page.$eval('#threads-run', (e) => e.textContent) });

/** Records what the page's training worker posts, in order, as `globalThis.workerMessages`. */
async function recordWorkerMessages(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const messages: unknown[] = [];
    (globalThis as unknown as { workerMessages: unknown[] }).workerMessages = messages;
    const PageWorker = Worker;
    globalThis.Worker = class extends PageWorker {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        this.addEventListener('message', (event: MessageEvent) => messages.push(event.data));
      }
    };
  });
}

/** Every training-loss point and test evaluation the worker has posted (demo/protocol.ts), as it sent them. */
function trainedSoFar(page: Page): Promise<{ losses: unknown[]; evaluations: unknown[] }> {
  return page.evaluate(() => {
    type Progress = { type: 'progress'; losses: unknown[]; evaluations: unknown[] };
    const progress = (globalThis as unknown as { workerMessages: { type: string }[] }).workerMessages
      .filter((m): m is Progress => m.type === 'progress');
    return { losses: progress.flatMap((m) => m.losses), evaluations: progress.flatMap((m) => m.evaluations) };
  });
}

/**
 * The Figure 1 pair as experiments/reproduce.mjs trains it in Node (its seed derivation,
 * the page's defaults), to `steps`: the test accuracies at that step.
 */
async function nodeFigure1(steps: number): Promise<{ bn: number; plain: number }> {
  // @ts-expect-error: plain ESM without types
  const { loadDigits } = await import('../experiments/lib/load-digits.mjs');
  // @ts-expect-error: plain ESM without types
  const { FIGURE1, splitAndSeeds } = await import('../experiments/lib/figure1.mjs');
  // @ts-expect-error: plain ESM without types
  const { train } = await import('../experiments/lib/train.mjs');
  // The experiments' own copy of the package, so their instanceof checks hold.
  const nn = await import('../dist/nn/index.js');
  const { init } = await import('../dist/index.node.js');
  const rt = await init();
  const { data, seeds } = splitAndSeeds(await loadDigits(), new nn.Rng(1), FIGURE1.trainSize);
  const run = (bn: boolean): number => train(rt, data, {
    hidden: FIGURE1.hidden, bn, noisy: false, initStd: FIGURE1.initStd, lr: FIGURE1.lr, momentum: FIGURE1.momentum, steps, evalAt: [steps], seeds,
  }, () => {}).finalTestAccuracy;
  return { bn: run(true), plain: run(false) };
}

/** Waits for the page's state, or fails at once with what the page reports when training failed. */
async function waitFor(page: Page, what: string, condition: string, timeout: number): Promise<void> {
  await page.waitForFunction(`document.getElementById('status').dataset.value === 'error' || (${condition})`, null, { timeout }).catch((error: Error) => {
    throw new Error(`${what}: ${error.message}`);
  });
  const status = await page.$eval('#status', (e) => `${(e as HTMLElement).dataset.value}: ${e.textContent}`);
  expect(status, what).not.toMatch(/^error/);
}
const ready = "!document.getElementById('run').disabled";
const atStep = (n: number) => `Number(document.getElementById('step').dataset.value) >= ${n}`;

/** Pixels of a canvas within a small distance of a color: a curve in that color was drawn. */
function countColor(page: Page, id: string, rgb: number[]): Promise<number> {
  return page.$eval(`#${id}`, (canvas, [r, g, b]) => {
    const c = canvas as HTMLCanvasElement;
    const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3]! > 200 && Math.abs(data[i]! - r!) + Math.abs(data[i + 1]! - g!) + Math.abs(data[i + 2]! - b!) < 40) n++;
    }
    return n;
  }, rgb);
}

withRuntime('Chromium', await findChromium(), (executablePath, version) => {
  describe(`demo page, ${version}`, () => {
    let scratch: string | null = null;
    let server: StaticServer | null = null;
    // The same site from a host that does not send the two headers.
    let plainServer: StaticServer | null = null;
    let context: BrowserContext | null = null;
    let page: Page;
    const errors: string[] = [];
    let nodeAccuracies: { bn: number; plain: number };
    let site = '';

    function watchErrors(p: Page, label: string): void {
      p.on('pageerror', (error) => errors.push(`${label}uncaught: ${error.message}`));
      p.on('console', (message) => { if (message.type() === 'error') errors.push(`${label}console: ${message.text()}`); });
      p.on('requestfailed', (request) => errors.push(`${label}request failed: ${request.url()}`));
      p.on('response', (response) => { if (response.status() >= 400) errors.push(`${label}HTTP ${response.status()}: ${response.url()}`); });
    }

    /** Opens a Vite server's page with ?threads=2: served cross-origin isolated, its trainer runs 2 threads. */
    async function openWithTwoThreads(url: string | undefined, server: string): Promise<Page> {
      expect(url, `the ${server} server reports a loopback URL`).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const p = await context!.newPage();
      watchErrors(p, `${server}, `);
      await p.goto(`${url!}?threads=2`, { timeout: 30_000 });
      await waitFor(p, `${server} server: ready`, ready, 60_000);
      expect(await isolated(p), `the ${server} server sends the two headers`).toBe(true);
      expect(await threadsShown(p)).toEqual({ threads: 2, text: '2' });
      return p;
    }

    beforeAll(async () => {
      for (const file of ['dist/index.js', 'dist/nn/index.js', 'build/simd.wasm', 'build/simd-threads.wasm', 'build/scalar.wasm']) {
        if (!existsSync(join(repo, file))) throw new Error(`${file} is missing: run \`npm run build\` first`);
      }
      scratch = await mkdtemp(join(tmpdir(), 'batchnorm-wasm-demo-'));
      site = join(scratch, 'site');
      await build({
        configFile: join(repo, 'demo', 'vite.config.ts'),
        cacheDir: join(scratch, 'vite-cache'),
        logLevel: 'silent',
        build: { outDir: site, emptyOutDir: true },
      });
      nodeAccuracies = await nodeFigure1(STEPS);
      server = await serveStatic(site, { mount: MOUNT, headers: CROSS_ORIGIN_ISOLATED });
      plainServer = await serveStatic(site, { mount: MOUNT });
      context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
        executablePath, args: CHROMIUM_ARGS, headless: true, timeout: 60_000, viewport: { width: 1280, height: 900 },
      });
      page = await context.newPage();
      watchErrors(page, '');
      // Main-thread tasks over 50 ms, recorded by the page itself.
      await page.addInitScript(() => {
        const longest = { ms: 0 };
        (globalThis as unknown as { longestTask: typeof longest }).longestTask = longest;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) longest.ms = Math.max(longest.ms, entry.duration);
        }).observe({ type: 'longtask' });
      });
    }, 120_000);

    afterAll(async () => {
      await context?.close();
      await server?.close();
      await plainServer?.close();
      if (scratch !== null) await rm(scratch, { recursive: true, force: true });
    }, 60_000);

    it(`trains both networks with seed 1 to step ${STEPS}: curves drawn, BN ahead, SIMD and 'auto' threads in the worker, page responsive, same accuracies as Node`, async () => {
      await page.goto(`${server!.origin}${MOUNT}?seed=1&steps=${STEPS}`, { timeout: 30_000 });
      await waitFor(page, 'digits loaded and networks built', ready, 30_000);
      expect(await value(page, 'build'), 'the worker runs the SIMD build').toBe('true');
      expect(await isolated(page), 'served with the two headers, the page is cross-origin isolated').toBe(true);
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      const auto = autoThreads(cores);
      expect(await threadsShown(page), `'auto' threads on ${cores} logical cores`)
        .toEqual({ threads: auto, text: auto === 1 ? `1 ('auto' on ${cores} logical cores)` : String(auto) });
      expect(await page.$$eval('.digit canvas', (c) => c.length)).toBe(12);

      await page.click('#run');
      await waitFor(page, `stopped at step ${STEPS}`, `${atStep(STEPS)} && document.getElementById('status').dataset.value === 'paused'`, 45_000);
      expect(await numberValue(page, 'step')).toBe(STEPS);
      const accuracy = { bn: await numberValue(page, 'acc-bn'), plain: await numberValue(page, 'acc-plain') };
      // Seed 1 at step 400: BN is near 0.87 while the network without BN is still on its plateau.
      expect(accuracy.bn, 'BN test accuracy').toBeGreaterThan(0.8);
      expect(accuracy.plain, 'no-BN test accuracy').toBeLessThan(accuracy.bn - 0.3);
      // The page trains what experiments/lib/train.mjs trains in Node, on the same digits.
      expect(accuracy, 'test accuracies at the same step in Node').toEqual(nodeAccuracies);

      expect(await numberValue(page, 'speed'), 'steps/s').toBeGreaterThan(20);
      const [forwardUs, backwardUs] = (await value(page, 'bn-time')).split(' ').map(Number);
      expect(forwardUs, 'µs per BN forward').toBeGreaterThan(0);
      expect(backwardUs, 'µs per BN backward').toBeGreaterThan(0);
      for (const id of ['accuracy', 'loss']) {
        expect(await countColor(page, id, BN), `${id}: BN curve`).toBeGreaterThan(100);
        expect(await countColor(page, id, PLAIN), `${id}: no-BN curve`).toBeGreaterThan(100);
      }
      expect(await countColor(page, 'pct-bn', BN), 'BN percentile curves').toBeGreaterThan(100);
      expect(await countColor(page, 'pct-plain', PLAIN), 'no-BN percentile curves').toBeGreaterThan(100);
      const verdicts = await page.$$eval('.digit .bn', (cells) => cells.map((c) => c.textContent ?? ''));
      expect(verdicts).toHaveLength(12);
      for (const v of verdicts) expect(v).toMatch(/^BN: \d [✓✗]$/);

      const longest = await page.evaluate(() => (globalThis as unknown as { longestTask: { ms: number } }).longestTask.ms);
      expect(longest, 'longest main-thread task (ms)').toBeLessThan(500);
      expect(errors).toEqual([]);
    }, 90_000);

    it(`threads 2: the trainer runs a pool worker and posts the same losses and test evaluations to step ${THREADS_STEPS} as on 1 thread, bit for bit`, async () => {
      const train = async (threads: number) => {
        const p = await context!.newPage();
        watchErrors(p, `threads ${threads}, `);
        await recordWorkerMessages(p);
        await p.goto(`${server!.origin}${MOUNT}?seed=1&steps=${THREADS_STEPS}&threads=${threads}`, { timeout: 30_000 });
        await waitFor(p, `threads ${threads}: digits loaded and networks built`, ready, 30_000);
        const shown = await threadsShown(p);
        await p.click('#run');
        await waitFor(p, `threads ${threads}: stopped at step ${THREADS_STEPS}`,
          `${atStep(THREADS_STEPS)} && document.getElementById('status').dataset.value === 'paused'`, 45_000);
        const poolWorkers = p.workers().filter((w) => w.url().includes('pool-worker')).length;
        const trained = await trainedSoFar(p);
        await p.close();
        return { shown, poolWorkers, trained };
      };
      const one = await train(1);
      const two = await train(2);
      expect(one.shown).toEqual({ threads: 1, text: '1' });
      expect(two.shown, 'served with the two headers, threads 2 start').toEqual({ threads: 2, text: '2' });
      expect([one.poolWorkers, two.poolWorkers], 'pool workers the trainer started').toEqual([0, 1]);
      expect(two.trained.losses).toHaveLength(THREADS_STEPS / 10);
      expect(two.trained.evaluations.length).toBeGreaterThan(10);
      // A training step's BatchNorm calls ([60, 100]) are too small to split; the test
      // evaluations' ([2,000, 100]) split across both threads.
      expect(two.trained, 'losses and evaluations (accuracy, percentiles, predictions)').toEqual(one.trained);
      expect(errors).toEqual([]);
    }, 120_000);

    it('served without the two headers: trains on one thread and says why', async () => {
      const p = await context!.newPage();
      watchErrors(p, 'no headers, ');
      await p.goto(`${plainServer!.origin}${MOUNT}?seed=1&threads=2`, { timeout: 30_000 });
      await waitFor(p, 'no headers: digits loaded and networks built', ready, 30_000);
      expect(await isolated(p)).toBe(false);
      const refused = await threadsShown(p);
      expect(refused.threads).toBe(1);
      // init()'s own reason for refusing threads: 2.
      expect(refused.text).toMatch(/^1 \(opts\.threads: 2, but the page is not cross-origin isolated \(serve it with Cross-Origin-Opener-Policy/);
      await p.selectOption('#threads', 'auto');
      await p.waitForFunction(() => document.getElementById('threads-run')!.textContent === '1 (the page is not cross-origin isolated)', null, { timeout: 10_000 });
      await p.click('#run');
      await waitFor(p, 'no headers: 50 steps', atStep(50), 20_000);
      expect(p.workers().filter((w) => w.url().includes('pool-worker'))).toHaveLength(0);
      await p.close();
      expect(errors).toEqual([]);
    }, 60_000);

    it('switches to the scalar build mid-training and back, pauses, resets', async () => {
      await page.goto(`${server!.origin}${MOUNT}?seed=1`, { timeout: 30_000 });
      await waitFor(page, 'digits loaded and networks built', ready, 30_000);
      await page.click('#run');
      await waitFor(page, '100 steps', atStep(100), 20_000);
      await page.click('#simd');
      await page.waitForFunction(() => document.getElementById('build')!.dataset.value === 'false', null, { timeout: 10_000 });
      const before = await numberValue(page, 'step');
      await waitFor(page, '50 steps on the scalar build', atStep(before + 50), 20_000);
      await page.click('#simd');
      await page.waitForFunction(() => document.getElementById('build')!.dataset.value === 'true', null, { timeout: 10_000 });
      // Threads move the networks mid-training too; the scalar build has no threaded variant.
      await page.selectOption('#threads', '2');
      await page.waitForFunction(() => document.getElementById('threads-run')!.dataset.value === '2', null, { timeout: 10_000 });
      await waitFor(page, '20 steps on 2 threads', atStep((await numberValue(page, 'step')) + 20), 20_000);
      await page.click('#simd');
      await page.waitForFunction(() => document.getElementById('build')!.dataset.value === 'false', null, { timeout: 10_000 });
      expect((await threadsShown(page)).text).toMatch(/^1 \(opts\.threads: 2, but threads run the package's own SIMD build/);
      await page.click('#simd');
      await page.waitForFunction(() => document.getElementById('threads-run')!.dataset.value === '2', null, { timeout: 10_000 });

      await page.click('#run');
      await page.waitForFunction(() => document.getElementById('status')!.dataset.value === 'paused', null, { timeout: 5_000 });
      await page.waitForTimeout(300);
      const paused = await numberValue(page, 'step');
      await page.waitForTimeout(500);
      expect(await numberValue(page, 'step'), 'no steps while paused').toBe(paused);
      expect(await numberValue(page, 'acc-bn'), 'BN still learning after the round trip').toBeGreaterThan(0.5);

      await page.click('#reset');
      await waitFor(page, 'reset to step 0', "document.getElementById('step').dataset.value === '0'", 10_000);
      expect(await numberValue(page, 'acc-bn'), 'BN accuracy of the fresh network').toBeLessThan(0.3);
      expect(errors).toEqual([]);
    }, 60_000);

    it('`npm run demo`: the Vite dev server on 127.0.0.1 serves the same page, worker and digits', async () => {
      const dev = await createViteServer({
        configFile: join(repo, 'demo', 'vite.config.ts'),
        cacheDir: join(scratch!, 'vite-cache'),
        logLevel: 'silent',
        server: { port: 0, hmr: false, watch: null },
      });
      try {
        await dev.listen();
        const devPage = await openWithTwoThreads(dev.resolvedUrls?.local[0], 'dev');
        expect(await value(devPage, 'build')).toBe('true');
        await devPage.click('#run');
        await waitFor(devPage, 'dev server: 100 steps', atStep(100), 30_000);
        expect(await numberValue(devPage, 'acc-bn'), 'BN accuracy at step 100, as in the build').toBeGreaterThan(0.5);
        await devPage.close();
        expect(errors).toEqual([]);
      } finally {
        await dev.close();
      }
    }, 120_000);

    it('`npm run demo:preview`: Vite\'s preview server sends the two headers, and threads start', async () => {
      const previewServer = await preview({
        configFile: join(repo, 'demo', 'vite.config.ts'),
        cacheDir: join(scratch!, 'vite-cache'),
        logLevel: 'silent',
        build: { outDir: site },
        preview: { port: 0 },
      });
      try {
        const previewPage = await openWithTwoThreads(previewServer.resolvedUrls?.local[0], 'preview');
        await previewPage.close();
        expect(errors).toEqual([]);
      } finally {
        await previewServer.close();
      }
    }, 60_000);

    it.runIf(process.env.DEMO_SCREENSHOT)('DEMO_SCREENSHOT: trains to step 3,000 (?steps=3000 stops there) and writes docs/demo.png', async () => {
      await page.goto(`${server!.origin}${MOUNT}?seed=1&steps=3000`, { timeout: 30_000 });
      await waitFor(page, 'digits loaded and networks built', ready, 30_000);
      await page.click('#run');
      await waitFor(page, 'stopped at step 3,000',
        "document.getElementById('step').dataset.value === '3000' && document.getElementById('status').dataset.value === 'paused'", 120_000);
      // Let the charts redraw after the last progress message.
      await page.waitForTimeout(500);
      await page.screenshot({ path: join(repo, 'docs', 'demo.png'), fullPage: true });
      expect(errors).toEqual([]);
    }, 150_000);
  });
});
