import { z } from 'zod';
import type { Migration, StepRow, Verb } from '../../runbooks/engine.js';
import type { StepSnapshot } from '../../runbooks/snapshot.js';
import { textProblem } from '../../runbooks/new-migration.js';
import { noticeCard } from '../cards.js';
import { placeOfMigration } from '../scope.js';
import { defineVerb, within, type Turn } from '../turn.js';
import { stepCard } from '../views.js';

/**
 * A step card's buttons (Request, Approve, Reject, Retry, Mark done, Done) and its refresh: one handler, since each is
 * the engine's click state machine (engine.act) on the step, answered with the step's card.
 */

const STEP_VERBS: Record<string, Verb> = {
  'step.request': 'request',
  'step.approve': 'approve',
  'step.reject': 'reject',
  'step.retry': 'retry',
  'step.mark-done': 'mark-done',
  'step.done': 'done',
};

const CHECKING_NOTICE =
  'Checking with the on-premises runner before this goes further. This card updates itself when the answer is in; nothing has changed yet.';

const stepData = z.object({
  m: z.string().min(1).max(80),
  s: z.coerce.number().int().min(1).max(10_000),
  v: z.coerce.number().int().min(0),
  a: z.coerce.number().int().min(0).optional(),
  comment: z.string().max(500).optional(),
  confirm: z.string().max(200).optional(),
});

export const stepVerb = defineVerb<z.infer<typeof stepData>, { before: StepSnapshot | null; m: Migration | null }>({
  triggerVerbs: [...Object.keys(STEP_VERBS), 'card.refresh'],
  data: stepData,
  invalidData: 'This card\'s data is not valid (it may have been altered). Ask for "status" to get current cards.',
  subject: {
    // One read per click: the step's snapshot (migration, step, progress, decisions, owners, names). The clicker's card
    // and, through the step-changed event, the channel's card are rendered from it or from what the click's transition
    // handed back; nothing is read again.
    async load(turn, data) {
      const before = await turn.d.engine.stepSnapshot(data.m, data.s, { tenantId: turn.tenantId });
      return { before, m: before?.migration ?? (await turn.d.engine.getMigration(data.m)) }; // no snapshot: which message to give
    },
    placeOf: (s) => placeOfMigration(s.m),
    // Another tenant's migration reads exactly as an unknown one: a click must not confirm that an id exists.
    notHere: (why, data) => (why === 'other-conversation' ? 'This migration belongs to another conversation.' : `Migration ${data.m} does not exist.`),
  },
  async handleActionInvoked(turn, verb, data, { before, m }) {
    const { engine, clock, links } = turn.d;
    const now = clock.now();
    const commentProblem = textProblem(data.comment, 'The comment', { lineBreaks: true });
    if (commentProblem) return noticeCard('Nothing was changed', commentProblem, { color: 'Attention' });
    if (!before) return noticeCard('Nothing was changed', `Step ${data.s} does not exist in ${m!.name}.`, { color: 'Attention' });
    const view = { viewerOid: turn.actor.oid, links };
    if (verb === 'card.refresh') return stepCard(before, { ...view, now });
    // The card clicked is the step's card in the channel, if none is recorded yet (updates go to it).
    if (turn.replyToId && !before.step.activityId) await engine.setStepActivity(m!.id, before.step.seq, turn.replyToId);
    const acting = engine.act(
      {
        verb: STEP_VERBS[verb],
        migrationId: m!.id,
        seq: data.s,
        version: data.v,
        attempt: data.a,
        actor: turn.actor,
        comment: data.comment?.trim() || undefined,
        confirmText: data.confirm,
      },
      { before },
    );
    // Request and Retry may wait on the runner (guard reads, the plan's facts): see BotDeps.answerClickWithinMs.
    const result = verb === 'step.request' || verb === 'step.retry' ? await within(acting, turn.d.answerClickWithinMs ?? 4_000) : await acting;
    if (!result) {
      // Still waiting on the runner: answer now, finish in the background, and update this card when done.
      finishInBackground(turn, acting, m!, before.step);
      return stepCard(before, { ...view, now, notice: CHECKING_NOTICE });
    }
    return stepCard(result.snapshot, { ...view, now: clock.now(), notice: result.notice });
  },
});

/**
 * A click answered with the "checking" card: when the engine is done, a change reaches the card through the
 * notifier (step-changed); a refusal or an error is written onto the card here, since no event carries it.
 */
function finishInBackground(turn: Turn, acting: Promise<{ changed: boolean; notice?: string }>, m: Migration, step: StepRow): void {
  const { notifier, log } = turn.d;
  const say = (notice: string) => notifier.showStep(m, step.seq, notice);
  turn.background(
    acting
      .then((r) => (!r.changed && r.notice ? say(r.notice) : undefined))
      .catch(async (err) => {
        log.error({ err, migrationId: m.id, step: step.seq }, 'card action failed after the click was answered');
        await say(
          `cutover could not finish this click: ${String(err?.message ?? err).slice(0, 300)} Refresh the card to see the current state, then try again.`,
        );
      })
      .catch((err) => log.warn({ err, migrationId: m.id, step: step.seq }, 'could not update the card after a slow click')),
  );
}
