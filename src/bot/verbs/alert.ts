import { z } from 'zod';
import { incidentCard } from '../alert-views.js';
import { noticeCard, type Card } from '../cards.js';
import { defineVerb, type Turn } from '../turn.js';
import { alertSubject } from './subjects.js';

export const alertData = z.object({
  alert: z.string().min(1).max(200),
  v: z.coerce.number().int().min(0).optional(),
  hours: z.coerce.number().int().optional(),
});

const ALERT_VERBS: Record<string, 'ack' | 'snooze' | 'resolve'> = { 'alert.ack': 'ack', 'alert.snooze': 'snooze', 'alert.resolve': 'resolve' };

/** An alert card's Acknowledge, Snooze, Resolve and Refresh: the alert service decides who may (its responders). */
export const alertVerb = defineVerb({
  triggerVerbs: [...Object.keys(ALERT_VERBS), 'alert.refresh'],
  data: alertData,
  invalidData: "This card's data is not valid.",
  subject: alertSubject,
  async handleActionInvoked(turn, verb, data) {
    let notice: string | undefined;
    if (verb !== 'alert.refresh') {
      if (verb === 'alert.snooze' && data.hours !== 1 && data.hours !== 24)
        return noticeCard('Nothing was changed', 'Snooze for 1 or 24 hours.', { color: 'Attention' });
      notice = (await turn.d.alerts.act(data.alert, ALERT_VERBS[verb], turn.actor, data.v ?? -1, data.hours)).notice;
    }
    return alertAnswer(turn, data.alert, notice);
  },
});

/** The alert's card as it is now, with what the click did. */
export async function alertAnswer(turn: Turn, id: string, notice: string | undefined): Promise<Card> {
  const alert = await turn.d.alerts.get(id);
  if (!alert) return noticeCard('Nothing was changed', 'That alert does not exist.', { color: 'Attention' });
  return incidentCard(turn.d.engine, alert, { notice, now: turn.d.clock.now() });
}
