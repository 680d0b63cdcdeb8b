import { appendFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../../src/log.js';
import type { Sql } from '../../src/store/db.js';

/** Shared pieces of the reliability suite: the results file behind the summary table, snapshots, latency figures. */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const RESULTS_DIR = path.join(ROOT, 'test-results', 'reliability');
export const RESULTS_FILE = path.join(RESULTS_DIR, 'results.jsonl');

export type Outcome = 'held' | 'survived' | 'refused' | 'ok' | 'skipped' | 'FAILED';

export interface ResultRow {
  area: 'Load' | 'Faults' | 'Bad input' | 'Auth' | 'Lost';
  check: string;
  figure: string;
  outcome: Outcome;
  /** Counters the summary adds up: bad inputs tried, approvals lost, mutations run twice, alerts duplicated. */
  counts?: Partial<Record<'badInputs' | 'lostApprovals' | 'doubleMutations' | 'duplicateAlerts' | 'duplicateTransitions' | 'fiveHundreds', number>>;
  detail?: Record<string, unknown>;
}

/** One line per check; the global teardown prints them as one table. */
export function record(row: ResultRow): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  appendFileSync(RESULTS_FILE, `${JSON.stringify({ ...row, at: new Date().toISOString() })}\n`);
}

export function readResults(): (ResultRow & { at: string })[] {
  if (!existsSync(RESULTS_FILE)) return [];
  return readFileSync(RESULTS_FILE, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

export function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function latencySummary(samples: number[]): { n: number; p50: number; p90: number; p99: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s[s.length - 1] ?? NaN) };
}

/**
 * A logger that keeps every line at warn or above, so a test can assert that nothing logged an error
 * (turn failures, background task failures) while it ran.
 */
export function collectingLogger(): { log: Logger; errors: any[]; warnings: any[] } {
  const errors: any[] = [];
  const warnings: any[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue;
        try {
          const o = JSON.parse(line);
          if (o.level >= 50) errors.push(o);
          else if (o.level >= 40) warnings.push(o);
        } catch {
          /* not JSON */
        }
      }
      cb();
    },
  });
  return { log: createLogger({ level: 'warn', destination }), errors, warnings };
}

/** Unhandled rejections and uncaught exceptions while the returned tracker is installed. */
export function trackUnhandled(): { rejections: unknown[]; exceptions: unknown[]; dispose(): void } {
  const rejections: unknown[] = [];
  const exceptions: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  const onException = (err: unknown) => exceptions.push(err);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtExceptionMonitor', onException);
  return {
    rejections,
    exceptions,
    dispose() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtExceptionMonitor', onException);
    },
  };
}

/**
 * What a click or a message could change: migrations, steps, approvals, the audit chain, step runner jobs (not
 * reads), runners and alerts. Conversation references, people's display names and the Graph delta cursor are
 * caches every valid activity may refresh, so they are left out on purpose.
 */
export async function snapshot(db: Sql): Promise<string> {
  const q = async (sql: string) => JSON.stringify((await db.query(sql)).rows);
  return [
    await q('SELECT id, name, state, version, policy, params FROM migrations ORDER BY id'),
    await q('SELECT migration_id, seq, state, version, attempt, plan_hash, job_id, error FROM steps ORDER BY migration_id, seq'),
    await q('SELECT migration_id, seq, attempt, approver_oid, decision, comment FROM approvals ORDER BY 1, 2, 3, 4'),
    await q('SELECT count(*)::int AS n, max(id)::text AS last, (SELECT hash FROM audit ORDER BY id DESC LIMIT 1) AS head FROM audit'),
    await q("SELECT id, state, attempt FROM runner_jobs WHERE migration_id NOT LIKE 'read:%' ORDER BY id"),
    await q('SELECT name, revoked_at FROM runners ORDER BY name'),
    await q('SELECT id, state, version FROM alerts ORDER BY id'),
  ].join('\n');
}

/** The seq of a migration's step by its key (and batch), so tests do not hard-code step numbers. */
export async function seqOf(db: Sql, migrationId: string, key: string, batch = 1): Promise<number> {
  const r = (await db.query('SELECT seq, batch FROM steps WHERE migration_id = $1 AND key = $2 ORDER BY seq', [migrationId, key])).rows;
  const hit = r.find((x: any) => x.batch === null || x.batch === batch) ?? r[0];
  if (!hit) throw new Error(`migration ${migrationId} has no step ${key}`);
  return hit.seq;
}

