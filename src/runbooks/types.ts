/** A runbook is data: an ordered list of steps; the engine knows nothing of Teams. */

export type StepState = 'pending' | 'awaiting_approval' | 'approved' | 'running' | 'succeeded' | 'failed' | 'rejected' | 'skipped' | 'lost';

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
  /** The step's own validated parameters (a step added for an incident: which job to restart, with which reset scope). */
  params?: Record<string, unknown>;
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
  | 'verify-sync-resumed'
  /** Restart a quarantined Cloud Sync job of the migration's configuration with a reset scope (the step's parameters). */
  | 'restart-quarantined-job';

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

/** What earlier steps established that a step's effect is stated with (src/runbooks/effects.ts builds it). */
export interface EffectFacts {
  /** Users in the batch's OU (count step). */
  ouUserCount?: number;
  /** The batch OU's objects (count step). */
  ou?: { users: number; groups: number; contacts: number };
  /** The domain's objects (the assessment). */
  domain?: { users: number; groups: number; contacts: number; total: number };
  /** The forest's objects and the upgrade estimate (DirSync analysis). */
  forest?: { objects: number; hours?: number };
  /** Written-back groups the GWB dry run would change. */
  gwbGroups?: number;
  /** The step of this key in the same batch (else outside batches): its number and title, as the cards show them. */
  step?: (key: string) => { seq: number; title: string } | undefined;
}

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

/**
 * What a step's success establishes that the engine and the monitor act on. Declared on the step, so that neither of
 * them names a step or a runner action: they read these from the definitions of the steps that succeeded.
 */
export interface StepEstablishes {
  /**
   * The Connect Sync scheduler as the step leaves it (Connect keeps no "disabled since" anywhere: cutover's records are
   * the only source of who holds it off, and since when). `serviceStopped`: the ADSync service too (Connect disabled on
   * purpose).
   */
  scheduler?: { enabled: boolean; serviceStopped?: boolean };
  /** It makes or removes the no-flow rules of a rule change: once it succeeded, the scheduler stopped for the change may start again. */
  ruleChange?: boolean;
  /** Its batch's OU has no-flow rules in Connect Sync: the OU must stay in Connect Sync's scope during coexistence (the monitor checks it). */
  ouNoFlowRules?: boolean;
  /** Its batch's OU is in Cloud Sync's configuration scope: reconciled and watched by the monitor, and rolled back only with every other such batch. */
  ouOnCloudSync?: boolean;
  /** Connect Sync is disabled: the soak starts when this step succeeds, and no batch may be added once it has begun. */
  connectDisabled?: boolean;
  /** Connect Sync is decommissioned: its scope may change freely from then on. */
  connectDecommissioned?: boolean;
}

/**
 * What a rollback step needs to have anything to do; without it the step is added already skipped, with the reason:
 * `ou-on-cloud-sync`, a rolled-back OU in Cloud Sync's configuration; `scheduler-held`, a scheduler this migration stopped.
 */
export type RollbackNeed = 'ou-on-cloud-sync' | 'scheduler-held';

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
  /**
   * What the step affects, in words, for approvers: its blast radius first ("Connect Sync stops for all 5,376 users …
   * of contoso.com until step 12 (Start the Connect Sync scheduler)"). Shown at the top of the card; part of the plan
   * the approval binds to.
   */
  effect?: (ctx: MigrationContext, facts: EffectFacts) => string;
  /** A step that does not apply, given what earlier steps found, is skipped with this reason. */
  skipIf?: (facts: Facts, ctx: MigrationContext) => string | null;
  /** A runner result that does not prove the step (e.g. staging mode still off): the step fails with this reason. */
  expect?: (results: any[], ctx: MigrationContext, facts: Facts) => string | null;
  /** Facts derived from a runner sequence's results, kept with the evidence (e.g. the recommended upgrade path). */
  summarize?: (results: any[], ctx: MigrationContext) => Record<string, unknown>;
  /** Go-live gate: reads made when approval is asked (and again before it runs); their figures are what is approved. */
  preview?: { reads: RunnerSequence; figures: (results: any[], ctx: MigrationContext) => GoLiveFigures };
  /**
   * What this step's evidence, once it succeeded, tells the effects of other steps (effects.ts): cards carry the evidence
   * of such steps. `sameBatch`: it speaks only for the steps of its own batch; otherwise its latest success speaks for all.
   */
  informsEffects?: { sameBatch?: boolean; facts: (evidence: any) => Partial<EffectFacts> };
  /** What this step's success establishes for the rest of cutover (see StepEstablishes). */
  establishes?: StepEstablishes;
  /** A rollback step's precondition for having anything to do (see RollbackNeed). */
  rollbackNeeds?: RollbackNeed;
  /**
   * A step added to a running migration with parameters of its own (an incident's remedy): they are checked when the
   * step is added, and again before they are used. Returns the parameters to store, or the reason they are refused.
   */
  params?: (raw: Record<string, unknown>) => { ok: true; params: Record<string, unknown> } | { ok: false; reason: string };
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

/** Steps any migration can be given while it runs, for an incident the monitor found (incident-steps.ts). */
export type IncidentStepKey = 'restart-quarantined-job';

/** One expanded step of one migration (per-batch steps repeat per batch). */
export interface PlannedStep {
  seq: number;
  /** Position in the runbook: steps run in this order. */
  ord: number;
  key: string;
  batch: number | null;
  def: StepDefinition;
  /** The step's own parameters, when it has any (a step added for an incident). */
  params?: Record<string, unknown> | null;
}
