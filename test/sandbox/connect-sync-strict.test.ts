import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { SandboxExecutor } from '../../src/sandbox/onprem/executor.js';
import { runAction } from '../../src/agent/run-action.js';
import { MemorySyncTarget, seedContosoForest, type ContosoForest } from '../../src/sandbox/onprem/index.js';
import { SandboxTenant } from '../../src/sandbox/tenant.js';

function setup() {
  let f: ContosoForest | undefined;
  const target = new MemorySyncTarget((dn) => f?.ad.getByDn(dn)?.objectGUID);
  f = seedContosoForest({ target, initialSync: false });
  f.server.runSyncCycle('Initial', new Date('2026-11-01T06:00:00Z'));
  const clock = new ManualClock('2026-11-21T09:00:00Z');
  return { f, target, clock, exec: new SandboxExecutor({ server: f.server, clock, cycleStartTimeoutMs: 2000 }) };
}

async function ok(exec: SandboxExecutor, action: string, params: unknown = {}): Promise<any> {
  const out = await runAction(exec, action, params);
  if (!out.ok) throw new Error(`${action}: ${out.error.code}: ${out.error.message}`);
  return out.result;
}

const ALL = ['user', 'inetOrgPerson', 'group', 'contact'];

describe('sync rules take effect only at a Full Synchronization', () => {
  it('a delta cycle after creating the rules leaves cloudNoFlow unset and Connect still exports the OU; the override makes the next cycle a full sync', async () => {
    const { f, target, clock, exec } = setup();
    await ok(exec, 'create-noflow-rules', { migrationId: 'm', ous: [f.ous.CloudSyncPilot], objectTypes: ALL });
    const [u] = f.ad.objectsUnder([f.ous.CloudSyncPilot], ['user']);
    // Without the override (e.g. a rule added by hand), a plain delta cycle keeps the old rules.
    f.server.setConnectorOverride(f.adConnectorId, { fullSyncRequired: false });
    f.ad.update(u.objectGUID, { displayName: 'Changed Before Full Sync' });
    const delta = f.server.runSyncCycle('Delta', clock.now());
    expect(delta.runs.find((r) => r.ConnectorId === f.adConnectorId && r.RunProfileName.endsWith('Synchronization'))!.RunProfileName).toBe(
      'Delta Synchronization',
    );
    expect(delta.exported.updates).toBe(1); // Connect still exported the pilot user's change
    expect(f.server.metaverseObject(u.objectGUID)!.cloudNoFlow).toBe(false);
    const before = await ok(exec, 'get-noflow-status', { ou: f.ous.CloudSyncPilot });
    expect(before).toMatchObject({ objects: 44, withCloudNoFlow: 0 });
    expect(before.missingCloudNoFlow).toHaveLength(44);

    // The override, then any cycle: Full Synchronization on the AD connector, and the flag clears.
    f.server.setConnectorOverride(f.adConnectorId, { fullSyncRequired: true });
    const full = f.server.runSyncCycle('Delta', clock.now());
    expect(full.runs.find((r) => r.ConnectorId === f.adConnectorId && r.RunProfileName.endsWith('Synchronization'))!.RunProfileName).toBe(
      'Full Synchronization',
    );
    expect(f.server.connectorOverride(f.adConnectorId).FullSyncRequired).toBe(false);
    const after = await ok(exec, 'get-noflow-status', { ou: f.ous.CloudSyncPilot });
    expect(after).toMatchObject({ objects: 44, withCloudNoFlow: 44, missingCloudNoFlow: [], pendingExportCount: 0 });
    expect(after.byType).toEqual({
      user: { objects: 38, withCloudNoFlow: 38 },
      inetOrgPerson: { objects: 2, withCloudNoFlow: 2 },
      group: { objects: 2, withCloudNoFlow: 2 },
      contact: { objects: 2, withCloudNoFlow: 2 },
    });
    f.ad.update(u.objectGUID, { displayName: 'Changed After Full Sync' });
    target.calls.length = 0;
    expect(f.server.runSyncCycle('Delta', clock.now()).exported.updates).toBe(0);
  });

  it('create-noflow-rules marks FullSyncRequired, so the next scheduled cycle applies them; an Initial cycle does too', async () => {
    const { f, clock, exec } = setup();
    await ok(exec, 'create-noflow-rules', { migrationId: 'm', ous: [f.ous.PreSales], objectTypes: ALL });
    expect(f.server.tick(clock.now())).not.toBeNull();
    expect((await ok(exec, 'get-noflow-status', { ou: f.ous.PreSales })).missingCloudNoFlow).toEqual([]);

    const b = setup();
    await ok(b.exec, 'create-noflow-rules', { migrationId: 'm', ous: [b.f.ous.PreSales], objectTypes: ALL });
    b.f.server.setConnectorOverride(b.f.adConnectorId, { fullSyncRequired: false });
    b.f.server.runSyncCycle('Initial', b.clock.now());
    expect((await ok(b.exec, 'get-noflow-status', { ou: b.f.ous.PreSales })).withCloudNoFlow).toBe(32);
  });

  it('rollback: removed rules keep holding the OU until a full sync; then Connect takes the objects back', async () => {
    const { f, target, clock, exec } = setup();
    await ok(exec, 'create-noflow-rules', { migrationId: 'm', ous: [f.ous.CloudSyncPilot], objectTypes: ALL });
    f.server.runSyncCycle('Delta', clock.now());
    const added = f.ad.add({
      cn: 'Joined During Pilot',
      parentDn: f.ous.CloudSyncPilot,
      objectClass: 'user',
      displayName: 'Joined During Pilot',
      proxyAddresses: [],
    });
    f.server.runSyncCycle('Delta', clock.now());
    expect(target.has(added.objectGUID)).toBe(false);
    await ok(exec, 'remove-noflow-rules', { migrationId: 'm' });
    f.server.setConnectorOverride(f.adConnectorId, { fullSyncRequired: false }); // as if nobody asked for the full sync
    f.server.runSyncCycle('Delta', clock.now());
    expect(target.has(added.objectGUID)).toBe(false);
    expect(f.server.metaverseObject(added.objectGUID)!.cloudNoFlow).toBe(true);
    f.server.runSyncCycle('Initial', clock.now());
    expect(target.has(added.objectGUID)).toBe(true);
    expect(f.server.metaverseObject(added.objectGUID)!.cloudNoFlow).toBe(false);
  });

  it('pending exports stay readable while staging mode holds them back', async () => {
    const { f, clock, exec } = setup();
    f.server.setStagingMode(true);
    const [u] = f.ad.objectsUnder([f.ous.Finance], ['user']);
    f.ad.update(u.objectGUID, { displayName: 'Pending Change' });
    f.ad.add({ cn: 'New Finance Contact', parentDn: f.ous.Finance, objectClass: 'contact', displayName: 'New Finance Contact', proxyAddresses: [] });
    f.server.runSyncCycle('Delta', clock.now());
    const st = await ok(exec, 'get-noflow-status', { ou: f.ous.Finance });
    expect(st.pendingExportCount).toBe(2);
    expect(st.pendingExports).toEqual(
      expect.arrayContaining([
        { dn: u.dn, operation: 'update' },
        { dn: `CN=New Finance Contact,${f.ous.Finance}`, operation: 'add' },
      ]),
    );
  });
});

