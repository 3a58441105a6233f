// Packs the repository once (`npm pack` runs prepack = build) and installs the tarball
// into an empty temp folder, the way a user installs it. Every portability suite runs its
// runtime against that folder. Suites run in parallel workers, so the install is guarded
// by a lock directory and cached by a hash of everything that goes into it.
//
// The pack runs in a copy of the package sources, not in the checkout: a build there would
// rewrite build/*.wasm under the other suites reading it, and a copy cannot ship stale
// dist/ files left by a renamed source.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const appDir = fileURLToPath(new URL('./app/', import.meta.url));
const run = promisify(execFile);

// What `npm run build` and the tarball need from the checkout.
const PACKAGE_SOURCES = ['package.json', 'asconfig.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'LICENSE', 'src', 'assembly'];
// Whatever changes the tarball or the fixture app changes the cache key.
const KEY_INPUTS = [...PACKAGE_SOURCES, 'test/portability/app'];
const PREFIX = 'batchnorm-wasm-packed-';
const WAIT_MS = 240_000;
const STALE_LOCK_MS = 300_000;

export interface PackedInstall {
  /** The consumer folder: package.json, node_modules/batchnorm-wasm, and the app fixtures. */
  dir: string;
  /** Paths inside the tarball, as `npm pack --json` lists them. */
  files: string[];
}

async function listFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => null);
  if (info === null) return [];
  if (!info.isDirectory()) return [path];
  const entries = (await readdir(path)).sort();
  return (await Promise.all(entries.map((name) => listFiles(join(path, name))))).flat();
}

async function sourceKey(): Promise<string> {
  const hash = createHash('sha256').update(process.version);
  for (const input of KEY_INPUTS) {
    for (const file of await listFiles(join(repoRoot, input))) {
      hash.update(relative(repoRoot, file)).update('\0').update(await readFile(file)).update('\0');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

async function packAndInstall(dir: string): Promise<void> {
  const source = join(dir, 'source');
  await mkdir(source, { recursive: true });
  for (const input of PACKAGE_SOURCES) {
    if (existsSync(join(repoRoot, input))) await cp(join(repoRoot, input), join(source, input), { recursive: true });
  }
  await symlink(join(repoRoot, 'node_modules'), join(source, 'node_modules'), 'dir');
  const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: source, timeout: 180_000, maxBuffer: 64 << 20,
  });
  await rm(source, { recursive: true, force: true });
  const [manifest] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  await writeFile(join(dir, 'pack.json'), JSON.stringify(manifest.files.map((f) => f.path)));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', `./${manifest.filename}`], {
    cwd: dir, timeout: 180_000, maxBuffer: 64 << 20,
  });
  await cp(appDir, dir, { recursive: true });
}

// Folders from earlier source versions; ten minutes' grace so a concurrent run keeps its own.
async function pruneOld(keep: string): Promise<void> {
  const root = tmpdir();
  for (const name of await readdir(root)) {
    const path = join(root, name);
    if (!name.startsWith(PREFIX) || path === keep || path === `${keep}.lock`) continue;
    const info = await stat(path).catch(() => null);
    if (info !== null && Date.now() - info.mtimeMs > 600_000) await rm(path, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// A lock whose holder died (a killed test run) is taken over instead of waited out.
async function holderGone(lock: string): Promise<boolean> {
  const pid = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => ''));
  if (pid > 0) return !alive(pid);
  const info = await stat(lock).catch(() => null);
  return info !== null && Date.now() - info.mtimeMs > STALE_LOCK_MS;
}

async function acquire(dir: string, done: string): Promise<boolean> {
  const lock = `${dir}.lock`;
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if (existsSync(done)) return false;
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'pid'), String(process.pid));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (await holderGone(lock)) await rm(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  throw new Error(`packedInstall: waited ${WAIT_MS / 1000} s for another process to pack into ${dir}`);
}

let pending: Promise<PackedInstall> | null = null;

export function packedInstall(): Promise<PackedInstall> {
  pending ??= (async () => {
    const dir = join(tmpdir(), PREFIX + (await sourceKey()));
    const done = join(dir, '.complete');
    if (await acquire(dir, done)) {
      try {
        await rm(dir, { recursive: true, force: true });
        await packAndInstall(dir);
        await writeFile(done, '');
      } finally {
        await rm(`${dir}.lock`, { recursive: true, force: true });
      }
      await pruneOld(dir);
    }
    return { dir, files: JSON.parse(await readFile(join(dir, 'pack.json'), 'utf8')) as string[] };
  })();
  return pending;
}
