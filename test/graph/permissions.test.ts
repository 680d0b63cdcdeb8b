import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { APP_PERMISSIONS, CLIENT_ENDPOINTS, ENDPOINT_PERMISSIONS, GraphError, mintSandboxAppToken } from '../../src/graph/index.js';
import { AD2AAD_TEMPLATE_ID } from '../../src/sandbox/graph/index.js';
import { delegatedToken, raw, sandboxesStoppedAfterEach } from './helpers.js';

/** Simulators started here are stopped after each test. */
const sandbox = sandboxesStoppedAfterEach();

const root = (p: string) => readFileSync(fileURLToPath(new URL(`../../${p}`, import.meta.url)), 'utf8');

/** The permissions in the README's "Microsoft Graph application permissions" table (first column, backticked). */
function readmeTable(text: string, heading: string): string[] {
  const start = text.indexOf(heading);
  expect(start).toBeGreaterThanOrEqual(0);
  const lines = text.slice(start).split('\n').slice(1);
  const rows: string[] = [];
  let inTable = false;
  for (const l of lines) {
    if (l.startsWith('|')) inTable = true;
    else if (inTable) break;
    const m = /^\|\s*`([\w.-]+)`\s*\|/.exec(l);
    if (m) rows.push(m[1]);
  }
  return rows;
}

const SALES = 'OU=Sales,DC=contoso,DC=com';

describe('app-only permissions', () => {
  it('the README table is exactly what the sandbox app holds, and covers every endpoint the client calls', () => {
    const readme = readmeTable(root('README.md'), '### Microsoft Graph application permissions');
    expect([...readme].sort()).toEqual([...APP_PERMISSIONS].sort());
    const infra = readmeTable(root('infra/README.md'), '## Microsoft Graph application permissions');
    expect([...infra].sort()).toEqual([...APP_PERMISSIONS].sort());
    // the consent script grants the same list
    const loop = /for p in ([^;]+); do/.exec(root('infra/README.md'))![1].split(/\s+/).filter(Boolean);
    expect([...loop].sort()).toEqual([...APP_PERMISSIONS].sort());
    // the sandbox mints exactly those roles
    const claims = JSON.parse(Buffer.from(mintSandboxAppToken({ tenantId: 't' }).split('.')[1], 'base64url').toString());
    expect([...claims.roles].sort()).toEqual([...APP_PERMISSIONS].sort());
    expect(claims).toMatchObject({ idtyp: 'app', tid: 't' });
    expect(claims.scp).toBeUndefined();
    for (const name of CLIENT_ENDPOINTS) {
      const ep = ENDPOINT_PERMISSIONS.find((e) => e.name === name);
      expect(ep, name).toBeDefined();
      expect(ep!.application, name).not.toBe('not-supported');
      expect(
        (ep!.application as string[]).some((p) => (APP_PERMISSIONS as readonly string[]).includes(p)),
        name,
      ).toBe(true);
    }
    // every table entry cites Microsoft's page
    for (const ep of ENDPOINT_PERMISSIONS) expect(ep.doc).toMatch(/^https:\/\/learn\.microsoft\.com\/graph\/api\//);
  });

  it('answers 403 Authorization_RequestDenied without a documented permission, and to every app-only token on the agents list', async () => {
    const { baseUrl, graph } = await sandbox();
    const noUsers = mintSandboxAppToken({ tenantId: 't', roles: ['Synchronization.ReadWrite.All'] });
    const denied = await raw(baseUrl, 'GET', '/v1.0/users', { token: noUsers });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' });
    // ReadBasic does not carry onPremises* properties: not accepted for the user reads cutover makes
    expect((await raw(baseUrl, 'GET', '/v1.0/users', { token: mintSandboxAppToken({ tenantId: 't', roles: ['User.ReadBasic.All'] }) })).status).toBe(403);
    expect((await raw(baseUrl, 'GET', '/v1.0/users', { token: mintSandboxAppToken({ tenantId: 't', roles: ['Directory.Read.All'] }) })).status).toBe(200);
    // provisioning logs: ProvisioningLog.Read.All, AuditLog.Read.All or Directory.Read.All
    expect(
      (await raw(baseUrl, 'GET', '/v1.0/auditLogs/provisioning', { token: mintSandboxAppToken({ tenantId: 't', roles: ['AuditLog.Read.All'] }) })).status,
    ).toBe(200);
    expect((await raw(baseUrl, 'GET', '/v1.0/auditLogs/provisioning', { token: noUsers })).status).toBe(403);

    const agents = '/beta/onPremisesPublishingProfiles/provisioning/agents?$expand=agentGroups';
    const everything = mintSandboxAppToken({
      tenantId: 't',
      roles: ENDPOINT_PERMISSIONS.flatMap((e) => (e.application === 'not-supported' ? [] : e.application)).concat(['Policy.Read.HybridAuthentication']),
    });
    expect((await raw(baseUrl, 'GET', agents, { token: everything })).status).toBe(403);
    expect((await raw(baseUrl, 'GET', agents, { token: delegatedToken(['Policy.Read.HybridAuthentication']) })).status).toBe(200);
    // Connect's tenant settings: Application "Not supported" too
    expect((await raw(baseUrl, 'GET', '/v1.0/directory/onPremisesSynchronization', { token: everything })).status).toBe(403);
    const err = await graph.onPremisesSynchronization().catch((e) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({ status: 403, code: 'Authorization_RequestDenied' });
    expect(await graph.passwordWriteback()).toEqual({ enabled: null, reason: expect.stringMatching(/Application: Not supported/) });
  });

  it('Application.ReadWrite.OwnedBy reaches only the configurations the app created', async () => {
    const { baseUrl, graph } = await sandbox();
    const cfg = await graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: [SALES] });
    const jobs = `/beta/servicePrincipals/${cfg.servicePrincipalId}/synchronization/jobs`;
    const otherApp = mintSandboxAppToken({ tenantId: 't', appId: 'another-app', roles: ['Application.ReadWrite.OwnedBy'] });
    const sameApp = mintSandboxAppToken({ tenantId: 't', roles: ['Application.ReadWrite.OwnedBy'] });
    expect((await raw(baseUrl, 'GET', jobs, { token: otherApp })).status).toBe(403);
    expect((await raw(baseUrl, 'GET', jobs, { token: sameApp })).status).toBe(200);
    // a configuration made in the portal (another app instantiated it): discover needs OwnedBy on it or Directory.ReadWrite.All
    const portal = await raw(baseUrl, 'POST', `/beta/applicationTemplates/${AD2AAD_TEMPLATE_ID}/instantiate`, {
      body: { displayName: 'fabrikam.com' },
      token: otherApp,
    });
    expect(portal.status).toBe(201);
    const sp = portal.body.servicePrincipal.id;
    const job = await raw(baseUrl, 'POST', `/beta/servicePrincipals/${sp}/synchronization/jobs`, {
      body: { templateId: 'AD2AADProvisioning' },
      token: otherApp,
    });
    expect(job.status).toBe(201);
    const ref = { servicePrincipalId: sp, jobId: job.body.id };
    expect((await graph.getJob(ref)).id).toBe(job.body.id); // Synchronization.ReadWrite.All reaches it
    expect(await graph.exchangeHybridWritebackPossible(ref)).toEqual({ possible: null, reason: expect.stringMatching(/OwnedBy/) });
  });
});
