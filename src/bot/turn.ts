import type { z } from 'zod';
import { EngineError, type Migration } from '../runbooks/engine.js';
import { noticeCard, type Card } from './cards.js';
import type { BotDeps } from './deps.js';
import type { Place, Scope, Verdict } from './scope.js';

/**
 * What a handler is given and what it is: a chat command (`triggerPatterns` + `handleCommandReceived`) or a card verb
 * (`triggerVerbs` + `handleActionInvoked`), as in the Teams Toolkit's command-bot and workflow templates. Handlers
 * return their card; the bot (bot.ts) parses, checks the tenant and the conversation once, dispatches and sends.
 * Nothing here is botbuilder's: a handler can be called from a test with a hand-made Turn.
 */

export interface RosterMember {
  name: string;
  oid: string;
  id: string;
}

export interface CommandHelp {
  usage: string;
  description: string;
}

/** One turn, as handlers see it. */
export interface Turn {
  readonly d: BotDeps;
  /** This turn's tenant and conversation, and the migrations they see (the one check: scope.ts). */
  readonly scope: Scope;
  readonly tenantId: string;
  readonly conversation: { id: string; type?: string };
  /** Who is speaking or clicking (object id in lower case; '' when the activity has none). */
  readonly actor: { oid: string; name: string };
  /** The message a click was on (its card), if any. */
  readonly replyToId: string | undefined;
  /** Every command, in the help's order. */
  readonly commands: readonly CommandHelp[];
  /** Sends a card as a new message; its activity id. */
  reply(card: Card): Promise<string | undefined>;
  /** The conversation's members with their object ids (the team's roster, every page), or null when it cannot be read. */
  roster(): Promise<RosterMember[] | null>;
  /** Work that goes on after the turn is answered: shutdown waits for it (CutoverBot.idle). */
  background(work: Promise<unknown>): void;
}

/** The words of a chat command after its trigger, and the whole text (cleaned) for messages. */
export interface Said {
  /** The words after the trigger pattern (quoted values kept together, as written). */
  args: string[];
  /** Every word, the trigger's included. */
  words: string[];
  text: string;
}

export interface ParsedCommand {
  name: string;
}

export interface CommandHandler<C extends ParsedCommand = ParsedCommand> {
  /** Leading words that pick this handler, case-insensitive ("status", "new migration"). */
  triggerPatterns: readonly string[];
  /** Its lines in the help card (and in the Teams manifest's command lists), in order. */
  help: readonly CommandHelp[];
  /** The command from its words; throws CommandError (commands/parse.ts) with what is wrong. */
  parse(said: Said): C;
  /**
   * A migration of this channel the command is about: resolved (and checked) before dispatch; when there is none the
   * person gets `notFound` and the handler is not called.
   */
  about?: { migration: (c: C) => string; notFound: (ref: string) => Card };
  /** Its card (the bot sends it), or nothing when it sent its own. */
  handleCommandReceived(turn: Turn, command: C, migration: Migration | undefined): Promise<Card | void>;
}

/** What a click is about: read once, then checked against this turn's tenant and conversation before dispatch. */
export interface Subject<D, S> {
  load(turn: Turn, data: D): Promise<S>;
  placeOf(s: S): Place | null;
  /** What the person is told when the subject is not here; null lets the handler go on (it says what is missing). */
  notHere(why: Exclude<Verdict, 'here'>, data: D): string | null;
}

export interface VerbHandler<D = unknown, S = undefined> {
  triggerVerbs: readonly string[];
  /** Only where the deployment has what it needs (e.g. policy changes): otherwise the button is unknown. */
  available?: (d: BotDeps) => boolean;
  /** The card's data, validated before anything is read; `invalidData` is said when it is not valid. */
  data?: z.ZodType<D>;
  invalidData?: string;
  subject?: Subject<NoInfer<D>, S>;
  handleActionInvoked(turn: Turn, verb: string, data: D, subject: S): Promise<Card>;
}

export function defineCommand<C extends ParsedCommand>(h: CommandHandler<C>): CommandHandler<C> {
  return h;
}

export function defineVerb<D, S = undefined>(h: VerbHandler<D, S>): VerbHandler<D, S> {
  return h;
}

/** The work's result, or null when it is not ready within `ms` (Teams shows an error past 10–15 s). */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A change asked of the domain: its refusal (EngineError, with the reason) becomes a card with this title. */
export async function refusedAs<T extends Card | void>(title: string, change: () => Promise<T>): Promise<T | Card> {
  try {
    return await change();
  } catch (e) {
    if (e instanceof EngineError) return noticeCard(title, e.message, { color: 'Attention' });
    throw e;
  }
}
