import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS, CHANNEL, cardText, type TestUser } from '../helpers/harness.js';
import { RecordingConnector } from '../helpers/connector.js';
import { openPglite, type Db } from '../../src/store/db.js';
import { RESULTS_DIR, actionsOf, record, sleep, transitionViolations, until } from './support.js';

/**
 * SIGKILL of a whole cutover process (`node --import tsx src/index.ts`, PGlite in CUTOVER_DATA_DIR) in the middle of
 * each kind of step, then a restart on the same directory:
 *   - approved, not yet started (a Graph re-check held by a 429 with Retry-After 60): started exactly once after the restart;
 *   - a Graph mutation running (Configure Cloud Sync, its first change held): lost after the restart, never re-run;
 *   - a runner mutation running (Stop the scheduler, held in the sandbox executor): its lease runs out, lost, never re-run;
 *   - an open alert: no second alert and no second card after restarts.
 * Between runs the test opens the PGlite directory itself: no approval lost, no transition twice.
 *
 * The child loads test/reliability/fixtures/child-hooks.ts for the holds (and a 3 s runner lease); the sandbox tenant
 * is simulated inside the process, so every restart starts a fresh tenant: the checks are on cutover's own records.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TENANT = '7f3b9c2e-1d4a-4e8b-9c6f-2a5d8e1b3c70';

interface Child {
  proc: ChildProcess;
  url: string;
  hooks: string;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

describe('SIGKILL of the whole process mid-step, restart on the same PGlite directory', () => {
  let dir = '';
  let connector: RecordingConnector;
  let child: Child | null = null;
  const expectedApprovals: { migration: string; seq: number; oid: string }[] = [];
  let seqC = 0;
  let starts = 0;
  const kills: string[] = [];

  async function start(): Promise<Child> {
    const proc = spawn(process.execPath, ['--import', 'tsx', '--import', './test/reliability/fixtures/child-hooks.ts', 'src/index.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        CUTOVER_DATA_DIR: dir,
        PLAYGROUND: '0',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        MONITOR: '0',
        SANDBOX_TICK_MS: '0',
        SANDBOX_EXECUTOR: 'sandbox',
        RELIABILITY_LEASE_MS: '3000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
    let dead = false;
    void exited.then(() => (dead = true));
    // each child's output is kept for diagnosis
    const n = ++starts;
    void exited.then(() => {
      mkdirSync(RESULTS_DIR, { recursive: true });
      writeFileSync(path.join(RESULTS_DIR, `crash-child-${n}.log`), out);
    });
    await until(() => dead || (/bot endpoint:\s+(\S+)\/api\/messages/.test(out) && /reliability hooks: (\S+)/.test(out)), 90_000, `cutover to start:\n${out}`);
    if (dead) throw new Error(`cutover exited while starting:\n${out}`);
    return { proc, url: /bot endpoint:\s+(\S+)\/api\/messages/.exec(out)![1], hooks: /reliability hooks: (\S+)/.exec(out)![1], out: () => out, exited };
  }

  async function kill9(why: string): Promise<void> {
    const c = child!;
    c.proc.kill('SIGKILL');
    const { signal } = await c.exited;
    expect(signal).toBe('SIGKILL');
    kills.push(why);
    child = null;
  }

  async function stopGracefully(): Promise<void> {
    const c = child!;
    c.proc.kill('SIGTERM');
    await c.exited;
    child = null;
  }

  /** The PGlite directory, opened by the test between runs (never while a child has it). */
  async function offline<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    expect(child).toBeNull();
    const db = await openPglite(dir);
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }

  async function post(body: unknown): Promise<{ status: number; body: any }> {
    const r = await fetch(`${child!.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  }

  function activity(from: TestUser, extra: Record<string, unknown>) {
    return {
      id: randomUUID(),
      channelId: 'msteams',
      serviceUrl: connector.url,
      timestamp: new Date().toISOString(),
      from: { id: from.id, name: from.name, aadObjectId: from.aadObjectId },
      recipient: { id: '28:cutover-bot', name: 'cutover' },
      conversation: { id: CHANNEL, conversationType: 'channel', tenantId: TENANT, isGroup: true },
      channelData: { tenant: { id: TENANT }, channel: { id: CHANNEL } },
      ...extra,
    };
  }

  async function click(from: TestUser, verb: string, data: Record<string, unknown>): Promise<any> {
    const r = await post(
      activity(from, { type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' } }),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.value;
  }

  async function hook(path: string, body?: unknown): Promise<any> {
    const r = await fetch(`${child!.hooks}${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
    return r.json();
  }

  /** The shared card of a migration's step, as the channel shows it now. */
  function stepCards(name: string): Map<number, { card: any; title: string }> {
    const out = new Map<number, { card: any; title: string }>();
    for (const { card } of connector.cards()) {
      const lines = cardText(card).split('\n');
      const m = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} · step (\\d+) of`).exec(lines[0] ?? '');
      if (m) out.set(Number(m[1]), { card, title: lines[1] ?? '' });
    }
    return out;
  }
  const icon = (card: any) => /^(○|⏳|✔|▶|✅|❌|⛔|⤼|❓) /m.exec(cardText(card))?.[1] ?? '?';
  /** A step's number by its title, as the migration's overview lists every step ("N. Title (batch B)"). */
  const seqByTitle = (name: string, title: RegExp) => {
    const overview =
      connector
        .cards()
        .map(({ card }) => cardText(card))
        .find((t) => t.includes('Audit checkpoint') && t.split('\n').includes(name)) ?? '';
    for (const line of overview.split('\n')) {
      const m = /^(\d+)\. (.+?)(?: \(batch \d+\))?$/.exec(line.trim());
      if (m && title.test(m[2])) return Number(m[1]);
    }
    return 0;
  };
  /** A step's card, once posted (when the step becomes current). */
  const cardOf = (name: string, seq: number) => until(() => stepCards(name).get(seq), 30_000, `${name} step ${seq}'s card`);

  async function waitIcon(name: string, seq: number, icons: string[], timeoutMs = 60_000): Promise<any> {
    return until(
      () => {
        const c = stepCards(name).get(seq);
        return c && icons.includes(icon(c.card)) ? c.card : undefined;
      },
      timeoutMs,
      `${name} step ${seq} to show ${icons.join('/')} (it shows ${icon(stepCards(name).get(seq)?.card)})`,
    );
  }

  function dataOf(card: any, verb: string): Record<string, unknown> {
    const a = actionsOf(card).find((x) => x.verb === verb);
    if (!a) throw new Error(`no ${verb} on: ${cardText(card).slice(0, 300)}`);
    return a.data;
  }

  /** Requests a step (and approves it when it asks), returning the card after the approval. */
  async function requestAndApprove(name: string, seq: number): Promise<any> {
    const requested = await click(USERS.alex, 'step.request', dataOf((await cardOf(name, seq)).card, 'step.request'));
    if (icon(requested) !== '⏳') return requested;
    let card = await click(USERS.megan, 'step.approve', { ...dataOf(requested, 'step.approve'), confirm: name });
    expect(cardText(card)).not.toMatch(/ℹ|Nothing was changed/);
    expectedApprovals.push({ migration: name, seq, oid: USERS.megan.aadObjectId });
    if (icon(card) === '⏳') {
      card = await click(USERS.lee, 'step.approve', { ...dataOf(card, 'step.approve'), confirm: name });
      expectedApprovals.push({ migration: name, seq, oid: USERS.lee.aadObjectId });
    }
    return card;
  }

  async function advanceBefore(name: string, target: number): Promise<void> {
    for (let seq = 1; seq < target; seq++) {
      const c = await cardOf(name, seq);
      if (['✅', '⤼'].includes(icon(c.card))) continue;
      await requestAndApprove(name, seq);
      await waitIcon(name, seq, ['✅', '⤼']);
    }
  }

  async function newMigration(name: string, ou: string): Promise<void> {
    const r = await post(
      activity(USERS.alex, {
        type: 'message',
        text: `new migration "${name}" domain=contoso.com ou="${ou}" owners=${USERS.alex.aadObjectId},${USERS.megan.aadObjectId},${USERS.lee.aadObjectId}`,
      }),
    );
    expect(r.status).toBe(200);
    // its own post (the overview, every step listed) and the card of its first step
    await until(() => stepCards(name).size >= 1, 30_000, `${name}'s cards`);
  }

  async function approvalsLost(db: Db): Promise<string[]> {
    const lost: string[] = [];
    for (const a of expectedApprovals) {
      const r = await db.query(
        'SELECT 1 FROM approvals p JOIN migrations m ON m.id = p.migration_id WHERE m.name = $1 AND p.seq = $2 AND p.approver_oid = $3',
        [a.migration, a.seq, a.oid],
      );
      if (!r.rows.length) lost.push(`${a.migration} step ${a.seq} by ${a.oid}`);
    }
    return lost;
  }

  async function stepRow(db: Db, name: string, seq: number): Promise<any> {
    return (await db.query('SELECT s.* FROM steps s JOIN migrations m ON m.id = s.migration_id WHERE m.name = $1 AND s.seq = $2', [name, seq])).rows[0];
  }

  async function auditCount(db: Db, name: string, seq: number, action: string, attempt: number): Promise<number> {
    return (
      await db.query(
        "SELECT count(*)::int AS n FROM audit a JOIN migrations m ON m.id = a.migration_id WHERE m.name = $1 AND a.step_seq = $2 AND a.action = $3 AND (a.details->>'attempt')::int = $4",
        [name, seq, action, attempt],
      )
    ).rows[0].n;
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cutover-crash-'));
    connector = await new RecordingConnector().start();
    connector.members = Object.values(USERS);
  });
  afterAll(async () => {
    if (child) await kill9('cleanup').catch(() => {});
    await connector?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('approved but not started: started exactly once after the restart', async () => {
    child = await start();
    await newMigration('Crash A', 'OU=CloudSyncPilot,DC=contoso,DC=com');
    const seq = seqByTitle('Crash A', /^Configure Cloud Sync/);
    expect(seq).toBeGreaterThan(0);
    await advanceBefore('Crash A', seq);
    const requested = await click(USERS.alex, 'step.request', dataOf((await cardOf('Crash A', seq)).card, 'step.request'));
    expect(icon(requested)).toBe('⏳');
    // The next Graph request waits 60 s (one 429 with Retry-After: 60): the plan re-check after the approval hangs there.
    await hook('/graph-fault', { status: 429, count: 1, retryAfterSeconds: 60 });
    const approved = await click(USERS.megan, 'step.approve', { ...dataOf(requested, 'step.approve'), confirm: 'Crash A' });
    expectedApprovals.push({ migration: 'Crash A', seq, oid: USERS.megan.aadObjectId });
    expect(icon(approved), cardText(approved)).toBe('✔');
    await sleep(500);
    await kill9('approved, not started');

    const before = await offline(async (db) => ({ step: await stepRow(db, 'Crash A', seq), lost: await approvalsLost(db) }));
    expect(before.lost).toEqual([]);
    expect(before.step.state).toBe('approved');
    const attempt = before.step.attempt;

    child = await start();
    await waitIcon('Crash A', seq, ['✅', '❌', '❓'], 90_000);
    await stopGracefully();
    const after = await offline(async (db) => ({
      step: await stepRow(db, 'Crash A', seq),
      started: await auditCount(db, 'Crash A', seq, 'step-started', attempt),
      lost: await approvalsLost(db),
      violations: await transitionViolations(db),
    }));
    // Started once; it ends as its Graph calls do in the new process (succeeded, or failed with the error on its card).
    expect(['succeeded', 'failed'], JSON.stringify(after.step.error)).toContain(after.step.state);
    if (after.step.state === 'failed') expect(after.step.error?.message).toBeTruthy();
    expect(after.started).toBe(1);
    expect(after.lost).toEqual([]);
    expect(after.violations).toEqual([]);
    record({
      area: 'Faults',
      check: 'SIGKILL with a step approved but not started (Graph re-check in flight)',
      figure: `after restart: started ${after.started}× → ${after.step.state}${after.step.error ? ` (${after.step.error.code}: ${after.step.error.message})` : ''}; approvals lost ${after.lost.length}`,
      outcome: 'survived',
      counts: { lostApprovals: after.lost.length, doubleMutations: Math.max(0, after.started - 1), duplicateTransitions: after.violations.length },
    });
  });

  it('a Graph mutation running: lost after the restart, never re-run; an open alert is not duplicated', async () => {
    child = await start();
    // An alert to carry across the restart: one active provisioning agent for a migration with OUs in Cloud Sync scope.
    const report = await (await fetch(`${child.url}/sandbox/v1/monitor/run`, { method: 'POST' })).json();
    const alertTitle = /Only 1 active provisioning agent/;
    const alertPosts = () =>
      connector.sent.filter((s) => s.method === 'POST' && alertTitle.test(cardText(s.activity)) && /Crash A/.test(cardText(s.activity))).length;
    const alerted = report.findings?.some((f: any) => alertTitle.test(f.title) && f.alerted);
    if (alerted) await connector.waitFor(() => alertPosts() > 0 || undefined, 15_000, 'the alert card');

    await newMigration('Crash B', 'OU=Finance,DC=contoso,DC=com');
    await newMigration('Crash C', 'OU=Engineering,DC=contoso,DC=com');
    const seq = seqByTitle('Crash B', /^Configure Cloud Sync/);
    seqC = seqByTitle('Crash C', /^Stop the Connect Sync scheduler/);
    await Promise.all([advanceBefore('Crash B', seq), advanceBefore('Crash C', seqC)]);
    // The first change Graph receives (POST/PUT/PATCH) waits 60 s: the step is running, in the middle of its mutation.
    await hook('/graph-fault', { status: 429, count: 1, retryAfterSeconds: 60, match: '^(POST|PUT|PATCH) ' });
    await requestAndApprove('Crash B', seq);
    await waitIcon('Crash B', seq, ['▶'], 30_000);
    await sleep(500);
    await kill9('Graph mutation running');

    const mid = await offline(async (db) => ({ step: await stepRow(db, 'Crash B', seq), lost: await approvalsLost(db) }));
    expect(mid.step.state).toBe('running');
    expect(mid.lost).toEqual([]);

    child = await start();
    const lostCard = await waitIcon('Crash B', seq, ['❓', '✅', '❌'], 60_000);
    expect(icon(lostCard), cardText(lostCard)).toBe('❓');
    expect(cardText(lostCard)).toMatch(/restarted/);
    // Retry asks the owners again: nothing runs without a new approval.
    const retried = await click(USERS.alex, 'step.retry', dataOf(lostCard, 'step.retry'));
    expect(icon(retried)).toBe('⏳');
    // The same alert condition again in the new process: the alert is the same one, with no second card.
    const report2 = await (await fetch(`${child.url}/sandbox/v1/monitor/run`, { method: 'POST' })).json();
    await sleep(1_000);
    // Same process: Crash C's "Stop the scheduler", held inside the sandbox executor, and the next SIGKILL there.
    await hook('/hold', { action: 'set-scheduler', ms: 120_000 });
    await requestAndApprove('Crash C', seqC);
    await until(async () => (await hook('/held')).held.includes('set-scheduler'), 30_000, 'the runner to be inside set-scheduler');
    await kill9('runner mutation running');

    const after = await offline(async (db) => ({
      step: await stepRow(db, 'Crash B', seq),
      started: await auditCount(db, 'Crash B', seq, 'step-started', mid.step.attempt),
      lostRows: await auditCount(db, 'Crash B', seq, 'step-lost', mid.step.attempt),
      alerts: (
        await db.query(
          "SELECT a.check_key, a.scope, count(*)::int AS n FROM alerts a JOIN migrations m ON m.id = a.migration_id WHERE m.name = 'Crash A' AND a.state <> 'resolved' GROUP BY 1, 2 HAVING count(*) > 1",
        )
      ).rows,
      alertRows: (
        await db.query(
          "SELECT count(*)::int AS n FROM alerts a JOIN migrations m ON m.id = a.migration_id WHERE m.name = 'Crash A' AND a.check_key = 'agents' AND a.scope = 'fewer-than-two'",
        )
      ).rows[0].n,
      lost: await approvalsLost(db),
      violations: await transitionViolations(db),
    }));
    expect(after.step.state).toBe('awaiting_approval');
    expect(after.started).toBe(1);
    expect(after.lostRows).toBe(1);
    expect(after.lost).toEqual([]);
    expect(after.violations).toEqual([]);
    expect(after.alerts).toEqual([]);
    const alerted2 = report2.findings?.some((f: any) => alertTitle.test(f.title) && f.alerted);
    if (alerted && alerted2) {
      expect(after.alertRows).toBe(1);
      expect(alertPosts(), 'one alert card across the restart').toBe(1);
    }
    record({
      area: 'Faults',
      check: 'SIGKILL while a Graph mutation runs (Configure Cloud Sync)',
      figure: `after restart: lost (InterruptedByRestart), started ${after.started}×, Retry → approval again; alert rows ${alerted ? after.alertRows : 'n/a'}, alert cards ${alertPosts()}`,
      outcome: 'survived',
      counts: {
        lostApprovals: after.lost.length,
        doubleMutations: Math.max(0, after.started - 1),
        duplicateAlerts: alerted && alerted2 ? Math.max(0, after.alertRows - 1) + Math.max(0, alertPosts() - 1) : 0,
        duplicateTransitions: after.violations.length,
      },
    });
  });

  it('a runner mutation running (killed at the end of the previous test): its lease runs out after the restart, lost, never re-run', async () => {
    const seq = seqC;
    expect(seq).toBeGreaterThan(0);
    const mid = await offline(async (db) => {
      const step = await stepRow(db, 'Crash C', seq);
      const job = (await db.query('SELECT * FROM runner_jobs WHERE id = $1', [step.job_id])).rows[0];
      return { step, job };
    });
    expect(mid.step.state).toBe('running');
    expect(mid.job.state).toBe('leased');
    expect(mid.job.action).toBe('set-scheduler');

    child = await start();
    const lostCard = await waitIcon('Crash C', seq, ['❓', '✅', '❌'], 60_000);
    expect(icon(lostCard), cardText(lostCard)).toBe('❓');
    await stopGracefully();
    const after = await offline(async (db) => ({
      step: await stepRow(db, 'Crash C', seq),
      jobs: (
        await db.query(
          "SELECT j.id, j.state, j.result FROM runner_jobs j JOIN migrations m ON m.id = j.migration_id WHERE m.name = 'Crash C' AND j.step_seq = $1",
          [seq],
        )
      ).rows,
      started: await auditCount(db, 'Crash C', seq, 'step-started', mid.step.attempt),
      lost: await approvalsLost(db),
      violations: await transitionViolations(db),
    }));
    expect(after.step.state).toBe('lost');
    expect(after.jobs).toHaveLength(1);
    expect(after.jobs[0].state).toBe('lost');
    expect(after.jobs[0].result ?? null).toBeNull();
    expect(after.started).toBe(1);
    expect(after.lost).toEqual([]);
    expect(after.violations).toEqual([]);
    record({
      area: 'Faults',
      check: 'SIGKILL while a runner mutation runs (Stop the scheduler)',
      figure: `after restart: lease expired → job lost → step lost; ${after.jobs.length} job for the attempt, started ${after.started}×`,
      outcome: 'survived',
      counts: {
        lostApprovals: after.lost.length,
        doubleMutations: after.jobs.filter((j: any) => j.state === 'succeeded').length,
        duplicateTransitions: after.violations.length,
      },
    });
  });

  it('kept every approval and the audit chain across the kills', async () => {
    const summary = await offline(async (db) => {
      const migrations = (await db.query('SELECT id, name FROM migrations ORDER BY name')).rows;
      const { verifyAuditChain, configureAudit } = await import('../../src/runbooks/audit.js');
      const { openAuditTrail } = await import('../../src/runbooks/audit-anchor.js');
      // The killed processes' key and checkpoints (audit.key and audit-checkpoints.jsonl next to the PGlite data).
      const trail = await openAuditTrail({ dir, clock: { now: () => new Date() } });
      configureAudit({ key: trail.key, anchor: trail.anchor });
      const chains = await Promise.all(migrations.map(async (m: any) => ({ name: m.name, ...(await verifyAuditChain(db, m.id)) })));
      return { chains, lost: await approvalsLost(db), approvals: (await db.query('SELECT count(*)::int AS n FROM approvals')).rows[0].n };
    });
    expect(summary.chains.filter((c) => !c.ok)).toEqual([]);
    expect(summary.lost).toEqual([]);
    record({
      area: 'Lost',
      check: `after ${kills.length} SIGKILLs: approvals kept, audit chains intact`,
      figure: `${summary.approvals} approvals on record (${expectedApprovals.length} acknowledged by cards), ${summary.chains.length} audit chains verified`,
      outcome: 'ok',
      counts: { lostApprovals: summary.lost.length },
    });
  });
});
