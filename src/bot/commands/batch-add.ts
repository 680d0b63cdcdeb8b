import { noticeCard } from '../cards.js';
import { CommandError, keyValues } from './parse.js';
import { defineCommand, refusedAs } from '../turn.js';
import { migrationHere } from './about.js';

/** `batch add MIGRATION ou="…"`: the next OU batch of a Connect → Cloud Sync migration. */
export const batchAddCommand = defineCommand<{ name: 'batch-add'; migration: string; ou: string }>({
  triggerPatterns: ['batch add'],
  help: [
    {
      usage: 'batch add MIGRATION ou="OU=…,DC=…"',
      description: 'Adds the next OU batch to a Connect → Cloud Sync migration (its steps follow the last batch).',
    },
  ],
  parse({ args }) {
    const kv = keyValues(args);
    if (!kv.rest.length || !kv.values.ou) throw new CommandError('Say "batch add MIGRATION ou="OU=…,DC=…"".');
    return { name: 'batch-add', migration: kv.rest.join(' '), ou: kv.values.ou };
  },
  about: migrationHere,
  handleCommandReceived: (turn, c, m) =>
    refusedAs('Nothing was changed', async () => {
      const clash = await turn.d.creation.batchClash(m!, c.ou);
      if (clash) return noticeCard('Nothing was changed', clash, { color: 'Attention' });
      const { batch } = await turn.d.engine.addBatch(m!.id, c.ou, turn.actor);
      return noticeCard(`Batch ${batch} added to ${m!.name}`, `${c.ou}: its steps are posted below and follow batch ${batch - 1}.`, { color: 'Good' });
    }),
});
