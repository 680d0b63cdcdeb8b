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
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { EngineError, type Migration, type RunbookEngine, type StepRow, type Verb } from '../runbooks/engine.js';
import type { Person } from '../runbooks/types.js';
import { RUNBOOKS, planSteps, runbookOf } from '../runbooks/catalog.js';
import { defaultPolicy } from '../runbooks/policy.js';
import { textProblem, validateNewMigration } from '../runbooks/new-migration.js';
import type { ChangeWindow } from '../runbooks/windows.js';
import { citations, withoutSeedNumbers } from '../runbooks/sources.js';
import { ageInWords, formatTime } from './format.js';
import { channelOf, type AlertRecord } from '../monitor/alerts.js';
import { noticeCard, renderCard, type Card } from './cards.js';
import type { RunnerRegistrations } from '../runbooks/runner-registrations.js';
import type { CreationChecks } from '../runbooks/creation-checks.js';
import type { Cancellations } from '../runbooks/cancel.js';
import { runnerRequestCard, runnerTokenCard } from './runner-views.js';
import { COMMANDS, CommandError, parseCommand, type Command } from './commands.js';
import { batchFacts, stateLabel, stepCard, stepLines, type ReportLinker } from './views.js';
import { policyChangeCard } from './views.js';
import type { PolicyChanges } from '../runbooks/policy-changes.js';
import type { PeopleDirectory } from './people.js';
import type { Notifier } from './notifier.js';
import { alertLine, incidentCard, openAlertsTitle, RESTART_OPEN, restartMigration, restartView } from './alert-views.js';

export interface JobView {
  migration: string;
  id: string;
  templateId: string;
  code: string;
  quarantined: boolean;
  facts: { title: string; value: string }[];
}

export interface BotDeps {
  engine: RunbookEngine;
  /** Approved changes of a migration's approval policy (`policy` command); without it the command says so. */
  policyChanges?: PolicyChanges;
  people: PeopleDirectory;
  notifier: Notifier;
  /** Download links on cards (the assessment report); none: no download buttons. */
  links?: ReportLinker;
  insight: {
    statusFacts(m: Migration): Promise<{ title: string; value: string }[]>;
    jobs(m: Migration): Promise<JobView[]>;
  };
  alerts: {
    list(opts: { conversationId?: string; openOnly: boolean; migrationId?: string }): Promise<AlertRecord[]>;
    get(id: string): Promise<AlertRecord | null>;
    /** Only the alert's responders may (the change owners of a migration it affects, or the responders group): others get the reason. */
    act(id: string, verb: 'ack' | 'snooze' | 'resolve', actor: { oid: string; name: string }, version: number, hours?: number): Promise<{ changed: boolean; notice?: string }>;
    /** Why this person may not act on the alert (the same rule), or null. */
    refusal(a: AlertRecord, actorOid: string, doing?: string): Promise<string | null>;
  };
  runners: {
    list(tenantId: string): Promise<{ name: string; tenantId: string; lastSeenAt: Date | null; version: string | null; executor: string | null; health: string; claimBy?: Date | null; claimedAt?: Date | null }[]>;
  };
  /** Runner registrations: administrators only, four-eyes, the token shown once to the administrator who asked. */
  registrations: RunnerRegistrations;
  /** What a new migration is checked against before anything is created. */
  creation: CreationChecks;
  /** `cancel <migration>`. */
  cancellations: Cancellations;
  /** cutover's public URL, for the runner's install command on the token card. */
  publicUrl?: () => string;
  tenantId: string;
  approvalHours: { expiry: number; reminder: number; escalation: number };
  /**
   * How long a Request or Retry click may wait on the runner (guard reads, the plan's facts) before the click is answered
   * with a "checking" card and finished in the background. Default 4 s: Teams shows an error and retries an invoke left
   * unanswered for 10–15 s.
   */
  answerClickWithinMs?: number;
  /**
   * How long `new migration` (the command or the form) may take before it is answered with a "checking" card that the
   * result replaces when the checks are done. Default 1 s (with the roster read before and the answer after, within 2 s).
   */
  answerNewMigrationWithinMs?: number;
  clock: Clock;
  log: Logger;
}

const CHECKING_NOTICE = 'Checking with the on-premises runner before this goes further. This card updates itself when the answer is in; nothing has changed yet.';

const STEP_VERBS: Record<string, Verb> = {
  'step.request': 'request',
  'step.approve': 'approve',
  'step.reject': 'reject',
  'step.retry': 'retry',
  'step.mark-done': 'mark-done',
  'step.done': 'done',
};

const stepData = z.object({
  m: z.string().min(1).max(80),
  s: z.coerce.number().int().min(1).max(10_000),
  v: z.coerce.number().int().min(0),
  a: z.coerce.number().int().min(0).optional(),
  comment: z.string().max(500).optional(),
  confirm: z.string().max(200).optional(),
});

const stepShowData = z.object({ m: z.string().min(1).max(80), s: z.coerce.number().int().min(1).max(10_000) });

const formData = z.object({
  kind: z.string().max(60).optional(),
  name: z.string().max(200).optional(),
  domain: z.string().max(253).optional(),
  ou: z.string().max(2048).optional(),
  owners: z.string().max(4000).optional(),
  ownerChoices: z.string().max(4000).optional(),
  ownersGroup: z.string().max(100).optional(),
  approvals: z.union([z.string().max(10), z.number()]).optional(),
  runner: z.string().max(64).optional(),
});

const runnerData = z.object({ r: z.string().min(1).max(40), v: z.coerce.number().int().min(0).optional() });
const rollbackData = z.object({ m: z.string().min(1).max(80) });

const policyData = z.object({
  m: z.string().min(1).max(80),
  p: z.coerce.number().int().min(1).max(1_000_000),
  v: z.coerce.number().int().min(0),
  comment: z.string().max(500).optional(),
});

const alertData = z.object({ alert: z.string().min(1).max(200), v: z.coerce.number().int().min(0).optional(), hours: z.coerce.number().int().optional() });

const ALERT_VERBS: Record<string, 'ack' | 'snooze' | 'resolve'> = { 'alert.ack': 'ack', 'alert.snooze': 'snooze', 'alert.resolve': 'resolve' };

