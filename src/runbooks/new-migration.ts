import { DnError, domainOfDn, normalizeDn, parseDn } from '../dn.js';
import { RUNBOOKS } from './catalog.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Characters a name or a comment may not hold, with the reason: control characters (C0, DEL, C1), bidirectional
 * overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the implicit direction marks, which can make a name read
 * differently from what it is, and the line and paragraph separators (U+2028, U+2029), which break it over lines.
 */
const FORBIDDEN: [RegExp, string][] = [
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  [/[\u0000-\u001f\u007f-\u009f]/, 'control characters'],
  [/[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/, 'bidirectional-override characters (they make text read differently from what it is)'],
  [/[\u2028\u2029]/, 'line or paragraph separators'],
];

/** Why a name or a comment is refused, or null. */
export function textProblem(value: string | undefined | null, label: string, opts: { lineBreaks?: boolean } = {}): string | null {
  if (!value) return null;
  // A comment typed in a multi-line box may break lines with CR/LF; nothing else in C0.
  const v = opts.lineBreaks ? value.replace(/\r?\n/g, ' ') : value;
  for (const [re, what] of FORBIDDEN) {
    const m = re.exec(v);
    if (m)
      return `${label} may not contain ${what}: U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at position ${m.index + 1}. Nothing was changed.`;
  }
  return null;
}

/** Validation of a new migration's inputs, shared by the form and the one-line command. */
export interface NewMigrationInput {
  name: string;
  kind: string;
  domain: string;
  ous: string[];
  owners: string[];
  /** An Entra group whose transitive user members are change owners (resolved by the engine). */
  ownersGroup?: string;
  approvals?: number;
  soakDays?: number;
}

export function validateNewMigration(
  i: NewMigrationInput,
):
  | { ok: true; value: Required<Omit<NewMigrationInput, 'soakDays' | 'ownersGroup'>> & { soakDays?: number; ownersGroup?: string } }
  | { ok: false; error: string } {
  const name = i.name.trim();
  if (!name || name.length > 80) return { ok: false, error: 'A name of 1 to 80 characters is required.' };
  const problem = textProblem(name, 'The name');
  if (problem) return { ok: false, error: problem };
  if (/[<>]/.test(name)) return { ok: false, error: 'The name may not contain < >.' };
  if (!RUNBOOKS[i.kind]) return { ok: false, error: `Unknown runbook "${i.kind}". Known: ${Object.keys(RUNBOOKS).join(', ')}.` };
  const domain = i.domain.trim().toLowerCase();
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain))
    return { ok: false, error: `"${i.domain}" is not a DNS domain name.` };
  const shape = RUNBOOKS[i.kind].ous;
  if (shape === 'none' && i.ous.length) return { ok: false, error: `A ${RUNBOOKS[i.kind].title} migration takes no OU.` };
  if (shape === 'one' && i.ous.length !== 1)
    return { ok: false, error: `A ${RUNBOOKS[i.kind].title} migration takes exactly one OU: the Group Writeback target OU.` };
  if (shape === 'batches' && !i.ous.length) return { ok: false, error: 'At least one OU is required.' };
  if (i.soakDays !== undefined && (!Number.isInteger(i.soakDays) || i.soakDays < 7)) return { ok: false, error: 'The soak is at least 7 days.' };
  const ous: string[] = [];
  for (const ou of i.ous) {
    try {
      const rdns = parseDn(ou);
      if (rdns[0].type !== 'ou') return { ok: false, error: `${ou} is not an OU (its first component should be OU=…).` };
    } catch (e) {
      return { ok: false, error: `"${ou}" is not a valid distinguished name: ${(e as DnError).message}.` };
    }
    if (domainOfDn(ou) !== domain) return { ok: false, error: `${ou} is not in the domain ${domain}.` };
    if (ous.some((o) => normalizeDn(o) === normalizeDn(ou))) return { ok: false, error: `${ou} is listed twice.` };
    ous.push(ou.trim());
  }
  const owners = [...new Set(i.owners.map((o) => o.trim().toLowerCase()).filter(Boolean))];
  const ownersGroup = i.ownersGroup?.trim().toLowerCase() || undefined;
  if (ownersGroup && !GUID.test(ownersGroup)) return { ok: false, error: 'The owners group is an Entra group object id (a GUID).' };
  if (!owners.length && !ownersGroup) return { ok: false, error: 'At least one change owner (Entra object id) or an owners group is required.' };
  if (owners.some((o) => !GUID.test(o))) return { ok: false, error: 'Change owners are Entra object ids (GUIDs).' };
  const approvals = i.approvals ?? 1;
  if (!Number.isInteger(approvals) || approvals < 1 || approvals > 10) return { ok: false, error: 'Approvals required is a whole number from 1 to 10.' };
  // With a group, its members count too: the engine checks quorum against them once the group is read.
  if (!ownersGroup && approvals > owners.length)
    return { ok: false, error: `${approvals} approvals are required but only ${owners.length} change owner(s) are named.` };
  return { ok: true, value: { name, kind: i.kind, domain, ous, owners, approvals, soakDays: i.soakDays, ...(ownersGroup ? { ownersGroup } : {}) } };
}
