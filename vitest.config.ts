import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Two cores: the browser and edge-runtime suites start their own processes.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
