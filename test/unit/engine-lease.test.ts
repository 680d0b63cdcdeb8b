import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { openPglite, type Db } from '../../src/store/db.js';
import { RunbookEngine, type EngineEvent, type EnginePorts } from '../../src/runbooks/engine.js';
import { RUNBOOKS } from '../../src/runbooks/catalog.js';
import { defaultPolicy } from '../../src/runbooks/policy.js';
import type { RunbookDefinition } from '../../src/runbooks/types.js';
import { stepCard } from '../../src/bot/views.js';

/**
 * Scale-out: two cutover processes on one store. A Graph change running in one process is owned by it (a lease it
 * renews); the other's recover() and sweeps leave it alone while the lease is current, and settle it as lost — once —
 * when the owner stopped renewing (it died) and the lease has passed.
 */
const REQ = { oid: 'aaaaaaaa-0000-0000-0000-000000000001', name: 'Alex' };
const OWN1 = { oid: 'bbbbbbbb-0000-0000-0000-000000000002', name: 'Megan' };

const LEASE_RUNBOOK: RunbookDefinition = {
  kind: 'lease-test-runbook',
  title: 'Lease test',
  summary: 'test',
  ous: 'batches',
  steps: [
    {
      key: 'cloud',
      title: 'Cloud',
      purpose: 'p',
      source: 's',
      approval: 'change-owners',
      production: true,
      action: { kind: 'graph', operation: 'configure-cloud-sync' },
      evidence: 'e',
    },
  ],
};
RUNBOOKS[LEASE_RUNBOOK.kind] = LEASE_RUNBOOK;

const LEASE_MS = 60_000;

function gatedPorts() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let runs = 0;
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const ports: EnginePorts = {
    runner: {
      enqueue: async () => ({ jobId: 'j' }),
      settledJob: async () => null,
      read: async () => ({}),
      describe: (action, params) => ({ action, params, mutation: true }),
      runners: async () => [{ id: 'runner-1', name: 'connect01' }],
    },
    graph: {
      describe: async () => [{ method: 'PATCH', path: '/beta/servicePrincipals/x/synchronization/jobs/y/schema' }],
      run: async () => {
        runs++;
        started();
        await gate;
        return { ok: true, evidence: { done: true } };
      },
    },
  };
  return { ports, release: () => release(), running, runs: () => runs };
}

