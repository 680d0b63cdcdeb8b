import { runbookOf } from '../../runbooks/catalog.js';
import { currentStep, isStepDone } from '../../runbooks/engine.js';
import type { AlertRecord } from '../../monitor/alerts.js';
import { alertLine, openAlertsTitle } from '../alert-views.js';
import { noticeCard, renderCard, type Card } from '../cards.js';
import { defineCommand, type Turn } from '../turn.js';
import { batchFacts, stateLabel, stepLines } from '../views.js';

/** `status [migration]`: progress of this channel's migrations (or one, with every step), open incidents first. */
export const statusCommand = defineCommand<{ name: 'status'; migration?: string }>({
  triggerPatterns: ['status'],
  help: [
    {
      usage: 'status [migration]',
      description: 'Progress: steps done, current step, OU batches, on-premises vs Entra counts per OU; with a migration, every step.',
    },
  ],
  parse: ({ args }) => ({ name: 'status', migration: args.join(' ') || undefined }),
  handleCommandReceived: (turn, c) => statusCard(turn, c.migration),
});

const SEVERITY_ORDER: Record<AlertRecord['severity'], number> = { critical: 0, warning: 1, info: 2 };

export async function statusCard(turn: Turn, ref: string | undefined): Promise<Card> {
  const { engine, insight, alerts, clock } = turn.d;
  const ms = await turn.scope.resolve(ref);
  if (ref && !ms.length)
    return noticeCard('No such migration', `There is no migration "${ref}" in this conversation.`, { hint: 'Say status to list them all.' });
  const migrations = [];
  for (const m of ms) {
    const steps = await engine.getSteps(m.id);
    const done = steps.filter(isStepDone).length;
    const current = currentStep(steps);
    const facts = [
      { title: 'Kind', value: runbookOf(m.kind).title },
      {
        title: 'Current step',
        value: current ? `${current.seq}. ${engine.plannedStep(m, current).def.title} — ${stateLabel(current.state)}` : 'none (completed)',
      },
      ...(await insight.statusFacts(m).catch((e) => [{ title: 'Counts', value: `unavailable: ${e?.message ?? e}` }])),
    ];
    // `status <migration>`: its batches and every step; `status`: the batches of each.
    migrations.push({
      id: m.id,
      name: m.name,
      progress: `${done} of ${steps.length} steps done (${m.state})`,
      facts,
      batches: batchFacts(engine, m, steps),
      steps: ref ? stepLines(engine, m, steps) : [],
    });
  }
  // Open incidents first: those affecting any of these migrations, each once (a shared one names them all).
  const now = clock.now();
  const open = new Map<string, AlertRecord>();
  for (const m of ms) for (const a of await alerts.list({ migrationId: m.id, openOnly: true })) open.set(a.id, a);
  const lines = [...open.values()]
    .sort((x, y) => SEVERITY_ORDER[x.severity] - SEVERITY_ORDER[y.severity] || x.openedAt.getTime() - y.openedAt.getTime())
    .map((a) => ({ line: `${alertLine(a, now)} · ${a.migrations.map((x) => x.name).join(', ')}` }));
  return renderCard('status', { alerts: lines, alertsTitle: openAlertsTitle(lines.length), migrations });
}
