import type { Migration } from '../../runbooks/engine.js';
import type { RunnerRequest } from '../../runbooks/runner-registrations.js';
import type { AlertRecord } from '../../monitor/alerts.js';
import { placeOfMigration, type Verdict } from '../scope.js';
import type { Subject } from '../turn.js';

/**
 * What card clicks are about, read once before dispatch; the bot checks each against the turn's tenant and conversation
 * (scope.ts) and answers with the handler's wording when it is not here.
 */

type NotHere<D> = string | ((why: Exclude<Verdict, 'here'>, data: D) => string | null);

const wording =
  <D>(notHere: NotHere<D>) =>
  (why: Exclude<Verdict, 'here'>, data: D) =>
    typeof notHere === 'string' ? notHere : notHere(why, data);

/** A migration named by the card's `m`. */
export function migrationSubject<D extends { m: string }>(notHere: NotHere<D>): Subject<D, Migration | null> {
  return {
    load: (turn, data) => turn.d.engine.getMigration(data.m),
    placeOf: placeOfMigration,
    notHere: wording(notHere),
  };
}

/** An alert (incident) named by the card's `alert`: it is in the channels of its migrations and of its cards. */
export const alertSubject: Subject<{ alert: string }, AlertRecord | null> = {
  load: (turn, data) => turn.d.alerts.get(data.alert),
  placeOf: (a) =>
    a
      ? {
          tenantId: a.tenantId,
          conversations: [...a.migrations.map((m) => m.conversationId), ...a.posts.map((p) => p.conversationId), a.conversationId].filter(
            (c): c is string => !!c,
          ),
        }
      : null,
  // A missing alert is the handler's to say (after the click is tried, as the alert may have just been resolved).
  notHere: (why) => (why === 'missing' ? null : 'This alert belongs to another conversation or Entra tenant.'),
};

/** A runner request named by the card's `r` (another tenant's reads as an unknown one). */
export const runnerRequestSubject: Subject<{ r: string }, RunnerRequest | null> = {
  load: (turn, data) => turn.d.registrations.find(data.r, turn.tenantId),
  placeOf: (r) => (r ? { tenantId: r.tenantId, conversations: r.conversationId ? [r.conversationId] : [] } : null),
  notHere: () => 'That runner request does not exist here.',
};
