import { describe, expect, it } from 'vitest';
import { GraphError, GraphPlanError } from '../../src/graph/index.js';
import { AD2AAD_TEMPLATE_ID } from '../../src/sandbox/graph/index.js';
import { raw, sandboxesStoppedAfterEach } from './helpers.js';

/** Simulators started here are stopped after each test. */
const sandbox = sandboxesStoppedAfterEach();

const SALES = 'OU=Sales,DC=contoso,DC=com';
const EMEA = 'OU=Sales\\, EMEA,DC=contoso,DC=com';
const HR = 'OU=HR,DC=contoso,DC=com';

describe('ensureCloudSyncConfiguration', () => {
  it('creates the service principal, both jobs, the Domain secret and the OU scope, and is a no-op the second time', async () => {
    const { sim, graph, baseUrl } = await sandbox();
    const input = { domain: 'contoso.com', passwordHashSync: true, containers: [SALES] };
    const planned = await graph.describeCloudSyncConfiguration(input);
    expect(planned.map((r) => `${r.method} ${r.path.replace(/servicePrincipals\/[^/]+/, 'servicePrincipals/*')}`)).toEqual([
      `POST /beta/applicationTemplates/${AD2AAD_TEMPLATE_ID}/instantiate`,
      'POST /beta/servicePrincipals/*/synchronization/jobs',
      'POST /beta/servicePrincipals/*/synchronization/jobs',
      'PUT /beta/servicePrincipals/*/synchronization/secrets',
      'PUT /beta/servicePrincipals/*/synchronization/jobs/{provisioningJobId}/schema',
    ]);
    expect(sim.mutatingRequests()).toBe(0); // describing sends nothing that changes the tenant

    const first = await graph.ensureCloudSyncConfiguration(input);
    expect(first.changed).toBe(true);
    expect(first.provisioningJobId).toMatch(/^AD2AADProvisioning\.[0-9a-f]{32}\.[0-9a-f-]{36}$/);
    expect(first.passwordHashJobId).toMatch(/^AD2AADPasswordHash\./);
    expect(first.includedContainers).toEqual([SALES]);
    expect(first.requests.map((r) => r.method)).toEqual(['POST', 'POST', 'POST', 'PUT', 'PUT']);
    // what was sent is exactly what the plan said, with the real ids filled in
    expect(first.requests[3].body).toEqual({
      value: [
        { key: 'Domain', value: '{"domain":"contoso.com"}' },
        { key: 'AppKey', value: '{"appKeyScenario":"AD2AADPasswordHash"}' },
      ],
    });
    const secrets = await raw(baseUrl, 'GET', `/beta/servicePrincipals/${first.servicePrincipalId}/synchronization/secrets`);
    expect(secrets.body.value.find((s: any) => s.key === 'Domain').value).toBe('{"domain":"contoso.com"}');
    const jobs = await graph.listJobs(first.servicePrincipalId);
    expect(jobs).toHaveLength(2);
    expect(jobs.every((j) => j.schedule.state === 'Disabled' && j.status.code === 'NotRun')).toBe(true);

    const mutationsBefore = sim.mutatingRequests();
    const second = await graph.ensureCloudSyncConfiguration(input);
    expect(second.changed).toBe(false);
    expect(second.requests).toEqual([]);
    expect(second.servicePrincipalId).toBe(first.servicePrincipalId);
    expect(second.provisioningJobId).toBe(first.provisioningJobId);
    expect(sim.mutatingRequests()).toBe(mutationsBefore);
    expect(await graph.describeCloudSyncConfiguration(input)).toEqual([]);
    expect(await graph.listJobs(first.servicePrincipalId)).toHaveLength(2);
  });

  it('adding a batch never drops containers already scoped, and matches DNs RDN-exactly', async () => {
    const { graph } = await sandbox();
    const a = await graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: [SALES, EMEA] });
    expect(a.passwordHashJobId).toBeUndefined();
    // the same OU in another case is the same OU; HR is new
    const plan = await graph.describeCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: ['ou=sales,dc=CONTOSO,dc=com', HR] });
    const b = await graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: ['ou=sales,dc=CONTOSO,dc=com', HR] });
    expect(b.requests).toEqual(plan);
    expect(b.requests).toHaveLength(1);
    expect(b.includedContainers).toEqual([SALES, EMEA, HR]);
    const schema = await graph.getSchema({ servicePrincipalId: b.servicePrincipalId, jobId: b.provisioningJobId });
    expect(schema.synchronizationRules[0].containerFilter.includedContainers).toEqual([SALES, EMEA, HR]);
    // the PUT body was the whole schema, not a fragment
    expect((b.requests[0].body as any).directories).toHaveLength(2);
  });

  it('rejects invalid DNs before sending anything', async () => {
    const { sim, graph } = await sandbox();
    await expect(
      graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: ["OU=a'; Remove-ADSyncRule"] }),
    ).rejects.toBeInstanceOf(GraphPlanError);
    expect(sim.stats.requests).toBe(0);
  });

  it('removes a container only when asked, and sets the group scope exactly', async () => {
    const { graph } = await sandbox();
    const cfg = await graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: [SALES, HR] });
    const ref = { servicePrincipalId: cfg.servicePrincipalId, jobId: cfg.provisioningJobId };
    const plan = await graph.describeRemoveContainerFromScope({ ...ref, container: 'OU=hr,DC=contoso,DC=com' });
    expect(plan).toHaveLength(1);
    const removed = await graph.removeContainerFromScope({ ...ref, container: 'OU=hr,DC=contoso,DC=com' });
    expect(removed.requests).toEqual(plan);
    expect(removed.includedContainers).toEqual([SALES]);
    expect((await graph.removeContainerFromScope({ ...ref, container: HR })).changed).toBe(false);

    const group = 'CN=Pilot Users,OU=Groups,DC=contoso,DC=com';
    expect((await graph.setGroupScope({ ...ref, groups: [group] })).changed).toBe(true);
    expect((await graph.setGroupScope({ ...ref, groups: [group.toUpperCase()] })).changed).toBe(false);
    const schema = await graph.getSchema(ref);
    expect(schema.synchronizationRules[0].groupFilter.includedGroups).toEqual([group]);
    expect(schema.synchronizationRules[0].containerFilter.includedContainers).toEqual([SALES]);
  });

  it('refuses to resend masked secrets with a replace-all PUT', async () => {
    const { graph, baseUrl } = await sandbox();
    const cfg = await graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: [SALES] });
    const put = await raw(baseUrl, 'PUT', `/beta/servicePrincipals/${cfg.servicePrincipalId}/synchronization/secrets`, {
      body: {
        value: [
          { key: 'Domain', value: '{"domain":"contoso.com"}' },
          { key: 'Password', value: 'S3cret!' },
        ],
      },
    });
    expect(put.status).toBe(204);
    const got = await raw(baseUrl, 'GET', `/beta/servicePrincipals/${cfg.servicePrincipalId}/synchronization/secrets`);
    expect(got.body.value).toEqual([
      { key: 'Domain', value: '{"domain":"contoso.com"}' },
      { key: 'Password', value: '*' },
    ]);
    // Nothing GET shows is missing: no PUT, so nothing is lost
    expect((await graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: [SALES] })).changed).toBe(false);
    // Asked to resend the write-only AppKey: that PUT would send Password back as "*"
    const err = await graph
      .ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: [SALES], resendAppKey: true })
      .catch((e) => e);
    expect(err).toBeInstanceOf(GraphPlanError);
    expect(err.code).toBe('MaskedSecretWouldBeLost');
  });

  it('answers PATCH on the schema with 404 as the real backend does, and instantiate with both id and objectId', async () => {
    const { graph, baseUrl } = await sandbox();
    const cfg = await graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: [SALES] });
    const patch = await raw(baseUrl, 'PATCH', `/beta/servicePrincipals/${cfg.servicePrincipalId}/synchronization/jobs/${cfg.provisioningJobId}/schema`, {
      body: {},
    });
    expect(patch.status).toBe(404);
    expect(patch.body.error.message).toMatch(/^No HTTP resource was found that matches the request URI/);
    const inst = await raw(baseUrl, 'POST', `/beta/applicationTemplates/${AD2AAD_TEMPLATE_ID}/instantiate`, { body: { displayName: 'fabrikam.com' } });
    expect(inst.status).toBe(201);
    expect(inst.body.servicePrincipal.id).toBe(inst.body.servicePrincipal.objectId);
    expect(inst.body.application.id).toBe(inst.body.application.objectId);
    const unknown = await graph.getJob({ servicePrincipalId: cfg.servicePrincipalId, jobId: 'AD2AADProvisioning.0.0' }).catch((e) => e);
    expect(unknown).toBeInstanceOf(GraphError);
    expect(unknown.status).toBe(404);
  });
});
