import { noticeCard } from '../cards.js';
import { CommandError, keyValues } from './parse.js';
import { defineCommand, refusedAs } from '../turn.js';
import { migrationHere } from './about.js';

/** `rollback MIGRATION batch=N|all`: rolls batches back to Connect Sync as approved, audited steps. */
export const rollbackCommand = defineCommand<{ name: 'rollback'; migration: string; batch: number | 'all' }>({
  triggerPatterns: ['rollback'],
  help: [
    { usage: 'rollback MIGRATION batch=N', description: 'Rolls a batch (or batch=all) back to Connect Sync: approved, audited steps. Change owners only.' },
  ],
  parse({ args }) {
    const kv = keyValues(args);
    const batch = kv.values.batch?.toLowerCase() === 'all' ? 'all' : Number(kv.values.batch);
    if (!kv.rest.length || (batch !== 'all' && (!Number.isInteger(batch) || batch < 1)))
      throw new CommandError('Say "rollback MIGRATION batch=N" (or batch=all).');
    return { name: 'rollback', migration: kv.rest.join(' '), batch };
  },
  about: migrationHere,
  handleCommandReceived: (turn, c, m) =>
    refusedAs('Nothing was changed', async () => {
      const { steps, ous } = await turn.d.engine.startRollback(m!.id, c.batch, turn.actor);
      const which = c.batch === 'all' ? 'every batch' : `batch ${c.batch}`;
      return noticeCard(
        `Rollback of ${which} started`,
        `${ous.join('; ')} go back to Connect Sync. ${steps.length} rollback steps are posted below; the remaining steps of ${which} are skipped. Each change needs approval.`,
        { color: 'Warning' },
      );
    }),
});
