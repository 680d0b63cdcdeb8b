import type { Migration } from '../../runbooks/engine.js';
import { placeOfMigration } from '../scope.js';
import { defineVerb } from '../turn.js';

/** The migration overview card's Refresh. */
export const migrationRefreshVerb = defineVerb<Record<string, unknown>, Migration | null>({
  triggerVerbs: ['migration.refresh'],
  subject: {
    load: async (turn, data) => (typeof data.m === 'string' ? turn.d.engine.getMigration(data.m) : null),
    placeOf: placeOfMigration,
    notHere: (why) => (why === 'missing' ? 'That migration does not exist.' : 'This migration belongs to another conversation or Entra tenant.'),
  },
  handleActionInvoked: (turn, _verb, _data, m) => turn.d.notifier.overviewOf(m!),
});
