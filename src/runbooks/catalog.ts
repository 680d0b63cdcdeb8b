import { connectToCloudSync } from './definitions/connect-to-cloud-sync.js';
import { groupWritebackV2 } from './definitions/group-writeback-v2.js';
import { dirsyncUpgrade } from './definitions/dirsync-upgrade.js';
import { incidentStep } from './definitions/incident-steps.js';
import type { PlannedStep, RunbookDefinition, StepDefinition, StepEstablishes } from './types.js';

export const RUNBOOKS: Record<string, RunbookDefinition> = {
  [connectToCloudSync.kind]: connectToCloudSync,
  [groupWritebackV2.kind]: groupWritebackV2,
  [dirsyncUpgrade.kind]: dirsyncUpgrade,
};

export function runbookOf(kind: string): RunbookDefinition {
  const rb = RUNBOOKS[kind];
  if (!rb) throw new Error(`unknown runbook kind "${kind}"`);
  return rb;
}

/** A step's definition by key: runbook steps first, then the rollback steps, then the steps incidents add (any runbook). */
export function definitionOf(kind: string, key: string): StepDefinition {
  const rb = runbookOf(kind);
  const def = rb.steps.find((s) => s.key === key) ?? rb.rollbackSteps?.find((s) => s.key === key) ?? incidentStep(key);
  if (!def) throw new Error(`runbook ${kind} has no step "${key}"`);
  return def;
}

/** What a stored step's success establishes, by its definition; nothing for a key its runbook does not know (any more). */
export function establishedBy(kind: string, key: string): StepEstablishes {
  try {
    return definitionOf(kind, key).establishes ?? {};
  } catch {
    return {};
  }
}

/** The OUs of the batches in which a step establishing `what` has succeeded (read from definitions, never from keys). */
export function batchOusWhere(
  m: { kind: string; ous: string[] },
  steps: readonly { key: string; batch: number | null; state: string }[],
  what: keyof StepEstablishes,
): string[] {
  return m.ous.filter((_, i) => steps.some((s) => s.batch === i + 1 && s.state === 'succeeded' && !!establishedBy(m.kind, s.key)[what]));
}

/**
 * Where steps sit: once-before steps, then each batch's steps, then once-after steps. Ords leave room
 * for batches added later and for a batch's rollback steps (appended after the batch's own steps).
 */
export const ORD = {
  before: (i: number) => 1_000 + i,
  batch: (b: number, i: number) => b * 100_000 + i,
  rollback: (b: number, i: number) => b * 100_000 + 50_000 + i,
  after: (i: number) => 1_000_000_000 + i,
};

function sections(rb: RunbookDefinition) {
  const first = rb.steps.findIndex((s) => s.perBatch);
  if (first < 0) return { before: rb.steps, perBatch: [] as StepDefinition[], after: [] as StepDefinition[] };
  const last = rb.steps.length - 1 - [...rb.steps].reverse().findIndex((s) => s.perBatch);
  return { before: rb.steps.slice(0, first), perBatch: rb.steps.filter((s) => s.perBatch), after: rb.steps.slice(last + 1) };
}

/** Expands a runbook for a migration: per-batch steps repeat for each OU batch, in order. */
export function planSteps(rb: RunbookDefinition, batchCount: number): PlannedStep[] {
  const { before, perBatch, after } = sections(rb);
  const out: PlannedStep[] = [];
  let seq = 1;
  before.forEach((def, i) => out.push({ seq: seq++, ord: ORD.before(i), key: def.key, batch: null, def }));
  for (let b = 1; b <= batchCount; b++) perBatch.forEach((def, i) => out.push({ seq: seq++, ord: ORD.batch(b, i), key: def.key, batch: b, def }));
  after.forEach((def, i) => out.push({ seq: seq++, ord: ORD.after(i), key: def.key, batch: null, def }));
  return out;
}

/** The steps of one more batch, numbered from nextSeq. */
export function planBatch(rb: RunbookDefinition, batch: number, nextSeq: number): PlannedStep[] {
  return sections(rb).perBatch.map((def, i) => ({ seq: nextSeq + i, ord: ORD.batch(batch, i), key: def.key, batch, def }));
}

/** The rollback steps of one batch, numbered from nextSeq. */
export function planRollback(rb: RunbookDefinition, batch: number, nextSeq: number): PlannedStep[] {
  return (rb.rollbackSteps ?? []).map((def, i) => ({ seq: nextSeq + i, ord: ORD.rollback(batch, i), key: def.key, batch, def }));
}
