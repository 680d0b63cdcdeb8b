import { renderCard, type Card } from '../cards.js';
import { defineCommand, type CommandHelp } from '../turn.js';

/** `help` (also `?` or nothing at all; anything cutover does not understand gets it too, naming what was said). */
export const helpCommand = defineCommand<{ name: 'help'; unknown?: string }>({
  triggerPatterns: ['help', '?'],
  help: [{ usage: 'help', description: 'The commands cutover understands, with examples.' }],
  parse: () => ({ name: 'help' }),
  async handleCommandReceived(turn, c) {
    return helpCard(turn.commands, c.unknown ? `I don't know "${c.unknown}". Here is what I can do:` : undefined);
  },
});

export function helpCard(commands: readonly CommandHelp[], notice?: string): Card {
  return renderCard('help', { notice: notice ?? null, commands });
}
