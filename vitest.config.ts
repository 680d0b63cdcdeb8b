import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // whole-process, browser and reliability suites have their own configs (vitest.heavy / vitest.reliability)
    exclude: ['test/reliability/**', 'test/scale/**', 'test/e2e/**', 'node_modules/**'],
    // end-to-end flows click through a whole runbook over HTTP: seconds on a quiet machine, minutes on a loaded one
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
