import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../clock.js';
import { isValidDn, normalizeDn } from '../../dn.js';
import type { Logger } from '../../log.js';
import { decodeAccessToken, endpointFor, OWNED_BY, type AccessTokenClaims, type EndpointPermissions } from '../../graph/permissions.js';
import type { AdObject, AdObjectClass, EntraSyncTarget, OnPremDirectory, SyncEngine } from '../contracts.js';
import { EntraDirectory, type EntraKind, type EntraObject } from './entraDirectory.js';
import { applySelect, decodeToken, encodeToken, HttpError, parseFilter, parseSelect, parseTop, type Predicate } from './odata.js';

export const AD2AAD_TEMPLATE_ID = '1a4721b3-e57f-4451-ae87-ef078703ec94';
/** The AD2AADProvisioning rule id seen in real schema dumps (graph-api.md §4). */
export const AD2AAD_RULE_ID = '6c409270-f78a-4bc6-af23-7cf3ab6482fe';
const PHS_RULE_ID = '5a8d8e8b-7bc0-4fe5-9c5c-6b4b1d1d3f21';
const EXCHANGE_RULE_ID = '0e3f5b7a-6c1d-4e2f-8a9b-3c4d5e6f7a81';
/**
 * AAD2ADGroupProvisioning: Cloud Sync's group provisioning to AD (Entra ID → AD), what the admin center configures for
 * "Microsoft Entra ID to AD sync" (the job id prefix seen in public Cloud Sync scripts; Microsoft documents no list).
 */
const JOB_TEMPLATES = ['AD2AADProvisioning', 'AD2AADPasswordHash', 'AAD2ADExchangeHybridWriteback', 'AAD2ADGroupProvisioning'] as const;
const GROUP_PROVISIONING_RULE_ID = '7d1e4c2a-9b3f-4e6d-8a5c-1f2e3d4c5b61';
/**
 * What Cloud Sync takes from its OUs: users, inetOrgPersons, groups and contacts (how-to-configure.md, and the
 * AD2AAD template's object mappings). 'inetOrgPerson' is named as a string so this works before AdObjectClass has it.
 */
const CLOUD_SYNC_CLASSES = ['user', 'inetOrgPerson', 'group', 'contact'] as unknown as AdObjectClass[];
/**
 * Secrets Graph never returns on GET. AppKey is write-only: Microsoft's samples of GET …/synchronization/secrets list
 * Domain, SyncNotificationSettings, UserName and Password ("*") only, never the AppKey the portal sets
 * (how-to-inbound-synch-ms-graph.md; the CSS "Cloud Sync data collection" sample in graph-api.md §4).
 */
const WRITE_ONLY_SECRETS = new Set(['AppKey']);
/** The Graph error Microsoft returns when a token lacks every permission an endpoint accepts. */
const DENIED = ['Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'] as const;
const NEVER = '0001-01-01T00:00:00Z';
const DEFAULT_DELETE_THRESHOLD = 500;
/** Secrets Graph returns masked. */
const MASKED_SECRETS = new Set(['Password', 'SecretToken', 'ClientSecret', 'Oauth2ClientSecret', 'Oauth2AccessToken', 'Oauth2RefreshToken', 'ConsumerSecret']);

const USER_DEFAULT_SELECT = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName'];
const GROUP_DEFAULT_SELECT = ['displayName', 'mail', 'mailNickname', 'proxyAddresses', 'securityEnabled', 'onPremisesSyncEnabled'];

/** A domain of the tenant, with the properties of Graph's domain resource. */
export interface SimDomain {
  id: string;
  authenticationType: 'Managed' | 'Federated';
  availabilityStatus: string | null;
  isAdminManaged: boolean;
  isDefault: boolean;
  isInitial: boolean;
  isRoot: boolean;
  isVerified: boolean;
  passwordNotificationWindowInDays: number | null;
  passwordValidityPeriodInDays: number | null;
  supportedServices: string[];
  state: unknown;
}

export interface SimulatedAgent {
  id: string;
  machineName: string;
  externalIp: string;
  status: 'active' | 'inactive';
  /** The AD domain the agent serves (its agent group's published resource). */
  domain: string;
}

interface SimJob {
  id: string;
  templateId: (typeof JOB_TEMPLATES)[number];
  schedule: { expiration: string | null; interval: string; state: 'Active' | 'Disabled' | 'Paused' };
  status: any;
  settings: { name: string; value: string }[];
  schema: any;
  /** Set by restart with ForceDeletes: the next cycle may exceed the delete threshold once. */
  forceDeletes: boolean;
  /** An injected quarantine stays until start/restart; a precondition quarantine re-evaluates each cycle. */
  stickyQuarantine: boolean;
  /**
   * The schema the running job uses: taken when it was last started (from Disabled/Paused) or restarted. A schema PUT
   * on an Active job is not picked up until then: "Once you've changed the scope, you should restart provisioning"
   * (how-to-configure.md).
   */
  runningSchema: any | null;
}

interface SimServicePrincipal {
  id: string;
  appId: string;
  applicationObjectId: string;
  displayName: string;
  secrets: { key: string; value: string }[];
  jobs: Map<string, SimJob>;
  /** The appid of the app that instantiated it: its owner, which Application.ReadWrite.OwnedBy reaches. */
  ownerAppId: string | null;
  /** The last AppKey scenario set (a write-only secret: it turns on the tenant's sync/PHS flags). */
  appKeyScenario: string | null;
}

export interface FaultRule {
  /** An HTTP error answer, or 'drop': the connection is reset with no answer at all (a network fault). */
  status: 429 | 500 | 503 | 504 | 'drop';
  /** How many matching requests fail. */
  count: number;
  retryAfterSeconds?: number;
  /** Matched against "METHOD /version/path?query". */
  match?: RegExp;
}

export interface GraphSimulatorOptions {
  clock: Clock;
  log?: Logger;
  /** The AD the provisioning agent reads (Cloud Sync's source). */
  onPrem?: OnPremDirectory;
  tenantId?: string;
  /** Graph's /users default page is 100. */
  defaultPageSize?: number;
  /** users/delta pages hold at most 200 objects (Graph caps odata.maxpagesize there). */
  deltaPageSize?: number;
  provisionOnDemandLimit?: { requests: number; windowMs: number };
}

export interface SimulatorStats {
  requests: number;
  byRoute: Record<string, number>;
  faultsServed: number;
  /** Most requests in progress at once (clients' concurrency bounds are checked against it). */
  maxInFlight: number;
}

function iso(d: Date): string {
  return d.toISOString();
}

function hex32(): string {
  return randomUUID().replace(/-/g, '');
}

function emptyStatus(): any {
  return {
    code: 'NotRun',
    countSuccessiveCompleteFailures: 0,
    escrowsPruned: false,
    lastExecution: null,
    lastSuccessfulExecution: null,
    lastSuccessfulExecutionWithExports: null,
    progress: [],
    quarantine: null,
    steadyStateFirstAchievedTime: NEVER,
    steadyStateLastAchievedTime: NEVER,
    synchronizedEntryCountByType: [],
    troubleshootingUrl: null,
  };
}

function templateSchema(jobId: string, templateId: SimJob['templateId'], now: Date, mailNickname: boolean): any {
  const adUserAttributes = ['objectGUID', 'distinguishedName', 'sAMAccountName', 'userPrincipalName', 'displayName', 'mail', 'proxyAddresses', 'mS-DS-ConsistencyGuid'];
  if (mailNickname) adUserAttributes.push('mailNickname');
  return {
    id: jobId,
    version: `Date:${iso(now)}, ActivityId:${randomUUID()}`,
    synchronizationRules: [
      {
        editable: true,
        id: templateId === 'AD2AADProvisioning' ? AD2AAD_RULE_ID : templateId === 'AD2AADPasswordHash' ? PHS_RULE_ID : templateId === 'AAD2ADGroupProvisioning' ? GROUP_PROVISIONING_RULE_ID : EXCHANGE_RULE_ID,
        name: templateId,
        priority: 0,
        sourceDirectoryName: 'Active Directory',
        targetDirectoryName: 'Microsoft Entra ID',
        containerFilter: { includedContainers: [] },
        groupFilter: { includedGroups: [] },
        metadata: [{ key: 'defaultSourceObjectMappings', value: 'user,group,contact' }],
        // The AD2AAD template maps users, inetOrgPersons, groups and contacts (Entra how-to-inbound-synch-ms-graph.md names
        // "Provision Active Directory users" and "Provision Active Directory inetOrgPersons").
        objectMappings: [
          ['Provision Active Directory users', 'user', 'User'],
          ['Provision Active Directory inetOrgPersons', 'inetOrgPerson', 'User'],
          ['Provision Active Directory groups', 'group', 'Group'],
          ['Provision Active Directory contacts', 'contact', 'Contact'],
        ].map(([name, sourceObjectName, targetObjectName]) => ({
          enabled: true,
          flowTypes: 'Add, Update, Delete',
          name,
          sourceObjectName,
          targetObjectName,
          attributeMappings: [],
          metadata: [],
          scope: null,
        })),
      },
    ],
    directories: [
      {
        id: '5e7e6a2b-0a4f-4a3b-8f2e-6d2f5f0a9c01',
        name: 'Active Directory',
        discoverabilities: 'AttributeNames, AttributeDataTypes',
        discoveryDateTime: null,
        readOnly: false,
        version: 'v1',
        objects: [{ name: 'user', attributes: adUserAttributes.map((n) => ({ name: n, type: 'String' })) }],
      },
      {
        id: '7c1b9a44-2f7d-4c8e-9f14-8f1c2e3d4b02',
        name: 'Microsoft Entra ID',
        discoverabilities: 'None',
        discoveryDateTime: null,
        readOnly: false,
        version: 'v1',
        objects: [{ name: 'User', attributes: [{ name: 'userPrincipalName', type: 'String' }] }],
      },
    ],
  };
}

