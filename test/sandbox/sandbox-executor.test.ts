import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { seedContosoForest, MemorySyncTarget, type ContosoForest } from '../../src/sandbox/onprem/index.js';
import { SandboxExecutor } from '../../src/sandbox/onprem/executor.js';
import { runAction } from '../../src/agent/run-action.js';
import { actionNames, catalog } from '../../src/actions/index.js';
import { legacyNoFlowRuleId, noFlowRuleId } from '../../src/agent/executors/rules.js';
import type { Executor } from '../../src/agent/executors/types.js';

function setup() {
  let f: ContosoForest | undefined;
  const target = new MemorySyncTarget((dn) => f?.ad.getByDn(dn)?.objectGUID);
  f = seedContosoForest({ target });
  const clock = new ManualClock('2026-11-21T09:00:00Z');
  return { f, exec: new SandboxExecutor({ server: f.server, clock }), clock };
}

describe('sandbox executor', () => {
  it('answers every read action with a result that matches its schema (the deletion threshold fails as on a real server)', async () => {
    const { exec } = setup();
    const skip = [
      'ad-count',
      'ad-count-by-ou',
      'ad-export-identities',
      'export-server-config',
      'get-noflow-status',
      'get-export-deletion-threshold',
      'get-pending-exports',
      'gwb-scope-report',
    ];
    for (const name of actionNames.filter((n) => !catalog[n].mutation && !skip.includes(n))) {
      const out = await runAction(exec, name, {});
      expect(out, name).toMatchObject({ ok: true });
    }
    for (const connector of ['ad', 'entra'])
      expect(await runAction(exec, 'get-pending-exports', { connector }), connector).toMatchObject({
        ok: true,
        result: { connectorType: connector, total: 0 },
      });
    // -AADUserName is mandatory; a non-interactive runner gets PowerShell's missing-parameter error.
    expect(await runAction(exec, 'get-export-deletion-threshold', {})).toMatchObject({
      ok: false,
      error: { code: 'failed', message: 'Cannot process command because of one or more missing mandatory parameters: AADUserName.' },
    });
  });

  it('create-noflow-rules: one rule pair per type per migration, updated in place for more OUs, idempotent', async () => {
    const { f, exec } = setup();
    const params = { migrationId: 'mig-7', ous: ['ou=cloudsyncpilot,dc=contoso,dc=com'], objectTypes: ['user', 'inetOrgPerson', 'group', 'contact'] };
    const first: any = await runAction(exec, 'create-noflow-rules', params);
    expect(first.ok).toBe(true);
    expect(first.result).toMatchObject({ ous: ['OU=CloudSyncPilot,DC=contoso,DC=com'], created: 8, updated: 0, alreadyPresent: 0, fullSyncRequired: true });
    expect(first.result.rules.map((r: any) => r.identifier)).toContain(noFlowRuleId('mig-7', 'inetOrgPerson', 'inbound'));
    expect(f.server.connectorOverride(f.adConnectorId).FullSyncRequired).toBe(true);
    const again: any = await runAction(exec, 'create-noflow-rules', params);
    expect(again.result).toMatchObject({ created: 0, updated: 0, alreadyPresent: 8 });
    // Batch 2: the same rules, a second scope group; same identifiers and precedences, nothing new.
    const more: any = await runAction(exec, 'create-noflow-rules', { ...params, ous: [params.ous[0], 'OU=Finance,DC=contoso,DC=com'] });
    expect(more.result).toMatchObject({ created: 0, updated: 4, alreadyPresent: 4 }); // the 4 inbound rules changed scope
    expect(more.result.rules.map((r: any) => [r.identifier, r.precedence])).toEqual(first.result.rules.map((r: any) => [r.identifier, r.precedence]));
    const custom = f.server.rules().filter((r) => !r.IsStandardRule);
    expect(custom).toHaveLength(8);
    const inbound = f.server.getRule(noFlowRuleId('mig-7', 'user', 'inbound'))!;
    expect(inbound.ScopeFilter).toEqual([
      { ScopeConditionList: [{ Attribute: 'dn', ComparisonValue: 'OU=CloudSyncPilot,DC=contoso,DC=com', ComparisonOperator: 'ENDSWITH' }] },
      { ScopeConditionList: [{ Attribute: 'dn', ComparisonValue: 'OU=Finance,DC=contoso,DC=com', ComparisonOperator: 'ENDSWITH' }] },
    ]);
    expect(f.server.getRule(noFlowRuleId('mig-7', 'inetOrgPerson', 'outbound'))).toMatchObject({
      SourceObjectType: 'person',
      TargetObjectType: 'user',
      LinkType: 'JoinNoFlow',
    });
    // A second migration takes its own 8 precedences, however many batches either has.
    const other: any = await runAction(exec, 'create-noflow-rules', { migrationId: 'mig-8', ous: ['OU=Sales,DC=contoso,DC=com'], objectTypes: ['user'] });
    expect(other.result.created).toBe(2);
    expect(new Set(f.server.rules().map((r) => r.Precedence)).size).toBe(f.server.rules().length);
  });

  it('create-noflow-rules refuses an OU it cannot verify, and a duplicate OU', async () => {
    const { f, exec } = setup();
    const out = await runAction(exec, 'create-noflow-rules', {
      migrationId: 'a',
      ous: ['OU=Sales,DC=contoso,DC=com', 'OU=Nope,DC=contoso,DC=com'],
      objectTypes: ['user'],
    });
    expect(out).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(f.server.rules().filter((r) => !r.IsStandardRule)).toEqual([]);
    const dup = await runAction(exec, 'create-noflow-rules', {
      migrationId: 'a',
      ous: ['OU=Sales,DC=contoso,DC=com', 'ou=sales,dc=contoso,dc=com'],
      objectTypes: ['user'],
    });
    expect(dup).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
  });

  it("remove-noflow-rules removes the migration's rules (and older per-batch ones), marks FullSyncRequired, is idempotent", async () => {
    const { f, exec } = setup();
    await runAction(exec, 'create-noflow-rules', { migrationId: 'm', ous: ['OU=Sales,DC=contoso,DC=com'], objectTypes: ['user', 'group'] });
    await runAction(exec, 'create-noflow-rules', { migrationId: 'other', ous: ['OU=Finance,DC=contoso,DC=com'], objectTypes: ['user'] });
    // A rule left by the earlier per-batch scheme for migration m.
    f.server.addRule({
      Identifier: legacyNoFlowRuleId('m', 3, 'user', 'inbound'),
      Name: 'In from AD - User cloudNoFlow (cutover m batch 3)',
      Description: '',
      Direction: 'Inbound',
      Precedence: 5,
      Connector: f.adConnectorId,
      LinkType: 'Join',
      SourceObjectType: 'user',
      TargetObjectType: 'person',
      Disabled: false,
      IsStandardRule: false,
      ImmutableTag: '',
      ScopeFilter: [],
      AttributeFlowMappings: [],
    });
    f.server.runSyncCycle('Delta', new Date('2026-11-21T09:00:00Z')); // clears the override
    const out: any = await runAction(exec, 'remove-noflow-rules', { migrationId: 'm' });
    expect(out.result.removed).toHaveLength(5);
    expect(out.result.removed).toContain(legacyNoFlowRuleId('m', 3, 'user', 'inbound'));
    expect(out.result.fullSyncRequired).toBe(true);
    expect(f.server.connectorOverride(f.adConnectorId).FullSyncRequired).toBe(true);
    expect(
      f.server
        .rules()
        .filter((r) => !r.IsStandardRule)
        .map((r) => r.Name),
    ).toEqual(['In from AD - User cloudNoFlow (cutover other)', 'Out to AAD - User JoinNoFlow (cutover other)']);
    const again: any = await runAction(exec, 'remove-noflow-rules', { migrationId: 'm' });
    expect(again.result.removed).toEqual([]);
  });

  it('set-scheduler refuses while a cycle runs, and waits when asked', async () => {
    const { f, exec, clock } = setup();
    f.server.beginSyncCycle();
    const refused = await runAction(exec, 'set-scheduler', { enabled: false });
    expect(refused).toMatchObject({ ok: false, error: { code: 'refused' } });
    const waiting = runAction(exec, 'set-scheduler', { enabled: false, waitForIdle: true });
    f.server.completeSyncCycle('Delta', clock.now());
    const out: any = await waiting;
    expect(out.result).toMatchObject({ waitedForIdle: true, previousSyncCycleEnabled: true, scheduler: { SyncCycleEnabled: false } });
  });

  it('start-sync-cycle waits for the signalled cycle and returns its runs with ISO UTC dates', async () => {
    const { exec, clock } = setup();
    const out: any = await runAction(exec, 'start-sync-cycle', { policyType: 'Initial' });
    expect(out.result.result).toBe('Success');
    expect(out.result.runs.map((r: any) => r.RunProfileName)).toContain('Full Import');
    expect(out.result.runs.every((r: any) => r.StartDate === clock.now().toISOString())).toBe(true);
    const hist: any = await runAction(exec, 'get-run-profile-results', { limit: 1 });
    expect(hist.result.results[0].StartDate).toBe(clock.now().toISOString());
  });

  it('export-server-config hashes change exactly when the rules change', async () => {
    const { exec, clock } = setup();
    const a: any =
      (await runAction(exec, 'export-server-config', { label: 'before' })).ok && (await runAction(exec, 'export-server-config', { label: 'before' }));
    clock.advance(1000);
    const b: any = await runAction(exec, 'export-server-config', { label: 'same' });
    const hashes = (r: any) => r.result.files.map((f: any) => `${f.path}:${f.sha256}`).sort();
    expect(hashes(b)).toEqual(hashes(a));
    await runAction(exec, 'create-noflow-rules', { migrationId: 'm', ous: ['OU=Sales,DC=contoso,DC=com'], objectTypes: ['user'] });
    const c: any = await runAction(exec, 'export-server-config', { label: 'after' });
    expect(c.result.folder).toMatch(/^Exported-ServerConfiguration-after-20261121T090001Z$/);
    expect(c.result.files.length).toBe(a.result.files.length + 2);
  });

  it('ad-copy-admin-description: dry run reports, apply writes, a second run changes nothing', async () => {
    const { f, exec } = setup();
    const dry: any = await runAction(exec, 'ad-copy-admin-description', { ou: f.ous.GWB, dryRun: true });
    expect(dry.result.changes).toHaveLength(8);
    expect(dry.result.applied).toBe(false);
    expect(f.ad.objectsUnder([f.ous.GWB], ['group']).every((g) => g.externalDirectoryObjectId === undefined)).toBe(true);
    const apply: any = await runAction(exec, 'ad-copy-admin-description', { ou: f.ous.GWB, dryRun: false });
    expect(apply.result).toMatchObject({ applied: true });
    expect(f.ad.objectsUnder([f.ous.GWB], ['group']).every((g) => g.externalDirectoryObjectId === g.adminDescription)).toBe(true);
    const again: any = await runAction(exec, 'ad-copy-admin-description', { ou: f.ous.GWB, dryRun: false });
    expect(again.result.changes).toEqual([]);
  });

  it('ad-count and ad-export-identities', async () => {
    const { f, exec } = setup();
    const count: any = await runAction(exec, 'ad-count', { ou: f.ous.CloudSyncPilot });
    // (objectClass=user) includes the OU's 2 inetOrgPersons, as an LDAP count does.
    expect(count.result).toEqual({ ou: f.ous.CloudSyncPilot, users: 40, groups: 2, contacts: 2 });
    const ids: any = await runAction(exec, 'ad-export-identities', { ou: f.ous.CloudSyncPilot, classes: ['user'] });
    expect(ids.result.count).toBe(40);
    expect(ids.result.objects[0]).toHaveProperty('consistencyGuid');
  });

  it('an executor refuses an action it does not carry out, and says why', async () => {
    const ldapLike: Executor = { kind: 'ldap', run: async () => ({}) };
    const out = await runAction(ldapLike, 'set-scheduler', { enabled: false });
    expect(out).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    expect((out as any).error.message).toMatch(/ldap executor does not carry out set-scheduler/);
    expect(await runAction(ldapLike, 'Remove-ADSyncRule', {})).toMatchObject({ ok: false, error: { code: 'unknown-action' } });
  });
});
