import { formatTime } from '../format.js';
import { renderCard, type Card } from '../cards.js';
import { defineCommand, type Turn } from '../turn.js';

/** `runners`: this tenant's on-premises runners and their health. */
export const runnersCommand = defineCommand<{ name: 'runners' }>({
  triggerPatterns: ['runners'],
  help: [{ usage: 'runners', description: 'On-premises runners: last seen, version, executor, health.' }],
  parse: () => ({ name: 'runners' }),
  handleCommandReceived: (turn) => runnersCard(turn),
});

async function runnersCard(turn: Turn): Promise<Card> {
  const rs = await turn.d.runners.list(turn.tenantId);
  const now = turn.d.clock.now();
  return renderCard('list', {
    title: 'Runners',
    emptyText: 'No runners registered. An administrator says "runner add NAME" (a second administrator approves it).',
    items: rs.map((r) => ({
      heading: `${r.health === 'Healthy' ? '🟢' : r.health === 'Down' || r.health === 'Expired' ? '🔴' : '⚪'} ${r.name}`,
      facts: [
        {
          title: 'Health',
          value: r.health === 'Expired' ? 'Expired (its token was never used before its deadline and never works: runner add again)' : r.health,
        },
        ...(r.claimBy && !r.claimedAt && r.health !== 'Expired' && r.health !== 'Revoked'
          ? [{ title: 'First use by', value: `${formatTime(r.claimBy, now)} (not connected yet)` }]
          : []),
        { title: 'Last seen', value: r.lastSeenAt ? formatTime(r.lastSeenAt, now) : 'never' },
        { title: 'Version', value: r.version ?? '—' },
        { title: 'Executor', value: r.executor ?? '—' },
        { title: 'Tenant', value: r.tenantId },
      ],
    })),
  });
}
