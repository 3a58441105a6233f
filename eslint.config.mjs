// ESLint: a small set of rules that catch bugs and leftovers, not style. Formatting is
// left alone on purpose (no rule here moves a brace or a space), so code written in any
// of the project's current styles passes without churn. Runs in `npm test`.
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    // Built, generated or downloaded: not ours to lint.
    ignores: ['dist/', 'build/', 'node_modules/', 'docs/api/', 'demo/dist/', 'report/', 'bench/results/'],
  },
  {
    files: ['**/*.{ts,mts,js,mjs}'],
    languageOptions: {
      parser: tseslint.parser,
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node, ...globals.browser },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Correctness: each of these is a bug whenever it fires.
      'no-dupe-keys': 'error', // the first value is silently lost
      'no-duplicate-case': 'error', // the second case can never run
      'no-fallthrough': 'error', // a case that runs into the next one without saying so
      'no-self-assign': 'error', // x = x: usually a typo for another name
      'no-self-compare': 'error', // x === x: write Number.isNaN(x)
      'no-unreachable': 'error', // code after return/throw
      'no-unsafe-finally': 'error', // a return in finally swallows the exception
      'use-isnan': 'error', // x === NaN is always false
      'valid-typeof': 'error', // typeof x === 'strnig'
      'no-cond-assign': ['error', 'except-parens'], // if (a = b) where a === b was meant
      'no-constant-condition': ['error', { checkLoops: false }], // if (true): a leftover; while (true) is fine
      eqeqeq: ['error', 'smart'], // == coerces; only `== null` (null or undefined) is allowed
      'no-var': 'error', // var leaks out of blocks
      'prefer-const': 'error', // a binding that never changes says so
      // Leftovers: no debug output and no focused tests in a commit.
      'no-debugger': 'error',
      'no-restricted-properties': ['error',
        { object: 'it', property: 'only', message: 'it.only skips every other test of the file' },
        { object: 'describe', property: 'only', message: 'describe.only skips every other suite of the file' },
        { object: 'test', property: 'only', message: 'test.only skips every other test of the file' },
      ],
      // Dead code: an unused import, variable or parameter is a leftover or a missed call.
      // A leading underscore marks a parameter kept for its position.
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': ['error', {
        args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true,
      }],
      // A suppressed type error must say why.
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-expect-error': 'allow-with-description', 'ts-ignore': true, 'ts-nocheck': true }],
    },
  },
  {
    // Plain JavaScript is not type-checked: an undefined name is caught here or at run time.
    files: ['**/*.{js,mjs}'],
    rules: { 'no-undef': 'error' },
  },
  {
    // The package itself prints nothing but the one warning init({ debug: true }) asks for.
    files: ['src/**/*.ts'],
    rules: { 'no-console': ['error', { allow: ['warn'] }] },
  },
);
