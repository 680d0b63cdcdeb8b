import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../store/db.js';
import { appendAudit } from '../runbooks/audit.js';
import { ReportStore } from './reports.js';

/** Alert lifecycle: open → acknowledged | snoozed(until) → resolved. One row per incident. */

export type AlertState = 'open' | 'acknowledged' | 'snoozed' | 'resolved';
export type Severity = 'critical' | 'warning' | 'info';

export interface AlertContent {
  severity: Severity;
  title: string;
  summary: string;
  remedy?: string;
  facts: { title: string; value: string }[];
  objects?: AlertObjects;
}

/** What the card lists: one list (title + lines), and/or several sections; `report` when a full report is stored. */
export interface AlertObjects {
  title: string;
  lines: string[];
  sections?: { title: string; total: number; lines: string[] }[];
  /** A full report (CSV) is stored for this alert: rows in it. */
  report?: { rows: number };
}

export interface AlertRecord extends AlertContent {
  id: string;
  migrationId: string;
  migrationName: string;
  tenantId: string;
  check: string;
  scope: string;
  state: AlertState;
  openedAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
  ackedBy: string | null;
  snoozedUntil: Date | null;
  activityId: string | null;
  conversationId: string | null;
  deliveryError: string | null;
  version: number;
  /** Link to the full report when one is stored (see ReportLinks); absent otherwise. */
  reportUrl?: string | null;
}

export type AlertEvent = { type: 'opened' | 'updated' | 'resolved' | 'acted'; alertId: string };

export type AlertVerb = 'ack' | 'snooze' | 'resolve';

/** Who may acknowledge, snooze or resolve an alert: null when this person may, else the reason they may not. */
export interface AlertResponders {
  refuse(alert: AlertRecord, actorOid: string): Promise<string | null>;
}

/**
 * The rule (issue 15): the migration's change owners (listed, or members of its owners group, as now), or members of a
 * configured responders group (CUTOVER_RESPONDERS_GROUP). Nobody else. Fail closed: a group that cannot be read admits
 * nobody through it (the reason says so).
 */
