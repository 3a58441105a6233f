// The documentation does what it says: every runnable snippet of the README and docs/ runs
// against the built package and leaves nothing allocated; docs/runtimes.md quotes the
// files the portability suites run; every relative link, into the API reference too,
// reaches a file and a heading; no file cites a path outside the repository.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { transform } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './portability/packed.js';
import { ESBUILD_BROWSER_FLAGS } from './portability/esbuild.js';
import { ESBUILD_FLAGS } from './portability/workerd.js';

const run = promisify(execFile);

// Inside the repository, so that `import 'batchnorm-wasm'` resolves to this package's own
// build through its exports map (a self-reference), as it would for a user.
const SNIPPET_DIR = join(repoRoot, 'build', 'snippets');
const MEMORY_MARK = 'memoryUsage after the snippet:';

interface Snippet {
  page: string;
  line: number;
  lang: string;
  code: string;
}

/** The fenced js/ts blocks of a Markdown page, with the line each starts on. */
function codeBlocks(page: string, markdown: string): Snippet[] {
  const blocks: Snippet[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) {
    const lang = match[1] ?? '';
    if (!['js', 'ts', 'javascript', 'typescript'].includes(lang)) continue;
    const line = markdown.slice(0, match.index).split('\n').length;
    blocks.push({ page, line, lang, code: match[2] ?? '' });
  }
  return blocks;
}

// `const rt = await init(...)`: the runtime a snippet makes, whose memory is checked after it.
const RUNTIME = /\bconst (\w+) = await init\(/;

/**
 * A snippet runs on its own when it imports the package and nothing relative, and makes
 * its runtime: the recipes that import './compute.mjs' run in the portability suites, and
 * a fragment without init() is an illustration, not a program.
 */
function selfContained(code: string): boolean {
  return /from 'batchnorm-wasm(\/[\w.-]+)?'/.test(code) && !/from '\.\.?\//.test(code) && RUNTIME.test(code);
}

async function docsPages(): Promise<string[]> {
  const docs = (await readdir(join(repoRoot, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return ['README.md', ...docs.sort()];
}

async function runnableSnippets(): Promise<Snippet[]> {
  const pages = await docsPages();
  const all = await Promise.all(pages.map(async (page) => codeBlocks(page, await readFile(join(repoRoot, page), 'utf8'))));
  return all.flat().filter((s) => selfContained(s.code));
}

async function runSnippet(snippet: Snippet): Promise<{ liveTensors: number; bytesAllocated: number }> {
  const { code } = await transform(snippet.code, { loader: snippet.lang.startsWith('t') ? 'ts' : 'js', format: 'esm' });
  const file = join(SNIPPET_DIR, `${snippet.page.replaceAll('/', '_')}-${snippet.line}.mjs`);
  const runtime = RUNTIME.exec(snippet.code)?.[1];
  await writeFile(file, `${code}\nconsole.log(${JSON.stringify(MEMORY_MARK)}, JSON.stringify(${runtime}.memoryUsage()));\n`);
  const { stdout } = await run(process.execPath, [file], { cwd: repoRoot, timeout: 60_000 });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  expect(last.startsWith(MEMORY_MARK), `${snippet.page}:${snippet.line} ran to its end`).toBe(true);
  return JSON.parse(last.slice(MEMORY_MARK.length)) as { liveTensors: number; bytesAllocated: number };
}

const snippets = await runnableSnippets();

afterAll(() => rm(SNIPPET_DIR, { recursive: true, force: true }));

describe('snippets of the README and docs/ run and leak nothing', () => {
  it('finds the README quick start and the nn example', () => {
    expect(snippets.filter((s) => s.page === 'README.md').length).toBeGreaterThanOrEqual(2);
  });

  it.each(snippets.map((s) => [`${s.page}:${s.line}`, s] as const))('%s', async (_, snippet) => {
    await mkdir(SNIPPET_DIR, { recursive: true });
    const usage = await runSnippet(snippet);
    expect({ liveTensors: usage.liveTensors, bytesAllocated: usage.bytesAllocated }).toEqual({ liveTensors: 0, bytesAllocated: 0 });
  });
});

describe('the snippet finder', () => {
  it('takes js and ts blocks that import the package and make a runtime, not shell, fragments or relative recipes', () => {
    const page = [
      '```sh', 'npm test', '```',
      '```js', "import { init } from 'batchnorm-wasm';", 'const rt = await init();', '```',
      '```ts', "import * as nn from 'batchnorm-wasm/nn';", 'const runtime = await init();', '```',
      '```js', "import { init } from 'batchnorm-wasm';", 'bn.forward(x);', '```',
      '```js', "import { init } from 'batchnorm-wasm';", "import { compute } from './compute.mjs';", '```',
    ].join('\n');
    const blocks = codeBlocks('page.md', page);
    expect(blocks.map((b) => [b.lang, b.line])).toEqual([['js', 4], ['ts', 8], ['js', 12], ['js', 16]]);
    expect(blocks.map((b) => selfContained(b.code))).toEqual([true, true, false, false]);
  });
});

describe('docs/runtimes.md', () => {
  it('quotes the exact files the portability tests run, and their build commands', async () => {
    const docs = await readFile(join(repoRoot, 'docs', 'runtimes.md'), 'utf8');
    const files = ['node.mjs', 'browser.mjs', 'plain.html', 'index.html', 'esbuild-app.mjs', 'esbuild.html', 'worker.mjs', 'workerd.capnp'];
    for (const file of files) {
      const source = await readFile(join(repoRoot, 'test', 'portability', 'app', file), 'utf8');
      expect(docs.includes(source.trim()), `docs/runtimes.md quotes test/portability/app/${file} verbatim`).toBe(true);
    }
    expect(docs).toContain(`npx esbuild worker.mjs ${ESBUILD_FLAGS.join(' ')}\n`);
    expect(docs).toContain(`npx esbuild esbuild-app.mjs ${ESBUILD_BROWSER_FLAGS.join(' ')}\n`);
  });
});

describe('docs/threads.md', () => {
  it('quotes the page, its script and its worker that the browser test runs', async () => {
    const docs = await readFile(join(repoRoot, 'docs', 'threads.md'), 'utf8');
    for (const file of ['threads.html', 'threads-page.mjs', 'threads-worker.mjs']) {
      const source = await readFile(join(repoRoot, 'test', 'portability', 'app', file), 'utf8');
      expect(docs.includes(source.trim()), `docs/threads.md quotes test/portability/app/${file} verbatim`).toBe(true);
    }
  });
});

describe('README.md', () => {
  it('stays short', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
  });

  it('the CommonJS line it gives loads the package from a .cjs file', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const line = readme.match(/`(const \{ init \} = await import\('batchnorm-wasm'\);)`/)?.[1];
    expect(line, 'the README shows the dynamic import for CommonJS').toBeDefined();
    await mkdir(SNIPPET_DIR, { recursive: true });
    const file = join(SNIPPET_DIR, 'commonjs.cjs');
    await writeFile(file, `(async () => {\n  ${line}\n  const rt = await init();\n  console.log(typeof require, rt.simd);\n})();\n`);
    const { stdout } = await run(process.execPath, [file], { cwd: repoRoot, timeout: 60_000 });
    expect(stdout.trim()).toBe('function true');
  });

  it('links into the API reference, whose pages the link check below follows like any other', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\((docs\/api\/[^)#]+)/g)].map((m) => m[1] ?? '');
    expect(links.length).toBeGreaterThan(5);
  });
});

// Pages other work of this turn writes (the errors and numerics pages, the TensorFlow.js
// page) and generated pages whose command runs on a quiet machine (the papers' results, the
// TensorFlow.js MNIST run): a link to one of them may point nowhere until it lands.
const PENDING_PAGES = new Set(['docs/errors.md', 'docs/numerics.md', 'docs/tfjs.md', 'docs/results.md', 'docs/tfjs-mnist.md']);

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/^```[\s\S]*?^```$/gm, '');
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1] ?? '')));
}

