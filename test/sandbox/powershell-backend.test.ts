import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, PILOT_OU } from '../helpers/harness.js';

/**
 * The simulated Connect server and forest as the sandbox's fake ADSync / ActiveDirectory modules reach them
 * (POST /sandbox/v1/onprem/<tenant>/cmdlets/<name>), without PowerShell: the answers the modules turn into objects,
 * and the errors they throw as the real cmdlets throw them. (The modules themselves, and the scripts through them, are
 * tested under pwsh: test/powershell/*.Tests.ps1.)
 */
describe('the sandbox cmdlet backend', () => {
  let h: Harness;
  let base = '';
  beforeAll(async () => {
    h = await Harness.start();
    base = `${h.app.url}/sandbox/v1/onprem/${h.app.tenant!.tenantId}`;
  });
  afterAll(async () => {
    await h?.stop();
  });

  const call = async (name: string, parameters: Record<string, unknown> = {}) => {
    const r = await fetch(`${base}/cmdlets/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ parameters }) });
    return { status: r.status, body: await r.json() };
  };

  it('answers Get-ADSyncScheduler with typed values: run-history style UTC without a zone, TimeSpans', async () => {
    const r = await call('Get-ADSyncScheduler');
    expect(r.status).toBe(200);
    expect(r.body.output.SyncCycleEnabled).toBe(true);
    expect(r.body.output.CurrentlyEffectiveSyncCycleInterval).toEqual({ $timespan: '00:30:00' });
    expect(r.body.output.NextSyncCycleStartTimeInUTC.kind).toBe('Unspecified');
    expect(r.body.output.NextSyncCycleStartTimeInUTC.$datetime).not.toMatch(/Z$/);
  });

  it('changes the simulated server: Set-ADSyncScheduler turns the scheduler off', async () => {
    expect((await call('Set-ADSyncScheduler', { SyncCycleEnabled: false })).status).toBe(200);
    expect(h.app.tenant!.forest.server.getScheduler().SyncCycleEnabled).toBe(false);
    await call('Set-ADSyncScheduler', { SyncCycleEnabled: true });
  });

  it('searches the domain with an LDAP filter as AD does (objectCategory shorthand, inetOrgPerson is a user)', async () => {
    const r = await call('Get-ADObject', {
      SearchBase: PILOT_OU,
      LDAPFilter: '(&(objectCategory=person)(objectClass=user))',
      Properties: ['objectGUID', 'mS-DS-ConsistencyGuid'],
    });
    expect(r.body.output).toHaveLength(40);
    const o = r.body.output[0];
    expect(o.ObjectGUID.$guid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Buffer.from(o['mS-DS-ConsistencyGuid'].$bytes, 'base64')).toHaveLength(16);
  });

  it('answers an error as the cmdlet throws it (422, message, category, error id)', async () => {
    const missing = await call('Get-ADObject', { Identity: 'CN=Nobody,DC=contoso,DC=com' });
    expect(missing.status).toBe(422);
    expect(missing.body.error).toMatchObject({
      category: 'ObjectNotFound',
      message: "Cannot find an object with identity: 'CN=Nobody,DC=contoso,DC=com' under: 'DC=contoso,DC=com'.",
    });
    expect(missing.body.error.errorId).toMatch(/ADIdentityNotFoundException/);
    h.app.tenant!.forest.server.setAdsyncService(false);
    const stopped = await call('Get-ADSyncScheduler');
    expect(stopped.body.error.message).toMatch(/^Unable to connect to the Synchronization Service/);
    h.app.tenant!.forest.server.setAdsyncService(true);
    const unmodelled = await call('Set-ADSyncScheduler', { PurgeRunHistoryInterval: '3.00:00:00' });
    expect(unmodelled.body.error.message).toMatch(/the sandbox does not model -PurgeRunHistoryInterval/);
  });

  it("answers csexport /f:x for either connector: written-back groups' deletes on the AD side carry adminDescription in their hologram", async () => {
    const server = h.app.tenant!.forest.server;
    expect((await call('csexport', { ConnectorName: server.adConnector.Name, Filter: 'x' })).body.output.xml).not.toContain('<cs-object ');
    server.setStagingMode(true);
    server.setCompanyFeatures({ GroupWritebackV2: false });
    try {
      server.runSyncCycle('Delta', h.clock.now());
      const ad = (await call('csexport', { ConnectorName: server.adConnector.Name, Filter: 'x' })).body.output.xml as string;
      const deletes = [...ad.matchAll(/<cs-object cs-dn="([^"]+)"[^>]*object-type="group">\s*<unapplied-export>\s*<delta operation="delete"/g)].map(
        (m) => m[1],
      );
      expect(deletes.sort()).toEqual(
        server
          .pendingExports('ad')
          .map((p) => p.dn)
          .sort(),
      );
      expect(deletes.length).toBeGreaterThan(1);
      expect(ad.match(/<attr name="adminDescription"[^>]*>\s*<value>Group_/g)).toHaveLength(deletes.length);
      // The Entra connector names its objects by source anchor, never by AD DN.
      const entra = (await call('csexport', { ConnectorName: server.entraConnector.Name, Filter: 'x' })).body.output.xml as string;
      for (const m of entra.matchAll(/cs-dn="([^"]+)"/g)) expect(m[1]).toMatch(/^CN=\{[0-9A-F]+\}$/);
    } finally {
      server.setCompanyFeatures({ GroupWritebackV2: true });
      server.setStagingMode(false);
    }
  });

  it('answers for every domain of the forest: Get-ADForest lists them, -Server reaches each', async () => {
    expect((await call('Get-ADForest')).body.output.Domains).toEqual(['contoso.com']);
    expect((await h.fault({ kind: 'forest-domain', domain: 'emea.contoso.com', users: 4 })).status).toBe(200);
    expect((await call('Get-ADForest')).body.output.Domains).toEqual(['contoso.com', 'emea.contoso.com']);
    const d = (await call('Get-ADDomain', { Server: 'emea.contoso.com' })).body.output;
    expect(d).toMatchObject({
      DNSRoot: 'emea.contoso.com',
      DistinguishedName: 'DC=emea,DC=contoso,DC=com',
      ParentDomain: 'contoso.com',
      Forest: 'contoso.com',
    });
    const users = await call('Get-ADUser', { Server: 'emea.contoso.com', SearchBase: d.DistinguishedName, LDAPFilter: '(objectClass=user)' });
    expect(users.body.output).toHaveLength(4);
    expect((await call('Get-ADDomain', { Server: 'fabrikam.com' })).body.error.message).toMatch(/^Unable to contact the server/);
  });

  it('counts the calls, and knows only its own tenants', async () => {
    const calls = (await (await fetch(`${base}/calls`)).json()).calls;
    expect(calls['Get-ADSyncScheduler']).toBeGreaterThanOrEqual(2);
    const r = await fetch(`${h.app.url}/sandbox/v1/onprem/00000000-0000-0000-0000-000000000000/cmdlets/Get-ADSyncScheduler`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(r.status).toBe(404);
  });
});
