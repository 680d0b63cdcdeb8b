import { randomBytes } from 'node:crypto';
import pRetry from 'p-retry';
import type { Clock } from '../clock.js';
import type { Db, Sql } from '../store/db.js';
import type { Logger } from '../log.js';
import { appendAudit, canonicalJson, readAudit, sha256, verifyAuditChain, type AuditRow, type ChainVerdict } from './audit.js';
import { definitionOf, planBatch, planRollback, planSteps, runbookOf } from './catalog.js';
import { incidentStep } from './definitions/incident-steps.js';
import { directOwners, evaluate, isOwner, mayDecide, ownerSet, requiredQuorum, type ApprovalPolicy, type ApprovalRecord, type OwnerSet } from './policy.js';
import { OwnersGroupNotFound, OwnersGroupUnavailable, type OwnersGroup, type OwnersGroupResolver } from './owners.js';
import type { EffectFacts, Facts, GoLiveFigures, GraphOperation, IncidentStepKey, MigrationContext, Person, PlannedStep, StepDefinition, StepState } from './types.js';
import { EFFECT_EVIDENCE_KEYS, effectFacts } from './effects.js';
import { progressOf, type OwnerView, type PersonSeen, type StepSnapshot } from './snapshot.js';
import { DnError, domainOfDn, isUnder, normalizeDn, parseDn } from '../dn.js';
import { describeWindows, inAnyWindow, nextWindowStart } from './windows.js';
import { noTracer, type Tracer } from '../telemetry/tracer.js';
import { ouInConnectScope, type ConnectScope } from './connect-scope.js';

/** The step holding a Connect server's scheduler off, by cutover's own records. */
export interface SchedulerHold {
  since: Date;
  stepTitle: string;
  /** The same step stopped the ADSync service too: Connect was disabled on purpose. */
  serviceStopped: boolean;
}

/** A runner job as the hub reports its end. */
type SettledJob = { id: string; migrationId: string; stepSeq: number; attempt: number; state: 'succeeded' | 'failed' | 'lost'; result?: unknown; error?: { code: string; message: string } | null; transcript?: string | null };

/** What the engine needs from the outside world; the composition root provides it. */
export interface EnginePorts {
  runner: {
    /** Queue a runner job for the migration's tenant; its result comes back through onRunnerJobSettled. */
    enqueue(req: { migrationId: string; stepSeq: number; attempt: number; position: number; action: string; params: Record<string, unknown>; tenantId: string; runnerName?: string }): Promise<{ jobId: string }>;
    /** A read through the runner, awaited (guards, verification); `runnerName` addresses the migration's own runner. */
    read(tenantId: string, action: string, params: Record<string, unknown>, opts?: { timeoutMs?: number; runnerName?: string }): Promise<any>;
    /** The tenant's runners that are not revoked (a migration is bound to one of them). */
    runners(tenantId: string): Promise<{ id: string; name: string }[]>;
    /** Validated parameters, the script an admin can inspect, and whether the action changes anything. */
    describe(action: string, params: Record<string, unknown>): { action: string; params: Record<string, unknown>; mutation: boolean; script?: string };
  };
  graph: {
    describe(op: GraphOperation, ctx: MigrationContext, facts?: Facts): Promise<PlannedGraphRequest[]>;
    /** `facts`: what earlier steps proved, by step key (the latest batch's evidence wins). */
    run(op: GraphOperation, ctx: MigrationContext, facts: Facts): Promise<{ ok: boolean; evidence: Record<string, unknown>; error?: string }>;
  };
  /** Open critical alerts of a migration (the next batch waits until they are dealt with). */
  openCriticalAlerts?(migrationId: string): Promise<{ title: string }[]>;
}

export interface PlannedGraphRequest {
  method: string;
  path: string;
  body?: unknown;
}

export interface StepPlan {
  runner?: { action: string; params: Record<string, unknown>; mutation: boolean; script?: string }[];
  graph?: PlannedGraphRequest[];
  manual?: string[];
  effect?: string;
  /** Go-live figures read when approval was asked: part of what the owners approve. */
  preview?: GoLiveFigures;
}

export interface Migration {
  id: string;
  name: string;
  kind: string;
  tenantId: string;
  domain: string;
  policy: ApprovalPolicy;
  ous: string[];
  /** Days Connect Sync stays disabled before decommissioning: at least 7, configurable upward only. */
  soakDays: number;
  /** Declared partial (coexistence): ends after its batches; Connect Sync is never disabled. */
  partial: boolean;
  /** OUs rolled back to Connect Sync: never moved again by this migration. */
  rolledBackOus: string[];
  /** Of those, the ones Cloud Sync's configuration still holds (paused): no later batch may start it again. */
  cloudHeldOus: string[];
  /** The runner on the Connect server this migration changes: its jobs and reads go to it and no other. */
  runnerName: string | null;
  /** Runbook-specific choices made at creation (e.g. `path` for the DirSync upgrade). */
  options: Record<string, string>;
  state: 'active' | 'completed' | 'cancelled';
  createdBy: Person;
  createdAt: Date;
  conversationId: string | null;
  overviewActivityId: string | null;
}

export interface StepRow {
  migrationId: string;
  seq: number;
  ord: number;
  key: string;
  batch: number | null;
  state: StepState;
  attempt: number;
  requestedBy: Person | null;
  requestedAt: Date | null;
  planHash: string | null;
  plan: StepPlan | null;
  jobId: string | null;
  evidence: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  activityId: string | null;
  updatedAt: Date;
  version: number;
  remindedAt: Date | null;
  escalatedAt: Date | null;
  /** An approved step outside its change window runs at this time. */
  runAfter: Date | null;
  /** The process running this step (Graph and manual actions): `<scope>#<boot id>`, with its lease for one attempt. */
  ownerId: string | null;
  leaseUntil: Date | null;
  leaseAttempt: number | null;
  /** Validated parameters of a step added for an incident (which job, which reset scope); null for runbook steps. */
  params: Record<string, unknown> | null;
}

/**
 * Who this engine is, for the owner lease of running steps. `scope` names what only one live process can be at a
 * time (a PGlite data directory, or host + listen address + port): an owner with the same scope and another boot id
 * is a previous incarnation of this process, so dead. The default scope suits one process per store.
 */
export interface EngineOwnerOptions {
  scope?: string;
  /** How long a running step stays owned without a renewal (default 60 s). */
  leaseMs?: number;
  /** How often the owner renews its leases while actions run (default a third of the lease). */
  renewMs?: number;
}

export type EngineEvent =
  | { type: 'migration-created'; migrationId: string }
  /**
   * From a click (act): `snapshot` is the step as the click left it and `previousState` its state before, so the card
   * can be rendered without reading it again (and nothing else changed when the state did not).
   */
  | { type: 'step-changed'; migrationId: string; seq: number; snapshot?: StepSnapshot; previousState?: StepState }
  | { type: 'approval-reminder'; migrationId: string; seq: number; escalate: boolean }
  /** The approval policy changed while this step waited: asked again of the owners as they are now. */
  | { type: 'approval-reasked'; migrationId: string; seq: number; policyChangeId: number; stillNeeded: number }
  /** A step now waits for approval (asked, asked again after a failure, or its approval was void): the owners are told. */
  | { type: 'approval-requested'; migrationId: string; seq: number; reason: 'requested' | 'retry' | 'voided' };

/** `done`: the person who does a manual step by hand says it is done, and its verification runs. */
export type Verb = 'request' | 'approve' | 'reject' | 'retry' | 'mark-done' | 'done';
export const VERBS: Verb[] = ['request', 'approve', 'reject', 'retry', 'mark-done', 'done'];

export interface ActInput {
  verb: Verb;
  migrationId: string;
  seq: number;
  /** The step version the card showed: a click on an older card changes nothing. */
  version: number;
  /** The approval request the card showed (approve/reject): another owner's approval in between still counts, a new request does not. */
  attempt?: number;
  actor: Person;
  comment?: string;
  confirmText?: string;
}

export interface ActResult {
  changed: boolean;
  /** A plain sentence for the person who clicked, when nothing changed or something needs saying. */
  notice?: string;
  /** The step as the click left it, with all its card shows: the clicker's card is rendered from it, not read again. */
  snapshot: StepSnapshot;
}

const STALE_NOTICE = 'This card was out of date, so nothing was done. Here is the current state.';

