import { defineConfig } from 'vitest/config';

/**
 * The suites that start whole cutover processes, PostgreSQL sessions or a browser: run one file at a time
 * after the main suite, so two of them never compete for this machine's two cores.
 */
export default defineConfig({
  test: {
    include: ['test/scale/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
