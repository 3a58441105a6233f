// The Node result from the source tree, and a bit-for-bit comparison that names the first
// differing element instead of printing two 400-element arrays.
import { expect } from 'vitest';
import { init } from '../../src/index.node.js';
import { compute, type ComputeResult } from './app/compute.mjs';
import { computeThreaded, type ThreadedResult } from './app/threads.mjs';

export interface RuntimeResult {
  simd: ComputeResult;
  scalar: ComputeResult;
}

export async function nodeResult(): Promise<RuntimeResult> {
  const rt = await init();
  const scalar = await init({ simd: false });
  return { simd: compute(rt), scalar: compute(scalar) };
}

/** app/threads.mjs on one thread of the source tree: what every threaded runtime must match. */
export async function nodeThreadedResult(): Promise<ThreadedResult> {
  const rt = await init({ threads: 1 });
  return computeThreaded(rt);
}

function differences(actual: unknown, expected: unknown, path: string, out: string[]): void {
  if (out.length >= 5) return;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (actual.length !== expected.length) {
      out.push(`${path}: length ${actual.length}, expected ${expected.length}`);
      return;
    }
    expected.forEach((value, i) => differences(actual[i], value, `${path}[${i}]`, out));
  } else if (expected !== null && typeof expected === 'object' && actual !== null && typeof actual === 'object') {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const key of keys) {
      differences((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`, out);
    }
  } else if (actual !== expected) {
    // Bit patterns are hard to read: show each number as the f32 it encodes too.
    const show = (v: unknown) => (typeof v === 'number' ? `${v} (${new Float32Array(new Uint32Array([v]).buffer)[0]})` : String(v));
    out.push(`${path}: ${show(actual)}, expected ${show(expected)}`);
  }
}

/** Asserts identical f32 bit patterns (and flags) between a runtime and Node. */
export function expectBitIdentical(actual: unknown, expected: unknown, label: string): void {
  const out: string[] = [];
  differences(actual, expected, label, out);
  expect(out, `${label} differs from Node (is build/ up to date with assembly/? run npm run build)`).toEqual([]);
}