/** The Bot Framework surface of cutover: commands and card clicks in, cards out. */
export class CutoverBot extends TeamsActivityHandler {
  /** Clicks answered with the "checking" card whose work goes on. */
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
    const log = this.d.log.child({ activityId: a?.id, tenantId: a ? this.#tenant(ctx) : undefined, conversationId: a?.conversation?.id });
    const started = Date.now();
    try {
      await super.run(ctx);
      log.info({ type: a?.type, name: a?.name, verb: (a?.value as any)?.action?.verb, ms: Date.now() - started }, 'turn');
    } catch (err) {
      log.error({ err, type: a?.type, ms: Date.now() - started }, 'turn failed');
      throw err;
    }
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

  /** The Entra tenant a turn comes from: what a channel may see and act on is that tenant's (MSP deployments). */
  #tenant(ctx: TurnContext): string {
    // An activity without a tenant id is refused before it gets here (http.ts): never mapped to a default tenant.
    const t = ctx.activity.conversation?.tenantId ?? (ctx.activity.channelData as any)?.tenant?.id;
    if (typeof t !== 'string' || !t) throw new Error('activity without a tenant id');
    return t;
  }

  /** A migration another tenant's channel names is treated as nonexistent: its name is not confirmed. */
  #visible(ctx: TurnContext, m: Migration | null): Migration | null {
    return m && m.tenantId === this.#tenant(ctx) ? m : null;
  }

