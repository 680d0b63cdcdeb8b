import { describe, expect, it } from 'vitest';
import * as AC from 'adaptivecards';
import { renderCard, noticeCard, plainText, type CardName } from '../../src/bot/cards.js';
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
  step: { seq: 4, title: 'Stop the Connect Sync scheduler', purpose: 'Stop scheduled sync cycles.', version: 3, attempt: 1 },
  headline: {
    label: 'What it affects',
    text: 'Connect Sync stops for all 5,376 users, 28 groups and 8 contacts of contoso.com until step 12 (Start the Connect Sync scheduler).',
    style: 'warning',
  },
  warningRuns: [
    { text: 'A warning from ' },
    {
      text: 'Migrate Microsoft Entra Connect to Microsoft Entra Cloud Sync',
      url: 'https://learn.microsoft.com/entra/identity/hybrid/cloud-sync/migrate-azure-ad-connect-to-cloud-sync',
    },
  ],
  sourceRuns: [
    {
      text: 'Migrate Microsoft Entra Connect to Microsoft Entra Cloud Sync',
      url: 'https://learn.microsoft.com/entra/identity/hybrid/cloud-sync/migrate-azure-ad-connect-to-cloud-sync',
    },
    { text: ', "Stop the scheduler"' },
  ],
  details: null as null | string,
  errorRuns: [] as { text: string; url?: string }[],
  noticeRuns: [] as { text: string; url?: string }[],
  batchLabel: ' · batch 1',
  facts: [{ title: 'OU', value: 'OU=CloudSyncPilot,DC=contoso,DC=com' }],
  evidence: [] as { title: string; value: string }[],
  evidenceLong: [] as { title: string; value: string; mono: boolean }[],
  longFacts: [] as { title: string; value: string; mono: boolean }[],
  error: null as null | { code: string; message: string },
  notice: null as null | string,
  plan: [{ line: 'runner set-scheduler (changes the server) {"enabled":false}' }],
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
  lines: [
    { line: 'Entra connector (contoso.onmicrosoft.com - AAD): 0 adds, 1 updates, 0 deletes' },
    { line: 'AD connector (contoso.com): 0 adds, 0 updates, 6 deletes, of which 6 deletes of written-back groups' },
  ],
  objects: [{ line: 'delete AD    group    CN=Group_1,OU=GWB,DC=contoso,DC=com' }],
  more: 6,
  blocker: '6 groups that Connect wrote back to AD would be deleted from AD.',
  style: 'attention',
};

