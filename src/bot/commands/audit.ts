import { formatTime } from '../format.js';
import { noticeCard, renderCard, type Card } from '../cards.js';
import { CommandError } from './parse.js';
import { defineCommand, type Turn } from '../turn.js';

/** `audit MIGRATION | audit runners`: the latest audit entries of a migration of this channel, or of this tenant's runners. */
export const auditCommand = defineCommand<{ name: 'audit'; migration: string }>({
  triggerPatterns: ['audit'],
  help: [{ usage: 'audit MIGRATION | audit runners', description: "The latest audit entries of a migration, or of this tenant's runner changes." }],
  parse({ args }) {
    if (!args.length) throw new CommandError('Say "audit MIGRATION" (its name or id).');
    return { name: 'audit', migration: args.join(' ') };
  },
  handleCommandReceived: (turn, c) => auditCard(turn, c.migration),
});

async function auditCard(turn: Turn, ref: string): Promise<Card> {
  const m = await turn.scope.find(ref);
  // `audit runners`: the tenant's runner changes (a migration of that name here comes first).
  const runners = !m && ref.toLowerCase() === 'runners';
  if (!m && !runners) return noticeCard('No such migration', `There is no migration "${ref}" in this conversation.`);
  const rows = m ? await turn.d.engine.auditTrail(m.id, 15) : await turn.d.registrations.audit(turn.tenantId, 15);
  const now = turn.d.clock.now();
  return renderCard('list', {
    title: `Audit · ${m ? m.name : 'runners of this tenant'} (latest ${rows.length})`,
    emptyText: 'No entries.',
    items: rows.map((r) => ({
      heading: `${formatTime(r.at, now)} · ${r.action}${r.stepSeq ? ` · step ${r.stepSeq}` : ''}`,
      facts: [
        { title: 'Who', value: r.actorName ? `${r.actorName} (${r.actorOid})` : 'cutover' },
        { title: 'Hash', value: r.hash.slice(0, 16) },
      ],
    })),
  });
}
