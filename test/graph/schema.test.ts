/**
 * Every response shape the simulator returns, validated against Microsoft's OpenAPI excerpt
 * (../shared/reference/graph-openapi-sync-excerpt.yaml).
 *
 * How the OpenAPI 3.0 excerpt is read:
 * - `nullable: true` → the type also admits null.
 * - A property that is a $ref to an object (a complex type) admits null: CSDL's default for complex
 *   properties is Nullable=true, and graph-api.md §3 lists e.g. lastExecution/quarantine as nullable.
 * - The schemas are CLOSED here: allOf is flattened and any property not in the excerpt fails, except
 *   OData annotations (names containing '@'). The excerpt's `additionalProperties: {type: object}` marks
 *   OData open types; read literally inside allOf it would reject the base type's own `id`.
 * - Types the excerpt does not contain (application, servicePrincipal, directoryDefinition,
 *   objectMapping, synchronizationTemplate, the OData error body) get stand-ins below, written from the
 *   Graph docs; they are open and say so.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE } from '../../src/clock.js';
import { AD2AAD_TEMPLATE_ID } from '../../src/sandbox/graph/index.js';
import { delegatedToken, raw, startSandbox } from './helpers.js';

const addFormats = (addFormatsModule as any).default ?? addFormatsModule;
const excerptPath = fileURLToPath(new URL('../../../shared/reference/graph-openapi-sync-excerpt.yaml', import.meta.url));
const excerpt = parseYaml(readFileSync(excerptPath, 'utf8')).components.schemas as Record<string, any>;

const STAND_INS: Record<string, any> = {
  'microsoft.graph.application': {
    type: 'object',
    required: ['id'],
    properties: {
      id: { type: 'string' },
      objectId: { type: 'string' },
      appId: { type: 'string' },
      applicationTemplateId: { type: 'string' },
      displayName: { type: 'string' },
    },
  },
  'microsoft.graph.servicePrincipal': {
    type: 'object',
    required: ['id'],
    properties: {
      id: { type: 'string' },
      objectId: { type: 'string' },
      appId: { type: 'string' },
      applicationTemplateId: { type: ['string', 'null'] },
      displayName: { type: 'string' },
      servicePrincipalType: { type: 'string' },
      accountEnabled: { type: 'boolean' },
    },
  },
  'microsoft.graph.directoryDefinition': {
    type: 'object',
    required: ['id', 'name', 'objects'],
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      discoverabilities: { type: 'string' },
      discoveryDateTime: { type: ['string', 'null'], format: 'date-time' },
      readOnly: { type: 'boolean' },
      version: { type: 'string' },
      objects: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, attributes: { type: 'array' } } } },
    },
  },
  'microsoft.graph.objectMapping': {
    type: 'object',
    required: ['name', 'sourceObjectName', 'targetObjectName'],
    properties: {
      enabled: { type: 'boolean' },
      flowTypes: { type: 'string' },
      name: { type: 'string' },
      sourceObjectName: { type: 'string' },
      targetObjectName: { type: 'string' },
      attributeMappings: { type: 'array' },
      metadata: { type: 'array' },
      scope: {},
    },
  },
  'microsoft.graph.synchronizationTemplate': {
    type: 'object',
    required: ['id'],
    properties: {
      id: { type: 'string' },
      applicationId: { type: 'string' },
      default: { type: 'boolean' },
      description: { type: 'string' },
      discoverable: { type: 'boolean' },
      factoryTag: { type: 'string' },
      metadata: { type: 'array' },
    },
  },
  'microsoft.graph.bulkUpload': { type: 'object' },
  'microsoft.graph.onPremisesSipInfo': { type: 'object' }, // beta-only user property; the simulator never returns it
  'odata.error': {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        additionalProperties: false,
        properties: {
          code: { type: 'string' },
          message: { type: 'string' },
          innerError: {
            type: 'object',
            required: ['request-id', 'date'],
            properties: { 'request-id': { type: 'string' }, 'client-request-id': { type: 'string' }, date: { type: 'string', format: 'date-time' } },
          },
        },
      },
    },
  },
};

function refName(ref: string): string {
  return ref.replace('#/components/schemas/', '');
}

/** Converts one OpenAPI schema node to JSON Schema, flattening allOf into one closed object. */
function convert(node: any): any {
  if (!node || typeof node !== 'object') return node;
  if (node.$ref) return { $ref: `#/$defs/${refName(node.$ref)}` };
  if (node.allOf) {
    const properties: Record<string, any> = {};
    const collect = (n: any) => {
      if (n.$ref) {
        const name = refName(n.$ref);
        const target = excerpt[name] ?? STAND_INS[name];
        if (!target) throw new Error(`unresolved ${name}`);
        collect(target);
      } else if (n.allOf) n.allOf.forEach(collect);
      else Object.assign(properties, n.properties ?? {});
    };
    collect(node);
    return closedObject(properties);
  }
  if (node.type === 'object' || node.properties) return closedObject(node.properties ?? {});
  const out: any = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'nullable' || k === 'description' || k === 'title' || k.startsWith('x-ms-')) continue;
    out[k] = k === 'items' ? convertProperty(v) : v;
  }
  if (node.nullable && out.type) out.type = [out.type, 'null'];
  if (node.nullable && out.enum) out.enum = [...out.enum, null];
  return out;
}

