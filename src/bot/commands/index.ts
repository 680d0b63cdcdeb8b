import type { CommandHandler, CommandHelp, ParsedCommand } from '../turn.js';
import { CommandError, MAX_TEXT, cleanText, tokenize } from './parse.js';
import { helpCommand } from './help.js';
import { newMigrationCommand } from './new-migration.js';
import { statusCommand } from './status.js';
import { jobsCommand } from './jobs.js';
import { alertsCommand } from './alerts.js';
import { pendingCommand } from './pending.js';
import { showCommand } from './show.js';
import { runnersCommand } from './runners.js';
import { runnerAdminCommand } from './runner-admin.js';
import { auditCommand } from './audit.js';
import { cancelCommand } from './cancel.js';
import { batchAddCommand } from './batch-add.js';
import { rollbackCommand } from './rollback.js';
import { policyCommand } from './policy.js';
import { connectScopeRemoveCommand } from './connect-scope-remove.js';
import { runbookCommand } from './runbook.js';

/**
 * The chat commands: one handler a file, listed here once, in the help's order (the Teams manifest's command lists
 * follow it: manifest/package.ts). A new command is a handler file (its trigger, help, parser and card), its card
 * template in cards/ when it needs a new one, and one line in this list.
 */
export const COMMAND_HANDLERS: readonly CommandHandler<any>[] = [
  helpCommand,
  newMigrationCommand,
  statusCommand,
  jobsCommand,
  alertsCommand,
  pendingCommand,
  showCommand,
  runnersCommand,
  runnerAdminCommand,
  auditCommand,
  cancelCommand,
  batchAddCommand,
  rollbackCommand,
  policyCommand,
  connectScopeRemoveCommand,
  runbookCommand,
];

/** Every command's help lines, in order (the help card and the Teams manifest). */
export const COMMANDS: CommandHelp[] = COMMAND_HANDLERS.flatMap((h) => h.help);

export interface RoutedCommand {
  handler: CommandHandler<any>;
  command: ParsedCommand & Record<string, unknown>;
}

const TRIGGERS = COMMAND_HANDLERS.flatMap((handler) => handler.triggerPatterns.map((p) => ({ handler, words: p.toLowerCase().split(' ') })));

/**
 * The handler for a message and its command, parsed. Nothing said is `help`; what no trigger matches is `help` naming
 * what was said. Throws CommandError when a command is recognized but said wrong.
 */
export function routeCommand(raw: string): RoutedCommand {
  if (raw.length > MAX_TEXT) throw new CommandError(`That message is longer than ${MAX_TEXT} characters.`);
  const text = cleanText(raw);
  const words = tokenize(text);
  const lower = words.map((w) => w.toLowerCase());
  if (!lower[0]) return { handler: helpCommand, command: { name: 'help' } };
  const hit = TRIGGERS.find((t) => t.words.every((w, i) => lower[i] === w));
  if (!hit) return { handler: helpCommand, command: { name: 'help', unknown: text.slice(0, 100) } };
  return { handler: hit.handler, command: hit.handler.parse({ args: words.slice(hit.words.length), words, text }) };
}

/** A message as a command (its `name` and arguments). */
export function parseCommand(raw: string): RoutedCommand['command'] {
  return routeCommand(raw).command;
}

export { CommandError, cleanText, tokenize, OBJECT_ID } from './parse.js';
export type { CommandHelp } from '../turn.js';
