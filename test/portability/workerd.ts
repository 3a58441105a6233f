// Bundles app/worker-test.mjs (app/worker.mjs plus an error route and a threads route) with the esbuild
// command docs/runtimes.md gives, then runs it under the workerd binary with
// app/workerd.capnp.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './packed.js';

const run = promisify(execFile);

/** The esbuild flags docs/runtimes.md shows; wasm imports stay imports, workerd links them. */
export const ESBUILD_FLAGS = ['--bundle', '--format=esm', '--conditions=workerd,worker,browser', "--external:'*.wasm'", '--outfile=worker.js'];

/** A fresh folder beside the packed install's node_modules, holding worker.js and the config. */
export async function bundleWorker(packedDir: string): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), 'batchnorm-wasm-workerd-'));
  await symlink(join(packedDir, 'node_modules'), join(out, 'node_modules'), 'dir');
  for (const file of ['worker-test.mjs', 'worker.mjs', 'compute.mjs', 'workerd.capnp']) {
    await copyFile(join(packedDir, file), join(out, file));
  }
  const esbuild = join(repoRoot, 'node_modules', '.bin', 'esbuild');
  const flags = ESBUILD_FLAGS.map((flag) => flag.replaceAll("'", ''));
  await run(esbuild, ['worker-test.mjs', ...flags, '--log-level=warning'], { cwd: out, timeout: 60_000 });
  return out;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('freePort: no TCP address');
  return address.port;
}

export interface Workerd {
  origin: string;
  stop(): Promise<void>;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function startOnce(binary: string, bundleDir: string, readyMs: number): Promise<Workerd> {
  const port = await freePort();
  const child = spawn(binary, ['serve', 'workerd.capnp', '--socket-addr', `http=127.0.0.1:${port}`], {
    cwd: bundleDir, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      await fetch(`${origin}/errors`, { signal: AbortSignal.timeout(2_000) });
      return { origin, stop: () => stopProcess(child) };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  await stopProcess(child);
  throw new Error(`workerd did not serve ${origin} within ${readyMs} ms (exit ${child.exitCode}): ${stderr.slice(-2000)}`);
}

/** Starts workerd on a free loopback port; retries when another process took the port first. */
export async function startWorkerd(binary: string, bundleDir: string): Promise<Workerd> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(binary, bundleDir, 30_000);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