export class EngineError extends Error {
  constructor(
    public code: 'not-found' | 'invalid' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

const DONE: StepState[] = ['succeeded', 'skipped'];

/**
 * The runbook engine: the step state machine, its guards and approvals. Every transition is one
 * transaction with its audit row; actions run after the commit and report back into the machine.
 */
export class RunbookEngine {
  #listeners: ((e: EngineEvent) => void)[] = [];
  #inflight = new Set<Promise<unknown>>();
  readonly #scope: string;
  /** This process's owner id for the steps it runs. */
  readonly instanceId: string;
  readonly #leaseMs: number;
  readonly #renewMs: number;
  /** Graph and manual actions this process runs now: their leases are renewed until they end. */
  #owned = new Map<string, { migrationId: string; seq: number; attempt: number }>();
  #renewTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: { db: Db; clock: Clock; log: Logger; ports: EnginePorts; owner?: EngineOwnerOptions; tracer?: Tracer; ownersGroups?: OwnersGroupResolver },
  ) {
    this.#scope = deps.owner?.scope ?? 'local';
    this.instanceId = `${this.#scope}#${randomBytes(6).toString('hex')}`;
    this.#leaseMs = deps.owner?.leaseMs ?? 60_000;
    this.#renewMs = deps.owner?.renewMs ?? Math.max(1_000, Math.floor(this.#leaseMs / 3));
  }

  // ---------------------------------------------------------------- change owners (listed, and through a group)

  /** The migration's owners group, resolved (cache or Graph). Throws OwnersGroupUnavailable / OwnersGroupNotFound. */
  async ownersGroup(m: Pick<Migration, 'tenantId' | 'policy'>): Promise<OwnersGroup | null> {
    const id = m.policy.ownersGroup;
    if (!id) return null;
    if (!this.deps.ownersGroups) throw new OwnersGroupUnavailable(id, 'no Graph connection is configured for owner groups');
    return this.deps.ownersGroups.resolve(m.tenantId, id);
  }

  /**
   * Everyone who owns the migration's changes now. The group is read only when one of `needed` is not a listed owner
   * (a listed owner's decision never waits on Graph). Throws OwnersGroupUnavailable when it must be read and cannot.
   */
  async ownersFor(m: Pick<Migration, 'tenantId' | 'policy'>, needed?: (string | undefined | null)[]): Promise<OwnerSet> {
    const direct = directOwners(m.policy);
    if (!m.policy.ownersGroup) return direct;
    if (needed && needed.every((o) => !o || direct.has(o.toLowerCase()))) return direct;
    try {
      const g = await this.ownersGroup(m);
      return ownerSet(m.policy, g?.members.map((x) => x.id) ?? []);
    } catch (e) {
      // A group deleted since the policy named it has no members: the listed owners still decide.
      if (e instanceof OwnersGroupNotFound) return direct;
      throw e;
    }
  }

  /** Is this person a change owner of the migration now? False when the group cannot be read (fail closed). */
  async isOwnerNow(m: Pick<Migration, 'tenantId' | 'policy'>, oid: string | undefined): Promise<boolean> {
    if (!oid) return false;
    try {
      return isOwner(m.policy, oid, await this.ownersFor(m, [oid]));
    } catch (e) {
      if (e instanceof OwnersGroupUnavailable) return false;
      throw e;
    }
  }

  /** Owners for cards and mentions; never throws: when the group cannot be read, the listed owners and the reason. */
  async ownerView(m: Pick<Migration, 'tenantId' | 'policy'>): Promise<OwnerView> {
    const direct = m.policy.owners.map((o) => o.toLowerCase());
    if (!m.policy.ownersGroup) return { owners: new Set(direct), direct, group: null, groupError: null };
    try {
      const group = await this.ownersGroup(m);
      return { owners: ownerSet(m.policy, group?.members.map((x) => x.id) ?? []), direct, group, groupError: null };
    } catch (e) {
      if (e instanceof OwnersGroupUnavailable || e instanceof OwnersGroupNotFound) return { owners: new Set(direct), direct, group: null, groupError: e.message };
      throw e;
    }
  }

  on(listener: (e: EngineEvent) => void): void {
    this.#listeners.push(listener);
  }

  #emit(e: EngineEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.deps.log.error({ err }, 'engine listener failed');
      }
    }
  }

  /** Resolves when no action started by the engine is still running (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.#inflight.size) await Promise.allSettled([...this.#inflight]);
  }

  #track<T>(p: Promise<T>): void {
    const tracked = p
      .catch((err) => this.deps.log.error({ err }, 'engine background task failed'))
      .finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
  }

  // ---------------------------------------------------------------- migrations

  async createMigration(input: {
    name: string;
    kind: string;
    domain: string;
    tenantId: string;
    ous: string[];
    policy: ApprovalPolicy;
    requester: Person;
    conversationId: string | null;
    soakDays?: number;
    partial?: boolean;
    /** The runner (by name) on the Connect server; default the tenant's only runner. */
    runner?: string;
    options?: Record<string, string>;
  }): Promise<Migration> {
    const rb = runbookOf(input.kind);
    const now = this.deps.clock.now();
    const id = `${slug(input.name)}-${randomBytes(2).toString('hex')}`;
    const steps = planSteps(rb, rb.ous === 'batches' ? input.ous.length : 0);
    const soakDays = Math.max(7, input.soakDays ?? 7);
    const group = await this.#checkOwnersGroup({ tenantId: input.tenantId, policy: input.policy }, 'was created');
    const runnerName = await this.#chooseRunner(input.tenantId, input.runner);
    await this.deps.db.transaction(async (tx) => {
      const clash = await tx.query('SELECT id FROM migrations WHERE tenant_id = $3 AND conversation_id IS NOT DISTINCT FROM $1 AND lower(name) = lower($2)', [input.conversationId, input.name, input.tenantId]);
      if (clash.rows.length) throw new EngineError('conflict', `A migration named "${input.name}" already exists here.`);
      await tx.query(
        `INSERT INTO migrations (id, name, kind, tenant_id, domain, policy, params, created_by, created_at, conversation_id)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
        [id, input.name, input.kind, input.tenantId, input.domain, JSON.stringify(input.policy), JSON.stringify({ ous: input.ous, soakDays, partial: !!input.partial, ...(runnerName ? { runnerName } : {}), ...(input.options && Object.keys(input.options).length ? { options: input.options } : {}) }), JSON.stringify(input.requester), now.toISOString(), input.conversationId],
      );
      for (const s of steps) {
        await tx.query('INSERT INTO steps (migration_id, seq, ord, key, batch, state, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7)', [id, s.seq, s.ord, s.key, s.batch, 'pending', now.toISOString()]);
      }
      await appendAudit(tx, {
        migrationId: id,
        at: now,
        actor: input.requester,
        action: 'migration-created',
        details: { name: input.name, kind: input.kind, domain: input.domain, tenantId: input.tenantId, ous: input.ous, soakDays, partial: !!input.partial, ...(input.options ? { options: input.options } : {}), policy: input.policy, steps: steps.length, ...(group ? { ownersGroup: { id: group.id, name: group.name, members: group.members.length } } : {}) },
      });
    });
    this.#emit({ type: 'migration-created', migrationId: id });
    return (await this.getMigration(id))!;
  }

  /**
   * A policy naming an owners group: the group must exist and be readable now, and quorum must be reachable by the
   * listed owners plus its members. Otherwise nothing changes (EngineError with the reason).
   */
  async #checkOwnersGroup(m: Pick<Migration, 'tenantId' | 'policy'>, what: string): Promise<OwnersGroup | null> {
    if (!m.policy.ownersGroup) return null;
    let group: OwnersGroup | null;
    try {
      group = await this.ownersGroup(m);
    } catch (e) {
      if (e instanceof OwnersGroupNotFound) throw new EngineError('invalid', `${e.message} Nothing ${what}.`);
      if (e instanceof OwnersGroupUnavailable) throw new EngineError('invalid', `${e.message} Nothing ${what}; try again when Graph answers.`);
      throw e;
    }
    const everyone = ownerSet(m.policy, group?.members.map((x) => x.id) ?? []);
    if (m.policy.quorum > everyone.size) throw new EngineError('invalid', `${m.policy.quorum} approvals are required but the listed owners and the group "${group?.name ?? m.policy.ownersGroup}" make ${everyone.size} change owner(s). Nothing ${what}.`);
    return group;
  }

  /**
   * Which runner a new migration is bound to: the one named, else the tenant's only runner. Several and none named is
   * refused (jobs that change a Connect server must reach that server); none yet binds at the first job.
   */
  async #chooseRunner(tenantId: string, name: string | undefined): Promise<string | null> {
    const runners = await this.deps.ports.runner.runners(tenantId);
    if (name) {
      const hit = runners.find((r) => r.name.toLowerCase() === name.toLowerCase());
      if (!hit) throw new EngineError('invalid', `There is no runner "${name}" in this tenant (say "runners"). Nothing was created.`);
      return hit.name;
    }
    if (runners.length > 1) throw new EngineError('invalid', `This tenant has ${runners.length} runners (${runners.map((r) => r.name).join(', ')}): name the one on this migration's Connect server with runner=<name>. Nothing was created.`);
    return runners[0]?.name ?? null;
  }

  /**
   * The migration's runner (by name: a runner rotated under the same name keeps serving it); an unbound migration (no
   * runner existed at creation) is bound to the tenant's only one now.
   */
  async runnerOf(m: Migration): Promise<string> {
    const runners = await this.deps.ports.runner.runners(m.tenantId);
    if (m.runnerName) {
      const live = runners.find((r) => r.name.toLowerCase() === m.runnerName!.toLowerCase());
      if (!live) throw new EngineError('invalid', `${m.name} is bound to the runner "${m.runnerName}", which is not registered any more (revoked?): register it again under that name on its Connect server.`);
      return live.name;
    }
    if (runners.length !== 1) throw new EngineError('invalid', runners.length ? `${m.name} is bound to no runner and this tenant has ${runners.length}: bind it before running steps.` : 'No runner is registered for this tenant: add one on the Connect server first (say "help").');
    await this.deps.db.query(`UPDATE migrations SET params = params || $2::jsonb WHERE id = $1 AND NOT (params ? 'runnerName')`, [m.id, JSON.stringify({ runnerName: runners[0].name })]);
    m.runnerName = (await this.getMigration(m.id))?.runnerName ?? runners[0].name;
    return m.runnerName;
  }

  /** A read on the migration's own runner (its Connect server; checked live by runnerOf when the click began). */
  async #read(m: Migration, action: string, params: Record<string, unknown>): Promise<any> {
    return this.deps.ports.runner.read(m.tenantId, action, params, { runnerName: m.runnerName ?? (await this.runnerOf(m)) });
  }

  async getMigration(id: string): Promise<Migration | null> {
    const r = (await this.deps.db.query('SELECT * FROM migrations WHERE id = $1', [id])).rows[0];
    return r ? toMigration(r) : null;
  }

  /** A migration by id or by name, within a conversation when one is given. */
  async findMigration(ref: string, conversationId?: string | null): Promise<Migration | null> {
    const rows = (
      await this.deps.db.query(
        'SELECT * FROM migrations WHERE (id = $1 OR lower(name) = lower($1)) AND ($2::text IS NULL OR conversation_id = $2) ORDER BY created_at DESC',
        [ref, conversationId ?? null],
      )
    ).rows;
    return rows[0] ? toMigration(rows[0]) : null;
  }

  async listMigrations(opts: { conversationId?: string | null; state?: string } = {}): Promise<Migration[]> {
    const rows = (
      await this.deps.db.query(
        'SELECT * FROM migrations WHERE ($1::text IS NULL OR conversation_id = $1) AND ($2::text IS NULL OR state = $2) ORDER BY created_at ASC',
        [opts.conversationId ?? null, opts.state ?? null],
      )
    ).rows;
    return rows.map(toMigration);
  }

  /** The migration's home: the thread its overview started in the channel, and the overview's post. */
  async setHome(migrationId: string, conversationId: string, overviewActivityId: string): Promise<void> {
    await this.deps.db.query('UPDATE migrations SET conversation_id = $2, overview_activity_id = $3 WHERE id = $1', [migrationId, conversationId, overviewActivityId]);
  }

  async setStepActivity(migrationId: string, seq: number, activityId: string): Promise<void> {
    await this.deps.db.query('UPDATE steps SET activity_id = $3 WHERE migration_id = $1 AND seq = $2', [migrationId, seq, activityId]);
  }

  async getSteps(migrationId: string): Promise<StepRow[]> {
    return (await this.deps.db.query('SELECT * FROM steps WHERE migration_id = $1 ORDER BY ord, seq', [migrationId])).rows.map(toStep);
  }

  async getStep(migrationId: string, seq: number): Promise<StepRow | null> {
    const r = (await this.deps.db.query('SELECT * FROM steps WHERE migration_id = $1 AND seq = $2', [migrationId, seq])).rows[0];
    return r ? toStep(r) : null;
  }

  async getApprovals(migrationId: string, seq: number, attempt: number): Promise<ApprovalRecord[]> {
    return (await this.deps.db.query('SELECT * FROM approvals WHERE migration_id = $1 AND seq = $2 AND attempt = $3 ORDER BY at', [migrationId, seq, attempt])).rows.map(toApproval);
  }

  /**
   * A step with all its card shows, in one statement: the migration, the step, every step's progress, the decisions on
   * its current approval request (each with its approver's name) and the names of its listed owners cutover has seen
   * (the people table); then its owners (the owners group through Graph, cached) and, for a group, the names of its
   * members seen (one more statement). Null when the
   * migration or the step does not exist, or (`tenantId`) the migration is another tenant's: its owners group is then
   * never looked up.
   */
  async stepSnapshot(migrationId: string, seq: number, opts: { tenantId?: string } = {}): Promise<StepSnapshot | null> {
    // json, not jsonb: built only to be sent, json is much cheaper to make (on PGlite it halved this statement's cost).
    // Owners are stored lower-case (creation and policy changes lower-case them), so `?` finds their people rows.
    const r = (
      await this.deps.db.query(
        `SELECT m.*, to_json(s) AS step_json,
           (SELECT json_agg(json_build_object('seq', x.seq, 'ord', x.ord, 'key', x.key, 'batch', x.batch, 'state', x.state, 'activityId', x.activity_id,
                     'evidence', CASE WHEN x.state = 'skipped' OR (x.state = 'succeeded' AND x.key = ANY($3::text[])) THEN x.evidence END) ORDER BY x.ord, x.seq)
              FROM steps x WHERE x.migration_id = m.id) AS steps_json,
           (SELECT json_agg(a ORDER BY a.at) FROM approvals a WHERE a.migration_id = m.id AND a.seq = s.seq AND a.attempt = s.attempt) AS approvals_json,
           (SELECT json_object_agg(p.oid, json_build_object('name', p.name, 'teamsId', p.teams_id)) FROM people p WHERE (m.policy->'owners') ? p.oid) AS people_json
         FROM migrations m JOIN steps s ON s.migration_id = m.id AND s.seq = $2
         WHERE m.id = $1`,
        [migrationId, seq, EFFECT_EVIDENCE_KEYS],
      )
    ).rows[0];
    if (!r) return null;
    const migration = toMigration(r);
    if (opts.tenantId !== undefined && migration.tenantId !== opts.tenantId) return null;
    const owners = await this.ownerView(migration);
    const people: Record<string, PersonSeen> = r.people_json ?? {};
    // Names not found above: the owners group's members, and listed owners stored in another case (older rows).
    const unnamed = [...new Set([...migration.policy.owners.filter((o) => o !== o.toLowerCase()), ...(owners.group?.members ?? []).map((x) => x.id)].map((o) => o.toLowerCase()))].filter((o) => !people[o]);
    if (unnamed.length) {
      for (const p of (await this.deps.db.query('SELECT oid, name, teams_id FROM people WHERE oid = ANY($1::text[])', [unnamed])).rows) people[p.oid] = { name: p.name, teamsId: p.teams_id };
    }
    return {
      migration,
      step: toStep(r.step_json),
      steps: ((r.steps_json ?? []) as any[]).map((x) => ({ seq: x.seq, ord: Number(x.ord ?? x.seq), key: x.key, batch: x.batch, state: x.state, evidence: x.evidence ?? null, activityId: x.activityId ?? null })),
      approvals: ((r.approvals_json ?? []) as any[]).map(toApproval),
      owners,
      people,
    };
  }

  /** A stored step with its definition (the row is the truth: batches and rollbacks are added later). */
  plannedStep(m: Migration, row: { seq: number; key: string; batch: number | null; ord?: number; params?: Record<string, unknown> | null }): PlannedStep {
    return plannedStepOf(m, row);
  }

  context(m: Migration, batch: number | null, rollback = false): MigrationContext {
    return migrationContext(m, batch, rollback);
  }

  /** The context a stored step runs in (rollback steps see the OUs they take back; a step with parameters, those). */
  stepContext(m: Migration, step: { key: string; batch: number | null; params?: Record<string, unknown> | null }): MigrationContext {
    return stepContextOf(m, step);
  }

  /** What earlier steps proved, by step key (the latest batch's evidence wins). */
  async facts(migrationId: string): Promise<Facts> {
    const out: Facts = {};
    for (const s of await this.getSteps(migrationId)) if (s.state === 'succeeded' && s.evidence) out[s.key] = s.evidence;
    return out;
  }

  /** What a step will do, exactly as it will be run: approvers approve this (by hash). */
  async planFor(m: Migration, step: PlannedStep): Promise<StepPlan> {
    const ctx = this.stepContext(m, step);
    const def = step.def;
    const facts = await this.#facts(m, step);
    const effect = def.effect?.(ctx, facts);
    const describe = (seq: NonNullable<StepDefinition['preview']>['reads']) => seq.map((a) => this.deps.ports.runner.describe(typeof a.action === 'function' ? a.action(ctx) : a.action, a.params(ctx)));
    const preview = def.preview ? await this.#preview(m, ctx, def.preview) : undefined;
    const extra = { effect, ...(preview ? { preview } : {}) };
    switch (def.action.kind) {
      case 'manual': {
        const verify = def.action.verify;
        if (!verify) return { manual: def.action.checklist, ...extra };
        return verify.kind === 'runner'
          ? { manual: def.action.checklist, runner: describe(verify.sequence), ...extra }
          : { manual: def.action.checklist, graph: await this.deps.ports.graph.describe(verify.operation, ctx, await this.facts(m.id)), ...extra };
      }
      case 'runner':
        return { runner: describe(def.action.sequence), ...extra };
      case 'graph':
        return { graph: await this.deps.ports.graph.describe(def.action.operation, ctx, await this.facts(m.id)), ...extra };
    }
  }

  /** The go-live figures, read now from the migration's runner (each read as the step's plan will show it). */
  async #preview(m: Migration, ctx: MigrationContext, preview: NonNullable<StepDefinition['preview']>): Promise<GoLiveFigures> {
    const results: any[] = [];
    for (const r of preview.reads) results.push(await this.#read(m, typeof r.action === 'function' ? r.action(ctx) : r.action, r.params(ctx)));
    return preview.figures(results, ctx);
  }

  /** Facts earlier steps established, used to state a step's effect (the domain's and the OU's counts, related steps). */
  async #facts(m: Migration, step: PlannedStep): Promise<EffectFacts> {
    return effectFacts(await this.getSteps(m.id), step.batch, (r) => this.plannedStep(m, r).def.title);
  }

  // ---------------------------------------------------------------- transitions

  /**
   * One click on a step card. Never throws for a user's mistake: the notice says what happened. `before`: the step as
   * the click's card was checked against, read just now (the bot reads one snapshot per click); read here otherwise.
   * The result carries the step as the click left it (the transaction returns what it read and wrote), and so does the
   * step-changed event, so neither the clicker's card nor the channel's needs another read.
   */
  async act(input: ActInput, opts: { before?: StepSnapshot } = {}): Promise<ActResult> {
    const before = opts.before ?? (await this.stepSnapshot(input.migrationId, input.seq));
    if (!before) {
      const m = await this.getMigration(input.migrationId);
      throw new EngineError('not-found', m ? `Step ${input.seq} does not exist in ${m.name}.` : 'That migration does not exist (any more).');
    }
    const m = before.migration;
    if (m.state === 'cancelled') return { changed: false, notice: `${m.name} was cancelled: none of its steps runs any more, and nothing was changed.`, snapshot: before };
    const planned = this.plannedStep(m, before.step);
    // A decision from a card whose request has ended (decided, expired, or a later attempt) stays stale whatever
    // happens next: attempts only grow, and an attempt waits for approval once. Answer it without the owner lookup
    // and the transaction (under load most clicks are on old cards). The transaction re-checks everything else.
    if ((input.verb === 'approve' || input.verb === 'reject') && (before.step.attempt > (input.attempt ?? before.step.attempt) || (before.step.attempt === input.attempt && before.step.state !== 'awaiting_approval'))) {
      return { changed: false, notice: STALE_NOTICE, snapshot: before };
    }

    // Precondition checks that talk to other systems run before the transaction (never hold it across I/O).
    let plan: StepPlan | null = null;
    if ((input.verb === 'request' || input.verb === 'retry') && input.version === before.step.version) {
      // A refusal after these reads (the runner's answers take time) shows the step as it is by then.
      const refuse = async (notice: string): Promise<ActResult> => ({ changed: false, notice, snapshot: (await this.stepSnapshot(m.id, input.seq)) ?? before });
      const gate = await this.#sequenceGate(m, planned);
      if (gate) return refuse(gate);
      try {
        await this.runnerOf(m); // plans and guards read the migration's own Connect server
      } catch (e) {
        if (e instanceof EngineError) return refuse(`${e.message} Nothing was changed.`);
        throw e;
      }
      const guard = await this.#checkGuards(m, planned);
      if (guard) return refuse(guard);
      try {
        plan = await this.planFor(m, planned);
      } catch (err: any) {
        // The plan shows facts read now (e.g. the OU's identities, from the runner): without them nothing is asked.
        this.deps.log.warn({ migrationId: m.id, step: before.step.seq, err: err?.message ?? String(err) }, 'could not prepare the plan of a step');
        return refuse(`The plan for this step could not be prepared: ${err?.message ?? err}. Nothing was changed; try again.`);
      }
    }
    // Who owns the migration now (its owners group read through Graph, cached briefly) is settled before the
    // transaction too. Graph unreachable: only the listed owners can decide (fail closed), and nothing changes.
    let owners: OwnerSet = directOwners(m.policy);
    if (input.verb === 'approve' || input.verb === 'reject' || input.verb === 'mark-done' || input.verb === 'done') {
      const decided = input.verb === 'mark-done' || input.verb === 'done' ? [] : before.approvals.map((r) => r.approverOid);
      try {
        owners = await this.ownersFor(m, [input.actor.oid, ...decided]);
      } catch (e) {
        if (!(e instanceof OwnersGroupUnavailable)) throw e;
        this.deps.log.warn({ migrationId: m.id, group: e.groupId, reason: e.reason }, 'owners group unreadable: only listed owners can decide');
        if (!isOwner(m.policy, input.actor.oid)) {
          return { changed: false, notice: `${e.message} You are not listed as a change owner by object id, and membership of the owners group cannot be checked now, so your decision was refused and nothing changed. Try again in a few minutes.`, snapshot: before };
        }
      }
    }

    const now = this.deps.clock.now();
    let launch = false;
    let verifyNow = false;
    let asked = false;
    /** What the transaction decided, the step's state it found, and the step and its decisions as it left them. */
    type Outcome = { changed: boolean; notice?: string; from: StepState; step: StepRow; approvals: ApprovalRecord[]; completed?: boolean };
    const out = await this.deps.db.transaction(async (tx): Promise<Outcome> => {
      await tx.query('SELECT id FROM migrations WHERE id = $1 FOR UPDATE', [m.id]);
      // Read after the lock, in a statement of its own (on PostgreSQL a statement sees what was committed when it
      // began): the step, the decisions on its current request, and the audit chain's head its row will chain to.
      const row = (
        await tx.query(
          `SELECT s.*,
             (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.at), '[]'::jsonb) FROM approvals a WHERE a.migration_id = s.migration_id AND a.seq = s.seq AND a.attempt = s.attempt) AS decisions,
             (SELECT hash FROM audit WHERE migration_id = s.migration_id ORDER BY id DESC LIMIT 1) AS audit_head
           FROM steps s WHERE s.migration_id = $1 AND s.seq = $2`,
          [m.id, input.seq],
        )
      ).rows[0];
      const step = toStep(row);
      const records = (row.decisions as any[]).map(toApproval);
      const known = { head: (row.audit_head as string | null) ?? null };
      const def = planned.def;
      const from = step.state;
      const stale: Outcome = { changed: false, notice: STALE_NOTICE, from, step, approvals: records };
      const unchanged = (notice: string): Outcome => ({ changed: false, notice, from, step, approvals: records });

      switch (input.verb) {
        case 'request':
        case 'retry': {
          if (input.version !== step.version || !plan) return stale;
          const allowed: StepState[] = input.verb === 'request' ? ['pending', 'rejected'] : ['failed', 'lost'];
          if (!allowed.includes(step.state)) return stale;
          const planHash = sha256(canonicalJson(plan));
          const attempt = step.attempt + 1;
          if (def.approval === 'none') {
            const next = await this.#update(tx, step, { state: 'running', attempt, requestedBy: input.actor, requestedAt: now, plan, planHash, error: null, evidence: null, jobId: null }, now);
            await appendAudit(tx, { migrationId: m.id, at: now, actor: input.actor, action: input.verb === 'retry' ? 'step-retried' : 'step-run', stepSeq: step.seq, details: { key: step.key, attempt, plan } }, known);
            launch = true;
            return { changed: true, from, step: next, approvals: [] };
          }
          const next = await this.#update(tx, step, { state: 'awaiting_approval', attempt, requestedBy: input.actor, requestedAt: now, plan, planHash, error: null, evidence: null, jobId: null, remindedAt: null, escalatedAt: null }, now);
          await appendAudit(
            tx,
            {
              migrationId: m.id,
              at: now,
              actor: input.actor,
              action: input.verb === 'retry' ? 'retry-requested' : 'approval-requested',
              stepSeq: step.seq,
              details: { key: step.key, attempt, planHash, plan, quorum: requiredQuorum(m.policy, def.approval) },
            },
            known,
          );
          asked = true;
          return { changed: true, from, step: next, approvals: [] }; // a new request: no decision on it yet
        }
        case 'approve':
        case 'reject': {
          if (step.state !== 'awaiting_approval' || input.attempt !== step.attempt) return stale;
          if (def.approval === 'sensitive' && input.verb === 'approve' && (input.confirmText ?? '').trim() !== m.name) {
            return unchanged(`This step cannot be undone. Type the migration's name (${m.name}) in the confirmation box to approve it.`);
          }
          const blocker = step.plan?.preview?.blocker;
          if (blocker && input.verb === 'approve' && (input.confirmText ?? '').trim() !== m.name) {
            return unchanged(`${blocker} To approve anyway, type the migration's name (${m.name}) in the confirmation box; or reject, fix it, and ask again.`);
          }
          const req = { requester: step.requestedBy!, requestedAt: step.requestedAt!, planHash: step.planHash!, kind: def.approval };
          const may = mayDecide(m.policy, req, records, input.actor, now, input.verb, owners);
          if (!may.ok) return unchanged(may.reason);
          const decision: ApprovalRecord = { approverOid: input.actor.oid.toLowerCase(), approverName: input.actor.name, decision: input.verb, at: now, planHash: step.planHash!, comment: input.comment ?? null };
          await tx.query(
            'INSERT INTO approvals (migration_id, seq, attempt, approver_oid, approver_name, decision, comment, plan_hash, at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)',
            [m.id, step.seq, step.attempt, decision.approverOid, decision.approverName, decision.decision, decision.comment, decision.planHash, now.toISOString()],
          );
          const all = [...records, decision];
          const verdict = evaluate(m.policy, req, all, now, owners);
          await appendAudit(tx, { migrationId: m.id, at: now, actor: input.actor, action: input.verb === 'approve' ? 'approved' : 'rejected', stepSeq: step.seq, details: { key: step.key, attempt: step.attempt, planHash: step.planHash, comment: input.comment ?? null, verdict: verdict.status } }, known);
          let next: StepRow;
          if (verdict.status === 'rejected') {
            next = await this.#update(tx, step, { state: 'rejected' }, now);
          } else if (verdict.status === 'approved') {
            next = await this.#update(tx, step, { state: 'approved' }, now);
            launch = true;
          } else {
            next = await this.#update(tx, step, {}, now); // version bump: every viewer's card shows the new approval
          }
          return { changed: true, from, step: next, approvals: all };
        }
        case 'done': {
          // The person did the manual change: its verification runs now (a runner job, or a Graph check).
          if (input.version !== step.version) return stale;
          if (!awaitingOperator(step, def)) return stale;
          if (!isOwner(m.policy, input.actor.oid, owners) && input.actor.oid.toLowerCase() !== step.requestedBy?.oid.toLowerCase()) {
            return unchanged('Only the person who asked for this step or a change owner can say it is done.');
          }
          const evidence = { ...(step.evidence ?? {}), awaitingOperator: false, doneBy: input.actor.name, doneAt: now.toISOString() };
          const next = await this.#update(tx, step, { evidence, error: null }, now);
          await appendAudit(tx, { migrationId: m.id, at: now, actor: input.actor, action: 'operator-done', stepSeq: step.seq, details: { key: step.key, attempt: step.attempt } }, known);
          verifyNow = true;
          return { changed: true, from, step: next, approvals: records };
        }
        case 'mark-done': {
          if (input.version !== step.version) return stale;
          if (step.state !== 'lost' && !(step.state === 'failed' && def.action.kind === 'manual')) return stale;
          if (!isOwner(m.policy, input.actor.oid, owners)) return unchanged('Only a change owner can mark a step done after checking it by hand.');
          const next = await this.#update(tx, step, { state: 'succeeded', evidence: { ...(step.evidence ?? {}), markedDoneBy: input.actor.name, markedDoneAt: now.toISOString(), note: 'Checked by hand after the runner went silent.' } }, now);
          await appendAudit(tx, { migrationId: m.id, at: now, actor: input.actor, action: 'marked-done', stepSeq: step.seq, details: { key: step.key, from: step.state } }, known);
          const completed = await this.#completeIfDone(tx, m.id, now);
          return { changed: true, from, step: next, approvals: records, completed };
        }
      }
    });
    const snapshot: StepSnapshot = {
      ...before,
      migration: out.completed ? { ...m, state: 'completed' } : m,
      step: out.step,
      steps: before.steps.map((s) => (s.seq === out.step.seq ? progressOf(out.step, EFFECT_EVIDENCE_KEYS) : s)),
      approvals: out.approvals,
    };
    if (out.changed) this.#emit({ type: 'step-changed', migrationId: m.id, seq: input.seq, snapshot, previousState: out.from });
    if (launch) this.#track(this.#startAction(m.id, input.seq));
    if (verifyNow) this.#track(this.#verifyOperatorStep(m.id, input.seq));
    if (asked) this.#emit({ type: 'approval-requested', migrationId: m.id, seq: input.seq, reason: input.verb === 'retry' ? 'retry' : 'requested' });
    return { changed: out.changed, ...(out.notice ? { notice: out.notice } : {}), snapshot };
  }

  async #sequenceGate(m: Migration, planned: PlannedStep): Promise<string | null> {
    const steps = await this.getSteps(m.id);
    const blocker = steps.find((s) => s.ord < planned.ord && !DONE.includes(s.state));
    if (!blocker) return null;
    const def = this.plannedStep(m, blocker).def;
    return `Step ${steps.indexOf(blocker) + 1} (${def.title}) must be done first.`;
  }

  async #checkGuards(m: Migration, planned: PlannedStep): Promise<string | null> {
    const ctx = this.stepContext(m, planned);
    for (const g of planned.def.guards ?? []) {
      try {
        if (g === 'ou-in-connect-scope' && ctx.ou) {
          const scope = (await this.#read(m, 'get-connector-scope', {})) as ConnectScope;
          const v = ouInConnectScope(scope, ctx.ou);
          if (!v.inScope) return `${ctx.ou} is not wholly in Connect Sync's scope: ${v.detail}. Keep the OU in Connect Sync scope during migration (seed 001): put it back in the Connect wizard first.`;
        }
        if (g === 'ou-not-rolled-back') {
          const back = m.rolledBackOus.find((o) => ctx.ou && normalizeDn(o) === normalizeDn(ctx.ou));
          if (back) return `${back} was rolled back to Connect Sync: no batch takes it to Cloud Sync again in this migration.`;
          if (m.cloudHeldOus.length) return `${cloudHeldReason(m)} No later batch runs on it.`;
        }
        if (g === 'scheduler-not-held-elsewhere') {
          const holder = await this.#schedulerHolder(m);
          if (holder) return `"${holder.name}" stopped the Connect Sync scheduler of this server at ${holder.since.toISOString()} and is making its no-flow rules: starting the scheduler now would let a sync cycle run on half-made rules (two migrations must not interleave one server's scheduler). Wait until its rules step is done.`;
        }
        if (g === 'connect-scope-migrated') {
          const left = await this.#connectScopeRemainder(m, ctx);
          if (left) return left;
        }
        if (g === 'previous-batch-clear' && (ctx.batch ?? 1) > 1) {
          const open = (await this.deps.ports.openCriticalAlerts?.(m.id)) ?? [];
          if (open.length) return `Batch ${ctx.batch} cannot start while the migration has open critical alerts: ${open.map((a) => a.title).join('; ')}. Resolve them first.`;
          const prev = (await this.getSteps(m.id)).filter((s) => s.batch !== null && s.batch < ctx.batch! && !DONE.includes(s.state));
          if (prev.length) return `Batch ${ctx.batch} cannot start before batch ${prev[0].batch} is done.`;
        }
        if (g === 'soak-elapsed') {
          const disabled = (await this.getSteps(m.id)).find((s) => s.key === 'disable-connect-sync' && s.state === 'succeeded');
          if (!disabled) return 'Connect Sync has not been disabled yet: the soak starts when it is.';
          const ends = new Date(disabled.updatedAt.getTime() + m.soakDays * 86_400_000);
          if (this.deps.clock.now() < ends) return `The soak lasts ${m.soakDays} days after Connect Sync was disabled (${disabled.updatedAt.toISOString()}): it ends ${ends.toISOString()}. Keep the server disabled, not uninstalled, until then.`;
        }
        if (g === 'no-sync-cycle-running') {
          const s = await this.#read(m, 'get-scheduler', {});
          if (s.SyncCycleInProgress) return 'A Connect Sync cycle is running now; wait for it to end and ask again.';
        }
      } catch (err: any) {
        return `The check "${g}" could not be made: ${err?.message ?? err}. Nothing was changed.`;
      }
    }
    return null;
  }

  /**
   * The step of this migration that holds the Connect Sync scheduler off now, if one does: the last succeeded step that
   * set it (stop-scheduler, disable-connect-sync, start-scheduler, a rollback's start) said enabled=false. Connect keeps
   * no "disabled since" anywhere (Get-ADSyncScheduler has no such field), so cutover's records are the only source.
   */
  async schedulerHold(migrationId: string): Promise<SchedulerHold | null> {
    const m = await this.getMigration(migrationId);
    return m ? this.#holdOf(m, await this.getSteps(migrationId)) : null;
  }

  #holdOf(m: Migration, steps: StepRow[]): SchedulerHold | null {
    let hold: SchedulerHold | null = null;
    const rows = steps.filter((s) => s.state === 'succeeded' && s.plan?.runner?.some((a) => a.action === 'set-scheduler'));
    rows.sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime());
    for (const s of rows) {
      const runner = s.plan!.runner ?? [];
      const last = [...runner].reverse().find((a) => a.action === 'set-scheduler')!;
      hold = last.params.enabled === false
        ? { since: s.updatedAt, stepTitle: this.plannedStep(m, s).def.title, serviceStopped: runner.some((a) => a.action === 'set-adsync-service' && a.params.running === false) }
        : null;
    }
    return hold;
  }

  /** Any active migration of the tenant holding the scheduler off. */
  async schedulerHeldInTenant(tenantId: string): Promise<SchedulerHold | null> {
    for (const m of await this.listMigrations({ state: 'active' })) {
      if (m.tenantId !== tenantId) continue;
      const h = await this.schedulerHold(m.id);
      if (h) return h;
    }
    return null;
  }

  /**
   * Another active migration on the same Connect server (tenant and runner) in the middle of its rule change: it has
   * stopped the scheduler and its no-flow rules have not yet been made (or removed) and fully synchronized. Starting
   * the scheduler now would let a cycle run on half-made rules.
   */
  async #schedulerHolder(m: Migration): Promise<{ name: string; since: Date } | null> {
    for (const other of await this.listMigrations({ state: 'active' })) {
      if (other.id === m.id || other.tenantId !== m.tenantId) continue;
      if (m.runnerName && other.runnerName && m.runnerName.toLowerCase() !== other.runnerName.toLowerCase()) continue; // another server
      const steps = await this.getSteps(other.id);
      const hold = this.#holdOf(other, steps);
      if (!hold) continue;
      const rulesDone = steps.some(
        (s) => s.state === 'succeeded' && s.updatedAt >= hold.since && (s.plan?.runner ?? []).some((a) => a.action === 'create-noflow-rules' || a.action === 'remove-noflow-rules'),
      );
      if (!rulesDone) return { name: other.name, since: hold.since };
    }
    return null;
  }

  /**
   * Objects still served only by Connect Sync: everything in its scope (selected partitions, inclusions less
   * exclusions) outside the migration's batch OUs. Null when nothing is left; otherwise the refusal, per OU and type.
   */
  async #connectScopeRemainder(m: Migration, ctx: MigrationContext): Promise<string | null> {
    if (m.partial) return null;
    const scope = (await this.#read(m, 'get-connector-scope', {})) as ConnectScope;
    if (scope.groupFilteringGroupDn) {
      return `Connect Sync uses group-based filtering (${scope.groupFilteringGroupDn}), so cutover cannot tell which objects it still serves. Check by hand, or declare the migration partial; Connect Sync stays enabled.`;
    }
    const batchOus = ctx.batchOus;
    const rows: Array<{ dn: string; users: number; groups: number; contacts: number }> = [];
    for (const p of scope.partitions ?? [{ name: '', selected: true, includedContainers: scope.includedContainers ?? [], excludedContainers: scope.excludedContainers ?? [] }]) {
      if (!p.selected) continue;
      for (const inc of p.includedContainers) {
        const r = await this.#read(m, 'ad-count-by-ou', { base: inc, excludeContainers: [...p.excludedContainers, ...batchOus].filter((c) => isUnder(c, inc)) });
        for (const c of r.containers ?? []) rows.push({ dn: c.dn, users: (c.users ?? 0) + (c.inetOrgPersons ?? 0), groups: c.groups ?? 0, contacts: c.contacts ?? 0 });
      }
    }
    const left = rows.filter((r) => r.users + r.groups + r.contacts > 0);
    if (!left.length) return null;
    const total = (k: 'users' | 'groups' | 'contacts') => left.reduce((n, r) => n + r[k], 0);
    left.sort((a, b) => b.users + b.groups + b.contacts - (a.users + a.groups + a.contacts));
    const per = left.slice(0, 10).map((r) => `${r.dn}: ${r.users} users, ${r.groups} groups, ${r.contacts} contacts`).join('; ');
    return (
      `Connect Sync still serves ${total('users')} users, ${total('groups')} groups and ${total('contacts')} contacts that no batch has moved to Cloud Sync: ${per}${left.length > 10 ? `; and ${left.length - 10} more containers` : ''}. ` +
      'Disabling Connect Sync now would strand them (seed 002: "When all users are managed by Cloud Sync…"). Add batches for them, or declare the migration partial (coexistence) and keep Connect Sync running.'
    );
  }

  /**
   * Writes the step as patched (its version bumped) and answers the row as written. Moving to running takes this
   * process's owner lease in the same statement: no moment where a step runs unowned (another process's recovery would
   * leave such a step alone for a lease's grace).
   */
  async #update(tx: Sql, step: StepRow, patch: Partial<StepRow>, now: Date): Promise<StepRow> {
    const n = { ...step, ...patch };
    const lease = patch.state === 'running';
    const r = await tx.query(
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
        ...(lease ? [this.instanceId, new Date(now.getTime() + this.#leaseMs).toISOString()] : []),
      ],
    );
    return toStep(r.rows[0]);
  }

  /** Moves a step and records it, in one transaction, if it is still in the expected state. */
  async #transition(migrationId: string, seq: number, expect: StepState[], patch: Partial<StepRow>, audit: { action: string; details: Record<string, unknown> }, guard?: (s: StepRow) => boolean): Promise<boolean> {
    const now = this.deps.clock.now();
    const ok = await this.deps.db.transaction(async (tx) => {
      await tx.query('SELECT id FROM migrations WHERE id = $1 FOR UPDATE', [migrationId]);
      // After the lock, in a statement of its own: the step and the audit chain's head its row will chain to.
      const row = (await tx.query('SELECT s.*, (SELECT hash FROM audit WHERE migration_id = s.migration_id ORDER BY id DESC LIMIT 1) AS audit_head FROM steps s WHERE s.migration_id = $1 AND s.seq = $2', [migrationId, seq])).rows[0];
      const step = toStep(row);
      if (!expect.includes(step.state) || (guard && !guard(step))) return false;
      await this.#update(tx, step, patch, now);
      await appendAudit(tx, { migrationId, at: now, actor: null, action: audit.action, stepSeq: seq, details: { key: step.key, attempt: step.attempt, ...audit.details } }, { head: row.audit_head ?? null });
      await this.#completeIfDone(tx, migrationId, now);
      return true;
    });
    if (ok) this.#emit({ type: 'step-changed', migrationId, seq });
    return ok;
  }

  // ---------------------------------------------------------------- running actions

  /** Approved → running: re-checks the plan (what runs is exactly what was approved), then starts the action. */
  async #startAction(migrationId: string, seq: number): Promise<void> {
    const { m, step } = await this.#persist(async () => ({ m: (await this.getMigration(migrationId))!, step: (await this.getStep(migrationId, seq))! }));
    const planned = this.plannedStep(m, step);
    if (step.state === 'approved') {
      try {
        if (!(await this.#checkApprovedAndStart(m, step, planned))) return;
      } catch (err: any) {
        // Nothing ran (the re-check itself failed): say so on the card rather than leave "Approved — starting".
        await this.#persist(() => this.#transition(
          migrationId,
          seq,
          ['approved'],
          { state: 'failed', runAfter: null, error: { code: err?.code ?? err?.name ?? 'Error', message: `Could not start: ${String(err?.message ?? err)} The action did not run; Retry asks for approval again.` } },
          { action: 'step-failed', details: { reason: 'start-failed', error: String(err?.message ?? err) } },
          (s) => s.attempt === step.attempt,
        ));
        return;
      }
    }
    await this.#runStarted(m, planned, migrationId, seq);
  }

  /**
   * A store read or write that must not be dropped by a short database outage (a restart, a failover): without it a
   * step would stay "approved" or "running" with nothing behind it until the next restart. Retried with backoff for
   * about a minute; after that the error is logged and recover() settles the step at the next start.
   */
  #persist<T>(fn: () => Promise<T>): Promise<T> {
    return pRetry(fn, { retries: 8, minTimeout: 250, maxTimeout: 15_000, onFailedAttempt: ({ error, attemptNumber }) => this.deps.log.warn({ err: error, attempt: attemptNumber }, 'store unavailable while starting or settling a step; retrying') });
  }

  /** The approved phase of a start: true once the step is running; false if it waits, is re-asked or was refused. */
  async #checkApprovedAndStart(m: Migration, step: StepRow, planned: PlannedStep): Promise<boolean> {
    const { id: migrationId } = m;
    const { seq } = step;
    const plan = await this.planFor(m, planned);
    const hash = sha256(canonicalJson(plan));
    if (hash !== step.planHash) {
      // Something changed between approval and run: the approval is void, ask again.
      const figures = plan.preview && step.plan?.preview && sha256(canonicalJson(plan.preview)) !== sha256(canonicalJson(step.plan.preview));
      const reason = figures ? `the go-live figures changed after approval (approved: ${step.plan!.preview!.lines.join('; ')}; now: ${plan.preview!.lines.join('; ')})` : 'what will run changed after approval';
      if (await this.#transition(migrationId, seq, ['approved'], { state: 'awaiting_approval', attempt: step.attempt + 1, plan, planHash: hash, requestedAt: this.deps.clock.now(), error: figures ? { code: 'ApprovalVoided', message: `The approval is void: ${reason}. Approve the new figures.` } : null }, { action: 'approval-voided', details: { reason, oldPlanHash: step.planHash, newPlanHash: hash } }))
        this.#emit({ type: 'approval-requested', migrationId, seq, reason: 'voided' });
      return false;
    }
    const records = await this.getApprovals(migrationId, seq, step.attempt);
    // Owners through the group are checked again now; an unreadable group throws, and the step fails without running.
    const owners = await this.ownersFor(m, records.map((r) => r.approverOid));
    const verdict = evaluate(m.policy, { requester: step.requestedBy!, requestedAt: step.requestedAt!, planHash: step.planHash!, kind: planned.def.approval }, records, this.deps.clock.now(), owners);
    if (verdict.status !== 'approved') {
      await this.#transition(migrationId, seq, ['approved'], { state: 'awaiting_approval', attempt: step.attempt + 1, requestedAt: this.deps.clock.now(), runAfter: null }, { action: 'approval-voided', details: { reason: 'approvals older than the expiry window are void' } });
      return false;
    }
    const windows = m.policy.changeWindows ?? [];
    const now = this.deps.clock.now();
    if (planned.def.production && !inAnyWindow(windows, now)) {
      // Wait for the next window, unless the approvals would be void by then: then refuse.
      const voidAt = Math.min(...records.filter((r) => r.decision === 'approve').map((r) => r.at.getTime() + m.policy.expiryMs));
      const next = nextWindowStart(windows, now, Math.max(0, voidAt - now.getTime()));
      if (!next) {
        await this.#transition(migrationId, seq, ['approved'], { state: 'rejected', runAfter: null, error: { code: 'OutsideChangeWindow', message: `No change window (${describeWindows(windows)}) opens before this approval expires at ${new Date(voidAt).toISOString()}; request it again nearer the window.` } }, { action: 'refused-outside-window', details: { windows } });
        return false;
      }
      if (step.runAfter?.getTime() !== next.getTime()) {
        await this.#transition(migrationId, seq, ['approved'], { runAfter: next }, { action: 'waiting-for-window', details: { runAfter: next.toISOString(), windows } });
      }
      return false;
    }
    return this.#transition(migrationId, seq, ['approved'], { state: 'running' }, { action: 'step-started', details: {} }, (s) => s.attempt === step.attempt);
  }

  async #runStarted(m: Migration, planned: PlannedStep, migrationId: string, seq: number): Promise<void> {
    // Exactly one process runs it: the one taking the owner lease for this attempt (renewed while a Graph action runs).
    const running = await this.#persist(() => this.#claim(migrationId, seq));
    if (!running) return; // not running (any more), or another cutover instance runs it
    if (!m.runnerName) await this.runnerOf(m).catch(() => null); // bound at request time; a migration from before binding is bound now
    const ctx = this.stepContext(m, planned);
    const action = planned.def.action;
    // Runner steps are owned by the runner hub once their job is queued (job leases); Graph and manual ones by this process.
    const release = action.kind === 'runner' ? () => {} : this.#hold(migrationId, seq, running.attempt);
    const attrs = { 'cutover.migration.id': migrationId, 'cutover.tenant.id': m.tenantId, 'cutover.step.key': running.key, 'cutover.step.seq': seq, 'cutover.step.batch': running.batch ?? undefined, 'cutover.step.attempt': running.attempt, 'cutover.step.action': action.kind === 'graph' ? `graph:${action.operation}` : action.kind };
    await (this.deps.tracer ?? noTracer).inSpan('runbook.step.run', attrs, async (span) => {
      try {
        if (action.kind === 'manual' && action.verify) {
          // Approved: the person goes ahead now. The step waits for them (no lease: nothing of ours runs) and is proved by its verification.
          await this.#transition(migrationId, seq, ['running'], { evidence: { awaitingOperator: true, goAt: this.deps.clock.now().toISOString(), checklist: action.checklist } }, { action: 'operator-go', details: {} }, (s) => s.attempt === running.attempt);
        } else if (action.kind === 'manual') {
          await this.#finish(migrationId, seq, running.attempt, { ok: true, evidence: { confirmedBy: running.requestedBy?.name, confirmedAt: running.requestedAt?.toISOString(), checklist: action.checklist } });
        } else if (action.kind === 'runner') {
          await this.#enqueueNext(m, running, 0);
        } else {
          const out = await this.deps.ports.graph.run(action.operation, ctx, await this.facts(m.id));
          await this.#finish(migrationId, seq, running.attempt, { ok: out.ok, evidence: out.evidence, error: out.ok ? undefined : { code: 'VerificationFailed', message: out.error ?? 'failed' } });
        }
      } catch (err: any) {
        const out = { ok: false, error: { code: err?.code ?? err?.name ?? 'Error', message: String(err?.message ?? err) } };
        // The store may be what failed, and then it cannot record the failure either until it is back.
        span.fail(err);
        await this.#persist(() => this.#finish(migrationId, seq, running.attempt, out));
      } finally {
        release();
      }
      const after = this.deps.tracer ? await this.getStep(migrationId, seq).catch(() => null) : null;
      if (after) span.set({ 'cutover.step.state': after.state });
      if (after?.state === 'failed') span.fail({ code: after.error?.code });
    });
  }

  /** A person said a manual change is done: its verification runs (a runner sequence, or a Graph check) and decides. */
  async #verifyOperatorStep(migrationId: string, seq: number): Promise<void> {
    const m = await this.getMigration(migrationId);
    const step = await this.getStep(migrationId, seq);
    if (!m || !step || step.state !== 'running') return;
    const def = this.plannedStep(m, step).def;
    if (def.action.kind !== 'manual' || !def.action.verify) return;
    const verify = def.action.verify;
    try {
      if (verify.kind === 'runner') {
        await this.#enqueueNext(m, step, 0);
        return;
      }
      const running = await this.#persist(() => this.#claim(migrationId, seq));
      if (!running) return;
      const release = this.#hold(migrationId, seq, running.attempt);
      try {
        // `$step`: this step's own evidence (when the person went ahead), for checks that look for a change since then.
        const out = await this.deps.ports.graph.run(verify.operation, this.stepContext(m, step), { ...(await this.facts(m.id)), $step: step.evidence });
        await this.#finish(migrationId, seq, running.attempt, { ok: out.ok, evidence: { ...(step.evidence ?? {}), ...out.evidence }, error: out.ok ? undefined : { code: 'NotYetTrue', message: out.error ?? 'the verification failed' } });
      } finally {
        release();
      }
    } catch (err: any) {
      await this.#persist(() => this.#finish(migrationId, seq, step.attempt, { ok: false, evidence: step.evidence ?? undefined, error: { code: err?.code ?? err?.name ?? 'Error', message: `The verification could not run: ${String(err?.message ?? err)}` } }));
    }
  }

  async #enqueueNext(m: Migration, step: StepRow, index: number): Promise<void> {
    const plan = step.plan?.runner ?? [];
    const item = plan[index];
    const { jobId } = await this.deps.ports.runner.enqueue({ migrationId: m.id, stepSeq: step.seq, attempt: step.attempt, position: index, action: item.action, params: item.params, tenantId: m.tenantId, runnerName: await this.runnerOf(m) });
    const now = this.deps.clock.now();
    // The job is queued: from here the step must point at it, so its result lands (never "failed" with a job running).
    await this.#persist(() => this.deps.db.transaction(async (tx) => {
      await tx.query('UPDATE steps SET job_id = $3, evidence = $4, updated_at = $5, version = version + 1 WHERE migration_id = $1 AND seq = $2', [
        m.id,
        step.seq,
        jobId,
        JSON.stringify({ ...(step.evidence ?? {}), progress: `${index + 1}/${plan.length}`, results: (step.evidence as any)?.results ?? [] }),
        now.toISOString(),
      ]);
      await appendAudit(tx, { migrationId: m.id, at: now, actor: null, action: 'runner-job-queued', stepSeq: step.seq, details: { jobId, action: item.action, params: item.params } });
    }));
    this.#emit({ type: 'step-changed', migrationId: m.id, seq: step.seq });
  }

  /** The runner hub reports a job's end (result, failure, or a lease that expired: lost). */
  async onRunnerJobSettled(job: SettledJob): Promise<void> {
    // A store outage (a PostgreSQL restart) while a result lands must not leave the step running with its job settled:
    // the hub has already recorded the result, so this is retried until the step reflects it (every path is idempotent).
    await this.#persist(() => this.#onRunnerJobSettled(job));
  }

  async #onRunnerJobSettled(job: SettledJob): Promise<void> {
    const step = await this.getStep(job.migrationId, job.stepSeq);
    if (!step || step.state !== 'running' || step.jobId !== job.id || step.attempt !== job.attempt) return; // replay or stale: nothing changes
    const m = (await this.getMigration(job.migrationId))!;
    if (job.state === 'lost') {
      await this.#transition(m.id, step.seq, ['running'], { state: 'lost', error: { code: 'RunnerLost', message: 'The runner stopped reporting while it held this job. Check on the Connect server what happened, then choose Retry or Mark done.' } }, { action: 'step-lost', details: { jobId: job.id } }, (s) => s.jobId === job.id);
      return;
    }
    const results = [...(((step.evidence as any)?.results as unknown[]) ?? []), job.result ?? null];
    const transcript = [((step.evidence as any)?.transcript as string) ?? '', job.transcript ?? ''].filter(Boolean).join('\n');
    if (job.state === 'failed') {
      await this.#finish(m.id, step.seq, step.attempt, { ok: false, evidence: { ...(step.evidence ?? {}), results, transcript }, error: job.error ?? { code: 'RunnerActionFailed', message: 'The runner reported a failure.' } }, job.id);
      return;
    }
    const next = results.length;
    if (next < (step.plan?.runner?.length ?? 0)) {
      const advanced = await this.deps.db.transaction(async (tx) => {
        const r = await tx.query('UPDATE steps SET evidence = $4, version = version + 1 WHERE migration_id = $1 AND seq = $2 AND job_id = $3 AND state = $5 RETURNING seq', [m.id, step.seq, job.id, JSON.stringify({ ...(step.evidence ?? {}), results, transcript }), 'running']);
        return r.rows.length > 0;
      });
      if (advanced) await this.#enqueueNext(m, { ...step, evidence: { ...(step.evidence ?? {}), results, transcript } }, next);
      return;
    }
    const def = this.plannedStep(m, step).def;
    const ctx = this.stepContext(m, step);
    const unmet = def.expect?.(results as any[], ctx, await this.facts(m.id)) ?? null;
    const summary = def.summarize?.(results as any[], ctx) ?? {};
    await this.#finish(
      m.id,
      step.seq,
      step.attempt,
      { ok: !unmet, evidence: { ...(step.evidence ?? {}), results, transcript, progress: undefined, ...summary }, error: unmet ? { code: 'NotYetTrue', message: unmet } : undefined },
      job.id,
    );
  }

  async #finish(migrationId: string, seq: number, attempt: number, out: { ok: boolean; evidence?: Record<string, unknown>; error?: { code: string; message: string } }, jobId?: string): Promise<void> {
    await this.#transition(
      migrationId,
      seq,
      ['running'],
      { state: out.ok ? 'succeeded' : 'failed', evidence: out.evidence ?? null, error: out.ok ? null : out.error ?? { code: 'Failed', message: 'failed' } },
      { action: out.ok ? 'step-succeeded' : 'step-failed', details: { evidence: out.evidence ?? null, error: out.error ?? null, jobId: jobId ?? null } },
      (s) => s.attempt === attempt && (!jobId || s.jobId === jobId),
    );
    if (out.ok) await this.#skipInapplicable(migrationId);
  }

  /** Steps that do not apply given what earlier steps found (e.g. the other DirSync upgrade path) are skipped, with the reason. */
  async #skipInapplicable(migrationId: string): Promise<void> {
    const m = (await this.getMigration(migrationId))!;
    const facts = await this.facts(migrationId);
    for (const s of await this.getSteps(migrationId)) {
      if (DONE.includes(s.state)) continue;
      const planned = this.plannedStep(m, s);
      const reason = s.state === 'pending' ? planned.def.skipIf?.(facts, this.stepContext(m, s)) ?? null : null;
      if (!reason) return;
      await this.#transition(m.id, s.seq, ['pending'], { state: 'skipped', evidence: { skipped: reason } }, { action: 'step-skipped', details: { reason } });
    }
  }

  // ---------------------------------------------------------------- batches, rollback, scope

  /** Adds an OU batch to a running migration: its steps go after the last batch's. */
  async addBatch(migrationId: string, ou: string, actor: Person): Promise<{ batch: number }> {
    const m = await this.getMigration(migrationId);
    if (!m) throw new EngineError('not-found', 'That migration does not exist.');
    const rb = runbookOf(m.kind);
    if (rb.ous !== 'batches') throw new EngineError('invalid', `A ${rb.title} migration has no OU batches.`);
    if (m.state !== 'active') throw new EngineError('invalid', `${m.name} is ${m.state}.`);
    try {
      if (parseDn(ou)[0].type !== 'ou') throw new EngineError('invalid', `${ou} is not an OU.`);
    } catch (e) {
      if (e instanceof DnError) throw new EngineError('invalid', `"${ou}" is not a valid distinguished name: ${e.message}.`);
      throw e;
    }
    if (domainOfDn(ou) !== m.domain) throw new EngineError('invalid', `${ou} is not in the domain ${m.domain}.`);
    if (m.ous.some((o) => normalizeDn(o) === normalizeDn(ou))) throw new EngineError('invalid', `${ou} is already batch ${m.ous.findIndex((o) => normalizeDn(o) === normalizeDn(ou)) + 1}.`);
    const steps = await this.getSteps(m.id);
    if (steps.some((s) => s.key === 'disable-connect-sync' && s.state !== 'pending')) throw new EngineError('invalid', 'Connect Sync is being disabled: no batch can be added now.');
    if (m.cloudHeldOus.length) throw new EngineError('invalid', `${cloudHeldReason(m)} No batch can be added to this migration.`);
    const batch = m.ous.length + 1;
    const nextSeq = Math.max(0, ...steps.map((s) => s.seq)) + 1;
    const rows = planBatch(rb, batch, nextSeq);
    const now = this.deps.clock.now();
    await this.deps.db.transaction(async (tx) => {
      await tx.query('SELECT id FROM migrations WHERE id = $1 FOR UPDATE', [m.id]);
      await tx.query(`UPDATE migrations SET params = jsonb_set(params, '{ous}', $2::jsonb), version = version + 1 WHERE id = $1`, [m.id, JSON.stringify([...m.ous, ou.trim()])]);
      for (const r of rows) await tx.query('INSERT INTO steps (migration_id, seq, ord, key, batch, state, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7)', [m.id, r.seq, r.ord, r.key, r.batch, 'pending', now.toISOString()]);
      await appendAudit(tx, { migrationId: m.id, at: now, actor, action: 'batch-added', details: { batch, ou, steps: rows.map((r) => r.key) } });
    });
    for (const r of rows) this.#emit({ type: 'step-changed', migrationId: m.id, seq: r.seq });
    return { batch };
  }

  /**
   * Rolls batches back to Connect Sync (seed 002's rollback), from any state: their remaining steps are skipped and
   * the runbook's rollback steps (approved and audited like any change) are added after them. `batch` is one batch,
   * or 'all' for every batch not rolled back yet. Rolling back one batch while another stays on Cloud Sync is refused:
   * pausing the configuration would stop the others too, and taking only this OU out of Cloud Sync's scope deletes its
   * objects (Microsoft documents no way that does not).
   */
  async startRollback(migrationId: string, batch: number | 'all', actor: Person): Promise<{ steps: number[]; ous: string[] }> {
    const m = await this.getMigration(migrationId);
    if (!m) throw new EngineError('not-found', 'That migration does not exist.');
    const rb = runbookOf(m.kind);
    if (!rb.rollbackSteps?.length) throw new EngineError('invalid', `A ${rb.title} migration has no rollback runbook.`);
    if (m.state !== 'active') throw new EngineError('invalid', `${m.name} is ${m.state}.`);
    if (batch !== 'all' && (!Number.isInteger(batch) || batch < 1 || batch > m.ous.length)) throw new EngineError('invalid', `${m.name} has no batch ${batch}.`);
    if (!(await this.isOwnerNow(m, actor.oid))) throw new EngineError('invalid', m.policy.ownersGroup && !isOwner(m.policy, actor.oid) ? 'Only a change owner can start a rollback (listed, or a member of the owners group; the group could not be confirmed for you now).' : 'Only a change owner can start a rollback.');
    const steps = await this.getSteps(m.id);
    const rolledBack = new Set(m.rolledBackOus.map(normalizeDn));
    const active = m.ous.map((ou, i) => ({ ou, batch: i + 1 })).filter((b) => !rolledBack.has(normalizeDn(b.ou)));
    const chosen = batch === 'all' ? active : active.filter((b) => b.batch === batch);
    if (!chosen.length) throw new EngineError('conflict', batch === 'all' ? `${m.name} has no batch left to roll back.` : `Batch ${batch} was already rolled back.`);
    const chosenBatches = new Set(chosen.map((b) => b.batch));
    // An OU is on Cloud Sync once its configure step added it to the configuration's scope.
    const onCloud = active.filter((b) => steps.some((s) => s.batch === b.batch && s.key === 'configure-cloud-sync' && s.state === 'succeeded'));
    const staying = onCloud.filter((b) => !chosenBatches.has(b.batch));
    if (staying.length) {
      throw new EngineError(
        'conflict',
        `Batch ${batch} cannot be rolled back alone: ${staying.map((b) => `batch ${b.batch} (${b.ou})`).join(', ')} ${staying.length > 1 ? 'are' : 'is'} on Cloud Sync too. ` +
          "Disabling the Cloud Sync configuration stops every batch on it, and taking only this OU out of Cloud Sync's scope deletes its objects from Entra ID (security groups for good): Microsoft documents no way that does not. " +
          `Roll back every batch with \`rollback ${m.name} batch=all\`, or fix forward.`,
      );
    }
    const busy = steps.find((s) => s.batch !== null && chosenBatches.has(s.batch) && (s.state === 'running' || s.state === 'approved'));
    if (busy) throw new EngineError('conflict', `A step of batch ${busy.batch} is running (${this.plannedStep(m, busy).def.title}); roll back when it has ended.`);
    const last = Math.max(...chosen.map((b) => b.batch));
    const nextSeq = Math.max(0, ...steps.map((s) => s.seq)) + 1;
    const rows = planRollback(rb, last, nextSeq);
    const now = this.deps.clock.now();
    const cancelled = steps.filter((s) => s.batch !== null && chosenBatches.has(s.batch) && !DONE.includes(s.state));
    const held = onCloud.filter((b) => chosenBatches.has(b.batch)).map((b) => b.ou);
    // Steps that have nothing to do: no OU on Cloud Sync to pause; a scheduler this migration never stopped.
    const schedulerOff = this.#holdOf(m, steps);
    const skip = new Map<string, string>();
    if (!held.length) skip.set('rollback-pause-cloud-sync', "None of the rolled-back OUs is in Cloud Sync's configuration yet: nothing to disable.");
    if (!schedulerOff) skip.set('rollback-start-scheduler', 'This migration left the Connect Sync scheduler running: nothing to start.');
    await this.deps.db.transaction(async (tx) => {
      await tx.query('SELECT id FROM migrations WHERE id = $1 FOR UPDATE', [m.id]);
      for (const s of cancelled) {
        await tx.query(`UPDATE steps SET state = 'skipped', evidence = $3, version = version + 1, updated_at = $4 WHERE migration_id = $1 AND seq = $2`, [m.id, s.seq, JSON.stringify({ skipped: `batch ${s.batch} is being rolled back` }), now.toISOString()]);
      }
      for (const r of rows) {
        const why = skip.get(r.key);
        await tx.query('INSERT INTO steps (migration_id, seq, ord, key, batch, state, evidence, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)', [m.id, r.seq, r.ord, r.key, r.batch, why ? 'skipped' : 'pending', why ? JSON.stringify({ skipped: why }) : null, now.toISOString()]);
      }
      await tx.query(
        `UPDATE migrations SET params = params || $2::jsonb, version = version + 1 WHERE id = $1`,
        [m.id, JSON.stringify({ rolledBackOus: [...m.rolledBackOus, ...chosen.map((b) => b.ou)], cloudHeldOus: [...m.cloudHeldOus, ...held] })],
      );
      await appendAudit(tx, { migrationId: m.id, at: now, actor, action: 'rollback-started', details: { batches: [...chosenBatches], ous: chosen.map((b) => b.ou), heldByCloudSync: held, skipped: cancelled.map((s) => s.key), steps: rows.map((r) => r.key), skippedRollbackSteps: Object.fromEntries(skip) } });
    });
    for (const s of cancelled) this.#emit({ type: 'step-changed', migrationId: m.id, seq: s.seq });
    for (const r of rows) this.#emit({ type: 'step-changed', migrationId: m.id, seq: r.seq });
    return { steps: rows.map((r) => r.seq), ous: chosen.map((b) => b.ou) };
  }

  // ---------------------------------------------------------------- steps an incident adds

  /**
   * Adds a step an incident calls for (a quarantined job's restart) to a running migration, and asks its approval on
   * behalf of `actor` (who clicked). It goes before the first step not done yet: the runbook waits for it (it is the
   * migration's next thing to do), and nothing before it holds it up. One at a time per incident: while one is not done
   * (or skipped), asking again answers with it and changes nothing.
   */
  async addIncidentStep(migrationId: string, key: IncidentStepKey, raw: Record<string, unknown>, actor: Person): Promise<{ step: StepRow; added: boolean; notice?: string }> {
    const m = await this.getMigration(migrationId);
    if (!m) throw new EngineError('not-found', 'That migration does not exist.');
    if (m.state !== 'active') throw new EngineError('invalid', `${m.name} is ${m.state}: no step can be added to it. Nothing was changed.`);
    const def = incidentStep(key);
    if (!def?.params) throw new EngineError('invalid', `There is no incident step "${key}".`);
    const checked = def.params(raw);
    if (!checked.ok) throw new EngineError('invalid', `${checked.reason} Nothing was changed.`);
    const alertId = String(checked.params.alertId ?? '');
    const now = this.deps.clock.now();
    const out = await this.deps.db.transaction(async (tx): Promise<{ added: false; step: StepRow } | { added: true; seq: number }> => {
      await tx.query('SELECT id FROM migrations WHERE id = $1 FOR UPDATE', [m.id]);
      const live = (await tx.query("SELECT * FROM steps WHERE migration_id = $1 AND key = $2 AND params->>'alertId' = $3 AND state NOT IN ('succeeded', 'skipped') ORDER BY seq DESC LIMIT 1", [m.id, key, alertId])).rows[0];
      if (live) return { added: false, step: toStep(live) };
      const steps = (await tx.query('SELECT seq, ord, state FROM steps WHERE migration_id = $1 ORDER BY ord, seq', [m.id])).rows.map((r: any) => ({ seq: Number(r.seq), ord: Number(r.ord ?? r.seq), state: r.state as StepState }));
      const next = steps.find((x) => !DONE.includes(x.state));
      const earlier = next ? steps.filter((x) => x.ord < next.ord).map((x) => x.ord) : [];
      const ord = next ? ((earlier.length ? Math.max(...earlier) : 0) + next.ord) / 2 : Math.max(0, ...steps.map((x) => x.ord)) + 1;
      const seq = Math.max(0, ...steps.map((x) => x.seq)) + 1;
      await tx.query('INSERT INTO steps (migration_id, seq, ord, key, batch, state, params, updated_at) VALUES ($1,$2,$3,$4,NULL,$5,$6,$7)', [m.id, seq, ord, key, 'pending', JSON.stringify(checked.params), now.toISOString()]);
      await appendAudit(tx, { migrationId: m.id, at: now, actor, action: 'incident-step-added', stepSeq: seq, details: { key, params: checked.params } });
      return { added: true, seq };
    });
    if (!out.added) return { step: out.step, added: false };
    this.#emit({ type: 'step-changed', migrationId: m.id, seq: out.seq });
    // A new row is at version 0; the request is the clicker's, approved by the owners like any change.
    const asked = await this.act({ verb: 'request', migrationId: m.id, seq: out.seq, version: 0, actor });
    return { step: (await this.getStep(m.id, out.seq))!, added: true, ...(asked.changed ? {} : { notice: asked.notice }) };
  }

  /** The steps added for an incident (by its alert id), in every migration, the latest last. */
  async incidentSteps(alertId: string): Promise<{ migration: Migration; step: StepRow }[]> {
    const rows = (await this.deps.db.query("SELECT s.* FROM steps s WHERE s.params->>'alertId' = $1 ORDER BY s.updated_at ASC, s.seq ASC", [alertId])).rows.map(toStep);
    const out: { migration: Migration; step: StepRow }[] = [];
    for (const step of rows) {
      const migration = await this.getMigration(step.migrationId);
      if (migration) out.push({ migration, step });
    }
    return out;
  }

  /**
   * The incident resolved: the steps added for it that have not run (waiting, rejected, or failed) are skipped with the
   * reason, so the runbook does not wait for a remedy nobody needs any more. A step approved or running is left to end.
   */
  async settleIncidentSteps(alertId: string, reason: string): Promise<number[]> {
    const settled: number[] = [];
    const open: StepState[] = ['pending', 'awaiting_approval', 'rejected', 'failed'];
    for (const { migration, step } of await this.incidentSteps(alertId)) {
      if (migration.state !== 'active' || !open.includes(step.state)) continue;
      if (await this.#transition(migration.id, step.seq, open, { state: 'skipped', evidence: { ...(step.evidence ?? {}), skipped: reason } }, { action: 'step-skipped', details: { reason, alertId } })) settled.push(step.seq);
    }
    return settled;
  }

  /**
   * Taking an OU out of Connect Sync's scope during coexistence exports deletes (seed 001): refused with the
   * reason while any active migration is moving that OU and has not decommissioned Connect.
   */
  async connectScopeRemovalBlocker(ou: string, tenantId?: string): Promise<string | null> {
    for (const m of await this.listMigrations({ state: 'active' })) {
      if (tenantId && m.tenantId !== tenantId) continue; // another customer's forest, even if its domain name is the same
      if (runbookOf(m.kind).ous !== 'batches') continue;
      const hit = m.ous.find((o) => isUnder(o, ou) || isUnder(ou, o));
      if (!hit) continue;
      const steps = await this.getSteps(m.id);
      if (steps.some((s) => s.key === 'decommission' && s.state === 'succeeded')) continue;
      return `${ou} is being migrated by "${m.name}" (batch ${m.ous.indexOf(hit) + 1}: ${hit}). During the pilot or coexistence phase, don't remove OUs from Connect Sync scope: removing objects from scope before final cutover can drop references in the Entra connector space and export reference deletes (such as group membership removals) to Entra ID (seed 001). Keep it in scope until the migration is complete.`;
    }
    return null;
  }

  /** The migration is completed in the same transaction as its last step, so nobody sees one without the other. */
  async #completeIfDone(tx: Sql, migrationId: string, now: Date): Promise<boolean> {
    const left = (await tx.query("SELECT count(*)::int AS n FROM steps WHERE migration_id = $1 AND state NOT IN ('succeeded', 'skipped')", [migrationId])).rows[0].n;
    if (Number(left) > 0) return false;
    const r = await tx.query("UPDATE migrations SET state = 'completed', version = version + 1 WHERE id = $1 AND state = 'active' RETURNING id", [migrationId]);
    if (r.rows.length) await appendAudit(tx, { migrationId, at: now, actor: null, action: 'migration-completed', details: {} });
    return r.rows.length > 0;
  }

  /**
   * At start: an action whose owner died (a restart of this process, or another instance of a scale-out whose lease
   * expired) is in an unknown state. Mutations become lost (a human decides; never re-run silently); reads fail and
   * may be retried. A step another live process is running (its lease is current) is left alone.
   * Steps approved but not started are started now.
   */
  async recover(): Promise<void> {
    const rows = (await this.deps.db.query("SELECT s.*, m.kind FROM steps s JOIN migrations m ON m.id = s.migration_id WHERE s.state IN ('running','approved') AND m.state = 'active'")).rows;
    for (const r of rows) {
      const step = toStep(r);
      if (step.state !== 'approved') continue;
      this.#track(this.#startAction(step.migrationId, step.seq));
    }
    await this.settleOrphanedSteps();
  }

  /**
   * Running steps whose owner is gone: its lease expired (it stopped renewing: crashed, killed, partitioned), or it
   * was an earlier boot of this very process. Runner steps with a job are the runner hub's (job leases).
   * Called by recover() at start and by the monitor's approvals sweep. Returns how many steps were settled.
   */
  async settleOrphanedSteps(): Promise<number> {
    const now = this.deps.clock.now();
    const rows = (await this.deps.db.query("SELECT s.* FROM steps s JOIN migrations m ON m.id = s.migration_id WHERE s.state = 'running' AND m.state = 'active'")).rows.map(toStep);
    let settled = 0;
    for (const step of rows) {
      if (!this.#orphaned(step, now)) continue;
      const m = (await this.getMigration(step.migrationId))!;
      const def = this.plannedStep(m, step).def;
      if (def.action.kind === 'runner' && step.jobId) continue; // the runner hub owns it: result or lease expiry
      if (def.action.kind === 'manual' && def.action.verify && (step.jobId || awaitingOperator(step, def))) continue; // a person's turn, or the hub's
      const reason = step.ownerId && step.leaseAttempt === step.attempt && scopeOf(step.ownerId) !== this.#scope ? 'owner-lease-expired' : 'restart';
      const details = { reason, owner: step.ownerId, leaseUntil: step.leaseUntil?.toISOString() ?? null };
      const still = (s: StepRow) => s.attempt === step.attempt && this.#orphaned(s, now);
      const mutation = def.action.kind === 'graph' ? def.production : (step.plan?.runner ?? []).some((a) => a.mutation);
      const ok = mutation
        ? await this.#transition(m.id, step.seq, ['running'], { state: 'lost', error: { code: 'InterruptedByRestart', message: 'cutover restarted, or the cutover instance running this action stopped, while it was running; check its effect, then choose Retry or Mark done.' } }, { action: 'step-lost', details }, still)
        : await this.#transition(m.id, step.seq, ['running'], { state: 'failed', error: { code: 'InterruptedByRestart', message: 'cutover restarted, or the cutover instance running it stopped, during this read; Retry runs it again.' } }, { action: 'step-failed', details }, still);
      if (ok) {
        settled++;
        this.deps.log.warn({ migrationId: m.id, seq: step.seq, attempt: step.attempt, ...details }, 'a running step lost its owner');
      }
    }
    return settled;
  }

  /** True when nobody alive runs this step: see settleOrphanedSteps. */
  #orphaned(s: StepRow, now: Date): boolean {
    if (s.state !== 'running') return false;
    if ((s.evidence as any)?.awaitingOperator === true) return false; // waits for a person, not for a process
    const leased = !!s.ownerId && s.leaseAttempt === s.attempt;
    if (leased) {
      if (s.ownerId === this.instanceId) return false; // this process runs it
      if (scopeOf(s.ownerId!) === this.#scope) return true; // an earlier boot of this process
      return !s.leaseUntil || s.leaseUntil.getTime() <= now.getTime();
    }
    // Not claimed yet for this attempt (just moved to running, or a row from before leases): the same grace from its last change.
    return s.updatedAt.getTime() + this.#leaseMs <= now.getTime();
  }

  /**
   * Takes a running step's owner lease for its current attempt and returns the step; null when it is not running or
   * another process holds the lease for this attempt (that process runs the action).
   */
  async #claim(migrationId: string, seq: number): Promise<StepRow | null> {
    const until = new Date(this.deps.clock.now().getTime() + this.#leaseMs).toISOString();
    const r = await this.deps.db.query(
      `UPDATE steps SET owner_id = $3, lease_until = $4, lease_attempt = attempt
        WHERE migration_id = $1 AND seq = $2 AND state = 'running'
          AND (owner_id IS NULL OR lease_attempt IS DISTINCT FROM attempt OR owner_id = $3) RETURNING *`,
      [migrationId, seq, this.instanceId, until],
    );
    return r.rows[0] ? toStep(r.rows[0]) : null;
  }

  #hold(migrationId: string, seq: number, attempt: number): () => void {
    const key = `${migrationId}/${seq}`;
    this.#owned.set(key, { migrationId, seq, attempt });
    if (!this.#renewTimer) {
      this.#renewTimer = setInterval(() => void this.renewLeases().catch((err) => this.deps.log.warn({ err }, 'could not renew the leases of running steps; retrying')), this.#renewMs);
      this.#renewTimer.unref();
    }
    return () => {
      if (this.#owned.get(key)?.attempt === attempt) this.#owned.delete(key);
      if (!this.#owned.size && this.#renewTimer) {
        clearInterval(this.#renewTimer);
        this.#renewTimer = null;
      }
    };
  }

  /** Extends the leases of the actions this process is running (on a timer; tests call it with their clock). */
  async renewLeases(): Promise<number> {
    const until = new Date(this.deps.clock.now().getTime() + this.#leaseMs).toISOString();
    let n = 0;
    for (const o of [...this.#owned.values()]) {
      const r = await this.deps.db.query("UPDATE steps SET lease_until = $4 WHERE migration_id = $1 AND seq = $2 AND owner_id = $3 AND lease_attempt = $5 AND state = 'running' RETURNING seq", [o.migrationId, o.seq, this.instanceId, until, o.attempt]);
      n += r.rows.length;
    }
    return n;
  }

  /** Expiry, reminders and escalation of pending approval requests; approved steps whose window opened start. Called by the monitor's schedule. */
  async sweepApprovals(): Promise<{ expired: number; reminded: number; escalated: number; started: number }> {
    const now = this.deps.clock.now();
    const due = (await this.deps.db.query("SELECT s.migration_id, s.seq FROM steps s JOIN migrations m ON m.id = s.migration_id WHERE s.state = 'approved' AND s.run_after IS NOT NULL AND s.run_after <= $1 AND m.state = 'active'", [now.toISOString()])).rows;
    for (const d of due) await this.#startAction(d.migration_id, d.seq);
    const rows = (await this.deps.db.query("SELECT s.* FROM steps s JOIN migrations m ON m.id = s.migration_id WHERE s.state = 'awaiting_approval' AND m.state = 'active'")).rows.map(toStep);
    const out = { expired: 0, reminded: 0, escalated: 0, started: due.length };
    for (const s of rows) {
      const m = (await this.getMigration(s.migrationId))!;
      const age = now.getTime() - s.requestedAt!.getTime();
      if (age >= m.policy.expiryMs) {
        if (await this.#transition(m.id, s.seq, ['awaiting_approval'], { state: 'pending', error: { code: 'ApprovalExpired', message: `The approval request expired at ${new Date(s.requestedAt!.getTime() + m.policy.expiryMs).toISOString()} without a decision; request it again.` } }, { action: 'approval-expired', details: {} }, (x) => x.attempt === s.attempt)) out.expired++;
        continue;
      }
      const escalate = !s.escalatedAt && age >= m.policy.reminderMs + m.policy.escalationMs;
      const remind = !s.remindedAt && age >= m.policy.reminderMs;
      if (escalate || remind) {
        const patch: Partial<StepRow> = escalate ? { escalatedAt: now, remindedAt: s.remindedAt ?? now } : { remindedAt: now };
        const ok = await this.#transition(m.id, s.seq, ['awaiting_approval'], patch, { action: escalate ? 'approval-escalated' : 'approval-reminded', details: {} }, (x) => x.attempt === s.attempt);
        if (ok) {
          escalate ? out.escalated++ : out.reminded++;
          this.#emit({ type: 'approval-reminder', migrationId: m.id, seq: s.seq, escalate });
        }
      }
    }
    return out;
  }

  /**
   * After an approved change of the approval policy (owners, owners group, quorum, expiry): every step still waiting
   * for approval is weighed again under the new policy. Approvals already given count while their author is still an
   * owner. A step they now suffice for is approved and starts (its start re-checks plan, approvals and window like any
   * other); the others are asked again of the owners as they are now, with reminders counted afresh.
   */
  async reweighPendingApprovals(migrationId: string, policyChangeId: number): Promise<{ approved: number[]; reasked: number[] }> {
    const out = { approved: [] as number[], reasked: [] as number[] };
    const m = await this.getMigration(migrationId);
    if (!m || m.state !== 'active') return out;
    for (const s of (await this.getSteps(m.id)).filter((x) => x.state === 'awaiting_approval')) {
      const records = await this.getApprovals(m.id, s.seq, s.attempt);
      let owners = directOwners(m.policy);
      try {
        owners = await this.ownersFor(m, records.map((r) => r.approverOid));
      } catch (e) {
        if (!(e instanceof OwnersGroupUnavailable)) throw e; // unreadable group: only listed owners count (fail closed)
      }
      const req = { requester: s.requestedBy!, requestedAt: s.requestedAt!, planHash: s.planHash!, kind: this.plannedStep(m, s).def.approval };
      const verdict = evaluate(m.policy, req, records, this.deps.clock.now(), owners);
      const sameAttempt = (x: StepRow) => x.attempt === s.attempt;
      if (verdict.status === 'approved') {
        if (await this.#transition(m.id, s.seq, ['awaiting_approval'], { state: 'approved' }, { action: 'approved-under-new-policy', details: { policyChangeId, approvedBy: verdict.approvedBy, needed: verdict.needed } }, sameAttempt)) {
          out.approved.push(s.seq);
          this.#track(this.#startAction(m.id, s.seq));
        }
      } else if (verdict.status === 'pending') {
        if (await this.#transition(m.id, s.seq, ['awaiting_approval'], { remindedAt: null, escalatedAt: null }, { action: 'approval-reasked', details: { policyChangeId, approvedBy: verdict.approvedBy, needed: verdict.needed } }, sameAttempt)) {
          out.reasked.push(s.seq);
          this.#emit({ type: 'approval-reasked', migrationId: m.id, seq: s.seq, policyChangeId, stillNeeded: verdict.needed - verdict.approvedBy.length });
        }
      } // expired under the new expiry: the approval sweep settles it
    }
    return out;
  }

  async auditTrail(migrationId: string, limit?: number): Promise<AuditRow[]> {
    return readAudit(this.deps.db, migrationId, limit);
  }

  async verifyAudit(migrationId: string): Promise<ChainVerdict> {
    return verifyAuditChain(this.deps.db, migrationId);
  }

  /** Steps waiting for this person's decision, oldest first, across migrations. */
  async pendingFor(oid: string): Promise<{ migration: Migration; step: StepRow; def: StepDefinition }[]> {
    const rows = (await this.deps.db.query("SELECT s.* FROM steps s JOIN migrations m ON m.id = s.migration_id WHERE s.state = 'awaiting_approval' AND m.state = 'active' ORDER BY s.requested_at ASC")).rows.map(toStep);
    const out: { migration: Migration; step: StepRow; def: StepDefinition }[] = [];
    for (const s of rows) {
      const m = (await this.getMigration(s.migrationId))!;
      if (!(await this.isOwnerNow(m, oid))) continue;
      if (m.policy.fourEyes && s.requestedBy?.oid.toLowerCase() === oid.toLowerCase()) continue;
      const decided = (await this.getApprovals(m.id, s.seq, s.attempt)).some((a) => a.approverOid.toLowerCase() === oid.toLowerCase());
      if (!decided) out.push({ migration: m, step: s, def: this.plannedStep(m, s).def });
    }
    return out;
  }
}

/** A stored step with its definition (the row is the truth: batches and rollbacks are added later). */
export function plannedStepOf(m: Pick<Migration, 'kind'>, row: { seq: number; key: string; batch: number | null; ord?: number; params?: Record<string, unknown> | null }): PlannedStep {
  return { seq: row.seq, ord: row.ord ?? row.seq, key: row.key, batch: row.batch, def: definitionOf(m.kind, row.key), ...(row.params ? { params: row.params } : {}) };
}

/** What a step of the migration acts on: its batch's OU, the OUs moved so far (or being taken back). */
export function migrationContext(m: Migration, batch: number | null, rollback = false): MigrationContext {
  const single = runbookOf(m.kind).ous === 'one';
  const rolledBack = new Set(m.rolledBackOus.map(normalizeDn));
  const through = batch ? m.ous.slice(0, batch) : m.ous;
  return {
    migrationId: m.id,
    name: m.name,
    domain: m.domain,
    tenantId: m.tenantId,
    batch,
    ou: batch ? m.ous[batch - 1] : single ? m.ous[0] ?? null : null,
    allOus: m.ous,
    batchOus: rollback ? through : through.filter((o) => !rolledBack.has(normalizeDn(o))),
    rollbackOus: rollback ? m.ous.filter((o) => rolledBack.has(normalizeDn(o))) : [],
    partial: m.partial,
    runnerName: m.runnerName,
    options: m.options,
  };
}

/** The context a stored step runs in (rollback steps see the OUs they take back; a step with parameters, those). */
export function stepContextOf(m: Migration, step: { key: string; batch: number | null; params?: Record<string, unknown> | null }): MigrationContext {
  const ctx = migrationContext(m, step.batch, !!runbookOf(m.kind).rollbackSteps?.some((d) => d.key === step.key));
  return step.params ? { ...ctx, params: step.params } : ctx;
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 24) || 'migration'
  );
}

/** Why a configuration holding rolled-back OUs (paused) must not run again: said by the guard and by `batch add`. */
function cloudHeldReason(m: Migration): string {
  const many = m.cloudHeldOus.length > 1;
  return (
    `Cloud Sync's configuration for ${m.domain} still holds the rolled-back ${m.cloudHeldOus.join('; ')} (paused). ` +
    `Starting it again would take ${many ? 'them' : 'it'} back from Connect Sync, and taking ${many ? 'them' : 'it'} out of its scope deletes ${many ? 'their' : 'its'} objects from Entra ID (Microsoft documents no way that does not).`
  );
}

function toMigration(r: any): Migration {
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

function toApproval(r: any): ApprovalRecord {
  return { approverOid: r.approver_oid, approverName: r.approver_name, decision: r.decision, at: new Date(r.at), planHash: r.plan_hash, comment: r.comment ?? null };
}

function toStep(r: any): StepRow {
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

/** A manual step that was approved and waits for the person to do it and say so (then its verification runs). */
function awaitingOperator(step: StepRow, def: StepDefinition): boolean {
  return step.state === 'running' && def.action.kind === 'manual' && !!def.action.verify && !step.jobId && (step.evidence as any)?.awaitingOperator === true;
}

/** The scope part of an owner id (`<scope>#<boot id>`). */
function scopeOf(ownerId: string): string {
  const i = ownerId.lastIndexOf('#');
  return i < 0 ? ownerId : ownerId.slice(0, i);
}
