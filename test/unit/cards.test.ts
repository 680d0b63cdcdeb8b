import { describe, expect, it } from 'vitest';
import * as AC from 'adaptivecards';
import { renderCard, noticeCard, type CardName } from '../../src/bot/cards.js';
import { alertCard } from '../../src/bot/alert-views.js';
import { COMMANDS } from '../../src/bot/commands.js';
import { runnerRequestCard, runnerTokenCard } from '../../src/bot/runner-views.js';
import type { RunnerRequest } from '../../src/runbooks/runner-registrations.js';

/** Parses a card the way a client does and returns every error or warning the parser reports. */
function parserEvents(card: unknown): string[] {
  const ac = new AC.AdaptiveCard();
  const ctx = new AC.SerializationContext();
  ac.parse(card as any, ctx);
  const out: string[] = [];
  for (let i = 0; i < ctx.eventCount; i++) {
    const e = ctx.getEventAt(i);
    out.push(`${AC.ValidationEvent[e.event]}: ${e.message}`);
  }
  // The renderer's own validation (e.g. duplicate ids, unknown actions)
  const v = ac.validateProperties();
  for (const e of v.validationEvents) out.push(`${AC.ValidationEvent[e.event]}: ${e.message}`);
  return out;
}

const stepBase = {
  migration: { id: 'pilot-1a2b', name: 'Pilot', stepsTotal: 9, stepsDone: 3 },
  step: { seq: 4, title: 'Stop the Connect Sync scheduler', purpose: 'Stop scheduled sync cycles.', warning: 'A warning from the seed.', version: 3, attempt: 1 },
  batchLabel: ' · batch 1',
  facts: [{ title: 'OU', value: 'OU=CloudSyncPilot,DC=contoso,DC=com' }],
  evidence: [] as { title: string; value: string }[],
  error: null as null | { code: string; message: string },
  notice: null as null | string,
  plan: [{ line: 'runner set-scheduler (changes the server) {"enabled":false}' }],
  effect: 'Connect Sync runs no scheduled cycle.',
  planHash: 'abcdef0123456789',
  requestTitle: 'Request approval',
  approverNote: 'Approve / Reject: change owners only (Megan Bowen).',
  refreshUserIds: null as null | string[],
  goLive: null as unknown,
  operatorNote: null as null | string,
  confirmLabel: "This cannot be undone. Type the migration's name to approve:",
};
const goLive = {
  total: 7,
  lines: [{ line: 'Entra connector (contoso.onmicrosoft.com - AAD): 0 adds, 1 updates, 0 deletes' }, { line: 'AD connector (contoso.com): 0 adds, 0 updates, 6 deletes, of which 6 deletes of written-back groups' }],
  objects: [{ line: 'delete AD    group    CN=Group_1,OU=GWB,DC=contoso,DC=com' }],
  more: 6,
  blocker: '6 groups that Connect wrote back to AD would be deleted from AD.',
  style: 'attention',
};

