import { init } from 'batchnorm-wasm';
import { computeThreaded } from './threads.mjs';

const rt = await init({ threads: 2 }); // rejects if the two threads cannot start
console.log(JSON.stringify(computeThreaded(rt)));
rt.dispose();
