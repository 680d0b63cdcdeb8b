import { z } from 'zod';
import type { RunnerRequest } from '../../runbooks/runner-registrations.js';
import type { Card } from '../cards.js';
import { runnerRequestCard } from '../runner-views.js';
import { defineVerb, type Turn } from '../turn.js';
import { runnerRequestSubject } from './subjects.js';

export const runnerData = z.object({ r: z.string().min(1).max(40), v: z.coerce.number().int().min(0).optional() });

/** A runner request card's Approve, Reject and Refresh: the registrations decide (a second administrator, four-eyes). */
export const runnerRequestVerb = defineVerb({
  triggerVerbs: ['runner.approve', 'runner.reject', 'runner.refresh'],
  data: runnerData,
  invalidData: "This card's data is not valid.",
  subject: runnerRequestSubject,
  async handleActionInvoked(turn, verb, data, before) {
    await rememberRequestCard(turn, before!);
    let notice: string | undefined;
    if (verb !== 'runner.refresh')
      notice = (
        await turn.d.registrations.decide({
          id: before!.id,
          tenantId: turn.tenantId,
          version: data.v ?? -1,
          verb: verb === 'runner.approve' ? 'approve' : 'reject',
          actor: turn.actor,
        })
      ).notice;
    return runnerRequestView(turn, before!.id, notice);
  },
});

/** The card clicked is the request's card, if none is recorded yet (updates go to it). */
export async function rememberRequestCard(turn: Turn, r: RunnerRequest): Promise<void> {
  if (turn.replyToId && !r.activityId) await turn.d.registrations.setActivity(r.id, turn.replyToId);
}

export async function runnerRequestView(turn: Turn, id: string, notice?: string): Promise<Card> {
  const { registrations } = turn.d;
  const r = (await registrations.get(id))!;
  return runnerRequestCard(r, { notice, expiresAt: new Date(r.requestedAt.getTime() + registrations.requestExpiryMs) });
}
