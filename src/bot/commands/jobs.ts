import { renderCard, type Card } from '../cards.js';
import type { JobView } from '../deps.js';
import { defineCommand, type Turn } from '../turn.js';

/** `jobs [migration]`: the Cloud Sync jobs of this channel's migrations (or one). */
export const jobsCommand = defineCommand<{ name: 'jobs'; migration?: string }>({
  triggerPatterns: ['jobs'],
  help: [{ usage: 'jobs [migration]', description: 'Cloud Sync jobs: status, last execution, quarantine.' }],
  parse: ({ args }) => ({ name: 'jobs', migration: args.join(' ') || undefined }),
  handleCommandReceived: (turn, c) => jobsCard(turn, c.migration),
});

async function jobsCard(turn: Turn, ref: string | undefined): Promise<Card> {
  const ms = await turn.scope.resolve(ref);
  const jobs: (JobView & { style: string })[] = [];
  const errors: string[] = [];
  for (const m of ms) {
    try {
      for (const j of await turn.d.insight.jobs(m)) jobs.push({ ...j, style: j.quarantined ? 'attention' : 'default' });
    } catch (e: any) {
      errors.push(`${m.name}: ${e?.message ?? e}`);
    }
  }
  return renderCard('jobs', {
    jobs,
    emptyText: errors.length
      ? `Could not read jobs: ${errors.join('; ')}`
      : ms.length
        ? 'No Cloud Sync job is configured yet for these migrations.'
        : 'No migrations here yet.',
  });
}
