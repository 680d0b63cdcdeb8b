import { ageInWords, formatTime } from '../format.js';
import { renderCard, type Card } from '../cards.js';
import { defineCommand, type Turn } from '../turn.js';

/** `alerts`: the open alerts of this conversation, with their age. */
export const alertsCommand = defineCommand<{ name: 'alerts' }>({
  triggerPatterns: ['alerts'],
  help: [{ usage: 'alerts', description: 'Open alerts with their age.' }],
  parse: () => ({ name: 'alerts' }),
  handleCommandReceived: (turn) => alertsCard(turn),
});

async function alertsCard(turn: Turn): Promise<Card> {
  const alerts = turn.scope.ofTenant(await turn.d.alerts.list({ conversationId: turn.conversation.id, openOnly: true }), (a) => a.tenantId);
  const now = turn.d.clock.now();
  return renderCard('list', {
    title: `Open alerts (${alerts.length})`,
    emptyText: 'No open alerts.',
    items: alerts.map((a) => ({
      heading: `${a.severity === 'critical' ? '🔴' : '🟠'} ${a.title}`,
      facts: [
        { title: a.migrations.length > 1 ? 'Migrations' : 'Migration', value: a.migrations.map((x) => x.name).join(', ') || a.migrationName },
        { title: 'State', value: a.state + (a.snoozedUntil && a.state === 'snoozed' ? ` until ${formatTime(a.snoozedUntil, now)}` : '') },
        { title: 'Age', value: ageInWords(a.openedAt, now) },
        { title: 'Alert id', value: a.id },
        ...(a.ackedBy ? [{ title: 'Acknowledged by', value: a.ackedBy }] : []),
      ],
    })),
  });
}
