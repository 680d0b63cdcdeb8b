import { describe, expect, it } from 'vitest';
import { defaultPolicy, evaluate, mayDecide, requiredQuorum, type ApprovalRecord } from '../../src/runbooks/policy.js';

const A = 'aaaaaaaa-0000-0000-0000-000000000001';
const B = 'bbbbbbbb-0000-0000-0000-000000000002';
const C = 'cccccccc-0000-0000-0000-000000000003';
const OUTSIDER = 'dddddddd-0000-0000-0000-000000000004';
const t0 = new Date('2026-11-21T09:00:00Z');
const at = (min: number) => new Date(t0.getTime() + min * 60_000);
const req = (requester = A, kind: 'change-owners' | 'sensitive' = 'change-owners') => ({
  requester: { oid: requester, name: 'R' },
  requestedAt: t0,
  planHash: 'h1',
  kind,
});
const rec = (oid: string, decision: 'approve' | 'reject', min = 1, planHash = 'h1'): ApprovalRecord => ({
  approverOid: oid,
  approverName: oid,
  decision,
  at: at(min),
  planHash,
});

describe('approvals policy (a pure function of policy, request, decisions and clock)', () => {
  const p2 = defaultPolicy([A, B, C], 2);

  it('needs N distinct owners; the requester never counts (four-eyes)', () => {
    expect(evaluate(p2, req(A), [rec(A, 'approve'), rec(B, 'approve')], at(2)).status).toBe('pending');
    expect(evaluate(p2, req(A), [rec(B, 'approve'), rec(B, 'approve')], at(2)).status).toBe('pending');
    expect(evaluate(p2, req(A), [rec(B, 'approve'), rec(C, 'approve')], at(2))).toMatchObject({ status: 'approved', approvedBy: [B, C] });
  });

  it('lets the requester count when four-eyes is off for the migration', () => {
    expect(evaluate({ ...p2, fourEyes: false }, req(A), [rec(A, 'approve'), rec(B, 'approve')], at(2)).status).toBe('approved');
  });

  it('rejects on any one Reject', () => {
    expect(evaluate(p2, req(A), [rec(B, 'approve'), rec(C, 'reject')], at(2))).toEqual({ status: 'rejected', rejectedBy: C });
  });

  it('ignores decisions by non-owners and on another plan', () => {
    expect(evaluate(p2, req(A), [rec(OUTSIDER, 'approve'), rec(B, 'approve')], at(2)).status).toBe('pending');
    expect(evaluate(p2, req(A), [rec(B, 'approve', 1, 'other'), rec(C, 'approve')], at(2)).status).toBe('pending');
  });

  it('expires an undecided request, and voids approvals older than the window', () => {
    expect(evaluate(p2, req(A), [rec(B, 'approve')], at(24 * 60 - 1)).status).toBe('pending');
    expect(evaluate(p2, req(A), [rec(B, 'approve')], at(24 * 60))).toMatchObject({ status: 'expired' });
    const p1 = defaultPolicy([A, B], 1);
    expect(evaluate(p1, req(A), [rec(B, 'approve', 1)], at(24 * 60 + 5)).status).toBe('expired');
  });

  it('asks sensitive steps for at least two owners', () => {
    const p1 = defaultPolicy([A, B, C], 1);
    expect(requiredQuorum(p1, 'sensitive')).toBe(2);
    expect(requiredQuorum(defaultPolicy([A, B, C], 3), 'sensitive')).toBe(3);
    expect(evaluate(p1, req(A, 'sensitive'), [rec(B, 'approve')], at(2)).status).toBe('pending');
    expect(evaluate(p1, req(A, 'sensitive'), [rec(B, 'approve'), rec(C, 'approve')], at(2)).status).toBe('approved');
  });

  it('says plainly why someone may not decide', () => {
    expect(mayDecide(p2, req(A), [], { oid: OUTSIDER }, at(1), 'approve')).toMatchObject({ ok: false, reason: expect.stringContaining('change owners') });
    expect(mayDecide(p2, req(A), [], { oid: A }, at(1), 'approve')).toMatchObject({ ok: false, reason: expect.stringContaining('four-eyes') });
    expect(mayDecide(p2, req(A), [], { oid: A }, at(1), 'reject')).toEqual({ ok: true }); // a requester may withdraw by rejecting
    expect(mayDecide(p2, req(A), [rec(B, 'approve')], { oid: B }, at(1), 'approve')).toMatchObject({ ok: false, reason: expect.stringContaining('already') });
    expect(mayDecide(p2, req(A), [], { oid: undefined }, at(1), 'approve')).toMatchObject({ ok: false });
    expect(mayDecide(p2, req(A), [], { oid: B }, at(24 * 60), 'approve')).toMatchObject({ ok: false, reason: expect.stringContaining('expired') });
    expect(mayDecide(p2, req(A), [], { oid: B.toUpperCase() }, at(1), 'approve')).toEqual({ ok: true });
  });
});
