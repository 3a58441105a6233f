// Every op split into 2, 3 and 4 parts, each phase run part by part on this thread, gives
// the same bits as one part: outputs, running stats, workspace, dx and gradients, on both
// builds, over cases around every threshold that chooses a path. Each case also asserts
// the path each phase took, so that no case drifts to another path when a threshold moves.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Kernels } from '../src/wasm.js';
import { layoutOf } from '../src/shape.js';
import { GROUP_SLOTS, GROUPED_CHANNELS } from '../src/ops.js';
import { expectedPaths, firstDifference, globalOf, kernelsOf, runEveryOp, sequentialParts, thresholdCases, type Build, type Case } from './phases.js';

const PARTS = [2, 3, 4];

describe.each<Build>(['simd', 'scalar'])('%s build: phases split into parts', (build) => {
  let k: Kernels;
  let cases: Case[] = [];
  beforeAll(async () => {
    k = await kernelsOf(build);
    cases = thresholdCases(k);
  });

  it("lays out the workspace's group slots for the module's MAX_GROUPS and CHUNK", () => {
    expect(GROUP_SLOTS).toBe(globalOf(k, 'MAX_GROUPS') - 1);
    expect(GROUPED_CHANNELS).toBe(globalOf(k, 'CHUNK'));
  });

  it('covers every threshold with cases on both sides', () => {
    expect(cases.length).toBeGreaterThan(40);
  });

  it('takes the path the thresholds choose, and gives the same bits for any number of parts', () => {
    for (const c of cases) {
      const L = layoutOf(c.shape, c.channelsLast);
      const one = runEveryOp(k, c, sequentialParts(k, 1));
      const want = expectedPaths(k, L);
      const what = `${c.name} [${c.shape.join(',')}]`;
      expect(one.paths['forward train'], `${what}: forward train paths`).toEqual([want.reduce, want.apply]);
      expect(one.paths['backward train'], `${what}: backward train paths`).toEqual([want.dots, want.apply]);
      expect(one.paths['backward eval'], `${what}: backward eval paths`).toEqual([want.dots, want.apply]);
      expect(one.paths['stats'], `${what}: stats path`).toEqual([want.reduce]);
      expect(one.paths['backward elemt'], `${what}: backward elemt path`).toEqual([want.apply]);
      for (const parts of PARTS) {
        const split = runEveryOp(k, c, sequentialParts(k, parts));
        split.outputs.forEach((out, i) => {
          const at = firstDifference(one.outputs[i]!.bytes, out.bytes);
          expect(at, `${what}, ${parts} parts: ${out.op} output ${i} differs at byte ${at}`).toBe(-1);
        });
      }
    }
  });
});
