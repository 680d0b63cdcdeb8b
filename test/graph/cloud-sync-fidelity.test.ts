import { afterEach, describe, expect, it } from 'vitest';
import { MINUTE } from '../../src/clock.js';
import { GraphPlanError, hasPasswordHashMapping, judgeProvisionOnDemand, MAX_SCOPE_ENTRIES } from '../../src/graph/index.js';
import type { AdObjectClass } from '../../src/sandbox/contracts.js';
import { raw, startSandbox } from './helpers.js';

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

const SALES = 'OU=Sales,DC=contoso,DC=com';
const HR = 'OU=HR,DC=contoso,DC=com';

async function running_(opts: { passwordHashSync?: boolean } = {}) {
  const s = await startSandbox();
  running.push(s.sim);
  s.sim.seedAgent({ machineName: 'AGENT1', domain: 'contoso.com' });
  const user = s.ad.add({ dn: `CN=Ann,${SALES}` });
  const person = s.ad.add({ dn: `CN=Ian,${SALES}`, objectClass: 'inetOrgPerson' as AdObjectClass });
  const group = s.ad.add({ dn: `CN=Sales Team,${SALES}`, objectClass: 'group', members: [`CN=Ann,${SALES}`] });
  const contact = s.ad.add({ dn: `CN=Vendor,${SALES}`, objectClass: 'contact', mail: 'v@vendor.example' });
  const hr = s.ad.add({ dn: `CN=Hal,${HR}` });
  const cfg = await s.graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: opts.passwordHashSync ?? false, containers: [SALES, HR] });
  const ref = { servicePrincipalId: cfg.servicePrincipalId, jobId: cfg.provisioningJobId };
  await s.graph.startJob(ref);
  s.sim.runSyncCycle(s.clock.advance(MINUTE));
  return { ...s, cfg, ref, user, person, group, contact, hr };
}

