import type { Clock } from '../clock.js';
import type { Db, Sql } from '../store/db.js';
import { appendAudit, canonicalJson, sha256 } from './audit.js';
import { EngineError, type Migration, type RunbookEngine } from './engine.js';
import { evaluate, isOwner, mayDecide, ownerSet, type ApprovalPolicy, type ApprovalRecord, type Verdict } from './policy.js';
import { OwnersGroupNotFound, OwnersGroupUnavailable } from './owners.js';
import { lockMigration } from './store.js';
import type { Person } from './types.js';
import type { ChangeWindow } from './windows.js';

/**
 * Changing a migration's approval policy is itself an approved change: it takes effect only when the CURRENT
 * policy's owners approve it with the CURRENT quorum, the requester never counting (four-eyes, whatever the policy
 * says); any one Reject rejects; it expires like a step request. Every move is audited in the migration's hash chain,
 * and the change itself as 'policy-changed' with the old and the new policy.
 */

export interface PolicyEdit {
  approvals?: number;
  owners?: string[];
  /** null removes the group. */
  ownersGroup?: string | null;
  /** [] removes the windows (any time). */
  windows?: ChangeWindow[];
  expiryHours?: number;
}

export type PolicyChangeState = 'awaiting_approval' | 'applied' | 'rejected' | 'expired';

export interface PolicyChange {
  migrationId: string;
  id: number;
  state: PolicyChangeState;
  requestedBy: Person;
  requestedAt: Date;
  oldPolicy: ApprovalPolicy;
  newPolicy: ApprovalPolicy;
  planHash: string;
  decidedAt: Date | null;
  activityId: string | null;
  version: number;
}

export interface PolicyDecisionInput {
  migrationId: string;
  changeId: number;
  version: number;
  verb: 'approve' | 'reject';
  actor: Person;
  comment?: string;
}

/** The request as the policy functions see it: the current policy, four-eyes always on, an ordinary change. */
function approvalTerms(c: PolicyChange): { policy: ApprovalPolicy; req: { requester: Person; requestedAt: Date; planHash: string; kind: 'change-owners' } } {
  return {
    policy: { ...c.oldPolicy, fourEyes: true },
    req: { requester: c.requestedBy, requestedAt: c.requestedAt, planHash: c.planHash, kind: 'change-owners' },
  };
}

/** A policy change moved without a click (it expired): its card in the channel is to be brought up to date. */
export interface PolicyChangeEvent {
  migrationId: string;
  changeId: number;
}

export class PolicyChanges {
  #listeners: ((e: PolicyChangeEvent) => void)[] = [];

  constructor(private readonly d: { db: Db; clock: Clock; engine: RunbookEngine }) {}

