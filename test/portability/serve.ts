// A static file server on 127.0.0.1 (random free port) for the browser pages.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  // instantiateStreaming and Vite's asset loading want the proper wasm type.
  '.wasm': 'application/wasm',
};

export interface StaticServer {
  origin: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** The URL path `root` is served below, '/' first and last (default '/'); a static host's sub-path. */
  mount?: string;
  /** Headers sent with every file, e.g. the two that make a page cross-origin isolated. */
  headers?: Record<string, string>;
}

/** The headers that make a page cross-origin isolated, so that it gets SharedArrayBuffer. */
export const CROSS_ORIGIN_ISOLATED = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

export async function serveStatic(root: string, options: ServeOptions = {}): Promise<StaticServer> {
  const mount = options.mount ?? '/';
  const inside = root.endsWith(sep) ? root : root + sep;
  const server: Server = createServer(async (request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    if (!pathname.startsWith(mount)) {
      response.writeHead(404).end();
      return;
    }
    // A directory's URL serves its index.html, as static hosts do.
    const relative = pathname.slice(mount.length);
    const path = normalize(join(root, relative === '' || relative.endsWith('/') ? `${relative}index.html` : relative));
    if (!path.startsWith(inside)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(path);
      response.writeHead(200, { ...options.headers, 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('serveStatic: no TCP address');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
