import { parseWindow, type ChangeWindow } from '../runbooks/windows.js';
import type { PolicyEdit } from '../runbooks/policy-changes.js';

/** Chat commands: parsed from text into a typed command, or an error that names what is wrong. */

export type Command =
  | { name: 'help'; unknown?: string }
  | { name: 'new-migration-form' }
  | { name: 'new-migration'; title: string; kind: string; domain: string; ous: string[]; owners: string[]; ownersGroup?: string; approvals?: number; soakDays?: number; windows?: ChangeWindow[]; partial?: boolean; runner?: string; path?: 'in-place' | 'parallel' }
  | { name: 'status'; migration?: string }
  | { name: 'jobs'; migration?: string }
  | { name: 'alerts' }
  | { name: 'pending' }
  | { name: 'runners' }
  | { name: 'runner-add'; runner: string }
  | { name: 'runner-rotate'; runner: string }
  | { name: 'runner-revoke'; runner: string }
  | { name: 'cancel'; migration: string }
  | { name: 'audit'; migration: string }
  | { name: 'runbook'; kind: string }
  | { name: 'batch-add'; migration: string; ou: string }
  | { name: 'rollback'; migration: string; batch: number | 'all' }
  | { name: 'policy'; migration: string; edit: PolicyEdit }
  | { name: 'connect-scope-remove'; ou: string };

export interface CommandHelp {
  usage: string;
  description: string;
}

export const COMMANDS: CommandHelp[] = [
  { usage: 'help', description: 'The commands cutover understands, with examples.' },
  { usage: 'new migration', description: 'A form to start a migration (runbook, name, domain, pilot OU, change owners, approvals required).' },
  {
    usage: 'new migration "Pilot" domain=contoso.com ou="OU=…" owners=<objectId>[,<objectId>] [ownersGroup=<groupObjectId>] [approvals=N] [runner=<name>]',
    description: 'The same in one line. ownersGroup= makes the members of an Entra group (nested groups too) change owners; runner= names the runner on its Connect server (needed when the tenant has several). Checked before anything is created: real owners other than you, a verified domain of the tenant and of the runner\'s forest, an existing OU no other migration holds.',
  },
  { usage: 'status [migration]', description: 'Progress: steps done, current step, OU batches, on-premises vs Entra counts per OU; with a migration, every step.' },
  { usage: 'jobs [migration]', description: 'Cloud Sync jobs: status, last execution, quarantine.' },
  { usage: 'alerts', description: 'Open alerts with their age.' },
  { usage: 'pending', description: 'Steps waiting for your approval, oldest first.' },
  { usage: 'runners', description: 'On-premises runners: last seen, version, executor, health.' },
  {
    usage: 'runner add <name> | runner rotate <name> | runner revoke <name>',
    description: 'Administrators only. Add or rotate: a second administrator approves; the token shows once, to the one who asked only.',
  },
  { usage: 'audit <migration> | audit runners', description: "The latest audit entries of a migration, or of this tenant's runner changes." },
  { usage: 'cancel <migration>', description: "Ends a migration (change owners only); refused while a batch holds Connect Sync's scheduler off (roll back first)." },
  { usage: 'batch add <migration> ou="<DN>"', description: 'Adds the next OU batch to a Connect → Cloud Sync migration (its steps follow the last batch).' },
  { usage: 'rollback <migration> batch=N', description: 'Rolls a batch (or batch=all) back to Connect Sync: approved, audited steps. Change owners only.' },
  {
    usage: 'policy <migration> [approvals=N] [owners=<objectId>,… or none] [ownersGroup=<groupObjectId> or none] [window="…" or none] [expiry=Nh]',
    description: "Proposes a change to a migration's approval policy: it takes effect when the current change owners approve it.",
  },
  { usage: 'connect scope remove "<DN>"', description: "Asks to take an OU out of Connect Sync's scope: refused during coexistence (seed 001)." },
  { usage: 'runbook <kind>', description: "A runbook's steps, without starting anything." },
];

