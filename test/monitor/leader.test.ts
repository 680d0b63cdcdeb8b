import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { openPglite, openPostgres, type Db } from '../../src/store/db.js';
import { AlertService } from '../../src/monitor/alerts.js';
import { AlwaysLeader, PgAdvisoryLeader } from '../../src/monitor/leader.js';
import { Monitor, type MonitoredJob, type MonitorPorts } from '../../src/monitor/monitor.js';
import type { Migration, RunbookEngine } from '../../src/runbooks/engine.js';

/**
 * Exactly one instance runs the scheduled monitor cycles. With PostgreSQL (TEST_DATABASE_URL: CI sets it; locally
 * `psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE cutover_dev_leader'`), two Monitors with their own pools and
 * lease sessions stand in for two processes, and a child process plays a leader that dies (SIGKILL).
 */
const url = process.env.TEST_DATABASE_URL;
if (!url) console.warn('[monitor leader] PostgreSQL part skipped: TEST_DATABASE_URL is not set');

const log = createLogger({ level: 'silent' });
const clock = new ManualClock(new Date());

function fixture(tag: string) {
  const migration = {
    id: `leader-${tag}`,
    name: `Leader ${tag}`,
    kind: 'connect-to-cloud-sync',
    tenantId: 't-leader',
    domain: 'contoso.com',
    policy: {} as any,
    ous: [],
    state: 'active',
    createdBy: { oid: 'x', name: 'x' } as any,
    createdAt: new Date(),
    conversationId: null,
    overviewActivityId: null,
  } as unknown as Migration;
  // Only this migration, whatever else other tests put in the shared database.
  const engine = {
    listMigrations: async () => [migration],
    getSteps: async () => [],
    sweepApprovals: async () => ({ expired: 0, reminded: 0, escalated: 0 }),
  } as unknown as RunbookEngine;
  const quarantined: MonitoredJob = {
    id: 'AD2AADProvisioning.x.y',
    templateId: 'AD2AADProvisioning',
    code: 'Quarantine',
    quarantine: { reason: 'EncounteredBaseEscrowThreshold' },
    countSuccessiveCompleteFailures: 1,
    steadyStateAchieved: true,
  };
  const monitor = (db: Db, leader: any) => {
    const calls = { jobs: 0 };
    const ports: MonitorPorts = {
      jobs: async () => (calls.jobs++, [quarantined]),
      entraUsers: async () => ({ stamp: '', users: () => [] }),
      onPremIdentities: async () => [],
      agents: async () => null,
      runners: async () => [],
      scheduler: async () => ({ syncCycleEnabled: true, stagingModeEnabled: false }),
      connectorScope: async () => ({ includedContainers: [] }),
    };
    const m = new Monitor({
      engine,
      alerts: new AlertService({ db, clock }),
      ports,
      clock,
      log,
      settings: { mismatchCycles: 3, schedulerDisabledMs: 4 * 3_600_000 },
      leader,
    });
    return { m, calls };
  };
  return { migration, monitor };
}

describe('monitor leadership with PGlite', () => {
  it('is always the leader: the process owns its data directory', async () => {
    const db = await openPglite(null);
    const { monitor } = fixture('pglite');
    const { m, calls } = monitor(db, undefined);
    expect(m.leader).toBeInstanceOf(AlwaysLeader);
    expect(await m.runScheduled('jobs')).not.toBeNull();
    expect(calls.jobs).toBe(1);
    await m.stop();
    await db.close();
  });
});

