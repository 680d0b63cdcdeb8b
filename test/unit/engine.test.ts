import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HOUR, ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { openPglite, openPostgres, type Db } from '../../src/store/db.js';
import { RunbookEngine, type EnginePorts, type EngineEvent, type SettledJob } from '../../src/runbooks/engine.js';
import { RUNBOOKS } from '../../src/runbooks/catalog.js';
import { defaultPolicy } from '../../src/runbooks/policy.js';
import type { RunbookDefinition } from '../../src/runbooks/types.js';

const REQ = { oid: 'aaaaaaaa-0000-0000-0000-000000000001', name: 'Alex' };
const OWN1 = { oid: 'bbbbbbbb-0000-0000-0000-000000000002', name: 'Megan' };
const OWN2 = { oid: 'cccccccc-0000-0000-0000-000000000003', name: 'Lee' };
const OUTSIDER = { oid: 'dddddddd-0000-0000-0000-000000000004', name: 'Pat' };

/** A small runbook exercising every kind of step: manual, runner read, runner change, graph change, sensitive. */
const TEST_RUNBOOK: RunbookDefinition = {
  kind: 'test-runbook',
  title: 'Test',
  summary: 'test',
  ous: 'batches',
  steps: [
    {
      key: 'check',
      title: 'Check',
      purpose: 'p',
      source: 's',
      approval: 'none',
      production: false,
      action: { kind: 'manual', checklist: ['ok'] },
      evidence: 'e',
    },
    {
      key: 'read',
      title: 'Read',
      purpose: 'p',
      source: 's',
      approval: 'none',
      production: false,
      action: { kind: 'runner', sequence: [{ action: 'get-scheduler', params: () => ({}) }] },
      evidence: 'e',
    },
    {
      key: 'change',
      title: 'Change',
      purpose: 'p',
      source: 's',
      approval: 'change-owners',
      production: true,
      action: {
        kind: 'runner',
        sequence: [
          { action: 'set-scheduler', params: () => ({ enabled: false }) },
          { action: 'get-scheduler', params: () => ({}) },
        ],
      },
      evidence: 'e',
    },
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
    {
      key: 'irreversible',
      title: 'Irreversible',
      purpose: 'p',
      source: 's',
      approval: 'sensitive',
      production: true,
      action: { kind: 'runner', sequence: [{ action: 'disable-group-writeback-v2', params: () => ({ confirm: true }) }] },
      evidence: 'e',
    },
  ],
};
RUNBOOKS[TEST_RUNBOOK.kind] = TEST_RUNBOOK;

class FakePorts {
  jobs: { jobId: string; migrationId: string; stepSeq: number; attempt: number; action: string }[] = [];
  graphPlan = [{ method: 'POST', path: '/beta/x' }];
  graphResult: { ok: boolean; evidence: Record<string, unknown>; error?: string } = { ok: true, evidence: { done: true } };
  graphGate: Promise<void> | null = null;
  /** Jobs that have ended, as the hub keeps them. */
  ended = new Map<string, SettledJob>();
  /** A runner so quick that it may answer before enqueue returns (another process leases the job at once). */
  answerAtOnce: ((job: { jobId: string; action: string }) => Promise<void>) | null = null;
  ports: EnginePorts = {
    runner: {
      enqueue: async (r) => {
        const jobId = `job-${this.jobs.length + 1}`;
        this.jobs.push({ jobId, migrationId: r.migrationId, stepSeq: r.stepSeq, attempt: r.attempt, action: r.action });
        await this.answerAtOnce?.({ jobId, action: r.action });
        return { jobId };
      },
      settledJob: async (jobId) => this.ended.get(jobId) ?? null,
      read: async () => ({ SyncCycleInProgress: false, includedContainers: ['DC=contoso,DC=com'] }),
      describe: (action, params) => ({ action, params, mutation: action !== 'get-scheduler' }),
      runners: async () => [{ id: 'runner-1', name: 'connect01' }],
    },
    graph: {
      describe: async () => this.graphPlan,
      run: async () => {
        if (this.graphGate) await this.graphGate;
        return this.graphResult;
      },
    },
  };
}

