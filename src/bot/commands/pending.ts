import { ageInWords } from '../format.js';
import { renderCard, type Card } from '../cards.js';
import { defineCommand, type Turn } from '../turn.js';

/** `pending`: what waits for the asker's approval, oldest first (steps with a button that posts their card here). */
export const pendingCommand = defineCommand<{ name: 'pending' }>({
  triggerPatterns: ['pending'],
  help: [{ usage: 'pending', description: 'Steps waiting for your approval, oldest first, each with a button that posts its card here.' }],
  parse: () => ({ name: 'pending' }),
  handleCommandReceived: (turn) => pendingCard(turn),
});

export async function pendingCard(turn: Turn, notice?: string): Promise<Card> {
  const { engine, policyChanges, clock } = turn.d;
  const { actor, scope } = turn;
  // An owner in several customers' tenants sees, in each tenant, only that tenant's requests.
  const items = actor.oid ? scope.ofTenant(await engine.pendingFor(actor.oid), (i) => i.migration.tenantId) : [];
  const changes = actor.oid && policyChanges ? scope.ofTenant(await policyChanges.pendingFor(actor.oid), (i) => i.migration.tenantId) : [];
  const now = clock.now();
  const rows = [
    ...items.map((i) => ({
      at: i.step.requestedAt!.getTime(),
      heading: `${i.migration.name} · step ${i.step.seq}: ${i.def.title}`,
      facts: [
        { title: 'Asked by', value: i.step.requestedBy?.name ?? '—' },
        { title: 'Waiting for', value: ageInWords(i.step.requestedAt!, now) },
        { title: 'Migration id', value: i.migration.id },
      ],
      show: { m: i.migration.id, s: i.step.seq },
    })),
    ...changes.map((i) => ({
      at: i.change.requestedAt.getTime(),
      heading: `${i.migration.name} · approval policy change ${i.change.id}`,
      facts: [
        { title: 'Asked by', value: i.change.requestedBy.name },
        { title: 'Waiting for', value: ageInWords(i.change.requestedAt, now) },
        { title: 'Migration id', value: i.migration.id },
      ],
    })),
  ].sort((a, b) => a.at - b.at);
  return renderCard('list', {
    title: 'Waiting for you',
    notice: notice ?? null,
    emptyText: 'Nothing is waiting for your approval.',
    items: rows.map(({ heading, facts, ...r }) => ({ heading, facts, show: 'show' in r ? r.show : null })),
  });
}