describe("Connect's scope as Connect stores it", () => {
  it('excluded OUs, unselected partitions and group-based filtering take objects out of scope', async () => {
    const { f, target, clock, exec } = setup();
    const svc = f.ad.objectsUnder([f.ous.ServiceAccounts], ['user']);
    expect(svc.some((u) => target.has(u.objectGUID))).toBe(false);
    expect(f.server.ouInScope(f.ous.Sales)).toBe(true);
    expect(f.server.ouInScope(f.ous.ServiceAccounts)).toBe(false);
    // The wizard's untick under a ticked root: an exclusion; ticking a child of it again: an inclusion that wins.
    f.server.excludeContainer(f.ous.Sales);
    expect(f.server.adConnector.Partitions[0].excludedContainers).toContain(f.ous.Sales);
    expect(f.server.ouInScope(f.ous['Sales/EMEA'])).toBe(false);
    f.server.includeContainer(f.ous['Sales/EMEA']);
    expect(f.server.ouInScope(f.ous['Sales/EMEA'])).toBe(true);
    expect(f.server.ouInScope(f.ous.Sales)).toBe(false);
    const scope = await ok(exec, 'get-connector-scope');
    expect(scope).toMatchObject({
      partitions: [{ name: 'DC=contoso,DC=com', selected: true, includedContainers: ['DC=contoso,DC=com', f.ous['Sales/EMEA']] }],
      groupFilteringGroupDn: null,
      includedContainers: ['DC=contoso,DC=com', f.ous['Sales/EMEA']],
      excludedContainers: [f.ous.ServiceAccounts, f.ous.DisabledUsers, f.ous.Sales],
    });
    // Group-based filtering: only direct members of the group stay.
    const pilotUsers = `CN=Pilot Users,${f.ous.Groups}`;
    f.server.setGroupFilteringGroup(pilotUsers);
    expect((await ok(exec, 'get-connector-scope')).groupFilteringGroupDn).toBe(pilotUsers);
    const members = new Set(f.ad.getByDn(pilotUsers)!.members!.map((m) => m.toLowerCase()));
    f.server.setExportDeletionThreshold({ DeletionPrevention: 0 }); // hundreds of deletes at once
    f.server.runSyncCycle('Delta', clock.now());
    const stillExported = f.server.exportedObjectGuids().map((g) => f.ad.get(g)!.dn.toLowerCase());
    expect(stillExported.length).toBeGreaterThan(0);
    expect(stillExported.every((dn) => members.has(dn))).toBe(true);
    // An unselected partition scopes nothing.
    f.server.setGroupFilteringGroup(null);
    f.server.setPartitionScope('DC=contoso,DC=com', { selected: false });
    expect(f.server.ouInScope(f.ous.Finance)).toBe(false);
  });

  it('the connect-scope-remove fault unticks the OU and /sandbox/v1/state shows partitions, group filter and each OU by the full rule', async () => {
    const tenant = await SandboxTenant.start({ clock: new ManualClock('2026-11-21T09:00:00Z'), log: createLogger({ level: 'silent' }) });
    try {
      let st: any = tenant.state();
      expect(st.connectScope.partitions[0]).toMatchObject({ name: 'DC=contoso,DC=com', selected: true, includedContainers: ['DC=contoso,DC=com'] });
      expect(st.connectScope.groupFilteringGroupDn).toBeNull();
      expect(st.ous.find((o: any) => o.name === 'ServiceAccounts').inConnectScope).toBe(false);
      expect(st.ous.find((o: any) => o.name === 'Finance').inConnectScope).toBe(true);
      tenant.injectFault({ kind: 'connect-scope-remove', ou: 'OU=Finance,DC=contoso,DC=com' });
      st = tenant.state();
      expect(st.connectScope.partitions[0].excludedContainers).toContain('OU=Finance,DC=contoso,DC=com');
      expect(st.ous.find((o: any) => o.name === 'Finance').inConnectScope).toBe(false);
      expect(st.scheduler).not.toHaveProperty('SyncCycleDisabledAtUTC');
    } finally {
      await tenant.stop();
    }
  });
});

