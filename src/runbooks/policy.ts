import type { ApprovalKind, Person } from './types.js';
import type { ChangeWindow } from './windows.js';

/** Who may approve what, per migration. Set when the migration is created. */
export interface ApprovalPolicy {
  /** Change owners by Entra object id. */
  owners: string[];
  /**
   * An Entra group (object id) whose transitive user members are change owners too. Resolved through Graph by the
   * engine before a decision; these functions take the resolved set (OwnerSet) and stay pure.
   */
  ownersGroup?: string | null;
  /** Distinct owners needed to approve a step (any one Reject rejects). */
  quorum: number;
  /** The requester of a step never counts toward its quorum. */
  fourEyes: boolean;
  /** An undecided request expires after this; an approval older than this is void when the action would run. */
  expiryMs: number;
  /** Re-post to the approvers after this long pending. */
  reminderMs: number;
  /** Escalate after this long pending (after the reminder). */
  escalationMs: number;
  /** When production-changing steps may run; none means any time. */
  changeWindows?: ChangeWindow[];
}

export interface ApprovalRecord {
  approverOid: string;
  approverName: string;
  decision: 'approve' | 'reject';
  at: Date;
  planHash: string;
  comment?: string | null;
}

export interface ApprovalRequest {
  requester: Person;
  requestedAt: Date;
  planHash: string;
  kind: ApprovalKind;
}

export type Verdict =
  | { status: 'pending'; approvedBy: string[]; needed: number; expiresAt: Date }
  | { status: 'approved'; approvedBy: string[]; needed: number }
  | { status: 'rejected'; rejectedBy: string }
  | { status: 'expired'; expiredAt: Date };

export const SENSITIVE_MIN_QUORUM = 2;

export function requiredQuorum(policy: ApprovalPolicy, kind: ApprovalKind): number {
  if (kind === 'none') return 0;
  return kind === 'sensitive' ? Math.max(SENSITIVE_MIN_QUORUM, policy.quorum) : policy.quorum;
}

/** Everyone who is a change owner now, by lower-case Entra object id: the listed owners plus the group's members. */
export type OwnerSet = ReadonlySet<string>;

/** The owners listed by object id (no group members). */
export function directOwners(policy: ApprovalPolicy): OwnerSet {
  return new Set(policy.owners.map((o) => o.toLowerCase()));
}

/** The listed owners plus the owners group's resolved transitive user members. */
export function ownerSet(policy: ApprovalPolicy, groupMembers: Iterable<string> = []): OwnerSet {
  const s = new Set(directOwners(policy));
  if (policy.ownersGroup) for (const m of groupMembers) s.add(m.toLowerCase());
  return s;
}

/** Decided on the object id only. `owners` is the resolved set; without it, only the listed owners count. */
export function isOwner(policy: ApprovalPolicy, oid: string | undefined, owners: OwnerSet = directOwners(policy)): boolean {
  return !!oid && owners.has(oid.toLowerCase());
}

/**
 * Can this person cast a decision on this request now? Decided on the Entra object id only;
 * display names are never trusted.
 */
export function mayDecide(
  policy: ApprovalPolicy,
  req: ApprovalRequest,
  records: ApprovalRecord[],
  actor: { oid?: string },
  now: Date,
  decision: 'approve' | 'reject',
  owners: OwnerSet = directOwners(policy),
): { ok: true } | { ok: false; reason: string } {
  if (!actor.oid) return { ok: false, reason: 'Your Entra object id is not in the request, so cutover cannot tell whether you are a change owner.' };
  if (!isOwner(policy, actor.oid, owners)) {
    return {
      ok: false,
      reason: policy.ownersGroup
        ? 'Only the change owners of this migration (listed by object id, or members of its owners group) can approve or reject its steps.'
        : 'Only the change owners of this migration can approve or reject its steps.',
    };
  }
  if (now.getTime() - req.requestedAt.getTime() >= policy.expiryMs) return { ok: false, reason: 'This approval request has expired; ask for it again.' };
  if (decision === 'approve' && policy.fourEyes && req.requester.oid.toLowerCase() === actor.oid.toLowerCase()) {
    return { ok: false, reason: 'You requested this step, so you cannot approve it (four-eyes): another change owner must.' };
  }
  if (records.some((r) => r.approverOid.toLowerCase() === actor.oid!.toLowerCase() && r.planHash === req.planHash)) {
    return { ok: false, reason: 'You have already decided on this step.' };
  }
  return { ok: true };
}

/** The state of one approval request, as a pure function of (policy, request, decisions, clock). */
export function evaluate(policy: ApprovalPolicy, req: ApprovalRequest, records: ApprovalRecord[], now: Date, owners: OwnerSet = directOwners(policy)): Verdict {
  const valid = records.filter((r) => r.planHash === req.planHash && isOwner(policy, r.approverOid, owners));
  const reject = valid.find((r) => r.decision === 'reject');
  if (reject) return { status: 'rejected', rejectedBy: reject.approverOid };
  const needed = requiredQuorum(policy, req.kind);
  const approvedBy = [
    ...new Set(
      valid
        .filter((r) => r.decision === 'approve')
        .filter((r) => !(policy.fourEyes && r.approverOid.toLowerCase() === req.requester.oid.toLowerCase()))
        // An approval older than the window is void at the time the action would run.
        .filter((r) => now.getTime() - r.at.getTime() < policy.expiryMs)
        .map((r) => r.approverOid.toLowerCase()),
    ),
  ];
  if (approvedBy.length >= needed) return { status: 'approved', approvedBy, needed };
  const expiresAt = new Date(req.requestedAt.getTime() + policy.expiryMs);
  if (now >= expiresAt) return { status: 'expired', expiredAt: expiresAt };
  return { status: 'pending', approvedBy, needed, expiresAt };
}

export function defaultPolicy(owners: string[], quorum = 1, hours = { expiry: 24, reminder: 2, escalation: 8 }): ApprovalPolicy {
  return {
    owners,
    quorum,
    fourEyes: true,
    expiryMs: hours.expiry * 3_600_000,
    reminderMs: hours.reminder * 3_600_000,
    escalationMs: hours.escalation * 3_600_000,
  };
}
