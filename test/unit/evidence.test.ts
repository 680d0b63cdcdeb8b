import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { seedContosoForest, MemorySyncTarget, type ContosoForest } from '../../src/sandbox/onprem/index.js';
import { SandboxExecutor } from '../../src/sandbox/onprem/executor.js';
import { runAction } from '../../src/agent/run-action.js';
import { actionNames, parseResult, type ActionName } from '../../src/actions/index.js';
import { GRAPH_EVIDENCE, RUNNER_EVIDENCE, detailsOf, evidenceView, fallback } from '../../src/bot/evidence.js';
import { connectToCloudSync } from '../../src/runbooks/definitions/connect-to-cloud-sync.js';
import type { GraphOperation } from '../../src/runbooks/types.js';
import { looksLikeJsonPath } from '../helpers/card-reading.js';

const now = new Date('2026-11-21T09:30:00Z');
const PILOT = 'OU=CloudSyncPilot,DC=contoso,DC=com';
const ESCAPED = 'OU=Sales\\, EMEA,DC=contoso,DC=com';

/** Parameters for the sandbox forest, one set per action, in an order that leaves each action something to do. */
const PARAMS: [ActionName, Record<string, unknown>][] = [
  ['get-scheduler', {}],
  ['get-connector-run-status', {}],
  ['get-run-profile-results', {}],
  ['get-company-features', {}],
  ['get-connector-scope', {}],
  ['ad-count', { ou: ESCAPED }],
  ['ad-count-by-ou', { base: 'DC=contoso,DC=com', excludeContainers: [PILOT] }],
  ['ad-domain-summary', {}],
  ['ad-export-identities', { ou: PILOT, classes: ['user'] }],
  ['ad-check-schema', {}],
  ['ad-copy-admin-description', { ou: 'OU=GWB,DC=contoso,DC=com', dryRun: true }],
  ['gwb-scope-report', { ou: 'OU=GWB,DC=contoso,DC=com' }],
  ['find-sync-accounts', {}],
  ['forest-object-count', {}],
  ['get-last-full-runs', {}],
  ['export-server-config', { label: 'before-batch-1' }],
  ['set-scheduler', { enabled: false }],
  ['create-noflow-rules', { migrationId: 'mig-1', ous: [PILOT, ESCAPED], objectTypes: ['user', 'inetOrgPerson', 'group', 'contact'] }],
  ['get-sync-rules', {}],
  ['start-sync-cycle', { policyType: 'Initial' }],
  ['get-noflow-status', { ou: ESCAPED }],
  ['get-pending-exports', { connector: 'entra' }],
  ['remove-noflow-rules', { migrationId: 'mig-1' }],
  ['create-group-writeback-noflow-rules', { migrationId: 'gwb-1' }],
  ['disable-group-writeback-v2', { confirm: true }],
  ['get-adsync-service', {}],
  ['set-adsync-service', { running: false }],
];

function sandbox() {
  let f: ContosoForest | undefined;
  const target = new MemorySyncTarget((dn) => f?.ad.getByDn(dn)?.objectGUID);
  f = seedContosoForest({ target });
  return new SandboxExecutor({ server: f.server, clock: new ManualClock('2026-11-21T09:00:00Z') });
}