const variants: Record<string, Record<string, unknown>> = {
  'step pending': { ...stepBase, stateLabel: 'Not started', stateIcon: '○', stateColor: 'Default', stateStyle: 'default', buttons: { request: true, approve: false, confirm: false, retry: false, markDone: false } },
  'step awaiting approval (sensitive)': { ...stepBase, stateLabel: 'Waiting for approval', stateIcon: '⏳', stateColor: 'Warning', stateStyle: 'warning', buttons: { request: false, approve: true, confirm: true, retry: false, markDone: false } },
  'step succeeded': { ...stepBase, evidence: [{ title: 'SyncCycleEnabled', value: 'false' }], stateLabel: 'Done', stateIcon: '✅', stateColor: 'Good', stateStyle: 'good', buttons: { request: false, approve: false, confirm: false, retry: false, markDone: false } },
  'step lost': { ...stepBase, error: { code: 'RunnerLost', message: 'The runner stopped reporting.' }, notice: 'This card was out of date.', stateLabel: 'Lost', stateIcon: '❓', stateColor: 'Attention', stateStyle: 'attention', buttons: { request: false, approve: false, confirm: false, retry: true, markDone: true } },
  'step go-live with a blocker': { ...stepBase, goLive, confirmLabel: '6 groups … To approve anyway, type the migration\'s name:', stateLabel: 'Waiting for approval', stateIcon: '⏳', stateColor: 'Warning', stateStyle: 'warning', buttons: { request: false, approve: true, confirm: true, retry: false, markDone: false, done: false } },
  'step waiting for the person doing it': { ...stepBase, operatorNote: 'Approved: go ahead now.', stateLabel: 'Approved — waiting for the person doing it', stateIcon: '▶', stateColor: 'Accent', stateStyle: 'accent', buttons: { request: false, approve: false, confirm: false, retry: false, markDone: false, done: true } },
  'step with user-specific refresh': { ...stepBase, refreshUserIds: ['29:megan'], stateLabel: 'Waiting for approval', stateIcon: '⏳', stateColor: 'Warning', stateStyle: 'warning', buttons: { request: false, approve: true, confirm: false, retry: false, markDone: false } },
};

