import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { seedContosoForest, MemorySyncTarget, type ContosoForest } from '../../src/sandbox/onprem/index.js';
import { SandboxExecutor } from '../../src/sandbox/onprem/executor.js';
import { runAction } from '../../src/agent/run-action.js';

function forest(): { f: ContosoForest; target: MemorySyncTarget; exec: SandboxExecutor; clock: ManualClock } {
  let f: ContosoForest | undefined;
  const target = new MemorySyncTarget((dn) => f?.ad.getByDn(dn)?.objectGUID);
  // The target resolves member DNs through the AD model, so the first cycle runs once `f` is set.
  f = seedContosoForest({ target, initialSync: false });
  f.server.runSyncCycle('Initial', new Date('2026-11-01T06:00:00Z'));
  const clock = new ManualClock('2026-11-21T09:00:00Z');
  return { f, target, exec: new SandboxExecutor({ server: f.server, clock }), clock };
}

/** The migration's rules for these OUs, then the Full Synchronization that makes them take effect. */
async function rulesTakeEffect(
  exec: SandboxExecutor,
  f: ContosoForest,
  clock: ManualClock,
  migrationId: string,
  ous: string[],
  objectTypes = ['user', 'inetOrgPerson', 'group', 'contact'],
): Promise<void> {
  await ok(exec, 'create-noflow-rules', { migrationId, ous, objectTypes });
  f.server.runSyncCycle('Delta', clock.now()); // FullSyncRequired on the AD connector: this cycle runs Full Sync there
}

async function ok(exec: SandboxExecutor, action: string, params: unknown): Promise<any> {
  const out = await runAction(exec, action, params);
  if (!out.ok) throw new Error(`${action}: ${out.error.code}: ${out.error.message}`);
  return out.result;
}

describe('seedContosoForest', () => {
  it('builds the same realistic forest every time, already synced by Connect', () => {
    const a = forest();
    const b = forest();
    expect(a.f.ad.all().map((o) => o.objectGUID)).toEqual(b.f.ad.all().map((o) => o.objectGUID));
    const s = a.f.ad.summary();
    const by = Object.fromEntries(s.ous.map((o) => [o.dn.split(',')[0], o]));
    expect(by['OU=CloudSyncPilot'].users).toBe(40);
    expect(by['OU=Sales'].users).toBe(120); // includes the nested EMEA OU
    expect(by['OU=PreSales'].users).toBe(30);
    expect(by['OU=Finance'].users).toBe(80);
    expect(by['OU=Engineering'].users).toBe(100);
    expect(by['OU=Groups'].groups).toBe(15);
    expect(by['OU=GWB'].groups).toBe(8);
    expect(s.totals.contacts).toBeGreaterThanOrEqual(3);
    // inetOrgPersons live in the batch OUs and count as users (an LDAP (objectClass=user) search returns them).
    expect(by['OU=CloudSyncPilot'].inetOrgPersons).toBe(2);
    expect(by['OU=CloudSyncPilot'].groups).toBe(2);
    expect(by['OU=Service Accounts'].users).toBe(3);
    expect(a.f.ad.getByDn('CN=Smith\\, John,OU=CloudSyncPilot,DC=contoso,DC=com')).toBeDefined();
    // Written-back groups are cloud-mastered: Connect does not export them from AD.
    const gwb = a.f.ad.objectsUnder([a.f.ous.GWB], ['group']);
    expect(gwb.every((g) => g.adminDescription === g.dn.split(',')[0].slice(3))).toBe(true);
    expect(gwb.every((g) => !a.target.has(g.objectGUID))).toBe(true);
    // Everything but the written-back groups, the two OUs Connect's filtering excludes (5 users) and Connect's own
    // service account (MSOL_…, never synchronized by the out-of-box rules) is exported.
    expect(
      a.f.ad
        .all()
        .filter((o) => o.samAccountName?.startsWith('MSOL_'))
        .map((o) => o.dn),
    ).toEqual([expect.stringMatching(/^CN=MSOL_[0-9a-f]{12},CN=Users,DC=contoso,DC=com$/)]);
    expect(a.target.objects.size).toBe(s.totals.users - 6 + s.totals.groups - 8 + s.totals.contacts);
    expect(a.f.server.adConnector.Partitions).toEqual([
      {
        name: 'DC=contoso,DC=com',
        selected: true,
        includedContainers: ['DC=contoso,DC=com'],
        excludedContainers: [a.f.ous.ServiceAccounts, a.f.ous.DisabledUsers],
      },
    ]);
    const sched = a.f.server.getScheduler();
    expect(sched).toMatchObject({ SyncCycleEnabled: true, StagingModeEnabled: false, SyncCycleInProgress: false });
    expect(a.f.server.rules().every((r) => r.IsStandardRule && r.Precedence >= 100)).toBe(true);
  });
});

