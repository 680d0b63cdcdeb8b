import { describe, expect, it } from 'vitest';
import { stepCard } from '../../src/bot/views.js';
import type { Migration, StepRow } from '../../src/runbooks/engine.js';
import { defaultPolicy, type ApprovalRecord } from '../../src/runbooks/policy.js';
import type { StepProgress, StepSnapshot } from '../../src/runbooks/snapshot.js';
import { facts, lines } from '../helpers/card-reading.js';

/**
 * A step card is a pure function of a step's snapshot: these render it from hand-built snapshots, with no store, engine
 * or server. The snapshot is what one click reads (or what its transition hands back).
 */

const ALEX = { oid: '00000000-0000-0000-0000-00000000a1e0', name: 'Alex Wilber' };
const MEGAN = { oid: '00000000-0000-0000-0000-0000000be6a0', name: 'Megan Bowen' };
const LEE = { oid: '00000000-0000-0000-0000-0000000011ee', name: 'Lee Gu' };
const PAT = { oid: '00000000-0000-0000-0000-0000000ba700', name: 'Pat Jensen' };
const NOW = new Date('2026-11-22T10:00:00Z');
const ASKED = new Date('2026-11-22T09:00:00Z');
const OU = 'OU=CloudSyncPilot,DC=contoso,DC=com';

const migration = (over: Partial<Migration> = {}): Migration => ({
  id: 'pilot-1a2b',
  name: 'Pilot',
  kind: 'connect-to-cloud-sync',
  tenantId: 't',
  domain: 'contoso.com',
  // Alex asks, Megan and Lee (and Alex, who never approves his own request) own; two approvals per step.
  policy: defaultPolicy([ALEX.oid, MEGAN.oid, LEE.oid], 2),
  ous: [OU],
  soakDays: 7,
  partial: false,
  rolledBackOus: [],
  cloudHeldOus: [],
  runnerName: 'sandbox-runner',
  options: {},
  state: 'active',
  createdBy: ALEX,
  createdAt: new Date('2026-11-22T08:00:00Z'),
  conversationId: '19:ops@thread.tacv2;messageid=1',
  overviewActivityId: '1',
  ...over,
});

const row = (over: Partial<StepRow>): StepRow => ({
  migrationId: 'pilot-1a2b',
  seq: 5,
  ord: 5,
  key: 'stop-scheduler',
  batch: 1,
  state: 'pending',
  params: null,
  attempt: 0,
  requestedBy: null,
  requestedAt: null,
  planHash: null,
  plan: null,
  jobId: null,
  evidence: null,
  error: null,
  activityId: 'act-5',
  updatedAt: ASKED,
  version: 3,
  remindedAt: null,
  escalatedAt: null,
  runAfter: null,
  ownerId: null,
  leaseUntil: null,
  leaseAttempt: null,
  ...over,
});

/** The migration's other steps as the snapshot carries them: the assessment's and the OU count's evidence (effect facts). */
function progress(step: StepRow): StepProgress[] {
  const done = (seq: number, key: string, batch: number | null, evidence: Record<string, unknown> | null = null): StepProgress => ({
    seq,
    ord: seq,
    key,
    batch,
    state: 'succeeded',
    evidence,
    activityId: `act-${seq}`,
  });
  return [
    done(1, 'assessment', null, { counts: { total: 5412, users: 5376, groups: 28, contacts: 8 } }),
    done(2, 'verify-prerequisites', null),
    done(3, 'backup-connect-config', null),
    done(4, 'count-ou-users', 1, { results: [{ users: 40, groups: 2, contacts: 2 }] }),
    { seq: 5, ord: 5, key: step.key, batch: 1, state: step.state, evidence: null, activityId: step.activityId },
    { seq: 6, ord: 6, key: 'create-noflow-rules', batch: 1, state: 'pending', evidence: null, activityId: null },
    { seq: 12, ord: 12, key: 'start-scheduler', batch: 1, state: 'pending', evidence: null, activityId: null },
  ];
}

