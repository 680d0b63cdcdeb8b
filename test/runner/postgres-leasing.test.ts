import { describe, expect, it } from 'vitest';
import restify from 'restify';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { openPostgres } from '../../src/store/db.js';
import { RunnerHub } from '../../src/runner/index.js';

/**
 * Several server processes sharing one PostgreSQL: each hub has its own connection pool and HTTP server, as separate
 * processes would. Runs when TEST_DATABASE_URL points at a scratch database (CI sets it; the tables are truncated).
 */
const url = process.env.TEST_DATABASE_URL;
if (!url) console.warn('[postgres-leasing] skipped: TEST_DATABASE_URL is not set');

describe.skipIf(!url)('leasing across server processes sharing PostgreSQL (FOR UPDATE SKIP LOCKED)', () => {
  it('every job is leased exactly once by runners polling through three servers', async () => {
    const log = createLogger({ level: 'silent' });
    const clock = new ManualClock();
    const dbs = await Promise.all([1, 2, 3].map(() => openPostgres(url!)));
    await dbs[0].query('TRUNCATE runners, runner_jobs');
    const hubs = dbs.map((db) => new RunnerHub({ db, clock, log, onJobSettled: async () => {}, pollWaitMs: 300, recheckMs: 50 }));
    const servers = hubs.map((hub) => {
      const s = restify.createServer();
      hub.registerRoutes(s);
      return s;
    });
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
    try {
      const runners = await Promise.all(Array.from({ length: 6 }, (_, i) => hubs[0].createRunner({ name: `r${i}`, tenantId: 't1' })));
      const jobs = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          hubs[i % 3].enqueue({ migrationId: 'm', stepSeq: i, attempt: 1, action: 'get-scheduler', params: {}, tenantId: 't1', mutation: false }),
        ),
      );
      const leased: string[] = [];
      await Promise.all(
        runners.map(async ({ token }, i) => {
          const port = (servers[i % 3].address() as AddressInfo).port;
          for (;;) {
            const res = await fetch(`http://127.0.0.1:${port}/api/runner/v1/poll`, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}` },
              body: '{}',
            });
            if (res.status !== 200) return;
            leased.push(((await res.json()) as any).jobId);
          }
        }),
      );
      expect(leased.sort()).toEqual(jobs.map((j) => j.id).sort());
    } finally {
      servers.forEach((s) => s.close());
      await Promise.all(dbs.map((d) => d.close()));
    }
  }, 60_000);
});