describe('links between the pages', () => {
  it('anchors follow GitHub\'s rule', () => {
    expect(anchorOf('Speed and the papers\' claims')).toBe('speed-and-the-papers-claims');
    expect(anchorOf('Browser, plain ESM')).toBe('browser-plain-esm');
    expect(anchorOf('[`batchnorm-wasm/nn`](docs/api/x.md): a minimal trainer')).toBe('batchnorm-wasmnndocsapixmd-a-minimal-trainer');
  });

  it('every relative link of the README and docs/ reaches a file, and its #anchor a heading there', async () => {
    const broken: string[] = [];
    for (const page of await docsPages()) {
      const markdown = await readFile(join(repoRoot, page), 'utf8');
      const links = [...markdown.replace(/^```[\s\S]*?^```$/gm, '').matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '');
      for (const link of links.filter((l) => !/^[a-z]+:/.test(l))) {
        const [path = '', anchor] = link.split('#');
        const target = path === '' ? page : relative(repoRoot, resolve(repoRoot, dirname(page), path));
        if (!existsSync(join(repoRoot, target))) {
          if (!PENDING_PAGES.has(target)) broken.push(`${page}: ${link} (no ${target})`);
          continue;
        }
        if (anchor !== undefined && target.endsWith('.md') && !anchorsOf(await readFile(join(repoRoot, target), 'utf8')).has(anchor)) {
          broken.push(`${page}: ${link} (no heading #${anchor} in ${target})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('the repository stands alone', () => {
  it('no tracked file cites a path outside it', async () => {
    const { stdout } = await run('git', ['ls-files'], { cwd: repoRoot, maxBuffer: 16 << 20 });
    const text = stdout.split('\n').filter((f) => /\.(md|ts|mjs|js|json|py|html|css|capnp)$/.test(f) && f !== 'package-lock.json');
    const outside = /\.\.\/shared\b|\bDESIGN\.md\b/;
    const citing: string[] = [];
    for (const file of text) {
      if (!existsSync(join(repoRoot, file))) continue;
      if (outside.test(await readFile(join(repoRoot, file), 'utf8'))) citing.push(file);
    }
    expect(citing).toEqual([]);
  });
});
