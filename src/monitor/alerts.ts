import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db, Sql } from '../store/db.js';
import { appendAudit, type AuditEntry } from '../runbooks/audit.js';
import { ReportStore } from './reports.js';

/**
 * Alert lifecycle: open → acknowledged | snoozed(until) → resolved. One row per incident, keyed (tenant, subject,
 * check, scope): what several migrations share (a Cloud Sync job, a runner, a configuration's agents) is one incident
 * listing every migration it affects; a migration's own checks are incidents of that migration alone.
 */

export type AlertState = 'open' | 'acknowledged' | 'snoozed' | 'resolved';
export type Severity = 'critical' | 'warning' | 'info';

/** What the card offers to do about the incident beyond acknowledge, snooze and resolve. */
export type RemedyAction = {
  /** Restart a quarantined Cloud Sync job with the reset scope its quarantine reason needs (an approved step). */
  kind: 'restart-job';
  jobId: string;
  resetScope: string;
  /** The quarantine reason the reset scope was chosen for. */
  reason: string;
};

export interface AlertContent {
  severity: Severity;
  title: string;
  summary: string;
  remedy?: string;
  facts: { title: string; value: string }[];
  objects?: AlertObjects;
  action?: RemedyAction;
}

/** What the card lists: one list (title + lines), and/or several sections; `report` when a full report is stored. */
export interface AlertObjects {
  title: string;
  lines: string[];
  sections?: { title: string; total: number; lines: string[] }[];
  /** A full report (CSV) is stored for this alert: rows in it. */
  report?: { rows: number };
}

/** A migration an incident affects. */
export interface AffectedMigration {
  id: string;
  name: string;
  /** Where that migration's alerts are posted (its conversation), if anywhere. */
  conversationId: string | null;
  /** When the incident was first seen for it. */
  since: Date;
  /** The condition no longer holds for it (the incident stays open while it holds for another). */
  clearedAt: Date | null;
}

/** The incident's card in one channel of Teams (a thread of its own, or a reply where there is no channel). */
export interface AlertPost {
  /** The channel (a conversation id without its `;messageid=` part). */
  channel: string;
  /** Where the card is: the incident's own thread (or the conversation it was replied in). */
  conversationId: string;
  activityId: string;
}

/** One line of an incident's history, for its card. Times are ISO text. */
export interface AlertHistoryEntry {
  at: string;
  event: 'opened' | 'joined' | 'acknowledged' | 'snoozed' | 'woke' | 'resolved' | 'left';
  /** Who did it (a display name); absent: cutover itself. */
  by?: string;
  /** A snooze's end. */
  until?: string;
  /** The migration it concerns (joined, left). */
  migration?: string;
  /** Why, when the event does not say it (a cancelled migration). */
  note?: string;
}

export interface AlertRecord extends AlertContent {
  id: string;
  /** The migration the incident was first seen for (the first of `migrations`). */
  migrationId: string;
  migrationName: string;
  tenantId: string;
  /** What the incident is about: 'migration:<id>', or what migrations share ('job:<id>', 'runner:<name>', 'configuration:<domain>'). */
  subject: string;
  check: string;
  scope: string;
  state: AlertState;
  openedAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
  /** Who resolved it by hand; null when it resolved itself (or is not resolved). */
  resolvedBy: string | null;
  ackedBy: string | null;
  snoozedUntil: Date | null;
  /** Every migration it affects, in the order they were found affected. */
  migrations: AffectedMigration[];
  /** Its cards, one per channel its migrations live in. */
  posts: AlertPost[];
  /** The card in the first channel (the first of `posts`), or null before it is posted. */
  activityId: string | null;
  /** Where the card in the first channel is, or will be posted. */
  conversationId: string | null;
  deliveryError: string | null;
  history: AlertHistoryEntry[];
  version: number;
  /** Link to the full report when one is stored (see ReportLinks); absent otherwise. */
  reportUrl?: string | null;
}

export type AlertEvent = { type: 'opened' | 'updated' | 'resolved' | 'acted'; alertId: string };

export type AlertVerb = 'ack' | 'snooze' | 'resolve';

