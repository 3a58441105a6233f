// The package never loads tfjs itself: the user passes `tf` in. A child Node process with a
// resolve hook that refuses every @tensorflow/* module imports the built entries.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const REFUSE_TFJS = `export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@tensorflow/')) throw new Error('tfjs was loaded: ' + specifier);
  return next(specifier, context);
}`;

function importsWithoutTfjs(specifiers: string[]): string {
  const script = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(REFUSE_TFJS)}));
for (const s of ${JSON.stringify(specifiers)}) await import(s);
console.log('imported');
`;
  try {
    return execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
}

describe('loading tfjs', () => {
  it('the main entry, the nn subpath and the tfjs subpath import without loading tfjs', () => {
    expect(importsWithoutTfjs(['batchnorm-wasm', 'batchnorm-wasm/nn', 'batchnorm-wasm/tfjs'])).toBe('imported');
  });

  it('the hook does refuse tfjs (so the check above can fail)', () => {
    expect(importsWithoutTfjs(['@tensorflow/tfjs-core'])).toContain('tfjs was loaded: @tensorflow/tfjs-core');
  });
});
