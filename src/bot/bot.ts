import {
  CardFactory,
  MessageFactory,
  TeamsActivityHandler,
  TeamsInfo,
  TurnContext,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type InvokeResponse,
} from 'botbuilder';
import { EngineError } from '../runbooks/engine.js';
import { noticeCard, type Card } from './cards.js';
import { COMMANDS, CommandError, routeCommand, type RoutedCommand } from './commands/index.js';
import type { BotDeps } from './deps.js';
import { Scope, tenantOf } from './scope.js';
import type { RosterMember, Turn } from './turn.js';
import { verbHandler } from './verbs/index.js';

export type { BotDeps, JobView } from './deps.js';

/**
 * The Bot Framework surface of cutover: a turn comes in, its tenant and conversation are read once (scope.ts), the
 * route tables (commands/index.ts, verbs/index.ts) pick its handler, what the turn is about is checked against that
 * scope before dispatch, and the handler's card is sent. Handlers know no botbuilder.
 */
export class CutoverBot extends TeamsActivityHandler {
  /** Work that goes on after its turn was answered (slow clicks, slow new migrations). */
  readonly #background = new Set<Promise<unknown>>();

  constructor(private readonly d: BotDeps) {
    super();
    this.onMessage(async (ctx, next) => {
      await this.#remember(ctx);
      await this.#handleMessage(ctx);
      await next();
    });
    this.onConversationUpdate(async (ctx, next) => {
      await this.#remember(ctx);
      await next();
    });
  }

  /** Every turn logs one line carrying its correlation ids (activity id, tenant, conversation). */
  async run(ctx: TurnContext): Promise<void> {
    const a = ctx.activity;
    const log = this.d.log.child({ activityId: a?.id, tenantId: a ? tenantOf(a) : undefined, conversationId: a?.conversation?.id });
    const started = Date.now();
    try {
      await super.run(ctx);
      log.info({ type: a?.type, name: a?.name, verb: (a?.value as any)?.action?.verb, ms: Date.now() - started }, 'turn');
    } catch (err) {
      log.error({ err, type: a?.type, ms: Date.now() - started }, 'turn failed');
      throw err;
    }
  }

  /** Resolves when the work answered early has finished (shutdown waits for it, as for turns in flight). */
  async idle(): Promise<void> {
    while (this.#background.size) await Promise.allSettled([...this.#background]);
  }

  /**
   * Caches where to speak and who is who. A failure here (e.g. the database restarting) must not fail the turn: the
   * click or command itself then succeeds or says why it could not.
   */
  async #remember(ctx: TurnContext): Promise<void> {
    const a = ctx.activity;
    try {
      await this.d.notifier.rememberConversation(TurnContext.getConversationReference(a) as any);
      if (a.from?.aadObjectId && a.from.name) await this.d.people.remember(a.from.aadObjectId, a.from.name, a.from.id);
    } catch (err) {
      this.d.log.warn({ err }, 'could not store the conversation reference or the sender name');
    }
  }