  #actor(ctx: TurnContext): { oid: string; name: string } {
    return { oid: (ctx.activity.from?.aadObjectId ?? '').toLowerCase(), name: ctx.activity.from?.name ?? 'someone' };
  }

  async #reply(ctx: TurnContext, card: Card): Promise<string | undefined> {
    const r = await ctx.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(card)));
    return r?.id;
  }

  async #handleMessage(ctx: TurnContext): Promise<void> {
    const text = typeof ctx.activity.text === 'string' ? TurnContext.removeRecipientMention(ctx.activity) ?? ctx.activity.text : '';
    let cmd: Command;
    try {
      cmd = parseCommand(text ?? '');
    } catch (e) {
      if (e instanceof CommandError) {
        await this.#reply(ctx, noticeCard("That command isn't quite right", e.message, { hint: 'Say help for the list of commands.', color: 'Attention' }));
        return;
      }
      throw e;
    }
    const conversationId = ctx.activity.conversation.id;
    switch (cmd.name) {
      case 'help':
        await this.#reply(ctx, this.#helpCard(cmd.unknown ? `I don't know "${cmd.unknown}". Here is what I can do:` : undefined));
        return;
      case 'new-migration-form':
        await this.#reply(ctx, await this.#formCard(ctx, {}));
        return;
      case 'new-migration': {
        const result = async (out: CreationResult) => (out.ok ? noticeCard(`Migration "${out.migration.name}" created`, `${homeText(out.migration)} Migration id: ${out.migration.id}.`, { color: 'Good' }) : noticeCard('Migration not created', out.error, { color: 'Attention' }));
        const out = await this.#createWithinAnswerTime(ctx, { name: cmd.title, kind: cmd.kind, domain: cmd.domain, ous: cmd.ous, owners: cmd.owners, ownersGroup: cmd.ownersGroup, approvals: cmd.approvals, soakDays: cmd.soakDays, windows: cmd.windows, partial: cmd.partial, runner: cmd.runner, path: cmd.path }, {
          late: () => this.#reply(ctx, creatingCard(cmd.title)),
          done: result,
        });
        // Created in its own thread: this thread gets a short answer (a migration created here has its overview here).
        if (out && (!out.ok || out.migration.conversationId !== ctx.activity.conversation.id)) await this.#reply(ctx, await result(out));
        return;
      }
      case 'status':
        await this.#reply(ctx, await this.#statusCard(conversationId, cmd.migration, this.#tenant(ctx)));
        return;
      case 'jobs':
        await this.#reply(ctx, await this.#jobsCard(conversationId, cmd.migration, this.#tenant(ctx)));
        return;
      case 'alerts':
        await this.#reply(ctx, await this.#alertsCard(conversationId, this.#tenant(ctx)));
        return;
      case 'pending':
        await this.#reply(ctx, await this.#pendingCard(ctx));
        return;
      case 'show': {
        const m = this.#visible(ctx, await this.#findHere(cmd.migration, conversationId));
        if (!m) {
          await this.#reply(ctx, noticeCard('No such migration', `There is no migration "${cmd.migration.slice(0, 80)}" in this channel.`, { color: 'Attention' }));
          return;
        }
        const problem = await this.#showProblem(m, cmd.step);
        if (problem) await this.#reply(ctx, noticeCard('Nothing to show', problem, { color: 'Attention' }));
        else await this.d.notifier.repost(conversationId, m.id, cmd.step);
        return;
      }
      case 'runners':
        await this.#reply(ctx, await this.#runnersCard(this.#tenant(ctx)));
        return;
      case 'runner-add':
      case 'runner-rotate':
      case 'runner-revoke':
        await this.#runnerAdmin(ctx, cmd.name, cmd.runner);
        return;
      case 'audit':
        await this.#reply(ctx, await this.#auditCard(conversationId, cmd.migration, this.#tenant(ctx)));
        return;
      case 'cancel': {
        const m = this.#visible(ctx, await this.#findHere(cmd.migration, conversationId));
        if (!m) {
          await this.#reply(ctx, noticeCard('No such migration', `There is no migration "${cmd.migration}" in this conversation.`, { color: 'Attention' }));
          return;
        }
        const r = await this.d.cancellations.cancel(m.id, this.#actor(ctx));
        if (r.cancelled) {
          await this.#reply(ctx, noticeCard(`${m.name} cancelled`, `${r.skipped} open step${r.skipped === 1 ? '' : 's'} will not run, and its cards no longer have buttons. Nothing on the Connect server or in Entra ID was undone: what was done stays done (a rollback undoes a batch).`, { color: 'Good' }));
        } else {
          await this.#reply(ctx, noticeCard(`${m.name} was not cancelled`, r.reason, { color: 'Attention', ...(r.offerRollback ? { buttons: [{ title: 'Roll back every batch', verb: 'migration.rollback', data: { m: m.id } }] } : {}) }));
        }
        return;
      }
      case 'runbook':
        await this.#reply(ctx, this.#runbookCard(cmd.kind));
        return;
      case 'batch-add':
      case 'rollback': {
        const m = this.#visible(ctx, await this.#findHere(cmd.migration, conversationId));
        if (!m) {
          await this.#reply(ctx, noticeCard('No such migration', `There is no migration "${cmd.migration}" in this conversation.`, { color: 'Attention' }));
          return;
        }
        try {
          if (cmd.name === 'batch-add') {
            const clash = await this.d.creation.batchClash(m, cmd.ou);
            if (clash) {
              await this.#reply(ctx, noticeCard('Nothing was changed', clash, { color: 'Attention' }));
              return;
            }
            const { batch } = await this.d.engine.addBatch(m.id, cmd.ou, this.#actor(ctx));
            await this.#reply(ctx, noticeCard(`Batch ${batch} added to ${m.name}`, `${cmd.ou}: its steps are posted below and follow batch ${batch - 1}.`, { color: 'Good' }));
          } else {
            const { steps, ous } = await this.d.engine.startRollback(m.id, cmd.batch, this.#actor(ctx));
            const which = cmd.batch === 'all' ? 'every batch' : `batch ${cmd.batch}`;
            await this.#reply(ctx, noticeCard(`Rollback of ${which} started`, `${ous.join('; ')} go back to Connect Sync. ${steps.length} rollback steps are posted below; the remaining steps of ${which} are skipped. Each change needs approval.`, { color: 'Warning' }));
          }
        } catch (e) {
          if (e instanceof EngineError) await this.#reply(ctx, noticeCard('Nothing was changed', e.message, { color: 'Attention' }));
          else throw e;
        }
        return;
      }
      case 'policy': {
        const m = this.#visible(ctx, await this.#findHere(cmd.migration, conversationId));
        if (!m) {
          await this.#reply(ctx, noticeCard('No such migration', `There is no migration "${cmd.migration}" in this conversation.`, { color: 'Attention' }));
          return;
        }
        if (!this.d.policyChanges) {
          await this.#reply(ctx, noticeCard('Nothing was changed', 'Policy changes are not available in this deployment.', { color: 'Attention' }));
          return;
        }
        try {
          const change = await this.d.policyChanges.request(m.id, cmd.edit, this.#actor(ctx));
          const id = await this.#reply(ctx, await policyChangeCard(this.d.engine, this.d.policyChanges, this.d.people, m, change, { now: this.d.clock.now() }));
          if (id) await this.d.policyChanges.setActivity(m.id, change.id, id);
        } catch (e) {
          if (e instanceof EngineError) await this.#reply(ctx, noticeCard('Nothing was changed', e.message, { color: 'Attention' }));
          else throw e;
        }
        return;
      }
      case 'connect-scope-remove': {
        const { isValidDn } = await import('../dn.js');
        if (!isValidDn(cmd.ou)) {
          await this.#reply(ctx, noticeCard('Nothing was changed', `"${cmd.ou.slice(0, 200)}" is not a valid distinguished name.`, { color: 'Attention' }));
          return;
        }
        const blocker = await this.d.engine.connectScopeRemovalBlocker(cmd.ou, this.#tenant(ctx));
        await this.#reply(
          ctx,
          blocker
            ? noticeCard('Refused: keep the OU in Connect Sync scope', blocker, { color: 'Attention' })
            : noticeCard('No migration holds this OU', `No active migration is moving ${cmd.ou}. Connect Sync's OU filtering is changed in the Connect wizard (Customize synchronization options → Domain and OU filtering); objects leaving scope are deleted from Entra ID at the next cycle.`, { color: 'Warning' }),
        );
        return;
      }
    }
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
      const card = await this.#handleInvoke(ctx, verb, data);
      return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card };
    } catch (e) {
      if (e instanceof EngineError) return cardResponse(noticeCard('Nothing was changed', e.message, { color: 'Attention' }));
      // A dependency failed mid-click (e.g. Graph answering 5xx while the plan is computed): say so on the card
      // instead of leaving the person with Teams' generic "something went wrong".
      this.d.log.error({ err: e, verb, activityId: ctx.activity.id }, 'card action failed');
      const reason = String((e as any)?.message ?? e).slice(0, 300);
      return cardResponse(noticeCard('That did not go through', `cutover could not finish this click: ${reason}`, { hint: 'Refresh the card to see the current state, then try again. The details are in the service log.', color: 'Attention' }));
    }
  }

  /** The click's result, or null when it is not ready within the click's time (see BotDeps.answerClickWithinMs). */
  async #withinClickTime<T>(work: Promise<T>): Promise<T | null> {
    return this.#within(work, this.d.answerClickWithinMs ?? 4_000);
  }

  /** The work's result, or null when it is not ready within `ms` (Teams shows an error past 10–15 s). */
  async #within<T>(work: Promise<T>, ms: number): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A click answered with the "checking" card: when the engine is done, a change reaches the card through the
   * notifier (step-changed); a refusal or an error is written onto the card here, since no event carries it.
   */
  #finishInBackground(acting: Promise<{ changed: boolean; notice?: string }>, m: Migration, step: StepRow): void {
    const say = (notice: string) => this.d.notifier.showStep(m, step.seq, notice);
    const finishing = acting
      .then((r) => (!r.changed && r.notice ? say(r.notice) : undefined))
      .catch(async (err) => {
        this.d.log.error({ err, migrationId: m.id, step: step.seq }, 'card action failed after the click was answered');
        await say(`cutover could not finish this click: ${String(err?.message ?? err).slice(0, 300)} Refresh the card to see the current state, then try again.`);
      })
      .catch((err) => this.d.log.warn({ err, migrationId: m.id, step: step.seq }, 'could not update the card after a slow click'))
      .finally(() => this.#background.delete(finishing));
    this.#background.add(finishing);
  }

  /** Resolves when the clicks answered early have finished (shutdown waits for them, as for turns in flight). */
  async idle(): Promise<void> {
    while (this.#background.size) await Promise.allSettled([...this.#background]);
  }

  async #handleInvoke(ctx: TurnContext, verb: string, data: Record<string, unknown>): Promise<Card> {
    const actor = this.#actor(ctx);
    const now = this.d.clock.now();
    // Own keys only: `"constructor" in STEP_VERBS` is true (Object.prototype), and would reach the engine as a verb.
    if (Object.hasOwn(STEP_VERBS, verb) || verb === 'card.refresh') {
      const p = stepData.safeParse(data);
      if (!p.success) return noticeCard('Nothing was changed', 'This card\'s data is not valid (it may have been altered). Ask for "status" to get current cards.', { color: 'Attention' });
      // One read per click: the step's snapshot (migration, step, progress, decisions, owners, names). The clicker's card
      // and, through the step-changed event, the channel's card are rendered from it or from what the click's transition
      // handed back; nothing is read again.
      const before = await this.d.engine.stepSnapshot(p.data.m, p.data.s, { tenantId: this.#tenant(ctx) });
      const m = before?.migration ?? (await this.d.engine.getMigration(p.data.m)); // no snapshot: which message to give
      // Another tenant's migration reads exactly as an unknown one: a click must not confirm that an id exists.
      if (!m || m.tenantId !== this.#tenant(ctx)) return noticeCard('Nothing was changed', `Migration ${p.data.m} does not exist.`, { color: 'Attention' });
      const commentProblem = textProblem(p.data.comment, 'The comment', { lineBreaks: true });
      if (commentProblem) return noticeCard('Nothing was changed', commentProblem, { color: 'Attention' });
      if (!before) return noticeCard('Nothing was changed', `Step ${p.data.s} does not exist in ${m.name}.`, { color: 'Attention' });
      if (m.conversationId && ctx.activity.conversation?.id && !sameConversation(m.conversationId, ctx.activity.conversation.id)) {
        return noticeCard('Nothing was changed', 'This migration belongs to another conversation.', { color: 'Attention' });
      }
      const view = { viewerOid: actor.oid, links: this.d.links };
      if (verb === 'card.refresh') return stepCard(before, { ...view, now });
      // The card clicked is the step's card in the channel, if none is recorded yet (updates go to it).
      if (ctx.activity.replyToId && !before.step.activityId) await this.d.engine.setStepActivity(m.id, before.step.seq, ctx.activity.replyToId);
      const acting = this.d.engine.act({ verb: STEP_VERBS[verb], migrationId: m.id, seq: p.data.s, version: p.data.v, attempt: p.data.a, actor, comment: p.data.comment?.trim() || undefined, confirmText: p.data.confirm }, { before });
      const result = verb === 'step.request' || verb === 'step.retry' ? await this.#withinClickTime(acting) : await acting;
      if (!result) {
        // Still waiting on the runner: answer now, finish in the background, and update this card when done.
        this.#finishInBackground(acting, m, before.step);
        return stepCard(before, { ...view, now, notice: CHECKING_NOTICE });
      }
      return stepCard(result.snapshot, { ...view, now: this.d.clock.now(), notice: result.notice });
    }
    if ((verb === 'policy.approve' || verb === 'policy.reject' || verb === 'policy.refresh') && this.d.policyChanges) {
      const p = policyData.safeParse(data);
      if (!p.success) return noticeCard('Nothing was changed', "This card's data is not valid (it may have been altered).", { color: 'Attention' });
      const m = await this.d.engine.getMigration(p.data.m);
      if (!m || m.tenantId !== this.#tenant(ctx) || (m.conversationId && ctx.activity.conversation?.id && !sameConversation(m.conversationId, ctx.activity.conversation.id))) {
        return noticeCard('Nothing was changed', 'That migration does not exist here.', { color: 'Attention' });
      }
      let notice: string | undefined;
      const commentProblem = textProblem(p.data.comment, 'The comment', { lineBreaks: true });
      if (commentProblem) return noticeCard('Nothing was changed', commentProblem, { color: 'Attention' });
      if (verb !== 'policy.refresh') {
        const r = await this.d.policyChanges.decide({ migrationId: m.id, changeId: p.data.p, version: p.data.v, verb: verb === 'policy.approve' ? 'approve' : 'reject', actor, comment: p.data.comment?.trim() || undefined });
        notice = r.notice;
        if (r.applied) await this.#refreshOverview(m.id);
      }
      const change = await this.d.policyChanges.get(m.id, p.data.p);
      if (!change) return noticeCard('Nothing was changed', `Policy change ${p.data.p} does not exist.`, { color: 'Attention' });
      if (ctx.activity.replyToId && !change.activityId) await this.d.policyChanges.setActivity(m.id, change.id, ctx.activity.replyToId);
      return policyChangeCard(this.d.engine, this.d.policyChanges, this.d.people, (await this.d.engine.getMigration(m.id))!, change, { now: this.d.clock.now(), notice, viewerOid: actor.oid });
    }
    if (verb === 'migration.refresh') {
      const m = typeof data.m === 'string' ? await this.d.engine.getMigration(data.m) : null;
      if (m && (m.tenantId !== this.#tenant(ctx) || (m.conversationId && ctx.activity.conversation?.id && !sameConversation(m.conversationId, ctx.activity.conversation.id)))) {
        return noticeCard('Nothing was changed', 'This migration belongs to another conversation or Entra tenant.', { color: 'Attention' });
      }
      if (!m) return noticeCard('Nothing was changed', 'That migration does not exist.', { color: 'Attention' });
      return this.d.notifier.overviewOf(m);
    }
    if (verb === 'step.show') {
      // From `pending`: the step's current card, posted below the list (the list stays as it is for the clicker).
      const p = stepShowData.safeParse(data);
      const m = p.success ? this.#visible(ctx, await this.d.engine.getMigration(p.data.m)) : null;
      if (!p.success || !m || (m.conversationId && ctx.activity.conversation?.id && !sameConversation(m.conversationId, ctx.activity.conversation.id))) {
        return noticeCard('Nothing was changed', 'That step does not exist here.', { color: 'Attention' });
      }
      const problem = await this.#showProblem(m, p.data.s);
      if (!problem) await this.d.notifier.repost(ctx.activity.conversation.id, m.id, p.data.s);
      return this.#pendingCard(ctx, problem ?? `The card of ${m.name} step ${p.data.s} is posted below.`);
    }
    if (verb === 'form.new-migration') return this.#formCard(ctx, {});
    if (verb === 'chat.status') return this.#statusCard(ctx.activity.conversation.id, undefined, this.#tenant(ctx));
    if (verb === 'migration.create') {
      const p = formData.safeParse(data);
      if (!p.success) return this.#formCard(ctx, {}, 'The form data is not valid. Please fill it in again.');
      const f = p.data;
      const owners = [...(f.ownerChoices ?? '').split(','), ...(f.owners ?? '').split(',')].map((s) => s.trim()).filter(Boolean);
      const created = (out: CreationResult) => noticeCard(`Migration "${out.ok ? out.migration.name : ''}" created`, out.ok ? `${homeText(out.migration)} Migration id: ${out.migration.id}.` : '', { color: 'Good' });
      const tenantId = this.#tenant(ctx);
      const out = await this.#createWithinAnswerTime(ctx, {
        name: f.name ?? '',
        kind: f.kind || 'connect-to-cloud-sync',
        domain: f.domain ?? '',
        ous: (f.ou ?? '').split(';').map((s) => s.trim()).filter(Boolean),
        owners,
        ownersGroup: f.ownersGroup?.trim() || undefined,
        approvals: f.approvals === undefined || f.approvals === '' ? undefined : Number(f.approvals),
        runner: f.runner?.trim() || undefined,
      }, {
        late: async () => ctx.activity.replyToId, // the form's message: updated with the result
        // Answered later: the form comes back with the reason, as it would have at once.
        done: async (r, roster) => (r.ok ? created(r) : this.#renderForm(tenantId, actor.oid, roster ?? [], f as Record<string, string>, r.error)),
      });
      if (!out) return creatingCard(f.name ?? 'the migration');
      if (!out.ok) return this.#formCard(ctx, f as Record<string, string>, out.error);
      return created(out);
    }
    if (Object.hasOwn(ALERT_VERBS, verb) || verb === 'alert.refresh' || verb === 'alert.restart') {
      const p = alertData.safeParse(data);
      if (!p.success) return noticeCard('Nothing was changed', "This card's data is not valid.", { color: 'Attention' });
      const target = await this.d.alerts.get(p.data.alert);
      if (target && (target.tenantId !== this.#tenant(ctx) || (ctx.activity.conversation?.id && !alertChannels(target).has(channelOf(ctx.activity.conversation.id)) && alertChannels(target).size > 0))) {
        return noticeCard('Nothing was changed', 'This alert belongs to another conversation or Entra tenant.', { color: 'Attention' });
      }
      let notice: string | undefined;
      if (verb === 'alert.restart') {
        if (!target) return noticeCard('Nothing was changed', 'That alert does not exist.', { color: 'Attention' });
        notice = await this.#requestRestart(target, actor);
      } else if (verb !== 'alert.refresh') {
        if (verb === 'alert.snooze' && p.data.hours !== 1 && p.data.hours !== 24) return noticeCard('Nothing was changed', 'Snooze for 1 or 24 hours.', { color: 'Attention' });
        const r = await this.d.alerts.act(p.data.alert, ALERT_VERBS[verb], actor, p.data.v ?? -1, p.data.hours);
        notice = r.notice;
      }
      const alert = await this.d.alerts.get(p.data.alert);
      if (!alert) return noticeCard('Nothing was changed', 'That alert does not exist.', { color: 'Attention' });
      return incidentCard(this.d.engine, alert, { notice, now: this.d.clock.now() });
    }
    if (verb === 'runner.approve' || verb === 'runner.reject' || verb === 'runner.token' || verb === 'runner.refresh') {
      const p = runnerData.safeParse(data);
      if (!p.success) return noticeCard('Nothing was changed', "This card's data is not valid.", { color: 'Attention' });
      const tenantId = this.#tenant(ctx);
      const before = await this.d.registrations.find(p.data.r, tenantId);
      // Another tenant's request reads as an unknown one.
      if (!before || (before.conversationId && ctx.activity.conversation?.id && !sameConversation(before.conversationId, ctx.activity.conversation.id))) {
        return noticeCard('Nothing was changed', 'That runner request does not exist here.', { color: 'Attention' });
      }
      if (ctx.activity.replyToId && !before.activityId) await this.d.registrations.setActivity(before.id, ctx.activity.replyToId);
      if (verb === 'runner.token') {
        // The token goes in this invoke response and nowhere else: only the person who clicked sees it, on their
        // screen. The shared message is not updated now (Teams would replace this card on their screen with it).
        const out = await this.d.registrations.issue({ id: before.id, tenantId, actor });
        if (out.ok) return runnerTokenCard(out.request, out.token, { serverUrl: this.d.publicUrl?.() ?? "<cutover's public URL>" });
        return this.#runnerRequestView(before.id, out.notice);
      }
      let notice: string | undefined;
      if (verb !== 'runner.refresh') notice = (await this.d.registrations.decide({ id: before.id, tenantId, version: p.data.v ?? -1, verb: verb === 'runner.approve' ? 'approve' : 'reject', actor })).notice;
      return this.#runnerRequestView(before.id, notice);
    }
    if (verb === 'migration.rollback') {
      // Offered by a refused `cancel`: roll every batch back (change owners only; each rollback step is approved).
      const p = rollbackData.safeParse(data);
      const m = p.success ? await this.d.engine.getMigration(p.data.m) : null;
      if (!m || m.tenantId !== this.#tenant(ctx) || (m.conversationId && ctx.activity.conversation?.id && !sameConversation(m.conversationId, ctx.activity.conversation.id))) {
        return noticeCard('Nothing was changed', 'That migration does not exist here.', { color: 'Attention' });
      }
      const { steps, ous } = await this.d.engine.startRollback(m.id, 'all', actor);
      return noticeCard('Rollback of every batch started', `${ous.join('; ')} go back to Connect Sync. ${steps.length} rollback steps are posted in the thread; each change needs approval. Cancel ${m.name} once they are done.`, { color: 'Warning' });
    }
    return noticeCard('Nothing was changed', `This button ("${verb.slice(0, 60)}") is not one cutover knows.`, { color: 'Attention' });
  }

  /**
   * Restart from a quarantine alert: an approved change, not a direct action. A change owner of a migration it affects
   * (or a responder) asks; the restart becomes a step of the oldest active migration it affects, asked of that
   * migration's owners like any step (four-eyes, its quorum), posted in its thread. While one is not done, a second
   * click answers with it and changes nothing. Returns what the clicker is told.
   */
  async #requestRestart(a: AlertRecord, actor: { oid: string; name: string }): Promise<string> {
    if (a.state === 'resolved') return 'This alert is already resolved: nothing to restart. Nothing was changed.';
    if (a.action?.kind !== 'restart-job') return 'This alert offers no restart. Nothing was changed.';
    const refused = await this.d.alerts.refusal(a, actor.oid, 'ask for a restart from its alerts');
    if (refused) return refused;
    const current = await restartView(this.d.engine, a);
    if (current && RESTART_OPEN.includes(current.state)) {
      return `A restart is already asked for: step ${current.seq} of ${current.migrationName} (${stateLabel(current.state).toLowerCase()}). Nothing was changed; ${current.state === 'rejected' || current.state === 'failed' || current.state === 'lost' ? 'ask again or retry from its step card' : 'its step card is in the migration\'s thread'}.`;
    }
    const m = await restartMigration(this.d.engine, a);
    if (!m) return 'None of the migrations this alert affects is active: nothing to restart it in. Nothing was changed.';
    try {
      const out = await this.d.engine.addIncidentStep(m.id, 'restart-quarantined-job', { alertId: a.id, jobId: a.action.jobId, resetScope: a.action.resetScope, reason: a.action.reason }, actor);
      const step = out.step;
      if (!out.added) return `A restart is already asked for: step ${step.seq} of ${m.name} (${stateLabel(step.state).toLowerCase()}). Nothing was changed.`;
      if (step.state === 'awaiting_approval') return `Restart requested: step ${step.seq} of ${m.name} waits for the approval of its change owners (its card is in ${m.name}'s thread).`;
      return `The restart was added as step ${step.seq} of ${m.name}, but its approval could not be asked: ${out.notice ?? stateLabel(step.state)}`;
    } catch (e) {
      if (e instanceof EngineError) return e.message;
      throw e;
    }
  }

  async #runnerRequestView(id: string, notice?: string): Promise<Card> {
    const r = (await this.d.registrations.get(id))!;
    return runnerRequestCard(r, { notice, expiresAt: new Date(r.requestedAt.getTime() + this.d.registrations.requestExpiryMs) });
  }

  /** After a policy change: the migration's overview card shows the new policy (best effort). */
  async #refreshOverview(migrationId: string): Promise<void> {
    const m = await this.d.engine.getMigration(migrationId);
    if (!m?.conversationId || !m.overviewActivityId) return;
    try {
      await this.d.notifier.update(m.conversationId, m.overviewActivityId, await this.d.notifier.overviewOf(m));
    } catch (err) {
      this.d.log.warn({ err, migrationId }, 'could not update the overview card');
    }
  }

  // ------------------------------------------------------------------ migrations

  /**
   * What a new migration needs from the turn (who asks, where, the team's roster), read while the turn is alive; then
   * the checks, the creation and the posting of its cards, which need no turn and may finish after the answer.
   */
  async #startCreation(ctx: TurnContext, input: NewMigrationInput): Promise<{ ok: false; error: string } | { ok: true; roster: RosterMember[] | null; finish: () => Promise<CreationResult> }> {
    const actor = this.#actor(ctx);
    if (!actor.oid) return { ok: false, error: 'Your Entra object id is not in this message, so cutover cannot record who started the migration.' };
    // An own key of the catalog only: "kind=constructor" or "kind=__proto__" name Object.prototype's members, not runbooks.
    if (!Object.hasOwn(RUNBOOKS, input.kind)) return { ok: false, error: `Unknown runbook "${input.kind.slice(0, 60)}". Known: ${Object.keys(RUNBOOKS).join(', ')}.` };
    const v = validateNewMigration(input);
    if (!v.ok) return v;
    const tenantId = this.#tenant(ctx);
    const conversation = { id: ctx.activity.conversation.id, type: ctx.activity.conversation.conversationType };
    const roster = await this.#roster(ctx);
    return { ok: true, roster, finish: () => this.#finishCreation({ input, value: v.value, actor, tenantId, conversation, roster }) };
  }

  async #finishCreation(c: { input: NewMigrationInput; value: ReturnType<typeof validateNewMigration> & { ok: true } extends { value: infer V } ? V : never; actor: Person; tenantId: string; conversation: { id: string; type?: string }; roster: RosterMember[] | null }): Promise<CreationResult> {
    const { input, value: v, actor, tenantId, roster } = c;
    // Everything that can be checked is checked before anything is created (the rules are the runbooks room's).
    const checked = await this.d.creation.check({
      tenantId,
      conversationId: c.conversation.id,
      requester: actor,
      kind: v.kind,
      name: v.name,
      domain: v.domain,
      ous: v.ous,
      owners: v.owners,
      ownersGroup: v.ownersGroup,
      approvals: v.approvals,
      runner: input.runner,
      roster: roster ? new Set(roster.map((x) => x.oid)) : null,
    });
    if (!checked.ok) return checked;
    try {
      const m = await this.d.engine.createMigration({
        name: v.name,
        kind: v.kind,
        domain: v.domain,
        tenantId,
        ous: v.ous,
        policy: { ...defaultPolicy(v.owners, v.approvals, this.d.approvalHours), ...(v.ownersGroup ? { ownersGroup: v.ownersGroup } : {}), ...(input.windows?.length ? { changeWindows: input.windows } : {}) },
        requester: actor,
        conversationId: c.conversation.id,
        soakDays: v.soakDays,
        partial: input.partial,
        runner: checked.runnerName,
        ...(input.path ? { options: { path: input.path } } : {}),
      });
      await this.#rememberNames(roster ?? []);
      await this.d.notifier.postMigration(m.id, c.conversation);
      return { ok: true, migration: (await this.d.engine.getMigration(m.id)) ?? m }; // with its home thread
    } catch (e) {
      if (e instanceof EngineError) return { ok: false, error: e.message };
      throw e;
    }
  }

  /**
   * A new migration, answered within the time Teams gives (BotDeps.answerNewMigrationWithinMs): the result if it is in
   * by then; otherwise `late` answers now (a "checking" card) and `done` updates that answer with the result.
   */
  async #createWithinAnswerTime(ctx: TurnContext, input: NewMigrationInput, answer: { late: () => Promise<string | undefined>; done: (r: CreationResult, roster: RosterMember[] | null) => Promise<Card> }): Promise<CreationResult | null> {
    const started = await this.#startCreation(ctx, input);
    if (!started.ok) return started;
    const creating = started.finish();
    const out = await this.#within(creating, this.d.answerNewMigrationWithinMs ?? 1_000);
    if (out) return out;
    const conversationId = ctx.activity.conversation.id;
    const answered = await answer.late();
    const finishing = creating
      .catch((err): CreationResult => {
        this.d.log.error({ err }, 'creating a migration failed after the request was answered');
        return { ok: false, error: `cutover could not finish creating it: ${String(err?.message ?? err).slice(0, 300)}` };
      })
      .then(async (r) => answered && this.d.notifier.update(conversationId, answered, await answer.done(r, started.roster)))
      .catch((err) => this.d.log.warn({ err }, 'could not update the answer to a new migration'))
      .finally(() => this.#background.delete(finishing));
    this.#background.add(finishing);
    return null;
  }

  /** The conversation's members with their object ids (the team's roster, every page), or null when it cannot be read. */
  async #roster(ctx: TurnContext): Promise<{ name: string; oid: string; id: string }[] | null> {
    try {
      const out: { name: string; oid: string; id: string }[] = [];
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

  /** Display names of the team's members, so cards show owners by name (authorization stays on object ids). */
  async #learnNames(ctx: TurnContext): Promise<{ name: string; oid: string }[]> {
    return this.#rememberNames((await this.#roster(ctx)) ?? []);
  }

  async #rememberNames(members: RosterMember[]): Promise<{ name: string; oid: string }[]> {
    try {
      for (const m of members) await this.d.people.remember(m.oid, m.name, m.id);
    } catch {
      /* names are for display only */
    }
    return members.map(({ name, oid }) => ({ name, oid }));
  }

  /**
   * The new-migration form, saying before submit what it can: the tenant's verified domains, its runners, owners other
   * than the requester. A tenant cutover cannot run migrations for gets the reason instead of a form.
   */
  async #formCard(ctx: TurnContext, values: Record<string, string>, error?: string): Promise<Card> {
    return this.#renderForm(this.#tenant(ctx), this.#actor(ctx).oid, await this.#learnNames(ctx), values, error);
  }

  async #renderForm(tenantId: string, me: string, everyone: { name: string; oid: string }[], values: Record<string, string>, error?: string): Promise<Card> {
    const problem = await this.d.creation.tenantProblem(tenantId);
    if (problem) return noticeCard('No migration can be started here', problem, { color: 'Attention' });
    const members = everyone.filter((m) => m.oid !== me);
    const choices = await this.d.creation.formChoices(tenantId);
    return renderCard('new-migration-form', {
      error: error ?? null,
      kinds: Object.values(RUNBOOKS).map((r) => ({ title: r.title, value: r.kind })),
      members,
      domains: (choices.domains ?? []).map((name) => ({ name })),
      runners: choices.runners.map((name) => ({ name })),
      runnerNote: choices.runners.length === 1 ? `Runs on the runner "${choices.runners[0]}" (this tenant's only one).` : null,
      values: {
        kind: values.kind ?? 'connect-to-cloud-sync',
        name: values.name ?? '',
        domain: values.domain ?? choices.domains?.[0] ?? '',
        ou: values.ou ?? '',
        owners: values.owners ?? '',
        ownerChoices: values.ownerChoices ?? '',
        ownersGroup: values.ownersGroup ?? '',
        approvals: values.approvals ?? '1',
        runner: values.runner ?? '',
      },
    });
  }

  /**
   * The migrations of this conversation's channel. In a Teams channel each post is its own conversation
   * (`19:…@thread.tacv2;messageid=<post>`), so `status` said in a new post must still find the migration started in
   * another post of the same channel.
   */
  async #migrationsHere(conversationId: string): Promise<Migration[]> {
    return (await this.d.engine.listMigrations()).filter((m) => !!m.conversationId && sameConversation(m.conversationId, conversationId));
  }

  /** A migration of this channel by id or name (case-insensitive), the newest when names repeat. */
  async #findHere(ref: string, conversationId: string): Promise<Migration | null> {
    const name = ref.toLowerCase();
    return (await this.#migrationsHere(conversationId)).filter((m) => m.id === ref || m.name.toLowerCase() === name).at(-1) ?? null;
  }

  async #resolve(conversationId: string, tenantId: string, ref?: string): Promise<Migration[]> {
    if (ref) {
      const m = await this.#findHere(ref, conversationId);
      return m && m.tenantId === tenantId ? [m] : [];
    }
    return (await this.#migrationsHere(conversationId)).filter((m) => m.tenantId === tenantId);
  }

  async #statusCard(conversationId: string, ref: string | undefined, tenantId: string): Promise<Card> {
    const ms = await this.#resolve(conversationId, tenantId, ref);
    if (ref && !ms.length) return noticeCard('No such migration', `There is no migration "${ref}" in this conversation.`, { hint: 'Say status to list them all.' });
    const migrations = [];
    for (const m of ms) {
      const steps = await this.d.engine.getSteps(m.id);
      const done = steps.filter((s) => s.state === 'succeeded' || s.state === 'skipped').length;
      const current = steps.find((s) => s.state !== 'succeeded' && s.state !== 'skipped');
      const facts = [
        { title: 'Kind', value: runbookOf(m.kind).title },
        { title: 'Current step', value: current ? `${current.seq}. ${this.d.engine.plannedStep(m, current).def.title} — ${stateLabel(current.state)}` : 'none (completed)' },
        ...(await this.d.insight.statusFacts(m).catch((e) => [{ title: 'Counts', value: `unavailable: ${e?.message ?? e}` }])),
      ];
      // `status <migration>`: its batches and every step; `status`: the batches of each.
      migrations.push({ id: m.id, name: m.name, progress: `${done} of ${steps.length} steps done (${m.state})`, facts, batches: batchFacts(this.d.engine, m, steps), steps: ref ? stepLines(this.d.engine, m, steps) : [] });
    }
    // Open incidents first: those affecting any of these migrations, each once (a shared one names them all).
    const now = this.d.clock.now();
    const open = new Map<string, AlertRecord>();
    for (const m of ms) for (const a of await this.d.alerts.list({ migrationId: m.id, openOnly: true })) open.set(a.id, a);
    const alerts = [...open.values()]
      .sort((x, y) => SEVERITY_ORDER[x.severity] - SEVERITY_ORDER[y.severity] || x.openedAt.getTime() - y.openedAt.getTime())
      .map((a) => ({ line: `${alertLine(a, now)} · ${a.migrations.map((x) => x.name).join(', ')}` }));
    return renderCard('status', { alerts, alertsTitle: openAlertsTitle(alerts.length), migrations });
  }

  async #jobsCard(conversationId: string, ref: string | undefined, tenantId: string): Promise<Card> {
    const ms = await this.#resolve(conversationId, tenantId, ref);
    const jobs: (JobView & { style: string })[] = [];
    const errors: string[] = [];
    for (const m of ms) {
      try {
        for (const j of await this.d.insight.jobs(m)) jobs.push({ ...j, style: j.quarantined ? 'attention' : 'default' });
      } catch (e: any) {
        errors.push(`${m.name}: ${e?.message ?? e}`);
      }
    }
    return renderCard('jobs', { jobs, emptyText: errors.length ? `Could not read jobs: ${errors.join('; ')}` : ms.length ? 'No Cloud Sync job is configured yet for these migrations.' : 'No migrations here yet.' });
  }

  async #alertsCard(conversationId: string, tenantId: string): Promise<Card> {
    const alerts = (await this.d.alerts.list({ conversationId, openOnly: true })).filter((a) => a.tenantId === tenantId);
    const now = this.d.clock.now();
    return renderCard('list', {
      title: `Open alerts (${alerts.length})`,
      emptyText: 'No open alerts.',
      items: alerts.map((a) => ({
        heading: `${a.severity === 'critical' ? '🔴' : '🟠'} ${a.title}`,
        facts: [
          { title: a.migrations.length > 1 ? 'Migrations' : 'Migration', value: a.migrations.map((x) => x.name).join(', ') || a.migrationName },
          { title: 'State', value: a.state + (a.snoozedUntil && a.state === 'snoozed' ? ` until ${formatTime(a.snoozedUntil, now)}` : '') },
          { title: 'Age', value: ageInWords(a.openedAt, now) },
          { title: 'Alert id', value: a.id },
          ...(a.ackedBy ? [{ title: 'Acknowledged by', value: a.ackedBy }] : []),
        ],
      })),
    });
  }

  /** Why step `seq` of a migration cannot be shown (null when it can, or when no step is asked for). */
  async #showProblem(m: Migration, seq?: number): Promise<string | null> {
    if (seq === undefined) return null;
    const steps = await this.d.engine.getSteps(m.id);
    return steps.some((s) => s.seq === seq) ? null : `${m.name} has no step ${seq} (its steps are 1 to ${Math.max(0, ...steps.map((s) => s.seq))}).`;
  }

  async #pendingCard(ctx: TurnContext, notice?: string): Promise<Card> {
    const actor = this.#actor(ctx);
    // An owner in several customers' tenants sees, in each tenant, only that tenant's requests.
    const tenantId = this.#tenant(ctx);
    const items = actor.oid ? (await this.d.engine.pendingFor(actor.oid)).filter((i) => i.migration.tenantId === tenantId) : [];
    const changes = actor.oid && this.d.policyChanges ? (await this.d.policyChanges.pendingFor(actor.oid)).filter((i) => i.migration.tenantId === tenantId) : [];
    const now = this.d.clock.now();
    const rows = [
      ...items.map((i) => ({
        at: i.step.requestedAt!.getTime(),
        heading: `${i.migration.name} · step ${i.step.seq}: ${i.def.title}`,
        facts: [
          { title: 'Asked by', value: i.step.requestedBy?.name ?? '—' },
          { title: 'Waiting for', value: ageInWords(i.step.requestedAt!, now) },
          { title: 'Migration id', value: i.migration.id },
        ],
        show: { m: i.migration.id, s: i.step.seq },
      })),
      ...changes.map((i) => ({
        at: i.change.requestedAt.getTime(),
        heading: `${i.migration.name} · approval policy change ${i.change.id}`,
        facts: [
          { title: 'Asked by', value: i.change.requestedBy.name },
          { title: 'Waiting for', value: ageInWords(i.change.requestedAt, now) },
          { title: 'Migration id', value: i.migration.id },
        ],
      })),
    ].sort((a, b) => a.at - b.at);
    return renderCard('list', {
      title: 'Waiting for you',
      notice: notice ?? null,
      emptyText: 'Nothing is waiting for your approval.',
      items: rows.map(({ heading, facts, ...r }) => ({ heading, facts, show: 'show' in r ? r.show : null })),
    });
  }

  async #runnersCard(tenantId: string): Promise<Card> {
    const rs = await this.d.runners.list(tenantId);
    const now = this.d.clock.now();
    return renderCard('list', {
      title: 'Runners',
      emptyText: 'No runners registered. An administrator says "runner add NAME" (a second administrator approves it).',
      items: rs.map((r) => ({
        heading: `${r.health === 'Healthy' ? '🟢' : r.health === 'Down' || r.health === 'Expired' ? '🔴' : '⚪'} ${r.name}`,
        facts: [
          { title: 'Health', value: r.health === 'Expired' ? 'Expired (its token was never used before its deadline and never works: runner add again)' : r.health },
          ...(r.claimBy && !r.claimedAt && r.health !== 'Expired' && r.health !== 'Revoked' ? [{ title: 'First use by', value: `${formatTime(r.claimBy, now)} (not connected yet)` }] : []),
          { title: 'Last seen', value: r.lastSeenAt ? formatTime(r.lastSeenAt, now) : 'never' },
          { title: 'Version', value: r.version ?? '—' },
          { title: 'Executor', value: r.executor ?? '—' },
          { title: 'Tenant', value: r.tenantId },
        ],
      })),
    });
  }

  /**
   * `runner add|rotate|revoke <name>`: administrators only (decided by the runbooks room, not here). Add and rotate
   * post a request card for a second administrator; the token never goes to the channel (see runner.token).
   */
  async #runnerAdmin(ctx: TurnContext, op: 'runner-add' | 'runner-rotate' | 'runner-revoke', name: string): Promise<void> {
    const actor = this.#actor(ctx);
    const tenantId = this.#tenant(ctx);
    try {
      if (op === 'runner-revoke') {
        const r = await this.d.registrations.revoke({ tenantId, name, actor });
        await this.#reply(ctx, r.revoked ? noticeCard(`Runner "${name}" revoked`, r.notice, { color: 'Good' }) : noticeCard('No such runner', r.notice, { color: 'Attention' }));
        return;
      }
      // A second administrator must see the request card: a one-to-one chat with the bot is seen by nobody else.
      if (ctx.activity.conversation.conversationType === 'personal') {
        await this.#reply(ctx, noticeCard('Runner not registered', 'Ask for a runner in a channel or group chat where another administrator can approve it: nobody else sees a request made in this one-to-one chat. Nothing was changed.', { color: 'Attention' }));
        return;
      }
      const req = await this.d.registrations.request({ tenantId, name, kind: op === 'runner-add' ? 'add' : 'rotate', actor, conversationId: ctx.activity.conversation.id });
      const id = await this.#reply(ctx, runnerRequestCard(req, { expiresAt: new Date(req.requestedAt.getTime() + this.d.registrations.requestExpiryMs) }));
      if (id) await this.d.registrations.setActivity(req.id, id);
    } catch (e) {
      if (e instanceof EngineError) await this.#reply(ctx, noticeCard(op === 'runner-revoke' ? 'Runner not revoked' : 'Runner not registered', e.message, { color: 'Attention' }));
      else throw e;
    }
  }

  async #auditCard(conversationId: string, ref: string, tenantId: string): Promise<Card> {
    const found = await this.#findHere(ref, conversationId);
    const m = found && found.tenantId === tenantId ? found : null;
    // `audit runners`: the tenant's runner changes (a migration of that name here comes first).
    const runners = !m && ref.toLowerCase() === 'runners';
    if (!m && !runners) return noticeCard('No such migration', `There is no migration "${ref}" in this conversation.`);
    const rows = m ? await this.d.engine.auditTrail(m.id, 15) : await this.d.registrations.audit(tenantId, 15);
    const now = this.d.clock.now();
    return renderCard('list', {
      title: `Audit · ${m ? m.name : 'runners of this tenant'} (latest ${rows.length})`,
      emptyText: 'No entries.',
      items: rows.map((r) => ({
        heading: `${formatTime(r.at, now)} · ${r.action}${r.stepSeq ? ` · step ${r.stepSeq}` : ''}`,
        facts: [
          { title: 'Who', value: r.actorName ? `${r.actorName} (${r.actorOid})` : 'cutover' },
          { title: 'Hash', value: r.hash.slice(0, 16) },
        ],
      })),
    });
  }

  #runbookCard(kind: string): Card {
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

  #helpCard(notice?: string): Card {
    return renderCard('help', { notice: notice ?? null, commands: COMMANDS });
  }
}

