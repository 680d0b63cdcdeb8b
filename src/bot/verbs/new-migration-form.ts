import { formCard } from '../migration-creation.js';
import { defineVerb } from '../turn.js';

/** "Start a migration" (e.g. on the help card): the new-migration form. */
export const newMigrationFormVerb = defineVerb({
  triggerVerbs: ['form.new-migration'],
  handleActionInvoked: (turn) => formCard(turn, {}),
});
