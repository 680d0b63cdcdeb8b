import { noticeCard } from '../cards.js';
import { CommandError } from './parse.js';
import { defineCommand } from '../turn.js';

/** `connect scope remove "OU=…"`: refused while a migration of this tenant is moving the OU (coexistence). */
export const connectScopeRemoveCommand = defineCommand<{ name: 'connect-scope-remove'; ou: string }>({
  triggerPatterns: ['connect'],
  help: [
    {
      usage: 'connect scope remove "OU=…,DC=…"',
      description: "Asks to take an OU out of Connect Sync's scope: refused while a migration is moving it (coexistence).",
    },
  ],
  parse({ args }) {
    if (args[0]?.toLowerCase() === 'scope' && args[1]?.toLowerCase() === 'remove' && args[2])
      return { name: 'connect-scope-remove', ou: args.slice(2).join(' ') };
    throw new CommandError('Say "connect scope remove "OU=…,DC=…"".');
  },
  async handleCommandReceived(turn, c) {
    const { isValidDn } = await import('../../dn.js');
    if (!isValidDn(c.ou)) return noticeCard('Nothing was changed', `"${c.ou.slice(0, 200)}" is not a valid distinguished name.`, { color: 'Attention' });
    const blocker = await turn.d.engine.connectScopeRemovalBlocker(c.ou, turn.tenantId);
    return blocker
      ? noticeCard('Refused: keep the OU in Connect Sync scope', blocker, { color: 'Attention' })
      : noticeCard(
          'No migration holds this OU',
          `No active migration is moving ${c.ou}. Connect Sync's OU filtering is changed in the Connect wizard (Customize synchronization options → Domain and OU filtering); objects leaving scope are deleted from Entra ID at the next cycle.`,
          { color: 'Warning' },
        );
  },
});
