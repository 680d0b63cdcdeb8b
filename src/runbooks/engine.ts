import type { Clock } from '../clock.js';
import type { Db } from '../store/db.js';
import type { Logger } from '../log.js';
import type { Tracer } from '../telemetry/tracer.js';
import { readAudit, verifyAuditChain, type AuditRow, type ChainVerdict } from './audit.js';
import type { ApprovalRecord, OwnerSet } from './policy.js';
import type { OwnersGroup, OwnersGroupResolver } from './owners.js';
import type { Facts, IncidentStepKey, MigrationContext, Person, PlannedStep, StepDefinition } from './types.js';
import { stepSnapshot, type OwnerView, type StepSnapshot } from './snapshot.js';
import type {
  ActInput,
  ActResult,
  EngineEvent,
  EngineOwnerOptions,
  EnginePorts,
  Migration,
  SchedulerHold,
  SettledJob,
  StepPlan,
  StepRow,
} from './engine-types.js';
import { EngineContext, migrationContext } from './engine-context.js';
import { RunbookStore } from './store.js';
import { act, reweighPendingApprovals } from './clicks.js';
import { planFor } from './plans.js';
import { onRunnerJobSettled } from './step-runs.js';
import { addBatch, addIncidentStep, connectScopeRemovalBlocker, incidentSteps, settleIncidentSteps, startRollback } from './batches.js';
import { recover, settleOrphanedSteps } from './recovery.js';
import { schedulerHeldInTenant, schedulerHold } from './guards.js';
import { sweepApprovals } from './housekeeping.js';
import { createMigration, type NewMigration } from './migrations.js';

// The engine's types live in engine-types.ts (its parts share them); its users keep importing them from here.
export { EngineError, VERBS, currentStep, isStepDone } from './engine-types.js';
export type {
  ActInput,
  ActResult,
  EngineEvent,
  EngineOwnerOptions,
  EnginePorts,
  Migration,
  PlannedGraphRequest,
  SchedulerHold,
  SettledJob,
  StepPlan,
  StepRow,
  Verb,
} from './engine-types.js';
export { migrationContext, plannedStepOf, stepContextOf } from './engine-context.js';

/**
 * The runbook engine: the step state machine, its guards and approvals. Every transition is one transaction with its
 * audit row; actions run after the commit and report back into the machine. This class is the engine's one door (the
 * bot, the monitor and the app see nothing else); each concern lives in a file of its own under src/runbooks/, all
 * sharing one EngineContext:
 * - store.ts: every SQL statement; clicks.ts: the click state machine; step-runs.ts: running actions and their
 *   results; batches.ts: batches, rollback and incident steps; recovery.ts: recovery and owner leases;
 *   guards.ts: guards and the scheduler hold; plans.ts: what a step will run; housekeeping.ts: the approvals sweep;
 *   migrations.ts: creating a migration.
 */
export class RunbookEngine {
  readonly #cx: EngineContext;
  /** This process's owner id for the steps it runs. */
  readonly instanceId: string;

  constructor(deps: {
    db: Db;
    clock: Clock;
    log: Logger;
    ports: EnginePorts;
    owner?: EngineOwnerOptions;
    tracer?: Tracer;
    ownersGroups?: OwnersGroupResolver;
  }) {
    const { db, ...rest } = deps;
    this.#cx = new EngineContext({ ...rest, store: new RunbookStore(db) });
    this.instanceId = this.#cx.leases.instanceId;
  }

  // ---------------------------------------------------------------- change owners (listed, and through a group)

  /** The migration's owners group, resolved (cache or Graph). Throws OwnersGroupUnavailable / OwnersGroupNotFound. */
  ownersGroup(m: Pick<Migration, 'tenantId' | 'policy'>): Promise<OwnersGroup | null> {
    return this.#cx.ownersGroup(m);
  }

  /** Everyone who owns the migration's changes now (see EngineContext.ownersFor). */
  ownersFor(m: Pick<Migration, 'tenantId' | 'policy'>, needed?: (string | undefined | null)[]): Promise<OwnerSet> {
    return this.#cx.ownersFor(m, needed);
  }

  /** Is this person a change owner of the migration now? False when the group cannot be read (fail closed). */
  isOwnerNow(m: Pick<Migration, 'tenantId' | 'policy'>, oid: string | undefined): Promise<boolean> {
    return this.#cx.isOwnerNow(m, oid);
  }