export class CommandError extends Error {}

const MAX_TEXT = 4000;

/** Splits on spaces, keeping "quoted strings" (straight or curly quotes) together. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  const re = /(\S*?)(["“”])(.*?)(["“”])|(\S+)/gs;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    if (m[5] !== undefined) out.push(m[5]);
    else out.push(`${m[1]}${m[3]}`);
  }
  return out;
}

/** Text as Teams delivers it: mentions and HTML stripped, entities decoded, whitespace folded. */
export function cleanText(text: string): string {
  return text
    .replace(/<at>.*?<\/at>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ')
    .trim();
}

const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseCommand(raw: string): Command {
  if (raw.length > MAX_TEXT) throw new CommandError(`That message is longer than ${MAX_TEXT} characters.`);
  const text = cleanText(raw);
  const words = tokenize(text);
  const [w0 = '', w1 = ''] = words.map((w) => w.toLowerCase());
  const rest = words.slice(1);
  switch (w0) {
    case '':
    case 'help':
    case '?':
      return { name: 'help' };
    case 'status':
      return { name: 'status', migration: rest.join(' ') || undefined };
    case 'jobs':
      return { name: 'jobs', migration: rest.join(' ') || undefined };
    case 'alerts':
      return { name: 'alerts' };
    case 'pending':
      return { name: 'pending' };
    case 'runners':
      return { name: 'runners' };
    case 'runner': {
      const name = words[2];
      if ((w1 === 'add' || w1 === 'rotate' || w1 === 'revoke') && name && words.length === 3) {
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) throw new CommandError('A runner name is 1–63 letters, digits, dots, dashes or underscores.');
        return { name: w1 === 'add' ? 'runner-add' : w1 === 'rotate' ? 'runner-rotate' : 'runner-revoke', runner: name };
      }
      throw new CommandError('Say `runner add <name>`, `runner rotate <name>` or `runner revoke <name>`.');
    }
    case 'cancel': {
      if (!rest.length) throw new CommandError('Say `cancel <migration>`.');
      return { name: 'cancel', migration: rest.join(' ') };
    }
    case 'audit':
      if (!rest.length) throw new CommandError('Say `audit <migration>`.');
      return { name: 'audit', migration: rest.join(' ') };
    case 'runbook':
      if (!rest.length) throw new CommandError('Say `runbook <kind>`, e.g. `runbook connect-to-cloud-sync`.');
      return { name: 'runbook', kind: rest[0] };
    case 'new':
      if (w1 !== 'migration') break;
      return parseNewMigration(words.slice(2));
    case 'batch': {
      if (w1 !== 'add') break;
      const kv = keyValues(words.slice(2));
      if (!kv.rest.length || !kv.values.ou) throw new CommandError('Say `batch add <migration> ou="OU=…,DC=…"`.');
      return { name: 'batch-add', migration: kv.rest.join(' '), ou: kv.values.ou };
    }
    case 'rollback': {
      const kv = keyValues(rest);
      const batch = kv.values.batch?.toLowerCase() === 'all' ? 'all' : Number(kv.values.batch);
      if (!kv.rest.length || (batch !== 'all' && (!Number.isInteger(batch) || batch < 1))) throw new CommandError('Say `rollback <migration> batch=N` (or `batch=all`).');
      return { name: 'rollback', migration: kv.rest.join(' '), batch };
    }
    case 'policy':
      return parsePolicy(rest);
    case 'connect':
      if (w1 === 'scope' && words[2]?.toLowerCase() === 'remove' && words[3]) return { name: 'connect-scope-remove', ou: words.slice(3).join(' ') };
      throw new CommandError('Say `connect scope remove "OU=…,DC=…"`.');
  }
  return { name: 'help', unknown: text.slice(0, 100) };
}