/** The key of a condition seen for one migration. */
export interface AlertKey {
  /** The migration the condition holds for now. */
  migrationId: string;
  tenantId: string;
  /** Where that migration's alerts go. */
  conversationId: string | null;
  check: string;
  scope: string;
  /**
   * What migrations share, when the condition is about it (a Cloud Sync job: 'job:<id>'; a runner: 'runner:<name>';
   * a configuration's agents: 'configuration:<domain>'): one incident for all of them. Absent: the migration's own.
   */
  subject?: string;
}

/** Who may acknowledge, snooze, resolve or restart from an alert: null when this person may, else the reason they may not. */
export interface AlertResponders {
  refuse(alert: AlertRecord, actorOid: string, doing?: string): Promise<string | null>;
}

/** "Pilot", "Pilot or Sales", "Pilot, Sales or Finance". */
function eitherOf(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/**
 * The rule (issue 15): a change owner of any migration the incident affects (listed, or a member of its owners group),
 * or a member of a configured responders group (CUTOVER_RESPONDERS_GROUP). Nobody else. Fail closed: a group that
 * cannot be read admits nobody through it (the reason says so).
 */
export function alertResponders(p: {
  /** Is this person a change owner of the migration now (false when its owners group cannot be read)? */
  isOwner(migrationId: string, oid: string): Promise<boolean>;
  /** The responders group, when one is configured: is this person a member (throws when it cannot be read)? */
  responders?: { groupId: string; isMember(tenantId: string, oid: string): Promise<boolean> };
}): AlertResponders {
  return {
    async refuse(a, oid, doing = 'acknowledge, snooze or resolve its alerts') {
      if (!oid) return 'Your Entra object id is not in the request, so cutover cannot tell whether you may act on this alert. Nothing was changed.';
      const migrations = a.migrations.length ? a.migrations : [{ id: a.migrationId, name: a.migrationName }];
      for (const m of migrations) if (await p.isOwner(m.id, oid)) return null;
      let unreadable = '';
      if (p.responders) {
        try {
          if (await p.responders.isMember(a.tenantId, oid)) return null;
        } catch (err: any) {
          unreadable = ` (the responders group ${p.responders.groupId} cannot be read from Microsoft Graph now: ${String(err?.message ?? err).slice(0, 150)})`;
        }
      }
      return `Only the change owners of ${eitherOf(migrations.map((m) => m.name))}${p.responders ? ' and the members of the responders group' : ''} can ${doing}${unreadable}. Nothing was changed.`;
    },
  };
}

/** The channel of a conversation: a Teams channel thread is `<channel>;messageid=<post>`. */
export function channelOf(conversationId: string): string {
  return conversationId.split(';')[0];
}

export class AlertService {
  #listeners: ((e: AlertEvent) => void)[] = [];
  #reportLink: ((alertId: string, now: Date) => string) | null = null;
  /** Full reports behind alerts (reconciliation), kept in the store with the alerts. */
  readonly reports: ReportStore;
  #responders: AlertResponders | null;
  constructor(private readonly d: { db: Db; clock: Clock; responders?: AlertResponders }) {
    this.reports = new ReportStore(d.db, d.clock);
    this.#responders = d.responders ?? null;
  }

  /** Who may act on alerts (the composition root sets it once the engine exists). Unset: nobody may (fail closed). */
  setResponders(r: AlertResponders): void {
    this.#responders = r;
  }

  /** How to link an alert's stored full report (set by the report routes, which serve it). */
  setReportLinker(fn: ((alertId: string, now: Date) => string) | null): void {
    this.#reportLink = fn;
  }

  #withLink(a: AlertRecord): AlertRecord {
    if (a.objects?.report && this.#reportLink) a.reportUrl = this.#reportLink(a.id, this.d.clock.now());
    return a;
  }

  on(l: (e: AlertEvent) => void): void {
    this.#listeners.push(l);
  }
  #emit(e: AlertEvent): void {
    for (const l of this.#listeners) l(e);
  }

  /**
   * Records that a condition holds now for a migration. Opens a new incident (and card) only when none is unresolved
   * for the same key; otherwise updates the open one in place when its content changed, and adds the migration to the
   * ones it affects when it is new to it.
   */
  async raise(key: AlertKey, content: AlertContent): Promise<{ alertId: string; opened: boolean }> {
    const { result, events } = await this.#raise(key, content);
    for (const e of events) this.#emit(e);
    return result;
  }

  /**
   * Raises and resolves whose events wait for flush(): the monitor records one phase of a cycle (every migration sharing a
   * job raising its incident) before the cards go out, so a shared incident is posted once, already naming all of them.
   */
  deferred(): { raise: AlertService['raise']; resolveExcept: AlertService['resolveExcept']; flush(): void } {
    const pending: AlertEvent[] = [];
    return {
      raise: async (key, content) => {
        const { result, events } = await this.#raise(key, content);
        pending.push(...events);
        return result;
      },
      resolveExcept: async (migrationId, check, scopes) => {
        const { resolved, events } = await this.#resolveExcept(migrationId, check, scopes);
        pending.push(...events);
        return resolved;
      },
      flush: () => {
        const events = pending.splice(0);
        // One event per incident and kind; an 'updated' says nothing an 'opened' of the same incident does not.
        const seen = new Set<string>();
        for (const e of events) {
          const key = `${e.alertId}|${e.type}`;
          if (seen.has(key) || (e.type === 'updated' && events.some((x) => x.alertId === e.alertId && x.type === 'opened'))) continue;
          seen.add(key);
          this.#emit(e);
        }
      },
    };
  }

  async #raise(key: AlertKey, content: AlertContent): Promise<{ result: { alertId: string; opened: boolean }; events: AlertEvent[] }> {
    const now = this.d.clock.now();
    const subject = key.subject ?? `migration:${key.migrationId}`;
    const res = await this.d.db.transaction(async (tx) => {
      const find = async () =>
        (
          await tx.query("SELECT * FROM alerts WHERE tenant_id = $1 AND subject = $2 AND check_key = $3 AND scope = $4 AND state <> 'resolved' FOR UPDATE", [
            key.tenantId,
            subject,
            key.check,
            key.scope,
          ])
        ).rows[0];
      let cur = await find();
      if (!cur) {
        const incidents = Number(
          (
            await tx.query('SELECT count(*)::int AS n FROM alerts WHERE tenant_id = $1 AND subject = $2 AND check_key = $3 AND scope = $4', [
              key.tenantId,
              subject,
              key.check,
              key.scope,
            ])
          ).rows[0].n,
        );
        // A migration's own incidents keep the ids they always had; a shared subject's id names the subject.
        const seed = key.subject ? `${key.tenantId}|${subject}|${key.check}|${key.scope}` : `${key.migrationId}|${key.check}|${key.scope}`;
        const id = `al-${createHash('sha256').update(seed).digest('hex').slice(0, 10)}-${incidents + 1}`;
        const opened: AlertHistoryEntry = { at: now.toISOString(), event: 'opened' };
        // Two migrations sharing the subject can find it missing at once (another process, or PostgreSQL's
        // concurrency): the second insert yields, and joins the incident the first one opened.
        const inserted = await tx.query(
          `INSERT INTO alerts (id, migration_id, tenant_id, subject, check_key, scope, severity, title, summary, remedy, facts, objects, remedy_action, state, opened_at, last_seen_at, conversation_id, history)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,'open',$14,$14,$15,$16) ON CONFLICT DO NOTHING RETURNING id`,
          [
            id,
            key.migrationId,
            key.tenantId,
            subject,
            key.check,
            key.scope,
            content.severity,
            content.title,
            content.summary,
            content.remedy ?? null,
            JSON.stringify(content.facts),
            JSON.stringify(content.objects ?? null),
            content.action ? JSON.stringify(content.action) : null,
            now.toISOString(),
            key.conversationId,
            JSON.stringify([opened]),
          ],
        );
        if (inserted.rows.length) {
          await tx.query('INSERT INTO alert_migrations (alert_id, migration_id, conversation_id, added_at) VALUES ($1,$2,$3,$4)', [
            id,
            key.migrationId,
            key.conversationId,
            now.toISOString(),
          ]);
          await auditEach(tx, [key.migrationId], {
            at: now,
            actor: null,
            action: 'alert-opened',
            details: { alertId: id, check: key.check, scope: key.scope, subject, severity: content.severity, title: content.title },
          });
          return { alertId: id, opened: true, changed: true };
        }
        cur = await find();
        if (!cur) throw new Error(`alert ${id} could not be opened (a conflicting row exists)`);
      }
      // jsonb does not keep key order: compare canonical forms, or every cycle would look like a change.
      const changed =
        cur.title !== content.title ||
        cur.summary !== content.summary ||
        cur.severity !== content.severity ||
        (cur.remedy ?? null) !== (content.remedy ?? null) ||
        canonical(cur.facts) !== canonical(content.facts) ||
        canonical(cur.objects) !== canonical(content.objects ?? null) ||
        canonical(cur.remedy_action) !== canonical(content.action ?? null);
      const link = (await tx.query('SELECT * FROM alert_migrations WHERE alert_id = $1 AND migration_id = $2', [cur.id, key.migrationId])).rows[0];
      let joined = false;
      if (!link) {
        joined = true;
        await tx.query('INSERT INTO alert_migrations (alert_id, migration_id, conversation_id, added_at) VALUES ($1,$2,$3,$4)', [
          cur.id,
          key.migrationId,
          key.conversationId,
          now.toISOString(),
        ]);
        const name = (await tx.query('SELECT name FROM migrations WHERE id = $1', [key.migrationId])).rows[0]?.name ?? key.migrationId;
        await tx.query('UPDATE alerts SET history = history || $2::jsonb WHERE id = $1', [
          cur.id,
          JSON.stringify([{ at: now.toISOString(), event: 'joined', migration: name } satisfies AlertHistoryEntry]),
        ]);
        // Each affected migration's audit holds the incident: `audit <migration>` finds it whichever it is.
        await auditEach(tx, [key.migrationId], {
          at: now,
          actor: null,
          action: 'alert-opened',
          details: { alertId: cur.id, check: key.check, scope: key.scope, subject, severity: content.severity, title: content.title, joined: true },
        });
      } else if (link.cleared_at || (link.conversation_id ?? null) !== (key.conversationId ?? null)) {
        await tx.query('UPDATE alert_migrations SET cleared_at = NULL, conversation_id = $3 WHERE alert_id = $1 AND migration_id = $2', [
          cur.id,
          key.migrationId,
          key.conversationId,
        ]);
      }
      await tx.query(
        `UPDATE alerts SET last_seen_at = $2, severity = $3, title = $4, summary = $5, remedy = $6, facts = $7, objects = $8, remedy_action = $9, version = version + $10 WHERE id = $1`,
        [
          cur.id,
          now.toISOString(),
          content.severity,
          content.title,
          content.summary,
          content.remedy ?? null,
          JSON.stringify(content.facts),
          JSON.stringify(content.objects ?? null),
          content.action ? JSON.stringify(content.action) : null,
          changed || joined ? 1 : 0,
        ],
      );
      return { alertId: cur.id as string, opened: false, changed: changed || joined };
    });
    const events: AlertEvent[] = res.opened ? [{ type: 'opened', alertId: res.alertId }] : res.changed ? [{ type: 'updated', alertId: res.alertId }] : [];
    return { result: { alertId: res.alertId, opened: res.opened }, events };
  }

  /**
   * The condition of a check no longer holds for this migration in the scopes not listed. An incident of the migration
   * alone resolves; a shared one resolves once it holds for none of the active migrations it affects.
   */
  async resolveExcept(migrationId: string, check: string, stillActiveScopes: string[]): Promise<string[]> {
    const { resolved, events } = await this.#resolveExcept(migrationId, check, stillActiveScopes);
    for (const e of events) this.#emit(e);
    return resolved;
  }

  async #resolveExcept(migrationId: string, check: string, stillActiveScopes: string[]): Promise<{ resolved: string[]; events: AlertEvent[] }> {
    const now = this.d.clock.now();
    const mine = `SELECT a.id, a.scope FROM alerts a WHERE a.check_key = $2 AND a.state <> 'resolved'
      AND EXISTS (SELECT 1 FROM alert_migrations am WHERE am.alert_id = a.id AND am.migration_id = $1 AND am.cleared_at IS NULL)`;
    // Most calls find nothing to resolve: look first without a transaction (every check calls this every cycle).
    const open = (await this.d.db.query(mine, [migrationId, check])).rows;
    if (open.every((r: any) => stillActiveScopes.includes(r.scope))) return { resolved: [], events: [] };
    const resolved = await this.d.db.transaction(async (tx) => {
      const rows = (await tx.query(`${mine} ORDER BY a.id FOR UPDATE`, [migrationId, check])).rows;
      const out: string[] = [];
      for (const r of rows) {
        if (stillActiveScopes.includes(r.scope)) continue;
        await tx.query('UPDATE alert_migrations SET cleared_at = $3 WHERE alert_id = $1 AND migration_id = $2', [r.id, migrationId, now.toISOString()]);
        if (await this.#holdsElsewhere(tx, r.id)) continue;
        await this.#resolve(tx, r.id, now, null, { check, scope: r.scope });
        out.push(r.id);
      }
      return out;
    });
    return { resolved, events: resolved.map((alertId) => ({ type: 'resolved', alertId })) };
  }

  /** Does the condition still hold for an active migration the incident affects? */
  async #holdsElsewhere(tx: Sql, alertId: string, except?: string): Promise<boolean> {
    const r = await tx.query(
      `SELECT 1 FROM alert_migrations am JOIN migrations m ON m.id = am.migration_id
        WHERE am.alert_id = $1 AND am.cleared_at IS NULL AND m.state = 'active' AND ($2::text IS NULL OR am.migration_id <> $2) LIMIT 1`,
      [alertId, except ?? null],
    );
    return r.rows.length > 0;
  }

  /** Resolves an incident (the caller holds its row), recorded in the audit of every migration it affects. */
  async #resolve(tx: Sql, alertId: string, now: Date, actor: { oid: string; name: string } | null, details: Record<string, unknown>): Promise<void> {
    const entry: AlertHistoryEntry = { at: now.toISOString(), event: 'resolved', ...(actor ? { by: actor.name } : {}) };
    await tx.query(
      "UPDATE alerts SET state = 'resolved', resolved_at = $2, resolved_by = $3, snoozed_until = NULL, history = history || $4::jsonb, version = version + 1 WHERE id = $1",
      [alertId, now.toISOString(), actor?.name ?? null, JSON.stringify([entry])],
    );
    const ids = (await tx.query('SELECT migration_id FROM alert_migrations WHERE alert_id = $1', [alertId])).rows.map((r: any) => r.migration_id as string);
    await auditEach(tx, ids, { at: now, actor, action: 'alert-resolved', details: { alertId, ...details, ...(actor ? { byHand: true } : {}) } });
  }

  /** Why this person may not act on the alert, or null when they may (the responders rule; nobody when none is set). */
  async refusal(a: AlertRecord, actorOid: string, doing?: string): Promise<string | null> {
    if (!actorOid) return 'Your Entra object id is not in the request, so the action cannot be recorded.';
    return this.#responders
      ? this.#responders.refuse(a, actorOid.toLowerCase(), doing)
      : 'Nobody is allowed to act on alerts in this deployment (no responders are configured). Nothing was changed.';
  }

  /**
   * Acknowledge, snooze or resolve (by hand) an alert. Only its responders (see alertResponders) may; anyone else gets
   * the reason and nothing changes. A resolved alert whose condition still holds opens a new incident at the next cycle.
   */
  async act(
    id: string,
    verb: AlertVerb,
    actor: { oid: string; name: string },
    version: number,
    hours?: number,
  ): Promise<{ changed: boolean; notice?: string }> {
    const target = await this.get(id);
    if (!target) return { changed: false, notice: 'That alert does not exist.' };
    if (target.state === 'resolved') return { changed: false, notice: 'This alert is already resolved.' };
    const refused = await this.refusal(target, actor.oid);
    if (refused) return { changed: false, notice: refused };
    const now = this.d.clock.now();
    const r = await this.d.db.transaction(async (tx) => {
      const a = (await tx.query('SELECT * FROM alerts WHERE id = $1 FOR UPDATE', [id])).rows[0];
      if (!a) return { changed: false, notice: 'That alert does not exist.' };
      if (a.state === 'resolved') return { changed: false, notice: 'This alert is already resolved.' };
      if (version >= 0 && version !== a.version)
        return { changed: false, notice: 'This card was out of date, so nothing was done. Here is the current state.' };
      if (verb === 'resolve') {
        await this.#resolve(tx, id, now, actor, { check: a.check_key, scope: a.scope });
        return { changed: true };
      }
      let entry: AlertHistoryEntry;
      if (verb === 'ack') {
        if (a.state === 'acknowledged') return { changed: false, notice: `Already acknowledged by ${a.acked_by}.` };
        entry = { at: now.toISOString(), event: 'acknowledged', by: actor.name };
        await tx.query(
          "UPDATE alerts SET state = 'acknowledged', acked_by = $2, acked_at = $3, snoozed_until = NULL, history = history || $4::jsonb, version = version + 1 WHERE id = $1",
          [id, actor.name, now.toISOString(), JSON.stringify([entry])],
        );
      } else {
        const until = new Date(now.getTime() + (hours ?? 1) * 3_600_000);
        entry = { at: now.toISOString(), event: 'snoozed', by: actor.name, until: until.toISOString() };
        await tx.query(
          "UPDATE alerts SET state = 'snoozed', acked_by = $2, snoozed_until = $3, history = history || $4::jsonb, version = version + 1 WHERE id = $1",
          [id, actor.name, until.toISOString(), JSON.stringify([entry])],
        );
      }
      const ids = (await tx.query('SELECT migration_id FROM alert_migrations WHERE alert_id = $1', [id])).rows.map((x: any) => x.migration_id as string);
      await auditEach(tx, ids, {
        at: now,
        actor,
        action: verb === 'ack' ? 'alert-acknowledged' : 'alert-snoozed',
        details: { alertId: id, hours: verb === 'snooze' ? (hours ?? 1) : null },
      });
      return { changed: true };
    });
    if (r.changed) this.#emit({ type: verb === 'resolve' ? 'resolved' : 'acted', alertId: id });
    return r;
  }

  /**
   * A migration nothing watches any more (cancelled): its incidents resolve, except shared ones whose condition still
   * holds for another active migration, which stay open for those (it leaves them).
   */
  async resolveAllOf(migrationId: string, actor: { oid: string; name: string } | null, reason: string): Promise<string[]> {
    const now = this.d.clock.now();
    const out = await this.d.db.transaction(async (tx) => {
      const rows = (
        await tx.query(
          "SELECT a.id FROM alerts a WHERE a.state <> 'resolved' AND EXISTS (SELECT 1 FROM alert_migrations am WHERE am.alert_id = a.id AND am.migration_id = $1) ORDER BY a.id FOR UPDATE",
          [migrationId],
        )
      ).rows;
      const resolved: string[] = [];
      const left: string[] = [];
      for (const r of rows) {
        await tx.query('UPDATE alert_migrations SET cleared_at = coalesce(cleared_at, $3) WHERE alert_id = $1 AND migration_id = $2', [
          r.id,
          migrationId,
          now.toISOString(),
        ]);
        if (await this.#holdsElsewhere(tx, r.id, migrationId)) {
          const name = (await tx.query('SELECT name FROM migrations WHERE id = $1', [migrationId])).rows[0]?.name ?? migrationId;
          await tx.query('UPDATE alerts SET history = history || $2::jsonb, version = version + 1 WHERE id = $1', [
            r.id,
            JSON.stringify([{ at: now.toISOString(), event: 'left', migration: name, note: reason } satisfies AlertHistoryEntry]),
          ]);
          await auditEach(tx, [migrationId], { at: now, actor, action: 'alert-left', details: { alertId: r.id, reason } });
          left.push(r.id);
          continue;
        }
        await this.#resolve(tx, r.id, now, null, { reason });
        resolved.push(r.id);
      }
      return { resolved, left };
    });
    for (const id of out.resolved) this.#emit({ type: 'resolved', alertId: id });
    for (const id of out.left) this.#emit({ type: 'updated', alertId: id });
    return out.resolved;
  }

  /** Snoozes that ran out: the alert is open again (and its card says so). */
  async wakeSnoozed(): Promise<string[]> {
    const now = this.d.clock.now().toISOString();
    const entry = JSON.stringify([{ at: now, event: 'woke' } satisfies AlertHistoryEntry]);
    const rows = (
      await this.d.db.query(
        "UPDATE alerts SET state = 'open', snoozed_until = NULL, history = history || $2::jsonb, version = version + 1 WHERE state = 'snoozed' AND snoozed_until <= $1 RETURNING id",
        [now, entry],
      )
    ).rows;
    for (const r of rows) this.#emit({ type: 'updated', alertId: r.id });
    return rows.map((r: any) => r.id);
  }

  /**
   * Where the incident's card is in one channel. The first channel's post is kept on the alert itself (where it was
   * always kept); a further channel's in alert_posts.
   */
  async setPost(id: string, post: AlertPost): Promise<void> {
    const r = await this.d.db.query(
      `UPDATE alerts SET conversation_id = $2, activity_id = $3, delivery_error = NULL
        WHERE id = $1 AND (activity_id IS NULL OR split_part(conversation_id, ';', 1) = $4) AND (conversation_id IS NULL OR split_part(conversation_id, ';', 1) = $4) RETURNING id`,
      [id, post.conversationId, post.activityId, post.channel],
    );
    if (r.rows.length) return;
    await this.d.db.query(
      `INSERT INTO alert_posts (alert_id, channel, conversation_id, activity_id) VALUES ($1,$2,$3,$4)
       ON CONFLICT (alert_id, channel) DO UPDATE SET conversation_id = EXCLUDED.conversation_id, activity_id = EXCLUDED.activity_id`,
      [id, post.channel, post.conversationId, post.activityId],
    );
  }

  async recordDeliveryFailure(id: string, error: string): Promise<void> {
    await this.d.db.query('UPDATE alerts SET delivery_error = $2 WHERE id = $1', [id, error.slice(0, 500)]);
  }

  async get(id: string): Promise<AlertRecord | null> {
    const r = (await this.d.db.query('SELECT a.*, m.name AS migration_name FROM alerts a JOIN migrations m ON m.id = a.migration_id WHERE a.id = $1', [id]))
      .rows[0];
    return r ? (await this.#records([r]))[0] : null;
  }

  /**
   * Alerts, oldest first. `conversationId`: those affecting a migration whose alerts go to that conversation's channel;
   * `migrationId`: those affecting that migration (shared incidents included).
   */
  async list(opts: { conversationId?: string; openOnly: boolean; migrationId?: string }): Promise<AlertRecord[]> {
    const rows = (
      await this.d.db.query(
        `SELECT a.*, m.name AS migration_name FROM alerts a JOIN migrations m ON m.id = a.migration_id
         WHERE ($1::text IS NULL OR EXISTS (SELECT 1 FROM alert_migrations am WHERE am.alert_id = a.id AND split_part(am.conversation_id, ';', 1) = split_part($1, ';', 1)))
           AND ($2::boolean = false OR a.state <> 'resolved')
           AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM alert_migrations am WHERE am.alert_id = a.id AND am.migration_id = $3))
         ORDER BY a.opened_at ASC, a.id ASC`,
        [opts.conversationId ?? null, opts.openOnly, opts.migrationId ?? null],
      )
    ).rows;
    return this.#records(rows);
  }

  /** Alert rows with the migrations they affect and their posts (two reads for any number of alerts). */
  async #records(rows: any[]): Promise<AlertRecord[]> {
    if (!rows.length) return [];
    const ids = rows.map((r) => r.id as string);
    const links = (
      await this.d.db.query(
        `SELECT am.alert_id, am.migration_id, am.conversation_id, am.added_at, am.cleared_at, m.name FROM alert_migrations am JOIN migrations m ON m.id = am.migration_id
          WHERE am.alert_id = ANY($1::text[]) ORDER BY am.added_at ASC, m.created_at ASC, m.name ASC`,
        [ids],
      )
    ).rows;
    const posts = (await this.d.db.query('SELECT * FROM alert_posts WHERE alert_id = ANY($1::text[]) ORDER BY channel', [ids])).rows;
    return rows.map((r) =>
      this.#withLink(
        toAlert(
          r,
          links.filter((l: any) => l.alert_id === r.id),
          posts.filter((p: any) => p.alert_id === r.id),
        ),
      ),
    );
  }

  /** Every unresolved alert's scopes by `${migrationId}|${check}`: one query lets a cycle skip resolveExcept calls that would find nothing. */
  async openScopes(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    const rows = (
      await this.d.db.query(
        "SELECT am.migration_id, a.check_key, a.scope FROM alerts a JOIN alert_migrations am ON am.alert_id = a.id WHERE a.state <> 'resolved' AND am.cleared_at IS NULL",
      )
    ).rows;
    for (const r of rows) {
      const k = `${r.migration_id}|${r.check_key}`;
      const a = out.get(k);
      if (a) a.push(r.scope);
      else out.set(k, [r.scope]);
    }
    return out;
  }

  /** The conditions with a running streak (the table holds only those). */
  async streakKeys(): Promise<Set<string>> {
    return new Set((await this.d.db.query('SELECT key FROM monitor_streaks')).rows.map((r: any) => r.key as string));
  }

  /** Ends several streaks at once (conditions that cleared). */
  async clearStreaks(keys: string[]): Promise<void> {
    if (keys.length) await this.d.db.query('DELETE FROM monitor_streaks WHERE key = ANY($1::text[])', [keys]);
  }

  /** Consecutive-cycle counter for a condition; reset when it clears. */
  async streak(key: string, holds: boolean): Promise<number> {
    const now = this.d.clock.now().toISOString();
    if (!holds) {
      await this.d.db.query('DELETE FROM monitor_streaks WHERE key = $1', [key]);
      return 0;
    }
    const r = await this.d.db.query(
      `INSERT INTO monitor_streaks (key, count, updated_at) VALUES ($1, 1, $2)
       ON CONFLICT (key) DO UPDATE SET count = monitor_streaks.count + 1, updated_at = EXCLUDED.updated_at RETURNING count`,
      [key, now],
    );
    return Number(r.rows[0].count);
  }
}

