// issue 13: init()'s options and the errors of a module that cannot be loaded.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  };
}

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
