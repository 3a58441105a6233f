// Bundles app/esbuild-app.mjs for the browser with the esbuild command docs/runtimes.md
// gives, into a fresh folder that also holds the page, ready to serve.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './packed.js';

const run = promisify(execFile);

/** The esbuild flags docs/runtimes.md shows: each imported .wasm becomes a file beside the bundle. */
export const ESBUILD_BROWSER_FLAGS = ['--bundle', '--format=esm', '--loader:.wasm=file', '--outdir=out'];

/** `dir`/esbuild.html loads `dir`/out/esbuild-app.js, bundled from the packed install. */
export async function bundleForBrowser(packedDir: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await symlink(join(packedDir, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const file of ['esbuild-app.mjs', 'compute.mjs', 'esbuild.html']) {
    await copyFile(join(packedDir, file), join(dir, file));
  }
  const esbuild = join(repoRoot, 'node_modules', '.bin', 'esbuild');
  await run(esbuild, ['esbuild-app.mjs', ...ESBUILD_BROWSER_FLAGS, '--log-level=warning'], { cwd: dir, timeout: 60_000 });
}
