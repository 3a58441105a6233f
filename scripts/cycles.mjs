// Value-import cycles between the compiled modules of the package. It reads dist/ (what
// runs), not src/: the compiler erases type-only imports, and only value imports decide
// the order in which modules evaluate. docs/design.md says which cycles exist and why.
//
//   node scripts/cycles.mjs          (after npm run build; exits 1 on a cycle not allowed)
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Cycles allowed to stay, each as its modules in order, starting from the smallest name. */
export const ALLOWED_CYCLES = [];

function jsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return jsFiles(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
}

/** The relative modules a JavaScript file imports or re-exports. */
function importsOf(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const specifiers = [];
  for (const statement of source.statements) {
    if ((ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier) {
      const specifier = statement.moduleSpecifier.text;
      if (specifier.startsWith('.')) specifiers.push(resolve(dirname(file), specifier));
    }
  }
  return specifiers;
}

/** Every module of `dir` and the modules it imports, as paths relative to `dir`. */
export function importGraph(dir) {
  const graph = new Map();
  for (const file of jsFiles(dir)) graph.set(relative(dir, file), importsOf(file).map((f) => relative(dir, f)));
  return graph;
}

// A cycle written from its smallest module, so the same cycle found from any of its
// modules compares equal.
function canonical(cycle) {
  const start = cycle.indexOf([...cycle].sort()[0]);
  return [...cycle.slice(start), ...cycle.slice(0, start)];
}

/** The elementary cycles of the graph (each once), found by depth-first search. */
export function findCycles(graph) {
  const found = new Map();
  const visit = (node, path) => {
    for (const next of graph.get(node) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) {
        const cycle = canonical(path.slice(at));
        found.set(cycle.join(' → '), cycle);
      } else {
        visit(next, [...path, next]);
      }
    }
  };
  for (const node of graph.keys()) visit(node, [node]);
  return [...found.values()];
}

/** The cycles of `dir` that ALLOWED_CYCLES does not list. */
export function unexpectedCycles(dir, allowed = ALLOWED_CYCLES) {
  const ok = new Set(allowed.map((cycle) => canonical(cycle).join(' → ')));
  return findCycles(importGraph(dir)).filter((cycle) => !ok.has(cycle.join(' → ')));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dist = fileURLToPath(new URL('../dist/', import.meta.url));
  const cycles = unexpectedCycles(dist);
  for (const cycle of cycles) process.stderr.write(`value-import cycle: ${[...cycle, cycle[0]].join(' → ')}\n`);
  process.exitCode = cycles.length > 0 ? 1 : 0;
}