/**
 * A Microsoft Graph simulator on loopback: the Entra side of the sandbox tenant, the Cloud Sync
 * service (template, jobs, schema, secrets, status, provisioning logs) and the agents endpoint.
 * It never acts on its own timers: runSyncCycle(now) is called by the composition root or a test.
 */
export class GraphSimulator implements EntraSyncTarget {
  readonly directory: EntraDirectory;
  readonly tenantId: string;
  readonly stats: SimulatorStats = { requests: 0, byRoute: {}, faultsServed: 0, maxInFlight: 0 };
  #inFlight = 0;

  #server: Server | undefined;
  #baseUrl = '';
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  #onPrem: OnPremDirectory | undefined;
  readonly #sps = new Map<string, SimServicePrincipal>();
  readonly #agents = new Map<string, SimulatedAgent>();
  readonly #logs: any[] = [];
  #faults: FaultRule[] = [];
  #latencyMs = 0;
  #adHasMailNickname = true;
  readonly #exportFailures = new Map<string, { errorCode: string; reason: string }>();
  readonly #onDemandHits: number[] = [];
  readonly #opts: Required<Pick<GraphSimulatorOptions, 'defaultPageSize' | 'deltaPageSize' | 'provisionOnDemandLimit'>>;

  /**
   * The tenant's domains (GET /domains), by name: the initial <tenant>.onmicrosoft.com and the custom domains added,
   * verified or not, as https://learn.microsoft.com/graph/api/resources/domain describes them.
   */
  readonly #domains = new Map<string, SimDomain>();

  constructor(opts: GraphSimulatorOptions) {
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#onPrem = opts.onPrem;
    this.tenantId = opts.tenantId ?? randomUUID();
    this.directory = new EntraDirectory(() => this.#clock.now());
    this.#opts = {
      defaultPageSize: opts.defaultPageSize ?? 100,
      deltaPageSize: opts.deltaPageSize ?? 200,
      provisionOnDemandLimit: opts.provisionOnDemandLimit ?? { requests: 5, windowMs: 10_000 },
    };
  }

  // ---- lifecycle ----

  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    // Like Graph's front end, keep idle connections well past a client's own keep-alive, so a busy client never
    // reuses a socket the server is closing at that instant.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.#baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.#baseUrl;
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** e.g. http://127.0.0.1:53121 (no version): what GraphSettings.baseUrl takes. */
  get baseUrl(): string {
    if (!this.#baseUrl) throw new Error('GraphSimulator not started');
    return this.#baseUrl;
  }

  attachOnPrem(dir: OnPremDirectory): void {
    this.#onPrem = dir;
  }

  // ---- EntraSyncTarget (delegated to the directory) ----

  upsertFromOnPrem(obj: AdObject, engine: SyncEngine, domainFqdn: string): void {
    this.directory.upsertFromOnPrem(obj, engine, domainFqdn);
  }
  deleteFromOnPrem(objectGUID: string, engine: SyncEngine): void {
    this.directory.deleteFromOnPrem(objectGUID, engine);
  }
  removeMembershipReferences(objectGUIDs: string[], engine: SyncEngine): void {
    this.directory.removeMembershipReferences(objectGUIDs, engine);
  }
  exportedBy(objectGUID: string): SyncEngine | undefined {
    return this.directory.exportedBy(objectGUID);
  }

  syncPasswordHashes(objectGUIDs: string[], engine: SyncEngine, now: Date): void {
    this.directory.syncPasswordHashes(objectGUIDs, engine, now);
  }
  /** The organization's onPremisesLastSyncDateTime: the last directory sync an engine completed. */
  #lastDirectorySync: Date | null = null;
  syncCompleted(_engine: SyncEngine, now: Date): void {
    if (!this.#lastDirectorySync || now > this.#lastDirectorySync) this.#lastDirectorySync = now;
  }

  // ---- sandbox control surface ----

  seedAgent(a: { machineName: string; domain: string; status?: 'active' | 'inactive'; externalIp?: string }): SimulatedAgent {
    const agent: SimulatedAgent = { id: randomUUID(), machineName: a.machineName, domain: a.domain, status: a.status ?? 'active', externalIp: a.externalIp ?? '203.0.113.10' };
    this.#agents.set(agent.id, agent);
    return agent;
  }
  setAgentStatus(id: string, status: 'active' | 'inactive'): void {
    const a = this.#agents.get(id);
    if (!a) throw new Error(`no agent ${id}`);
    a.status = status;
  }
  /** Makes the next `count` matching requests fail with `status` (429/503 carry Retry-After when given). */
  injectFault(rule: FaultRule): void {
    this.#faults.push({ ...rule });
  }
  clearFaults(): void {
    this.#faults = [];
  }
  /** Mutating requests served so far (POST/PUT/PATCH/DELETE routes): idempotency checks read it. */
  mutatingRequests(): number {
    return Object.entries(this.stats.byRoute).filter(([r]) => /^(POST|PUT|PATCH|DELETE) /.test(r)).reduce((n, [, c]) => n + c, 0);
  }
  /** Adds latency to every request (benchmarks). */
  setLatency(ms: number): void {
    this.#latencyMs = ms;
  }
  /** Whether the AD schema has mailNickname (Exchange schema extended): what discover reports. */
  setAdHasMailNickname(v: boolean): void {
    this.#adHasMailNickname = v;
  }
  /** The next exports of this AD object fail with this error (an escrow, logged as a failure). */
  injectExportFailure(objectGUID: string, errorCode: string, reason: string): void {
    this.#exportFailures.set(objectGUID.toLowerCase(), { errorCode, reason });
  }
  clearExportFailure(objectGUID: string): void {
    this.#exportFailures.delete(objectGUID.toLowerCase());
  }
  /** The tenant's onPremisesDirectorySynchronization: Connect Sync left accidental-delete prevention on (its default). */
  onPremisesSynchronization = {
    id: randomUUID(),
    configuration: { accidentalDeletionPrevention: { synchronizationPreventionType: 'enabledForCount', alertThreshold: 500 } },
    features: { passwordSyncEnabled: true, passwordWritebackEnabled: true, groupWriteBackEnabled: true, deviceWritebackEnabled: false, userWritebackEnabled: false, blockSoftMatchEnabled: false, blockCloudObjectTakeoverThroughHardMatchEnabled: false },
  };

  /** Puts a job in quarantine as Graph would show it; it stays until start or restart. */
  injectQuarantine(jobId: string, reason: string, error?: { code: string; message: string }): void {
    const job = this.findJob(jobId);
    this.quarantine(job, reason, error ?? { code: 'QuarantinedOnDemand', message: 'Quarantine injected by the sandbox.' }, true);
  }
  /** Count drift: deletes n users under an OU from Entra directly (no engine involved). Returns their ids. */
  removeUsersUnder(ou: string, n: number): string[] {
    const target = normalizeDn(ou);
    const removed: string[] = [];
    for (const o of this.directory.objects.values()) {
      if (removed.length >= n) break;
      const dn = o.props.onPremisesDistinguishedName as string | undefined;
      if (o.kind !== 'user' || !dn) continue;
      const nd = normalizeDn(dn);
      if (nd === target || nd.endsWith(`,${target}`)) removed.push(o.id);
    }
    for (const id of removed) this.directory.remove(id, 'deleted');
    return removed;
  }
  /** A cloud-only user (never synced): present in /users, absent from the synced filter. `id` fixes its object id. */
  addCloudUser(upn: string, displayName = upn, id?: string, opts: { accountEnabled?: boolean } = {}): string {
    return this.directory.create('user', { userPrincipalName: upn, displayName, mail: null, proxyAddresses: [], onPremisesSyncEnabled: null, accountEnabled: opts.accountEnabled ?? true }, {}, id).id;
  }
  /**
   * A domain of the tenant. The first one added is the default; `initial` marks the <tenant>.onmicrosoft.com domain
   * Entra creates with the tenant (always verified, Managed).
   */
  addDomain(name: string, opts: { verified?: boolean; initial?: boolean; isDefault?: boolean; federated?: boolean } = {}): void {
    const id = name.toLowerCase();
    const isDefault = opts.isDefault ?? this.#domains.size === 0;
    if (isDefault) for (const d of this.#domains.values()) d.isDefault = false;
    const verified = opts.initial ? true : opts.verified ?? true;
    this.#domains.set(id, {
      id,
      authenticationType: opts.federated ? 'Federated' : 'Managed',
      availabilityStatus: null,
      isAdminManaged: true,
      isDefault,
      isInitial: !!opts.initial,
      isRoot: true,
      isVerified: verified,
      passwordNotificationWindowInDays: null,
      passwordValidityPeriodInDays: null,
      supportedServices: verified ? ['Email', 'OfficeCommunicationsOnline'] : [],
      state: null,
    });
  }
  /** A cloud security group whose members are users or groups, by object id. */
  addCloudGroup(displayName: string, memberIds: string[] = [], id?: string): string {
    const nickname = displayName.replace(/[^A-Za-z0-9]/g, '') || 'group';
    return this.directory.create('group', { displayName, mail: null, mailNickname: nickname, proxyAddresses: [], securityEnabled: true, onPremisesSyncEnabled: null }, { memberIds: new Set(memberIds.map((m) => m.toLowerCase())) }, id).id;
  }
  addGroupMember(groupId: string, memberId: string): void {
    this.#cloudGroup(groupId).memberIds!.add(memberId.toLowerCase());
  }
  removeGroupMember(groupId: string, memberId: string): boolean {
    return this.#cloudGroup(groupId).memberIds!.delete(memberId.toLowerCase());
  }
  #cloudGroup(groupId: string): EntraObject {
    const g = this.directory.objects.get(groupId.toLowerCase());
    if (!g || g.kind !== 'group') throw new Error(`no group ${groupId}`);
    g.memberIds ??= new Set();
    return g;
  }

