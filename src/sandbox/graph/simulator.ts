import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../clock.js';
import { normalizeDn } from '../../dn.js';
import type { Logger } from '../../log.js';
import { decodeAccessToken, endpointFor, OWNED_BY, type AccessTokenClaims, type EndpointPermissions } from '../../graph/permissions.js';
import type { AdObject, EntraSyncTarget, OnPremDirectory, SyncEngine } from '../contracts.js';
import { EntraDirectory, type EntraObject } from './entraDirectory.js';
import {
  CLOUD_SYNC_CLASSES,
  DEFAULT_DELETE_THRESHOLD,
  iso,
  NEVER,
  type SimDomain,
  type SimHost,
  type SimJob,
  type SimLimits,
  type SimServicePrincipal,
  type SimulatedAgent,
} from './model.js';
import { HttpError } from './odata.js';
import { dispatch } from './routes/index.js';

export { AD2AAD_RULE_ID, AD2AAD_TEMPLATE_ID, type SimDomain, type SimulatedAgent } from './model.js';

/** The Graph error Microsoft returns when a token lacks every permission an endpoint accepts. */
const DENIED = ['Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'] as const;

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

/**
 * A Microsoft Graph simulator on loopback: the Entra side of the sandbox tenant, the Cloud Sync
 * service (template, jobs, schema, secrets, status, provisioning logs) and the agents endpoint.
 * It never acts on its own timers: runSyncCycle(now) is called by the composition root or a test.
 * This class holds the state, runs the provisioning cycles and the HTTP front (token, faults, permissions, stats);
 * what each endpoint answers is declared in routes/, one table per resource.
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
  readonly #opts: SimLimits;
  /** What the route handlers (routes/) see of this simulator. */
  readonly #host: SimHost;

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
    // Getters for what changes after construction; the maps and arrays are shared, so handlers change them in place.
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getters below have their own `this`
    const sim = this;
    this.#host = {
      clock: this.#clock,
      get baseUrl() {
        return sim.#baseUrl;
      },
      tenantId: this.tenantId,
      directory: this.directory,
      get onPrem() {
        return sim.#onPrem;
      },
      limits: this.#opts,
      sps: this.#sps,
      agents: this.#agents,
      domains: this.#domains,
      logs: this.#logs,
      get lastDirectorySync() {
        return sim.#lastDirectorySync;
      },
      get onPremisesSynchronization() {
        return sim.onPremisesSynchronization;
      },
      get adHasMailNickname() {
        return sim.#adHasMailNickname;
      },
      onDemandHits: this.#onDemandHits,
      clearQuarantine: (job) => this.clearQuarantine(job),
      inScope: (schema, onPrem, domain) => this.inScope(schema, onPrem, domain),
      addLog: (...args) => this.addLog(...args),
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
    const agent: SimulatedAgent = {
      id: randomUUID(),
      machineName: a.machineName,
      domain: a.domain,
      status: a.status ?? 'active',
      externalIp: a.externalIp ?? '203.0.113.10',
    };
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
    return Object.entries(this.stats.byRoute)
      .filter(([r]) => /^(POST|PUT|PATCH|DELETE) /.test(r))
      .reduce((n, [, c]) => n + c, 0);
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
    features: {
      passwordSyncEnabled: true,
      passwordWritebackEnabled: true,
      groupWriteBackEnabled: true,
      deviceWritebackEnabled: false,
      userWritebackEnabled: false,
      blockSoftMatchEnabled: false,
      blockCloudObjectTakeoverThroughHardMatchEnabled: false,
    },
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
    return this.directory.create(
      'user',
      { userPrincipalName: upn, displayName, mail: null, proxyAddresses: [], onPremisesSyncEnabled: null, accountEnabled: opts.accountEnabled ?? true },
      {},
      id,
    ).id;
  }
  /**
   * A domain of the tenant. The first one added is the default; `initial` marks the <tenant>.onmicrosoft.com domain
   * Entra creates with the tenant (always verified, Managed).
   */
  addDomain(name: string, opts: { verified?: boolean; initial?: boolean; isDefault?: boolean; federated?: boolean } = {}): void {
    const id = name.toLowerCase();
    const isDefault = opts.isDefault ?? this.#domains.size === 0;
    if (isDefault) for (const d of this.#domains.values()) d.isDefault = false;
    const verified = opts.initial ? true : (opts.verified ?? true);
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
    return this.directory.create(
      'group',
      { displayName, mail: null, mailNickname: nickname, proxyAddresses: [], securityEnabled: true, onPremisesSyncEnabled: null },
      { memberIds: new Set(memberIds.map((m) => m.toLowerCase())) },
      id,
    ).id;
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

  private addLog(
    sp: SimServicePrincipal,
    job: SimJob,
    cycleId: string,
    now: Date,
    action: string,
    obj: { id?: string; displayName?: string; type: string },
    targetId: string | null,
    failure?: { errorCode: string; reason: string },
  ): void {
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
        ? {
            status: 'failure',
            errorInformation: {
              errorCode: failure.errorCode,
              reason: failure.reason,
              additionalDetails: null,
              errorCategory: 'nonServiceFailure',
              recommendedAction: null,
            },
          }
        : { status: 'success', errorInformation: null },
      provisioningSteps: [
        {
          name: 'EntryImport',
          provisioningStepType: 'import',
          status: 'success',
          description: `Retrieved ${obj.displayName ?? obj.id} from Active Directory`,
          details: {},
        },
        {
          name: `EntryExport${action[0].toUpperCase()}${action.slice(1)}`,
          provisioningStepType: 'export',
          status: failure ? 'failure' : 'success',
          description: failure?.reason ?? 'Exported to Microsoft Entra ID',
          details: {},
        },
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
    if (containers.length === 0)
      containers = [
        domain
          .split('.')
          .map((p) => `DC=${p}`)
          .join(','),
      ];
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
      this.quarantine(
        job,
        'EncounteredQuarantineException',
        { code: 'HybridIdentityServiceInvalidResource', message: 'The Domain secret of this configuration is not set.' },
        false,
      );
      return { outcome: 'quarantined', exported: 0, deleted: 0 };
    }
    const agents = [...this.#agents.values()].filter((a) => a.domain.toLowerCase() === domain!.toLowerCase());
    if (agents.length === 0) {
      this.quarantine(
        job,
        'EncounteredQuarantineException',
        { code: 'HybridIdentityServiceNoAgentsAssigned', message: `No provisioning agent is assigned to ${domain}.` },
        false,
      );
      return { outcome: 'quarantined', exported: 0, deleted: 0 };
    }
    if (!agents.some((a) => a.status === 'active') || !this.#onPrem || this.#onPrem.domainFqdn.toLowerCase() !== domain.toLowerCase()) {
      this.quarantine(
        job,
        'EncounteredQuarantineException',
        { code: 'HybridIdentityServiceNoActiveAgents', message: `No active provisioning agent for ${domain}.` },
        false,
      );
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
      this.quarantine(
        job,
        'TooManyDeletes',
        {
          code: 'TooManyDeletes',
          message: `${deletes.length} deletes are pending, at or over the accidental-delete threshold of ${threshold}. Restart the job with ForceDeletes to let them through.`,
        },
        true,
      );
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
        this.addLog(
          sp,
          job,
          cycleId,
          now,
          what,
          { id: obj.objectGUID, displayName: obj.displayName, type: obj.objectClass },
          this.directory.byGuid.get(obj.objectGUID.toLowerCase()) ?? null,
        );
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

  private finishCycle(
    job: SimJob,
    began: Date,
    now: Date,
    cycleId: string,
    c: { imported: number; exported: number; escrowed: number },
    ownCounts = false,
  ): void {
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
      send(
        status,
        { error: { code, message, innerError: { date: iso(this.#clock.now()), 'request-id': requestId, 'client-request-id': clientRequestId } } },
        headers,
      );

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
        return sendError(
          401,
          'InvalidAuthenticationToken',
          'IDX14100: JWT is not well formed: the sandbox accepts Entra-shaped access tokens (tid; app-only roles with idtyp "app", or delegated scp).',
        );
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
      const { reply, stat } = dispatch({ sim: this.#host, method, version, segments, url, query: url.searchParams, req, body, caller });
      this.stats.byRoute[stat] = (this.stats.byRoute[stat] ?? 0) + 1;
      send(reply.status, reply.body, reply.headers);
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
