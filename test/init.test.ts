// issue 13: init()'s options and the errors of a module that cannot be loaded.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { init, simdSupported } from '../src/index.node.js';
import { initWith, type Loader } from '../src/init.js';

let server: Server;
let origin: string;

beforeAll(async () => {
  // Every path is missing: what a page sees when the bundle's wasm was not copied beside it.
  server = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The browser entry's loader (src/index.ts), with the package served from `origin`. */
function browserLoader(): Loader {
  return {
    bundled: (simd) => new URL(`/assets/build/${simd ? 'simd' : 'scalar'}.wasm`, origin),
    resolveUrl: (spec) => new URL(spec, origin),
    fetchUrl: (url) => fetch(url),
    threads: NO_WORKERS,
  };
}

const NO_WORKERS = 'this test\'s runtime has no workers';

describe('init options', () => {
  it.each(['wasm', 'simd', 'debug'] as const)('null for opts.%s is a TypeError, not the default', async (key) => {
    const thrown = await init({ [key]: null } as never).catch((error: unknown) => error);
    expect((thrown as Error).constructor).toBe(TypeError);
    expect((thrown as Error).message).toMatch(new RegExp(`^opts\\.${key}: expected .*, got null$`));
  });

  it('simdSupported() is exported from the main entry and says which build init() picks', async () => {
    expect((await init()).simd).toBe(simdSupported());
  });
});

describe('a runtime that cannot start workers (workerd, a page\'s main thread, a page not cross-origin isolated)', () => {
  const local: Loader = { ...browserLoader(), bundled: (simd) => new URL(`../build/${simd ? 'simd' : 'scalar'}.wasm`, import.meta.url), fetchUrl: (url) => readFile(url) };

  it("'auto' runs one thread and says why under debug", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect((await initWith(local, { threads: 'auto' })).threads).toBe(1);
      expect(warn).not.toHaveBeenCalled();
      expect((await initWith(local, { debug: true })).threads).toBe(1);
      expect(warn.mock.calls).toEqual([[`batchnorm-wasm: running on one thread: ${NO_WORKERS}`]]);
    } finally {
      warn.mockRestore();
    }
  });

  it('threads: 2 rejects with the reason; threads: 1 runs', async () => {
    await expect(initWith(local, { threads: 2 })).rejects.toThrow(new Error(`opts.threads: 2, but ${NO_WORKERS}`));
    expect((await initWith(local, { threads: 1 })).threads).toBe(1);
  });
});

describe('a module that cannot be fetched', () => {
  it('from the default location: an Error naming the location and what to do, not a TypeError about opts.wasm', async () => {
    const thrown = await initWith(browserLoader()).catch((error: unknown) => error);
    expect((thrown as Error).constructor).toBe(Error);
    const message = (thrown as Error).message;
    expect(message).toMatch(new RegExp(`^init\\(\\): fetching ${origin}/assets/build/simd\\.wasm failed with HTTP 404\\. `));
    expect(message).toContain('copy build/simd.wasm and build/scalar.wasm from batchnorm-wasm there, or pass init({ wasm })');
    expect(message).not.toContain('opts.wasm');
  });

  it('from opts.wasm: an Error that blames opts.wasm and names the URL', async () => {
    const thrown = await initWith(browserLoader(), { wasm: 'kernels.wasm' }).catch((error: unknown) => error);
    expect((thrown as Error).constructor).toBe(Error);
    expect((thrown as Error).message).toBe(`opts.wasm: fetching ${origin}/kernels.wasm failed with HTTP 404`);
  });
});
