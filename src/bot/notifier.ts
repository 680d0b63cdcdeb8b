import { CardFactory, MessageFactory, TurnContext, type CloudAdapter, type ConversationReference } from 'botbuilder';
import PQueue from 'p-queue';
import pRetry, { AbortError } from 'p-retry';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { currentStep, type EngineEvent, type Migration, type RunbookEngine, type StepRow } from '../runbooks/engine.js';
import type { StepSnapshot } from '../runbooks/snapshot.js';
import type { Sql } from '../store/db.js';
import { channelOf, type AlertEvent, type AlertRecord, type AlertService } from '../monitor/alerts.js';
import type { Card } from './cards.js';
import { moreApprovals, overviewCard, policyChangeCard, stepCard, type People, type ReportLinker } from './views.js';
import { requiredQuorum } from '../runbooks/policy.js';
import type { PolicyChangeEvent, PolicyChanges } from '../runbooks/policy-changes.js';
import { incidentCard } from './alert-views.js';
import type { RunnerRegistrations, RunnerRequestEvent } from '../runbooks/runner-registrations.js';
import type { CancelEvent, Cancellations } from '../runbooks/cancel.js';
import { runnerRequestCard } from './runner-views.js';

/** Alerts jump the per-conversation queue of card refreshes. */
const ALERT_PRIORITY = 10;

/** Statuses Teams documents as retryable for bot sends; anything else is final. */
const RETRYABLE = new Set([412, 429, 502, 503, 504]);

/**
 * Every message cutover sends or updates goes through here: one queue per conversation within
 * Teams' per-thread limits (7 sends / s), 429 and 5xx retried with backoff, cards updated in place.
 */
export class Notifier {
  #queues = new Map<string, PQueue>();
  #refs = new Map<string, Partial<ConversationReference>>();
  /** Per conversation, what was last written to the store (serviceUrl, channel, conversation, bot). */
  #written = new Map<string, string>();
  /** Per migration, the posting of its missing step cards in progress (one at a time). */
  #posting = new Map<string, Promise<unknown>>();
  /** Per incident, its delivery in progress: its events are handled one after another, so each channel gets one post. */
  #delivering = new Map<string, Promise<void>>();
  /** Per step card (`<migration>/<seq>`), the newest version of the step this process has rendered it from. */
  #shownVersions = new Map<string, number>();

  constructor(
    private readonly d: {
      adapter: CloudAdapter;
      appId: string;
      db: Sql;
      engine: RunbookEngine;
      alerts?: AlertService;
      policyChanges?: PolicyChanges;
      /** Runner requests: their shared card follows each decision (never the token: that is only an invoke response). */
      registrations?: RunnerRegistrations;
      cancellations?: Cancellations;
      people: People;
      /** Download links on cards (the assessment report). */
      links?: ReportLinker;
      clock: Clock;
      log: Logger;
      retryBaseMs?: number;
      /** Shared cards read-only with per-owner refresh (Teams); off for clients without user-specific views. */
      userSpecificViews?: boolean;
    },
  ) {}

