import { afterAll, beforeAll, beforeEach } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { openPglite, type Db } from '../../src/store/db.js';

export const silentLog = createLogger({ level: 'silent' });

/**
 * One in-memory database for a test file (opening PGlite costs seconds); each test starts from empty runner tables
 * and a fresh clock at 2026-11-21 09:00 UTC. Read `store.db` and `store.clock` inside hooks and tests.
 */
export function runnerStore(): { readonly db: Db; readonly clock: ManualClock } {
  const store = {} as { db: Db; clock: ManualClock };
  beforeAll(async () => {
    store.db = await openPglite(null);
  });
  afterAll(async () => {
    await store.db.close();
  });
  beforeEach(async () => {
    await store.db.query('TRUNCATE runners, runner_jobs');
    store.clock = new ManualClock('2026-11-21T09:00:00Z');
  });
  return store;
}