const variants: Record<string, Record<string, unknown>> = {
  'step pending': {
    ...stepBase,
    stateLabel: 'Not started',
    stateIcon: '○',
    stateColor: 'Default',
    stateStyle: 'default',
    buttons: { request: true, approve: false, confirm: false, retry: false, markDone: false },
  },
  'step awaiting approval (sensitive)': {
    ...stepBase,
    stateLabel: 'Waiting for approval',
    stateIcon: '⏳',
    stateColor: 'Warning',
    stateStyle: 'warning',
    buttons: { request: false, approve: true, confirm: true, retry: false, markDone: false },
  },
  'step succeeded': {
    ...stepBase,
    evidence: [{ title: 'Scheduler', value: 'off since 2026-12-05 04:37 UTC (3 min ago): no scheduled sync cycle runs (was on)' }],
    evidenceLong: [
      { title: 'Provisioning job id', value: 'AD2AADProvisioning.7f3b9c2e1d4a4e8b9c6f2a5d8e1b3c70.2224e08f-6372-46aa-96e7-7e2fe1f51e6e', mono: true },
    ],
    details: '{\n  "results": []\n}',
    stateLabel: 'Done',
    stateIcon: '✅',
    stateColor: 'Good',
    stateStyle: 'good',
    buttons: { request: false, approve: false, confirm: false, retry: false, markDone: false },
  },
  'step lost': {
    ...stepBase,
    error: { code: 'RunnerLost', message: 'The runner stopped reporting.' },
    errorRuns: [{ text: 'The runner stopped reporting.' }],
    notice: 'This card was out of date.',
    noticeRuns: [{ text: 'This card was out of date.' }],
    stateLabel: 'Lost',
    stateIcon: '❓',
    stateColor: 'Attention',
    stateStyle: 'attention',
    buttons: { request: false, approve: false, confirm: false, retry: true, markDone: true },
  },
  'step go-live with a blocker': {
    ...stepBase,
    goLive,
    confirmLabel: "6 groups … To approve anyway, type the migration's name:",
    stateLabel: 'Waiting for approval',
    stateIcon: '⏳',
    stateColor: 'Warning',
    stateStyle: 'warning',
    buttons: { request: false, approve: true, confirm: true, retry: false, markDone: false, done: false },
  },
  'step waiting for the person doing it': {
    ...stepBase,
    operatorNote: 'Approved: go ahead now.',
    stateLabel: 'Approved — waiting for the person doing it',
    stateIcon: '▶',
    stateColor: 'Accent',
    stateStyle: 'accent',
    buttons: { request: false, approve: false, confirm: false, retry: false, markDone: false, done: true },
  },
  'step with user-specific refresh': {
    ...stepBase,
    refreshUserIds: ['29:megan'],
    stateLabel: 'Waiting for approval',
    stateIcon: '⏳',
    stateColor: 'Warning',
    stateStyle: 'warning',
    buttons: { request: false, approve: true, confirm: false, retry: false, markDone: false },
  },
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
    [
      'new-migration-form',
      {
        error: 'A name is required.',
        kinds: [{ title: 'Entra Connect Sync → Cloud Sync', value: 'connect-to-cloud-sync' }],
        members: [{ name: 'Megan Bowen', oid: 'x' }],
        values: { kind: 'connect-to-cloud-sync', name: '', domain: '', ou: '', owners: '', ownerChoices: '', ownersGroup: '', approvals: '1' },
      },
    ],
    [
      'migration-overview',
      {
        id: 'p-1',
        name: 'Pilot',
        kindTitle: 'Connect → Cloud Sync',
        progress: '3 of 9 steps done',
        facts: [{ title: 'Domain', value: 'contoso.com' }],
        steps: [{ icon: '✅', seq: 1, title: 'Verify', batchLabel: '', stateLabel: 'Done' }],
      },
    ],
    ['status', { migrations: [{ id: 'p-1', name: 'Pilot', progress: '3 of 9', facts: [{ title: 'OU', value: 'on-premises 40 · Entra 40' }] }] }],
    [
      'status',
      {
        migrations: [
          {
            id: 'p-1',
            name: 'Pilot',
            progress: '3 of 9',
            facts: [],
            batches: [{ title: 'Batch 1', value: 'OU=A · 3 of 9 steps done · done' }],
            steps: [{ icon: '✅', seq: 1, title: 'Assess', batchLabel: '', stateLabel: 'Done' }],
          },
        ],
      },
    ],
    ['status', { migrations: [] }],
    [
      'jobs',
      {
        jobs: [
          {
            migration: 'Pilot',
            templateId: 'AD2AADProvisioning',
            id: 'AD2AADProvisioning.x.y',
            style: 'attention',
            facts: [{ title: 'Status', value: 'Quarantine' }],
          },
        ],
        emptyText: '',
      },
    ],
    ['list', { title: 'Runners', emptyText: 'None', items: [{ heading: 'r1', facts: [{ title: 'Health', value: 'Healthy' }] }] }],
    // Issue 15: the form with the tenant's verified domains and several runners to choose from.
    [
      'new-migration-form',
      {
        error: null,
        kinds: [{ title: 'Entra Connect Sync → Cloud Sync', value: 'connect-to-cloud-sync' }],
        members: [],
        domains: [{ name: 'contoso.com' }],
        runners: [{ name: 'connect01' }, { name: 'connect02' }],
        runnerNote: null,
        values: {
          kind: 'connect-to-cloud-sync',
          name: '',
          domain: 'contoso.com',
          ou: '',
          owners: '',
          ownerChoices: '',
          ownersGroup: '',
          approvals: '1',
          runner: '',
        },
      },
    ],
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
        id: 'al-1',
        migrationId: 'p-1',
        migrationName: 'Pilot',
        tenantId: 't',
        check: 'job-health',
        scope: 'job',
        severity: 'critical',
        title: 'Quarantined',
        summary: 'Too many failures.',
        remedy: 'Restart.',
        facts: [{ title: 'Reason', value: 'EncounteredBaseEscrowThreshold' }],
        objects: { title: 'Missing in Entra', lines: ['CN=a', 'CN=b'] },
        state: 'open',
        openedAt: new Date(),
        lastSeenAt: new Date(),
        resolvedAt: null,
        ackedBy: null,
        snoozedUntil: null,
        activityId: null,
        conversationId: null,
        deliveryError: null,
        version: 0,
      },
      { now: new Date() },
    );
    expect(parserEvents(alert)).toEqual([]);
  });

  it('an incident card: the migrations it affects, its history, the restart in each of its states, every button', () => {
    const now = new Date('2026-12-05T10:00:00Z');
    const base = {
      id: 'al-1',
      migrationId: 'p-1',
      migrationName: 'Pilot',
      tenantId: 't',
      subject: 'job:AD2AADProvisioning.x',
      check: 'job-health',
      scope: 'AD2AADProvisioning.x',
      severity: 'critical' as const,
      title: 'Cloud Sync job quarantined: TooManyDeletes',
      summary: 'Held deletes.',
      remedy: 'Restart.',
      facts: [{ title: 'Reason', value: 'TooManyDeletes' }],
      action: { kind: 'restart-job' as const, jobId: 'AD2AADProvisioning.x', resetScope: 'ForceDeletes', reason: 'TooManyDeletes' },
      state: 'open' as const,
      openedAt: now,
      lastSeenAt: now,
      resolvedAt: null,
      resolvedBy: null,
      ackedBy: null,
      snoozedUntil: null,
      activityId: null,
      conversationId: null,
      deliveryError: null,
      version: 2,
      posts: [],
      migrations: ['Pilot', 'Sales', 'Finance', 'HR'].map((name, i) => ({ id: `m-${i}`, name, conversationId: 'c', since: now, clearedAt: null })),
      history: [
        { at: now.toISOString(), event: 'opened' as const },
        { at: now.toISOString(), event: 'snoozed' as const, by: 'Megan Bowen', until: new Date(now.getTime() + 3_600_000).toISOString() },
      ],
    };
    const open = alertCard(base, { now, restartIn: 'Pilot' });
    expect(parserEvents(open)).toEqual([]);
    expect(JSON.stringify(open)).not.toContain('${');
    expect(open.actions).toEqual(expect.arrayContaining([expect.objectContaining({ title: 'Restart', verb: 'alert.restart', data: { alert: 'al-1', v: 2 } })]));
    const text = JSON.stringify(open);
    expect(text).toContain('CRITICAL · Pilot, Sales, Finance and 1 more');
    expect(text).toContain('Snoozed by Megan Bowen until 2026-12-05 11:00 UTC (in 1 h)');
    const restart = {
      migrationName: 'Pilot',
      seq: 21,
      stepsTotal: 21,
      resetScope: 'ForceDeletes',
      requestedBy: 'Lee Gu',
      approvedBy: ['Megan Bowen'],
      rejectedBy: [],
      runAfter: null,
      evidence: { restarted: true, restartedAt: now.toISOString(), quarantineAfter: null, skipped: 'resolved' },
      error: 'boom',
    };
    for (const state of ['pending', 'awaiting_approval', 'approved', 'running', 'succeeded', 'failed', 'rejected', 'skipped', 'lost'] as const) {
      const card = alertCard(base, { now, restartIn: 'Pilot', restart: { ...restart, state } });
      expect(parserEvents(card), state).toEqual([]);
      expect(JSON.stringify(card), state).toContain('step 21 of 21 of Pilot');
      // Another restart is offered once this one is done with (its own card offers asking again or Retry meanwhile).
      expect(
        (card.actions as any[]).some((a) => a.verb === 'alert.restart'),
        state,
      ).toBe(state === 'succeeded' || state === 'skipped');
    }
    const resolved = alertCard({ ...base, state: 'resolved', resolvedAt: now, resolvedBy: 'Megan Bowen' }, { now, restartIn: 'Pilot' });
    expect(resolved.actions).toEqual([expect.objectContaining({ title: 'Refresh' })]);
    expect(JSON.stringify(resolved)).toContain('✅ Resolved by Megan Bowen 2026-12-05 10:00 UTC');
  });

  it('runner request and token cards; a notice with a button', () => {
    const base: RunnerRequest = {
      id: 'rr-1',
      tenantId: 't',
      name: 'connect02',
      kind: 'add',
      state: 'awaiting_approval',
      requestedBy: { oid: 'a', name: 'Alex Wilber' },
      requestedAt: new Date(),
      decidedBy: null,
      decidedAt: null,
      claimBy: null,
      issuedAt: null,
      runnerId: null,
      conversationId: 'c',
      activityId: null,
      version: 0,
    };
    const states: Partial<RunnerRequest>[] = [
      {},
      { state: 'approved', decidedBy: { oid: 'm', name: 'Megan Bowen' }, decidedAt: new Date(), claimBy: new Date() },
      { state: 'issued', kind: 'rotate', issuedAt: new Date(), claimBy: new Date(), decidedBy: { oid: 'm', name: 'Megan' } },
      { state: 'rejected', decidedBy: { oid: 'm', name: 'Megan' } },
      { state: 'expired' },
    ];
    for (const st of states) {
      const card = runnerRequestCard({ ...base, ...st }, { notice: st.state ? undefined : 'You asked for this runner.', expiresAt: new Date() });
      expect(parserEvents(card), st.state ?? 'awaiting').toEqual([]);
      expect(JSON.stringify(card)).not.toContain('${');
    }
    const token = runnerTokenCard(
      { ...base, state: 'issued', claimBy: new Date() },
      'cutover_00000000-0000-0000-0000-000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      { serverUrl: 'https://cutover.contoso.com' },
    );
    expect(parserEvents(token)).toEqual([]);
    expect(token.refresh).toBeUndefined();
    expect(token.actions ?? []).toEqual([]);
    expect(
      parserEvents(
        noticeCard('Not cancelled', 'Why.', {
          color: 'Attention',
          buttons: [{ title: 'Roll back every batch', verb: 'migration.rollback', data: { m: 'p-1' } }],
        }),
      ),
    ).toEqual([]);
  });

  it('shows text exactly: every TextBlock and Fact becomes TextRuns (not Markdown in any Teams client), no entity anywhere', () => {
    const typed = 'OU=Sales\\, EMEA,OU=R\\+D,DC=contoso,DC=com [Approve](https://evil.example) <migration> *bold* &amp; `code` # 1. \\';
    const card = renderCard('notice', { title: typed, message: typed, hint: typed, color: 'Attention' });
    const json = JSON.stringify(card);
    expect(json).not.toMatch(/"type":"(TextBlock|FactSet)"|&lt;|&gt;|&#\d+;/);
    expect(card.body).toEqual([
      { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: typed, size: 'Medium', weight: 'Bolder', color: 'Attention' }] },
      { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: typed }] },
      { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: typed, size: 'Small', isSubtle: true }] },
    ]);
    // facts: rows of a bold title and a value, aligned down the card; an element's id and visibility carried over
    expect(plainText({ type: 'FactSet', id: 'f', isVisible: false, facts: [{ title: 'OU', value: 'OU=R\\+D,DC=contoso,DC=com' }] })).toEqual({
      type: 'Container',
      id: 'f',
      isVisible: false,
      items: [
        {
          type: 'ColumnSet',
          spacing: 'None',
          columns: [
            { type: 'Column', width: 2, items: [{ type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: 'OU', weight: 'Bolder' }] }] },
            { type: 'Column', width: 5, items: [{ type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: 'OU=R\\+D,DC=contoso,DC=com' }] }] },
          ],
        },
      ],
    });
    expect(plainText({ type: 'FactSet', facts: [] })).toBeNull();
    // no template renders a Markdown element
    for (const [name, data] of [...Object.values(variants).map((d) => ['step', d] as const), ...others])
      expect(JSON.stringify(renderCard(name, data)), name).not.toMatch(/"type":"(TextBlock|FactSet)"/);
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
