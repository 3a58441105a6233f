// `npm run demo` (dev server on 127.0.0.1), `npm run demo:build` (static folder in
// demo/dist) and `npm run demo:preview` (that folder on 127.0.0.1). The page imports
// 'batchnorm-wasm' and 'batchnorm-wasm/nn' as a user's app would; here they resolve to
// this repository's build (dist/, from `npm run build`), which is also what
// experiments/lib/*.mjs import, so the page and `npm run reproduce` share one copy of the
// classes. The wasm files are found through the package's own
// `new URL('../build/simd.wasm', import.meta.url)`, which Vite turns into hashed assets.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { mnistDigits } from './mnist-plugin.ts';

const demo = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));
// Cross-origin isolation: the page and its workers get SharedArrayBuffer, so the trainer's
// runtime can run threads. Everything the page loads comes from its own origin, so
// require-corp blocks nothing.
const CROSS_ORIGIN_ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: demo,
  // Relative asset URLs: the built folder works from any host and any path below it.
  base: './',
  plugins: [mnistDigits()],
  resolve: {
    alias: [
      { find: /^batchnorm-wasm$/, replacement: `${repo}dist/index.js` },
      { find: /^batchnorm-wasm\/nn$/, replacement: `${repo}dist/nn/index.js` },
    ],
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', fs: { allow: [repo] }, headers: CROSS_ORIGIN_ISOLATED },
  preview: { host: '127.0.0.1', headers: CROSS_ORIGIN_ISOLATED },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
