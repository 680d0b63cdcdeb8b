import { z } from 'zod';
import { noticeCard } from '../cards.js';
import { defineVerb } from '../turn.js';
import { migrationSubject } from './subjects.js';

const rollbackData = z.object({ m: z.string().min(1).max(80) });

/** Offered by a refused `cancel`: roll every batch back (change owners only; each rollback step is approved). */
export const migrationRollbackVerb = defineVerb({
  triggerVerbs: ['migration.rollback'],
  data: rollbackData,
  invalidData: 'That migration does not exist here.',
  subject: migrationSubject('That migration does not exist here.'),
  async handleActionInvoked(turn, _verb, _data, m) {
    const { steps, ous } = await turn.d.engine.startRollback(m!.id, 'all', turn.actor);
    return noticeCard(
      'Rollback of every batch started',
      `${ous.join('; ')} go back to Connect Sync. ${steps.length} rollback steps are posted in the thread; each change needs approval. Cancel ${m!.name} once they are done.`,
      { color: 'Warning' },
    );
  },
});
