import { runnerTokenCard } from '../runner-views.js';
import { defineVerb } from '../turn.js';
import { rememberRequestCard, runnerData, runnerRequestView } from './runner-request.js';
import { runnerRequestSubject } from './subjects.js';

/**
 * An approved runner request's "Show the token": the token goes in this invoke response and nowhere else, so only
 * the person who clicked sees it, on their screen (the registrations decide who may: the administrator who asked).
 * The shared message is not updated now (Teams would replace this card on their screen with it).
 */
export const runnerTokenVerb = defineVerb({
  triggerVerbs: ['runner.token'],
  data: runnerData,
  invalidData: "This card's data is not valid.",
  subject: runnerRequestSubject,
  async handleActionInvoked(turn, _verb, _data, before) {
    await rememberRequestCard(turn, before!);
    const out = await turn.d.registrations.issue({ id: before!.id, tenantId: turn.tenantId, actor: turn.actor });
    if (out.ok) return runnerTokenCard(out.request, out.token, { serverUrl: turn.d.publicUrl?.() ?? "<cutover's public URL>" });
    return runnerRequestView(turn, before!.id, out.notice);
  },
});