  summary(): {
    users: number;
    groups: number;
    byEngine: Record<'connect' | 'cloud' | 'unsynced', number>;
    usersByOu: ReturnType<EntraDirectory['usersByOu']>;
    jobs: { servicePrincipalId: string; domain: string; jobId: string; templateId: string; schedule: string; status: string; includedContainers: string[] }[];
    agents: SimulatedAgent[];
  } {
    const byEngine = { connect: 0, cloud: 0, unsynced: 0 };
    let users = 0;
    let groups = 0;
    for (const o of this.directory.objects.values()) {
      if (o.kind === 'user') users++;
      else if (o.kind === 'group') groups++;
      byEngine[o.engine ?? 'unsynced']++;
    }
    const jobs = [];
    for (const sp of this.#sps.values()) {
      for (const j of sp.jobs.values()) {
        jobs.push({
          servicePrincipalId: sp.id,
          domain: sp.displayName,
          jobId: j.id,
          templateId: j.templateId,
          schedule: j.schedule.state,
          status: j.status.code,
          includedContainers: [...(j.schema.synchronizationRules?.[0]?.containerFilter?.includedContainers ?? [])],
        });
      }
    }
    return { users, groups, byEngine, usersByOu: this.directory.usersByOu(), jobs, agents: [...this.#agents.values()].map((a) => ({ ...a })) };
  }

  // ---- Cloud Sync provisioning ----

  private findJob(jobId: string): SimJob {
    for (const sp of this.#sps.values()) {
      const j = sp.jobs.get(jobId);
      if (j) return j;
    }
    throw new Error(`no job ${jobId}`);
  }

  private quarantine(job: SimJob, reason: string, error: { code: string; message: string }, sticky: boolean): void {
    const now = this.#clock.now();
    const q = job.status.quarantine;
    const seriesBegan = q?.seriesBegan ?? iso(now);
    job.status.code = 'Quarantine';
    job.status.quarantine = {
      currentBegan: iso(now),
      error: { code: error.code, message: error.message, tenantActionable: true },
      nextAttempt: iso(new Date(now.getTime() + 40 * 60_000)),
      reason,
      seriesBegan,
      seriesCount: q ? Number(q.seriesCount) + 1 : 0,
    };
    job.status.countSuccessiveCompleteFailures = Number(job.status.countSuccessiveCompleteFailures) + 1;
    job.stickyQuarantine = job.stickyQuarantine || sticky;
  }

  private clearQuarantine(job: SimJob): void {
    job.status.quarantine = null;
    job.stickyQuarantine = false;
    job.status.code = job.schedule.state === 'Paused' ? 'Paused' : job.status.lastExecution ? 'Active' : 'NotRun';
  }

  private deleteThreshold(sp: SimServicePrincipal, job: SimJob): number {
    const notif = sp.secrets.find((s) => s.key === 'SyncNotificationSettings');
    if (notif) {
      try {
        const v = JSON.parse(notif.value);
        if (v.DeleteThresholdEnabled === false) return Infinity;
        if (Number.isFinite(Number(v.DeleteThresholdValue))) return Number(v.DeleteThresholdValue);
      } catch {
        /* a malformed value falls back to the job setting */
      }
    }
    const s = job.settings.find((x) => x.name === 'QuarantineTooManyDeletesThreshold');
    return s ? Number(s.value) : DEFAULT_DELETE_THRESHOLD;
  }

  private addLog(sp: SimServicePrincipal, job: SimJob, cycleId: string, now: Date, action: string, obj: { id?: string; displayName?: string; type: string }, targetId: string | null, failure?: { errorCode: string; reason: string }): void {
    this.#logs.push({
      id: randomUUID(),
      activityDateTime: iso(now),
      changeId: randomUUID(),
      cycleId,
      durationInMilliseconds: 12,
      initiatedBy: { id: '', displayName: 'Azure AD Provisioning Service', initiatorType: 'system' },
      jobId: job.id,
      modifiedProperties: [],
      provisioningAction: action,
      provisioningStatusInfo: failure
        ? { status: 'failure', errorInformation: { errorCode: failure.errorCode, reason: failure.reason, additionalDetails: null, errorCategory: 'nonServiceFailure', recommendedAction: null } }
        : { status: 'success', errorInformation: null },
      provisioningSteps: [
        { name: 'EntryImport', provisioningStepType: 'import', status: 'success', description: `Retrieved ${obj.displayName ?? obj.id} from Active Directory`, details: {} },
        { name: `EntryExport${action[0].toUpperCase()}${action.slice(1)}`, provisioningStepType: 'export', status: failure ? 'failure' : 'success', description: failure?.reason ?? 'Exported to Microsoft Entra ID', details: {} },
      ],
      servicePrincipal: { id: sp.id, displayName: sp.displayName },
      sourceIdentity: { id: obj.id ?? null, displayName: obj.displayName ?? null, identityType: obj.type, details: {} },
      sourceSystem: { id: null, displayName: 'Active Directory', details: {} },
      targetIdentity: { id: targetId, displayName: obj.displayName ?? null, identityType: obj.type === 'group' ? 'Group' : 'User', details: {} },
      targetSystem: { id: null, displayName: 'Microsoft Entra ID', details: {} },
      tenantId: this.tenantId,
    });
    // Keep the log bounded: the real service retains 30 days; the sandbox keeps the newest 20,000.
    if (this.#logs.length > 20_000) this.#logs.splice(0, this.#logs.length - 20_000);
  }

  /** The AD objects a provisioning job's schema selects (OU filter, then the pilot group filter). */
  private inScope(schema: any, onPrem: OnPremDirectory, domain: string): AdObject[] {
    const rule = schema?.synchronizationRules?.[0] ?? {};
    let containers: string[] = rule.containerFilter?.includedContainers ?? [];
    // An empty list means no OU filtering: the whole domain.
    if (containers.length === 0) containers = [domain.split('.').map((p) => `DC=${p}`).join(',')];
    const objs = onPrem.objectsUnder(containers, CLOUD_SYNC_CLASSES);
    const groups: string[] = rule.groupFilter?.includedGroups ?? [];
    if (groups.length === 0) return objs;
    const wanted = new Set(groups.map((g) => normalizeDn(g)));
    const memberDns = new Set<string>();
    for (const g of onPrem.objectsUnder(containers, ['group'])) {
      if (wanted.has(normalizeDn(g.dn))) for (const m of g.members ?? []) memberDns.add(normalizeDn(m));
    }
    return objs.filter((o) => (o.objectClass === 'group' ? wanted.has(normalizeDn(o.dn)) : memberDns.has(normalizeDn(o.dn))));
  }

  /**
   * One provisioning cycle for every active Cloud Sync job at `now`: the agent reads AD under the
   * job's scope, exports adds/updates, deletes what left scope (held at the delete threshold), and
   * updates the job status and the provisioning log.
   */
  runSyncCycle(now: Date): { jobId: string; outcome: string; exported: number; deleted: number }[] {
    const results: { jobId: string; outcome: string; exported: number; deleted: number }[] = [];
    for (const sp of this.#sps.values()) {
      for (const job of sp.jobs.values()) {
        if (job.schedule.state !== 'Active') continue;
        const r = this.runJob(sp, job, now);
        results.push({ jobId: job.id, ...r });
      }
    }
    return results;
  }

  private runJob(sp: SimServicePrincipal, job: SimJob, now: Date): { outcome: string; exported: number; deleted: number } {
    const q = job.status.quarantine;
    if (q) {
      if (job.stickyQuarantine) return { outcome: 'quarantined', exported: 0, deleted: 0 };
      if (new Date(q.nextAttempt).getTime() > now.getTime()) return { outcome: 'quarantine-wait', exported: 0, deleted: 0 };
    }
    const domainSecret = sp.secrets.find((s) => s.key === 'Domain');
    let domain: string | undefined;
    try {
      domain = domainSecret ? String(JSON.parse(domainSecret.value).domain ?? '') || undefined : undefined;
    } catch {
      domain = undefined;
    }
    if (!domain) {
      this.quarantine(job, 'EncounteredQuarantineException', { code: 'HybridIdentityServiceInvalidResource', message: 'The Domain secret of this configuration is not set.' }, false);
      return { outcome: 'quarantined', exported: 0, deleted: 0 };
    }
    const agents = [...this.#agents.values()].filter((a) => a.domain.toLowerCase() === domain!.toLowerCase());
    if (agents.length === 0) {
      this.quarantine(job, 'EncounteredQuarantineException', { code: 'HybridIdentityServiceNoAgentsAssigned', message: `No provisioning agent is assigned to ${domain}.` }, false);
      return { outcome: 'quarantined', exported: 0, deleted: 0 };
    }
    if (!agents.some((a) => a.status === 'active') || !this.#onPrem || this.#onPrem.domainFqdn.toLowerCase() !== domain.toLowerCase()) {
      this.quarantine(job, 'EncounteredQuarantineException', { code: 'HybridIdentityServiceNoActiveAgents', message: `No active provisioning agent for ${domain}.` }, false);
      return { outcome: 'quarantined', exported: 0, deleted: 0 };
    }
    const began = now;
    const cycleId = randomUUID();
    if (job.templateId === 'AD2AADPasswordHash') {
      const synced = this.syncPasswordHashesOf(sp, domain, now);
      this.finishCycle(job, began, now, cycleId, { imported: synced, exported: 0, escrowed: 0 }, true);
      return { outcome: 'ok', exported: synced, deleted: 0 };
    }
    if (job.templateId !== 'AD2AADProvisioning') {
      // Exchange hybrid writeback writes Exchange attributes back to AD: not modelled beyond completing a cycle.
      this.finishCycle(job, began, now, cycleId, { imported: 0, exported: 0, escrowed: 0 }, true);
      return { outcome: 'ok', exported: 0, deleted: 0 };
    }
    const onPrem = this.#onPrem;
    const scoped = this.inScope(job.runningSchema ?? job.schema, onPrem, domain);
    const inScope = new Set(scoped.map((o) => o.objectGUID.toLowerCase()));
    const deletes: EntraObject[] = [];
    for (const o of this.directory.objects.values()) {
      if (o.engine === 'cloud' && o.domain?.toLowerCase() === domain.toLowerCase() && o.objectGUID && !inScope.has(o.objectGUID.toLowerCase())) deletes.push(o);
    }
    const threshold = this.deleteThreshold(sp, job);
    if (deletes.length >= threshold && !job.forceDeletes) {
      this.quarantine(job, 'TooManyDeletes', { code: 'TooManyDeletes', message: `${deletes.length} deletes are pending, at or over the accidental-delete threshold of ${threshold}. Restart the job with ForceDeletes to let them through.` }, true);
      return { outcome: 'too-many-deletes', exported: 0, deleted: 0 };
    }
    job.forceDeletes = false;
    let exported = 0;
    let escrowed = 0;
    for (const obj of scoped) {
      const failure = this.#exportFailures.get(obj.objectGUID.toLowerCase());
      if (failure) {
        escrowed++;
        this.addLog(sp, job, cycleId, now, 'create', { id: obj.objectGUID, displayName: obj.displayName, type: obj.objectClass }, null, failure);
        continue;
      }
      const what = this.directory.exportObject(obj, 'cloud', domain);
      if (what === 'create' || what === 'update') {
        exported++;
        this.addLog(sp, job, cycleId, now, what, { id: obj.objectGUID, displayName: obj.displayName, type: obj.objectClass }, this.directory.byGuid.get(obj.objectGUID.toLowerCase()) ?? null);
      }
    }
    for (const o of deletes) {
      // Out of scope means deleted in Entra: users to the recycle bin, groups and contacts for good.
      this.directory.deleteSynced(o.id);
      this.addLog(sp, job, cycleId, now, 'delete', { id: o.objectGUID, displayName: o.props.displayName as string, type: o.kind }, o.id);
    }
    this.finishCycle(job, began, now, cycleId, { imported: scoped.length, exported: exported + deletes.length, escrowed });
    return { outcome: escrowed ? 'entry-level-errors' : 'ok', exported, deleted: deletes.length };
  }

  /**
   * Cloud Sync's password hash sync for a configuration: only with the AppKey's PasswordHash scenario, the
   * CredentialData ← [PasswordHash] mapping on the running provisioning job's "Provision Active Directory users"
   * mapping (how-to-inbound-synch-ms-graph.md, "Enable Sync password hashes on configuration blade"), and for users
   * Cloud Sync provisioned. Never for inetOrgPerson: "Using password hash sync with InetOrgPerson is not supported"
   * (how-to-prerequisites.md). Returns how many users' hashes were written.
   */
  private syncPasswordHashesOf(sp: SimServicePrincipal, domain: string, now: Date): number {
    if (sp.appKeyScenario !== 'AD2AADPasswordHash' || !this.#onPrem) return 0;
    const prov = [...sp.jobs.values()].find((j) => j.templateId === 'AD2AADProvisioning' && j.schedule.state === 'Active' && !j.status.quarantine);
    const schema = prov?.runningSchema;
    if (!schema) return 0;
    const users = (schema.synchronizationRules?.[0]?.objectMappings ?? []).find((m: any) => m?.sourceObjectName === 'user' && m?.enabled !== false);
    const hasCredential = (users?.attributeMappings ?? []).some((a: any) => a?.targetAttributeName === 'CredentialData' && a?.source?.name === 'PasswordHash');
    if (!hasCredential) return 0;
    const guids = this.inScope(schema, this.#onPrem, domain)
      .filter((o) => o.objectClass === 'user' && this.directory.exportedBy(o.objectGUID) === 'cloud')
      .map((o) => o.objectGUID);
    if (guids.length) this.directory.syncPasswordHashes(guids, 'cloud', now);
    return guids.length;
  }

  private finishCycle(job: SimJob, began: Date, now: Date, cycleId: string, c: { imported: number; exported: number; escrowed: number }, ownCounts = false): void {
    const execution = {
      activityIdentifier: cycleId,
      countEntitled: c.imported,
      countEntitledForProvisioning: c.imported,
      countEscrowed: c.escrowed,
      countEscrowedRaw: c.escrowed,
      countExported: c.exported,
      countExports: c.exported + c.escrowed,
      countImported: c.imported,
      countImportedDeltas: c.exported + c.escrowed,
      countImportedReferenceDeltas: 0,
      error: null,
      state: c.escrowed ? 'EntryLevelErrors' : 'Succeeded',
      timeBegan: iso(began),
      timeEnded: iso(now),
    };
    const s = job.status;
    s.lastExecution = execution;
    if (!c.escrowed) s.lastSuccessfulExecution = execution;
    if (c.exported && !c.escrowed) s.lastSuccessfulExecutionWithExports = execution;
    s.countSuccessiveCompleteFailures = 0;
    if (s.quarantine && !job.stickyQuarantine) s.quarantine = null;
    if (!s.quarantine) s.code = 'Active';
    if (c.exported === 0 && c.escrowed === 0) {
      // Steady state: a cycle with nothing left to do.
      if (s.steadyStateFirstAchievedTime === NEVER) s.steadyStateFirstAchievedTime = iso(now);
      s.steadyStateLastAchievedTime = iso(now);
    }
    if (ownCounts) return;
    let users = 0;
    let groups = 0;
    let contacts = 0;
    for (const o of this.directory.objects.values()) {
      if (o.engine !== 'cloud') continue;
      if (o.kind === 'user') users++;
      else if (o.kind === 'group') groups++;
      else contacts++;
    }
    s.synchronizedEntryCountByType = [
      { key: 'user to User', value: users },
      { key: 'group to Group', value: groups },
      ...(contacts ? [{ key: 'contact to Contact', value: contacts }] : []),
    ];
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const clientRequestId = (req.headers['client-request-id'] as string | undefined) ?? randomUUID();
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      const h: Record<string, string> = { 'request-id': requestId, 'client-request-id': clientRequestId, date: new Date().toUTCString(), ...headers };
      if (body === undefined) {
        res.writeHead(status, h);
        res.end();
        return;
      }
      if (typeof body === 'string') {
        res.writeHead(status, { ...h, 'content-type': 'text/plain' });
        res.end(body);
        return;
      }
      res.writeHead(status, { ...h, 'content-type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8' });
        res.end(JSON.stringify(body));
    };
    const sendError = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
      send(status, { error: { code, message, innerError: { date: iso(this.#clock.now()), 'request-id': requestId, 'client-request-id': clientRequestId } } }, headers);

    this.#inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.#inFlight);
    res.once('close', () => this.#inFlight--);
    try {
      this.stats.requests++;
      if (this.#latencyMs > 0) await new Promise((r) => setTimeout(r, this.#latencyMs));
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = req.method ?? 'GET';
      const m = /^\/(v1\.0|beta)(\/.*)$/.exec(url.pathname);
      if (!m) return sendError(404, 'InvalidVersion', `Invalid version: ${url.pathname.split('/')[1] ?? ''}`);
      const version = m[1] as 'v1.0' | 'beta';
      const auth = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1];
      if (!auth) return sendError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
      const caller = decodeAccessToken(auth);
      if (!caller || typeof caller.tid !== 'string' || (caller.idtyp !== 'app' && typeof caller.scp !== 'string')) {
        return sendError(401, 'InvalidAuthenticationToken', 'IDX14100: JWT is not well formed: the sandbox accepts Entra-shaped access tokens (tid; app-only roles with idtyp "app", or delegated scp).');
      }
      const line = `${method} /${version}${m[2]}${url.search}`;
      const fault = this.#faults.find((f) => f.count > 0 && (!f.match || f.match.test(line)));
      if (fault) {
        fault.count--;
        this.stats.faultsServed++;
        if (fault.status === 'drop') {
          req.socket.destroy();
          return;
        }
        const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
        const [code, message] =
          fault.status === 429
            ? ['TooManyRequests', 'Please retry again later.']
            : fault.status === 500
              ? ['InternalServerError', 'An internal server error occurred.']
              : fault.status === 503
                ? ['ServiceUnavailable', 'The service is temporarily unavailable. Please retry later.']
                : ['GatewayTimeout', 'The gateway did not receive a response in time.'];
        return sendError(fault.status, code, message, headers);
      }
      const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? await readJson(req) : undefined;
      const segments = m[2].split('/').filter(Boolean).map(decodeURIComponent);
      const endpoint = endpointFor(method, m[2]);
      if (endpoint && !this.authorized(endpoint, caller, segments)) {
        this.stats.byRoute[`403 ${endpoint.name}`] = (this.stats.byRoute[`403 ${endpoint.name}`] ?? 0) + 1;
        return sendError(403, ...DENIED);
      }
      const out = this.route(method, version, segments, url, req, body, caller);
      this.stats.byRoute[out.route] = (this.stats.byRoute[out.route] ?? 0) + 1;
      send(out.status, out.body, out.headers);
    } catch (e) {
      if (e instanceof HttpError) return sendError(e.status, e.code, e.message, e.headers);
      this.#log?.error({ err: e }, 'graph simulator failure');
      sendError(500, 'InternalServerError', (e as Error).message);
    }
  }

  /**
   * Whether the token carries a permission Microsoft documents for this endpoint (src/graph/permissions.ts).
   * App-only: one of the endpoint's application permissions (none where Graph says "Application: Not supported");
   * Application.ReadWrite.OwnedBy only reaches service principals the calling app instantiated. Delegated: one of its
   * delegated permissions in scp.
   */
  private authorized(ep: EndpointPermissions, caller: AccessTokenClaims, segments: string[]): boolean {
    if (typeof caller.scp === 'string') {
      const scopes = caller.scp.split(' ');
      return ep.delegated.some((p) => scopes.includes(p));
    }
    if (ep.application === 'not-supported') return false;
    const roles = Array.isArray(caller.roles) ? caller.roles : [];
    const granted = ep.application.filter((p) => roles.includes(p));
    if (granted.length === 0) return false;
    if (granted.length === 1 && granted[0] === OWNED_BY && segments[0] === 'servicePrincipals' && segments[1]) {
      const sp = this.#sps.get(segments[1]);
      // An SP it does not own is, to this app, one it cannot see.
      return !sp || (sp.ownerAppId !== null && sp.ownerAppId === caller.appid);
    }
    return true;
  }

  private link(version: string, path: string, params: URLSearchParams): string {
    const qs = [...params.entries()].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    return `${this.#baseUrl}/${version}${path}${qs ? `?${qs}` : ''}`;
  }

  private route(method: string, version: 'v1.0' | 'beta', s: string[], url: URL, req: IncomingMessage, body: any, caller: AccessTokenClaims): { status: number; body?: unknown; headers?: Record<string, string>; route: string } {
    const q = url.searchParams;
    const ok = (b: unknown, route: string, status = 200) => ({ status, body: b, route });
    const none = (route: string) => ({ status: 204, route });
    const ctx = (fragment: string) => `${this.#baseUrl}/${version}/$metadata#${fragment}`;
    const notFoundSegment = () => new HttpError(400, 'BadRequest', `Resource not found for the segment '${s[s.length - 1] ?? ''}'.`);

    // /users, /groups
    if ((s[0] === 'users' || s[0] === 'groups') && method === 'GET') {
      const kind: EntraKind = s[0] === 'users' ? 'user' : 'group';
      if (s.length === 1) return ok(this.list(kind, version, url, req), `GET /${s[0]}`);
      if (s.length === 2 && s[1] === '$count') {
        if (!/^eventual$/i.test(String(req.headers.consistencylevel ?? ''))) {
          throw new HttpError(400, 'Request_BadRequest', 'Count is only supported with the ConsistencyLevel: eventual header.');
        }
        const filter = parseFilter(q.get('$filter'), ['onPremisesSyncEnabled'], kind === 'user' ? 'User' : 'Group');
        let n = 0;
        for (const o of this.directory.objects.values()) if (o.kind === kind && filter(o.props)) n++;
        return ok(String(n), `GET /${s[0]}/$count`);
      }
      if (s.length === 2 && s[1] === 'delta') return ok(this.delta(kind, version, url, req), `GET /${s[0]}/delta`);
      if (kind === 'group' && s[2] === 'transitiveMembers' && s.length <= 4) {
        return ok(this.transitiveMembers(s[1], s[3], version, url, req), `GET /groups/{id}/transitiveMembers${s[3] ? `/${s[3]}` : ''}`);
      }
      if (s.length === 2) {
        const o = this.directory.objects.get(s[1]);
        if (!o || o.kind !== kind) throw new HttpError(404, 'Request_ResourceNotFound', `Resource '${s[1]}' does not exist or one of its queried reference-property objects are not present.`);
        return ok({ '@odata.context': ctx(`${s[0]}/$entity`), ...applySelect(o.props, parseSelect(q.get('$select')), kind === 'user' ? USER_DEFAULT_SELECT : GROUP_DEFAULT_SELECT) }, `GET /${s[0]}/{id}`);
      }
      throw notFoundSegment();
    }

    // GET /domains, GET /domains/{id}: https://learn.microsoft.com/graph/api/domain-list , domain-get (no paging;
    // $select applies; a domain that is not the tenant's is 404 Request_ResourceNotFound).
    if (s[0] === 'domains' && s.length <= 2 && method === 'GET') {
      const select = parseSelect(q.get('$select'));
      const shape = (d: SimDomain) => (select ? applySelect({ ...d }, select, []) : { ...d, supportedServices: [...d.supportedServices] });
      if (s.length === 1) return ok({ '@odata.context': ctx(`domains${select ? `(${select.join(',')})` : ''}`), value: [...this.#domains.values()].map(shape) }, 'GET /domains');
      const d = this.#domains.get(s[1].toLowerCase());
      if (!d) throw new HttpError(404, 'Request_ResourceNotFound', `Resource '${s[1]}' does not exist or one of its queried reference-property objects are not present.`);
      return ok({ '@odata.context': ctx('domains/$entity'), ...shape(d) }, 'GET /domains/{id}');
    }

    // GET /organization: the tenant, with its directory sync state (organization resource; $select honoured)
    if (s[0] === 'organization' && s.length === 1 && method === 'GET') {
      const org = { id: this.tenantId, displayName: 'Contoso', onPremisesSyncEnabled: this.#lastDirectorySync !== null, onPremisesLastSyncDateTime: this.#lastDirectorySync ? iso(this.#lastDirectorySync) : null };
      return ok({ '@odata.context': ctx('organization'), value: [applySelect(org, parseSelect(q.get('$select')), ['id', 'displayName'])] }, 'GET /organization');
    }

    // GET /directory/onPremisesSynchronization: Connect's tenant-level settings, incl. accidental-delete prevention
    if (s[0] === 'directory' && s[1] === 'onPremisesSynchronization' && s.length === 2 && method === 'GET') {
      return ok({ '@odata.context': ctx('directory/onPremisesSynchronization'), value: [this.onPremisesSynchronization] }, 'GET /directory/onPremisesSynchronization');
    }

    // POST /applicationTemplates/{id}/instantiate
    if (s[0] === 'applicationTemplates' && s.length === 3 && s[2] === 'instantiate' && method === 'POST') {
      if (s[1] !== AD2AAD_TEMPLATE_ID) throw new HttpError(404, 'Request_ResourceNotFound', `Resource '${s[1]}' does not exist or one of its queried reference-property objects are not present.`);
      const displayName = typeof body?.displayName === 'string' && body.displayName ? body.displayName : 'Active Directory to Azure Active Directory Provisioning';
      const sp: SimServicePrincipal = { id: randomUUID(), appId: randomUUID(), applicationObjectId: randomUUID(), displayName, secrets: [], jobs: new Map(), ownerAppId: typeof caller.appid === 'string' ? caller.appid : null, appKeyScenario: null };
      this.#sps.set(sp.id, sp);
      // The v1.0 docs show `id`, the beta docs `objectId`: return both so either client reading works.
      return ok(
        {
          '@odata.context': ctx('microsoft.graph.applicationServicePrincipal'),
          application: { id: sp.applicationObjectId, objectId: sp.applicationObjectId, appId: sp.appId, applicationTemplateId: AD2AAD_TEMPLATE_ID, displayName },
          servicePrincipal: this.spJson(sp),
        },
        'POST /applicationTemplates/{id}/instantiate',
        201,
      );
    }

    if (s[0] === 'servicePrincipals') {
      if (s.length === 1 && method === 'GET') {
        const filter = parseFilter(q.get('$filter'), ['applicationTemplateId', 'displayName', 'appId'], 'ServicePrincipal');
        const select = parseSelect(q.get('$select'));
        const value = [...this.#sps.values()].map((sp) => this.spJson(sp)).filter((j) => filter(j)).map((j) => (select ? applySelect(j, select, []) : j));
        return ok({ '@odata.context': ctx('servicePrincipals'), value }, 'GET /servicePrincipals');
      }
      const sp = this.#sps.get(s[1] ?? '');
      if (!sp) throw new HttpError(404, 'Request_ResourceNotFound', `Resource '${s[1]}' does not exist or one of its queried reference-property objects are not present.`);
      if (s.length === 2 && method === 'GET') return ok({ '@odata.context': ctx('servicePrincipals/$entity'), ...this.spJson(sp) }, 'GET /servicePrincipals/{id}');
      if (s[2] === 'synchronization') return this.routeSync(method, version, sp, s.slice(3), url, body);
      throw notFoundSegment();
    }

    if (s[0] === 'onPremisesPublishingProfiles' && s[1] === 'provisioning' && s[2] === 'agents' && s.length === 3 && method === 'GET') {
      if (version !== 'beta') throw new HttpError(400, 'BadRequest', "Resource not found for the segment 'onPremisesPublishingProfiles'.");
      const expand = (q.get('$expand') ?? '').split(',').map((x) => x.trim()).includes('agentGroups');
      const value = [...this.#agents.values()].map((a) => ({
        id: a.id,
        externalIp: a.externalIp,
        machineName: a.machineName,
        status: a.status,
        supportedPublishingTypes: ['provisioning'],
        ...(expand ? { agentGroups: [{ id: groupIdFor(a.domain), displayName: a.domain, isDefault: false, publishingType: 'provisioning' }] } : {}),
      }));
      return ok({ '@odata.context': ctx('onPremisesPublishingProfiles(\'provisioning\')/agents'), value }, 'GET /onPremisesPublishingProfiles/provisioning/agents');
    }

    if (s[0] === 'auditLogs' && s[1] === 'provisioning' && s.length === 2 && method === 'GET') return ok(this.auditLogs(version, url), 'GET /auditLogs/provisioning');

    throw notFoundSegment();
  }

  private spJson(sp: SimServicePrincipal): Record<string, unknown> {
    return { id: sp.id, objectId: sp.id, appId: sp.appId, applicationTemplateId: AD2AAD_TEMPLATE_ID, displayName: sp.displayName, servicePrincipalType: 'Application', accountEnabled: true };
  }

  private jobJson(job: SimJob): Record<string, unknown> {
    return { id: job.id, templateId: job.templateId, schedule: { ...job.schedule }, status: structuredClone(job.status), synchronizationJobSettings: job.settings.map((x) => ({ ...x })) };
  }

  private routeSync(method: string, version: string, sp: SimServicePrincipal, s: string[], url: URL, body: any): { status: number; body?: unknown; route: string } {
    const ctx = (fragment: string) => `${this.#baseUrl}/${version}/$metadata#${fragment}`;
    const noResource = () =>
      new HttpError(404, 'NotFound', `No HTTP resource was found that matches the request URI '${this.#baseUrl}${url.pathname}${url.search}'.`);
    if (s[0] === 'secrets' && s.length === 1) {
      if (method === 'GET') {
        const value = sp.secrets.filter((x) => !WRITE_ONLY_SECRETS.has(x.key)).map((x) => ({ key: x.key, value: MASKED_SECRETS.has(x.key) ? '*' : x.value }));
        return { status: 200, body: { '@odata.context': ctx('servicePrincipals(\'id\')/synchronization/secrets'), value }, route: 'GET /synchronization/secrets' };
      }
      if (method === 'PUT') {
        const value = body?.value;
        if (!Array.isArray(value) || value.some((x: any) => typeof x?.key !== 'string' || typeof x?.value !== 'string')) {
          throw new HttpError(400, 'BadRequest', 'The request body must be {"value":[{"key":"…","value":"…"}]}.');
        }
        const notif = value.find((x: any) => x.key === 'SyncNotificationSettings');
        if (notif) validateNotificationSettings(notif.value);
        const appKey = value.find((x: any) => x.key === 'AppKey');
        if (appKey) {
          let scenario: unknown;
          try {
            scenario = JSON.parse(appKey.value)?.appKeyScenario;
          } catch {
            scenario = undefined;
          }
          if (scenario !== 'AD2AADPasswordHash' && scenario !== 'AD2AADProvisioning') throw new HttpError(400, 'BadRequest', 'The AppKey value must be {"appKeyScenario":"AD2AADPasswordHash"} or {"appKeyScenario":"AD2AADProvisioning"}.');
          // AppKey turns on tenant flags; it is not kept as a readable secret.
          sp.appKeyScenario = scenario;
        }
        // Replace-all: whatever is not in the body is gone.
        sp.secrets = value.filter((x: any) => !WRITE_ONLY_SECRETS.has(x.key)).map((x: any) => ({ key: x.key, value: x.value }));
        return { status: 204, route: 'PUT /synchronization/secrets' };
      }
      throw noResource();
    }
    if (s[0] === 'templates' && s.length === 1 && method === 'GET') {
      const value = JOB_TEMPLATES.map((t) => ({ id: t, applicationId: sp.appId, default: t === 'AD2AADProvisioning', description: t, discoverable: true, factoryTag: t, metadata: [] }));
      return { status: 200, body: { '@odata.context': ctx('synchronization/templates'), value }, route: 'GET /synchronization/templates' };
    }
    if (s[0] !== 'jobs') throw noResource();
    if (s.length === 1) {
      if (method === 'GET') return { status: 200, body: { '@odata.context': ctx('servicePrincipals(\'id\')/synchronization/jobs'), value: [...sp.jobs.values()].map((j) => this.jobJson(j)) }, route: 'GET /synchronization/jobs' };
      if (method === 'POST') {
        const templateId = body?.templateId;
        if (!JOB_TEMPLATES.includes(templateId)) throw new HttpError(400, 'BadRequest', `The template '${String(templateId)}' is not one of this application's synchronization templates.`);
        const now = this.#clock.now();
        const id = `${templateId}.${this.tenantId.replace(/-/g, '')}.${randomUUID()}`;
        const job: SimJob = {
          id,
          templateId,
          schedule: { expiration: null, interval: 'PT2M', state: 'Disabled' },
          status: emptyStatus(),
          settings: [{ name: 'QuarantineTooManyDeletesThreshold', value: String(DEFAULT_DELETE_THRESHOLD) }],
          schema: templateSchema(id, templateId, now, this.#adHasMailNickname),
          forceDeletes: false,
          stickyQuarantine: false,
          runningSchema: null,
        };
        sp.jobs.set(id, job);
        return { status: 201, body: { '@odata.context': ctx('servicePrincipals(\'id\')/synchronization/jobs/$entity'), ...this.jobJson(job) }, route: 'POST /synchronization/jobs' };
      }
      throw noResource();
    }
    const job = sp.jobs.get(s[1]);
    if (!job) throw new HttpError(404, 'NotFound', `The synchronization job '${s[1]}' was not found.`);
    const rest = s.slice(2);
    if (rest.length === 0) {
      if (method === 'GET') return { status: 200, body: { '@odata.context': ctx('servicePrincipals(\'id\')/synchronization/jobs/$entity'), ...this.jobJson(job) }, route: 'GET /synchronization/jobs/{id}' };
      if (method === 'DELETE') {
        sp.jobs.delete(job.id);
        return { status: 204, route: 'DELETE /synchronization/jobs/{id}' };
      }
      throw noResource();
    }
    const action = rest[0];
    if (rest.length === 1 && method === 'POST') {
      switch (action) {
        case 'start':
          // Starting a Disabled or Paused job takes its current schema; start on a running job changes nothing about it.
          if (job.schedule.state !== 'Active') job.runningSchema = structuredClone(job.schema);
          job.schedule.state = 'Active';
          if (job.status.quarantine) this.clearQuarantine(job);
          job.status.code = job.status.lastExecution ? 'Active' : 'NotRun';
          return { status: 204, route: 'POST /jobs/{id}/start' };
        case 'pause':
          job.schedule.state = 'Paused';
          job.status.code = 'Paused';
          return { status: 204, route: 'POST /jobs/{id}/pause' };
        case 'restart': {
          const scope = String(body?.criteria?.resetScope ?? '');
          const flags = scope.split(',').map((x) => x.trim()).filter(Boolean);
          const known = ['None', 'ConnectorDataStore', 'Escrows', 'Watermark', 'QuarantineState', 'Full', 'ForceDeletes'];
          const bad = flags.find((f) => !known.includes(f));
          if (bad) throw new HttpError(400, 'BadRequest', `Requested value '${bad}' was not found.`);
          // An empty resetScope behaves like the portal's restart (QuarantineState, Watermark, Escrows).
          if (flags.length === 0 || flags.includes('QuarantineState') || flags.includes('Full') || flags.includes('ForceDeletes')) {
            if (job.status.quarantine) this.clearQuarantine(job);
          }
          if (flags.includes('ForceDeletes')) job.forceDeletes = true;
          job.runningSchema = structuredClone(job.schema);
          if (flags.length === 0 || flags.includes('Escrows') || flags.includes('Full')) job.status.countSuccessiveCompleteFailures = 0;
          job.schedule.state = 'Active';
          if (job.status.code === 'Paused') job.status.code = job.status.lastExecution ? 'Active' : 'NotRun';
          return { status: 204, route: 'POST /jobs/{id}/restart' };
        }
        case 'provisionOnDemand':
          return { status: 200, body: this.provisionOnDemand(sp, job, body, ctx), route: 'POST /jobs/{id}/provisionOnDemand' };
        case 'validateCredentials': {
          const domain = sp.secrets.find((x) => x.key === 'Domain');
          if (!domain) throw new HttpError(400, 'HybridIdentityServiceInvalidResource', 'The Domain secret of this configuration is not set.');
          const active = [...this.#agents.values()].some((a) => a.status === 'active' && domain.value.toLowerCase().includes(`"${a.domain.toLowerCase()}"`));
          if (!active) throw new HttpError(400, 'HybridIdentityServiceNoActiveAgents', 'No active provisioning agent could validate the credentials.');
          return { status: 204, route: 'POST /jobs/{id}/validateCredentials' };
        }
      }
    }
    if (action === 'schema') {
      if (rest.length === 1 && method === 'GET') return { status: 200, body: { '@odata.context': ctx('servicePrincipals(\'id\')/synchronization/jobs(\'id\')/schema/$entity'), ...structuredClone(job.schema) }, route: 'GET /jobs/{id}/schema' };
      if (rest.length === 1 && method === 'PUT') {
        if (!body || !Array.isArray(body.synchronizationRules)) throw new HttpError(400, 'BadRequest', 'The schema must contain synchronizationRules.');
        for (const r of body.synchronizationRules) {
          for (const c of [...(r?.containerFilter?.includedContainers ?? []), ...(r?.groupFilter?.includedGroups ?? [])]) {
            if (typeof c !== 'string' || !isValidDn(c)) throw new HttpError(400, 'BadRequest', `'${String(c)}' is not a valid distinguished name.`);
          }
        }
        const { ['@odata.context']: _ignored, ...schema } = body;
        job.schema = { ...structuredClone(schema), id: job.id, version: `Date:${iso(this.#clock.now())}, ActivityId:${randomUUID()}` };
        return { status: 204, route: 'PUT /jobs/{id}/schema' };
      }
      // PATCH is what the OpenAPI says and what the SDKs send; the backend has no such route.
      if (rest.length === 1) throw noResource();
      if (rest.length === 4 && rest[1] === 'directories' && rest[3] === 'discover' && method === 'POST') {
        const dir = (job.schema.directories ?? []).find((d: any) => d.id === rest[2]);
        if (!dir) throw new HttpError(404, 'NotFound', `The directory '${rest[2]}' was not found in the schema.`);
        dir.discoveryDateTime = iso(this.#clock.now());
        if (dir.name === 'Active Directory') {
          const user = dir.objects.find((o: any) => o.name === 'user');
          const has = user.attributes.some((a: any) => a.name === 'mailNickname');
          if (this.#adHasMailNickname && !has) user.attributes.push({ name: 'mailNickname', type: 'String' });
          if (!this.#adHasMailNickname && has) user.attributes = user.attributes.filter((a: any) => a.name !== 'mailNickname');
        }
        return { status: 200, body: { '@odata.context': ctx('microsoft.graph.directoryDefinition'), ...structuredClone(dir) }, route: 'POST /schema/directories/{id}/discover' };
      }
    }
    throw noResource();
  }

  private provisionOnDemand(sp: SimServicePrincipal, job: SimJob, body: any, ctx: (f: string) => string): unknown {
    const now = this.#clock.now().getTime();
    const { requests, windowMs } = this.#opts.provisionOnDemandLimit;
    while (this.#onDemandHits.length && this.#onDemandHits[0] <= now - windowMs) this.#onDemandHits.shift();
    if (this.#onDemandHits.length >= requests) {
      const wait = Math.max(0.001, (this.#onDemandHits[0] + windowMs - now) / 1000);
      throw new HttpError(429, 'TooManyRequests', 'Please retry again later.', { 'retry-after': wait.toFixed(3) });
    }
    this.#onDemandHits.push(now);
    const p = body?.parameters?.[0];
    const ruleIds = (job.schema.synchronizationRules ?? []).map((r: any) => r.id);
    if (!p || !ruleIds.includes(p.ruleId)) {
      throw new HttpError(400, 'RequestParameterInvalid', `The request parameter is invalid: the job does not include the rule '${String(p?.ruleId)}'.`);
    }
    const subject = p.subjects?.[0];
    const dn = subject?.objectId;
    if (typeof dn !== 'string' || !isValidDn(dn)) throw new HttpError(400, 'RequestParameterInvalid', 'The subject objectId must be the distinguished name of the AD object.');
    const domainSecret = sp.secrets.find((x) => x.key === 'Domain');
    const domain = domainSecret ? (JSON.parse(domainSecret.value).domain as string) : undefined;
    const wantedClass = (CLOUD_SYNC_CLASSES as string[]).find((c) => c.toLowerCase() === String(subject.objectTypeName ?? 'user').toLowerCase()) ?? 'user';
    const obj = this.#onPrem && domain ? this.#onPrem.objectsUnder([dn], [wantedClass as AdObjectClass]).find((o) => normalizeDn(o.dn) === normalizeDn(dn)) : undefined;
    const startTime = iso(this.#clock.now());
    const step = (name: string, type: string, status: string, description: string) => ({ name, type, status, description, timestamp: startTime, details: {} });
    if (!obj || !domain) {
      return { '@odata.context': ctx('microsoft.graph.stringKeyStringValuePair'), key: JSON.stringify({ result: 'Failure', details: { errorCode: 'EntryNotFound' } }), value: JSON.stringify({ provisioningSteps: [step('EntryImportObjectNotFound', 'Import', 'Failure', `No object ${dn} was found in Active Directory`)], modifiedProperties: [], action: 'Other', statusInfo: { status: 'Failure' } }) };
    }
    // "No user or group will be provisioned on-demand that would not have been provisioned through the regular cycles."
    const inScope = this.inScope(job.schema, this.#onPrem!, domain).some((o) => o.objectGUID.toLowerCase() === obj.objectGUID.toLowerCase());
    if (!inScope) {
      return { '@odata.context': ctx('microsoft.graph.stringKeyStringValuePair'), key: JSON.stringify({ result: 'Skipped', details: { errorCode: 'NotEffectivelyEntitled', reason: 'The object is out of the job scope.' } }), value: JSON.stringify({ provisioningSteps: [step('EntryImportAdd', 'Import', 'Success', `Retrieved ${dn}`), step('EntitlementEvaluation', 'Scoping', 'Skipped', 'The object is not in the scope of the job.')], modifiedProperties: [], action: 'Other', statusInfo: { status: 'Skipped' } }) };
    }
    // Matching is on the source anchor: no Entra object with it means Cloud Sync creates one (a duplicate, when the
    // person already exists in Entra under another anchor).
    const what = this.directory.exportObject(obj, 'cloud', domain);
    const targetId = this.directory.byGuid.get(obj.objectGUID.toLowerCase()) ?? null;
    const kindOf = (c: string) => (c === 'group' ? 'Group' : c === 'contact' ? 'Contact' : 'User');
    const result = what === 'none' ? { result: 'Skipped', details: { errorCode: 'RedundantExport' } } : { result: 'Success', details: {} };
    // On-demand provisioning is recorded in the provisioning logs like a cycle's export.
    if (what !== 'skipped') this.addLog(sp, job, randomUUID(), this.#clock.now(), what === 'none' ? 'update' : what, { id: obj.objectGUID, displayName: obj.displayName, type: obj.objectClass }, targetId);
    return {
      '@odata.context': ctx('microsoft.graph.stringKeyStringValuePair'),
      key: JSON.stringify(result),
      value: JSON.stringify({
        provisioningSteps: [
          step('EntryImportAdd', 'Import', 'Success', `Retrieved ${dn} from Active Directory`),
          what === 'create'
            ? step('EntryMatching', 'Matching', 'Success', 'No matching entry was found in Microsoft Entra ID for the source anchor; a new entry will be created.')
            : step('EntryMatching', 'Matching', 'Success', `Matched the Microsoft Entra ID entry ${targetId} on the source anchor.`),
          step('EntitlementEvaluation', 'Scoping', 'Success', 'The object is in scope'),
          step(what === 'create' ? 'EntryExportAdd' : 'EntryExportUpdate', 'Export', what === 'none' ? 'Skipped' : 'Success', 'Exported to Microsoft Entra ID'),
        ],
        modifiedProperties: [{ displayName: 'OnPremisesDistinguishedName', newValue: obj.dn }],
        action: what === 'create' ? 'Create' : 'Update',
        changeId: randomUUID(),
        startTime,
        endTime: startTime,
        reportableIdentifier: obj.userPrincipalName ?? obj.displayName,
        sourceIdentity: { id: obj.objectGUID, type: obj.objectClass },
        sourceSystem: { name: 'Active Directory' },
        statusInfo: { status: result.result },
        targetIdentity: { id: targetId, type: kindOf(obj.objectClass) },
        targetSystem: { name: 'Azure Active Directory' },
      }),
    };
  }

  private list(kind: EntraKind, version: string, url: URL, req: IncomingMessage): unknown {
    const q = url.searchParams;
    const resource = kind === 'user' ? 'User' : 'Group';
    const path = kind === 'user' ? '/users' : '/groups';
    const top = parseTop(q.get('$top'), this.#opts.defaultPageSize);
    const select = parseSelect(q.get('$select'));
    const filter = parseFilter(q.get('$filter'), ['onPremisesSyncEnabled', 'userPrincipalName', 'onPremisesImmutableId', 'displayName', 'mail'], resource);
    const wantCount = q.get('$count') === 'true';
    if (wantCount && !/^eventual$/i.test(String(req.headers.consistencylevel ?? ''))) {
      throw new HttpError(400, 'Request_BadRequest', 'Count is only supported with the ConsistencyLevel: eventual header.');
    }
    const skip = q.get('$skiptoken');
    let offset = skip ? decodeToken<{ o: number }>(skip, 'skip token').o : 0;
    const order = this.directory.order[kind];
    const value: unknown[] = [];
    const matches = (id: string | null): EntraObject | undefined => {
      if (!id) return undefined;
      const o = this.directory.objects.get(id);
      return o && filter(o.props) ? o : undefined;
    };
    while (offset < order.length && value.length < top) {
      const o = matches(order[offset++]);
      if (o) value.push(applySelect(o.props, select, kind === 'user' ? USER_DEFAULT_SELECT : GROUP_DEFAULT_SELECT));
    }
    // Look ahead so a last full page does not point at an empty one.
    while (offset < order.length && !matches(order[offset])) offset++;
    const out: Record<string, unknown> = { '@odata.context': `${this.#baseUrl}/${version}/$metadata#${path.slice(1)}` };
    if (wantCount) {
      let n = 0;
      for (const o of this.directory.objects.values()) if (o.kind === kind && filter(o.props)) n++;
      out['@odata.count'] = n;
    }
    if (offset < order.length) {
      const params = new URLSearchParams(q);
      params.set('$skiptoken', encodeToken({ o: offset }));
      out['@odata.nextLink'] = this.link(version, path, params);
    }
    out.value = value;
    return out;
  }

  /**
   * GET /groups/{id}/transitiveMembers[/microsoft.graph.user|microsoft.graph.group]: every member reached through
   * nested groups, once each, paged at $top (default 100) with @odata.nextLink. An OData cast returns that type only
   * (no @odata.type on items, as Graph's cast responses show); without one each item carries its @odata.type.
   */
  private transitiveMembers(groupId: string, cast: string | undefined, version: string, url: URL, req: IncomingMessage): unknown {
    const q = url.searchParams;
    const g = this.directory.objects.get(groupId.toLowerCase());
    if (!g || g.kind !== 'group') throw new HttpError(404, 'Request_ResourceNotFound', `Resource '${groupId}' does not exist or one of its queried reference-property objects are not present.`);
    const type = cast === undefined ? null : cast === 'microsoft.graph.user' ? 'user' : cast === 'microsoft.graph.group' ? 'group' : undefined;
    if (type === undefined) throw new HttpError(400, 'Request_UnsupportedQuery', `The type '${cast}' is not a supported member type for this query.`);
    for (const p of ['$filter', '$search', '$orderby']) {
      if (q.has(p) && !/^eventual$/i.test(String(req.headers.consistencylevel ?? ''))) throw new HttpError(400, 'Request_UnsupportedQuery', `${p} on transitiveMembers needs the ConsistencyLevel: eventual header and $count=true.`);
      if (q.has(p)) throw new HttpError(400, 'Request_UnsupportedQuery', `${p} is not supported by the sandbox simulator on transitiveMembers.`);
    }
    const top = parseTop(q.get('$top'), this.#opts.defaultPageSize);
    const select = parseSelect(q.get('$select'));
    const { users, groups } = this.directory.transitiveMembers(g.id);
    const all = type === 'user' ? users : type === 'group' ? groups : [...users, ...groups];
    const skip = q.get('$skiptoken');
    const offset = skip ? decodeToken<{ o: number }>(skip, 'skip token').o : 0;
    const page = all.slice(offset, offset + top);
    const value = page.map((o) => {
      const props = applySelect(o.props, select, o.kind === 'user' ? USER_DEFAULT_SELECT : GROUP_DEFAULT_SELECT);
      return type ? props : { '@odata.type': `#microsoft.graph.${o.kind}`, ...props };
    });
    const entity = type === 'user' ? 'users' : type === 'group' ? 'groups' : 'directoryObjects';
    const out: Record<string, unknown> = { '@odata.context': `${this.#baseUrl}/${version}/$metadata#${entity}${select ? `(${select.join(',')})` : ''}` };
    if (offset + top < all.length) {
      const params = new URLSearchParams(q);
      params.set('$skiptoken', encodeToken({ o: offset + top }));
      out['@odata.nextLink'] = this.link(version, `/groups/${g.id}/transitiveMembers${cast ? `/${cast}` : ''}`, params);
    }
    out.value = value;
    return out;
  }

  private delta(kind: EntraKind, version: string, url: URL, req: IncomingMessage): unknown {
    const q = url.searchParams;
    const path = kind === 'user' ? '/users/delta' : '/groups/delta';
    if (q.has('$top')) throw new HttpError(400, 'Request_UnsupportedQuery', 'The $top query option is not supported with delta.');
    const prefer = /odata\.maxpagesize=(\d+)/i.exec(String(req.headers.prefer ?? ''));
    const pageSize = Math.min(this.#opts.deltaPageSize, prefer ? Number(prefer[1]) : Infinity);
    type State = { sel: string[] | null; since: number; upto: number; off: number; init: boolean };
    let st: State;
    const dt = q.get('$deltatoken');
    const sk = q.get('$skiptoken');
    if (sk) st = decodeToken<State>(sk, 'skip token');
    else if (dt === 'latest') {
      const sel = parseSelect(q.get('$select'));
      return { '@odata.context': `${this.#baseUrl}/${version}/$metadata#${kind}s`, '@odata.deltaLink': `${this.#baseUrl}/${version}${path}?$deltatoken=${encodeToken({ sel, since: this.directory.seq })}`, value: [] };
    } else if (dt) {
      const t = decodeToken<{ sel: string[] | null; since: number }>(dt, 'delta token');
      st = { sel: t.sel, since: t.since, upto: this.directory.seq, off: 0, init: false };
    } else st = { sel: parseSelect(q.get('$select')), since: 0, upto: this.directory.seq, off: 0, init: true };

    const defaults = kind === 'user' ? USER_DEFAULT_SELECT : GROUP_DEFAULT_SELECT;
    const value: unknown[] = [];
    let done: boolean;
    if (st.init) {
      const order = this.directory.order[kind];
      let off = st.off;
      while (off < order.length && value.length < pageSize) {
        const id = order[off++];
        const o = id ? this.directory.objects.get(id) : undefined;
        if (o) value.push(applySelect(o.props, st.sel, defaults));
      }
      st = { ...st, off };
      done = off >= order.length;
    } else {
      const log = this.directory.changeLog[kind];
      // Binary search for the first change after the token.
      let lo = 0;
      let hi = log.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (log[mid].seq <= st.since) lo = mid + 1;
        else hi = mid;
      }
      const ids: string[] = [];
      const seen = new Set<string>();
      for (let i = lo; i < log.length && log[i].seq <= st.upto; i++) {
        if (!seen.has(log[i].id)) {
          seen.add(log[i].id);
          ids.push(log[i].id);
        }
      }
      const page = ids.slice(st.off, st.off + pageSize);
      for (const id of page) {
        const o = this.directory.objects.get(id);
        if (o) value.push(applySelect(o.props, st.sel, defaults));
        else {
          const t = this.directory.tombstones.get(id);
          value.push({ id, '@removed': { reason: t?.reason ?? 'deleted' } });
        }
      }
      st = { ...st, off: st.off + page.length };
      done = st.off >= ids.length;
    }
    const out: Record<string, unknown> = { '@odata.context': `${this.#baseUrl}/${version}/$metadata#${kind}s` };
    if (done) out['@odata.deltaLink'] = `${this.#baseUrl}/${version}${path}?$deltatoken=${encodeToken({ sel: st.sel, since: st.upto })}`;
    else out['@odata.nextLink'] = `${this.#baseUrl}/${version}${path}?$skiptoken=${encodeToken(st)}`;
    out.value = value;
    return out;
  }

  private auditLogs(version: string, url: URL): unknown {
    const q = url.searchParams;
    const top = parseTop(q.get('$top'), 50, 500);
    const filter = parseLogFilter(q.get('$filter'));
    const skip = q.get('$skiptoken');
    const offset = skip ? decodeToken<{ o: number }>(skip, 'skip token').o : 0;
    const matching = this.#logs.filter((l) => filter(l)).reverse(); // newest first
    const value = matching.slice(offset, offset + top);
    const out: Record<string, unknown> = { '@odata.context': `${this.#baseUrl}/${version}/$metadata#auditLogs/provisioning` };
    // "You must pass the top filter in the query to generate the token" (provisioningobjectsummary-list).
    if (q.has('$top') && offset + top < matching.length) {
      const params = new URLSearchParams(q);
      params.set('$skiptoken', encodeToken({ o: offset + top }));
      out['@odata.nextLink'] = this.link(version, '/auditLogs/provisioning', params);
    }
    out.value = value;
    return out;
  }
}

/**
 * $filter on auditLogs/provisioning as documented (provisioningobjectsummary-list, v1.0): `eq` on jobId, cycleId,
 * changeId, provisioningAction, provisioningStatusInfo/status, sourceIdentity/id, targetIdentity/id, servicePrincipal/id…;
 * activityDateTime with eq, gt, lt only (no ge/le). Clauses joined with `and`.
 */
function parseLogFilter(v: string | null): Predicate {
  if (!v) return () => true;
  const eqClauses: string[] = [];
  const tests: Predicate[] = [];
  for (const c of v.split(/\s+and\s+/i)) {
    const m = /^\s*activityDateTime\s+(\w+)\s+(\S+)\s*$/.exec(c);
    if (!m) {
      eqClauses.push(c);
      continue;
    }
    const at = Date.parse(m[2]);
    if (!['eq', 'gt', 'lt'].includes(m[1]) || !Number.isFinite(at) || !/^\d{4}-\d\d-\d\dT/.test(m[2])) {
      throw new HttpError(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for property 'activityDateTime' of resource 'ProvisioningObjectSummary'.`);
    }
    const op = m[1];
    tests.push((p) => {
      const t = Date.parse(String(p.activityDateTime));
      return op === 'eq' ? t === at : op === 'gt' ? t > at : t < at;
    });
  }
  if (eqClauses.length) {
    tests.push(parseFilter(eqClauses.join(' and '), ['id', 'jobId', 'cycleId', 'changeId', 'tenantId', 'provisioningStatusInfo/status', 'provisioningAction', 'sourceIdentity/id', 'targetIdentity/id', 'sourceIdentity/identityType', 'targetIdentity/identityType', 'servicePrincipal/id'], 'ProvisioningObjectSummary'));
  }
  return (p) => tests.every((t) => t(p));
}

function groupIdFor(domain: string): string {
  // Stable per domain so repeated reads show the same agent group.
  const h = Buffer.from(domain.toLowerCase()).toString('hex').padEnd(32, '0').slice(0, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * SyncNotificationSettings as Microsoft documents it (how-to-inbound-synch-ms-graph.md, "Accidental deletes"):
 * {"Enabled":true,"Recipients":"foobar@xyz.com","DeleteThresholdEnabled":true,"DeleteThresholdValue":50}.
 */
function validateNotificationSettings(v: string): void {
  let o: any;
  try {
    o = JSON.parse(v);
  } catch {
    o = undefined;
  }
  const ok =
    o && typeof o === 'object' && typeof o.Enabled === 'boolean' && typeof o.Recipients === 'string' &&
    typeof o.DeleteThresholdEnabled === 'boolean' && Number.isInteger(o.DeleteThresholdValue) && o.DeleteThresholdValue > 0;
  if (!ok) throw new HttpError(400, 'BadRequest', 'SyncNotificationSettings must be {"Enabled":bool,"Recipients":"a@b;c@d","DeleteThresholdEnabled":bool,"DeleteThresholdValue":int}.');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 16 * 1024 * 1024) throw new HttpError(413, 'RequestEntityTooLarge', 'The request body is too large.');
    chunks.push(c as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'BadRequest', 'The request body is not valid JSON.');
  }
}