describe('Cloud Sync scope, as Microsoft documents it', () => {
  it('takes users, inetOrgPersons, groups and contacts under its OUs', async () => {
    const { sim, user, person, group, contact } = await running_();
    for (const o of [user, person, group, contact]) expect(sim.exportedBy(o.objectGUID), o.dn).toBe('cloud');
    const summary = sim.summary();
    expect(summary.usersByOu[SALES]).toEqual({ connect: 0, cloud: 2, unsynced: 0 }); // Ann and the inetOrgPerson
    expect(summary.groups).toBe(1);
  });

  it('a scope change on a running job waits for a restart; then the OU’s users go to the recycle bin and its groups are hard-deleted', async () => {
    const { sim, graph, ref, clock, baseUrl, user, group, hr } = await running_();
    const userId = sim.directory.byGuid.get(user.objectGUID)!;
    const groupId = sim.directory.byGuid.get(group.objectGUID)!;
    const latest = await raw(baseUrl, 'GET', '/v1.0/users/delta?$deltatoken=latest');
    await graph.removeContainerFromScope({ ...ref, container: SALES });
    sim.runSyncCycle(clock.advance(2 * MINUTE));
    expect(sim.exportedBy(user.objectGUID)).toBe('cloud'); // the running job kept its scope

    expect(await graph.restartProvisioningAfterScopeChange(ref)).toHaveLength(1);
    sim.runSyncCycle(clock.advance(2 * MINUTE));
    expect(sim.exportedBy(user.objectGUID)).toBeUndefined();
    expect(sim.exportedBy(group.objectGUID)).toBeUndefined();
    expect(sim.exportedBy(hr.objectGUID)).toBe('cloud');
    expect(sim.directory.recycleBin.has(userId)).toBe(true); // restorable
    expect(sim.directory.recycleBin.has(groupId)).toBe(false);
    expect(sim.directory.tombstones.get(groupId)?.reason).toBe('deleted'); // gone for good
    const delta = await raw(baseUrl, 'GET', latest.body['@odata.deltaLink'].slice(baseUrl.length));
    expect(delta.body.value).toContainEqual({ id: userId, '@removed': { reason: 'changed' } });
    // the provisioning log says so, by AD objectGUID
    const since = new Date(clock.now().getTime() - 10 * MINUTE);
    const { outcomes } = await graph.cloudSyncOutcomes(ref.jobId, [user.objectGUID, hr.objectGUID, '00000000-0000-0000-0000-00000000abcd'], since);
    expect(outcomes).toEqual([
      { objectGUID: user.objectGUID, outcome: 'deleted', action: 'delete', at: clock.now().toISOString() },
      expect.objectContaining({ objectGUID: hr.objectGUID, outcome: 'taken', action: 'create' }),
      { objectGUID: '00000000-0000-0000-0000-00000000abcd', outcome: 'not-seen' },
    ]);
  });

  it('syncs password hashes only with the CredentialData mapping, the AppKey and the PHS job running; never for inetOrgPerson', async () => {
    const off = await running_({ passwordHashSync: false });
    off.sim.runSyncCycle(off.clock.advance(2 * MINUTE));
    expect(off.sim.directory.passwordHashes.size).toBe(0);
    expect(hasPasswordHashMapping(await off.graph.getSchema(off.ref))).toBe(false);

    const { sim, graph, ref, cfg, clock, user, person, hr } = await running_({ passwordHashSync: true });
    const schema = await graph.getSchema(ref);
    expect(hasPasswordHashMapping(schema)).toBe(true);
    const mappings = schema.synchronizationRules[0].objectMappings;
    for (const name of ['Provision Active Directory users', 'Provision Active Directory inetOrgPersons']) {
      expect(mappings.find((m: any) => m.name === name).attributeMappings.filter((a: any) => a.targetAttributeName === 'CredentialData')).toEqual([
        {
          defaultValue: null,
          exportMissingReferences: false,
          flowBehavior: 'FlowWhenChanged',
          flowType: 'Always',
          matchingPriority: 0,
          targetAttributeName: 'CredentialData',
          source: { expression: '[PasswordHash]', name: 'PasswordHash', type: 'Attribute', parameters: [] },
        },
      ]);
    }
    // configured but the PHS job is not started: no hashes
    sim.runSyncCycle(clock.advance(2 * MINUTE));
    expect(sim.directory.passwordHashes.size).toBe(0);
    const started = await graph.startPasswordHashSync(cfg.servicePrincipalId);
    expect(started.jobId).toBe(cfg.passwordHashJobId);
    sim.runSyncCycle(clock.advance(2 * MINUTE));
    expect(sim.directory.passwordHashes.get(user.objectGUID.toLowerCase())).toEqual({ engine: 'cloud', at: clock.now().toISOString() });
    expect(sim.directory.passwordHashes.has(hr.objectGUID.toLowerCase())).toBe(true);
    expect(sim.directory.passwordHashes.has(person.objectGUID.toLowerCase())).toBe(false); // PHS with InetOrgPerson isn't supported
    // idempotent: the mapping is never added twice
    const again = await graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: true, containers: [SALES] });
    expect(again.changed).toBe(false);
  });

  it('filters provisioning logs by jobId and activityDateTime gt (not ge), and pages only with $top', async () => {
    const { baseUrl, ref, clock, sim, ad } = await running_();
    for (let i = 0; i < 5; i++) ad.add({ dn: `CN=New ${i},${SALES}` });
    const before = clock.now();
    sim.runSyncCycle(clock.advance(2 * MINUTE));
    const q = (f: string, top = '') => raw(baseUrl, 'GET', `/v1.0/auditLogs/provisioning?$filter=${encodeURIComponent(f)}${top}`);
    const gt = await q(`jobId eq '${ref.jobId}' and activityDateTime gt ${before.toISOString()}`, '&$top=2');
    expect(gt.status).toBe(200);
    expect(gt.body.value).toHaveLength(2);
    expect(gt.body['@odata.nextLink']).toBeDefined();
    const ge = await q(`jobId eq '${ref.jobId}' and activityDateTime ge ${before.toISOString()}`);
    expect(ge.status).toBe(400);
    expect(ge.body.error.code).toBe('Request_UnsupportedQuery');
    const noTop = await q(`jobId eq '${ref.jobId}'`);
    expect(noTop.body['@odata.nextLink']).toBeUndefined(); // "You must pass the top filter in the query to generate the token"
    const guid = [...ad.objects.values()].find((o) => o.dn.startsWith('CN=New 0'))!.objectGUID;
    const one = await q(`sourceIdentity/id eq '${guid}'`, '&$top=5');
    expect(one.body.value).toEqual([
      expect.objectContaining({
        jobId: ref.jobId,
        provisioningAction: 'create',
        sourceIdentity: expect.objectContaining({ id: guid }),
        provisioningStatusInfo: { status: 'success', errorInformation: null },
      }),
    ]);
  });
});