function invokeError(status: number, code: string, message: string): InvokeResponse {
  return { status, body: { statusCode: status, type: 'application/vnd.microsoft.error', value: { code, message } } };
}

function cardResponse(card: Card): AdaptiveCardInvokeResponse {
  return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card };
}

/** Teams thread ids carry ;messageid=…: a migration started in a thread belongs to the whole channel. */
type NewMigrationInput = { name: string; kind: string; domain: string; ous: string[]; owners: string[]; ownersGroup?: string; approvals?: number; soakDays?: number; windows?: ChangeWindow[]; partial?: boolean; runner?: string; path?: string };
type CreationResult = { ok: true; migration: Migration } | { ok: false; error: string };
type RosterMember = { name: string; oid: string; id: string };

/** The answer to a new migration whose checks are still running. */
function creatingCard(name: string): Card {
  return noticeCard(`Creating "${name.slice(0, 120)}"…`, 'Checking the owners, the domain, the OUs and the runner before anything is created. This message is updated with the result.', { color: 'Default' });
}

/** Where a new migration's cards are, in words (its own thread in the channel, or here). */
function homeText(m: Migration): string {
  return m.conversationId?.includes(';messageid=')
    ? `It has its own thread in this channel: its overview lists every step, and each step's card is posted there when the step is next.`
    : `Its overview is posted here, and each step's card when the step is next.`;
}

const SEVERITY_ORDER: Record<AlertRecord['severity'], number> = { critical: 0, warning: 1, info: 2 };

/** The channels an incident is in: where its migrations speak and where its cards are. */
function alertChannels(a: AlertRecord): Set<string> {
  return new Set([...a.migrations.map((m) => m.conversationId), ...a.posts.map((p) => p.conversationId), a.conversationId].filter((c): c is string => !!c).map(channelOf));
}

export function sameConversation(a: string, b: string): boolean {
  return a.split(';')[0] === b.split(';')[0];
}


