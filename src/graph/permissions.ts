/**
 * Microsoft Graph permissions per endpoint, as Microsoft documents them: one table that the sandbox's Graph simulator
 * enforces (it answers 403 Authorization_RequestDenied without one of them) and that the README's permission table is
 * checked against (test/graph/permissions.test.ts).
 *
 * Sources (the "Permissions" table of each API page, least privileged first, then the higher ones):
 * - users: https://learn.microsoft.com/graph/api/user-list , user-get , user-delta (Application: User.Read.All least for
 *   onPremises* properties; User.ReadBasic.All does not return them, so the stricter reading does not accept it here).
 * - groups, transitiveMembers: https://learn.microsoft.com/graph/api/group-get , group-list-transitivemembers
 *   (Application: GroupMember.Read.All least; Group.Read.All, Directory.Read.All higher).
 * - GET/PATCH /directory/onPremisesSynchronization: https://learn.microsoft.com/graph/api/onpremisesdirectorysynchronization-get
 *   "Application: Not supported." (delegated OnPremDirectorySynchronization.Read.All, Global Administrator only).
 * - POST /applicationTemplates/{id}/instantiate: https://learn.microsoft.com/graph/api/applicationtemplate-instantiate
 *   (Application.ReadWrite.OwnedBy least; Application.ReadWrite.All, Directory.ReadWrite.All).
 * - GET /servicePrincipals: https://learn.microsoft.com/graph/api/serviceprincipal-list (Application.Read.All least).
 * - synchronization jobs, schema, secrets, start/pause/restart/provisionOnDemand/validateCredentials:
 *   https://learn.microsoft.com/graph/api/resources/synchronization-overview and each method page
 *   (Application.ReadWrite.OwnedBy least; Synchronization.ReadWrite.All; reads also Synchronization.Read.All).
 *   GET …/synchronization/secrets has no permission table of its own (it is shown only in Entra's
 *   how-to-inbound-synch-ms-graph.md); the stricter reading requires the write permission that PUT needs.
 * - POST …/schema/directories/{id}/discover: https://learn.microsoft.com/graph/api/synchronization-directorydefinition-discover
 *   (Application.ReadWrite.OwnedBy least; Directory.ReadWrite.All. Synchronization.ReadWrite.All is NOT listed).
 * - GET /domains, GET /domains/{id}: https://learn.microsoft.com/graph/api/domain-list , domain-get
 *   (Application: Domain.Read.All least; Domain.ReadWrite.All, Directory.Read.All higher).
 * - GET /organization: https://learn.microsoft.com/graph/api/organization-get (Application: Organization.Read.All least;
 *   Directory.Read.All, Organization.ReadWrite.All, Directory.ReadWrite.All).
 * - GET /auditLogs/provisioning: https://learn.microsoft.com/graph/api/provisioningobjectsummary-list
 *   (ProvisioningLog.Read.All least; AuditLog.Read.All, Directory.Read.All).
 * - GET /beta/onPremisesPublishingProfiles/provisioning/agents: https://learn.microsoft.com/graph/api/onpremisesagent-list
 *   "Application: Not supported" (delegated Policy.Read.HybridAuthentication least).
 *
 * Application.ReadWrite.OwnedBy only reaches applications and service principals the calling app owns (the ones it
 * created with instantiate): https://learn.microsoft.com/graph/permissions-reference#applicationreadwriteownedby .
 */

export const OWNED_BY = 'Application.ReadWrite.OwnedBy';

export interface EndpointPermissions {
  /** A name for messages and for the client's operation list. */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Matched against the path without version and query, e.g. /servicePrincipals/{id}/synchronization/jobs. */
  pattern: RegExp;
  /** Application permissions accepted (least privileged first), or 'not-supported' (app-only always 403). */
  application: string[] | 'not-supported';
  /** Delegated permissions accepted (only where the sandbox models a delegated caller). */
  delegated: string[];
  doc: string;
}