function convertProperty(p: any): any {
  if (p?.$ref) {
    const target = excerpt[refName(p.$ref)] ?? STAND_INS[refName(p.$ref)];
    const isObject = target && (target.type === 'object' || target.allOf || target.properties);
    return isObject ? { anyOf: [convert(p), { type: 'null' }] } : convert(p);
  }
  return convert(p);
}

function closedObject(properties: Record<string, any>): any {
  const props: Record<string, any> = {};
  for (const [k, v] of Object.entries(properties)) props[k] = convertProperty(v);
  return { type: 'object', properties: props, patternProperties: { '@': {} }, additionalProperties: false };
}

const defs: Record<string, any> = {};
for (const [name, s] of Object.entries(excerpt)) defs[name] = convert(s);
for (const [name, s] of Object.entries(STAND_INS)) defs[name] = s;

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) <= 2 ** 31 });
ajv.addSchema({ $id: 'graph', $defs: defs });

const entity = (name: string) => ajv.compile({ $ref: `graph#/$defs/${name}` });
const collection = (name: string) =>
  ajv.compile({
    type: 'object',
    required: ['value'],
    properties: { value: { type: 'array', items: { $ref: `graph#/$defs/${name}` } } },
    patternProperties: { '^@odata\\.': { type: ['string', 'number'] } },
    additionalProperties: false,
  });

const checked = new Set<string>();
function expectValid(label: string, validate: ReturnType<typeof ajv.compile>, body: unknown): void {
  const ok = validate(body);
  expect(ok, `${label}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 600)}`).toBe(true);
  checked.add(label);
}

