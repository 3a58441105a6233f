// The test's entry: worker.mjs as documented, plus a route that reports how init() fails
// when it is not given a module.
import { init } from 'batchnorm-wasm';
import worker from './worker.mjs';

const message = (promise) => promise.then(() => 'resolved', (error) => `${error.name}: ${error.message}`);

export default {
  async fetch(request) {
    if (new URL(request.url).pathname !== '/errors') return worker.fetch(request);
    return Response.json({
      withoutWasm: await message(init()),
      withBytes: await message(init({ wasm: new Uint8Array(8) })),
    });
  },
};
