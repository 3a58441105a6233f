// Where each runtime's binary is, and what a suite does when one is missing: in CI the
// suite fails with the reason; locally it registers a skipped test whose name says why.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { it } from 'vitest';
import { repoRoot } from './packed.js';

const run = promisify(execFile);

export type Found = { path: string; version: string } | { missing: string };

export const CHROMIUM_PATH = '/usr/bin/chromium';

async function probe(path: string, args: string[]): Promise<Found> {
  if (!existsSync(path)) return { missing: `${path} does not exist` };
  try {
    const { stdout } = await run(path, args, { timeout: 30_000 });
    return { path, version: stdout.trim().split('\n')[0] ?? '' };
  } catch (error) {
    return { missing: `${path} ${args.join(' ')} failed: ${(error as Error).message.split('\n')[0]}` };
  }
}

export function findBinary(name: 'deno' | 'bun' | 'workerd'): Promise<Found> {
  return probe(join(repoRoot, 'node_modules', '.bin', name), ['--version']);
}

export function findChromium(): Promise<Found> {
  return probe(CHROMIUM_PATH, ['--version']);
}

/**
 * Registers the suite when the runtime exists. When it does not: a failing test in CI
 * (`process.env.CI`), a named skipped test elsewhere.
 */
export function withRuntime(label: string, found: Found, suite: (path: string, version: string) => void): void {
  if ('path' in found) {
    suite(found.path, found.version);
  } else if (process.env.CI) {
    it(`${label}: runtime missing`, () => {
      throw new Error(`${label} is required in CI: ${found.missing}`);
    });
  } else {
    it.skip(`${label}: skipped locally, runtime missing (${found.missing})`, () => {});
  }
}