describe.skipIf(!url)('monitor leadership across instances sharing PostgreSQL (advisory lock)', () => {
  let dbs: Db[] = [];
  const key = BigInt(7_400_000_000 + Math.floor(Math.random() * 1_000_000)); // this run's own lease
  beforeAll(async () => {
    dbs = [await openPostgres(url!), await openPostgres(url!)];
  });
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.close()));
  });

  it('two leases on one key: one holder; released on stop, then the other takes it', async () => {
    const a = new PgAdvisoryLeader({ connectionString: url!, key });
    const b = new PgAdvisoryLeader({ connectionString: url!, key });
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await a.acquire()).toBe(true); // re-checked, still held (not taken twice)
    await a.release();
    expect(a.isLeader()).toBe(false);
    expect(await a.acquire()).toBe(false); // released for good (stopping)
    expect(await b.acquire()).toBe(true);
    await b.release();
  });

  it('exactly one of two Monitors runs the scheduled cycles, and its alert card is raised once', async () => {
    const { migration, monitor } = fixture(randomUUID().slice(0, 8));
    const A = monitor(dbs[0], new PgAdvisoryLeader({ connectionString: url!, key }));
    const B = monitor(dbs[1], new PgAdvisoryLeader({ connectionString: url!, key }));
    try {
      for (let i = 0; i < 3; i++) {
        const [ra, rb] = await Promise.all([A.m.runScheduled('jobs'), B.m.runScheduled('jobs')]);
        expect([ra, rb].filter((r) => r !== null)).toHaveLength(1);
      }
      expect(A.calls.jobs + B.calls.jobs).toBe(3);
      expect(Math.min(A.calls.jobs, B.calls.jobs)).toBe(0);
      const alerts = (await dbs[0].query("SELECT id FROM alerts WHERE migration_id = $1 AND check_key = 'job-health'", [migration.id])).rows;
      expect(alerts).toHaveLength(1);

      // The leader's session dies under it (failover, network): it stops at its next tick; the other takes over.
      const [leader, follower] = A.calls.jobs ? [A, B] : [B, A];
      const pid = await (leader.m.leader as PgAdvisoryLeader).backendPid();
      await dbs[0].query('SELECT pg_terminate_backend($1)', [pid]);
      // pg_terminate_backend only signals the backend: the lock goes when the session has really ended.
      for (let i = 0; i < 100 && (await dbs[0].query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rows.length; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await follower.m.runScheduled('jobs')).not.toBeNull();
      expect(await leader.m.runScheduled('jobs')).toBeNull();
      expect(follower.m.leader.isLeader()).toBe(true);
      expect(leader.m.leader.isLeader()).toBe(false);

      // Stopping the leader gives the lease up: the other instance runs at its next tick.
      await follower.m.stop();
      expect(await leader.m.runScheduled('jobs')).not.toBeNull();
    } finally {
      await A.m.stop();
      await B.m.stop();
      await dbs[0].query('DELETE FROM alerts WHERE migration_id = $1', [migration.id]);
    }
  });

  it('takes over within one tick when the leader process is killed', async () => {
    const { migration, monitor } = fixture(randomUUID().slice(0, 8));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/lease-holder.ts'), url!, String(key)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const A = monitor(dbs[0], new PgAdvisoryLeader({ connectionString: url!, key }));
    try {
      const first = await new Promise<string>((resolve, reject) => {
        child.stdout!.once('data', (d) => resolve(String(d).trim()));
        child.once('exit', (code) => reject(new Error(`lease holder exited (${code})`)));
      });
      expect(first).toBe('LEADER');
      expect(await A.m.runScheduled('jobs')).toBeNull();
      expect(await A.m.runScheduled('health')).toBeNull();
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      // The next tick after the death: PostgreSQL frees the lock as soon as the dead session's socket closes.
      let ran = await A.m.runScheduled('jobs');
      for (let i = 0; !ran && i < 20; i++) {
        await new Promise((r) => setTimeout(r, 100)); // the server notices the closed socket within a moment
        ran = await A.m.runScheduled('jobs');
      }
      expect(ran).not.toBeNull();
      expect(A.calls.jobs).toBe(1);
    } finally {
      child.kill('SIGKILL');
      await A.m.stop();
      await dbs[0].query('DELETE FROM alerts WHERE migration_id = $1', [migration.id]);
    }
  }, 60_000);
});
