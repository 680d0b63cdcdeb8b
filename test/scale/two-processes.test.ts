import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { RecordingConnector } from '../helpers/connector.js';
import { SandboxTenant, SANDBOX_TENANT_ID } from '../../src/sandbox/tenant.js';
import { systemClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { startAgent } from '../../src/agent/client.js';
import { SandboxExecutor } from '../../src/sandbox/onprem/executor.js';
import { MONITOR_LOCK_KEY } from '../../src/monitor/leader.js';
import { activity, cardText, post, scratchDatabase, startCutover, stopCutover, USERS, type Proc } from './processes.js';
import type { TestUser } from '../helpers/harness.js';

/**
 * Scale-out: two cutover processes (child processes, `node --import tsx src/index.ts`) against one PostgreSQL
 * database serve the same channel. The simulated tenant (Graph simulator + forest) and its runner agent live in
 * the test process; both cutover processes join it with SANDBOX_JOIN=1, so either can be killed.
 */
const BASE = process.env.TEST_DATABASE_URL;
if (!BASE) console.log('test/scale/two-processes: skipped, TEST_DATABASE_URL is not set (see .ci/run)');

const PILOT_OU = 'OU=CloudSyncPilot,DC=contoso,DC=com';

describe.skipIf(!BASE)('two cutover processes against one PostgreSQL', () => {
  let db: { url: string; drop: () => Promise<void> };
  let q: pg.Client;
  let connector: RecordingConnector;
  let tenant: SandboxTenant;
  const procs: Proc[] = [];
  let a: Proc;
  let b: Proc;
  let migrationId = '';
  const agentAbort = new AbortController();
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await scratchDatabase(BASE!, 'cutover_scale');
    connector = await new RecordingConnector().start();
    connector.members = Object.values(USERS);
    tenant = await SandboxTenant.start({ clock: systemClock, log: createLogger({ level: 'silent' }) });
    env = {
      DATABASE_URL: db.url,
      SANDBOX_JOIN: '1',
      SANDBOX_GRAPH_URL: tenant.graphBaseUrl,
      // A monitor cycle every 2 s, so a takeover "within one cycle" is quick to see.
      MONITOR_CRON: '*/2 * * * * *',
      MONITOR_HEALTH_CRON: '*/2 * * * * *',
      MONITOR_APPROVALS_CRON: '*/2 * * * * *',
      // A running Graph change is owned by its process for 20 s without a renewal: the survivor leaves a live
      // owner's change alone and settles a dead owner's within a sweep of the lease passing.
      STEP_LEASE_SECONDS: '20',
      // Alex and Megan administer cutover: one asks for the runner, the other approves it.
      CUTOVER_ADMINS: `${USERS.alex.aadObjectId},${USERS.megan.aadObjectId}`,
    };
    // One after the other: the first applies the schema migrations.
    a = await startCutover('A', env);
    procs.push(a);
    b = await startCutover('B', env);
    procs.push(b);
    q = new pg.Client({ connectionString: db.url });
    await q.connect();
  });

  afterAll(async () => {
    agentAbort.abort();
    for (const p of procs) await stopCutover(p);
    await q?.end().catch(() => {});
    await tenant?.stop();
    await connector?.stop();
    await db?.drop();
  });

  const say = (p: Proc, user: TestUser, text: string) => post(p, activity(connector.url, user, SANDBOX_TENANT_ID, { type: 'message', text }));
  async function step(seq: number): Promise<{ state: string; version: number; attempt: number; key: string; error?: unknown }> {
    return (await q.query('SELECT state, version, attempt, key, error FROM steps WHERE migration_id = $1 AND seq = $2', [migrationId, seq])).rows[0];
  }
  async function click(p: Proc, user: TestUser, verb: string, seq: number, extra: Record<string, unknown> = {}) {
    const s = await step(seq);
    const r = await post(
      p,
      activity(connector.url, user, SANDBOX_TENANT_ID, {
        type: 'invoke',
        name: 'adaptiveCard/action',
        value: { action: { type: 'Action.Execute', verb, data: { m: migrationId, s: seq, v: s.version, a: s.attempt, ...extra } }, trigger: 'manual' },
      }),
    );
    expect(r.status).toBe(200);
    return cardText(r.body?.value);
  }
  async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  /** On a timeout, says where the step was and what its runner jobs were doing (a CI failure must be readable). */
  const waitStep = (seq: number, states: string[], timeoutMs = 60_000) =>
    waitFor(`step ${seq} in ${states.join('|')}`, async () => ((s) => (states.includes(s.state) ? s : null))(await step(seq)), timeoutMs).catch(async (e) => {
      const s = await step(seq);
      const jobs = (
        await q.query(
          'SELECT id, action, state, attempt, lease_count, leased_by, created_at, updated_at FROM runner_jobs WHERE migration_id = $1 AND step_seq = $2',
          [migrationId, seq],
        )
      ).rows;
      throw new Error(`${e.message}: it is ${s.state} (attempt ${s.attempt}, error ${JSON.stringify(s.error)}); its runner jobs: ${JSON.stringify(jobs)}`);
    });
  const seqOf = async (key: string) =>
    Number((await q.query('SELECT seq FROM steps WHERE migration_id = $1 AND key = $2 ORDER BY seq LIMIT 1', [migrationId, key])).rows[0].seq);
  const ready = async (p: Proc) => (await fetch(`${p.url}/readyz`)).json() as Promise<any>;
  async function leaseHolders(): Promise<number[]> {
    const key = BigInt(MONITOR_LOCK_KEY);
    const rows = (
      await q.query(
        "SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND l.classid = $1 AND l.objid = $2",
        [Number(key >> 32n), Number(key & 0xffffffffn)],
      )
    ).rows;
    return rows.map((r: any) => r.pid);
  }
  async function leader(): Promise<Proc> {
    return waitFor(
      'exactly one monitor leader',
      async () => {
        const alive = procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
        const flags = await Promise.all(alive.map(async (p) => (await ready(p).catch(() => ({}))).monitor?.leader === true));
        const leaders = alive.filter((_, i) => flags[i]);
        return leaders.length === 1 && (await leaseHolders()).length === 1 ? leaders[0] : null;
      },
      15_000,
    );
  }

  it('runs exactly one monitor: one process holds the advisory lock, the other follows', async () => {
    const l = await leader();
    expect(await leaseHolders()).toHaveLength(1);
    const other = l === a ? b : a;
    expect((await ready(other)).monitor).toEqual({ lease: 'pg-advisory-lock', leader: false });
    expect(l.output()).toContain('monitor lease taken by this instance');
    expect(other.output()).not.toContain('monitor lease taken by this instance');
  });

  it('either process takes a message or a card invoke; each click is exactly one transition', async () => {
    // A runner for the tenant first (a migration needs one): asked for through B by Alex, approved through A by Megan
    // (an administrator approves another's request), and the token comes back to Alex in the answer to his own click
    // through B, never in the channel. The agent dials the monitor follower (the leader is killed later).
    const before = connector.sent.length;
    await say(b, USERS.alex, 'runner add connect01');
    const request = await connector.waitFor(() => connector.sent.slice(before).find((s) => cardText(s.activity).includes('Runner registration')));
    const approve = JSON.stringify(request.activity).match(/"verb":"runner\.approve","style":"positive","data":(\{[^}]*\})/);
    const data = JSON.parse(approve![1]);
    const invoke = (p: Proc, user: TestUser, verb: string, d: Record<string, unknown>) =>
      post(
        p,
        activity(connector.url, user, SANDBOX_TENANT_ID, {
          type: 'invoke',
          name: 'adaptiveCard/action',
          value: { action: { type: 'Action.Execute', verb, data: d }, trigger: 'manual' },
        }),
      );
    expect(cardText((await invoke(a, USERS.megan, 'runner.approve', data)).body?.value)).toContain('Approved');
    const shown = await invoke(b, USERS.alex, 'runner.token', { r: data.r });
    const token = /cutover_[0-9a-f-]{36}_[A-Za-z0-9_-]{43}/.exec(cardText(shown.body?.value))![0];
    expect(connector.sent.map((s) => JSON.stringify(s.activity)).join('\n')).not.toContain(token);
    const l = await leader();
    const follower = l === a ? b : a;
    startAgent({
      serverUrl: follower.url,
      token,
      executor: new SandboxExecutor({ server: tenant.forest.server, clock: systemClock }),
      log: createLogger({ level: 'silent' }),
      signal: agentAbort.signal,
    });

    // The migration, through A: checked first (its domain in Graph, the forest and the OU through the runner).
    const created = connector.sent.length;
    expect(
      (await say(a, USERS.alex, `new migration "Scale pilot" domain=contoso.com ou="${PILOT_OU}" owners=${USERS.alex.aadObjectId},${USERS.megan.aadObjectId}`))
        .status,
    ).toBe(200);
    // the answer, at once or (checks outlasting the answer's time) replacing its "Creating…"
    await connector.waitFor(
      () => connector.sent.slice(created).some((s) => /Migration "Scale pilot" created|Migration not created/.test(cardText(s.activity))) || undefined,
      60_000,
      'the answer to new migration',
    );
    const row = (await q.query("SELECT id FROM migrations WHERE name = 'Scale pilot'")).rows[0];
    expect(
      row,
      connector.sent
        .slice(created)
        .map((s) => cardText(s.activity))
        .join(' | '),
    ).toBeDefined();
    migrationId = row.id;

    // Through every step before the first production Graph change: requests through one process, approvals through the other.
    const target = await seqOf('configure-cloud-sync');
    for (let seq = 1; seq < target; seq++) {
      const [requestVia, approveVia] = seq % 2 ? [a, b] : [b, a];
      await click(requestVia, USERS.alex, 'step.request', seq);
      const s = await waitStep(seq, ['awaiting_approval', 'running', 'succeeded', 'failed']);
      if (s.state === 'awaiting_approval') {
        // The same approval clicked at once in both processes (a double click, two instances): one transition.
        const data = await step(seq);
        await Promise.all(
          [approveVia, requestVia].map((p) =>
            post(
              p,
              activity(connector.url, USERS.megan, SANDBOX_TENANT_ID, {
                type: 'invoke',
                name: 'adaptiveCard/action',
                value: {
                  action: { type: 'Action.Execute', verb: 'step.approve', data: { m: migrationId, s: seq, v: data.version, a: data.attempt } },
                  trigger: 'manual',
                },
              }),
            ),
          ),
        );
      }
      expect((await waitStep(seq, ['succeeded', 'failed', 'lost'])).state, `step ${seq}`).toBe('succeeded');
    }
    const audit = (
      await q.query(
        "SELECT step_seq, action, count(*)::int AS n FROM audit WHERE migration_id = $1 AND action IN ('step-run', 'approval-requested', 'approved') GROUP BY step_seq, action",
        [migrationId],
      )
    ).rows;
    for (const r of audit) expect(r.n, `${r.action} of step ${r.step_seq}`).toBe(1);
    const approved = audit.filter((r: any) => r.action === 'approved').map((r: any) => r.step_seq);
    expect(approved.length).toBeGreaterThanOrEqual(2);
    expect((await q.query('SELECT count(*)::int AS n FROM approvals WHERE migration_id = $1', [migrationId])).rows[0].n).toBe(approved.length);
  });

  it('leases every runner job exactly once, with no duplicate step jobs', async () => {
    const jobs = (await q.query('SELECT id, migration_id, step_seq, attempt, lease_count, state FROM runner_jobs')).rows;
    expect(jobs.length).toBeGreaterThan(3);
    // Reads that timed out before the runner connected may still be queued (never leased); nothing is leased twice.
    for (const j of jobs) expect(j.lease_count, `job ${j.id} (${j.migration_id} step ${j.step_seq}, ${j.state})`).toBe(j.state === 'queued' ? 0 : 1);
    const keys = jobs.filter((j: any) => !j.migration_id.startsWith('read:')).map((j: any) => `${j.step_seq}/${j.attempt}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('SIGKILL of the leader mid Graph change: the other keeps serving, takes the monitor over within a cycle, and nothing is lost', async () => {
    const victim = await leader();
    const survivor = victim === a ? b : a;
    const seq = await seqOf('configure-cloud-sync');
    // The Graph change runs in the victim (it takes the approval) and is slow: the simulator answers after 3 s.
    const requested = await click(survivor, USERS.alex, 'step.request', seq);
    await waitStep(seq, ['awaiting_approval']).catch((e) => {
      throw new Error(`${e.message}; the card said: ${requested}`);
    });
    const alertsBefore = (await q.query('SELECT check_key, scope, activity_id FROM alerts WHERE migration_id = $1', [migrationId])).rows;
    tenant.graph.setLatency(3_000);
    const approving = click(victim, USERS.megan, 'step.approve', seq).catch(() => 'killed');
    await waitStep(seq, ['running']);
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await victim.exited).signal).toBe('SIGKILL');
    await approving;
    tenant.graph.setLatency(0);

    // The survivor serves the channel at once…
    const before = connector.sent.length;
    expect((await say(survivor, USERS.alex, 'status')).status).toBe(200);
    await connector.waitFor(() => connector.sent.slice(before).find((s) => cardText(s.activity).includes('Scale pilot')));
    // …and runs the monitor within a cycle (2 s; PostgreSQL frees the dead session's lock when its socket closes).
    expect(await leader()).toBe(survivor);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(await leaseHolders()).toHaveLength(1);

    // Nothing is lost: approvals stay; the interrupted Graph change stays running while its owner's lease (20 s) is
    // current (the survivor's recover/sweeps leave it), then is 'lost' once the lease has passed, never re-run.
    expect((await q.query('SELECT count(*)::int AS n FROM approvals WHERE migration_id = $1 AND seq = $2', [migrationId, seq])).rows[0].n).toBe(1);
    expect((await step(seq)).state).toBe('running');
    const restarted = await startCutover('A2', env);
    procs.push(restarted);
    const lost = await waitStep(seq, ['lost', 'succeeded', 'failed']);
    expect(lost.state).toBe('lost');
    expect(
      (await q.query("SELECT count(*)::int AS n FROM audit WHERE migration_id = $1 AND step_seq = $2 AND action = 'step-lost'", [migrationId, seq])).rows[0].n,
    ).toBe(1);
    // The restarted process follows; the survivor stays the leader.
    expect(await leader()).toBe(survivor);

    // No duplicate alert: a few cycles of the new leader later, each (check, scope) is one alert with one card.
    await new Promise((r) => setTimeout(r, 5_000));
    const alerts = (await q.query('SELECT check_key, scope, count(*)::int AS n FROM alerts WHERE migration_id = $1 GROUP BY check_key, scope', [migrationId]))
      .rows;
    for (const r of alerts) expect(r.n, `${r.check_key}/${r.scope}`).toBe(1);
    for (const old of alertsBefore) {
      const now = (
        await q.query('SELECT activity_id FROM alerts WHERE migration_id = $1 AND check_key = $2 AND scope = $3', [migrationId, old.check_key, old.scope])
      ).rows;
      expect(now).toHaveLength(1);
      if (old.activity_id) expect(now[0].activity_id).toBe(old.activity_id);
    }
    const cardIds = (await q.query('SELECT activity_id FROM alerts WHERE activity_id IS NOT NULL')).rows.map((r: any) => r.activity_id);
    expect(new Set(cardIds).size).toBe(cardIds.length);
  });
});
