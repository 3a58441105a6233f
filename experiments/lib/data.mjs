// Digits as { images: Float32Array (784 per digit), labels: Float32Array, count } and the
// seeded train/test split. Pure: the demo's worker imports this in the browser too
// (loadDigits, which reads them from disk, is in load-digits.mjs).

export const PIXELS = 784;
export const CLASSES = 10;

/** The first `trainSize` digits of a seeded permutation train, the rest test. */
export function split(digits, rng, trainSize) {
  const order = rng.permutation(digits.count);
  const take = (rows) => {
    const images = new Float32Array(rows.length * PIXELS);
    const labels = new Float32Array(rows.length);
    rows.forEach((r, i) => {
      images.set(digits.images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
      labels[i] = digits.labels[r];
    });
    return { images, labels, count: rows.length };
  };
  return { train: take(order.subarray(0, trainSize)), test: take(order.subarray(trainSize)) };
}
