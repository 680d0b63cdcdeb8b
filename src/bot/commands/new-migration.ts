import { parseWindow, type ChangeWindow } from '../../runbooks/windows.js';
import { noticeCard } from '../cards.js';
import { createWithinAnswerTime, creatingCard, formCard, homeText, type CreationResult, type NewMigrationInput } from '../migration-creation.js';
import { CommandError, OBJECT_ID, settings } from './parse.js';
import { defineCommand } from '../turn.js';

type NewMigration =
  { name: 'new-migration-form' } | ({ name: 'new-migration'; title: string; path?: 'in-place' | 'parallel' } & Omit<NewMigrationInput, 'name' | 'path'>);

/** `new migration`: the form; `new migration "Name" domain=… ou=… owners=…`: the same in one line. */
export const newMigrationCommand = defineCommand<NewMigration>({
  triggerPatterns: ['new migration'],
  help: [
    { usage: 'new migration', description: 'A form to start a migration (runbook, name, domain, pilot OU, change owners, approvals required).' },
    {
      usage: 'new migration "Pilot" domain=contoso.com ou="OU=…" owners=OBJECTID[,OBJECTID] [ownersGroup=GROUPID] [approvals=N] [runner=NAME]',
      description:
        "The same in one line. ownersGroup= makes the members of an Entra group (nested groups too) change owners; runner= names the runner on its Connect server (needed when the tenant has several). Checked before anything is created: real owners other than you, a verified domain of the tenant and of the runner's forest, an existing OU no other migration holds.",
    },
  ],
  parse: ({ args }) => parseNewMigration(args),
  async handleCommandReceived(turn, c) {
    if (c.name === 'new-migration-form') return formCard(turn, {});
    const result = async (out: CreationResult) =>
      out.ok
        ? noticeCard(`Migration "${out.migration.name}" created`, `${homeText(out.migration)} Migration id: ${out.migration.id}.`, { color: 'Good' })
        : noticeCard('Migration not created', out.error, { color: 'Attention' });
    const out = await createWithinAnswerTime(
      turn,
      {
        name: c.title,
        kind: c.kind,
        domain: c.domain,
        ous: c.ous,
        owners: c.owners,
        ownersGroup: c.ownersGroup,
        approvals: c.approvals,
        soakDays: c.soakDays,
        windows: c.windows,
        partial: c.partial,
        runner: c.runner,
        path: c.path,
      },
      {
        late: () => turn.reply(creatingCard(c.title)),
        done: result,
      },
    );
    // Created in its own thread: this thread gets a short answer (a migration created here has its overview here).
    if (out && (!out.ok || out.migration.conversationId !== turn.conversation.id)) return result(out);
  },
});

function parseNewMigration(args: string[]): NewMigration {
  if (!args.length) return { name: 'new-migration-form' };
  const { values: kv, rest: positional } = settings(args);
  const allowed = new Set(['domain', 'ou', 'owners', 'ownersgroup', 'approvals', 'kind', 'soak', 'window', 'mode', 'runner', 'path']);
  for (const k of Object.keys(kv))
    if (!allowed.has(k))
      throw new CommandError(
        `Unknown setting ${k}=. Use domain=, ou=, owners=, ownersGroup=, approvals=, kind=, window=, soak= (days), mode=partial, runner= and path= (DirSync).`,
      );
  const path = kv.path?.toLowerCase();
  if (path !== undefined && path !== 'in-place' && path !== 'parallel')
    throw new CommandError("path= is in-place or parallel (the DirSync upgrade path, chosen against the analysis's recommendation).");
  if (path !== undefined && (kv.kind ?? 'connect-to-cloud-sync') !== 'dirsync-upgrade') throw new CommandError('path= only applies to kind=dirsync-upgrade.');
  if (kv.runner !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(kv.runner))
    throw new CommandError('runner= is the name of a registered runner (say "runners").');
  const mode = kv.mode?.toLowerCase();
  if (mode !== undefined && mode !== 'full' && mode !== 'partial' && mode !== 'coexistence')
    throw new CommandError(
      'mode= is full (the default: Connect Sync is disabled at the end) or partial (coexistence: Connect Sync keeps the objects no batch moves).',
    );
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
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(kv.domain))
    throw new CommandError(`"${kv.domain}" is not a DNS domain name.`);
  const kind = kv.kind ?? 'connect-to-cloud-sync';
  if (!kv.ou && kind !== 'dirsync-upgrade') throw new CommandError('ou= is required, e.g. ou="OU=CloudSyncPilot,DC=contoso,DC=com"');
  if (!kv.owners && !kv.ownersgroup)
    throw new CommandError("owners= or ownersGroup= is required: the change owners' Entra object ids, comma-separated, and/or an Entra group's object id.");
  const owners = (kv.owners ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = owners.find((o) => !OBJECT_ID.test(o));
  if (bad) throw new CommandError(`"${bad}" is not an Entra object id (a GUID).`);
  const ownersGroup = kv.ownersgroup?.trim();
  if (ownersGroup !== undefined && !OBJECT_ID.test(ownersGroup))
    throw new CommandError(`ownersGroup= takes one Entra group object id (a GUID); "${ownersGroup.slice(0, 80)}" is not one.`);
  let approvals: number | undefined;
  if (kv.approvals !== undefined) {
    approvals = Number(kv.approvals);
    if (!Number.isInteger(approvals) || approvals < 1 || approvals > 10) throw new CommandError('approvals= is a whole number from 1 to 10.');
  }
  let soakDays: number | undefined;
  if (kv.soak !== undefined) {
    soakDays = Number(kv.soak);
    if (!Number.isInteger(soakDays) || soakDays < 7 || soakDays > 365)
      throw new CommandError('soak= is a whole number of days from 7 to 365 (Connect stays disabled at least a week).');
  }
  const ous = (kv.ou ?? '')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    name: 'new-migration',
    title,
    kind,
    domain: kv.domain.toLowerCase(),
    ous,
    owners: [...new Set(owners.map((o) => o.toLowerCase()))],
    ...(ownersGroup ? { ownersGroup: ownersGroup.toLowerCase() } : {}),
    approvals,
    soakDays,
    windows,
    ...(mode === 'partial' || mode === 'coexistence' ? { partial: true } : {}),
    ...(kv.runner ? { runner: kv.runner } : {}),
    ...(path ? { path: path as 'in-place' | 'parallel' } : {}),
  };
}
