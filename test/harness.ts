// What several suites share around the public API (the f64 reference lives in reference.ts).
import fc from 'fast-check';
import { expect } from 'vitest';
import type { BatchNorm, BatchNormOptions, Runtime } from '../src/index.node.js';
import { Workspace } from '../src/ops.js';

export type Dims = 1 | 2 | 3;

/** rt.batchNorm1d, 2d or 3d by the number of spatial dimensions the layer is for. */
export function batchNormFor(rt: Runtime, dims: Dims, C: number, options?: BatchNormOptions): BatchNorm {
  return dims === 1 ? rt.batchNorm1d(C, options) : dims === 2 ? rt.batchNorm2d(C, options) : rt.batchNorm3d(C, options);
}

export interface LayerShape {
  dims: Dims;
  shape: number[];
  channelsLast: boolean;
}

/**
 * A layer's input shape for fast-check: [N, C, ...spatial] or channels-last
 * [N, ...spatial, C], BatchNorm1d with or without a length, and at least two values per
 * channel (training needs them).
 */
export function layerShape(max: { N: number; C: number; spatial: number }): fc.Arbitrary<LayerShape> {
  return fc.record({
    dims: fc.constantFrom<Dims>(1, 2, 3),
    N: fc.integer({ min: 1, max: max.N }),
    C: fc.integer({ min: 1, max: max.C }),
    spatial: fc.array(fc.integer({ min: 1, max: max.spatial }), { minLength: 3, maxLength: 3 }),
    rank1d: fc.boolean(),
    channelsLast: fc.boolean(),
  }).map(({ dims, N, C, spatial, rank1d, channelsLast }) => {
    const s = dims === 1 ? (rank1d ? spatial.slice(0, 1) : []) : spatial.slice(0, dims);
    const n = s.reduce((a, b) => a * b, 1) * N < 2 ? 2 : N;
    return { dims, channelsLast, shape: channelsLast ? [n, ...s, C] : [n, C, ...s] };
  });
}

/** Runs `f`, which must throw, and returns what it threw. */
export function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

/** Runs `run`, expecting it to throw a `type` whose message matches `message`. */
export function expectError(run: () => unknown, type: typeof TypeError | typeof RangeError, message: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${type.name} ${message}`).toBeInstanceOf(type);
  expect((caught as Error).message).toMatch(message);
}

/** memoryUsage() without bytesReserved, which only grows. */
export function held(rt: Runtime): { liveTensors: number; bytesAllocated: number } {
  const { liveTensors, bytesAllocated } = rt.memoryUsage();
  return { liveTensors, bytesAllocated };
}

/** The most channels whose BatchNorm workspace fits in `bytes` (0 if none): filling memory with layers. */
export function channelsFitting(bytes: number): number {
  let C = 0;
  for (let step = 2 ** 30; step >= 1; step /= 2) if (Workspace.bytes(C + step) <= bytes) C += step;
  return C;
}