describe('simulator responses validate against the OpenAPI excerpt', () => {
  let s: Awaited<ReturnType<typeof startSandbox>>;
  beforeAll(async () => {
    s = await startSandbox();
  });
  afterAll(async () => {
    await s.sim.stop();
  });

  it('the validator is strict enough to catch a wrong shape', () => {
    const job = entity('microsoft.graph.synchronizationJob');
    expect(job({ id: 'x', status: { code: 'Running' } })).toBe(false); // not a synchronizationStatusCode
    expect(job({ id: 'x', schedule: { state: 'Active', interval: '2 minutes' } })).toBe(false); // not an ISO duration
    expect(job({ id: 'x', statusCode: 'Active' })).toBe(false); // unknown property
    expect(job({ id: 'x', '@odata.context': 'y', status: { quarantine: null, countSuccessiveCompleteFailures: 1 } })).toBe(true);
  });

  it('every endpoint, in every job state', async () => {
    const { sim, graph, ad, baseUrl, clock } = s;
    const SALES = 'OU=Sales,DC=contoso,DC=com';
    for (let i = 0; i < 5; i++) ad.add({ dn: `CN=S${i},${SALES}`, mail: `s${i}@contoso.com`, proxyAddresses: [`SMTP:s${i}@contoso.com`] });
    const broken = ad.add({ dn: `CN=Broken,${SALES}` });
    sim.addCloudUser('cloud@contoso.onmicrosoft.com');

    const inst = await raw(baseUrl, 'POST', `/beta/applicationTemplates/${AD2AAD_TEMPLATE_ID}/instantiate`, { body: { displayName: 'contoso.com' } });
    expectValid('instantiate', entity('microsoft.graph.applicationServicePrincipal'), inst.body);
    const sp = inst.body.servicePrincipal.id as string;
    expectValid(
      'servicePrincipals',
      collection('microsoft.graph.servicePrincipal'),
      (await raw(baseUrl, 'GET', `/v1.0/servicePrincipals?$filter=applicationTemplateId eq '${AD2AAD_TEMPLATE_ID}'`)).body,
    );
    expectValid(
      'templates',
      collection('microsoft.graph.synchronizationTemplate'),
      (await raw(baseUrl, 'GET', `/beta/servicePrincipals/${sp}/synchronization/templates`)).body,
    );

    const created = await raw(baseUrl, 'POST', `/beta/servicePrincipals/${sp}/synchronization/jobs`, { body: { templateId: 'AD2AADProvisioning' } });
    expect(created.status).toBe(201);
    expectValid('job created', entity('microsoft.graph.synchronizationJob'), created.body);
    const jobId = created.body.id as string;
    const ref = { servicePrincipalId: sp, jobId };
    const jobPath = `/beta/servicePrincipals/${sp}/synchronization/jobs/${jobId}`;
    const jobState = async (label: string) => {
      expectValid(`job ${label}`, entity('microsoft.graph.synchronizationJob'), (await raw(baseUrl, 'GET', jobPath)).body);
      expectValid(
        `jobs ${label}`,
        collection('microsoft.graph.synchronizationJob'),
        (await raw(baseUrl, 'GET', `/beta/servicePrincipals/${sp}/synchronization/jobs`)).body,
      );
    };
    await jobState('NotRun');

    await graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: true, containers: [SALES] });
    expectValid('schema', entity('microsoft.graph.synchronizationSchema'), (await raw(baseUrl, 'GET', `${jobPath}/schema`)).body);
    expectValid(
      'secrets',
      collection('microsoft.graph.synchronizationSecretKeyStringValuePair'),
      (await raw(baseUrl, 'GET', `/beta/servicePrincipals/${sp}/synchronization/secrets`)).body,
    );

    await graph.startJob(ref);
    sim.runSyncCycle(clock.advance(MINUTE)); // no agent: quarantine
    await jobState('Quarantine (no agents)');
    sim.seedAgent({ machineName: 'AGENT1', domain: 'contoso.com' });
    sim.injectExportFailure(broken.objectGUID, 'AzureActiveDirectoryDuplicateValue', 'conflict');
    await graph.restartJob(ref, 'Watermark, Escrows, QuarantineState');
    sim.runSyncCycle(clock.advance(MINUTE));
    await jobState('Active with entry-level errors');
    sim.clearExportFailure(broken.objectGUID);
    sim.runSyncCycle(clock.advance(MINUTE));
    sim.runSyncCycle(clock.advance(MINUTE));
    await jobState('Active steady');
    sim.injectQuarantine(jobId, 'TooManyDeletes');
    await jobState('Quarantine (TooManyDeletes)');
    await graph.pauseJob(ref);
    await jobState('Paused');

    const ruleId = await graph.provisioningRuleId(ref);
    const pod = await raw(baseUrl, 'POST', `${jobPath}/provisionOnDemand`, {
      body: { parameters: [{ ruleId, subjects: [{ objectId: `CN=S0,${SALES}`, objectTypeName: 'user' }] }] },
    });
    expectValid('provisionOnDemand', entity('microsoft.graph.stringKeyStringValuePair'), pod.body);
    const dirId = await graph.transport
      .request('GET', `/servicePrincipals/${sp}/synchronization/jobs/${jobId}/schema`, { version: 'beta' })
      .then((r) => r.body.directories[0].id);
    expectValid(
      'discover',
      entity('microsoft.graph.directoryDefinition'),
      (await raw(baseUrl, 'POST', `${jobPath}/schema/directories/${dirId}/discover`)).body,
    );
    // the agents list answers delegated callers only (Application: Not supported): app-only gets a Graph error body
    const agentsPath = '/beta/onPremisesPublishingProfiles/provisioning/agents?$expand=agentGroups';
    expectValid('error 403 agents (app-only)', entity('odata.error'), (await raw(baseUrl, 'GET', agentsPath)).body);
    expectValid(
      'agents',
      collection('microsoft.graph.onPremisesAgent'),
      (await raw(baseUrl, 'GET', agentsPath, { token: delegatedToken(['Policy.Read.HybridAuthentication']) })).body,
    );
    const logs = await raw(baseUrl, 'GET', `/v1.0/auditLogs/provisioning?$filter=jobId eq '${jobId}'&$top=3`);
    expect(logs.body['@odata.nextLink']).toBeDefined();
    expectValid('auditLogs/provisioning', collection('microsoft.graph.provisioningObjectSummary'), logs.body);
    expect(logs.body.value.length).toBe(3);

    const select =
      'id,userPrincipalName,mail,displayName,proxyAddresses,onPremisesImmutableId,onPremisesSamAccountName,onPremisesDistinguishedName,onPremisesSyncEnabled';
    const users = await raw(baseUrl, 'GET', `/v1.0/users?$filter=onPremisesSyncEnabled eq true&$select=${select}&$top=2&$count=true`, {
      headers: { ConsistencyLevel: 'eventual' },
    });
    expect(users.body['@odata.count']).toBe(6);
    expectValid('users (synced, selected)', collection('microsoft.graph.user'), users.body);
    expectValid(
      'users (defaults)',
      collection('microsoft.graph.user'),
      (await raw(baseUrl, 'GET', '/v1.0/users?$select=displayName,userPrincipalName,mail,onPremisesSyncEnabled')).body,
    );
    expectValid('user by id', entity('microsoft.graph.user'), (await raw(baseUrl, 'GET', `/v1.0/users/${users.body.value[0].id}?$select=${select}`)).body);
    const latest = await raw(baseUrl, 'GET', `/v1.0/users/delta?$select=${select}&$deltatoken=latest`);
    expectValid('users/delta latest', collection('microsoft.graph.user'), latest.body);
    sim.removeUsersUnder(SALES, 1);
    ad.add({ dn: `CN=S9,${SALES}` });
    await graph.startJob(ref, { clearQuarantine: true }); // paused from a quarantine: the caller has seen the reason
    sim.runSyncCycle(clock.advance(MINUTE));
    const delta = await raw(baseUrl, 'GET', latest.body['@odata.deltaLink'].slice(baseUrl.length));
    expect(delta.body.value.some((v: any) => v['@removed'])).toBe(true);
    expectValid('users/delta changes', collection('microsoft.graph.user'), delta.body);
    expectValid('users/delta initial', collection('microsoft.graph.user'), (await raw(baseUrl, 'GET', `/v1.0/users/delta?$select=${select}`)).body);

    const err = entity('odata.error');
    expectValid('error 401', err, (await raw(baseUrl, 'GET', '/v1.0/users', { token: null })).body);
    expectValid('error 404', err, (await raw(baseUrl, 'GET', '/v1.0/users/nope')).body);
    expectValid('error 400 $top', err, (await raw(baseUrl, 'GET', '/v1.0/users?$top=1000')).body);
    expectValid('error 404 PATCH schema', err, (await raw(baseUrl, 'PATCH', `${jobPath}/schema`, { body: {} })).body);
    sim.injectFault({ status: 429, count: 1, retryAfterSeconds: 1 });
    expectValid('error 429', err, (await raw(baseUrl, 'GET', '/v1.0/users')).body);

    expect(checked.size).toBeGreaterThanOrEqual(30);
  });
});
