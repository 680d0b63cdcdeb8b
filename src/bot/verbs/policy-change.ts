import { z } from 'zod';
import { textProblem } from '../../runbooks/new-migration.js';
import { noticeCard } from '../cards.js';
import { defineVerb, type Turn } from '../turn.js';
import { policyChangeCard } from '../views.js';
import { migrationSubject } from './subjects.js';

const policyData = z.object({
  m: z.string().min(1).max(80),
  p: z.coerce.number().int().min(1).max(1_000_000),
  v: z.coerce.number().int().min(0),
  comment: z.string().max(500).optional(),
});

/** A policy change card's Approve, Reject and Refresh (where the deployment has policy changes). */
export const policyChangeVerb = defineVerb({
  triggerVerbs: ['policy.approve', 'policy.reject', 'policy.refresh'],
  available: (d) => !!d.policyChanges,
  data: policyData,
  invalidData: "This card's data is not valid (it may have been altered).",
  subject: migrationSubject('That migration does not exist here.'),
  async handleActionInvoked(turn, verb, data, m) {
    const { engine, people, clock } = turn.d;
    const policyChanges = turn.d.policyChanges!;
    let notice: string | undefined;
    const commentProblem = textProblem(data.comment, 'The comment', { lineBreaks: true });
    if (commentProblem) return noticeCard('Nothing was changed', commentProblem, { color: 'Attention' });
    if (verb !== 'policy.refresh') {
      const r = await policyChanges.decide({
        migrationId: m!.id,
        changeId: data.p,
        version: data.v,
        verb: verb === 'policy.approve' ? 'approve' : 'reject',
        actor: turn.actor,
        comment: data.comment?.trim() || undefined,
      });
      notice = r.notice;
      if (r.applied) await refreshOverview(turn, m!.id);
    }
    const change = await policyChanges.get(m!.id, data.p);
    if (!change) return noticeCard('Nothing was changed', `Policy change ${data.p} does not exist.`, { color: 'Attention' });
    if (turn.replyToId && !change.activityId) await policyChanges.setActivity(m!.id, change.id, turn.replyToId);
    return policyChangeCard(engine, policyChanges, people, (await engine.getMigration(m!.id))!, change, {
      now: clock.now(),
      notice,
      viewerOid: turn.actor.oid,
    });
  },
});

/** After a policy change: the migration's overview card shows the new policy (best effort). */
async function refreshOverview(turn: Turn, migrationId: string): Promise<void> {
  const { engine, notifier, log } = turn.d;
  const m = await engine.getMigration(migrationId);
  if (!m?.conversationId || !m.overviewActivityId) return;
  try {
    await notifier.update(m.conversationId, m.overviewActivityId, await notifier.overviewOf(m));
  } catch (err) {
    log.warn({ err, migrationId }, 'could not update the overview card');
  }
}