function suite(name: string, open: () => Promise<Db>, skip = false) {
  describe.skipIf(skip)(`runbook engine on ${name}`, () => {
    let db: Db;
    let clock: ManualClock;
    let fake: FakePorts;
    let engine: RunbookEngine;
    let events: EngineEvent[];
    let m: string;

    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      await db?.close();
    });

    beforeEach(async () => {
      clock = new ManualClock('2026-11-21T09:00:00Z');
      fake = new FakePorts();
      engine = new RunbookEngine({ db, clock, log: createLogger({ level: 'silent' }), ports: fake.ports });
      events = [];
      engine.on((e) => events.push(e));
      const mig = await engine.createMigration({
        name: `T ${Math.random()}`,
        kind: 'test-runbook',
        domain: 'contoso.com',
        tenantId: 't',
        ous: ['OU=P,DC=contoso,DC=com'],
        policy: defaultPolicy([REQ.oid, OWN1.oid, OWN2.oid], 1),
        requester: REQ,
        conversationId: `c-${Math.random()}`,
      });
      m = mig.id;
    });
    afterEach(async () => {
      await engine?.idle();
    });

    const v = async (seq: number) => (await engine.getStep(m, seq))!.version;
    const a = async (seq: number) => (await engine.getStep(m, seq))!.attempt;
    const act = async (verb: any, seq: number, actor: any, extra: any = {}) => {
      const r = await engine.act({ verb, migrationId: m, seq, version: await v(seq), attempt: await a(seq), actor, ...extra });
      if (!extra.noWait) await engine.idle(); // let the launched action queue its job
      return r;
    };
    /** Sweeps count across every migration in the shared store: look at this test's own events. */
    const mine = () => events.filter((e: any) => e.migrationId === m);
    const settle = async (i: number, state: 'succeeded' | 'failed' | 'lost', result: unknown = {}) => {
      const j = fake.jobs[i];
      const job: SettledJob = {
        id: j.jobId,
        migrationId: j.migrationId,
        stepSeq: j.stepSeq,
        attempt: j.attempt,
        state,
        result,
        error: state === 'failed' ? { code: 'X', message: 'boom' } : null,
        transcript: 't',
      };
      fake.ended.set(job.id, job);
      await engine.onRunnerJobSettled(job);
      await engine.idle();
    };
    async function through(seq: number) {
      for (let s = 1; s <= seq; s++) {
        await act('request', s, REQ);
        const def = TEST_RUNBOOK.steps[s - 1];
        if (def.approval !== 'none') await act('approve', s, OWN1, { confirmText: (await engine.getMigration(m))!.name });
        if (def.approval === 'sensitive') await act('approve', s, OWN2, { confirmText: (await engine.getMigration(m))!.name });
        await engine.idle();
        while ((await engine.getStep(m, s))!.state === 'running') await settle(fake.jobs.length - 1, 'succeeded');
      }
    }

    it('runs a manual step without approval and records who confirmed it', async () => {
      await act('request', 1, REQ);
      await engine.idle();
      const s = (await engine.getStep(m, 1))!;
      expect(s.state).toBe('succeeded');
      expect(s.evidence).toMatchObject({ confirmedBy: 'Alex' });
    });

    it('refuses a step while an earlier one is not done', async () => {
      const r = await act('request', 2, REQ);
      expect(r).toMatchObject({ changed: false, notice: expect.stringContaining('must be done first') });
    });

    it('a plan that cannot be prepared (a source that does not answer) is said plainly, and nothing is asked', async () => {
      await through(3);
      const before = (await engine.getStep(m, 4))!;
      fake.ports.graph.describe = async () => {
        throw new Error('no runner answered "ad-export-identities" within 10 s');
      };
      const r = await act('request', 4, REQ);
      expect(r).toMatchObject({
        changed: false,
        notice: expect.stringMatching(/plan for this step could not be prepared: no runner answered .*Nothing was changed/),
      });
      const after = (await engine.getStep(m, 4))!;
      expect([after.state, after.version, after.attempt]).toEqual([before.state, before.version, before.attempt]);
    });

    it('runs a runner read: pending → running → succeeded with its result; failed → retry', async () => {
      await through(1);
      await act('request', 2, REQ);
      expect((await engine.getStep(m, 2))!.state).toBe('running');
      await settle(0, 'failed');
      expect((await engine.getStep(m, 2))!).toMatchObject({ state: 'failed', error: { code: 'X' } });
      await act('retry', 2, REQ);
      await settle(1, 'succeeded', { SyncCycleEnabled: true });
      expect((await engine.getStep(m, 2))!).toMatchObject({ state: 'succeeded', attempt: 2, evidence: { results: [{ SyncCycleEnabled: true }] } });
    });

    it('runs a change only after approval, through its whole sequence of runner actions', async () => {
      await through(2);
      await act('request', 3, REQ);
      expect((await engine.getStep(m, 3))!.state).toBe('awaiting_approval');
      expect(fake.jobs.filter((j) => j.stepSeq === 3)).toHaveLength(0);
      await act('approve', 3, OWN1);
      await engine.idle();
      expect((await engine.getStep(m, 3))!.state).toBe('running');
      await settle(fake.jobs.length - 1, 'succeeded', { changed: true });
      expect((await engine.getStep(m, 3))!.state).toBe('running'); // second action of the sequence queued
      expect(fake.jobs.at(-1)!.action).toBe('get-scheduler');
      await settle(fake.jobs.length - 1, 'succeeded', { SyncCycleEnabled: false });
      expect((await engine.getStep(m, 3))!).toMatchObject({ state: 'succeeded', evidence: { results: [{ changed: true }, { SyncCycleEnabled: false }] } });
    });

    it('a runner that answers before the step has recorded its job: the step still takes every result, once', async () => {
      // With two processes, the one a runner polls may lease, run and settle a job before the enqueuing process has
      // pointed the step at it; the hub's report then finds the step pointing elsewhere and must not be the only chance.
      await through(2);
      fake.answerAtOnce = async ({ jobId, action }) => {
        const j = fake.jobs.find((x) => x.jobId === jobId)!;
        const job: SettledJob = { id: jobId, migrationId: j.migrationId, stepSeq: j.stepSeq, attempt: j.attempt, state: 'succeeded', transcript: 't' };
        job.result = action === 'set-scheduler' ? { changed: true } : { SyncCycleEnabled: false };
        fake.ended.set(jobId, job);
        await engine.onRunnerJobSettled(job);
      };
      await act('request', 3, REQ);
      await act('approve', 3, OWN1);
      await engine.idle();
      expect((await engine.getStep(m, 3))!).toMatchObject({
        state: 'succeeded',
        evidence: { results: [{ changed: true }, { SyncCycleEnabled: false }] },
      });
      expect(fake.jobs.filter((j) => j.stepSeq === 3).map((j) => j.action)).toEqual(['set-scheduler', 'get-scheduler']);
    });

    it('a result that could not be taken when its job was queued is taken by the housekeeping sweep', async () => {
      await through(1);
      const settledJob = fake.ports.runner.settledJob;
      fake.ports.runner.settledJob = async () => {
        throw new Error('store unavailable');
      };
      fake.answerAtOnce = async ({ jobId }) => {
        const j = fake.jobs.find((x) => x.jobId === jobId)!;
        const job: SettledJob = {
          id: jobId,
          migrationId: j.migrationId,
          stepSeq: j.stepSeq,
          attempt: j.attempt,
          state: 'succeeded',
          result: { SyncCycleEnabled: true },
        };
        fake.ended.set(jobId, job);
        await engine.onRunnerJobSettled(job);
      };
      await act('request', 2, REQ);
      expect((await engine.getStep(m, 2))!.state).toBe('running');
      fake.ports.runner.settledJob = settledJob;
      await engine.settleOrphanedSteps();
      expect((await engine.getStep(m, 2))!).toMatchObject({ state: 'succeeded', evidence: { results: [{ SyncCycleEnabled: true }] } });
    });

    it('rejects on a Reject, and a new request starts a new attempt with no old approvals', async () => {
      await through(2);
      await act('request', 3, REQ);
      await act('reject', 3, OWN2, { comment: 'not in business hours' });
      expect((await engine.getStep(m, 3))!.state).toBe('rejected');
      await act('request', 3, REQ);
      const s = (await engine.getStep(m, 3))!;
      expect(s).toMatchObject({ state: 'awaiting_approval', attempt: 2 });
      expect(await engine.getApprovals(m, 3, 2)).toEqual([]);
    });

    it('refuses outsiders and self-approval with a reason and changes nothing', async () => {
      await through(2);
      await act('request', 3, REQ);
      const before = await v(3);
      expect(await act('approve', 3, OUTSIDER)).toMatchObject({ changed: false, notice: expect.stringContaining('change owners') });
      expect(await act('approve', 3, REQ)).toMatchObject({ changed: false, notice: expect.stringContaining('four-eyes') });
      expect(await v(3)).toBe(before);
    });

    it('answers a replayed or stale click with no second transition', async () => {
      await through(1);
      const v0 = await v(2);
      await engine.act({ verb: 'request', migrationId: m, seq: 2, version: v0, actor: REQ });
      const again = await engine.act({ verb: 'request', migrationId: m, seq: 2, version: v0, actor: REQ });
      expect(again).toMatchObject({ changed: false, notice: expect.stringContaining('out of date') });
      await engine.idle(); // the first click's action has queued its job (whatever the second click took)
      expect(fake.jobs.filter((j) => j.stepSeq === 2)).toHaveLength(1);
    });

    it('makes exactly one transition when two owners approve at once', async () => {
      await through(2);
      await act('request', 3, REQ);
      const [vv, aa] = [await v(3), await a(3)];
      const results = await Promise.all(
        [OWN1, OWN2, OWN1, OWN2].map((o) => engine.act({ verb: 'approve', migrationId: m, seq: 3, version: vv, attempt: aa, actor: o })),
      );
      await engine.idle();
      expect(results.filter((r) => r.changed)).toHaveLength(1);
      expect(fake.jobs.filter((j) => j.stepSeq === 3)).toHaveLength(1);
      const audit = await engine.auditTrail(m);
      expect(audit.filter((x) => x.action === 'approved' && x.stepSeq === 3)).toHaveLength(1);
    });

    it('an approval hands back the step as it left it (what a fresh read gives), in one transaction of five statements', async () => {
      m = (
        await engine.createMigration({
          name: `Q ${Math.random()}`,
          kind: 'test-runbook',
          domain: 'contoso.com',
          tenantId: 't',
          ous: ['OU=P,DC=contoso,DC=com'],
          policy: defaultPolicy([REQ.oid, OWN1.oid, OWN2.oid], 2),
          requester: REQ,
          conversationId: `c-${Math.random()}`,
        })
      ).id;
      await through(2);
      await act('request', 3, REQ);
      const before = (await engine.stepSnapshot(m, 3))!;
      expect(before).toMatchObject({ step: { state: 'awaiting_approval', attempt: 1 }, approvals: [] });
      const { statements, transactions } = { ...db.counters };
      const r = await engine.act(
        { verb: 'approve', migrationId: m, seq: 3, version: before.step.version, attempt: before.step.attempt, actor: OWN1 },
        { before },
      );
      // The lock (PostgreSQL: PGlite runs a transaction alone); the step, its decisions and the audit head; the decision;
      // its audit row; the step's new version.
      expect([db.counters.transactions - transactions, db.counters.statements - statements]).toEqual([1, db.kind === 'pglite' ? 4 : 5]);
      expect(r).toMatchObject({
        changed: true,
        snapshot: {
          step: { state: 'awaiting_approval', version: before.step.version + 1 },
          approvals: [{ approverOid: OWN1.oid.toLowerCase(), decision: 'approve' }],
        },
      });
      expect(r.snapshot).toEqual(await engine.stepSnapshot(m, 3));
      // The channel's card is rendered from the same snapshot: the event carries it, and the state it found.
      const changed = mine()
        .filter((e) => e.type === 'step-changed' && e.seq === 3)
        .at(-1) as Extract<EngineEvent, { type: 'step-changed' }>;
      expect(changed.snapshot).toBe(r.snapshot);
      expect(changed.previousState).toBe('awaiting_approval');
    });

    it('a lost runner job asks a human: retry re-asks approval, mark done is for owners only', async () => {
      await through(2);
      await act('request', 3, REQ);
      await act('approve', 3, OWN1);
      await engine.idle();
      await settle(fake.jobs.length - 1, 'lost');
      expect((await engine.getStep(m, 3))!.state).toBe('lost');
      expect(await act('mark-done', 3, OUTSIDER)).toMatchObject({ changed: false });
      await act('mark-done', 3, OWN2);
      expect((await engine.getStep(m, 3))!).toMatchObject({ state: 'succeeded', evidence: { markedDoneBy: 'Lee' } });
    });

    it('voids an approval when what will run changed in between, and asks again', async () => {
      await through(3);
      await act('request', 4, REQ);
      fake.graphPlan = [{ method: 'POST', path: '/beta/y' }]; // the tenant changed after the request was shown
      await act('approve', 4, OWN1);
      await engine.idle();
      const s = (await engine.getStep(m, 4))!;
      expect(s).toMatchObject({ state: 'awaiting_approval', attempt: 2 });
      expect((await engine.auditTrail(m)).some((x) => x.action === 'approval-voided')).toBe(true);
    });

    it('sensitive steps need the typed name and two owners', async () => {
      await through(4);
      await act('request', 5, REQ);
      expect(await act('approve', 5, OWN1, { confirmText: 'wrong' })).toMatchObject({ changed: false, notice: expect.stringContaining('Type the migration') });
      const name = (await engine.getMigration(m))!.name;
      await act('approve', 5, OWN1, { confirmText: name });
      expect((await engine.getStep(m, 5))!.state).toBe('awaiting_approval');
      await act('approve', 5, OWN2, { confirmText: name });
      await engine.idle();
      expect((await engine.getStep(m, 5))!.state).toBe('running');
    });

    it('expires, reminds and escalates pending requests under the clock', async () => {
      await through(2);
      await act('request', 3, REQ);
      const reminders = () =>
        mine()
          .filter((e) => e.type === 'approval-reminder')
          .map((e: any) => e.escalate);
      await engine.sweepApprovals();
      expect(reminders()).toEqual([]);
      clock.advance(2 * HOUR);
      await engine.sweepApprovals();
      expect(reminders()).toEqual([false]);
      await engine.sweepApprovals();
      expect(reminders()).toEqual([false]); // once
      clock.advance(8 * HOUR);
      await engine.sweepApprovals();
      expect(reminders()).toEqual([false, true]);
      expect((await engine.getStep(m, 3))!.state).toBe('awaiting_approval');
      clock.advance(14 * HOUR);
      await engine.sweepApprovals();
      expect((await engine.getStep(m, 3))!).toMatchObject({ state: 'pending', error: { code: 'ApprovalExpired' } });
      expect(await act('approve', 3, OWN1)).toMatchObject({ changed: false });
    });

    it('holds an approved production step until its change window opens, and refuses it when none opens before expiry', async () => {
      const { parseWindow } = await import('../../src/runbooks/windows.js');
      const policy = { ...defaultPolicy([REQ.oid, OWN1.oid, OWN2.oid], 1), changeWindows: [parseWindow('Mon-Fri 22:00-06:00 UTC')] };
      clock.set('2026-11-23T10:00:00Z'); // Monday 10:00 UTC, outside the window
      const w = await engine.createMigration({
        name: `W ${Math.random()}`,
        kind: 'test-runbook',
        domain: 'contoso.com',
        tenantId: 't',
        ous: ['OU=P,DC=contoso,DC=com'],
        policy,
        requester: REQ,
        conversationId: `c-${Math.random()}`,
      });
      m = w.id;
      await through(2);
      await act('request', 3, REQ);
      await act('approve', 3, OWN1);
      const waiting = (await engine.getStep(m, 3))!;
      expect(waiting).toMatchObject({ state: 'approved', runAfter: new Date('2026-11-23T22:00:00Z') });
      expect(fake.jobs.filter((j) => j.stepSeq === 3)).toHaveLength(0);
      clock.set('2026-11-23T21:59:00Z');
      await engine.sweepApprovals();
      expect((await engine.getStep(m, 3))!.state).toBe('approved');
      clock.set('2026-11-23T22:00:00Z');
      await engine.sweepApprovals();
      await engine.idle();
      expect((await engine.getStep(m, 3))!.state).toBe('running');
      // Friday noon: the next window is Friday 22:00, but a Saturday-only window would open after the 24 h expiry.
      const weekend = { ...policy, changeWindows: [parseWindow('Sun 01:00-02:00 UTC')] };
      clock.set('2026-11-27T12:00:00Z');
      const w2 = await engine.createMigration({
        name: `W2 ${Math.random()}`,
        kind: 'test-runbook',
        domain: 'contoso.com',
        tenantId: 't',
        ous: ['OU=P,DC=contoso,DC=com'],
        policy: weekend,
        requester: REQ,
        conversationId: `c-${Math.random()}`,
      });
      m = w2.id;
      await through(2);
      await act('request', 3, REQ);
      await act('approve', 3, OWN1);
      expect((await engine.getStep(m, 3))!).toMatchObject({ state: 'rejected', error: { code: 'OutsideChangeWindow' } });
    });

    it('lists what waits for an owner, oldest first, never their own requests', async () => {
      await through(2);
      await act('request', 3, REQ);
      const forMe = async (oid: string) => (await engine.pendingFor(oid)).filter((p) => p.migration.id === m).map((p) => p.step.seq);
      expect(await forMe(OWN1.oid)).toEqual([3]);
      expect(await forMe(REQ.oid)).toEqual([]);
      expect(await forMe(OUTSIDER.oid)).toEqual([]);
      const all = await engine.pendingFor(OWN1.oid);
      expect(all.map((p) => p.step.requestedAt!.getTime())).toEqual([...all.map((p) => p.step.requestedAt!.getTime())].sort((x, y) => x - y));
    });

    it('after a restart, a Graph change that was running is lost, never re-run', async () => {
      await through(3);
      let release!: () => void;
      fake.graphGate = new Promise((r) => (release = r));
      await act('request', 4, REQ);
      const running = new Promise<void>((r) =>
        engine.on((e) => e.type === 'step-changed' && e.seq === 4 && engine.getStep(m, 4).then((s) => s!.state === 'running' && r())),
      );
      await act('approve', 4, OWN1, { noWait: true });
      await running;
      // the process dies here, mid-action; a new engine on the same store recovers
      const engine2 = new RunbookEngine({ db, clock, log: createLogger({ level: 'silent' }), ports: fake.ports });
      await engine2.recover();
      expect((await engine2.getStep(m, 4))!).toMatchObject({ state: 'lost', error: { code: 'InterruptedByRestart' } });
      release();
      await engine.idle();
      expect((await engine.getStep(m, 4))!.state).toBe('lost'); // the old run's late result changes nothing
    });

    it('keeps the audit chain intact and detects a tampered row', async () => {
      await through(2);
      expect(await engine.verifyAudit(m)).toMatchObject({ ok: true });
      const row = (await db.query('SELECT id FROM audit WHERE migration_id = $1 ORDER BY id LIMIT 1 OFFSET 2', [m])).rows[0];
      await db.query(`UPDATE audit SET details = jsonb_set(details, '{key}', '"forged"') WHERE id = $1`, [row.id]);
      expect(await engine.verifyAudit(m)).toMatchObject({ ok: false, brokenAt: Number(row.id) });
    });
  });
}

