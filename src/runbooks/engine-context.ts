import pRetry from 'p-retry';
import type { Clock } from '../clock.js';
import type { Sql } from '../store/db.js';
import type { Logger } from '../log.js';
import type { Tracer } from '../telemetry/tracer.js';
import { appendAudit } from './audit.js';
import { definitionOf, runbookOf } from './catalog.js';
import { normalizeDn } from '../dn.js';
import { directOwners, isOwner, ownerSet, type OwnerSet } from './policy.js';
import { OwnersGroupNotFound, OwnersGroupUnavailable, type OwnersGroup, type OwnersGroupResolver } from './owners.js';
import type { OwnerView } from './snapshot.js';
import type { Facts, MigrationContext, PlannedStep, StepDefinition, StepState } from './types.js';
import { EngineError, type EngineEvent, type EngineOwnerOptions, type EnginePorts, type Migration, type StepRow } from './engine-types.js';
import type { RunbookStore } from './store.js';
import { StepLeases } from './recovery.js';

export interface EngineDeps {
  store: RunbookStore;
  clock: Clock;
  log: Logger;
  ports: EnginePorts;
  owner?: EngineOwnerOptions;
  tracer?: Tracer;
  ownersGroups?: OwnersGroupResolver;
}

/**
 * What every part of the engine shares: its dependencies, the store, its events and background work, the owner
 * leases, and the few operations each part needs (a transition, the owners now, a step's definition and context).
 * One object handed to small functions, rather than one class holding them all.
 */
export class EngineContext {
  readonly store: RunbookStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly ports: EnginePorts;
  readonly tracer: Tracer | undefined;
  readonly leases: StepLeases;
  #listeners: ((e: EngineEvent) => void)[] = [];
  #inflight = new Set<Promise<unknown>>();

  constructor(private readonly deps: EngineDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.log = deps.log;
    this.ports = deps.ports;
    this.tracer = deps.tracer;
    this.leases = new StepLeases(this, deps.owner);
  }

  // ---------------------------------------------------------------- events and background work

  on(listener: (e: EngineEvent) => void): void {
    this.#listeners.push(listener);
  }

