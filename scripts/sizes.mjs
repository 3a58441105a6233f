// What a user downloads: each wasm module and each JS entry bundled and minified with what
// it reaches, in bytes and gzipped at level 9. Computed from the built files (npm run
// build first), so the README's table cannot drift from them: test/generated.test.ts
// recomputes it and compares.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { markdownTable } from './generated.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

const WASM = [
  { file: 'build/simd.wasm', label: '`build/simd.wasm` (batch norm and the `nn` kernels)' },
  { file: 'build/scalar.wasm', label: '`build/scalar.wasm`' },
  { file: 'build/simd-threads.wasm', label: '`build/simd-threads.wasm` (shared memory, for `threads`)' },
];

// Each entry as a bundler would ship it: everything it imports, @assemblyscript/loader
// included, minified. The node entry keeps node: built-ins external, as Node provides them.
const ENTRIES = [
  { file: 'dist/index.js', label: 'JS, browser entry (`batchnorm-wasm`)', platform: 'neutral' },
  { file: 'dist/index.workerd.js', label: 'JS, workerd entry', platform: 'neutral' },
  { file: 'dist/index.node.js', label: 'JS, Node entry', platform: 'node' },
  { file: 'dist/nn/index.js', label: 'JS, `batchnorm-wasm/nn`', platform: 'neutral' },
  { file: 'dist/tfjs/index.js', label: 'JS, `batchnorm-wasm/tfjs` (TensorFlow.js itself not included)', platform: 'neutral' },
];

function measured(label, bytes) {
  return { label, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

async function bundled({ file, label, platform }) {
  const result = await build({
    stdin: { contents: `export * from './${file}';`, resolveDir: ROOT, loader: 'js' },
    bundle: true, minify: true, format: 'esm', platform, write: false, logLevel: 'silent',
    mainFields: ['module', 'main'],
  });
  return measured(label, result.outputFiles[0].contents);
}

/** One row per file: `{ label, bytes, gzip }`, wasm modules first. */
export async function sizes() {
  const wasm = WASM.map(({ file, label }) => measured(label, readFileSync(`${ROOT}${file}`)));
  return [...wasm, ...(await Promise.all(ENTRIES.map(bundled)))];
}

export function sizesTable(rows) {
  const number = (n) => n.toLocaleString('en-US');
  return markdownTable(['file', 'bytes', 'gzip -9 (Node\'s zlib)'], rows.map((r) => [r.label, number(r.bytes), number(r.gzip)]), 1);
}