describe('the configurator on a real tenant', () => {
  it('never echoes AppKey, sets it once, converges, and sets SyncNotificationSettings from notificationEmail', async () => {
    const s = await startSandbox();
    running.push(s.sim);
    const input = {
      domain: 'contoso.com',
      passwordHashSync: true,
      containers: [SALES],
      notificationEmail: 'ops@contoso.com; security@contoso.com',
      deleteThreshold: 50,
    };
    const first = await s.graph.ensureCloudSyncConfiguration(input);
    const put = first.requests.find((r) => r.method === 'PUT' && r.path.endsWith('/secrets'))!;
    expect((put.body as any).value).toEqual([
      { key: 'Domain', value: '{"domain":"contoso.com"}' },
      {
        key: 'SyncNotificationSettings',
        value: '{"Enabled":true,"Recipients":"ops@contoso.com;security@contoso.com","DeleteThresholdEnabled":true,"DeleteThresholdValue":50}',
      },
      { key: 'AppKey', value: '{"appKeyScenario":"AD2AADPasswordHash"}' },
    ]);
    const got = await raw(s.baseUrl, 'GET', `/beta/servicePrincipals/${first.servicePrincipalId}/synchronization/secrets`);
    expect(got.body.value.map((x: any) => x.key)).toEqual(['Domain', 'SyncNotificationSettings']); // AppKey is write-only
    const second = await s.graph.ensureCloudSyncConfiguration(input);
    expect(second.requests).toEqual([]);
    // a new recipient: one PUT, without AppKey
    const third = await s.graph.ensureCloudSyncConfiguration({ ...input, notificationEmail: ['ops@contoso.com'] });
    expect(third.requests).toHaveLength(1);
    expect((third.requests[0].body as any).value.map((x: any) => x.key)).toEqual(['Domain', 'SyncNotificationSettings']);
    await expect(s.graph.describeCloudSyncConfiguration({ ...input, notificationEmail: 'not an address' })).rejects.toMatchObject({ code: 'InvalidRecipient' });
  });

  it(`refuses more than ${MAX_SCOPE_ENTRIES} OUs and groups in one configuration before sending anything`, async () => {
    const s = await startSandbox();
    running.push(s.sim);
    const many = Array.from({ length: MAX_SCOPE_ENTRIES + 1 }, (_, i) => `OU=Branch ${i},DC=contoso,DC=com`);
    const err = await s.graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: many }).catch((e) => e);
    expect(err).toBeInstanceOf(GraphPlanError);
    expect(err.code).toBe('TooManyScopeEntries');
    expect(s.sim.stats.requests).toBe(0);
    // 45 OUs, then 6 more in a later batch: refused after reading, before any write
    const cfg = await s.graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: many.slice(0, 45) });
    const writes = s.sim.mutatingRequests();
    await expect(s.graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: many.slice(45) })).rejects.toMatchObject({
      code: 'TooManyScopeEntries',
    });
    await expect(
      s.graph.setGroupScope({
        servicePrincipalId: cfg.servicePrincipalId,
        jobId: cfg.provisioningJobId,
        groups: many.slice(0, 6).map((d) => d.replace('OU=', 'CN=')),
      }),
    ).rejects.toMatchObject({ code: 'TooManyScopeEntries' });
    expect(s.sim.mutatingRequests()).toBe(writes);
  });

  it('judges provision on demand: a match is success, a Create (a duplicate) is a failure', async () => {
    const s = await startSandbox();
    running.push(s.sim);
    const synced = s.ad.add({ dn: `CN=Ann,${SALES}` });
    const fresh = s.ad.add({ dn: `CN=Bob,${SALES}` });
    s.sim.upsertFromOnPrem(synced, 'connect', 'contoso.com'); // Connect synced Ann long ago
    const cfg = await s.graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: [SALES] });
    const ref = { servicePrincipalId: cfg.servicePrincipalId, jobId: cfg.provisioningJobId };
    const ruleId = await s.graph.provisioningRuleId(ref);
    const matched = judgeProvisionOnDemand(await s.graph.provisionOnDemand(ref, ruleId, synced.dn));
    expect(matched).toMatchObject({ ok: true, matched: true, action: 'Update' });
    expect(judgeProvisionOnDemand(await s.graph.provisionOnDemand(ref, ruleId, synced.dn))).toMatchObject({ ok: true, matched: true }); // RedundantExport
    const created = judgeProvisionOnDemand(await s.graph.provisionOnDemand(ref, ruleId, fresh.dn));
    expect(created).toMatchObject({ ok: false, matched: false, action: 'Create' });
    expect(created.message).toMatch(/CREATED one .*duplicate/);
  });

  it('creates the Exchange hybrid writeback job only when asked, after checking the AD schema for mailNickName', async () => {
    const s = await startSandbox();
    running.push(s.sim);
    const cfg = await s.graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: [SALES] });
    expect(cfg.exchangeHybridWritebackJobId).toBeUndefined();
    const ref = { servicePrincipalId: cfg.servicePrincipalId, jobId: cfg.provisioningJobId };
    s.sim.setAdHasMailNickname(false);
    expect(await s.graph.exchangeHybridWritebackPossible(ref)).toMatchObject({ possible: false });
    s.sim.setAdHasMailNickname(true);
    expect(await s.graph.exchangeHybridWritebackPossible(ref)).toMatchObject({ possible: true });
    const withEx = await s.graph.ensureCloudSyncConfiguration({
      domain: 'contoso.com',
      passwordHashSync: false,
      containers: [SALES],
      exchangeHybridWriteback: true,
    });
    expect(withEx.exchangeHybridWritebackJobId).toMatch(/^AAD2ADExchangeHybridWriteback\./);
    expect(withEx.requests.map((r) => (r.body as any)?.templateId)).toEqual(['AAD2ADExchangeHybridWriteback']);
    const job = await s.graph.getJob({ servicePrincipalId: cfg.servicePrincipalId, jobId: withEx.exchangeHybridWritebackJobId! });
    expect(job.schedule.state).toBe('Disabled'); // created, started only by startJob
  });
});
