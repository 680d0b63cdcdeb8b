import type { Db, Sql } from '../store/db.js';
import type { ApprovalRecord } from './policy.js';
import type { PersonSeen } from './snapshot.js';
import type { Migration, StepRow } from './engine-types.js';
import type { StepState } from './types.js';

/**
 * Takes the row lock of one migration inside the transaction `q` of `db`: every change to a migration (its steps, its
 * params, its policy) takes it first. PGlite runs one transaction at a time and nothing beside it (its own mutex), so
 * there the lock is already held: no statement.
 */
export async function lockMigration(db: Pick<Db, 'kind'>, q: Sql, id: string): Promise<void> {
  if (db.kind === 'pglite') return;
  await q.query('SELECT id FROM migrations WHERE id = $1 FOR UPDATE', [id]);
}

/**
 * Every statement the runbook engine makes, and the mapping of its rows: the engine's parts say what they need, this
 * module says it in SQL. Methods taking `q` run inside the caller's transaction (or on the pool when given the Db).
 * The audit chain's own statements stay in audit.ts.
 */
export class RunbookStore {
  constructor(readonly db: Db) {}

  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  // ---------------------------------------------------------------- migrations

  async migration(id: string): Promise<Migration | null> {
    const r = (await this.db.query('SELECT * FROM migrations WHERE id = $1', [id])).rows[0];
    return r ? toMigration(r) : null;
  }

  /** By id or by name, within a conversation when one is given; the newest first. */
  async findMigration(ref: string, conversationId: string | null): Promise<Migration | null> {
    const rows = (
      await this.db.query(
        'SELECT * FROM migrations WHERE (id = $1 OR lower(name) = lower($1)) AND ($2::text IS NULL OR conversation_id = $2) ORDER BY created_at DESC',
        [ref, conversationId],
      )
    ).rows;
    return rows[0] ? toMigration(rows[0]) : null;
  }

  async listMigrations(conversationId: string | null, state: string | null): Promise<Migration[]> {
    const rows = (
      await this.db.query(
        'SELECT * FROM migrations WHERE ($1::text IS NULL OR conversation_id = $1) AND ($2::text IS NULL OR state = $2) ORDER BY created_at ASC',
        [conversationId, state],
      )
    ).rows;
    return rows.map(toMigration);
  }

  /** Another migration of this name in the same conversation and tenant. */
  async nameTaken(q: Sql, tenantId: string, conversationId: string | null, name: string): Promise<boolean> {
    const clash = await q.query('SELECT id FROM migrations WHERE tenant_id = $3 AND conversation_id IS NOT DISTINCT FROM $1 AND lower(name) = lower($2)', [
      conversationId,
      name,
      tenantId,
    ]);
    return clash.rows.length > 0;
  }