describe('owner lease of running steps (two engines on one store)', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openPglite(null);
  });
  afterAll(async () => {
    await db?.close();
  });

  async function startGraphChange(clock: ManualClock) {
    const fake = gatedPorts();
    const log = createLogger({ level: 'silent' });
    // Two processes: different scopes (host/port), the same lease length.
    const a = new RunbookEngine({ db, clock, log, ports: fake.ports, owner: { scope: 'host-a/127.0.0.1:3978', leaseMs: LEASE_MS } });
    const b = new RunbookEngine({ db, clock, log, ports: fake.ports, owner: { scope: 'host-b/127.0.0.1:3978', leaseMs: LEASE_MS } });
    const mig = await a.createMigration({
      name: `L ${Math.random()}`,
      kind: LEASE_RUNBOOK.kind,
      domain: 'contoso.com',
      tenantId: 't',
      ous: ['OU=P,DC=contoso,DC=com'],
      policy: defaultPolicy([REQ.oid, OWN1.oid], 1),
      requester: REQ,
      conversationId: `c-${Math.random()}`,
    });
    const step = async () => (await a.getStep(mig.id, 1))!;
    await a.act({ verb: 'request', migrationId: mig.id, seq: 1, version: (await step()).version, actor: REQ });
    await a.act({ verb: 'approve', migrationId: mig.id, seq: 1, version: (await step()).version, attempt: (await step()).attempt, actor: OWN1 });
    await fake.running; // A's Graph request is in flight
    const bEvents: EngineEvent[] = [];
    b.on((e) => bEvents.push(e));
    const lostRows = async () =>
      Number((await db.query("SELECT count(*)::int AS n FROM audit WHERE migration_id = $1 AND action = 'step-lost'", [mig.id])).rows[0].n);
    return { a, b, fake, m: mig, step, bEvents, lostRows };
  }

  it("leaves a live owner's running Graph change alone, however often the other process recovers and sweeps", async () => {
    const clock = new ManualClock('2026-11-21T09:00:00Z');
    const { a, b, fake, step, lostRows } = await startGraphChange(clock);
    expect(await step()).toMatchObject({ state: 'running', ownerId: a.instanceId });

    await b.recover(); // the other process starts while A runs the change
    expect((await step()).state).toBe('running');
    // A keeps renewing: 3 minutes on, the lease is still current and B's sweeps change nothing.
    for (let i = 0; i < 9; i++) {
      clock.advance(20_000);
      expect(await a.renewLeases()).toBe(1);
      await b.recover();
      await b.sweepApprovals();
      expect(await b.settleOrphanedSteps()).toBe(0);
    }
    expect((await step()).state).toBe('running');
    expect(fake.runs()).toBe(1); // B never ran it a second time

    fake.release();
    await a.idle();
    expect(await step()).toMatchObject({ state: 'succeeded', evidence: { done: true } });
    expect(await lostRows()).toBe(0);
  });

  it('settles the step as lost exactly once when its owner stops renewing and the lease passes', async () => {
    const clock = new ManualClock('2026-11-21T09:00:00Z');
    const { a, b, fake, m, step, bEvents, lostRows } = await startGraphChange(clock);
    const leaseUntil = (await step()).leaseUntil!;
    expect(leaseUntil.getTime()).toBe(clock.now().getTime() + LEASE_MS);

    // A hangs (or died): no renewal. Just before the lease ends nothing happens…
    clock.advance(LEASE_MS - 1_000);
    await b.recover();
    expect((await step()).state).toBe('running');
    // …once it has passed, the other process's sweep settles it, with the reason on the card.
    clock.advance(1_000);
    const [x, y] = await Promise.all([b.settleOrphanedSteps(), b.settleOrphanedSteps()]);
    expect(x + y).toBe(1);
    await b.recover();
    await b.sweepApprovals();
    const lost = await step();
    expect(lost).toMatchObject({ state: 'lost', error: { code: 'InterruptedByRestart' } });
    expect(lost.error!.message).toMatch(/instance running this action stopped.*Retry or Mark done/);
    expect(await lostRows()).toBe(1);
    expect(bEvents.filter((e) => e.type === 'step-changed' && e.migrationId === m.id)).toHaveLength(1);
    const audit = (await db.query("SELECT details FROM audit WHERE migration_id = $1 AND action = 'step-lost'", [m.id])).rows[0].details;
    expect(audit).toMatchObject({ reason: 'owner-lease-expired', owner: a.instanceId });
    const card = JSON.stringify(stepCard((await b.stepSnapshot(m.id, lost.seq))!, { now: clock.now() }));
    expect(card).toContain('Lost — a human must check');
    expect(card).toContain('the cutover instance running this action stopped');

    // The old owner wakes up: its late result and a late renewal change nothing; the change ran once.
    expect(await a.renewLeases()).toBe(0);
    fake.release();
    await a.idle();
    expect((await step()).state).toBe('lost');
    expect(fake.runs()).toBe(1);
    expect(await lostRows()).toBe(1);
  });

  it('a restart of the same instance (same scope, new boot) settles its own dead run at once', async () => {
    const clock = new ManualClock('2026-11-21T09:00:00Z');
    const { a, fake, step, lostRows } = await startGraphChange(clock);
    const restarted = new RunbookEngine({
      db,
      clock,
      log: createLogger({ level: 'silent' }),
      ports: fake.ports,
      owner: { scope: 'host-a/127.0.0.1:3978', leaseMs: LEASE_MS },
    });
    expect(restarted.instanceId).not.toBe(a.instanceId);
    await restarted.recover();
    expect(await step()).toMatchObject({ state: 'lost', error: { code: 'InterruptedByRestart' } });
    expect(await lostRows()).toBe(1);
    fake.release();
    await a.idle();
  });
});
