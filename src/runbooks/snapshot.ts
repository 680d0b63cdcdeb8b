import type { Migration, StepRow } from './engine.js';
import type { OwnersGroup } from './owners.js';
import type { ApprovalRecord, OwnerSet } from './policy.js';
import type { EngineContext } from './engine-context.js';
import { effectEvidenceKeys } from './effects.js';

/**
 * Everything a step's card shows, read at once (RunbookEngine.stepSnapshot) or handed back by the transition that
 * changed the step (ActResult.snapshot, and the step-changed event): the migration, the step, where every step of the
 * migration is, the decisions on the step's current approval request, its owners and the names of the people it names.
 * A plain object: card views render it without reading anything, so one click renders the clicker's card and the
 * channel's card from the same snapshot.
 */
export interface StepSnapshot {
  migration: Migration;
  step: StepRow;
  /** Every step of the migration in order, with as much of each as a step's card needs (progress, effect facts). */
  steps: StepProgress[];
  /** The decisions on the step's current approval request (its attempt), oldest first. */
  approvals: ApprovalRecord[];
  owners: OwnerView;
  /**
   * Names and Teams ids of the change owners (listed, and the group's members) cutover has seen, by lower-case object id.
   * Approvers' names are on their decisions.
   */
  people: Record<string, PersonSeen>;
}

/**
 * A step of the migration as another step's card needs it. `evidence` only where a card reads it: skipped steps (why
 * they were skipped, a cancellation) and succeeded steps whose evidence states another step's effect
 * (effectEvidenceKeys(): their definitions declare informsEffects); null otherwise, however large the step's evidence is.
 */
export interface StepProgress {
  seq: number;
  ord: number;
  key: string;
  batch: number | null;
  state: StepRow['state'];
  evidence: Record<string, unknown> | null;
  /** The message holding the step's card in the migration's thread, once posted. */
  activityId: string | null;
}

/** A migration's change owners now: listed, and through its owners group (read through Graph, cached). */
export interface OwnerView {
  owners: OwnerSet;
  /** The listed owners, lower-case. */
  direct: string[];
  group: OwnersGroup | null;
  /** Why the owners group could not be read now (then only the listed owners are in `owners`). */
  groupError: string | null;
}

export interface PersonSeen {
  name: string;
  /** Their Teams id (29:…), once they have written in a conversation with the bot. */
  teamsId: string | null;
}

/** A step row reduced to what other steps' cards need of it (see StepProgress). */
export function progressOf(s: StepRow, evidenceKeys: readonly string[]): StepProgress {
  const evidence = s.state === 'skipped' || (s.state === 'succeeded' && evidenceKeys.includes(s.key)) ? s.evidence : null;
  return { seq: s.seq, ord: s.ord, key: s.key, batch: s.batch, state: s.state, evidence, activityId: s.activityId };
}

/**
 * A step with all its card shows, in one statement (RunbookStore.snapshotRow); then its owners (the owners group
 * through Graph, cached) and, for a group, the names of its members seen (one more statement). Null when the migration
 * or the step does not exist, or (`tenantId`) the migration is another tenant's: its owners group is then never looked up.
 */
export async function stepSnapshot(cx: EngineContext, migrationId: string, seq: number, opts: { tenantId?: string } = {}): Promise<StepSnapshot | null> {
  const r = await cx.store.snapshotRow(migrationId, seq, effectEvidenceKeys());
  if (!r) return null;
  const { migration } = r;
  if (opts.tenantId !== undefined && migration.tenantId !== opts.tenantId) return null;
  const owners = await cx.ownerView(migration);
  const people = r.people;
  // Names not found above: the owners group's members, and listed owners stored in another case (older rows).
  const unnamed = [
    ...new Set(
      [...migration.policy.owners.filter((o) => o !== o.toLowerCase()), ...(owners.group?.members ?? []).map((x) => x.id)].map((o) => o.toLowerCase()),
    ),
  ].filter((o) => !people[o]);
  if (unnamed.length) Object.assign(people, await cx.store.people(unnamed));
  return { migration, step: r.step, steps: r.steps, approvals: r.approvals, owners, people };
}
