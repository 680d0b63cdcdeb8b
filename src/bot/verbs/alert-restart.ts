import { EngineError } from '../../runbooks/engine.js';
import type { AlertRecord } from '../../monitor/alerts.js';
import { RESTART_OPEN, restartMigration, restartView } from '../alert-views.js';
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
  const { engine, alerts } = turn.d;
  const actor = turn.actor;
  if (a.state === 'resolved') return 'This alert is already resolved: nothing to restart. Nothing was changed.';
  if (a.action?.kind !== 'restart-job') return 'This alert offers no restart. Nothing was changed.';
  const refused = await alerts.refusal(a, actor.oid, 'ask for a restart from its alerts');
  if (refused) return refused;
  const current = await restartView(engine, a);
  if (current && RESTART_OPEN.includes(current.state)) {
    return `A restart is already asked for: step ${current.seq} of ${current.migrationName} (${stateLabel(current.state).toLowerCase()}). Nothing was changed; ${current.state === 'rejected' || current.state === 'failed' || current.state === 'lost' ? 'ask again or retry from its step card' : "its step card is in the migration's thread"}.`;
  }
  const m = await restartMigration(engine, a);
  if (!m) return 'None of the migrations this alert affects is active: nothing to restart it in. Nothing was changed.';
  try {
    const out = await engine.addIncidentStep(
      m.id,
      'restart-quarantined-job',
      { alertId: a.id, jobId: a.action.jobId, resetScope: a.action.resetScope, reason: a.action.reason },
      actor,
    );
    const step = out.step;
    if (!out.added) return `A restart is already asked for: step ${step.seq} of ${m.name} (${stateLabel(step.state).toLowerCase()}). Nothing was changed.`;
    if (step.state === 'awaiting_approval')
      return `Restart requested: step ${step.seq} of ${m.name} waits for the approval of its change owners (its card is in ${m.name}'s thread).`;
    return `The restart was added as step ${step.seq} of ${m.name}, but its approval could not be asked: ${out.notice ?? stateLabel(step.state)}`;
  } catch (e) {
    if (e instanceof EngineError) return e.message;
    throw e;
  }
}