  emit(e: EngineEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.log.error({ err }, 'engine listener failed');
      }
    }
  }

  /** Resolves when no action started by the engine is still running (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.#inflight.size) await Promise.allSettled([...this.#inflight]);
  }

  track<T>(p: Promise<T>): void {
    const tracked = p.catch((err) => this.log.error({ err }, 'engine background task failed')).finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
  }

  /**
   * A store read or write that must not be dropped by a short database outage (a restart, a failover): without it a
   * step would stay "approved" or "running" with nothing behind it until the next restart. Retried with backoff for
   * about a minute; after that the error is logged and recover() settles the step at the next start.
   */
  persist<T>(fn: () => Promise<T>): Promise<T> {
    return pRetry(fn, {
      retries: 8,
      minTimeout: 250,
      maxTimeout: 15_000,
      onFailedAttempt: ({ error, attemptNumber }) =>
        this.log.warn({ err: error, attempt: attemptNumber }, 'store unavailable while starting or settling a step; retrying'),
    });
  }

  // ---------------------------------------------------------------- transitions

  /**
   * Writes the step as patched (its version bumped) and answers the row as written. Moving to running takes this
   * process's owner lease in the same statement: no moment where a step runs unowned (another process's recovery would
   * leave such a step alone for a lease's grace).
   */
  update(tx: Sql, step: StepRow, patch: Partial<StepRow>, now: Date): Promise<StepRow> {
    return this.store.updateStep(tx, step, patch, now, patch.state === 'running' ? this.leases.lease(now) : undefined);
  }

  /** Moves a step and records it, in one transaction, if it is still in the expected state. */
  async transition(
    migrationId: string,
    seq: number,
    expect: StepState[],
    patch: Partial<StepRow>,
    audit: { action: string; details: Record<string, unknown> },
    guard?: (s: StepRow) => boolean,
  ): Promise<boolean> {
    const now = this.clock.now();
    const ok = await this.store.transaction(async (tx) => {
      await this.store.lockMigration(tx, migrationId);
      const { step, auditHead } = await this.store.lockedStep(tx, migrationId, seq);
      if (!expect.includes(step.state) || (guard && !guard(step))) return false;
      await this.update(tx, step, patch, now);
      await appendAudit(
        tx,
        { migrationId, at: now, actor: null, action: audit.action, stepSeq: seq, details: { key: step.key, attempt: step.attempt, ...audit.details } },
        { head: auditHead },
      );
      await this.completeIfDone(tx, migrationId, now);
      return true;
    });
    if (ok) this.emit({ type: 'step-changed', migrationId, seq });
    return ok;
  }

  /** The migration is completed in the same transaction as its last step, so nobody sees one without the other. */
  async completeIfDone(tx: Sql, migrationId: string, now: Date): Promise<boolean> {
    const completed = await this.store.completeIfDone(tx, migrationId);
    if (completed) await appendAudit(tx, { migrationId, at: now, actor: null, action: 'migration-completed', details: {} });
    return completed;
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
      if (e instanceof OwnersGroupUnavailable || e instanceof OwnersGroupNotFound)
        return { owners: new Set(direct), direct, group: null, groupError: e.message };
      throw e;
    }
  }

  // ---------------------------------------------------------------- the migration's runner

  /**
   * The migration's runner (by name: a runner rotated under the same name keeps serving it); an unbound migration (no
   * runner existed at creation) is bound to the tenant's only one now.
   */
  async runnerOf(m: Migration): Promise<string> {
    const runners = await this.ports.runner.runners(m.tenantId);
    if (m.runnerName) {
      const live = runners.find((r) => r.name.toLowerCase() === m.runnerName!.toLowerCase());
      if (!live)
        throw new EngineError(
          'invalid',
          `${m.name} is bound to the runner "${m.runnerName}", which is not registered any more (revoked?): register it again under that name on its Connect server.`,
        );
      return live.name;
    }
    if (runners.length !== 1)
      throw new EngineError(
        'invalid',
        runners.length
          ? `${m.name} is bound to no runner and this tenant has ${runners.length}: bind it before running steps.`
          : 'No runner is registered for this tenant: add one on the Connect server first (say "help").',
      );
    await this.store.bindRunner(m.id, runners[0].name);
    m.runnerName = (await this.store.migration(m.id))?.runnerName ?? runners[0].name;
    return m.runnerName;
  }

  /** A read on the migration's own runner (its Connect server; checked live by runnerOf when the click began). */
  async read(m: Migration, read: { action: string; params: Record<string, unknown> }): Promise<any> {
    return this.ports.runner.read(m.tenantId, read.action, read.params, { runnerName: m.runnerName ?? (await this.runnerOf(m)) });
  }

  // ---------------------------------------------------------------- steps and their definitions

  plannedStep(m: Migration, row: { seq: number; key: string; batch: number | null; ord?: number; params?: Record<string, unknown> | null }): PlannedStep {
    return plannedStepOf(m, row);
  }

  stepContext(m: Migration, step: { key: string; batch: number | null; params?: Record<string, unknown> | null }): MigrationContext {
    return stepContextOf(m, step);
  }

  /** What earlier steps proved, by step key (the latest batch's evidence wins). */
  async facts(migrationId: string): Promise<Facts> {
    const out: Facts = {};
    for (const s of await this.store.steps(migrationId)) if (s.state === 'succeeded' && s.evidence) out[s.key] = s.evidence;
    return out;
  }
}

/** A stored step with its definition (the row is the truth: batches and rollbacks are added later). */
export function plannedStepOf(
  m: Pick<Migration, 'kind'>,
  row: { seq: number; key: string; batch: number | null; ord?: number; params?: Record<string, unknown> | null },
): PlannedStep {
  return {
    seq: row.seq,
    ord: row.ord ?? row.seq,
    key: row.key,
    batch: row.batch,
    def: definitionOf(m.kind, row.key),
    ...(row.params ? { params: row.params } : {}),
  };
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
    ou: batch ? m.ous[batch - 1] : single ? (m.ous[0] ?? null) : null,
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

/** A manual step that was approved and waits for the person to do it and say so (then its verification runs). */
export function awaitingOperator(step: StepRow, def: StepDefinition): boolean {
  return step.state === 'running' && def.action.kind === 'manual' && !!def.action.verify && !step.jobId && (step.evidence as any)?.awaitingOperator === true;
}