  attach(): void {
    this.d.engine.on((e) => void this.#onEngineEvent(e));
    this.d.alerts?.on((e) => this.#onAlertEvent(e));
    this.d.policyChanges?.on((e) => void this.#onPolicyChangeEvent(e));
    this.d.registrations?.on((e) => void this.#onRunnerRequestEvent(e));
    this.d.cancellations?.on((e) => void this.#onCancelled(e));
  }

  async rememberConversation(ref: Partial<ConversationReference>): Promise<void> {
    const id = ref.conversation?.id;
    if (!id) return;
    const stored = { ...ref, activityId: undefined };
    this.#refs.set(id, stored);
    // Every turn brings the reference (with its sender): it is written when what a proactive send needs changed, not
    // on every click.
    const needed = JSON.stringify([ref.serviceUrl, ref.channelId, ref.conversation, ref.bot]);
    if (this.#written.get(id) === needed) return;
    await this.d.db.query(
      `INSERT INTO conversations (id, reference, updated_at) VALUES ($1,$2,$3)
       ON CONFLICT (id) DO UPDATE SET reference = EXCLUDED.reference, updated_at = EXCLUDED.updated_at`,
      [id, JSON.stringify(stored), this.d.clock.now().toISOString()],
    );
    this.#written.set(id, needed);
  }

  async #ref(conversationId: string): Promise<Partial<ConversationReference> | null> {
    const hit = this.#refs.get(conversationId);
    if (hit) return hit;
    const r = (await this.d.db.query('SELECT reference FROM conversations WHERE id = $1', [conversationId])).rows[0];
    if (r) this.#refs.set(conversationId, r.reference);
    return r?.reference ?? null;
  }

  #queue(conversationId: string): PQueue {
    let q = this.#queues.get(conversationId);
    if (!q) {
      q = new PQueue({ concurrency: 1, intervalCap: 7, interval: 1000 });
      this.#queues.set(conversationId, q);
    }
    return q;
  }

  /** Sends into the conversation (proactively), retrying what Teams says is retryable. */
  async #withConversation<T>(conversationId: string, fn: (ctx: TurnContext) => Promise<T>, priority = 0): Promise<T> {
    const ref = await this.#ref(conversationId);
    if (!ref) throw new Error(`no stored conversation reference for ${conversationId}`);
    return this.#queue(conversationId).add(
      () =>
        pRetry(
          async () => {
            let out!: T;
            try {
              await this.d.adapter.continueConversationAsync(this.d.appId, ref as ConversationReference, async (ctx) => {
                out = await fn(ctx);
              });
            } catch (err: any) {
              const status = err?.statusCode ?? err?.status;
              if (!RETRYABLE.has(status)) throw new AbortError(err);
              throw err;
            }
            return out;
          },
          { retries: 5, minTimeout: this.d.retryBaseMs ?? 500, factor: 2, maxTimeout: 30_000 },
        ),
      { priority },
    ) as Promise<T>;
  }

  /** `priority`: alerts go before queued card refreshes (an incident must not wait behind a burst of step updates). */
  async post(conversationId: string, card: Card, priority = 0): Promise<string | undefined> {
    return this.#withConversation(
      conversationId,
      async (ctx) => (await ctx.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(card))))?.id,
      priority,
    );
  }

  /** `card` may be a function: it is rendered when its turn in the queue comes, so an older state never overwrites a newer one. */
  async update(conversationId: string, activityId: string, card: Card | (() => Promise<Card>), priority = 0): Promise<void> {
    await this.#withConversation(
      conversationId,
      async (ctx) => {
        const body = typeof card === 'function' ? await card() : card;
        await ctx.updateActivity({ type: 'message', id: activityId, attachments: [CardFactory.adaptiveCard(body)] });
      },
      priority,
    );
  }

  /**
   * A new top-level post in the channel of `conversationId` (a thread of its own, as a person starts one), rather than a
   * reply in that conversation. Answers the new thread's conversation (stored for later sends into it) and the post's
   * activity id. Throws where there is no channel (a group or personal chat) or Teams refuses.
   */
  async startThread(conversationId: string, card: Card, priority = 0): Promise<{ conversationId: string; activityId: string }> {
    const ref = await this.#ref(conversationId);
    if (!ref?.serviceUrl) throw new Error(`no stored conversation reference for ${conversationId}`);
    if (ref.conversation?.conversationType && ref.conversation.conversationType !== 'channel')
      throw new Error(`${conversationId} is a ${ref.conversation.conversationType} chat: it has no channel to post in`);
    const channel = conversationId.split(';')[0];
    const tenantId = ref.conversation?.tenantId;
    const created = await this.#queue(channel).add(
      () =>
        pRetry(
          async () => {
            let thread: string | undefined;
            try {
              // Teams: "Create a conversation" with the channel in channelData posts a new thread in that channel.
              await this.d.adapter.createConversationAsync(
                this.d.appId,
                ref.channelId ?? 'msteams',
                ref.serviceUrl!,
                null as unknown as string, // the default audience, as TeamsInfo.sendMessageToTeamsChannel passes
                {
                  isGroup: true,
                  bot: ref.bot as any,
                  tenantId,
                  channelData: { channel: { id: channel }, ...(tenantId ? { tenant: { id: tenantId } } : {}) },
                  activity: MessageFactory.attachment(CardFactory.adaptiveCard(card)) as any,
                } as any,
                async (ctx) => void (thread = ctx.activity.conversation?.id),
              );
            } catch (err: any) {
              if (!RETRYABLE.has(err?.statusCode ?? err?.status)) throw new AbortError(err);
              throw err;
            }
            // Teams names a channel thread "<channel>;messageid=<id of its first post>".
            const activityId = /;messageid=([^;]+)/.exec(thread ?? '')?.[1];
            if (!thread || !activityId) throw new AbortError(`Teams answered the new post without its thread (${thread ?? 'no id'})`);
            return { conversationId: thread, activityId };
          },
          { retries: 5, minTimeout: this.d.retryBaseMs ?? 500, factor: 2, maxTimeout: 30_000 },
        ),
      { priority },
    );
    await this.rememberConversation({ ...ref, conversation: { ...ref.conversation!, id: created.conversationId, isGroup: true, conversationType: 'channel' } });
    return created;
  }

  /**
   * A new migration's cards: its overview as a new top-level post in the channel it was asked for in (the migration's
   * home thread), then the card of its current step in that thread; the others are posted as they become current.
   * Outside a channel (or if Teams refuses the new post) the overview is a reply where the migration was asked for.
   */
  async postMigration(migrationId: string, askedIn: { id: string; type?: string }): Promise<void> {
    const m = (await this.d.engine.getMigration(migrationId))!;
    const overview = await this.overviewOf(m);
    let home: { conversationId: string; activityId: string } | null = null;
    if (askedIn.type === 'channel') {
      try {
        home = await this.startThread(askedIn.id, overview);
      } catch (err) {
        this.d.log.warn({ err, migrationId }, "could not start the migration's own thread; its cards go where it was asked for");
      }
    }
    if (!home) {
      const id = await this.post(askedIn.id, overview);
      if (id) home = { conversationId: askedIn.id, activityId: id };
    }
    if (home) await this.d.engine.setHome(m.id, home.conversationId, home.activityId);
    await this.#postCurrentCards(m.id);
  }

  /**
   * Copies of a migration's cards, posted in `conversationId` (where someone asked for them): the overview and the
   * cards of the steps in play, or one step's card. Their buttons work as the originals' do; the originals in the
   * migration's thread stay the ones kept up to date. Answers how many cards were posted.
   */
  async repost(conversationId: string, migrationId: string, seq?: number): Promise<number> {
    const m = await this.d.engine.getMigration(migrationId);
    if (!m) return 0;
    const steps = await this.d.engine.getSteps(m.id);
    const current = currentStep(steps);
    const shown =
      seq !== undefined
        ? steps.filter((s) => s.seq === seq)
        : steps.filter((s) => s === current || ['awaiting_approval', 'approved', 'running', 'failed', 'lost'].includes(s.state));
    const cards = [...(seq === undefined ? [await this.overviewOf(m)] : [])];
    for (const s of shown) {
      const snapshot = await this.d.engine.stepSnapshot(m.id, s.seq);
      if (snapshot) cards.push(stepCard(snapshot, { now: this.d.clock.now(), userSpecific: this.d.userSpecificViews, links: this.d.links }));
    }
    for (const c of cards) await this.post(conversationId, c);
    return cards.length;
  }

  /** A migration's overview card as it is now: its open incidents first, then its progress and every step. */
  async overviewOf(m: Migration): Promise<Card> {
    const openAlerts = (await this.d.alerts?.list({ migrationId: m.id, openOnly: true })) ?? [];
    return overviewCard(this.d.engine, m, this.d.people, { openAlerts, now: this.d.clock.now() });
  }

  /**
   * Posts the cards a migration's thread lacks: its current step (the first not done) and every step that has left
   * `pending` (asked, running, failed…). One migration at a time, so two events never post the same card twice.
   */
  #postCurrentCards(migrationId: string): Promise<Set<number>> {
    const prev = this.#posting.get(migrationId) ?? Promise.resolve();
    const next = prev.then(async () => {
      const posted = new Set<number>();
      const m = await this.d.engine.getMigration(migrationId);
      if (!m?.conversationId || m.state === 'cancelled') return posted;
      const steps = await this.d.engine.getSteps(m.id);
      const current = currentStep(steps);
      const reached = current ? steps.indexOf(current) : steps.length;
      for (const [i, s] of steps.entries()) {
        if (s.activityId || s.state === 'skipped') continue;
        // Every step up to the current one has its card, also one done before the queue reached it (the thread keeps
        // its history); a later step only once it has left pending.
        if (i > reached && s.state === 'pending') continue;
        const card = stepCard((await this.d.engine.stepSnapshot(m.id, s.seq))!, {
          now: this.d.clock.now(),
          userSpecific: this.d.userSpecificViews,
          links: this.d.links,
        });
        const id = await this.post(m.conversationId, card);
        if (id) await this.d.engine.setStepActivity(m.id, s.seq, id);
        posted.add(s.seq);
      }
      return posted;
    });
    const settled = next.then(() => undefined).catch((err) => this.d.log.warn({ err, migrationId }, 'could not post the current step card'));
    this.#posting.set(migrationId, settled);
    void settled.then(() => this.#posting.get(migrationId) === settled && this.#posting.delete(migrationId));
    return next;
  }

  /**
   * A step's card in the channel, for everyone: updated in place (posted if it has none yet), with a notice if given.
   * `snapshot`: the step as a click's transition left it (rendered as is, unless this card already shows a newer version).
   * Returns the step as read (null when there is none, or no thread to show it in).
   */
  async showStep(m: Migration, seq: number, notice?: string, snapshot?: StepSnapshot): Promise<StepRow | null> {
    const step = snapshot?.step ?? (await this.d.engine.getStep(m.id, seq));
    if (!step || !m.conversationId) return null;
    let activityId = step.activityId;
    if (!activityId) {
      // Not posted yet: posted now if it is current (rendered as it is then, so only a notice needs an update after).
      const postedNow = await this.#postCurrentCards(m.id);
      activityId = (await this.d.engine.getStep(m.id, seq))?.activityId ?? null;
      if (!activityId || (postedNow.has(seq) && !notice)) return step;
    }
    // Rendered when its turn in the queue comes: the card shows the step as it is when sent, never an older state.
    await this.update(m.conversationId, activityId, async () =>
      stepCard(await this.#newest(m.id, seq, snapshot), { now: this.d.clock.now(), notice, userSpecific: this.d.userSpecificViews, links: this.d.links }),
    );
    return step;
  }

  /**
   * What a step's card is rendered from: the snapshot a click handed over, unless this process already sent the card a
   * newer version of the step (two events' updates can reach the queue in either order); else the step read now.
   */
  async #newest(migrationId: string, seq: number, snapshot?: StepSnapshot): Promise<StepSnapshot> {
    const key = `${migrationId}/${seq}`;
    const shown = this.#shownVersions.get(key) ?? -1;
    const s = snapshot && snapshot.step.version >= shown ? snapshot : await this.d.engine.stepSnapshot(migrationId, seq);
    if (!s) throw new Error(`step ${seq} of ${migrationId} does not exist`);
    if (s.step.version > shown) this.#shownVersions.set(key, s.step.version);
    return s;
  }

  /** Keeps each step's card (and the overview) in step with the engine, for everyone in the channel. */
  async #onEngineEvent(e: EngineEvent): Promise<void> {
    try {
      // A click's change comes with the step as it left it (its migration too): its card is rendered from that.
      const snapshot = e.type === 'step-changed' ? e.snapshot : undefined;
      const m = snapshot?.migration ?? (await this.d.engine.getMigration(e.migrationId));
      if (!m?.conversationId) return;
      if (e.type === 'step-changed') {
        const step = await this.showStep(m, e.seq, undefined, snapshot);
        // A step an incident added (a restart): the incident's card tells how it goes.
        const alertId = step?.params?.alertId;
        if (typeof alertId === 'string') this.#onAlertEvent({ type: 'updated', alertId });
        // A change that left the step's state as it was (an approval short of quorum) changes no other card.
        if (snapshot && e.previousState === snapshot.step.state) return;
        await this.#postCurrentCards(m.id); // the next step became current
        if (m.overviewActivityId) await this.update(m.conversationId, m.overviewActivityId, await this.overviewOf((await this.d.engine.getMigration(m.id))!));
      } else if (e.type === 'approval-reminder' || e.type === 'approval-reasked' || e.type === 'approval-requested') {
        const step = (await this.d.engine.getStep(m.id, e.seq))!;
        const def = this.d.engine.plannedStep(m, step).def;
        // Listed owners and the owners group's members (read through Graph, cached); the listed ones if Graph is down.
        const view = await this.d.engine.ownerView(m);
        const graphNames = new Map((view.group?.members ?? []).map((x) => [x.id, x.displayName ?? undefined]));
        const owners = [...view.owners].filter((o) => !(m.policy.fourEyes && o === step.requestedBy?.oid.toLowerCase()));
        const requested =
          e.type === 'approval-requested'
            ? `${e.reason === 'voided' ? `The approval of step ${e.seq} of ${m.name} (${def.title}) is void (what it would do changed): it waits for approval again` : `${step.requestedBy?.name ?? 'Someone'} asks approval for step ${e.seq} of ${m.name} (${def.title})`}: ${moreApprovals(requiredQuorum(m.policy, def.approval))} from these change owners, on the step's card.`
            : null;
        const text =
          requested ??
          (e.type === 'approval-reasked'
            ? `The approval policy of ${m.name} changed (policy change ${e.policyChangeId}): step ${e.seq} (${def.title}) still waits for approval: ${moreApprovals(e.stillNeeded)} from these owners.`
            : `${e.type === 'approval-reminder' && e.escalate ? 'Escalation' : 'Reminder'}: step ${e.seq} of ${m.name} (${def.title}) is waiting for approval since ${step.requestedAt?.toISOString()}.`);
        await this.#mentionOwners(m.conversationId, owners, text, graphNames);
      }
    } catch (err) {
      this.d.log.warn({ err, event: e }, 'could not update the card in Teams');
    }
  }

  async #mentionOwners(
    conversationId: string,
    oids: string[],
    text: string,
    graphNames: Map<string, string | undefined> = new Map(),
    priority = 0,
  ): Promise<void> {
    await this.#withConversation(
      conversationId,
      async (ctx) => {
        const entities: any[] = [];
        const names: string[] = [];
        for (const oid of oids) {
          const name = (await this.d.people.nameOf(oid)) ?? graphNames.get(oid) ?? oid;
          names.push(`<at>${escapeXml(name)}</at>`);
          entities.push({ type: 'mention', text: `<at>${escapeXml(name)}</at>`, mentioned: { id: oid, name } });
        }
        await ctx.sendActivity({ type: 'message', text: `${names.join(' ')} ${escapeXml(text)}`, entities });
      },
      priority,
    );
  }

  /** A policy change that expired: its card loses the Approve/Reject buttons and says so. */
  async #onPolicyChangeEvent(e: PolicyChangeEvent): Promise<void> {
    try {
      const m = await this.d.engine.getMigration(e.migrationId);
      const c = await this.d.policyChanges!.get(e.migrationId, e.changeId);
      if (!m?.conversationId || !c?.activityId) return;
      await this.update(
        m.conversationId,
        c.activityId,
        await policyChangeCard(this.d.engine, this.d.policyChanges!, this.d.people, m, c, { now: this.d.clock.now() }),
      );
    } catch (err) {
      this.d.log.warn({ err, event: e }, 'could not update the policy change card in Teams');
    }
  }

  /** A runner request was decided or expired: its card in the channel follows, for everyone. */
  async #onRunnerRequestEvent(e: RunnerRequestEvent): Promise<void> {
    try {
      const r = await this.d.registrations!.get(e.id);
      if (!r?.conversationId || !r.activityId) return;
      await this.update(
        r.conversationId,
        r.activityId,
        runnerRequestCard(r, { expiresAt: new Date(r.requestedAt.getTime() + this.d.registrations!.requestExpiryMs) }),
      );
    } catch (err) {
      this.d.log.warn({ err, request: e.id }, 'could not update the runner request card in Teams');
    }
  }

  /** A cancelled migration: its overview, every card of a step it skipped and its expired policy changes lose their buttons. */
  async #onCancelled(e: CancelEvent): Promise<void> {
    try {
      const m = await this.d.engine.getMigration(e.migrationId);
      if (!m?.conversationId) return;
      if (m.overviewActivityId) await this.update(m.conversationId, m.overviewActivityId, await this.overviewOf(m));
      for (const seq of e.seqs) if ((await this.d.engine.getStep(m.id, seq))?.activityId) await this.showStep(m, seq); // no new posts for a cancellation
      for (const id of e.policyChanges) {
        const c = await this.d.policyChanges?.get(m.id, id);
        if (c?.activityId)
          await this.update(
            m.conversationId,
            c.activityId,
            await policyChangeCard(this.d.engine, this.d.policyChanges!, this.d.people, m, c, { now: this.d.clock.now() }),
          );
      }
    } catch (err) {
      this.d.log.warn({ err, migrationId: e.migrationId }, 'could not update the cards of a cancelled migration');
    }
  }

  /** Alerts: one card per incident and channel, updated in place; a new post only for a new incident. */
  #onAlertEvent(e: AlertEvent): void {
    const prev = this.#delivering.get(e.alertId) ?? Promise.resolve();
    const next = prev.then(() => this.#deliverAlert(e)).catch((err) => this.d.log.warn({ err, alert: e.alertId }, 'could not deliver the alert to Teams'));
    this.#delivering.set(e.alertId, next);
    void next.then(() => this.#delivering.get(e.alertId) === next && this.#delivering.delete(e.alertId));
  }

  async #deliverAlert(e: AlertEvent): Promise<void> {
    const alerts = this.d.alerts!;
    const a = await alerts.get(e.alertId);
    if (!a) return;
    // Rendered from the incident as it is when sent: two quick events (acknowledged, then resolved) can finish in either order.
    const render = async () => incidentCard(this.d.engine, (await alerts.get(a.id)) ?? a, { now: this.d.clock.now() });
    // One card per channel its migrations speak in (normally one: they share the channel).
    const channels = new Map<string, string>();
    for (const m of a.migrations)
      if (m.conversationId && !channels.has(channelOf(m.conversationId))) channels.set(channelOf(m.conversationId), m.conversationId);
    for (const [channel, conversationId] of channels) {
      try {
        const post = a.posts.find((p) => p.channel === channel);
        if (post) {
          await this.update(post.conversationId, post.activityId, render, ALERT_PRIORITY);
          if (e.type === 'resolved') {
            const how = a.resolvedBy ? `, by ${a.resolvedBy}` : ': the condition cleared';
            await this.#withConversation(
              post.conversationId,
              async (ctx) => void (await ctx.sendActivity(`Resolved: ${a.title} (${a.migrations.map((m) => m.name).join(', ')})${how}.`)),
              ALERT_PRIORITY,
            );
          }
          continue;
        }
        const posted = await this.#postIncident(conversationId, await render());
        await alerts.setPost(a.id, { channel, ...posted });
        if (a.state !== 'resolved') await this.#mentionIncidentOwners(a, channel, posted.conversationId);
      } catch (err) {
        // The channel may be gone (bot removed): the alert stays open in the store and `alerts` still lists it.
        this.d.log.warn({ err, alert: a.id, channel }, 'could not post the alert to Teams');
        await alerts.recordDeliveryFailure(a.id, String((err as any)?.message ?? err));
      }
    }
    // Each affected migration's overview starts with its open incidents.
    for (const x of a.migrations) {
      const m = await this.d.engine.getMigration(x.id);
      if (m?.conversationId && m.overviewActivityId)
        await this.update(m.conversationId, m.overviewActivityId, async () => this.overviewOf((await this.d.engine.getMigration(m.id)) ?? m)).catch((err) =>
          this.d.log.warn({ err, migrationId: m.id }, 'could not update the overview card'),
        );
    }
  }

  /**
   * A new incident is a new top-level post in the channel (a thread of its own, not a reply in an old one); where there
   * is no channel (a group or personal chat), or Teams refuses the new post, a reply where the migration speaks.
   */
  async #postIncident(conversationId: string, card: Card): Promise<{ conversationId: string; activityId: string }> {
    try {
      return await this.startThread(conversationId, card, ALERT_PRIORITY);
    } catch (err) {
      this.d.log.info({ err: String((err as any)?.message ?? err), conversationId }, 'alert posted as a reply: no new post in a channel here');
    }
    const id = await this.post(conversationId, card, ALERT_PRIORITY);
    if (!id) throw new Error('Teams answered the alert card without its id');
    return { conversationId, activityId: id };
  }

  /** In the incident's thread, right after its card: the change owners of every affected migration of this channel, mentioned. */
  async #mentionIncidentOwners(a: AlertRecord, channel: string, thread: string): Promise<void> {
    const here = a.migrations.filter((m) => m.conversationId && channelOf(m.conversationId) === channel);
    const oids: string[] = [];
    const graphNames = new Map<string, string | undefined>();
    for (const x of here) {
      const m = await this.d.engine.getMigration(x.id);
      if (!m) continue;
      // Listed owners and the owners group's members (read through Graph, cached); the listed ones if Graph is down.
      const view = await this.d.engine.ownerView(m);
      for (const g of view.group?.members ?? []) graphNames.set(g.id.toLowerCase(), g.displayName ?? undefined);
      for (const o of view.owners) if (!oids.includes(o)) oids.push(o);
    }
    if (!oids.length) return;
    const sev = a.severity === 'critical' ? 'critical' : a.severity === 'warning' ? 'warning' : 'info';
    const restart = a.action?.kind === 'restart-job' ? ', or ask for its restart (the change owners approve it)' : '';
    const text = `A new ${sev} alert affects ${here.map((m) => m.name).join(', ')}: ${a.title}. One of you: acknowledge, snooze or resolve it on the card above${restart}.`;
    await this.#mentionOwners(thread, oids, text, graphNames, ALERT_PRIORITY);
  }
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
