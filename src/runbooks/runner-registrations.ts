import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Db, Sql } from '../store/db.js';
import { appendAudit, readAudit, type AuditRow } from './audit.js';
import type { Administrators } from './admins.js';
import { EngineError } from './engine.js';
import type { Person } from './types.js';

/**
 * Registering a runner is a change (issue 15). A runner receives a tenant's production jobs, so:
 * - only cutover's administrators ask for one (`runner add`, `runner rotate`) or revoke one;
 * - asked where a second administrator sees it (a channel or group chat, not a one-to-one chat with the bot);
 * - a second administrator approves it (four-eyes: the one who asked never approves their own request);
 * - the token is minted only then, and shown to the administrator who asked and to nobody else (the caller puts it in
 *   an invoke response of theirs); it is never stored (only its SHA-256, by the hub), never in an audit row or a log;
 * - the runner must first use its token before a deadline, or the token never works;
 * - every move is audited in the tenant's runner chain (`runners:<tenantId>`, hash-chained and keyed like a migration's).
 */

export type RunnerRequestKind = 'add' | 'rotate';
export type RunnerRequestState = 'awaiting_approval' | 'approved' | 'rejected' | 'expired' | 'issued';

export interface RunnerRequest {
  id: string;
  tenantId: string;
  name: string;
  kind: RunnerRequestKind;
  state: RunnerRequestState;
  requestedBy: Person;
  requestedAt: Date;
  decidedBy: Person | null;
  decidedAt: Date | null;
  /** Approved: the token must be shown and first used by the runner before this. */
  claimBy: Date | null;
  issuedAt: Date | null;
  runnerId: string | null;
  conversationId: string | null;
  activityId: string | null;
  version: number;
}

/** What the registrations need of the runner hub (the composition root provides it). */
export interface RunnerRegistry {
  list(tenantId: string): Promise<{ id: string; name: string; health: string; revokedAt: Date | null; claimBy: Date | null; claimedAt: Date | null }[]>;
  create(input: { name: string; tenantId: string; claimBy: Date; replace: boolean }): Promise<{ runnerId: string; token: string }>;
  /** Revokes the runner only when it is bound to this tenant. */
  revoke(name: string, tenantId: string): Promise<boolean>;
}

export type RunnerRequestEvent = { type: 'runner-request-changed'; id: string };