function keyValues(args: string[]): { values: Record<string, string>; rest: string[] } {
  const values: Record<string, string> = {};
  const rest: string[] = [];
  for (const a of args) {
    const m = /^([a-z]+)=(.*)$/i.exec(a);
    if (m) values[m[1].toLowerCase()] = m[2];
    else rest.push(a);
  }
  return { values, rest };
}

/** `policy <migration> [approvals=N] [owners=…|none] [ownersGroup=…|none] [window=…|none] [expiry=Nh]` */
function parsePolicy(args: string[]): Command {
  const usage = 'Say `policy <migration> [approvals=N] [owners=<objectId>,…|none] [ownersGroup=<groupObjectId>|none] [window="Mon-Fri 22:00-06:00 Europe/Paris"|none] [expiry=48h]`.';
  const values: Record<string, string> = {};
  const rest: string[] = [];
  for (const a of args) {
    const m = /^([a-z]+)=(.*)$/i.exec(a);
    if (!m) {
      rest.push(a);
      continue;
    }
    const key = m[1].toLowerCase();
    if (key in values) throw new CommandError(`${key}= is given twice.`);
    values[key] = m[2].trim();
  }
  if (!rest.length) throw new CommandError(usage);
  const allowed = new Set(['approvals', 'owners', 'ownersgroup', 'window', 'expiry']);
  for (const k of Object.keys(values)) if (!allowed.has(k)) throw new CommandError(`Unknown setting ${k}=. ${usage}`);
  if (!Object.keys(values).length) throw new CommandError(`Say what to change. ${usage}`);
  const edit: PolicyEdit = {};
  if (values.approvals !== undefined) {
    const n = Number(values.approvals);
    if (!Number.isInteger(n) || n < 1 || n > 10) throw new CommandError('approvals= is a whole number from 1 to 10.');
    edit.approvals = n;
  }
  if (values.owners !== undefined) {
    const owners = values.owners.toLowerCase() === 'none' ? [] : values.owners.split(',').map((o) => o.trim()).filter(Boolean);
    const bad = owners.find((o) => !OBJECT_ID.test(o));
    if (bad) throw new CommandError(`"${bad.slice(0, 80)}" is not an Entra object id (a GUID).`);
    edit.owners = [...new Set(owners.map((o) => o.toLowerCase()))];
  }
  if (values.ownersgroup !== undefined) {
    const g = values.ownersgroup;
    if (g.toLowerCase() !== 'none' && !OBJECT_ID.test(g)) throw new CommandError(`ownersGroup= takes one Entra group object id (a GUID) or none; "${g.slice(0, 80)}" is neither.`);
    edit.ownersGroup = g.toLowerCase() === 'none' ? null : g.toLowerCase();
  }
  if (values.window !== undefined) {
    try {
      edit.windows = ['none', 'any'].includes(values.window.toLowerCase()) ? [] : values.window.split(';').map((w) => parseWindow(w));
    } catch (e) {
      throw new CommandError((e as Error).message);
    }
  }
  if (values.expiry !== undefined) {
    const m = /^(\d+)\s*h$/i.exec(values.expiry);
    const h = m ? Number(m[1]) : NaN;
    if (!Number.isInteger(h) || h < 1 || h > 168) throw new CommandError('expiry= is a number of hours from 1 to 168, e.g. expiry=48h.');
    edit.expiryHours = h;
  }
  return { name: 'policy', migration: rest.join(' '), edit };
}