describe('card templates render without parser errors or warnings', () => {
  for (const [name, data] of Object.entries(variants)) {
    it(name, () => {
      const card = renderCard('step', data);
      expect(parserEvents(card)).toEqual([]);
      expect(JSON.stringify(card)).not.toContain('${'); // every binding was expanded
    });
  }

  const others: [CardName, Record<string, unknown>][] = [
    ['help', { notice: "I don't know that.", commands: COMMANDS }],
    ['new-migration-form', { error: 'A name is required.', kinds: [{ title: 'Entra Connect Sync → Cloud Sync', value: 'connect-to-cloud-sync' }], members: [{ name: 'Megan Bowen', oid: 'x' }], values: { kind: 'connect-to-cloud-sync', name: '', domain: '', ou: '', owners: '', ownerChoices: '', ownersGroup: '', approvals: '1' } }],
    ['migration-overview', { id: 'p-1', name: 'Pilot', kindTitle: 'Connect → Cloud Sync', progress: '3 of 9 steps done', facts: [{ title: 'Domain', value: 'contoso.com' }], steps: [{ icon: '✅', seq: 1, title: 'Verify', batchLabel: '', stateLabel: 'Done' }] }],
    ['status', { migrations: [{ id: 'p-1', name: 'Pilot', progress: '3 of 9', facts: [{ title: 'OU', value: 'on-premises 40 · Entra 40' }] }] }],
    ['status', { migrations: [{ id: 'p-1', name: 'Pilot', progress: '3 of 9', facts: [], batches: [{ title: 'Batch 1', value: 'OU=A · 3 of 9 steps done · done' }], steps: [{ icon: '✅', seq: 1, title: 'Assess', batchLabel: '', stateLabel: 'Done' }] }] }],
    ['status', { migrations: [] }],
    ['jobs', { jobs: [{ migration: 'Pilot', templateId: 'AD2AADProvisioning', id: 'AD2AADProvisioning.x.y', style: 'attention', facts: [{ title: 'Status', value: 'Quarantine' }] }], emptyText: '' }],
    ['list', { title: 'Runners', emptyText: 'None', items: [{ heading: 'r1', facts: [{ title: 'Health', value: 'Healthy' }] }] }],
    // Issue 15: the form with the tenant's verified domains and several runners to choose from.
    ['new-migration-form', { error: null, kinds: [{ title: 'Entra Connect Sync → Cloud Sync', value: 'connect-to-cloud-sync' }], members: [], domains: [{ name: 'contoso.com' }], runners: [{ name: 'connect01' }, { name: 'connect02' }], runnerNote: null, values: { kind: 'connect-to-cloud-sync', name: '', domain: 'contoso.com', ou: '', owners: '', ownerChoices: '', ownersGroup: '', approvals: '1', runner: '' } }],
  ];
  for (const [name, data] of others) {
    it(`${name} (${Object.keys(data).join(',')})`, () => {
      const card = renderCard(name, data);
      expect(parserEvents(card)).toEqual([]);
      expect(JSON.stringify(card)).not.toContain('${');
    });
  }

  it('notice and alert cards', () => {
    expect(parserEvents(noticeCard('Title', 'Message', { hint: 'Hint', color: 'Attention' }))).toEqual([]);
    const alert = alertCard(
      {
        id: 'al-1', migrationId: 'p-1', migrationName: 'Pilot', tenantId: 't', check: 'job-health', scope: 'job', severity: 'critical', title: 'Quarantined', summary: 'Too many failures.', remedy: 'Restart.',
        facts: [{ title: 'Reason', value: 'EncounteredBaseEscrowThreshold' }], objects: { title: 'Missing in Entra', lines: ['CN=a', 'CN=b'] }, state: 'open', openedAt: new Date(), lastSeenAt: new Date(), resolvedAt: null,
        ackedBy: null, snoozedUntil: null, activityId: null, conversationId: null, deliveryError: null, version: 0,
      },
      { now: new Date() },
    );
    expect(parserEvents(alert)).toEqual([]);
  });

  it('runner request and token cards; a notice with a button', () => {
    const base: RunnerRequest = { id: 'rr-1', tenantId: 't', name: 'connect02', kind: 'add', state: 'awaiting_approval', requestedBy: { oid: 'a', name: 'Alex Wilber' }, requestedAt: new Date(), decidedBy: null, decidedAt: null, claimBy: null, issuedAt: null, runnerId: null, conversationId: 'c', activityId: null, version: 0 };
    const states: Partial<RunnerRequest>[] = [{}, { state: 'approved', decidedBy: { oid: 'm', name: 'Megan Bowen' }, decidedAt: new Date(), claimBy: new Date() }, { state: 'issued', kind: 'rotate', issuedAt: new Date(), claimBy: new Date(), decidedBy: { oid: 'm', name: 'Megan' } }, { state: 'rejected', decidedBy: { oid: 'm', name: 'Megan' } }, { state: 'expired' }];
    for (const st of states) {
      const card = runnerRequestCard({ ...base, ...st }, { notice: st.state ? undefined : 'You asked for this runner.', expiresAt: new Date() });
      expect(parserEvents(card), st.state ?? 'awaiting').toEqual([]);
      expect(JSON.stringify(card)).not.toContain('${');
    }
    const token = runnerTokenCard({ ...base, state: 'issued', claimBy: new Date() }, 'cutover_00000000-0000-0000-0000-000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', { serverUrl: 'https://cutover.contoso.com' });
    expect(parserEvents(token)).toEqual([]);
    expect(token.refresh).toBeUndefined();
    expect(token.actions ?? []).toEqual([]);
    expect(parserEvents(noticeCard('Not cancelled', 'Why.', { color: 'Attention', buttons: [{ title: 'Roll back every batch', verb: 'migration.rollback', data: { m: 'p-1' } }] }))).toEqual([]);
  });

  it('keeps user text as text: a name with template syntax is not evaluated', () => {
    const card = renderCard('notice', { title: '${migration.id}', message: '${string(1+1)}', hint: null, color: 'Default' });
    expect(JSON.stringify(card)).toContain('${migration.id}');
    expect(JSON.stringify(card)).toContain('${string(1+1)}');
  });
});

describe('a template is parsed once and serves every render', () => {
  it('renders the same card for the same data whatever was rendered in between', () => {
    const lost = variants['step lost'];
    const pending = variants['step pending'];
    const first = JSON.stringify(renderCard('step', lost));
    const other = JSON.stringify(renderCard('step', { ...pending, step: { ...stepBase.step, title: 'Another step' }, facts: [] }));
    expect(other).toContain('Another step');
    expect(other).not.toContain('RunnerLost');
    expect(JSON.stringify(renderCard('step', lost))).toBe(first);
    expect(first).toContain('RunnerLost');
  });
});