export function alertResponders(p: {
  /** Is this person a change owner of the migration now (false when its owners group cannot be read)? */
  isOwner(migrationId: string, oid: string): Promise<boolean>;
  /** The responders group, when one is configured: is this person a member (throws when it cannot be read)? */
  responders?: { groupId: string; isMember(tenantId: string, oid: string): Promise<boolean> };
}): AlertResponders {
  return {
    async refuse(a, oid) {
      if (!oid) return 'Your Entra object id is not in the request, so cutover cannot tell whether you may act on this alert. Nothing was changed.';
      if (await p.isOwner(a.migrationId, oid)) return null;
      let unreadable = '';
      if (p.responders) {
        try {
          if (await p.responders.isMember(a.tenantId, oid)) return null;
        } catch (err: any) {
          unreadable = ` (the responders group ${p.responders.groupId} cannot be read from Microsoft Graph now: ${String(err?.message ?? err).slice(0, 150)})`;
        }
      }
      return `Only the change owners of ${a.migrationName}${p.responders ? ' and the members of the responders group' : ''} can acknowledge, snooze or resolve its alerts${unreadable}. Nothing was changed.`;
    },
  };
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
   * Records that a condition holds now. Opens a new incident (and card) only when none is unresolved
   * for the same key; otherwise updates the open one in place when its content changed.
   */
  async raise(key: { migrationId: string; tenantId: string; conversationId: string | null; check: string; scope: string }, content: AlertContent): Promise<{ alertId: string; opened: boolean }> {
    const now = this.d.clock.now();
    const res = await this.d.db.transaction(async (tx) => {
      const cur = (await tx.query("SELECT * FROM alerts WHERE migration_id = $1 AND check_key = $2 AND scope = $3 AND state <> 'resolved' FOR UPDATE", [key.migrationId, key.check, key.scope])).rows[0];
      if (cur) {
        // jsonb does not keep key order: compare canonical forms, or every cycle would look like a change.
        const changed = cur.title !== content.title || cur.summary !== content.summary || cur.severity !== content.severity || (cur.remedy ?? null) !== (content.remedy ?? null) || canonical(cur.facts) !== canonical(content.facts) || canonical(cur.objects) !== canonical(content.objects ?? null);
        await tx.query(
          `UPDATE alerts SET last_seen_at = $2, severity = $3, title = $4, summary = $5, remedy = $6, facts = $7, objects = $8, version = version + $9 WHERE id = $1`,
          [cur.id, now.toISOString(), content.severity, content.title, content.summary, content.remedy ?? null, JSON.stringify(content.facts), JSON.stringify(content.objects ?? null), changed ? 1 : 0],
        );
        return { alertId: cur.id as string, opened: false, changed };
      }
      const incidents = Number((await tx.query('SELECT count(*)::int AS n FROM alerts WHERE migration_id = $1 AND check_key = $2 AND scope = $3', [key.migrationId, key.check, key.scope])).rows[0].n);
      const id = `al-${createHash('sha256').update(`${key.migrationId}|${key.check}|${key.scope}`).digest('hex').slice(0, 10)}-${incidents + 1}`;
      await tx.query(
        `INSERT INTO alerts (id, migration_id, tenant_id, check_key, scope, severity, title, summary, remedy, facts, objects, state, opened_at, last_seen_at, conversation_id)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,'open',$12,$12,$13)`,
        [id, key.migrationId, key.tenantId, key.check, key.scope, content.severity, content.title, content.summary, content.remedy ?? null, JSON.stringify(content.facts), JSON.stringify(content.objects ?? null), now.toISOString(), key.conversationId],
      );
      await appendAudit(tx, { migrationId: key.migrationId, at: now, actor: null, action: 'alert-opened', details: { alertId: id, check: key.check, scope: key.scope, severity: content.severity, title: content.title } });
      return { alertId: id, opened: true, changed: true };
    });
    if (res.opened) this.#emit({ type: 'opened', alertId: res.alertId });
    else if (res.changed) this.#emit({ type: 'updated', alertId: res.alertId });
    return { alertId: res.alertId, opened: res.opened };
  }

  /** Resolves the unresolved alerts of a check whose scope no longer holds. */
  async resolveExcept(migrationId: string, check: string, stillActiveScopes: string[]): Promise<string[]> {
    const now = this.d.clock.now();
    // Most calls find nothing to resolve: look first without a transaction (every check calls this every cycle).
    const open = (await this.d.db.query("SELECT scope FROM alerts WHERE migration_id = $1 AND check_key = $2 AND state <> 'resolved'", [migrationId, check])).rows;
    if (open.every((r: any) => stillActiveScopes.includes(r.scope))) return [];
    const resolved = await this.d.db.transaction(async (tx) => {
      const rows = (await tx.query("SELECT id, scope FROM alerts WHERE migration_id = $1 AND check_key = $2 AND state <> 'resolved' FOR UPDATE", [migrationId, check])).rows;
      const out: string[] = [];
      for (const r of rows) {
        if (stillActiveScopes.includes(r.scope)) continue;
        await tx.query("UPDATE alerts SET state = 'resolved', resolved_at = $2, version = version + 1 WHERE id = $1", [r.id, now.toISOString()]);
        await appendAudit(tx, { migrationId, at: now, actor: null, action: 'alert-resolved', details: { alertId: r.id, check, scope: r.scope } });
        out.push(r.id);
      }
      return out;
    });
    for (const id of resolved) this.#emit({ type: 'resolved', alertId: id });
    return resolved;
  }

  /**
   * Acknowledge, snooze or resolve (by hand) an alert. Only its responders (see alertResponders) may; anyone else gets
   * the reason and nothing changes. A resolved alert whose condition still holds opens a new incident at the next cycle.
   */
  async act(id: string, verb: AlertVerb, actor: { oid: string; name: string }, version: number, hours?: number): Promise<{ changed: boolean; notice?: string }> {
    const target = await this.get(id);
    if (!target) return { changed: false, notice: 'That alert does not exist.' };
    if (target.state === 'resolved') return { changed: false, notice: 'This alert is already resolved.' };
    if (!actor.oid) return { changed: false, notice: 'Your Entra object id is not in the request, so the action cannot be recorded.' };
    const refused = this.#responders ? await this.#responders.refuse(target, actor.oid.toLowerCase()) : 'Nobody is allowed to act on alerts in this deployment (no responders are configured). Nothing was changed.';
    if (refused) return { changed: false, notice: refused };
    const now = this.d.clock.now();
    const r = await this.d.db.transaction(async (tx) => {
      const a = (await tx.query('SELECT * FROM alerts WHERE id = $1 FOR UPDATE', [id])).rows[0];
      if (!a) return { changed: false, notice: 'That alert does not exist.' };
      if (a.state === 'resolved') return { changed: false, notice: 'This alert is already resolved.' };
      if (version >= 0 && version !== a.version) return { changed: false, notice: 'This card was out of date, so nothing was done. Here is the current state.' };
      if (verb === 'ack') {
        if (a.state === 'acknowledged') return { changed: false, notice: `Already acknowledged by ${a.acked_by}.` };
        await tx.query("UPDATE alerts SET state = 'acknowledged', acked_by = $2, acked_at = $3, snoozed_until = NULL, version = version + 1 WHERE id = $1", [id, actor.name, now.toISOString()]);
      } else if (verb === 'snooze') {
        const until = new Date(now.getTime() + (hours ?? 1) * 3_600_000);
        await tx.query("UPDATE alerts SET state = 'snoozed', acked_by = $2, snoozed_until = $3, version = version + 1 WHERE id = $1", [id, actor.name, until.toISOString()]);
      } else {
        await tx.query("UPDATE alerts SET state = 'resolved', resolved_at = $2, acked_by = coalesce(acked_by, $3), snoozed_until = NULL, version = version + 1 WHERE id = $1", [id, now.toISOString(), actor.name]);
      }
      const action = verb === 'ack' ? 'alert-acknowledged' : verb === 'snooze' ? 'alert-snoozed' : 'alert-resolved';
      await appendAudit(tx, { migrationId: a.migration_id, at: now, actor, action, details: { alertId: id, hours: verb === 'snooze' ? hours ?? 1 : null, ...(verb === 'resolve' ? { byHand: true, check: a.check_key, scope: a.scope } : {}) } });
      return { changed: true };
    });
    if (r.changed) this.#emit({ type: verb === 'resolve' ? 'resolved' : 'acted', alertId: id });
    return r;
  }

  /** Resolves every unresolved alert of a migration (it was cancelled: nothing watches it any more). */
  async resolveAllOf(migrationId: string, actor: { oid: string; name: string } | null, reason: string): Promise<string[]> {
    const now = this.d.clock.now();
    const ids = await this.d.db.transaction(async (tx) => {
      const rows = (await tx.query("SELECT id FROM alerts WHERE migration_id = $1 AND state <> 'resolved' FOR UPDATE", [migrationId])).rows;
      for (const r of rows) {
        await tx.query("UPDATE alerts SET state = 'resolved', resolved_at = $2, version = version + 1 WHERE id = $1", [r.id, now.toISOString()]);
        await appendAudit(tx, { migrationId, at: now, actor, action: 'alert-resolved', details: { alertId: r.id, reason } });
      }
      return rows.map((r: any) => r.id as string);
    });
    for (const id of ids) this.#emit({ type: 'resolved', alertId: id });
    return ids;
  }

  /** Snoozes that ran out: the alert is open again (and its card says so). */
  async wakeSnoozed(): Promise<string[]> {
    const now = this.d.clock.now().toISOString();
    const rows = (await this.d.db.query("UPDATE alerts SET state = 'open', snoozed_until = NULL, version = version + 1 WHERE state = 'snoozed' AND snoozed_until <= $1 RETURNING id", [now])).rows;
    for (const r of rows) this.#emit({ type: 'updated', alertId: r.id });
    return rows.map((r: any) => r.id);
  }

  async setActivity(id: string, activityId: string): Promise<void> {
    await this.d.db.query('UPDATE alerts SET activity_id = $2, delivery_error = NULL WHERE id = $1', [id, activityId]);
  }

  async recordDeliveryFailure(id: string, error: string): Promise<void> {
    await this.d.db.query('UPDATE alerts SET delivery_error = $2 WHERE id = $1', [id, error.slice(0, 500)]);
  }

  async get(id: string): Promise<AlertRecord | null> {
    const r = (await this.d.db.query('SELECT a.*, m.name AS migration_name FROM alerts a JOIN migrations m ON m.id = a.migration_id WHERE a.id = $1', [id])).rows[0];
    return r ? this.#withLink(toAlert(r)) : null;
  }

  async list(opts: { conversationId?: string; openOnly: boolean; migrationId?: string }): Promise<AlertRecord[]> {
    const rows = (
      await this.d.db.query(
        `SELECT a.*, m.name AS migration_name FROM alerts a JOIN migrations m ON m.id = a.migration_id
         WHERE ($1::text IS NULL OR split_part(a.conversation_id, ';', 1) = split_part($1, ';', 1))
           AND ($2::boolean = false OR a.state <> 'resolved') AND ($3::text IS NULL OR a.migration_id = $3)
         ORDER BY a.opened_at ASC`,
        [opts.conversationId ?? null, opts.openOnly, opts.migrationId ?? null],
      )
    ).rows;
    return rows.map((r) => this.#withLink(toAlert(r)));
  }

  /** Every unresolved alert's scopes by `${migrationId}|${check}`: one query lets a cycle skip resolveExcept calls that would find nothing. */
  async openScopes(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const r of (await this.d.db.query("SELECT migration_id, check_key, scope FROM alerts WHERE state <> 'resolved'")).rows) {
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

/** JSON with object keys sorted (jsonb reorders keys by length, then bytes). */
export function canonical(v: unknown): string {
  return JSON.stringify(v ?? null, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x));
}

function toAlert(r: any): AlertRecord {
  return {
    id: r.id,
    migrationId: r.migration_id,
    migrationName: r.migration_name,
    tenantId: r.tenant_id,
    check: r.check_key,
    scope: r.scope,
    severity: r.severity,
    title: r.title,
    summary: r.summary,
    remedy: r.remedy ?? undefined,
    facts: r.facts,
    objects: r.objects ?? undefined,
    state: r.state,
    openedAt: new Date(r.opened_at),
    lastSeenAt: new Date(r.last_seen_at),
    resolvedAt: r.resolved_at ? new Date(r.resolved_at) : null,
    ackedBy: r.acked_by,
    snoozedUntil: r.snoozed_until ? new Date(r.snoozed_until) : null,
    activityId: r.activity_id,
    conversationId: r.conversation_id,
    deliveryError: r.delivery_error,
    version: r.version,
  };
}