function parseNewMigration(args: string[]): Command {
  if (!args.length) return { name: 'new-migration-form' };
  const kv: Record<string, string> = {};
  const positional: string[] = [];
  for (const a of args) {
    const m = /^([a-z]+)=(.*)$/i.exec(a);
    if (m) {
      const key = m[1].toLowerCase();
      if (key in kv) throw new CommandError(`${key}= is given twice.`);
      kv[key] = m[2];
    } else positional.push(a);
  }
  const allowed = new Set(['domain', 'ou', 'owners', 'ownersgroup', 'approvals', 'kind', 'soak', 'window', 'mode', 'runner', 'path']);
  for (const k of Object.keys(kv)) if (!allowed.has(k)) throw new CommandError(`Unknown setting ${k}=. Use domain=, ou=, owners=, ownersGroup=, approvals=, kind=, window=, soak= (days), mode=partial, runner= and path= (DirSync).`);
  const path = kv.path?.toLowerCase();
  if (path !== undefined && path !== 'in-place' && path !== 'parallel') throw new CommandError('path= is in-place or parallel (the DirSync upgrade path, chosen against the analysis\'s recommendation).');
  if (path !== undefined && (kv.kind ?? 'connect-to-cloud-sync') !== 'dirsync-upgrade') throw new CommandError('path= only applies to kind=dirsync-upgrade.');
  if (kv.runner !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(kv.runner)) throw new CommandError('runner= is the name of a registered runner (say `runners`).');
  const mode = kv.mode?.toLowerCase();
  if (mode !== undefined && mode !== 'full' && mode !== 'partial' && mode !== 'coexistence') throw new CommandError('mode= is full (the default: Connect Sync is disabled at the end) or partial (coexistence: Connect Sync keeps the objects no batch moves).');
  let windows: ChangeWindow[] | undefined;
  if (kv.window !== undefined) {
    try {
      windows = kv.window.split(';').map((w) => parseWindow(w));
    } catch (e) {
      throw new CommandError((e as Error).message);
    }
  }
  const title = positional.join(' ').trim();
  if (!title) throw new CommandError('Give the migration a name in quotes: new migration "Pilot" domain=… ou="…" owners=…');
  if (title.length > 80) throw new CommandError('A migration name is at most 80 characters.');
  if (!kv.domain) throw new CommandError('domain= is required, e.g. domain=contoso.com');
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(kv.domain)) throw new CommandError(`"${kv.domain}" is not a DNS domain name.`);
  const kind = kv.kind ?? 'connect-to-cloud-sync';
  if (!kv.ou && kind !== 'dirsync-upgrade') throw new CommandError('ou= is required, e.g. ou="OU=CloudSyncPilot,DC=contoso,DC=com"');
  if (!kv.owners && !kv.ownersgroup) throw new CommandError('owners= or ownersGroup= is required: the change owners\' Entra object ids, comma-separated, and/or an Entra group\'s object id.');
  const owners = (kv.owners ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const bad = owners.find((o) => !OBJECT_ID.test(o));
  if (bad) throw new CommandError(`"${bad}" is not an Entra object id (a GUID).`);
  const ownersGroup = kv.ownersgroup?.trim();
  if (ownersGroup !== undefined && !OBJECT_ID.test(ownersGroup)) throw new CommandError(`ownersGroup= takes one Entra group object id (a GUID); "${ownersGroup.slice(0, 80)}" is not one.`);
  let approvals: number | undefined;
  if (kv.approvals !== undefined) {
    approvals = Number(kv.approvals);
    if (!Number.isInteger(approvals) || approvals < 1 || approvals > 10) throw new CommandError('approvals= is a whole number from 1 to 10.');
  }
  let soakDays: number | undefined;
  if (kv.soak !== undefined) {
    soakDays = Number(kv.soak);
    if (!Number.isInteger(soakDays) || soakDays < 7 || soakDays > 365) throw new CommandError('soak= is a whole number of days from 7 to 365 (Connect stays disabled at least a week).');
  }
  const ous = (kv.ou ?? '').split(';').map((s) => s.trim()).filter(Boolean);
  return { name: 'new-migration', title, kind, domain: kv.domain.toLowerCase(), ous, owners: [...new Set(owners.map((o) => o.toLowerCase()))], ...(ownersGroup ? { ownersGroup: ownersGroup.toLowerCase() } : {}), approvals, soakDays, windows, ...(mode === 'partial' || mode === 'coexistence' ? { partial: true } : {}), ...(kv.runner ? { runner: kv.runner } : {}), ...(path ? { path: path as 'in-place' | 'parallel' } : {}) };
}

export { OBJECT_ID };