const awaiting = row({
  state: 'awaiting_approval',
  attempt: 1,
  requestedBy: ALEX,
  requestedAt: ASKED,
  planHash: 'h1',
  plan: {
    runner: [{ action: 'set-scheduler', params: { enabled: false }, mutation: true }],
    effect: 'Connect Sync stops for every object of contoso.com it synchronizes.',
  },
  version: 4,
});
const approvedByMegan: ApprovalRecord = {
  approverOid: MEGAN.oid,
  approverName: MEGAN.name,
  decision: 'approve',
  at: new Date('2026-11-22T09:30:00Z'),
  planHash: 'h1',
  comment: null,
};

function snapshot(step: StepRow, over: Partial<StepSnapshot> = {}): StepSnapshot {
  const m = over.migration ?? migration();
  const direct = m.policy.owners.map((o) => o.toLowerCase());
  return {
    migration: m,
    step,
    steps: progress(step),
    approvals: [],
    owners: { owners: new Set(direct), direct, group: null, groupError: null },
    people: {
      [ALEX.oid]: { name: ALEX.name, teamsId: '29:alex' },
      [MEGAN.oid]: { name: MEGAN.name, teamsId: '29:megan' },
      [LEE.oid]: { name: LEE.name, teamsId: '29:lee' },
    },
    ...over,
  };
}

/** The card's buttons (Action.Execute titles), in order. */
function buttons(card: unknown): string[] {
  const out: string[] = [];
  const walk = (n: any) => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(walk);
    if (n.type === 'Action.Execute' && n !== (card as any).refresh?.action) out.push(n.title);
    for (const [k, v] of Object.entries(n)) if (k !== 'refresh' && typeof v === 'object') walk(v);
  };
  walk(card);
  return out;
}
const fact = (card: unknown, title: string) => facts(card).find((f) => f.title === title)?.value;

