import { noticeCard } from '../cards.js';
import { CommandError } from './parse.js';
import { defineCommand } from '../turn.js';
import { migrationHere } from './about.js';

/** `cancel MIGRATION`: ends a migration (the runbooks room decides who may, and when). */
export const cancelCommand = defineCommand<{ name: 'cancel'; migration: string }>({
  triggerPatterns: ['cancel'],
  help: [
    {
      usage: 'cancel MIGRATION',
      description: "Ends a migration (change owners only); refused while a batch holds Connect Sync's scheduler off (roll back first).",
    },
  ],
  parse({ args }) {
    if (!args.length) throw new CommandError('Say "cancel MIGRATION".');
    return { name: 'cancel', migration: args.join(' ') };
  },
  about: migrationHere,
  async handleCommandReceived(turn, _c, m) {
    const r = await turn.d.cancellations.cancel(m!.id, turn.actor);
    if (r.cancelled) {
      return noticeCard(
        `${m!.name} cancelled`,
        `${r.skipped} open step${r.skipped === 1 ? '' : 's'} will not run, and its cards no longer have buttons. Nothing on the Connect server or in Entra ID was undone: what was done stays done (a rollback undoes a batch).`,
        { color: 'Good' },
      );
    }
    return noticeCard(`${m!.name} was not cancelled`, r.reason, {
      color: 'Attention',
      ...(r.offerRollback ? { buttons: [{ title: 'Roll back every batch', verb: 'migration.rollback', data: { m: m!.id } }] } : {}),
    });
  },
});
