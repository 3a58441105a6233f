import { init } from 'batchnorm-wasm';
// esbuild --loader:.wasm=file copies each module beside the bundle and imports its URL,
// relative to the bundle: esbuild does not rewrite the package's own new URL(…, import.meta.url).
import simdUrl from 'batchnorm-wasm/simd.wasm';
import scalarUrl from 'batchnorm-wasm/scalar.wasm';
import { compute } from './compute.mjs';

const rt = await init({ wasm: new URL(simdUrl, import.meta.url) });
const scalar = await init({ wasm: new URL(scalarUrl, import.meta.url), simd: false });
globalThis.result = { simd: compute(rt), scalar: compute(scalar) };