describe('step card from a snapshot (no store, no server)', () => {
  it('names who it waits for, who asked and who approved, and what is still needed', () => {
    const card = stepCard(snapshot(awaiting, { approvals: [approvedByMegan] }), { now: NOW, viewerOid: LEE.oid });
    expect(lines(card)).toContain('⏳ Waiting for approval');
    expect(lines(card)).toContain('Pilot · step 5 of 7 · batch 1');
    // Alex asked (four-eyes: never waited for), Megan approved: Lee is the one left.
    expect(fact(card, 'Waiting for')).toBe('Lee Gu');
    expect(fact(card, 'Asked by')).toMatch(/^Alex Wilber, 2026-11-22 09:00 UTC/);
    expect(fact(card, 'Approved by')).toMatch(/^Megan Bowen, 2026-11-22 09:30 UTC/);
    expect(fact(card, 'Still needed')).toBe('1 more approval');
    expect(lines(card).some((l) => l.includes('change owners only (Megan Bowen, Lee Gu)'))).toBe(true);
  });

  it('waits for every owner but the requester before anyone decided, and shows an unseen owner by object id', () => {
    const m = migration({ policy: defaultPolicy([ALEX.oid, MEGAN.oid, LEE.oid, PAT.oid], 2) });
    const card = stepCard(snapshot(awaiting, { migration: m }), { now: NOW, viewerOid: MEGAN.oid });
    expect(fact(card, 'Waiting for')).toBe(`Megan Bowen, Lee Gu, ${PAT.oid}`);
    expect(fact(card, 'Still needed')).toBe('2 more approvals');
  });

  it('gives Approve / Reject to a change owner only; the channel card names the owners for Teams to refresh', () => {
    const s = snapshot(awaiting);
    expect(buttons(stepCard(s, { now: NOW, viewerOid: LEE.oid }))).toEqual(['Approve', 'Reject', 'Refresh']);
    expect(buttons(stepCard(s, { now: NOW, viewerOid: PAT.oid }))).toEqual(['Refresh']);
    // The requester owns too: he sees the buttons, and the server refuses his approval (four-eyes).
    expect(buttons(stepCard(s, { now: NOW, viewerOid: ALEX.oid }))).toEqual(['Approve', 'Reject', 'Refresh']);
    // A client without user-specific views: the shared card carries the buttons for everyone.
    const shared = stepCard(s, { now: NOW });
    expect(buttons(shared)).toEqual(['Approve', 'Reject', 'Refresh']);
    expect((shared as any).refresh).toBeUndefined();
    // Teams: the shared card is read-only and asks each owner's client for its own view.
    const base = stepCard(s, { now: NOW, userSpecific: true });
    expect(buttons(base)).toEqual(['Refresh']);
    expect((base as any).refresh.userIds).toEqual(['29:alex', '29:megan', '29:lee']);
    expect((base as any).refresh.action).toMatchObject({ verb: 'card.refresh', data: { m: 'pilot-1a2b', s: 5, v: 4 } });
  });

  it('shows each state with its label and the buttons it allows', () => {
    const cases: [StepRow, string, string[]][] = [
      [row({ state: 'pending' }), '○ Not started', ['Request approval', 'Refresh']],
      [row({ state: 'approved', attempt: 1, requestedBy: ALEX, requestedAt: ASKED, planHash: 'h1' }), '✔ Approved — starting', ['Refresh']],
      [row({ state: 'running', attempt: 1, jobId: 'job-9' }), '▶ Running', ['Refresh']],
      [row({ state: 'succeeded', attempt: 1, evidence: { results: [{ SyncCycleEnabled: false }] } }), '✅ Done', ['Refresh']],
      [
        row({ state: 'failed', attempt: 1, error: { code: 'RunnerActionFailed', message: 'The runner reported a failure.' } }),
        '❌ Failed',
        ['Retry', 'Refresh'],
      ],
      [row({ state: 'rejected', attempt: 1 }), '⛔ Rejected', ['Request approval', 'Refresh']],
      [
        row({ state: 'lost', attempt: 1, error: { code: 'RunnerLost', message: 'The runner stopped reporting.' } }),
        '❓ Lost — a human must check',
        ['Retry', 'Mark done', 'Refresh'],
      ],
    ];
    for (const [step, label, want] of cases) {
      const card = stepCard(snapshot(step), { now: NOW, viewerOid: MEGAN.oid });
      expect(lines(card), step.state).toContain(label);
      expect(buttons(card), step.state).toEqual(want);
    }
  });

  it('a cancelled migration: the step reads Cancelled, with the reason, and offers nothing but Refresh', () => {
    const step = row({ state: 'skipped', evidence: { cancelled: true, skipped: 'the migration was cancelled by Megan Bowen' } });
    const card = stepCard(snapshot(step, { migration: migration({ state: 'cancelled' }) }), { now: NOW, viewerOid: MEGAN.oid });
    expect(lines(card)).toContain('⊘ Cancelled');
    expect(lines(card).some((l) => l.includes('Pilot was cancelled: the migration was cancelled by Megan Bowen. Nothing of it runs any more.'))).toBe(true);
    expect(buttons(card)).toEqual(['Refresh']);
  });

  it('before a plan exists, states the blast radius from what earlier steps proved (the snapshot carries their evidence)', () => {
    const card = stepCard(snapshot(row({ state: 'pending' })), { now: NOW });
    const text = lines(card).join('\n');
    expect(text).toContain('What it affects');
    expect(text).toContain('the domain holds 5,376 users, 28 groups and 8 contacts');
    expect(text).toContain('until step 12 (Start the Connect Sync scheduler)');
  });

  it('a notice for the one who clicked is shown on their card', () => {
    const card = stepCard(snapshot(awaiting), {
      now: NOW,
      viewerOid: MEGAN.oid,
      notice: 'This card was out of date, so nothing was done. Here is the current state.',
    });
    expect(lines(card).some((l) => l.includes('This card was out of date'))).toBe(true);
  });
});
