// `npm run demo` (dev server on 127.0.0.1) and `npm run demo:build` (static folder in
// demo/dist). The page imports 'batchnorm-wasm' and 'batchnorm-wasm/nn' as a user's app
// would; here they resolve to this repository's build (dist/, from `npm run build`),
// which is also what experiments/lib/*.mjs import, so the page and `npm run reproduce`
// share one copy of the classes. The wasm files are found through the package's own
// `new URL('../build/simd.wasm', import.meta.url)`, which Vite turns into hashed assets.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { mnistDigits } from './mnist-plugin.ts';

const demo = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));

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
  server: { host: '127.0.0.1', fs: { allow: [repo] } },
  preview: { host: '127.0.0.1' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