const SYNC_WRITE = [OWNED_BY, 'Synchronization.ReadWrite.All'];
const SYNC_READ = [OWNED_BY, 'Synchronization.Read.All', 'Synchronization.ReadWrite.All'];
const USERS = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const GROUPS = ['GroupMember.Read.All', 'Group.Read.All', 'GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const DOMAINS = ['Domain.Read.All', 'Domain.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const SP = `/servicePrincipals/[^/]+/synchronization`;
const JOB = `${SP}/jobs/[^/]+`;
const DOCS = 'https://learn.microsoft.com/graph/api';

const e = (
  name: string,
  method: EndpointPermissions['method'],
  pattern: string,
  application: EndpointPermissions['application'],
  doc: string,
  delegated: string[] = [],
): EndpointPermissions => ({
  name,
  method,
  pattern: new RegExp(`^${pattern}$`),
  application,
  delegated,
  doc: `${DOCS}/${doc}`,
});

export const ENDPOINT_PERMISSIONS: readonly EndpointPermissions[] = [
  e('list users', 'GET', '/users', USERS, 'user-list'),
  e('count users', 'GET', '/users/\\$count', USERS, 'user-list'),
  e('users delta', 'GET', '/users/delta', USERS, 'user-delta'),
  e('get user', 'GET', '/users/[^/]+', USERS, 'user-get'),
  e('list groups', 'GET', '/groups', GROUPS, 'group-list'),
  e('groups delta', 'GET', '/groups/delta', GROUPS, 'group-delta'),
  e('get group', 'GET', '/groups/[^/]+', GROUPS, 'group-get'),
  e('group transitive members', 'GET', '/groups/[^/]+/transitiveMembers(/[^/]+)?', GROUPS, 'group-list-transitivemembers'),
  e('list domains', 'GET', '/domains', DOMAINS, 'domain-list'),
  e('get domain', 'GET', '/domains/[^/]+', DOMAINS, 'domain-get'),
  e('read onPremisesSynchronization', 'GET', '/directory/onPremisesSynchronization(/[^/]+)?', 'not-supported', 'onpremisesdirectorysynchronization-get', [
    'OnPremDirectorySynchronization.Read.All',
    'OnPremDirectorySynchronization.ReadWrite.All',
  ]),
  e('update onPremisesSynchronization', 'PATCH', '/directory/onPremisesSynchronization/[^/]+', 'not-supported', 'onpremisesdirectorysynchronization-update', [
    'OnPremDirectorySynchronization.ReadWrite.All',
  ]),
  e(
    'instantiate application template',
    'POST',
    '/applicationTemplates/[^/]+/instantiate',
    [OWNED_BY, 'Application.ReadWrite.All', 'Directory.ReadWrite.All'],
    'applicationtemplate-instantiate',
  ),
  e(
    'list service principals',
    'GET',
    '/servicePrincipals',
    ['Application.Read.All', OWNED_BY, 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    'serviceprincipal-list',
  ),
  e(
    'get service principal',
    'GET',
    '/servicePrincipals/[^/]+',
    ['Application.Read.All', OWNED_BY, 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    'serviceprincipal-get',
  ),
  e('list synchronization templates', 'GET', `${SP}/templates`, SYNC_READ, 'synchronization-synchronization-list-templates'),
  e('read synchronization secrets', 'GET', `${SP}/secrets`, SYNC_WRITE, 'synchronization-synchronization-secrets'),
  e('set synchronization secrets', 'PUT', `${SP}/secrets`, SYNC_WRITE, 'synchronization-synchronization-secrets'),
  e('list synchronization jobs', 'GET', `${SP}/jobs`, SYNC_READ, 'synchronization-synchronization-list-jobs'),
  e('create synchronization job', 'POST', `${SP}/jobs`, SYNC_WRITE, 'synchronization-synchronization-post-jobs'),
  e('get synchronization job', 'GET', JOB, SYNC_READ, 'synchronization-synchronizationjob-get'),
  e('delete synchronization job', 'DELETE', JOB, SYNC_WRITE, 'synchronization-synchronizationjob-delete'),
  e('start synchronization job', 'POST', `${JOB}/start`, SYNC_WRITE, 'synchronization-synchronizationjob-start'),
  e('pause synchronization job', 'POST', `${JOB}/pause`, SYNC_WRITE, 'synchronization-synchronizationjob-pause'),
  e('restart synchronization job', 'POST', `${JOB}/restart`, SYNC_WRITE, 'synchronization-synchronizationjob-restart'),
  e('provision on demand', 'POST', `${JOB}/provisionOnDemand`, SYNC_WRITE, 'synchronization-synchronizationjob-provisionondemand'),
  e('validate credentials', 'POST', `${JOB}/validateCredentials`, SYNC_WRITE, 'synchronization-synchronizationjob-validatecredentials'),
  e('get synchronization schema', 'GET', `${JOB}/schema`, SYNC_READ, 'synchronization-synchronizationschema-get'),
  e('replace synchronization schema', 'PUT', `${JOB}/schema`, SYNC_WRITE, 'synchronization-synchronizationschema-update'),
  e(
    'discover directory schema',
    'POST',
    `${JOB}/schema/directories/[^/]+/discover`,
    [OWNED_BY, 'Directory.ReadWrite.All'],
    'synchronization-directorydefinition-discover',
  ),
  e(
    'list provisioning logs',
    'GET',
    '/auditLogs/provisioning',
    ['ProvisioningLog.Read.All', 'AuditLog.Read.All', 'Directory.Read.All'],
    'provisioningobjectsummary-list',
  ),
  e(
    'get organization',
    'GET',
    '/organization',
    ['Organization.Read.All', 'Directory.Read.All', 'Organization.ReadWrite.All', 'Directory.ReadWrite.All'],
    'organization-get',
  ),
  e('list provisioning agents', 'GET', '/onPremisesPublishingProfiles/provisioning/agents', 'not-supported', 'onpremisesagent-list', [
    'Policy.Read.HybridAuthentication',
    'Policy.ReadWrite.HybridAuthentication',
    'Directory.ReadWrite.All',
  ]),
];

/** The table entry for a request (path without version or query), or undefined when Graph has no such endpoint here. */
export function endpointFor(method: string, path: string): EndpointPermissions | undefined {
  const p = path.split('?')[0].replace(/\/+$/, '');
  return ENDPOINT_PERMISSIONS.find((x) => x.method === method && x.pattern.test(p));
}

/**
 * The Graph application permissions cutover's deployed app holds: exactly the README's table
 * ("Microsoft Graph application permissions"), and what the sandbox mints into its app-only token.
 */
export const APP_PERMISSIONS = [
  'Synchronization.ReadWrite.All',
  'Application.ReadWrite.OwnedBy',
  'Application.Read.All',
  'User.Read.All',
  'GroupMember.Read.All',
  'ProvisioningLog.Read.All',
  'Domain.Read.All',
  'Organization.Read.All',
] as const;

/**
 * The endpoints cutover's client operations call with app-only credentials and need to succeed on any configuration,
 * including ones made in the portal (so OwnedBy alone is not enough for them). The agents list and
 * onPremisesSynchronization are left out on purpose: Graph does not serve them to app-only callers.
 */
export const CLIENT_ENDPOINTS: readonly string[] = [
  'list users',
  'count users',
  'users delta',
  'get user',
  'list domains',
  'get group',
  'group transitive members',
  'instantiate application template',
  'list service principals',
  'read synchronization secrets',
  'set synchronization secrets',
  'list synchronization jobs',
  'create synchronization job',
  'get synchronization job',
  'start synchronization job',
  'pause synchronization job',
  'restart synchronization job',
  'provision on demand',
  'validate credentials',
  'get synchronization schema',
  'replace synchronization schema',
  'discover directory schema',
  'list provisioning logs',
  'get organization',
];

// ---- tokens ----

export interface AccessTokenClaims {
  tid?: string;
  appid?: string;
  oid?: string;
  idtyp?: string;
  roles?: string[];
  scp?: string;
  aud?: string;
  exp?: number;
  [k: string]: unknown;
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/**
 * An app-only access token as Entra issues them for client credentials (roles, idtyp 'app', tid, appid, no scp),
 * unsigned (alg none): the sandbox simulator reads its claims and never trusts it for anything but the sandbox.
 */
export function mintSandboxAppToken(opts: { tenantId: string; appId?: string; roles?: readonly string[]; audience?: string; nowSeconds?: number }): string {
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  const appId = opts.appId ?? '5f1e2d3c-0000-4000-8000-00000000c0de';
  return [
    b64({ typ: 'JWT', alg: 'none' }),
    b64({
      aud: opts.audience ?? 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${opts.tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + 3600,
      appid: appId,
      azp: appId,
      oid: appId,
      sub: appId,
      idtyp: 'app',
      tid: opts.tenantId,
      roles: [...(opts.roles ?? APP_PERMISSIONS)],
      ver: '1.0',
    }),
    '',
  ].join('.');
}

/** The claims of a JWT (signature not checked), or undefined when it is not one. */
export function decodeAccessToken(token: string): AccessTokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? claims : undefined;
  } catch {
    return undefined;
  }
}