  /** Owners for cards and mentions; never throws: when the group cannot be read, the listed owners and the reason. */
  ownerView(m: Pick<Migration, 'tenantId' | 'policy'>): Promise<OwnerView> {
    return this.#cx.ownerView(m);
  }

  // ---------------------------------------------------------------- events and background work

  on(listener: (e: EngineEvent) => void): void {
    this.#cx.on(listener);
  }

  /** Resolves when no action started by the engine is still running (tests, graceful shutdown). */
  idle(): Promise<void> {
    return this.#cx.idle();
  }

  // ---------------------------------------------------------------- migrations and their steps

  createMigration(input: NewMigration): Promise<Migration> {
    return createMigration(this.#cx, input);
  }

  /** The migration's runner, bound now if it was created before any runner existed (see EngineContext.runnerOf). */
  runnerOf(m: Migration): Promise<string> {
    return this.#cx.runnerOf(m);
  }

  getMigration(id: string): Promise<Migration | null> {
    return this.#cx.store.migration(id);
  }

  /** A migration by id or by name, within a conversation when one is given. */
  findMigration(ref: string, conversationId?: string | null): Promise<Migration | null> {
    return this.#cx.store.findMigration(ref, conversationId ?? null);
  }

  listMigrations(opts: { conversationId?: string | null; state?: string } = {}): Promise<Migration[]> {
    return this.#cx.store.listMigrations(opts.conversationId ?? null, opts.state ?? null);
  }

  /** The migration's home: the thread its overview started in the channel, and the overview's post. */
  setHome(migrationId: string, conversationId: string, overviewActivityId: string): Promise<void> {
    return this.#cx.store.setHome(migrationId, conversationId, overviewActivityId);
  }

  setStepActivity(migrationId: string, seq: number, activityId: string): Promise<void> {
    return this.#cx.store.setStepActivity(migrationId, seq, activityId);
  }

  getSteps(migrationId: string): Promise<StepRow[]> {
    return this.#cx.store.steps(migrationId);
  }

  getStep(migrationId: string, seq: number): Promise<StepRow | null> {
    return this.#cx.store.step(migrationId, seq);
  }

  getApprovals(migrationId: string, seq: number, attempt: number): Promise<ApprovalRecord[]> {
    return this.#cx.store.approvals(migrationId, seq, attempt);
  }

  /** A step with all its card shows (see snapshot.ts); null when absent or (`tenantId`) another tenant's. */
  stepSnapshot(migrationId: string, seq: number, opts: { tenantId?: string } = {}): Promise<StepSnapshot | null> {
    return stepSnapshot(this.#cx, migrationId, seq, opts);
  }

  /** A stored step with its definition (the row is the truth: batches and rollbacks are added later). */
  plannedStep(m: Migration, row: { seq: number; key: string; batch: number | null; ord?: number; params?: Record<string, unknown> | null }): PlannedStep {
    return this.#cx.plannedStep(m, row);
  }

  context(m: Migration, batch: number | null, rollback = false): MigrationContext {
    return migrationContext(m, batch, rollback);
  }

  /** The context a stored step runs in (rollback steps see the OUs they take back; a step with parameters, those). */
  stepContext(m: Migration, step: { key: string; batch: number | null; params?: Record<string, unknown> | null }): MigrationContext {
    return this.#cx.stepContext(m, step);
  }

  /** What earlier steps proved, by step key (the latest batch's evidence wins). */
  facts(migrationId: string): Promise<Facts> {
    return this.#cx.facts(migrationId);
  }

  /** What a step will do, exactly as it will be run: approvers approve this (by hash). */
  planFor(m: Migration, step: PlannedStep): Promise<StepPlan> {
    return planFor(this.#cx, m, step);
  }

  // ---------------------------------------------------------------- clicks and results

  /** One click on a step card (clicks.ts). Never throws for a user's mistake: the notice says what happened. */
  act(input: ActInput, opts: { before?: StepSnapshot } = {}): Promise<ActResult> {
    return act(this.#cx, input, opts);
  }

  /** The runner hub reports a job's end (result, failure, or a lease that expired: lost). */
  onRunnerJobSettled(job: SettledJob): Promise<void> {
    return onRunnerJobSettled(this.#cx, job);
  }

  /** After an approved change of the approval policy: steps waiting for approval are weighed again (clicks.ts). */
  reweighPendingApprovals(migrationId: string, policyChangeId: number): Promise<{ approved: number[]; reasked: number[] }> {
    return reweighPendingApprovals(this.#cx, migrationId, policyChangeId);
  }

  // ---------------------------------------------------------------- the Connect Sync scheduler

  /** The step of this migration holding the Connect Sync scheduler off now, if one does (guards.ts). */
  schedulerHold(migrationId: string): Promise<SchedulerHold | null> {
    return schedulerHold(this.#cx, migrationId);
  }

  /** Any active migration of the tenant holding the scheduler off. */
  schedulerHeldInTenant(tenantId: string): Promise<SchedulerHold | null> {
    return schedulerHeldInTenant(this.#cx, tenantId);
  }

  // ---------------------------------------------------------------- steps added while a migration runs

  /** Adds an OU batch to a running migration: its steps go after the last batch's. */
  addBatch(migrationId: string, ou: string, actor: Person): Promise<{ batch: number }> {
    return addBatch(this.#cx, migrationId, ou, actor);
  }

  /** Rolls batches back to Connect Sync (batches.ts): `batch` is one batch, or 'all' for every batch not rolled back yet. */
  startRollback(migrationId: string, batch: number | 'all', actor: Person): Promise<{ steps: number[]; ous: string[] }> {
    return startRollback(this.#cx, migrationId, batch, actor);
  }

  /** Adds a step an incident calls for and asks its approval on behalf of `actor` (batches.ts). */
  addIncidentStep(
    migrationId: string,
    key: IncidentStepKey,
    raw: Record<string, unknown>,
    actor: Person,
  ): Promise<{ step: StepRow; added: boolean; notice?: string }> {
    return addIncidentStep(this.#cx, migrationId, key, raw, actor);
  }

  /** The steps added for an incident (by its alert id), in every migration, the latest last. */
  incidentSteps(alertId: string): Promise<{ migration: Migration; step: StepRow }[]> {
    return incidentSteps(this.#cx, alertId);
  }

  /** The incident resolved: the steps added for it that have not run are skipped with the reason. */
  settleIncidentSteps(alertId: string, reason: string): Promise<number[]> {
    return settleIncidentSteps(this.#cx, alertId, reason);
  }

  /** Taking an OU out of Connect Sync's scope during coexistence exports deletes (seed 001): the refusal, if any. */
  connectScopeRemovalBlocker(ou: string, tenantId?: string): Promise<string | null> {
    return connectScopeRemovalBlocker(this.#cx, ou, tenantId);
  }

  // ---------------------------------------------------------------- recovery, leases, housekeeping

  /** At start: approved steps start; running steps whose owner died are settled (recovery.ts). */
  recover(): Promise<void> {
    return recover(this.#cx);
  }

  /** Running steps whose owner is gone become lost (mutations) or failed (reads). Returns how many were settled. */
  settleOrphanedSteps(): Promise<number> {
    return settleOrphanedSteps(this.#cx);
  }

  /** Extends the leases of the actions this process is running (on a timer; tests call it with their clock). */
  renewLeases(): Promise<number> {
    return this.#cx.leases.renew();
  }

  /** Expiry, reminders and escalation of pending approval requests; approved steps whose window opened start (housekeeping.ts). */
  sweepApprovals(): Promise<{ expired: number; reminded: number; escalated: number; started: number }> {
    return sweepApprovals(this.#cx);
  }

  // ---------------------------------------------------------------- audit and the approver's queue

  auditTrail(migrationId: string, limit?: number): Promise<AuditRow[]> {
    return readAudit(this.#cx.store.db, migrationId, limit);
  }

  verifyAudit(migrationId: string): Promise<ChainVerdict> {
    return verifyAuditChain(this.#cx.store.db, migrationId);
  }

  /** Steps waiting for this person's decision, oldest first, across migrations. */
  async pendingFor(oid: string): Promise<{ migration: Migration; step: StepRow; def: StepDefinition }[]> {
    const cx = this.#cx;
    const out: { migration: Migration; step: StepRow; def: StepDefinition }[] = [];
    for (const s of await cx.store.awaitingApproval(true)) {
      const m = (await cx.store.migration(s.migrationId))!;
      if (!(await cx.isOwnerNow(m, oid))) continue;
      if (m.policy.fourEyes && s.requestedBy?.oid.toLowerCase() === oid.toLowerCase()) continue;
      const decided = (await cx.store.approvals(m.id, s.seq, s.attempt)).some((a) => a.approverOid.toLowerCase() === oid.toLowerCase());
      if (!decided) out.push({ migration: m, step: s, def: cx.plannedStep(m, s).def });
    }
    return out;
  }
}
