// The test's entry: worker.mjs as documented, plus a route that reports how init() fails
// when it is not given a module, and one that reports what threads do where there are none.
import { init } from 'batchnorm-wasm';
import simdWasm from 'batchnorm-wasm/simd.wasm';
import worker from './worker.mjs';

const message = (promise) => promise.then(() => 'resolved', (error) => `${error.name}: ${error.message}`);

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === '/threads') {
      return Response.json({
        auto: (await init({ wasm: simdWasm })).threads,
        two: await message(init({ wasm: simdWasm, threads: 2 })),
      });
    }
    if (path !== '/errors') return worker.fetch(request);
    return Response.json({
      withoutWasm: await message(init()),
      withBytes: await message(init({ wasm: new Uint8Array(8) })),
    });
  },
};
