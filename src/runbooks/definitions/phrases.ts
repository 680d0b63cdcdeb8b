import type { EffectFacts, MigrationContext } from '../types.js';

/** Phrases the definitions state a step's effect with, from the facts effects.ts gathers (and how old evidence reads). */

/** Assessments recorded before counts were kept as numbers: "5412 (users 5376, groups 28, contacts 8) of 150,000". */
export function parseObjects(s: unknown): EffectFacts['domain'] | undefined {
  const m = typeof s === 'string' ? /^([\d,]+) \(users ([\d,]+), groups ([\d,]+), contacts ([\d,]+)\)/.exec(s) : null;
  if (!m) return undefined;
  const n = (x: string) => Number(x.replace(/,/g, ''));
  return { total: n(m[1]), users: n(m[2]), groups: n(m[3]), contacts: n(m[4]) };
}

const num = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string) => `${num(n)} ${one}${n === 1 ? '' : 's'}`;

/**
 * "every object of contoso.com it synchronizes (the domain holds 5,376 users, 28 groups and 8 contacts)": the domain's
 * counts come from the assessment (the whole domain; Connect's scope may leave some containers out).
 */
export function everyObjectOf(c: Pick<MigrationContext, 'domain'>, f: EffectFacts): string {
  const held = f.domain
    ? ` (the domain holds ${plural(f.domain.users, 'user')}, ${plural(f.domain.groups, 'group')} and ${plural(f.domain.contacts, 'contact')})`
    : '';
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