/** The audit chain of a tenant's runner changes. */
export const runnerChainId = (tenantId: string) => `runners:${tenantId}`;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export class RunnerRegistrations {
  #listeners: ((e: RunnerRequestEvent) => void)[] = [];

  constructor(
    private readonly d: {
      db: Db;
      clock: Clock;
      log: Logger;
      admins: Administrators;
      registry: RunnerRegistry;
      /** An undecided request expires after this (default 24 h). */
      requestExpiryMs?: number;
      /** After approval: the token must be shown, and first used by the runner, within this (default 24 h). */
      firstUseMs?: number;
      /** Whether cutover manages the tenant (Graph credentials for it): a runner for a tenant it cannot manage is refused. */
      managedTenant?: (tenantId: string) => { managed: true } | { managed: false; reason: string };
    },
  ) {}

  get requestExpiryMs(): number {
    return this.d.requestExpiryMs ?? 24 * 3_600_000;
  }

  get firstUseMs(): number {
    return this.d.firstUseMs ?? 24 * 3_600_000;
  }

  get admins(): Administrators {
    return this.d.admins;
  }

  on(l: (e: RunnerRequestEvent) => void): void {
    this.#listeners.push(l);
  }

  #emit(e: RunnerRequestEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.d.log.error({ err }, 'runner request listener failed');
      }
    }
  }

  /**
   * An administrator asks for a new runner (`add`) or a new token for an existing one (`rotate`), where a second
   * administrator can see the request and approve it: never in a one-to-one chat (`oneToOne`), which nobody else sees.
   * Throws EngineError with the reason.
   */
  async request(input: {
    tenantId: string;
    name: string;
    kind: RunnerRequestKind;
    actor: Person;
    conversationId: string | null;
    oneToOne?: boolean;
  }): Promise<RunnerRequest> {
    const { tenantId, name, kind, actor } = input;
    if (input.oneToOne)
      throw new EngineError(
        'invalid',
        'Ask for a runner in a channel or group chat where another administrator can approve it: nobody else sees a request made in this one-to-one chat. Nothing was changed.',
      );
    if (!NAME.test(name)) throw new EngineError('invalid', 'A runner name is 1–63 letters, digits, dots, dashes or underscores.');
    const verdict = await this.d.admins.check(tenantId, actor.oid);
    if (!verdict.admin) throw new EngineError('invalid', `${verdict.reason} Nothing was changed.`);
    const managed = this.d.managedTenant?.(tenantId);
    if (managed && !managed.managed) throw new EngineError('invalid', `${managed.reason} A runner here would never receive a job. Nothing was changed.`);
    const live = (await this.d.registry.list(tenantId)).find((r) => r.name.toLowerCase() === name.toLowerCase() && !r.revokedAt && r.health !== 'Expired');
    if (kind === 'add' && live)
      throw new EngineError(
        'conflict',
        `A runner named "${live.name}" is already registered here: say \`runner rotate ${live.name}\` for a new token, or \`runner revoke ${live.name}\`. Nothing was changed.`,
      );
    if (kind === 'rotate' && !live)
      throw new EngineError(
        'not-found',
        `There is no runner "${name}" in this tenant to rotate (say \`runners\`); \`runner add ${name}\` registers one. Nothing was changed.`,
      );
    const admins = await this.d.admins.count(tenantId);
    if (admins !== null && admins < 2) {
      throw new EngineError(
        'invalid',
        `A runner change needs a second administrator to approve it (four-eyes), and this tenant has ${admins} administrator${admins === 1 ? '' : 's'}: add one to CUTOVER_ADMINS or CUTOVER_ADMINS_GROUP. Nothing was changed.`,
      );
    }
    const now = this.d.clock.now();
    const id = `rr-${randomBytes(5).toString('hex')}`;
    const runnerName = kind === 'rotate' ? live!.name : name;
    try {
      await this.d.db.transaction(async (tx) => {
        await this.#lockChain(tx, tenantId);
        await tx.query(
          'INSERT INTO runner_requests (id, tenant_id, name, kind, state, requested_by, requested_at, conversation_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)',
          [id, tenantId, runnerName, kind, 'awaiting_approval', JSON.stringify(actor), now.toISOString(), input.conversationId],
        );
        await appendAudit(tx, {
          migrationId: runnerChainId(tenantId),
          at: now,
          actor,
          action: kind === 'add' ? 'runner-add-requested' : 'runner-rotate-requested',
          details: { requestId: id, name: runnerName, tenantId },
        });
      });
    } catch (e: any) {
      if (String(e?.message ?? '').includes('runner_requests_open_name') || e?.code === '23505') {
        const open = (
          await this.d.db.query(
            "SELECT id FROM runner_requests WHERE tenant_id = $1 AND lower(name) = lower($2) AND state IN ('awaiting_approval', 'approved')",
            [tenantId, runnerName],
          )
        ).rows[0];
        throw new EngineError(
          'conflict',
          `A request for runner "${runnerName}" is already open${open ? ` (${open.id})` : ''}: approve, reject or let it expire first. Nothing was changed.`,
        );
      }
      throw e;
    }
    this.d.log.info({ requestId: id, runner: runnerName, tenantId, kind }, 'runner change requested');
    return (await this.get(id))!;
  }

  async get(id: string, tx: Sql = this.d.db): Promise<RunnerRequest | null> {
    const r = (await tx.query('SELECT * FROM runner_requests WHERE id = $1', [id])).rows[0];
    return r ? toRequest(r) : null;
  }

  /** A request of this tenant (another tenant's reads as unknown), with its expiry applied first. */
  async find(id: string, tenantId: string): Promise<RunnerRequest | null> {
    const r = await this.get(id);
    if (!r || r.tenantId !== tenantId) return null;
    await this.#expireIfDue(r);
    return this.get(id);
  }

  async setActivity(id: string, activityId: string): Promise<void> {
    await this.d.db.query('UPDATE runner_requests SET activity_id = $2 WHERE id = $1 AND activity_id IS NULL', [id, activityId]);
  }

  /** A second administrator approves, or an administrator rejects (the one who asked may withdraw it). */
  async decide(input: {
    id: string;
    tenantId: string;
    version: number;
    verb: 'approve' | 'reject';
    actor: Person;
  }): Promise<{ changed: boolean; notice?: string }> {
    const before = await this.find(input.id, input.tenantId);
    if (!before) throw new EngineError('not-found', 'That runner request does not exist.');
    if (before.state !== 'awaiting_approval') return { changed: false, notice: `This runner request is ${stateWords(before.state)}: nothing was changed.` };
    const verdict = await this.d.admins.check(input.tenantId, input.actor.oid);
    if (!verdict.admin) return { changed: false, notice: `${verdict.reason} Nothing was changed.` };
    if (input.verb === 'approve' && before.requestedBy.oid.toLowerCase() === input.actor.oid.toLowerCase()) {
      return { changed: false, notice: 'You asked for this runner, so you cannot approve it (four-eyes): another administrator must. Nothing was changed.' };
    }
    const now = this.d.clock.now();
    const out = await this.d.db.transaction(async (tx) => {
      await this.#lockChain(tx, input.tenantId);
      const r = (await tx.query('SELECT * FROM runner_requests WHERE id = $1 FOR UPDATE', [input.id])).rows[0];
      const cur = toRequest(r);
      if (cur.state !== 'awaiting_approval') return { changed: false, notice: `This runner request is ${stateWords(cur.state)}: nothing was changed.` };
      if (cur.version !== input.version) return { changed: false, notice: 'This card was out of date, so nothing was done. Here is the current state.' };
      if (input.verb === 'reject') {
        await tx.query("UPDATE runner_requests SET state = 'rejected', decided_by = $2, decided_at = $3, version = version + 1 WHERE id = $1", [
          cur.id,
          JSON.stringify(input.actor),
          now.toISOString(),
        ]);
        await appendAudit(tx, {
          migrationId: runnerChainId(cur.tenantId),
          at: now,
          actor: input.actor,
          action: 'runner-request-rejected',
          details: { requestId: cur.id, name: cur.name, kind: cur.kind },
        });
        return { changed: true };
      }
      const claimBy = new Date(now.getTime() + this.firstUseMs);
      await tx.query("UPDATE runner_requests SET state = 'approved', decided_by = $2, decided_at = $3, claim_by = $4, version = version + 1 WHERE id = $1", [
        cur.id,
        JSON.stringify(input.actor),
        now.toISOString(),
        claimBy.toISOString(),
      ]);
      await appendAudit(tx, {
        migrationId: runnerChainId(cur.tenantId),
        at: now,
        actor: input.actor,
        action: 'runner-request-approved',
        details: { requestId: cur.id, name: cur.name, kind: cur.kind, requestedBy: cur.requestedBy, claimBy: claimBy.toISOString() },
      });
      return { changed: true };
    });
    if (out.changed) this.#emit({ type: 'runner-request-changed', id: input.id });
    return out;
  }

  /**
   * The administrator who asked takes the token: minted now, returned to them alone, once. Its first use must come
   * before the request's deadline. Returns the token, or the reason it is not given (nothing changed then).
   */
  async issue(input: {
    id: string;
    tenantId: string;
    actor: Person;
  }): Promise<{ ok: true; token: string; request: RunnerRequest } | { ok: false; notice: string }> {
    const r = await this.find(input.id, input.tenantId);
    if (!r) throw new EngineError('not-found', 'That runner request does not exist.');
    if (r.requestedBy.oid.toLowerCase() !== input.actor.oid.toLowerCase()) {
      return {
        ok: false,
        notice: `Only ${r.requestedBy.name}, who asked for this runner, can see its token: it is shown to them alone, on their own screen. Nothing was changed.`,
      };
    }
    if (r.state === 'issued')
      return {
        ok: false,
        notice: `The token of runner "${r.name}" was shown at ${r.issuedAt?.toISOString()} and is not shown again (cutover keeps only its hash). Lost it? Say \`runner rotate ${r.name}\` for a new one.`,
      };
    if (r.state !== 'approved') return { ok: false, notice: `This runner request is ${stateWords(r.state)}: there is no token to show.` };
    const verdict = await this.d.admins.check(input.tenantId, input.actor.oid);
    if (!verdict.admin) return { ok: false, notice: `${verdict.reason} The token was not shown.` };
    const now = this.d.clock.now();
    // Claimed first, in one transaction: a double click gets "already shown", never a second token.
    const claimed = await this.d.db.transaction(
      async (tx) =>
        (
          await tx.query(
            "UPDATE runner_requests SET state = 'issued', issued_at = $2, version = version + 1 WHERE id = $1 AND state = 'approved' RETURNING id",
            [r.id, now.toISOString()],
          )
        ).rows.length > 0,
    );
    if (!claimed) return { ok: false, notice: 'The token of this runner was just shown (another click); it is not shown twice.' };
    let created: { runnerId: string; token: string };
    try {
      created = await this.d.registry.create({ name: r.name, tenantId: r.tenantId, claimBy: r.claimBy!, replace: r.kind === 'rotate' });
    } catch (err: any) {
      await this.d.db.query("UPDATE runner_requests SET state = 'approved', issued_at = NULL, version = version + 1 WHERE id = $1 AND state = 'issued'", [
        r.id,
      ]);
      return { ok: false, notice: `The runner could not be registered: ${String(err?.message ?? err).slice(0, 200)}. Nothing was changed.` };
    }
    await this.d.db.transaction(async (tx) => {
      await this.#lockChain(tx, r.tenantId);
      await tx.query('UPDATE runner_requests SET runner_id = $2 WHERE id = $1', [r.id, created.runnerId]);
      // Who, what and until when; never the token.
      await appendAudit(tx, {
        migrationId: runnerChainId(r.tenantId),
        at: now,
        actor: input.actor,
        action: r.kind === 'add' ? 'runner-registered' : 'runner-rotated',
        details: { requestId: r.id, name: r.name, runnerId: created.runnerId, approvedBy: r.decidedBy, firstUseBy: r.claimBy?.toISOString() ?? null },
      });
    });
    this.d.log.info({ requestId: r.id, runner: r.name, runnerId: created.runnerId, tenantId: r.tenantId }, 'runner token shown to the administrator who asked');
    return { ok: true, token: created.token, request: (await this.get(r.id))! };
  }

  /** An administrator revokes a runner of this tenant: at once (it only takes power away), audited. */
  async revoke(input: { tenantId: string; name: string; actor: Person }): Promise<{ revoked: boolean; notice: string }> {
    const verdict = await this.d.admins.check(input.tenantId, input.actor.oid);
    if (!verdict.admin) throw new EngineError('invalid', `${verdict.reason} Nothing was changed.`);
    const ok = await this.d.registry.revoke(input.name, input.tenantId);
    if (!ok) return { revoked: false, notice: `There is no runner "${input.name}".` };
    const now = this.d.clock.now();
    await this.d.db.transaction(async (tx) => {
      await this.#lockChain(tx, input.tenantId);
      await appendAudit(tx, {
        migrationId: runnerChainId(input.tenantId),
        at: now,
        actor: input.actor,
        action: 'runner-revoked',
        details: { name: input.name },
      });
    });
    return { revoked: true, notice: 'Its token no longer works; a job it held will be marked lost when its lease expires.' };
  }

  /** The tenant's runner audit chain, newest last. */
  async audit(tenantId: string, limit?: number): Promise<AuditRow[]> {
    return readAudit(this.d.db, runnerChainId(tenantId), limit);
  }

  /** An undecided request past its expiry, or an approved one whose token was not shown before its deadline, expires. */
  async #expireIfDue(r: RunnerRequest): Promise<void> {
    const now = this.d.clock.now();
    const due =
      (r.state === 'awaiting_approval' && now.getTime() - r.requestedAt.getTime() >= this.requestExpiryMs) ||
      (r.state === 'approved' && !!r.claimBy && now.getTime() >= r.claimBy.getTime());
    if (!due) return;
    const done = await this.d.db.transaction(async (tx) => {
      await this.#lockChain(tx, r.tenantId);
      const u = await tx.query(
        "UPDATE runner_requests SET state = 'expired', decided_at = coalesce(decided_at, $3), version = version + 1 WHERE id = $1 AND state = $2 RETURNING id",
        [r.id, r.state, now.toISOString()],
      );
      if (!u.rows.length) return false;
      await appendAudit(tx, {
        migrationId: runnerChainId(r.tenantId),
        at: now,
        actor: null,
        action: 'runner-request-expired',
        details: { requestId: r.id, name: r.name, was: r.state },
      });
      return true;
    });
    if (done) this.#emit({ type: 'runner-request-changed', id: r.id });
  }

  /** Serialises appends to a tenant's runner chain (appendAudit reads the chain's head). */
  async #lockChain(tx: Sql, tenantId: string): Promise<void> {
    await tx.query('INSERT INTO runner_audit_chains (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING', [tenantId]);
    await tx.query('SELECT tenant_id FROM runner_audit_chains WHERE tenant_id = $1 FOR UPDATE', [tenantId]);
  }
}

function stateWords(s: RunnerRequestState): string {
  return { awaiting_approval: 'waiting for approval', approved: 'approved', rejected: 'rejected', expired: 'expired', issued: 'done (its token was shown)' }[s];
}

function toRequest(r: any): RunnerRequest {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    kind: r.kind,
    state: r.state,
    requestedBy: r.requested_by,
    requestedAt: new Date(r.requested_at),
    decidedBy: r.decided_by ?? null,
    decidedAt: r.decided_at ? new Date(r.decided_at) : null,
    claimBy: r.claim_by ? new Date(r.claim_by) : null,
    issuedAt: r.issued_at ? new Date(r.issued_at) : null,
    runnerId: r.runner_id ?? null,
    conversationId: r.conversation_id ?? null,
    activityId: r.activity_id ?? null,
    version: Number(r.version),
  };
}
