/** A runbook is data: an ordered list of steps; the engine knows nothing of Teams. */

export type StepState =
  | 'pending'
  | 'awaiting_approval'
  | 'approved'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'rejected'
  | 'skipped'
  | 'lost';

export type ApprovalKind = 'none' | 'change-owners' | 'sensitive';

export interface Person {
  oid: string; // Entra object id: the only thing authorization trusts
  name: string; // display name from the activity: shown, never trusted
}

export interface MigrationContext {
  migrationId: string;
  name: string;
  domain: string;
  tenantId: string;
  batch: number | null;
  ou: string | null; // the batch's OU, for per-batch steps
  allOus: string[]; // every batch OU, in order
  /** Batch OUs not rolled back, up to and including this batch (every batch for steps outside batches). */
  batchOus: string[];
  /** OUs a rollback takes back to Connect Sync (rollback steps only; empty otherwise). */
  rollbackOus: string[];
  /** Declared partial (coexistence): the migration ends after its batches and never disables Connect Sync. */
  partial: boolean;
  /** The runner on the migration's Connect server (null until bound): its reads and jobs go there. */
  runnerName: string | null;
  /** Runbook-specific choices made at creation (e.g. `path` for the DirSync upgrade). */
  options: Record<string, string>;
}

/** A Graph operation the engine may call; implemented by src/runbooks/ports.ts adapters over src/graph. */
export type GraphOperation =
  | 'assess'
  | 'configure-cloud-sync'
  | 'provision-on-demand'
  | 'start-cloud-sync-job'
  | 'verify-ou-counts'
  | 'verify-all-ous'
  | 'post-migration-validation'
  | 'configure-sync-features'
  | 'check-accidental-delete-prevention'
  | 'pause-cloud-sync-job'
  | 'verify-connect-owns-ou'
  /** Cloud Sync's Entra ID → AD group provisioning (AAD2ADGroupProvisioning) is configured, running and not quarantined. */
  | 'verify-group-provisioning'
  /** Entra ID received a directory sync after the step before (the tenant's onPremisesLastSyncDateTime moved on). */
  | 'verify-sync-resumed';

/** A sequence of runner actions (each a read or a change), run in order as one step. */
export type RunnerSequence = { action: string | ((ctx: MigrationContext) => string); params: (ctx: MigrationContext) => Record<string, unknown> }[];

export type StepAction =
  /**
   * A person does it by hand. With `verify`, the step is not done on approval: once approved the person is told to
   * go ahead, says when it is done, and the verification (runner reads or a Graph check, judged by `expect`) proves it.
   */
  | { kind: 'manual'; checklist: string[]; verify?: { kind: 'runner'; sequence: RunnerSequence } | { kind: 'graph'; operation: GraphOperation } }
  /** `action` may depend on the context (a rollback rewrites the no-flow rules for the OUs that stay, or removes them). */
  | { kind: 'runner'; sequence: RunnerSequence }
  | { kind: 'graph'; operation: GraphOperation };

export type GuardKey =
  | 'ou-in-connect-scope'
  /** Another migration on the same Connect server is mid-rules (scheduler stopped, rules not yet made): no start now. */
  | 'scheduler-not-held-elsewhere'
  /** Every object in Connect Sync's scope has been moved by a batch (or the migration is declared partial). */
  | 'connect-scope-migrated'
  /** The batch's OU was rolled back: Cloud Sync's configuration still holds it, and it must never be re-added. */
  | 'ou-not-rolled-back'
  | 'no-sync-cycle-running'
  /** The next batch cannot start while the migration has open critical alerts. */
  | 'previous-batch-clear'
  /** The soak after disabling Connect Sync (≥ 7 days, configurable upward only) has ended. */
  | 'soak-elapsed';

/** What earlier steps proved, by step key (latest batch wins): their evidence. */
export type Facts = Record<string, any>;

/**
 * What a go-live will export or delete, read just before approval and part of what is approved: if the figures change
 * before the step runs, the approval is void (the plan's hash changes).
 */
export interface GoLiveFigures {
  /** One line per connector or engine, e.g. "Entra connector: 3 adds, 12 updates, 0 deletes". */
  lines: string[];
  counts: Record<string, number>;
  /** The objects, up to a cap (the card shows them on request); `total` counts them all. */
  objects: { connector: string; operation: string; objectType: string; dn: string }[];
  total: number;
  /** sha256 of every object (not only those listed): the approval binds to the exact set. */
  digest: string;
  /** A finding the owners must decide on explicitly (typed confirmation), e.g. written-back groups about to be deleted. */
  blocker?: string;
}

export interface StepDefinition {
  key: string;
  title: string;
  /** The step's purpose in one line. */
  purpose: string;
  /** The seed's warning, verbatim or close to it, where there is one. */
  warning?: string;
  /** Which seed text the step comes from. */
  source: string;
  perBatch?: boolean;
  approval: ApprovalKind;
  /** Changes production identity data or sync configuration (change windows apply). */
  production: boolean;
  action: StepAction;
  guards?: GuardKey[];
  /** What result proves the step done, in words for the card. */
  evidence: string;
  /** What the step will do, for approvers: Connect Sync stops exporting … for N users in OU=… */
  effect?: (ctx: MigrationContext, facts: { ouUserCount?: number }) => string;
  /** A step that does not apply, given what earlier steps found, is skipped with this reason. */
  skipIf?: (facts: Facts, ctx: MigrationContext) => string | null;
  /** A runner result that does not prove the step (e.g. staging mode still off): the step fails with this reason. */
  expect?: (results: any[], ctx: MigrationContext, facts: Facts) => string | null;
  /** Facts derived from a runner sequence's results, kept with the evidence (e.g. the recommended upgrade path). */
  summarize?: (results: any[], ctx: MigrationContext) => Record<string, unknown>;
  /** Go-live gate: reads made when approval is asked (and again before it runs); their figures are what is approved. */
  preview?: { reads: RunnerSequence; figures: (results: any[], ctx: MigrationContext) => GoLiveFigures };
}

export interface RunbookDefinition {
  kind: string;
  title: string;
  summary: string;
  /** What the OU parameter means for this runbook: OU batches, the written-back groups' OU, or none. */
  ous: 'batches' | 'one' | 'none';
  steps: StepDefinition[];
  /** Steps appended for one batch by `rollback <migration> batch=N` (per batch). */
  rollbackSteps?: StepDefinition[];
}

/** One expanded step of one migration (per-batch steps repeat per batch). */
export interface PlannedStep {
  seq: number;
  /** Position in the runbook: steps run in this order. */
  ord: number;
  key: string;
  batch: number | null;
  def: StepDefinition;
}