  async insertMigration(
    q: Sql,
    m: {
      id: string;
      name: string;
      kind: string;
      tenantId: string;
      domain: string;
      policy: unknown;
      params: Record<string, unknown>;
      createdBy: unknown;
      createdAt: Date;
      conversationId: string | null;
    },
  ): Promise<void> {
    await q.query(
      `INSERT INTO migrations (id, name, kind, tenant_id, domain, policy, params, created_by, created_at, conversation_id)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
      [
        m.id,
        m.name,
        m.kind,
        m.tenantId,
        m.domain,
        JSON.stringify(m.policy),
        JSON.stringify(m.params),
        JSON.stringify(m.createdBy),
        m.createdAt.toISOString(),
        m.conversationId,
      ],
    );
  }

  /** Serializes every transition of one migration (its steps, its params): taken first in each transaction. */
  lockMigration(q: Sql, id: string): Promise<void> {
    return lockMigration(this.db, q, id);
  }

  /** Binds an unbound migration to a runner (never rebinds: a concurrent binding wins). */
  async bindRunner(id: string, runnerName: string): Promise<void> {
    await this.db.query(`UPDATE migrations SET params = params || $2::jsonb WHERE id = $1 AND NOT (params ? 'runnerName')`, [
      id,
      JSON.stringify({ runnerName }),
    ]);
  }

  async setHome(id: string, conversationId: string, overviewActivityId: string): Promise<void> {
    await this.db.query('UPDATE migrations SET conversation_id = $2, overview_activity_id = $3 WHERE id = $1', [id, conversationId, overviewActivityId]);
  }

  async setOus(q: Sql, id: string, ous: string[]): Promise<void> {
    await q.query(`UPDATE migrations SET params = jsonb_set(params, '{ous}', $2::jsonb), version = version + 1 WHERE id = $1`, [id, JSON.stringify(ous)]);
  }

  async mergeParams(q: Sql, id: string, params: Record<string, unknown>): Promise<void> {
    await q.query(`UPDATE migrations SET params = params || $2::jsonb, version = version + 1 WHERE id = $1`, [id, JSON.stringify(params)]);
  }

  /** Completes the migration when none of its steps is left to do; true when this call completed it. */
  async completeIfDone(q: Sql, id: string): Promise<boolean> {
    const left = (await q.query("SELECT count(*)::int AS n FROM steps WHERE migration_id = $1 AND state NOT IN ('succeeded', 'skipped')", [id])).rows[0].n;
    if (Number(left) > 0) return false;
    const r = await q.query("UPDATE migrations SET state = 'completed', version = version + 1 WHERE id = $1 AND state = 'active' RETURNING id", [id]);
    return r.rows.length > 0;
  }

  // ---------------------------------------------------------------- steps

  async steps(migrationId: string): Promise<StepRow[]> {
    return (await this.db.query('SELECT * FROM steps WHERE migration_id = $1 ORDER BY ord, seq', [migrationId])).rows.map(toStep);
  }

  async step(migrationId: string, seq: number): Promise<StepRow | null> {
    const r = (await this.db.query('SELECT * FROM steps WHERE migration_id = $1 AND seq = $2', [migrationId, seq])).rows[0];
    return r ? toStep(r) : null;
  }

  async approvals(migrationId: string, seq: number, attempt: number): Promise<ApprovalRecord[]> {
    return (
      await this.db.query('SELECT * FROM approvals WHERE migration_id = $1 AND seq = $2 AND attempt = $3 ORDER BY at', [migrationId, seq, attempt])
    ).rows.map(toApproval);
  }

  /** New step rows; `evidence` (a step added already skipped) and `params` (an incident's step) where given. */
  async insertStep(
    q: Sql,
    migrationId: string,
    s: { seq: number; ord: number; key: string; batch: number | null; state: StepState; evidence?: unknown; params?: unknown },
    now: Date,
  ): Promise<void> {
    await q.query('INSERT INTO steps (migration_id, seq, ord, key, batch, state, evidence, params, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)', [
      migrationId,
      s.seq,
      s.ord,
      s.key,
      s.batch,
      s.state,
      s.evidence ? JSON.stringify(s.evidence) : null,
      s.params ? JSON.stringify(s.params) : null,
      now.toISOString(),
    ]);
  }

  async setStepActivity(migrationId: string, seq: number, activityId: string): Promise<void> {
    await this.db.query('UPDATE steps SET activity_id = $3 WHERE migration_id = $1 AND seq = $2', [migrationId, seq, activityId]);
  }

  /**
   * A step with all its card shows, in one statement: the migration, the step, every step's progress (evidence only
   * of skipped steps and of succeeded steps in `evidenceKeys`), the decisions on its current approval request and the
   * names of its listed owners seen (the people table). Null when the migration or the step does not exist.
   */
  async snapshotRow(migrationId: string, seq: number, evidenceKeys: readonly string[]) {
    // json, not jsonb: built only to be sent, json is much cheaper to make (on PGlite it halved this statement's cost).
    // Owners are stored lower-case (creation and policy changes lower-case them), so `?` finds their people rows.
    const r = (
      await this.db.query(
        `SELECT m.*, to_json(s) AS step_json,
           (SELECT json_agg(json_build_object('seq', x.seq, 'ord', x.ord, 'key', x.key, 'batch', x.batch, 'state', x.state, 'activityId', x.activity_id,
                     'evidence', CASE WHEN x.state = 'skipped' OR (x.state = 'succeeded' AND x.key = ANY($3::text[])) THEN x.evidence END) ORDER BY x.ord, x.seq)
              FROM steps x WHERE x.migration_id = m.id) AS steps_json,
           (SELECT json_agg(a ORDER BY a.at) FROM approvals a WHERE a.migration_id = m.id AND a.seq = s.seq AND a.attempt = s.attempt) AS approvals_json,
           (SELECT json_object_agg(p.oid, json_build_object('name', p.name, 'teamsId', p.teams_id)) FROM people p WHERE (m.policy->'owners') ? p.oid) AS people_json
         FROM migrations m JOIN steps s ON s.migration_id = m.id AND s.seq = $2
         WHERE m.id = $1`,
        [migrationId, seq, evidenceKeys],
      )
    ).rows[0];
    if (!r) return null;
    return {
      migration: toMigration(r),
      step: toStep(r.step_json),
      steps: ((r.steps_json ?? []) as any[]).map((x) => ({
        seq: x.seq,
        ord: Number(x.ord ?? x.seq),
        key: x.key,
        batch: x.batch,
        state: x.state,
        evidence: x.evidence ?? null,
        activityId: x.activityId ?? null,
      })),
      approvals: ((r.approvals_json ?? []) as any[]).map(toApproval),
      people: (r.people_json ?? {}) as Record<string, PersonSeen>,
    };
  }

  /** Names and Teams ids of these people, as cutover has seen them. */
  async people(oids: string[]): Promise<Record<string, PersonSeen>> {
    const out: Record<string, PersonSeen> = {};
    for (const p of (await this.db.query('SELECT oid, name, teams_id FROM people WHERE oid = ANY($1::text[])', [oids])).rows)
      out[p.oid] = { name: p.name, teamsId: p.teams_id };
    return out;
  }

  /**
   * Under the migration's lock, in a statement of its own (on PostgreSQL a statement sees what was committed when it
   * began): the step, the audit chain's head its row will chain to, and (`decisions`) those on its current request.
   */
  async lockedStep(q: Sql, migrationId: string, seq: number): Promise<{ step: StepRow; auditHead: string | null }>;
  async lockedStep(
    q: Sql,
    migrationId: string,
    seq: number,
    decisions: true,
  ): Promise<{ step: StepRow; auditHead: string | null; approvals: ApprovalRecord[] }>;
  async lockedStep(
    q: Sql,
    migrationId: string,
    seq: number,
    decisions = false,
  ): Promise<{ step: StepRow; auditHead: string | null; approvals?: ApprovalRecord[] }> {
    if (!decisions) {
      const row = (
        await q.query(
          'SELECT s.*, (SELECT hash FROM audit WHERE migration_id = s.migration_id ORDER BY id DESC LIMIT 1) AS audit_head FROM steps s WHERE s.migration_id = $1 AND s.seq = $2',
          [migrationId, seq],
        )
      ).rows[0];
      return { step: toStep(row), auditHead: row.audit_head ?? null };
    }
    const row = (
      await q.query(
        `SELECT s.*,
             (SELECT coalesce(json_agg(a ORDER BY a.at), '[]'::json) FROM approvals a WHERE a.migration_id = s.migration_id AND a.seq = s.seq AND a.attempt = s.attempt) AS decisions,
             (SELECT hash FROM audit WHERE migration_id = s.migration_id ORDER BY id DESC LIMIT 1) AS audit_head
           FROM steps s WHERE s.migration_id = $1 AND s.seq = $2`,
        [migrationId, seq],
      )
    ).rows[0];
    return { step: toStep(row), auditHead: (row.audit_head as string | null) ?? null, approvals: (row.decisions as any[]).map(toApproval) };
  }

  /**
   * Writes the step as patched (its version bumped) and answers the row as written. `lease`: the owner lease taken in
   * the same statement (a step moving to running).
   */
  async updateStep(q: Sql, step: StepRow, patch: Partial<StepRow>, now: Date, lease?: { ownerId: string; until: Date }): Promise<StepRow> {
    const n = { ...step, ...patch };
    const r = await q.query(
      `UPDATE steps SET state=$3, attempt=$4, requested_by=$5, requested_at=$6, plan_hash=$7, plan=$8, job_id=$9, evidence=$10, error=$11,
        reminded_at=$12, escalated_at=$13, updated_at=$14, run_after=$15, version = version + 1${lease ? ', owner_id = $16, lease_until = $17, lease_attempt = $4' : ''}
        WHERE migration_id=$1 AND seq=$2 RETURNING *`,
      [
        step.migrationId,
        step.seq,
        n.state,
        n.attempt,
        n.requestedBy ? JSON.stringify(n.requestedBy) : null,
        n.requestedAt ? n.requestedAt.toISOString() : null,
        n.planHash,
        n.plan ? JSON.stringify(n.plan) : null,
        n.jobId,
        n.evidence ? JSON.stringify(n.evidence) : null,
        n.error ? JSON.stringify(n.error) : null,
        n.remindedAt ? n.remindedAt.toISOString() : null,
        n.escalatedAt ? n.escalatedAt.toISOString() : null,
        now.toISOString(),
        n.runAfter ? n.runAfter.toISOString() : null,
        ...(lease ? [lease.ownerId, lease.until.toISOString()] : []),
      ],
    );
    return toStep(r.rows[0]);
  }

  async insertApproval(q: Sql, migrationId: string, seq: number, attempt: number, d: ApprovalRecord): Promise<void> {
    await q.query(
      'INSERT INTO approvals (migration_id, seq, attempt, approver_oid, approver_name, decision, comment, plan_hash, at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)',
      [migrationId, seq, attempt, d.approverOid, d.approverName, d.decision, d.comment, d.planHash, d.at.toISOString()],
    );
  }

  /** The step now points at its queued runner job, with its progress. */
  async pointAtJob(q: Sql, migrationId: string, seq: number, jobId: string, evidence: Record<string, unknown>, now: Date): Promise<void> {
    await q.query('UPDATE steps SET job_id = $3, evidence = $4, updated_at = $5, version = version + 1 WHERE migration_id = $1 AND seq = $2', [
      migrationId,
      seq,
      jobId,
      JSON.stringify(evidence),
      now.toISOString(),
    ]);
  }

  /**
   * Keeps a settled job's results on its step, if the step still runs that job and holds the `before` results it had
   * without it (a job reported twice is kept once); false otherwise.
   */
  async keepJobResults(q: Sql, migrationId: string, seq: number, jobId: string, before: number, evidence: Record<string, unknown>): Promise<boolean> {
    const r = await q.query(
      `UPDATE steps SET evidence = $4, version = version + 1
       WHERE migration_id = $1 AND seq = $2 AND job_id = $3 AND state = $5 AND jsonb_array_length(COALESCE(evidence->'results', '[]'::jsonb)) = $6
       RETURNING seq`,
      [migrationId, seq, jobId, JSON.stringify(evidence), 'running', before],
    );
    return r.rows.length > 0;
  }

  /** Skips a step outside the state machine (a batch being rolled back), with the reason as its evidence. */
  async skipStep(q: Sql, migrationId: string, seq: number, evidence: Record<string, unknown>, now: Date): Promise<void> {
    await q.query(`UPDATE steps SET state = 'skipped', evidence = $3, version = version + 1, updated_at = $4 WHERE migration_id = $1 AND seq = $2`, [
      migrationId,
      seq,
      JSON.stringify(evidence),
      now.toISOString(),
    ]);
  }

  /** The latest step of this key added for this alert that is not done (succeeded or skipped) yet. */
  async liveIncidentStep(q: Sql, migrationId: string, key: string, alertId: string): Promise<StepRow | null> {
    const live = (
      await q.query(
        "SELECT * FROM steps WHERE migration_id = $1 AND key = $2 AND params->>'alertId' = $3 AND state NOT IN ('succeeded', 'skipped') ORDER BY seq DESC LIMIT 1",
        [migrationId, key, alertId],
      )
    ).rows[0];
    return live ? toStep(live) : null;
  }

  /** Where the migration's steps stand, in order (no more than placing a new step needs). */
  async stepOrder(q: Sql, migrationId: string): Promise<{ seq: number; ord: number; state: StepState }[]> {
    return (await q.query('SELECT seq, ord, state FROM steps WHERE migration_id = $1 ORDER BY ord, seq', [migrationId])).rows.map((r: any) => ({
      seq: Number(r.seq),
      ord: Number(r.ord ?? r.seq),
      state: r.state as StepState,
    }));
  }

  /** The steps added for an incident (by its alert id), in every migration, the latest last. */
  async incidentSteps(alertId: string): Promise<StepRow[]> {
    return (await this.db.query("SELECT s.* FROM steps s WHERE s.params->>'alertId' = $1 ORDER BY s.updated_at ASC, s.seq ASC", [alertId])).rows.map(toStep);
  }

  /** Steps of active migrations that are running or approved (what a start recovers). */
  async runningOrApproved(): Promise<StepRow[]> {
    return (
      await this.db.query(
        "SELECT s.*, m.kind FROM steps s JOIN migrations m ON m.id = s.migration_id WHERE s.state IN ('running','approved') AND m.state = 'active'",
      )
    ).rows.map(toStep);
  }

  async running(): Promise<StepRow[]> {
    return (
      await this.db.query("SELECT s.* FROM steps s JOIN migrations m ON m.id = s.migration_id WHERE s.state = 'running' AND m.state = 'active'")
    ).rows.map(toStep);
  }

  /** Approved steps of active migrations whose change window has opened by `now`. */
  async dueToStart(now: Date): Promise<{ migrationId: string; seq: number }[]> {
    const rows = (
      await this.db.query(
        "SELECT s.migration_id, s.seq FROM steps s JOIN migrations m ON m.id = s.migration_id WHERE s.state = 'approved' AND s.run_after IS NOT NULL AND s.run_after <= $1 AND m.state = 'active'",
        [now.toISOString()],
      )
    ).rows;
    return rows.map((d: any) => ({ migrationId: d.migration_id, seq: d.seq }));
  }

  /** Steps of active migrations waiting for approval; `oldestFirst`: by the time they were asked. */
  async awaitingApproval(oldestFirst = false): Promise<StepRow[]> {
    const sql = oldestFirst
      ? "SELECT s.* FROM steps s JOIN migrations m ON m.id = s.migration_id WHERE s.state = 'awaiting_approval' AND m.state = 'active' ORDER BY s.requested_at ASC"
      : "SELECT s.* FROM steps s JOIN migrations m ON m.id = s.migration_id WHERE s.state = 'awaiting_approval' AND m.state = 'active'";
    return (await this.db.query(sql)).rows.map(toStep);
  }

  // ---------------------------------------------------------------- owner leases of running steps

  /**
   * Takes a running step's owner lease for its current attempt and returns the step; null when it is not running or
   * another owner holds the lease for this attempt.
   */
  async claim(migrationId: string, seq: number, ownerId: string, until: Date): Promise<StepRow | null> {
    const r = await this.db.query(
      `UPDATE steps SET owner_id = $3, lease_until = $4, lease_attempt = attempt
        WHERE migration_id = $1 AND seq = $2 AND state = 'running'
          AND (owner_id IS NULL OR lease_attempt IS DISTINCT FROM attempt OR owner_id = $3) RETURNING *`,
      [migrationId, seq, ownerId, until.toISOString()],
    );
    return r.rows[0] ? toStep(r.rows[0]) : null;
  }

  /** Extends a lease this owner holds on a running step's attempt; false when it holds it no more. */
  async renewLease(migrationId: string, seq: number, attempt: number, ownerId: string, until: Date): Promise<boolean> {
    const r = await this.db.query(
      "UPDATE steps SET lease_until = $4 WHERE migration_id = $1 AND seq = $2 AND owner_id = $3 AND lease_attempt = $5 AND state = 'running' RETURNING seq",
      [migrationId, seq, ownerId, until.toISOString(), attempt],
    );
    return r.rows.length > 0;
  }
}

export function toMigration(r: any): Migration {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    tenantId: r.tenant_id,
    domain: r.domain,
    policy: r.policy,
    ous: r.params.ous,
    soakDays: Math.max(7, Number(r.params.soakDays ?? 7)),
    partial: r.params.partial === true,
    rolledBackOus: Array.isArray(r.params.rolledBackOus) ? r.params.rolledBackOus : [],
    cloudHeldOus: Array.isArray(r.params.cloudHeldOus) ? r.params.cloudHeldOus : [],
    runnerName: typeof r.params.runnerName === 'string' ? r.params.runnerName : null,
    options: r.params.options && typeof r.params.options === 'object' ? r.params.options : {},
    state: r.state,
    createdBy: r.created_by,
    createdAt: new Date(r.created_at),
    conversationId: r.conversation_id,
    overviewActivityId: r.overview_activity_id,
  };
}

export function toApproval(r: any): ApprovalRecord {
  return {
    approverOid: r.approver_oid,
    approverName: r.approver_name,
    decision: r.decision,
    at: new Date(r.at),
    planHash: r.plan_hash,
    comment: r.comment ?? null,
  };
}

export function toStep(r: any): StepRow {
  return {
    migrationId: r.migration_id,
    seq: r.seq,
    ord: Number(r.ord ?? r.seq),
    key: r.key,
    batch: r.batch,
    state: r.state,
    attempt: r.attempt,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at ? new Date(r.requested_at) : null,
    planHash: r.plan_hash,
    plan: r.plan,
    jobId: r.job_id,
    evidence: r.evidence,
    error: r.error,
    activityId: r.activity_id,
    updatedAt: new Date(r.updated_at),
    version: r.version,
    remindedAt: r.reminded_at ? new Date(r.reminded_at) : null,
    escalatedAt: r.escalated_at ? new Date(r.escalated_at) : null,
    runAfter: r.run_after ? new Date(r.run_after) : null,
    ownerId: r.owner_id ?? null,
    leaseUntil: r.lease_until ? new Date(r.lease_until) : null,
    leaseAttempt: r.lease_attempt ?? null,
    params: r.params ?? null,
  };
}