  /** The turn as handlers see it: its scope (tenant, conversation) read once, here. */
  #turn(ctx: TurnContext): Turn {
    const a = ctx.activity;
    const tenantId = tenantOf(a);
    const conversation = { id: a.conversation?.id, type: a.conversation?.conversationType };
    return {
      d: this.d,
      scope: new Scope(tenantId, conversation.id, this.d.engine),
      tenantId,
      conversation,
      actor: { oid: (a.from?.aadObjectId ?? '').toLowerCase(), name: a.from?.name ?? 'someone' },
      replyToId: a.replyToId,
      commands: COMMANDS,
      reply: async (card) => (await ctx.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(card))))?.id,
      roster: () => roster(ctx),
      background: (work) => {
        const running: Promise<unknown> = work.catch(() => undefined).finally(() => this.#background.delete(running));
        this.#background.add(running);
      },
    };
  }

  // ------------------------------------------------------------------ chat commands

  async #handleMessage(ctx: TurnContext): Promise<void> {
    const text = typeof ctx.activity.text === 'string' ? (TurnContext.removeRecipientMention(ctx.activity) ?? ctx.activity.text) : '';
    const turn = this.#turn(ctx);
    let routed: RoutedCommand;
    try {
      routed = routeCommand(text ?? '');
    } catch (e) {
      if (e instanceof CommandError) {
        await turn.reply(noticeCard("That command isn't quite right", e.message, { hint: 'Say help for the list of commands.', color: 'Attention' }));
        return;
      }
      throw e;
    }
    const { handler, command } = routed;
    // A command about a migration gets it from this channel and tenant only, before its handler runs.
    let migration;
    if (handler.about) {
      const ref = handler.about.migration(command);
      migration = await turn.scope.find(ref);
      if (!migration) {
        await turn.reply(handler.about.notFound(ref));
        return;
      }
    }
    const card = await handler.handleCommandReceived(turn, command, migration);
    if (card) await turn.reply(card);
  }

  // ------------------------------------------------------------------ card clicks

  /**
   * Invokes cutover does not handle, or card actions without an Action.Execute, are the caller's mistake: 400 with a
   * reason. (botbuilder answers 501 to unknown invoke names, and fails with a TypeError — a 501 and an error log —
   * on an adaptiveCard/action whose value has no action.)
   */
  protected async onInvokeActivity(ctx: TurnContext): Promise<InvokeResponse> {
    const name = typeof ctx.activity.name === 'string' ? ctx.activity.name : '';
    const action = (ctx.activity.value as any)?.action;
    if (name === 'adaptiveCard/action' && (!action || typeof action !== 'object' || action.type !== 'Action.Execute')) {
      const type = action && typeof action === 'object' && typeof action.type === 'string' ? action.type.slice(0, 40) : 'none';
      return invokeError(400, 'NotSupported', `Only Action.Execute card actions are handled (this one is: ${type}).`);
    }
    const response = await super.onInvokeActivity(ctx);
    if (response?.status === 501) return invokeError(400, 'NotSupported', `cutover does not handle "${name.slice(0, 60)}" invokes.`);
    return response;
  }

  protected async onAdaptiveCardInvoke(ctx: TurnContext, value: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    await this.#remember(ctx);
    const verb = String(value?.action?.verb ?? '');
    const data = (value?.action?.data ?? {}) as Record<string, unknown>;
    try {
      return cardResponse(await this.#handleInvoke(this.#turn(ctx), verb, data));
    } catch (e) {
      if (e instanceof EngineError) return cardResponse(noticeCard('Nothing was changed', e.message, { color: 'Attention' }));
      // A dependency failed mid-click (e.g. Graph answering 5xx while the plan is computed): say so on the card
      // instead of leaving the person with Teams' generic "something went wrong".
      this.d.log.error({ err: e, verb, activityId: ctx.activity.id }, 'card action failed');
      const reason = String((e as any)?.message ?? e).slice(0, 300);
      return cardResponse(
        noticeCard('That did not go through', `cutover could not finish this click: ${reason}`, {
          hint: 'Refresh the card to see the current state, then try again. The details are in the service log.',
          color: 'Attention',
        }),
      );
    }
  }

  /** The verb's handler, given the card's data once valid and what the click is about once checked to be here. */
  async #handleInvoke(turn: Turn, verb: string, raw: Record<string, unknown>): Promise<Card> {
    const nothing = (why: string) => noticeCard('Nothing was changed', why, { color: 'Attention' });
    const handler = verbHandler(verb, this.d);
    if (!handler) return nothing(`This button ("${verb.slice(0, 60)}") is not one cutover knows.`);
    let data: unknown = raw;
    if (handler.data) {
      const p = handler.data.safeParse(raw);
      if (!p.success) return nothing(handler.invalidData ?? "This card's data is not valid.");
      data = p.data;
    }
    let subject: unknown;
    if (handler.subject) {
      subject = await handler.subject.load(turn, data);
      const verdict = turn.scope.verdict(handler.subject.placeOf(subject));
      const refusal = verdict === 'here' ? null : handler.subject.notHere(verdict, data);
      if (refusal) return nothing(refusal);
    }
    return handler.handleActionInvoked(turn, verb, data, subject);
  }
}

/** The conversation's members with their object ids (the team's roster, every page), or null when it cannot be read. */
async function roster(ctx: TurnContext): Promise<RosterMember[] | null> {
  try {
    const out: RosterMember[] = [];
    let token: string | undefined;
    for (let page = 0; page < 20; page++) {
      const r = await TeamsInfo.getPagedMembers(ctx, 100, token);
      for (const m of r.members) if (m.aadObjectId) out.push({ name: m.name, oid: m.aadObjectId.toLowerCase(), id: m.id });
      token = r.continuationToken;
      if (!token) break;
    }
    return out;
  } catch {
    return null; // not in a team, or the roster is unavailable: object ids can still be typed (and are checked in Graph)
  }
}

function invokeError(status: number, code: string, message: string): InvokeResponse {
  return { status, body: { statusCode: status, type: 'application/vnd.microsoft.error', value: { code, message } } };
}

function cardResponse(card: Card): AdaptiveCardInvokeResponse {
  return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card };
}