describe('objects of every type', () => {
  it('Connect exports inetOrgPersons, groups and contacts of the batch OUs, unless the no-flow rule for that type applies', async () => {
    const { f, target, clock, exec } = setup();
    const pilot = f.ad.objectsUnder([f.ous.CloudSyncPilot], ['inetOrgPerson', 'group', 'contact']);
    expect(pilot.map((o) => o.objectClass).sort()).toEqual(['contact', 'contact', 'group', 'group', 'inetOrgPerson', 'inetOrgPerson']);
    expect(pilot.every((o) => target.has(o.objectGUID))).toBe(true);
    await ok(exec, 'create-noflow-rules', { migrationId: 'm', ous: [f.ous.CloudSyncPilot], objectTypes: ['user'] });
    f.server.runSyncCycle('Delta', clock.now());
    for (const o of pilot) f.ad.update(o.objectGUID, { displayName: `${o.displayName} (edited)` });
    expect(f.server.runSyncCycle('Delta', clock.now()).exported.updates).toBe(6); // user rules do not cover them
    await ok(exec, 'create-noflow-rules', { migrationId: 'm', ous: [f.ous.CloudSyncPilot], objectTypes: ALL });
    f.server.runSyncCycle('Delta', clock.now());
    for (const o of pilot) f.ad.update(o.objectGUID, { displayName: `${o.displayName} (again)` });
    expect(f.server.runSyncCycle('Delta', clock.now()).exported.updates).toBe(0);
  });
});

