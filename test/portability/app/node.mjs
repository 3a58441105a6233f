import { init } from 'batchnorm-wasm';
import { compute } from './compute.mjs';

const rt = await init(); // finds its own simd.wasm (scalar.wasm on engines without SIMD)
const scalar = await init({ simd: false }); // forces the scalar build
console.log(JSON.stringify({ simd: compute(rt), scalar: compute(scalar) }));
