import type { Migration, RunbookEngine } from '../../runbooks/engine.js';
import { noticeCard } from '../cards.js';
import { CommandError } from './parse.js';
import { defineCommand } from '../turn.js';

/** `show MIGRATION [step N]`: posts here its overview and the cards of its steps in play (or step N's card). */
export const showCommand = defineCommand<{ name: 'show'; migration: string; step?: number }>({
  triggerPatterns: ['show'],
  help: [
    {
      usage: 'show MIGRATION [step N]',
      description: "Posts here a migration's overview and the cards of its steps in play (or step N's card), with live buttons.",
    },
  ],
  parse({ args: rest }) {
    // show MIGRATION [step N]: the migration's name may hold spaces, so "step N" is read from the end.
    const n = rest.length >= 2 && rest[rest.length - 2].toLowerCase() === 'step' ? rest[rest.length - 1] : undefined;
    const migration = (n === undefined ? rest : rest.slice(0, -2)).join(' ');
    if (!migration) throw new CommandError('Say "show MIGRATION" or "show MIGRATION step N".');
    if (n !== undefined && !/^\d{1,5}$/.test(n)) throw new CommandError(`"${n.slice(0, 20)}" is not a step number: say "show MIGRATION step N".`);
    return { name: 'show', migration, ...(n !== undefined ? { step: Number(n) } : {}) };
  },
  about: {
    migration: (c) => c.migration,
    notFound: (ref) => noticeCard('No such migration', `There is no migration "${ref.slice(0, 80)}" in this channel.`, { color: 'Attention' }),
  },
  async handleCommandReceived(turn, c, m) {
    const problem = await showProblem(turn.d.engine, m!, c.step);
    if (problem) return noticeCard('Nothing to show', problem, { color: 'Attention' });
    await turn.d.notifier.repost(turn.conversation.id, m!.id, c.step);
  },
});

/** Why step `seq` of a migration cannot be shown (null when it can, or when no step is asked for). */
export async function showProblem(engine: RunbookEngine, m: Migration, seq?: number): Promise<string | null> {
  if (seq === undefined) return null;
  const steps = await engine.getSteps(m.id);
  return steps.some((s) => s.seq === seq) ? null : `${m.name} has no step ${seq} (its steps are 1 to ${Math.max(0, ...steps.map((s) => s.seq))}).`;
}
