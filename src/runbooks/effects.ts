import type { EffectFacts, MigrationContext, StepDefinition, StepState } from './types.js';
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
  // Built on first use: the definitions import this module's phrases, so the catalog is read only once all are loaded.
  if (!informers) {
    informers = new Map();
    for (const rb of Object.values(RUNBOOKS)) for (const s of [...rb.steps, ...(rb.rollbackSteps ?? [])]) if (s.informsEffects) informers.set(s.key, s.informsEffects);
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

/** Assessments recorded before counts were kept as numbers: "5412 (users 5376, groups 28, contacts 8) of 150,000". */
export function parseObjects(s: unknown): EffectFacts['domain'] | undefined {
  const m = typeof s === 'string' ? /^([\d,]+) \(users ([\d,]+), groups ([\d,]+), contacts ([\d,]+)\)/.exec(s) : null;
  if (!m) return undefined;
  const n = (x: string) => Number(x.replace(/,/g, ''));
  return { total: n(m[1]), users: n(m[2]), groups: n(m[3]), contacts: n(m[4]) };
}

// ---------------------------------------------------------------- phrases the definitions share

const num = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string) => `${num(n)} ${one}${n === 1 ? '' : 's'}`;

/**
 * "every object of contoso.com it synchronizes (the domain holds 5,376 users, 28 groups and 8 contacts)": the domain's
 * counts come from the assessment (the whole domain; Connect's scope may leave some containers out).
 */
export function everyObjectOf(c: Pick<MigrationContext, 'domain'>, f: EffectFacts): string {
  const held = f.domain ? ` (the domain holds ${plural(f.domain.users, 'user')}, ${plural(f.domain.groups, 'group')} and ${plural(f.domain.contacts, 'contact')})` : '';
  return `every object of ${c.domain} it synchronizes${held}`;
}

/** "the 40 users, 2 groups and 2 contacts in OU=…", or "the users, groups and contacts in OU=…". */
export function objectsOfOu(c: Pick<MigrationContext, 'ou'>, f: EffectFacts): string {
  if (!f.ou) return `the users, groups and contacts in ${c.ou}`;
  return `the ${plural(f.ou.users, 'user')}, ${plural(f.ou.groups, 'group')} and ${plural(f.ou.contacts, 'contact')} in ${c.ou}`;
}

/** `step 12 ("Start the Connect Sync scheduler")`, or the title alone when the step is not in this migration. */
export function stepRef(f: EffectFacts, key: string, fallbackTitle: string): string {
  const s = f.step?.(key);
  return s ? `step ${s.seq} (${s.title})` : `"${fallbackTitle}"`;
}
