import type { ApprovalPolicy } from './policy.js';
import type { Facts, GoLiveFigures, GraphOperation, MigrationContext, Person, StepState } from './types.js';
import type { StepSnapshot } from './snapshot.js';

/** The engine's vocabulary: what it stores, what it is told and what it tells (engine.ts re-exports all of it). */

/** The step holding a Connect server's scheduler off, by cutover's own records. */
export interface SchedulerHold {
  since: Date;
  stepTitle: string;
  /** The same step stopped the ADSync service too: Connect was disabled on purpose. */
  serviceStopped: boolean;
}

/** A runner job as the hub reports its end. */
export type SettledJob = {
  id: string;
  migrationId: string;
  stepSeq: number;
  attempt: number;
  state: 'succeeded' | 'failed' | 'lost';
  result?: unknown;
  error?: { code: string; message: string } | null;
  transcript?: string | null;
};

/** What the engine needs from the outside world; the composition root provides it. */
export interface EnginePorts {
  runner: {
    /** Queue a runner job for the migration's tenant; its result comes back through onRunnerJobSettled. */
    enqueue(req: {
      migrationId: string;
      stepSeq: number;
      attempt: number;
      position: number;
      action: string;
      params: Record<string, unknown>;
      tenantId: string;
      runnerName?: string;
    }): Promise<{ jobId: string }>;
    /** The job's end, if it has ended: a runner may settle it before the step has recorded it (see step-runs.ts). */
    settledJob(jobId: string): Promise<SettledJob | null>;
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

export const STALE_NOTICE = 'This card was out of date, so nothing was done. Here is the current state.';

export class EngineError extends Error {
  constructor(
    public code: 'not-found' | 'invalid' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

/** The step no longer holds the runbook up: it succeeded or was skipped. */
export const isStepDone = (s: { state: StepState }): boolean => s.state === 'succeeded' || s.state === 'skipped';

/** A migration's current step: the first, in order, that still holds the runbook up (none once every step is done). */
export function currentStep<S extends { state: StepState }>(steps: readonly S[]): S | undefined {
  return steps.find((s) => !isStepDone(s));
}