describe('ConnectSyncServer sync cycle', () => {
  it('without no-flow rules, taking an OU out of Connect scope exports deletes', () => {
    const { f, target, clock } = forest();
    const pilot = f.ad.objectsUnder([f.ous.CloudSyncPilot], ['user', 'inetOrgPerson', 'group', 'contact']);
    f.server.excludeContainer(f.ous.CloudSyncPilot);
    const r = f.server.runSyncCycle('Delta', clock.now());
    expect(r.exported.deletes).toBe(pilot.length);
    expect(r.exported.referenceDeletes).toBe(0);
    expect(pilot.every((o) => !target.has(o.objectGUID))).toBe(true);
  });

  it('no-flow rules stop adds, deletes and plain updates for the OU, but reference updates still flow', async () => {
    const { f, target, exec, clock } = forest();
    await rulesTakeEffect(exec, f, clock, 'm1', [f.ous.CloudSyncPilot]);
    const [u1, u2] = f.ad.objectsUnder([f.ous.CloudSyncPilot], ['user']);
    f.ad.update(u1.objectGUID, { displayName: 'Renamed In AD' });
    f.ad.delete(u2.objectGUID);
    const added = f.ad.add({ cn: 'New Pilot', parentDn: f.ous.CloudSyncPilot, objectClass: 'user', displayName: 'New Pilot', proxyAddresses: [] });
    target.calls.length = 0;
    const r = f.server.runSyncCycle('Delta', clock.now());
    // The deleted user is not deleted from Entra; Connect only drops its membership references.
    expect(r.exported).toMatchObject({ adds: 0, deletes: 0, referenceDeletes: 1 });
    // The only updates are groups whose member lists lost the deleted user: a reference change flows even through
    // JoinNoFlow, for the pilot OU's own groups too.
    const upserted = target.calls.filter((c) => c.op === 'upsert').flatMap((c) => c.guids);
    expect(upserted.length).toBeGreaterThan(0);
    expect(upserted.every((g) => f.ad.get(g)?.objectClass === 'group')).toBe(true);
    expect(target.has(u2.objectGUID)).toBe(true);
    expect(target.has(added.objectGUID)).toBe(false);
    expect(target.objects.get([...target.objects.keys()].find((k) => target.objects.get(k)!.objectGUID === u1.objectGUID)!)!.object.displayName).not.toBe(
      'Renamed In AD',
    );
    // A group in the pilot OU covered by the rules: a membership change is a reference update and flows.
    const g = f.ad.add({ cn: 'Pilot Local Group', parentDn: f.ous.CloudSyncPilot, objectClass: 'group', displayName: 'Pilot Local Group', proxyAddresses: [] });
    await ok(exec, 'remove-noflow-rules', { migrationId: 'm1' });
    f.server.runSyncCycle('Delta', clock.now()); // full sync (override): Connect takes the OU back and exports the group
    await rulesTakeEffect(exec, f, clock, 'm1', [f.ous.CloudSyncPilot]);
    f.ad.addMember(g.objectGUID, u1.dn);
    const r2 = f.server.runSyncCycle('Delta', clock.now());
    expect(r2.exported.updates).toBe(1);
    expect(target.membersOf(g.objectGUID)).toContain(u1.objectGUID);
  });

  it('an OU covered by the no-flow rules leaving Connect scope loses memberships in Entra (seed 001 hazard), not its objects', async () => {
    const { f, target, exec, clock } = forest();
    await ok(exec, 'create-noflow-rules', { migrationId: 'm1', ous: [f.ous.CloudSyncPilot], objectTypes: ['user', 'inetOrgPerson', 'contact'] });
    f.server.runSyncCycle('Initial', clock.now());
    const pilotUsers = f.ad.objectsUnder([f.ous.CloudSyncPilot], ['user', 'inetOrgPerson']);
    const pilotGroup = f.ad.getByDn(`CN=Pilot Users,${f.ous.Groups}`)!;
    expect(target.membersOf(pilotGroup.objectGUID).length).toBeGreaterThan(0);
    f.server.excludeContainer(f.ous.CloudSyncPilot);
    const r = f.server.runSyncCycle('Delta', clock.now());
    expect(r.exported.deletes).toBe(2); // the OU's two groups had no group rule
    expect(r.exported.referenceDeletes).toBe(pilotUsers.length + 2);
    expect(pilotUsers.every((u) => target.has(u.objectGUID))).toBe(true);
    expect(target.membersOf(pilotGroup.objectGUID)).toEqual([]);
  });

  it('rules protect an OU only once a full sync has applied them (scope change in the same cycle still deletes)', async () => {
    const a = forest();
    await ok(a.exec, 'create-noflow-rules', { migrationId: 'm2', ous: [a.f.ous.PreSales], objectTypes: ['user', 'inetOrgPerson'] });
    a.f.server.excludeContainer(a.f.ous.PreSales);
    expect(a.f.server.runSyncCycle('Delta', a.clock.now()).exported.deletes).toBe(30 + 1 + 1); // users, the group, the contact

    const b = forest();
    await rulesTakeEffect(b.exec, b.f, b.clock, 'm2', [b.f.ous.PreSales], ['user', 'inetOrgPerson']);
    const [u] = b.f.ad.objectsUnder([b.f.ous.PreSales], ['user']);
    b.f.ad.delete(u.objectGUID);
    b.f.server.excludeContainer(b.f.ous.PreSales);
    const r = b.f.server.runSyncCycle('Delta', b.clock.now());
    expect(r.exported.deletes).toBe(2); // only the OU's group and contact, which the user-only rules do not cover
    expect(b.target.has(u.objectGUID)).toBe(true);
  });

  it('the PreSales rules do not cover Sales (DN suffix edge case)', async () => {
    const { f, exec, clock } = forest();
    await rulesTakeEffect(exec, f, clock, 'm3', [f.ous.Sales], ['user', 'inetOrgPerson']);
    const sales = f.ad.objectsUnder([f.ous.Sales], ['user', 'inetOrgPerson']);
    const presales = f.ad.objectsUnder([f.ous.PreSales], ['user', 'inetOrgPerson']);
    expect(sales.every((u) => f.server.isNoFlow(u))).toBe(true);
    expect(presales.some((u) => f.server.isNoFlow(u))).toBe(false);
  });

  it('staging mode suppresses every export', () => {
    const { f, target, clock } = forest();
    f.server.setStagingMode(true);
    f.server.excludeContainer(f.ous.Finance);
    target.calls.length = 0;
    const r = f.server.runSyncCycle('Delta', clock.now());
    expect(r.exportsSuppressed).toBe(true);
    expect(target.calls).toEqual([]);
    expect(r.runs.some((x) => x.RunProfileName === 'Export')).toBe(false);
    f.server.setStagingMode(false);
    expect(f.server.runSyncCycle('Delta', clock.now()).exported.deletes).toBe(80 + 1 + 1); // users, group, contact
  });

  it('stops at the export deletion threshold', () => {
    const { f, target, clock } = forest();
    f.server.setExportDeletionThreshold({ ThresholdCount: 50 });
    f.server.excludeContainer(f.ous.Finance);
    const r = f.server.runSyncCycle('Delta', clock.now());
    expect(r.Result).toBe('stopped-deletion-threshold-exceeded');
    expect(r.runs.find((x) => x.RunProfileName === 'Export' && x.ConnectorName.endsWith('AAD'))!.Result).toBe('stopped-deletion-threshold-exceeded');
    expect(f.ad.objectsUnder([f.ous.Finance], ['user']).every((u) => target.has(u.objectGUID))).toBe(true);
  });

  it('disabling GWB v2 without the seed-004 pair deletes written-back security groups from AD; with the pair it does not', async () => {
    const a = forest();
    a.f.server.disableGroupWritebackV2();
    expect(a.f.server.runSyncCycle('Initial', a.clock.now()).writebackDeletes).toBe(6);
    expect(a.f.ad.objectsUnder([a.f.ous.GWB], ['group'])).toHaveLength(2); // the mail-enabled ones stay

    const b = forest();
    await ok(b.exec, 'create-group-writeback-noflow-rules', { migrationId: 'gwb1' });
    await ok(b.exec, 'disable-group-writeback-v2', { confirm: true });
    expect(b.f.server.runSyncCycle('Initial', b.clock.now()).writebackDeletes).toBe(0);
    expect(b.f.ad.objectsUnder([b.f.ous.GWB], ['group'])).toHaveLength(8);
  });

  it('the scheduler runs a cycle when due, and not when disabled', () => {
    const { f, clock } = forest();
    expect(f.server.tick(clock.now())).not.toBeNull();
    expect(f.server.tick(clock.now())).toBeNull(); // next one is 30 minutes away
    f.server.setSyncCycleEnabled(false, clock.now());
    expect(f.server.getScheduler()).not.toHaveProperty('SyncCycleDisabledAtUTC'); // Get-ADSyncScheduler has no such field
    expect(f.server.tick(clock.advance(3_600_000))).toBeNull();
  });
});
