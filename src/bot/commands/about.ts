import { noticeCard } from '../cards.js';

/** What commands about a migration of this conversation (cancel, batch add, rollback, policy) say when there is none. */
export const migrationHere = {
  migration: (c: { migration: string }) => c.migration,
  notFound: (ref: string) => noticeCard('No such migration', `There is no migration "${ref}" in this conversation.`, { color: 'Attention' }),
};
