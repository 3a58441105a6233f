// src/ has no value-import cycle beyond the ones docs/design.md allows, checked on the
// compiled modules in dist/ (npm test builds first), and the check itself finds cycles.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './portability/packed.js';
// @ts-expect-error: plain ESM script without type declarations
import { ALLOWED_CYCLES, findCycles, importGraph, unexpectedCycles } from '../scripts/cycles.mjs';

type Graph = Map<string, string[]>;

describe('value-import cycles', () => {
  it('the built package (dist/) has none but the allowed ones', () => {
    expect(unexpectedCycles(join(repoRoot, 'dist'))).toEqual([]);
  });

  it('every allowed cycle still exists (a broken cycle leaves the list)', () => {
    const found = (findCycles(importGraph(join(repoRoot, 'dist'))) as string[][]).map((c) => c.join(' → '));
    for (const cycle of ALLOWED_CYCLES as string[][]) expect(found).toContain(cycle.join(' → '));
  });

  describe('on a small package', () => {
    const dir = mkdtempSync(join(tmpdir(), 'batchnorm-wasm-cycles-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'nn'));
    const files: Record<string, string> = {
      'a.js': "import { b } from './b.js';\nexport const a = () => b;\n",
      'b.js': "import { a } from './a.js';\nexport { c } from './c.js';\nexport const b = () => a;\n",
      'c.js': "import './nn/d.js';\nexport const c = 1;\n",
      'nn/d.js': "import { c } from '../c.js';\nimport { readFile } from 'node:fs';\nexport const d = [c, readFile];\n",
      'e.js': "import { a } from './a.js';\nexport const e = a;\n",
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);

    it('finds each cycle once, through imports and re-exports, across folders', () => {
      const graph = importGraph(dir) as Graph;
      expect(graph.get('nn/d.js')).toEqual(['c.js']);
      expect((findCycles(graph) as string[][]).map((c) => c.join(' → ')).sort()).toEqual(['a.js → b.js', 'c.js → nn/d.js']);
    });

    it('reports only the cycles the list does not allow, whichever module the list starts from', () => {
      expect(unexpectedCycles(dir, [['b.js', 'a.js']])).toEqual([['c.js', 'nn/d.js']]);
    });
  });
});
