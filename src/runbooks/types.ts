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
  | 'verify-connect-owns-ou';

export type StepAction =
  | { kind: 'manual'; checklist: string[] }
  /** `action` may depend on the context (a rollback rewrites the no-flow rules for the OUs that stay, or removes them). */
  | { kind: 'runner'; sequence: { action: string | ((ctx: MigrationContext) => string); params: (ctx: MigrationContext) => Record<string, unknown> }[] }
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
  expect?: (results: any[], ctx: MigrationContext) => string | null;
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