describe('the ADSync service and the scheduler', () => {
  it('with the scheduler off, password hash sync keeps running while the service runs; stopped, nothing runs and cmdlets fail', async () => {
    const { f, target, clock, exec } = setup();
    await ok(exec, 'set-scheduler', { enabled: false });
    const sched = await ok(exec, 'get-scheduler');
    expect(sched).not.toHaveProperty('SyncCycleDisabledAtUTC');
    expect(f.server.tick(clock.advance(3_600_000))).toBeNull();
    const [u] = f.ad.objectsUnder([f.ous.Finance], ['user']);
    expect(target.passwordHashes.get(u.objectGUID)).toEqual({ engine: 'connect', at: clock.now().toISOString() });

    expect(await ok(exec, 'get-adsync-service')).toEqual({ status: 'Running', startupType: 'Automatic' });
    const stop = await ok(exec, 'set-adsync-service', { running: false });
    expect(stop).toEqual({ previous: { status: 'Running', startupType: 'Automatic' }, current: { status: 'Stopped', startupType: 'Disabled' } });
    const t = clock.advance(3_600_000);
    f.server.setSyncCycleEnabled(true);
    expect(f.server.tick(t)).toBeNull();
    expect(target.passwordHashes.get(u.objectGUID)!.at).not.toBe(t.toISOString());
    const failed: any = await runAction(exec, 'get-scheduler', {});
    expect(failed).toMatchObject({ ok: false, error: { code: 'failed' } });
    expect(failed.error.message).toMatch(/Unable to connect to the Synchronization Service/);
    expect(await runAction(exec, 'start-sync-cycle', { policyType: 'Delta' })).toMatchObject({ ok: false });
    await ok(exec, 'set-adsync-service', { running: true });
    expect(f.server.tick(clock.now())).not.toBeNull();
  });

  it('PasswordHashSync off: no hashes are written', () => {
    const { f, target, clock } = setup();
    f.server.setCompanyFeatures({ PasswordHashSync: false });
    f.server.tick(clock.now());
    expect(target.passwordHashes.size).toBe(0);
  });
});

describe('Start-ADSyncSyncCycle only signals', () => {
  it('the cycle starts after the call returns, and run history dates carry no zone designator', async () => {
    const { f, clock } = setup();
    const startsSeen = f.server.whenCycleStarts();
    expect(f.server.startSyncCycle('Delta', () => clock.now())).toEqual({ Result: 'Success' });
    expect(f.server.getScheduler().SyncCycleInProgress).toBe(false);
    expect(() => f.server.startSyncCycle('Delta', () => clock.now())).toThrow(/already running/);
    await startsSeen;
    expect(f.server.getScheduler().SyncCycleInProgress).toBe(true);
    await f.server.whenIdle();
    const run = f.server.runProfileResults({ limit: 1 })[0];
    expect(run.StartDate).toBe('2026-11-21T09:00:00.000');
    expect(run.StartDate).not.toMatch(/Z$/);
  });

  it('start-sync-cycle fails naming each run and its result when the export stops at the deletion threshold', async () => {
    const { f, exec } = setup();
    f.server.setExportDeletionThreshold({ ThresholdCount: 10 });
    f.server.excludeContainer(f.ous.Finance);
    const out: any = await runAction(exec, 'start-sync-cycle', { policyType: 'Delta' });
    expect(out).toMatchObject({ ok: false, error: { code: 'failed' } });
    expect(out.error.message).toContain('stopped-deletion-threshold-exceeded');
    expect(out.error.message).toContain('Export on contoso.onmicrosoft.com - AAD: stopped-deletion-threshold-exceeded');
    expect(out.error.message).toContain('Delta Import on contoso.com: success');
  });
});

describe('what the tenant uses, from the Connect side', () => {
  it('get-company-features reports PasswordWriteback and ExchangeHybrid (the out-of-box Exchange hybrid rule)', async () => {
    const { f, exec } = setup();
    expect(await ok(exec, 'get-company-features')).toMatchObject({ PasswordHashSync: true, PasswordWriteback: false, ExchangeHybrid: false });
    f.server.setCompanyFeatures({ PasswordWriteback: true, ExchangeHybrid: true });
    expect(await ok(exec, 'get-company-features')).toMatchObject({ PasswordWriteback: true, ExchangeHybrid: true });
    expect(f.server.rules().some((r) => r.Name === 'Out to AD - User Exchange Hybrid' && r.IsStandardRule)).toBe(true);
  });
});
