import { z } from 'zod';
import { pendingCard } from '../commands/pending.js';
import { showProblem } from '../commands/show.js';
import { defineVerb } from '../turn.js';
import { migrationSubject } from './subjects.js';

const stepShowData = z.object({ m: z.string().min(1).max(80), s: z.coerce.number().int().min(1).max(10_000) });

/** From `pending`: the step's current card, posted below the list (the list stays as it is for the clicker). */
export const stepShowVerb = defineVerb({
  triggerVerbs: ['step.show'],
  data: stepShowData,
  invalidData: 'That step does not exist here.',
  subject: migrationSubject('That step does not exist here.'),
  async handleActionInvoked(turn, _verb, data, m) {
    const problem = await showProblem(turn.d.engine, m!, data.s);
    if (!problem) await turn.d.notifier.repost(turn.conversation.id, m!.id, data.s);
    return pendingCard(turn, problem ?? `The card of ${m!.name} step ${data.s} is posted below.`);
  },
});
