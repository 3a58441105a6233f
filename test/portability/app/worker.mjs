import { init } from 'batchnorm-wasm';
import simdWasm from 'batchnorm-wasm/simd.wasm';
import scalarWasm from 'batchnorm-wasm/scalar.wasm';
import { compute } from './compute.mjs';

export default {
  async fetch() {
    const rt = await init({ wasm: simdWasm }); // a WebAssembly.Module, compiled at deploy time
    const scalar = await init({ wasm: scalarWasm });
    return Response.json({ simd: compute(rt), scalar: compute(scalar) });
  },
};
