import { statusCard } from '../commands/status.js';
import { defineVerb } from '../turn.js';

/** A card's "Status" button: what `status` says. */
export const chatStatusVerb = defineVerb({
  triggerVerbs: ['chat.status'],
  handleActionInvoked: (turn) => statusCard(turn, undefined),
});
