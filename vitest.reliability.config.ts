import { defineConfig } from 'vitest/config';

/**
 * `npm run test:reliability`: load, faults (Graph storms, a runner killed mid-job, SIGKILL of the whole process,
 * PostgreSQL restarted under load), a fuzzer, authentication, and hostile traffic (gzip bombs to every route, a runner
 * result forged by another tenant). Files run one at a time so the load figures are
 * not shared with another file; the global teardown prints the summary table.
 */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    globalSetup: ['test/reliability/global-setup.ts'],
    sequence: { shuffle: false },
  },
});
