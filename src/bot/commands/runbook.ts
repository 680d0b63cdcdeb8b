import { RUNBOOKS, planSteps } from '../../runbooks/catalog.js';
import { citations, withoutSeedNumbers } from '../../runbooks/sources.js';
import { noticeCard, renderCard, type Card } from '../cards.js';
import { CommandError } from './parse.js';
import { defineCommand } from '../turn.js';

/** `runbook KIND`: a runbook's steps, without starting anything. */
export const runbookCommand = defineCommand<{ name: 'runbook'; kind: string }>({
  triggerPatterns: ['runbook'],
  help: [{ usage: 'runbook KIND', description: "A runbook's steps, without starting anything." }],
  parse({ args }) {
    if (!args.length) throw new CommandError('Say "runbook KIND", e.g. "runbook connect-to-cloud-sync".');
    return { name: 'runbook', kind: args[0] };
  },
  handleCommandReceived: async (_turn, c) => runbookCard(c.kind),
});

function runbookCard(kind: string): Card {
  const rb = Object.hasOwn(RUNBOOKS, kind) ? RUNBOOKS[kind] : undefined;
  if (!rb) return noticeCard('No such runbook', `Known runbooks: ${Object.keys(RUNBOOKS).join(', ')}.`);
  const steps = planSteps(rb, 1);
  return renderCard('list', {
    title: `Runbook · ${rb.title}`,
    emptyText: '',
    items: steps.map((s) => ({
      heading: `${s.seq}. ${s.def.title}${s.batch ? ' (per OU batch)' : ''}`,
      facts: [
        { title: 'Why', value: withoutSeedNumbers(s.def.purpose) },
        { title: 'Approval', value: s.def.approval },
      ],
      warningRuns: s.def.warning ? citations(s.def.warning) : [],
      sourceRuns: citations(s.def.source),
    })),
  });
}
