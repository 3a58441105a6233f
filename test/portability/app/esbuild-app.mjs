import { init } from 'batchnorm-wasm';
// esbuild --loader:.wasm=file copies each module beside the bundle and imports its URL,
// relative to the bundle: esbuild does not rewrite the package's own new URL(…, import.meta.url).
import simdUrl from 'batchnorm-wasm/simd.wasm';
import scalarUrl from 'batchnorm-wasm/scalar.wasm';
import { compute } from './compute.mjs';

const wasm = (url) => new URL(url, import.meta.url);
// The SIMD module does not compile on an engine without SIMD: fall back to the scalar one.
const rt = await init({ wasm: wasm(simdUrl) }).catch(() => init({ wasm: wasm(scalarUrl) }));
const scalar = await init({ wasm: wasm(scalarUrl), simd: false });
globalThis.result = { simd: compute(rt), scalar: compute(scalar) };
