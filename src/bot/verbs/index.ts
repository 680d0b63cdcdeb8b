import type { BotDeps } from '../deps.js';
import type { VerbHandler } from '../turn.js';
import { stepVerb } from './step.js';
import { stepShowVerb } from './step-show.js';
import { policyChangeVerb } from './policy-change.js';
import { migrationRefreshVerb } from './migration-refresh.js';
import { newMigrationFormVerb } from './new-migration-form.js';
import { chatStatusVerb } from './chat-status.js';
import { migrationCreateVerb } from './migration-create.js';
import { migrationRollbackVerb } from './migration-rollback.js';
import { alertVerb } from './alert.js';
import { alertRestartVerb } from './alert-restart.js';
import { runnerRequestVerb } from './runner-request.js';
import { runnerTokenVerb } from './runner-token.js';

/**
 * The card verbs (Action.Execute): one handler a file, listed here once. A new button is a handler file (its verbs,
 * its data, what it is about, its card) and one line in this list.
 */
export const VERB_HANDLERS: readonly VerbHandler<any, any>[] = [
  stepVerb,
  stepShowVerb,
  policyChangeVerb,
  migrationRefreshVerb,
  newMigrationFormVerb,
  chatStatusVerb,
  migrationCreateVerb,
  migrationRollbackVerb,
  alertVerb,
  alertRestartVerb,
  runnerRequestVerb,
  runnerTokenVerb,
];

// A Map, not an object: a verb such as "constructor" must not find Object.prototype's member.
const BY_VERB = new Map(VERB_HANDLERS.flatMap((h) => h.triggerVerbs.map((v) => [v, h] as const)));

/** The handler of a verb, if cutover has one (and the deployment has what it needs). */
export function verbHandler(verb: string, d: BotDeps): VerbHandler<any, any> | undefined {
  const h = BY_VERB.get(verb);
  return h && (h.available?.(d) ?? true) ? h : undefined;
}
