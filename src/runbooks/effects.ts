import type { EffectFacts, StepDefinition, StepState } from './types.js';
import { RUNBOOKS } from './catalog.js';

/**
 * The facts a step's effect (its blast radius, in words) is stated with, from the migration's steps as they are: the
 * domain's counts from the assessment, the batch OU's from its count step, the numbers of related steps. A pure
 * function of the step rows, so the engine (when it plans a step) and a card (before a plan exists) say the same.
 */
export interface EffectStepRow {
  seq: number;
  key: string;
  batch: number | null;
  state: StepState;
  evidence: Record<string, unknown> | null;
}

/** The steps whose evidence effectFacts reads, by key: those whose definitions declare `informsEffects`. */
let informers: Map<string, NonNullable<StepDefinition['informsEffects']>> | null = null;

function informersOf(): Map<string, NonNullable<StepDefinition['informsEffects']>> {
  if (!informers) {
    informers = new Map();
    for (const rb of Object.values(RUNBOOKS))
      for (const s of [...rb.steps, ...(rb.rollbackSteps ?? [])]) if (s.informsEffects) informers.set(s.key, s.informsEffects);
  }
  return informers;
}

/** The keys of the steps whose evidence effectFacts reads (when they succeeded): a card's snapshot carries theirs only. */
export function effectEvidenceKeys(): string[] {
  return [...informersOf().keys()];
}

export function effectFacts(rows: EffectStepRow[], batch: number | null, titleOf: (row: EffectStepRow) => string): EffectFacts {
  const out: EffectFacts = {};
  for (const [key, informs] of informersOf()) {
    if (informs.sameBatch && !batch) continue;
    const evidence = rows.filter((r) => r.key === key && r.state === 'succeeded' && (!informs.sameBatch || r.batch === batch)).at(-1)?.evidence;
    if (evidence) Object.assign(out, informs.facts(evidence));
  }

  out.step = (key: string) => {
    const row = rows.find((r) => r.key === key && r.batch === batch) ?? rows.find((r) => r.key === key && r.batch === null) ?? rows.find((r) => r.key === key);
    return row ? { seq: row.seq, title: titleOf(row) } : undefined;
  };
  return out;
}
