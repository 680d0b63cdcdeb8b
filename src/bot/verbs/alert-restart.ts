import { requestRestart as askRestart } from '../../runbooks/incident-restarts.js';
import type { AlertRecord } from '../../monitor/alerts.js';
import { noticeCard } from '../cards.js';
import { defineVerb, type Turn } from '../turn.js';
import { stateLabel } from '../views.js';
import { alertAnswer, alertData } from './alert.js';
import { alertSubject } from './subjects.js';

/** A quarantine alert's Restart: asks for the restart as a step of a migration it affects. */
export const alertRestartVerb = defineVerb({
  triggerVerbs: ['alert.restart'],
  data: alertData,
  invalidData: "This card's data is not valid.",
  subject: alertSubject,
  async handleActionInvoked(turn, _verb, data, target) {
    if (!target) return noticeCard('Nothing was changed', 'That alert does not exist.', { color: 'Attention' });
    return alertAnswer(turn, data.alert, await requestRestart(turn, target));
  },
});

/**
 * Restart from a quarantine alert: an approved change, not a direct action. A change owner of a migration it affects
 * (or a responder) asks; the restart becomes a step of the oldest active migration it affects, asked of that
 * migration's owners like any step (four-eyes, its quorum), posted in its thread. While one is not done, a second
 * click answers with it and changes nothing. Returns what the clicker is told.
 */
async function requestRestart(turn: Turn, a: AlertRecord): Promise<string> {
  const out = await askRestart(turn.d.engine, a, turn.actor, () => turn.d.alerts.refusal(a, turn.actor.oid, 'ask for a restart from its alerts'));
  switch (out.kind) {
    case 'resolved':
      return 'This alert is already resolved: nothing to restart. Nothing was changed.';
    case 'not-offered':
      return 'This alert offers no restart. Nothing was changed.';
    case 'open':
      return `A restart is already asked for: step ${out.seq} of ${out.migrationName} (${stateLabel(out.state).toLowerCase()}). Nothing was changed; ${out.state === 'rejected' || out.state === 'failed' || out.state === 'lost' ? 'ask again or retry from its step card' : "its step card is in the migration's thread"}.`;
    case 'no-active-migration':
      return 'None of the migrations this alert affects is active: nothing to restart it in. Nothing was changed.';
    case 'already-asked':
      return `A restart is already asked for: step ${out.seq} of ${out.migrationName} (${stateLabel(out.state).toLowerCase()}). Nothing was changed.`;
    case 'requested':
      return out.state === 'awaiting_approval'
        ? `Restart requested: step ${out.seq} of ${out.migrationName} waits for the approval of its change owners (its card is in ${out.migrationName}'s thread).`
        : `The restart was added as step ${out.seq} of ${out.migrationName}, but its approval could not be asked: ${out.notice ?? stateLabel(out.state)}`;
    case 'refused':
      return out.message;
  }
}