/**
 * One audit row per migration, in each migration's own chain. Appends to a chain are serialised by its migration's
 * row lock (audit.ts): taken here in id order, after the alert's row, as every alert transaction takes them.
 */
async function auditEach(tx: Sql, migrationIds: string[], e: Omit<AuditEntry, 'migrationId'>): Promise<void> {
  const ids = [...new Set(migrationIds)].sort();
  if (!ids.length) return;
  await tx.query('SELECT id FROM migrations WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE', [ids]);
  for (const migrationId of ids) await appendAudit(tx, { ...e, migrationId });
}

/** JSON with object keys sorted (jsonb reorders keys by length, then bytes). */
export function canonical(v: unknown): string {
  return JSON.stringify(v ?? null, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.keys(x)
            .sort()
            .map((k) => [k, x[k]]),
        )
      : x,
  );
}

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : typeof v === 'string' ? new Date(v).toISOString() : String(v));

function toAlert(r: any, links: any[], posts: any[]): AlertRecord {
  const main: AlertPost[] =
    r.activity_id && r.conversation_id ? [{ channel: channelOf(r.conversation_id), conversationId: r.conversation_id, activityId: r.activity_id }] : [];
  return {
    id: r.id,
    migrationId: r.migration_id,
    migrationName: r.migration_name,
    tenantId: r.tenant_id,
    subject: r.subject,
    check: r.check_key,
    scope: r.scope,
    severity: r.severity,
    title: r.title,
    summary: r.summary,
    remedy: r.remedy ?? undefined,
    facts: r.facts,
    objects: r.objects ?? undefined,
    ...(r.remedy_action ? { action: r.remedy_action as RemedyAction } : {}),
    state: r.state,
    openedAt: new Date(r.opened_at),
    lastSeenAt: new Date(r.last_seen_at),
    resolvedAt: r.resolved_at ? new Date(r.resolved_at) : null,
    resolvedBy: r.resolved_by ?? null,
    ackedBy: r.acked_by,
    snoozedUntil: r.snoozed_until ? new Date(r.snoozed_until) : null,
    migrations: links.map((l) => ({
      id: l.migration_id,
      name: l.name,
      conversationId: l.conversation_id ?? null,
      since: new Date(l.added_at),
      clearedAt: l.cleared_at ? new Date(l.cleared_at) : null,
    })),
    posts: [
      ...main,
      ...posts
        .filter((p) => !main.some((x) => x.channel === p.channel))
        .map((p) => ({ channel: p.channel, conversationId: p.conversation_id, activityId: p.activity_id })),
    ],
    activityId: r.activity_id,
    conversationId: r.conversation_id,
    deliveryError: r.delivery_error,
    history: (Array.isArray(r.history) ? r.history : []).map((h: any) => ({ ...h, at: iso(h.at), ...(h.until ? { until: iso(h.until) } : {}) })),
    version: r.version,
  };
}
