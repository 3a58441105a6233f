import { init } from 'batchnorm-wasm';
import { compute } from './compute.mjs';

const rt = await init(); // fetches simd.wasm (scalar.wasm without SIMD); bundlers emit it as an asset
const scalar = await init({ simd: false });
globalThis.result = { simd: compute(rt), scalar: compute(scalar) };
