import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mintSandboxAppToken } from '../../src/graph/index.js';
import { APP_TOKEN, raw, sandboxesStoppedAfterEach } from './helpers.js';

/** Simulators started here are stopped after each test. */
const sandbox = sandboxesStoppedAfterEach();

/**
 * The tenant's domains and users as Microsoft documents them (https://learn.microsoft.com/graph/api/domain-list ,
 * domain-get, user-get): what a new migration's checks read (issue 15).
 */
describe('GET /domains and GET /users/{id} in the Graph simulator', () => {
  it("lists the tenant's domains with the domain resource's properties, honours $select, and 404s a domain that is not the tenant's", async () => {
    const { sim, baseUrl, graph } = await sandbox();
    sim.addDomain('contoso.onmicrosoft.com', { initial: true, isDefault: false });
    sim.addDomain('contoso.com', { verified: true, isDefault: true });
    sim.addDomain('pending.example', { verified: false, isDefault: false });
    const all = await raw(baseUrl, 'GET', '/v1.0/domains', { token: APP_TOKEN });
    expect(all.status).toBe(200);
    expect(all.body['@odata.context']).toMatch(/\$metadata#domains$/);
    expect(all.body.value.map((d: any) => [d.id, d.isVerified, d.isDefault, d.isInitial, d.authenticationType])).toEqual([
      ['contoso.onmicrosoft.com', true, false, true, 'Managed'],
      ['contoso.com', true, true, false, 'Managed'],
      ['pending.example', false, false, false, 'Managed'],
    ]);
    const selected = await raw(baseUrl, 'GET', '/v1.0/domains?$select=id,isVerified', { token: APP_TOKEN });
    expect(selected.body.value[1]).toEqual({ id: 'contoso.com', isVerified: true });
    const one = await raw(baseUrl, 'GET', '/v1.0/domains/contoso.com', { token: APP_TOKEN });
    expect(one.body).toMatchObject({ id: 'contoso.com', isVerified: true, supportedServices: expect.arrayContaining(['Email']) });
    const missing = await raw(baseUrl, 'GET', '/v1.0/domains/fabrikam.com', { token: APP_TOKEN });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('Request_ResourceNotFound');
    // The client reads the same.
    expect((await graph.listDomains()).map((d) => `${d.id}:${d.isVerified}`)).toEqual([
      'contoso.onmicrosoft.com:true',
      'contoso.com:true',
      'pending.example:false',
    ]);
  });

  it('answers 403 without Domain.Read.All (or a higher permission Microsoft lists)', async () => {
    const { baseUrl } = await sandbox();
    const denied = await raw(baseUrl, 'GET', '/v1.0/domains', { token: mintSandboxAppToken({ tenantId: 't', roles: ['User.Read.All'] }) });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('Authorization_RequestDenied');
    expect((await raw(baseUrl, 'GET', '/v1.0/domains', { token: mintSandboxAppToken({ tenantId: 't', roles: ['Directory.Read.All'] }) })).status).toBe(200);
  });

  it('reads a user by object id (null when there is none), with accountEnabled', async () => {
    const { sim, graph } = await sandbox();
    const on = sim.addCloudUser('on@contoso.com', 'On');
    const off = sim.addCloudUser('off@contoso.com', 'Off', undefined, { accountEnabled: false });
    expect(await graph.getUser(on)).toEqual({ id: on, displayName: 'On', accountEnabled: true });
    expect(await graph.getUser(off)).toMatchObject({ accountEnabled: false });
    expect(await graph.getUser(randomUUID())).toBeNull();
  });
});