/** Facts a person can read: words for labels, no raw values a renderer forgot to word. */
function expectReadable(facts: { title: string; value: string }[], what: string) {
  expect(facts.length, what).toBeGreaterThan(0);
  for (const f of facts) {
    expect(looksLikeJsonPath(f.title), `${what}: label "${f.title}"`).toBe(false);
    expect(f.value, `${what}: ${f.title}`).not.toMatch(/undefined|NaN|\[object Object\]|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  }
}

describe('evidence renderers', () => {
  it('have one renderer per action of the runner catalog and per Graph operation', () => {
    expect(Object.keys(RUNNER_EVIDENCE).sort()).toEqual([...actionNames].sort());
    expect(PARAMS.map(([a]) => a).sort()).toEqual([...actionNames].filter((a) => a !== 'get-export-deletion-threshold').sort());
    const ops: GraphOperation[] = [
      'assess',
      'configure-cloud-sync',
      'provision-on-demand',
      'start-cloud-sync-job',
      'verify-ou-counts',
      'verify-all-ous',
      'post-migration-validation',
      'configure-sync-features',
      'check-accidental-delete-prevention',
      'pause-cloud-sync-job',
      'verify-connect-owns-ou',
      'verify-group-provisioning',
      'verify-sync-resumed',
      'restart-quarantined-job',
    ];
    expect(Object.keys(GRAPH_EVIDENCE).sort()).toEqual([...ops].sort());
  });

  it("word every action's real result (the sandbox executor's) as labelled facts", async () => {
    const exec = sandbox();
    for (const [action, params] of PARAMS) {
      const out: any = await runAction(exec, action, params);
      expect(out.ok, `${action}: ${JSON.stringify(out.error)}`).toBe(true);
      expectReadable((RUNNER_EVIDENCE[action] as any)(out.result, { now, at: now, params }), action);
    }
    // Get-ADSyncExportDeletionThreshold cannot run unattended (a mandatory sign-in): a result of its shape still reads
    const threshold = parseResult('get-export-deletion-threshold', { DeletionPrevention: 1, ThresholdPercentage: 0, ThresholdCount: 500 });
    expect(RUNNER_EVIDENCE['get-export-deletion-threshold'](threshold as any, { now })).toEqual([
      { title: 'Accidental-delete prevention', value: 'on' },
      { title: 'Threshold', value: '500 objects' },
    ]);
  });

  it('say counts, rules and the scheduler as a person would', async () => {
    const exec = sandbox();
    const count: any = await runAction(exec, 'ad-count', { ou: ESCAPED });
    expect(RUNNER_EVIDENCE['ad-count'](count.result, { now })).toEqual([{ title: 'In the OU', value: '4 users, 0 groups, 0 contacts' }]);
    const stop: any = await runAction(exec, 'set-scheduler', { enabled: false });
    expect(RUNNER_EVIDENCE['set-scheduler'](stop.result, { now, at: new Date('2026-11-21T09:27:00Z') })).toEqual([
      { title: 'Scheduler', value: 'off since 2026-11-21 09:27 UTC (3 min ago): no scheduled sync cycle runs (was on)' },
      { title: 'Staging mode', value: 'off: this server exports' },
      { title: 'Next cycle', value: 'none while the scheduler is off' },
    ]);
    const start: any = await runAction(exec, 'set-scheduler', { enabled: true });
    expect(RUNNER_EVIDENCE['set-scheduler'](start.result, { now })[0].value).toBe('on: a sync cycle every 30 minutes (was off)');
    const pending: any = await runAction(exec, 'get-pending-exports', { connector: 'ad' });
    expect(RUNNER_EVIDENCE['get-pending-exports'](pending.result, { now })[0]).toEqual({
      title: 'AD connector pending exports',
      value: `${pending.result.connector}: 0 adds, 0 updates, 0 deletes`,
    });
  });

  it('word Graph evidence, and fall back to a count of fields, never to field paths', () => {
    const samples: Partial<Record<GraphOperation, Record<string, unknown>>> = {
      'configure-cloud-sync': {
        configuredAt: '2026-11-21T09:00:00Z',
        servicePrincipalId: 'sp',
        provisioningJobId: 'AD2AADProvisioning.x.y',
        passwordHashJobId: null,
        passwordHashSync: 'not used by the tenant: not configured',
        scopedContainers: [PILOT],
        configurationChanged: true,
        requestsSent: 5,
        jobStatus: 'NotRun',
        schedule: 'Disabled',
      },
      'start-cloud-sync-job': {
        provisioningJobId: 'AD2AADProvisioning.x.y',
        action: 'started',
        startedAt: '2026-11-21T09:00:00Z',
        jobStatus: 'NotRun',
        schedule: 'Active',
      },
      'verify-ou-counts': {
        ou: PILOT,
        takenByCloudSync: '44 of 44',
        byType: 'user: 40 of 40',
        notTaken: [],
        jobStatus: 'Active',
        agentHealth: 'healthy: The last cycle succeeded at 2026-11-21T09:10:00.000Z.',
        humanCheck: 'Create a test user.',
      },
      'verify-sync-resumed': { onPremisesSyncEnabled: true, onPremisesLastSyncDateTime: '2026-11-21T09:20:00Z', upgradeStartedAt: '2026-11-21T08:00:00Z' },
      'pause-cloud-sync-job': { paused: ['a'], jobs: ['a: Paused (Active)'], scopeKept: 'The OUs stay.' },
      'verify-group-provisioning': { jobId: 'AAD2ADGroupProvisioning.x', state: 'Active', status: 'Active', quarantine: null },
      'post-migration-validation': { 'User attributes': '40 users match', 'Agent health': 'healthy' },
      'restart-quarantined-job': {
        jobId: 'AD2AADProvisioning.x.y',
        resetScope: 'Watermark, Escrows, QuarantineState',
        restarted: true,
        restartedAt: '2026-11-21T09:25:00Z',
        quarantineBefore: 'EncounteredBaseEscrowThreshold',
        jobStatus: 'Active',
        quarantineAfter: null,
      },
    };
    for (const [op, ev] of Object.entries(samples)) expectReadable(GRAPH_EVIDENCE[op as GraphOperation](ev as any, { now }), op);
    expect(GRAPH_EVIDENCE['verify-sync-resumed'](samples['verify-sync-resumed'] as any, { now })[1]).toEqual({
      title: 'Last sync Entra ID received',
      value: '2026-11-21 09:20 UTC (10 min ago)',
    });
    expect(GRAPH_EVIDENCE['restart-quarantined-job'](samples['restart-quarantined-job'] as any, { now }).slice(0, 2)).toEqual([
      { title: 'Restarted', value: 'resetScope "Watermark, Escrows, QuarantineState", 2026-11-21 09:25 UTC (5 min ago)' },
      { title: 'Quarantine', value: 'lifted (it was EncounteredBaseEscrowThreshold)' },
    ]);
    expect(fallback({ a: 1, b: { c: 2 } })).toEqual([{ title: 'Result', value: '2 fields: see Details' }]);
  });

  it('show a step of an older or unknown shape without a JSON path, and keep all of it in Details', () => {
    const def = connectToCloudSync.steps.find((s) => s.key === 'count-ou-users')!;
    const v = evidenceView(
      def,
      {
        evidence: { results: [{ ou: ESCAPED, somethingNew: { deep: [1, 2] } }] },
        plan: { runner: [{ action: 'not-an-action', params: {}, mutation: false }] },
        updatedAt: now,
      },
      now,
    );
    expect(v.facts).toEqual([{ title: 'Result', value: '2 fields: see Details' }]);
    expect(v.details).toContain(`ou: ${ESCAPED}`); // a DN exactly: one backslash, as recorded
    expect(detailsOf({ files: Array.from({ length: 2000 }, (_, i) => ({ path: `f${i}`, sha256: 'x'.repeat(64) })) })).toMatch(
      /more characters: the whole evidence is in the audit/,
    );
  });
});
