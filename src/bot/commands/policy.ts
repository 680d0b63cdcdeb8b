import type { PolicyEdit } from '../../runbooks/policy-changes.js';
import { parseWindow } from '../../runbooks/windows.js';
import { noticeCard } from '../cards.js';
import { policyChangeCard } from '../views.js';
import { CommandError, OBJECT_ID, settings } from './parse.js';
import { defineCommand, refusedAs } from '../turn.js';
import { migrationHere } from './about.js';

/** `policy MIGRATION [approvals=N] …`: proposes a change of a migration's approval policy (its change owners approve it). */
export const policyCommand = defineCommand<{ name: 'policy'; migration: string; edit: PolicyEdit }>({
  triggerPatterns: ['policy'],
  help: [
    {
      usage: 'policy MIGRATION [approvals=N] [owners=OBJECTID,… or none] [ownersGroup=GROUPID or none] [window="…" or none] [expiry=Nh]',
      description: "Proposes a change to a migration's approval policy: it takes effect when the current change owners approve it.",
    },
  ],
  parse: ({ args }) => parsePolicy(args),
  about: migrationHere,
  async handleCommandReceived(turn, c, m) {
    const { policyChanges, engine, people, clock } = turn.d;
    if (!policyChanges) return noticeCard('Nothing was changed', 'Policy changes are not available in this deployment.', { color: 'Attention' });
    return refusedAs('Nothing was changed', async () => {
      const change = await policyChanges.request(m!.id, c.edit, turn.actor);
      const id = await turn.reply(await policyChangeCard(engine, policyChanges, people, m!, change, { now: clock.now() }));
      if (id) await policyChanges.setActivity(m!.id, change.id, id);
    });
  },
});

/** `policy <migration> [approvals=N] [owners=…|none] [ownersGroup=…|none] [window=…|none] [expiry=Nh]` */
function parsePolicy(args: string[]): { name: 'policy'; migration: string; edit: PolicyEdit } {
  const usage =
    'Say "policy MIGRATION [approvals=N] [owners=OBJECTID,…|none] [ownersGroup=GROUPID|none] [window="Mon-Fri 22:00-06:00 Europe/Paris"|none] [expiry=48h]".';
  const { values, rest } = settings(args, { trim: true });
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
    const owners =
      values.owners.toLowerCase() === 'none'
        ? []
        : values.owners
            .split(',')
            .map((o) => o.trim())
            .filter(Boolean);
    const bad = owners.find((o) => !OBJECT_ID.test(o));
    if (bad) throw new CommandError(`"${bad.slice(0, 80)}" is not an Entra object id (a GUID).`);
    edit.owners = [...new Set(owners.map((o) => o.toLowerCase()))];
  }
  if (values.ownersgroup !== undefined) {
    const g = values.ownersgroup;
    if (g.toLowerCase() !== 'none' && !OBJECT_ID.test(g))
      throw new CommandError(`ownersGroup= takes one Entra group object id (a GUID) or none; "${g.slice(0, 80)}" is neither.`);
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