/**
 * Invariants of the audit trail and the runner queue that must hold whatever happened: one request per attempt,
 * at most one start and one end per attempt, no approver counted twice, one approving verdict per attempt,
 * approvals table and audit agreeing, one runner job per (step, attempt, position).
 */
export async function transitionViolations(db: Sql): Promise<string[]> {
  const out: string[] = [];
  const rows = async (sql: string) => (await db.query(sql)).rows as any[];
  const perAttempt = await rows(`
    SELECT migration_id, step_seq, (details->>'attempt')::int AS attempt,
      count(*) FILTER (WHERE action IN ('approval-requested','retry-requested','step-run','step-retried')) AS requests,
      count(*) FILTER (WHERE action = 'step-started') AS starts,
      count(*) FILTER (WHERE action IN ('step-succeeded','step-failed','step-lost')) AS ends,
      count(*) FILTER (WHERE action = 'approved' AND details->>'verdict' = 'approved') AS approving,
      count(*) FILTER (WHERE action = 'rejected' AND details->>'verdict' = 'rejected') AS rejecting
    FROM audit WHERE step_seq IS NOT NULL AND details ? 'attempt'
    GROUP BY 1, 2, 3`);
  for (const r of perAttempt) {
    const id = `${r.migration_id} step ${r.step_seq} attempt ${r.attempt}`;
    if (Number(r.requests) > 1) out.push(`${id}: ${r.requests} requests`);
    if (Number(r.starts) > 1) out.push(`${id}: started ${r.starts} times`);
    if (Number(r.ends) > 1) out.push(`${id}: ended ${r.ends} times`);
    if (Number(r.approving) > 1) out.push(`${id}: ${r.approving} approving verdicts`);
    if (Number(r.rejecting) > 1) out.push(`${id}: ${r.rejecting} rejecting verdicts`);
    // 'step-started' is the approved → running transition: it needs exactly one approving verdict for the attempt.
    if (Number(r.starts) === 1 && Number(r.approving) === 0) out.push(`${id}: started without an approving verdict`);
  }
  const twice = await rows(`
    SELECT migration_id, step_seq, details->>'attempt' AS attempt, actor_oid, count(*) AS n FROM audit
    WHERE action IN ('approved','rejected') GROUP BY 1, 2, 3, 4 HAVING count(*) > 1`);
  for (const r of twice) out.push(`${r.migration_id} step ${r.step_seq} attempt ${r.attempt}: ${r.actor_oid} decided ${r.n} times`);
  const [a] = await rows(`SELECT count(*)::int AS n FROM approvals`);
  const [b] = await rows(`SELECT count(*)::int AS n FROM audit WHERE action IN ('approved','rejected')`);
  if (a.n !== b.n) out.push(`approvals table has ${a.n} decisions, the audit ${b.n}`);
  const dupJobs = await rows(`SELECT migration_id, step_seq, attempt, count(*) AS n FROM runner_jobs GROUP BY 1, 2, 3 HAVING count(*) > 1`);
  for (const r of dupJobs) out.push(`runner job for ${r.migration_id} step ${r.step_seq} key ${r.attempt} queued ${r.n} times`);
  const queuedTwice = await rows(`
    SELECT migration_id, step_seq, details->>'jobId' AS job, count(*) AS n FROM audit WHERE action = 'runner-job-queued'
    GROUP BY 1, 2, 3 HAVING count(*) > 1`);
  for (const r of queuedTwice) out.push(`${r.migration_id} step ${r.step_seq}: job ${r.job} recorded as queued ${r.n} times`);
  return out;
}

/** Every Action.Execute in a card, with its verb and data. */
export function actionsOf(card: any): { title: string; verb: string; data: Record<string, unknown> }[] {
  const out: { title: string; verb: string; data: Record<string, unknown> }[] = [];
  const walk = (n: any) => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(walk);
    if (n.type === 'Action.Execute' && typeof n.verb === 'string') out.push({ title: n.title, verb: n.verb, data: n.data ?? {} });
    for (const [k, v] of Object.entries(n)) if (k !== 'refresh' && typeof v === 'object') walk(v);
  };
  walk(card);
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until pred() is truthy or the deadline passes (then throws with `what`). */
export async function until<T>(
  pred: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs: number,
  what: string,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Bugs this suite found in rooms it may not change, by the symptom it checks. A listed symptom that shows up is
 * reported as 'known bug' in the summary and does not fail the run (RELIABILITY_STRICT=1 fails on it too). When a
 * bug is fixed its symptom no longer shows and the check reports 'survived'; then delete the entry.
 */
