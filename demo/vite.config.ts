// `npm run demo` (dev server on 127.0.0.1) and `npm run demo:build` (static folder in
// demo/dist). The page imports 'batchnorm-wasm' and 'batchnorm-wasm/nn' as a user's app
// would; here they resolve to this repository's build (dist/, from `npm run build`),
// which is also what experiments/lib/*.mjs import, so the page and `npm run reproduce`
// share one copy of the classes. The wasm files are found through the package's own
// `new URL('../build/simd.wasm', import.meta.url)`, which Vite turns into hashed assets.
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { mnistDigits } from './mnist-plugin.ts';

const demo = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));

// experiments/lib/data.mjs also holds loadDigits(), which reads the JSON from disk with
// node: modules. The worker uses only its pure exports (PIXELS, CLASSES, split), so in
// the browser those imports become stand-ins that throw if they are ever used; Vite's own
// stand-in throws as soon as the dev server loads the module.
const NODE_IMPORT = /^import\s+([^;]+?)\s+from\s+['"](node:[^'"]+)['"];?$/gm;
const NODE_ONLY = `
function nodeOnly(module) {
  const fail = () => { throw new Error(module + ' is Node-only: the demo page fetches mnist-digits.bin instead'); };
  return new Proxy(fail, { get: fail, apply: fail });
}`;

function bindingNames(clause: string): string[] {
  return clause.replace(/[{}]/g, ',').split(',').map((part) => part.trim()).filter(Boolean)
    .map((part) => part.split(/\s+as\s+/).pop()!);
}

const nodeImportsInBrowser = (): Plugin => ({
  name: 'batchnorm-wasm-demo:node-imports-in-browser',
  transform(code, id) {
    if (!id.endsWith('/experiments/lib/data.mjs')) return null;
    const shimmed = code.replace(NODE_IMPORT, (_line, clause: string, module: string) =>
      `const ${bindingNames(clause).map((name) => `${name} = nodeOnly('${module}')`).join(', ')};`);
    return { code: shimmed + NODE_ONLY, map: null };
  },
});

export default defineConfig({
  root: demo,
  // Relative asset URLs: the built folder works from any host and any path below it.
  base: './',
  plugins: [mnistDigits(), nodeImportsInBrowser()],
  resolve: {
    alias: [
      { find: /^batchnorm-wasm$/, replacement: `${repo}dist/index.js` },
      { find: /^batchnorm-wasm\/nn$/, replacement: `${repo}dist/nn/index.js` },
    ],
  },
  worker: { format: 'es', plugins: () => [nodeImportsInBrowser()] },
  server: { host: '127.0.0.1', fs: { allow: [repo] } },
  preview: { host: '127.0.0.1' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
