/** The chat commands' parsing and help (for the Teams manifest and tests): the registry is src/bot/commands/index.ts. */
export { COMMANDS, CommandError, cleanText, parseCommand, routeCommand, tokenize, OBJECT_ID } from './commands/index.js';
export type { CommandHelp, RoutedCommand } from './commands/index.js';
