import { noticeCard } from '../cards.js';
import { runnerRequestCard } from '../runner-views.js';
import { CommandError } from './parse.js';
import { defineCommand, refusedAs } from '../turn.js';

type RunnerAdmin = { name: 'runner-add' | 'runner-rotate' | 'runner-revoke'; runner: string };

/**
 * `runner add|rotate|revoke NAME`. Who may, and how (administrators only, a second administrator approves, never in a
 * one-to-one chat), is the runbooks room's to decide (RunnerRegistrations): this asks and shows the answer. Add and
 * rotate post a request card for a second administrator; the token never goes to the channel (see runner.token).
 */
export const runnerAdminCommand = defineCommand<RunnerAdmin>({
  triggerPatterns: ['runner'],
  help: [
    {
      usage: 'runner add NAME | runner rotate NAME | runner revoke NAME',
      description: 'Administrators only. Add or rotate: a second administrator approves; the token shows once, to the one who asked only.',
    },
  ],
  parse({ words, args }) {
    const op = args[0]?.toLowerCase();
    const name = words[2];
    if ((op === 'add' || op === 'rotate' || op === 'revoke') && name && words.length === 3) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) throw new CommandError('A runner name is 1–63 letters, digits, dots, dashes or underscores.');
      return { name: op === 'add' ? 'runner-add' : op === 'rotate' ? 'runner-rotate' : 'runner-revoke', runner: name };
    }
    throw new CommandError('Say "runner add NAME", "runner rotate NAME" or "runner revoke NAME".');
  },
  async handleCommandReceived(turn, c) {
    const { registrations } = turn.d;
    const { tenantId, actor, conversation } = turn;
    const name = c.runner;
    if (c.name === 'runner-revoke') {
      return refusedAs('Runner not revoked', async () => {
        const r = await registrations.revoke({ tenantId, name, actor });
        return r.revoked ? noticeCard(`Runner "${name}" revoked`, r.notice, { color: 'Good' }) : noticeCard('No such runner', r.notice, { color: 'Attention' });
      });
    }
    return refusedAs('Runner not registered', async () => {
      const req = await registrations.request({
        tenantId,
        name,
        kind: c.name === 'runner-add' ? 'add' : 'rotate',
        actor,
        conversationId: conversation.id,
        oneToOne: conversation.type === 'personal',
      });
      const id = await turn.reply(runnerRequestCard(req, { expiresAt: new Date(req.requestedAt.getTime() + registrations.requestExpiryMs) }));
      if (id) await registrations.setActivity(req.id, id);
    });
  },
});