suite('PGlite', () => openPglite(null));
const PG = process.env.TEST_DATABASE_URL;
suite('PostgreSQL', () => openPostgres(PG!), !PG);

describe('audit:verify CLI', () => {
  it('reports intact chains, the first broken link of a tampered one, and exports CSV/JSON', async () => {
    const { auditCli } = await import('../../src/runbooks/audit-cli.js');
    const db = await openPglite(null);
    const clock = new ManualClock('2026-11-21T09:00:00Z');
    const engine = new RunbookEngine({ db, clock, log: createLogger({ level: 'silent' }), ports: new FakePorts().ports });
    const mk = (name: string) =>
      engine.createMigration({
        name,
        kind: 'test-runbook',
        domain: 'contoso.com',
        tenantId: 't',
        ous: ['OU=P,DC=contoso,DC=com'],
        policy: defaultPolicy([REQ.oid, OWN1.oid], 1),
        requester: { ...REQ, name: '=cmd|calc' },
        conversationId: 'c',
      });
    const a = await mk('Alpha');
    const b = await mk('Beta');
    await engine.act({ verb: 'request', migrationId: a.id, seq: 1, version: 0, actor: REQ });
    await engine.idle();
    const lines: string[] = [];
    expect(await auditCli([], db, (s) => lines.push(s))).toBe(0);
    expect(lines.join('\n')).toMatch(new RegExp(`${a.id}: chain intact \\(\\d+ entries\\)`));
    const victim = (await db.query('SELECT id FROM audit WHERE migration_id = $1 ORDER BY id DESC LIMIT 1', [a.id])).rows[0].id;
    await db.query(`UPDATE audit SET actor_name = 'Mallory' WHERE id = $1`, [victim]);
    const out2: string[] = [];
    expect(await auditCli(['Alpha', 'Beta'], db, (s) => out2.push(s))).toBe(1);
    expect(out2.find((l) => l.startsWith(a.id))).toContain(`BROKEN at audit row ${victim}`);
    expect(out2.find((l) => l.startsWith(b.id))).toContain('chain intact');
    const csv: string[] = [];
    await auditCli(['Beta', '--export', 'csv'], db, (s) => csv.push(s));
    const text = csv.join('\n');
    expect(text).toContain('migration_id,id,at,actor_oid,actor_name,action,step_seq,hash,details');
    expect(text).toContain("'=cmd|calc"); // a spreadsheet formula is neutralised
    const json: string[] = [];
    await auditCli(['Beta', '--export', 'json'], db, (s) => json.push(s));
    expect(JSON.parse(json.slice(1).join('\n'))[0]).toMatchObject({ migrationId: b.id, action: 'migration-created' });
    await db.close();
  });
});