  on(listener: (e: PolicyChangeEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** The policy an edit would make, validated (group readable, quorum reachable). Throws EngineError with the reason. */
  async proposed(m: Migration, edit: PolicyEdit): Promise<ApprovalPolicy> {
    const next: ApprovalPolicy = { ...m.policy };
    if (edit.approvals !== undefined) next.quorum = edit.approvals;
    if (edit.owners !== undefined) next.owners = [...new Set(edit.owners.map((o) => o.toLowerCase()))];
    if (edit.ownersGroup !== undefined) {
      if (edit.ownersGroup) next.ownersGroup = edit.ownersGroup.toLowerCase();
      else delete next.ownersGroup;
    }
    if (edit.windows !== undefined) {
      if (edit.windows.length) next.changeWindows = edit.windows;
      else delete next.changeWindows;
    }
    if (edit.expiryHours !== undefined) next.expiryMs = edit.expiryHours * 3_600_000;
    if (!next.owners.length && !next.ownersGroup)
      throw new EngineError('invalid', 'The new policy would have no change owner: keep owners= or an ownersGroup=.');
    let members: string[] = [];
    if (next.ownersGroup) {
      try {
        members = (await this.d.engine.ownersGroup({ tenantId: m.tenantId, policy: next }))?.members.map((x) => x.id) ?? [];
      } catch (e) {
        if (e instanceof OwnersGroupNotFound || e instanceof OwnersGroupUnavailable) throw new EngineError('invalid', `${e.message} Nothing was changed.`);
        throw e;
      }
    }
    const everyone = ownerSet(next, members).size;
    if (next.quorum > everyone)
      throw new EngineError('invalid', `${next.quorum} approvals would be required but the new policy makes ${everyone} change owner(s). Nothing was changed.`);
    if (canonicalJson(next) === canonicalJson(m.policy)) throw new EngineError('invalid', 'That is the current policy: nothing would change.');
    return next;
  }

  /** Proposes a change: pending until the current owners approve it. One pending change per migration. */
  async request(migrationId: string, edit: PolicyEdit, actor: Person): Promise<PolicyChange> {
    const m = await this.d.engine.getMigration(migrationId);
    if (!m) throw new EngineError('not-found', 'That migration does not exist.');
    if (m.state !== 'active') throw new EngineError('invalid', `${m.name} is ${m.state}: its policy no longer changes.`);
    await this.expireDue(m.id);
    const next = await this.proposed(m, edit);
    const now = this.d.clock.now();
    const id = await this.d.db.transaction(async (tx) => {
      const cur = (await tx.query('SELECT policy FROM migrations WHERE id = $1 FOR UPDATE', [m.id])).rows[0];
      if (canonicalJson(cur.policy) !== canonicalJson(m.policy))
        throw new EngineError('conflict', 'The policy changed meanwhile; look at it again and ask again.');
      const open = (await tx.query("SELECT id FROM policy_changes WHERE migration_id = $1 AND state = 'awaiting_approval'", [m.id])).rows[0];
      if (open)
        throw new EngineError('conflict', `Policy change ${open.id} of ${m.name} is still waiting for approval: approve, reject or let it expire first.`);
      const n = Number((await tx.query('SELECT coalesce(max(id), 0) + 1 AS n FROM policy_changes WHERE migration_id = $1', [m.id])).rows[0].n);
      const planHash = sha256(canonicalJson(next));
      await tx.query(
        'INSERT INTO policy_changes (migration_id, id, state, requested_by, requested_at, old_policy, new_policy, plan_hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)',
        [m.id, n, 'awaiting_approval', JSON.stringify(actor), now.toISOString(), JSON.stringify(m.policy), JSON.stringify(next), planHash],
      );
      await appendAudit(tx, {
        migrationId: m.id,
        at: now,
        actor,
        action: 'policy-change-requested',
        details: { changeId: n, old: m.policy, new: next, planHash, quorum: m.policy.quorum },
      });
      return n;
    });
    return (await this.get(m.id, id))!;
  }

  async get(migrationId: string, id: number, tx: Sql = this.d.db): Promise<PolicyChange | null> {
    const r = (await tx.query('SELECT * FROM policy_changes WHERE migration_id = $1 AND id = $2', [migrationId, id])).rows[0];
    return r ? toChange(r) : null;
  }

  async decisions(migrationId: string, id: number, tx: Sql = this.d.db): Promise<ApprovalRecord[]> {
    return (await tx.query('SELECT * FROM policy_change_decisions WHERE migration_id = $1 AND change_id = $2 ORDER BY at', [migrationId, id])).rows.map(
      (r: any) => ({
        approverOid: r.approver_oid,
        approverName: r.approver_name,
        decision: r.decision,
        at: new Date(r.at),
        planHash: '',
        comment: r.comment,
      }),
    );
  }

  /** Where the change stands now, as the current policy judges it. */
  async verdict(c: PolicyChange): Promise<{ verdict: Verdict; records: ApprovalRecord[] }> {
    const records = (await this.decisions(c.migrationId, c.id)).map((r) => ({ ...r, planHash: c.planHash }));
    const { policy, req } = approvalTerms(c);
    let owners;
    try {
      owners = await this.d.engine.ownersFor(
        { tenantId: (await this.d.engine.getMigration(c.migrationId))!.tenantId, policy },
        records.map((r) => r.approverOid),
      );
    } catch {
      owners = undefined; // the listed owners only
    }
    return { verdict: evaluate(policy, req, records, this.d.clock.now(), owners), records };
  }

  async setActivity(migrationId: string, id: number, activityId: string): Promise<void> {
    await this.d.db.query('UPDATE policy_changes SET activity_id = $3 WHERE migration_id = $1 AND id = $2 AND activity_id IS NULL', [
      migrationId,
      id,
      activityId,
    ]);
  }

  /** One Approve / Reject. Never throws for a person's mistake: the notice says what happened and nothing changed. */
  async decide(input: PolicyDecisionInput): Promise<{ changed: boolean; applied: boolean; notice?: string }> {
    const out = await this.#decide(input);
    if (!out.applied) return out;
    // Steps waiting for approval are weighed again under the new policy (after the commit: their cards follow).
    const { approved, reasked } = await this.d.engine.reweighPendingApprovals(input.migrationId, input.changeId);
    const said = [
      approved.length
        ? `${plural(approved, 'Step')} now ${approved.length > 1 ? 'have' : 'has'} enough approvals and ${approved.length > 1 ? 'start' : 'starts'}.`
        : '',
      reasked.length
        ? `${plural(reasked, 'Step')} still ${reasked.length > 1 ? 'wait' : 'waits'} for approval: asked again of the owners as they are now.`
        : '',
    ].filter(Boolean);
    return said.length ? { ...out, notice: said.join(' ') } : out;
  }

  async #decide(input: PolicyDecisionInput): Promise<{ changed: boolean; applied: boolean; notice?: string }> {
    const m = await this.d.engine.getMigration(input.migrationId);
    if (!m) throw new EngineError('not-found', 'That migration does not exist.');
    const before = await this.get(m.id, input.changeId);
    if (!before) throw new EngineError('not-found', `Policy change ${input.changeId} of ${m.name} does not exist.`);
    await this.expireDue(m.id);
    const { policy } = approvalTerms(before);
    // Owners by the CURRENT policy (its group read through Graph before the transaction; fail closed if unreadable).
    const earlier = (await this.decisions(m.id, before.id)).map((r) => r.approverOid);
    let owners = ownerSet({ ...policy, ownersGroup: null });
    try {
      owners = await this.d.engine.ownersFor({ tenantId: m.tenantId, policy }, [input.actor.oid, ...earlier]);
    } catch (e) {
      if (!(e instanceof OwnersGroupUnavailable)) throw e;
      if (!isOwner(policy, input.actor.oid))
        return {
          changed: false,
          applied: false,
          notice: `${e.message} You are not listed as a change owner by object id, and membership of the owners group cannot be checked now, so your decision was refused and nothing changed.`,
        };
    }
    const now = this.d.clock.now();
    return this.d.db.transaction(async (tx) => {
      await lockMigration(this.d.db, tx, m.id);
      const c = (await this.get(m.id, before.id, tx))!;
      if (c.state !== 'awaiting_approval')
        return { changed: false, applied: false, notice: `This policy change is ${c.state.replace('_', ' ')}: nothing was changed.` };
      if (c.version !== input.version)
        return { changed: false, applied: false, notice: 'This card was out of date, so nothing was done. Here is the current state.' };
      const { policy: terms, req } = approvalTerms(c);
      const records = (await this.decisions(m.id, c.id, tx)).map((r) => ({ ...r, planHash: c.planHash }));
      const may = mayDecide(terms, req, records, input.actor, now, input.verb, owners);
      if (!may.ok)
        return { changed: false, applied: false, notice: may.reason.replace('its steps', 'this policy change').replace('this step', 'this policy change') };
      await tx.query(
        'INSERT INTO policy_change_decisions (migration_id, change_id, approver_oid, approver_name, decision, comment, at) VALUES ($1,$2,$3,$4,$5,$6,$7)',
        [m.id, c.id, input.actor.oid.toLowerCase(), input.actor.name, input.verb, input.comment ?? null, now.toISOString()],
      );
      const all = [
        ...records,
        { approverOid: input.actor.oid.toLowerCase(), approverName: input.actor.name, decision: input.verb, at: now, planHash: c.planHash },
      ];
      const verdict = evaluate(terms, req, all, now, owners);
      await appendAudit(tx, {
        migrationId: m.id,
        at: now,
        actor: input.actor,
        action: input.verb === 'approve' ? 'policy-change-approved' : 'policy-change-rejected',
        details: { changeId: c.id, planHash: c.planHash, comment: input.comment ?? null, verdict: verdict.status },
      });
      let state: PolicyChangeState = 'awaiting_approval';
      if (verdict.status === 'rejected') state = 'rejected';
      if (verdict.status === 'approved') {
        const cur = (await tx.query('SELECT policy FROM migrations WHERE id = $1', [m.id])).rows[0].policy;
        if (canonicalJson(cur) !== canonicalJson(c.oldPolicy)) {
          // Cannot happen through cutover (one pending change at a time), but never apply over another change.
          state = 'rejected';
          await appendAudit(tx, {
            migrationId: m.id,
            at: now,
            actor: null,
            action: 'policy-change-rejected',
            details: { changeId: c.id, reason: 'the policy changed since this was requested' },
          });
        } else {
          state = 'applied';
          await tx.query('UPDATE migrations SET policy = $2, version = version + 1 WHERE id = $1', [m.id, JSON.stringify(c.newPolicy)]);
          await appendAudit(tx, {
            migrationId: m.id,
            at: now,
            actor: input.actor,
            action: 'policy-changed',
            details: { changeId: c.id, old: c.oldPolicy, new: c.newPolicy, requestedBy: c.requestedBy, approvedBy: verdict.approvedBy },
          });
        }
      }
      await tx.query('UPDATE policy_changes SET state = $3, decided_at = $4, version = version + 1 WHERE migration_id = $1 AND id = $2', [
        m.id,
        c.id,
        state,
        state === 'awaiting_approval' ? null : now.toISOString(),
      ]);
      return { changed: true, applied: state === 'applied' };
    });
  }

  /**
   * Pending changes past the current policy's expiry window become expired (audited, and their cards told). Run on the
   * approvals schedule (housekeeping.ts), and before any decision or listing, so a late click never counts. Returns how many.
   */
  async expireDue(migrationId?: string): Promise<number> {
    const rows = (
      await this.d.db.query("SELECT * FROM policy_changes WHERE state = 'awaiting_approval' AND ($1::text IS NULL OR migration_id = $1)", [migrationId ?? null])
    ).rows.map(toChange);
    const now = this.d.clock.now();
    let n = 0;
    for (const c of rows) {
      if (now.getTime() - c.requestedAt.getTime() < c.oldPolicy.expiryMs) continue;
      const done = await this.d.db.transaction(async (tx) => {
        await lockMigration(this.d.db, tx, c.migrationId);
        const r = await tx.query(
          "UPDATE policy_changes SET state = 'expired', decided_at = $3, version = version + 1 WHERE migration_id = $1 AND id = $2 AND state = 'awaiting_approval' RETURNING id",
          [c.migrationId, c.id, now.toISOString()],
        );
        if (!r.rows.length) return false;
        await appendAudit(tx, {
          migrationId: c.migrationId,
          at: now,
          actor: null,
          action: 'policy-change-expired',
          details: { changeId: c.id, expiredAt: new Date(c.requestedAt.getTime() + c.oldPolicy.expiryMs).toISOString() },
        });
        return true;
      });
      if (done) {
        n++;
        for (const l of this.#listeners) l({ migrationId: c.migrationId, changeId: c.id });
      }
    }
    return n;
  }

  /** Pending policy changes this person can decide (current owner, not the requester, not yet decided). */
  async pendingFor(oid: string): Promise<{ migration: Migration; change: PolicyChange }[]> {
    await this.expireDue();
    const rows = (await this.d.db.query("SELECT * FROM policy_changes WHERE state = 'awaiting_approval' ORDER BY requested_at ASC")).rows.map(toChange);
    const out: { migration: Migration; change: PolicyChange }[] = [];
    for (const c of rows) {
      const m = await this.d.engine.getMigration(c.migrationId);
      if (!m || c.requestedBy.oid.toLowerCase() === oid.toLowerCase()) continue;
      if (!(await this.d.engine.isOwnerNow({ tenantId: m.tenantId, policy: c.oldPolicy }, oid))) continue;
      if ((await this.decisions(m.id, c.id)).some((r) => r.approverOid === oid.toLowerCase())) continue;
      out.push({ migration: m, change: c });
    }
    return out;
  }
}

function toChange(r: any): PolicyChange {
  return {
    migrationId: r.migration_id,
    id: Number(r.id),
    state: r.state,
    requestedBy: r.requested_by,
    requestedAt: new Date(r.requested_at),
    oldPolicy: r.old_policy,
    newPolicy: r.new_policy,
    planHash: r.plan_hash,
    decidedAt: r.decided_at ? new Date(r.decided_at) : null,
    activityId: r.activity_id,
    version: Number(r.version),
  };
}

function plural(seqs: number[], noun: string): string {
  return seqs.length === 1 ? `${noun} ${seqs[0]}` : `${noun}s ${seqs.slice(0, -1).join(', ')} and ${seqs.at(-1)}`;
}
