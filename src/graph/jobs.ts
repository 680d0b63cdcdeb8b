import PQueue from 'p-queue';
import type { Logger } from '../log.js';
import { inferAgentHealth, outcomesFromLogs, type AgentHealth, type CloudSyncOutcome } from './assess.js';
import { GraphError, GraphPlanError, isAuthorizationDenied } from './errors.js';
import { paths, SYNC_VERSION, versioned } from './paths.js';
import { DEFAULTS } from './settings.js';
import type { GraphTransport } from './transport.js';
import {
  parseAgent,
  parseJob,
  parseProvisionOnDemand,
  parseProvisioningLog,
  type CloudSyncAgent,
  type PlannedRequest,
  type ProvisionOnDemandResult,
  type ProvisioningLogEntry,
  type SyncJob,
} from './types.js';

/** synchronizationJobRestartScope flag names (an IsFlags enum sent as "A, B, C"). */
export const RESTART_SCOPE_FLAGS = ['None', 'ConnectorDataStore', 'Escrows', 'Watermark', 'QuarantineState', 'Full', 'ForceDeletes'] as const;

/** Normalises a resetScope string and rejects unknown flags before anything is sent. */
export function normalizeResetScope(resetScope: string): string {
  const flags = resetScope
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  for (const f of flags) {
    if (!(RESTART_SCOPE_FLAGS as readonly string[]).includes(f)) {
      throw new GraphPlanError('InvalidResetScope', `"${f}" is not a synchronizationJobRestartScope flag (${RESTART_SCOPE_FLAGS.join(', ')})`);
    }
  }
  if (flags.includes('ConnectorDataStore')) {
    throw new GraphPlanError('InvalidResetScope', 'ConnectorDataStore is only for use with Microsoft Support');
  }
  return flags.join(', ');
}

export interface DiscoveryResult {
  directoryId: string;
  name: string | null;
  discoveredAt: Date | null;
  /** The Exchange hybrid writeback check: does the AD schema have mailNickname on user? */
  hasMailNickname: boolean;
}

export interface JobRef {
  servicePrincipalId: string;
  jobId: string;
}

/** The refusal startJob/restart throw for a quarantined job: the caller shows `quarantine` before clearing it. */
function quarantined(job: SyncJob): GraphPlanError & { quarantine: SyncJob['status']['quarantine'] } {
  const q = job.status.quarantine;
  const err = new GraphPlanError(
    'JobQuarantined',
    `Job ${job.id} is in quarantine (${q?.reason ?? 'Unknown'}${q?.error?.code ? `: ${q.error.code}` : ''}${q?.error?.message ? ` — ${q.error.message}` : ''}). ` +
      'Starting it would clear the quarantine; show the reason and start with clearQuarantine once it is dealt with.',
  );
  return Object.assign(err, { quarantine: q });
}

export class SyncJobOps {
  readonly #onDemandQueue: PQueue;
  readonly #reportsQueue: PQueue;

  constructor(
    private readonly t: GraphTransport,
    private readonly log: Logger,
  ) {
    const od = t.settings.provisionOnDemandLimit ?? DEFAULTS.provisionOnDemandLimit;
    const rp = t.settings.reportsLimit ?? DEFAULTS.reportsLimit;
    // strict: a rolling window, as Graph counts it, rather than fixed buckets that allow 2x at the edge.
    this.#onDemandQueue = new PQueue({ intervalCap: od.requests, interval: od.intervalMs, strict: true });
    this.#reportsQueue = new PQueue({ intervalCap: rp.requests, interval: rp.intervalMs, strict: true });
  }

  private async send(req: PlannedRequest): Promise<any> {
    const rel = req.path.replace(/^\/(v1\.0|beta)/, '');
    const version = req.path.startsWith('/beta') ? 'beta' : 'v1.0';
    return (await this.t.request(req.method, rel, { version, body: req.body })).body;
  }

  // ---- status ----

  async listJobs(servicePrincipalId: string): Promise<SyncJob[]> {
    const out: SyncJob[] = [];
    let res = await this.t.request('GET', paths.jobs(servicePrincipalId), { version: SYNC_VERSION });
    for (;;) {
      out.push(...(res.body?.value ?? []).map(parseJob));
      const link = res.body?.['@odata.nextLink'];
      if (!link) return out;
      const { version, path } = this.t.splitLink(link);
      res = await this.t.request('GET', path, { version });
    }
  }

  async getJob(ref: JobRef): Promise<SyncJob> {
    return parseJob((await this.t.request('GET', paths.job(ref.servicePrincipalId, ref.jobId), { version: SYNC_VERSION })).body);
  }

  async getSchema(ref: JobRef): Promise<any> {
    return (await this.t.request('GET', paths.schema(ref.servicePrincipalId, ref.jobId), { version: SYNC_VERSION })).body;
  }

  /** The rule id provisionOnDemand needs: read from the job's schema, never hard-coded. */
  async provisioningRuleId(ref: JobRef): Promise<string> {
    const rules = (await this.getSchema(ref))?.synchronizationRules ?? [];
    const id = rules[0]?.id;
    if (typeof id !== 'string') throw new GraphPlanError('NoSynchronizationRule', `job ${ref.jobId} has no synchronization rule`);
    return id;
  }

  /**
   * Cloud Sync agents (beta). Graph documents this list as "Application: Not supported" (delegated
   * Policy.Read.HybridAuthentication only), so with cutover's app-only credentials it throws a GraphError with status
   * 403 and code Authorization_RequestDenied (isAuthorizationDenied). Use agentHealth, or tryListAgents.
   */
  async listAgents(): Promise<CloudSyncAgent[]> {
    const out: CloudSyncAgent[] = [];
    let res = await this.t.request('GET', paths.agents(), { version: 'beta' });
    for (;;) {
      out.push(...(res.body?.value ?? []).map(parseAgent));
      const link = res.body?.['@odata.nextLink'];
      if (!link) return out;
      const { version, path } = this.t.splitLink(link);
      res = await this.t.request('GET', path, { version });
    }
  }

  /** listAgents that never throws for lack of permission: app-only callers get { available: false } and a reason. */
  async tryListAgents(): Promise<{ available: true; agents: CloudSyncAgent[] } | { available: false; reason: string; error: GraphError }> {
    try {
      return { available: true, agents: await this.listAgents() };
    } catch (e) {
      if (!isAuthorizationDenied(e)) throw e;
      return {
        available: false,
        reason:
          'Graph serves the provisioning agents list to delegated callers only (Application: Not supported); agent health is inferred from job status and provisioning logs instead.',
        error: e,
      };
    }
  }

  /**
   * Whether the agents serving a job work, inferred from what app-only credentials can read: the job's status
   * (quarantine reason and error code, last and last successful execution) and its provisioning logs of the last
   * `logWindowMs` (default 2 h). See inferAgentHealth for the rules.
   */
  async agentHealth(ref: JobRef, now: Date, opts: { staleAfterMs?: number; logWindowMs?: number } = {}): Promise<AgentHealth> {
    const job = await this.getJob(ref);
    let logs: ProvisioningLogEntry[];
    try {
      logs = await this.provisioningLogs(ref.jobId, { maxEntries: 200, since: new Date(now.getTime() - (opts.logWindowMs ?? 2 * 3_600_000)) });
    } catch (e) {
      if (!isAuthorizationDenied(e)) throw e;
      const h = inferAgentHealth(job, [], now, opts);
      h.reasons.push('The provisioning logs could not be read (ProvisioningLog.Read.All missing).');
      return h;
    }
    return inferAgentHealth(job, logs, now, opts);
  }

  /**
   * Which of these AD objects (by objectGUID; up to a few thousand) Cloud Sync's job has taken since `since`: per
   * objectGUID its latest provisioning-log outcome (taken / failed with reason / skipped / deleted / not-seen).
   * Reads the job's log once, newest first, 500 entries a page through the reports limiter (5 requests / 10 s per app
   * per tenant), and stops as soon as every object has an outcome or after maxPages.
   */
  async cloudSyncOutcomes(
    jobId: string,
    objectGUIDs: string[],
    since: Date,
    opts: { maxPages?: number } = {},
  ): Promise<{ outcomes: CloudSyncOutcome[]; pagesRead: number; complete: boolean }> {
    const wanted = new Set(objectGUIDs.map((g) => g.toLowerCase()));
    const entries: ProvisioningLogEntry[] = [];
    const seen = new Set<string>();
    let path: string | undefined = paths.provisioningLogs(jobId, 500, since);
    let version: 'v1.0' | 'beta' = 'v1.0';
    let pages = 0;
    const maxPages = opts.maxPages ?? 200;
    while (path && pages < maxPages && seen.size < wanted.size) {
      const p: string = path;
      const v = version;
      const res = await this.#reportsQueue.add(() => this.t.request('GET', p, { version: v }));
      pages++;
      for (const e of (res!.body?.value ?? []).map(parseProvisioningLog)) {
        entries.push(e);
        if (e.sourceId && wanted.has(e.sourceId.toLowerCase())) seen.add(e.sourceId.toLowerCase());
      }
      const link = res!.body?.['@odata.nextLink'];
      path = undefined;
      if (link) ({ version, path } = this.t.splitLink(link));
    }
    return { outcomes: outcomesFromLogs(objectGUIDs, entries), pagesRead: pages, complete: !path || seen.size === wanted.size };
  }

  /**
   * Connect Sync's tenant-level settings (GET /directory/onPremisesSynchronization). Graph documents this read as
   * "Application: Not supported" (onpremisesdirectorysynchronization-get), so app-only callers get a 403 GraphError
   * (isAuthorizationDenied). Its accidental-delete
   * prevention also blocks Cloud Sync's deletes after cutover, until it is turned off.
   */
  async onPremisesSynchronization(): Promise<{
    accidentalDeletionPrevention: { type: string; alertThreshold: number | null } | null;
    features: Record<string, boolean>;
  }> {
    const res = await this.t.request('GET', '/directory/onPremisesSynchronization', { version: 'v1.0' });
    const first = (res.body?.value ?? [])[0] ?? {};
    const adp = first.configuration?.accidentalDeletionPrevention;
    return {
      accidentalDeletionPrevention: adp ? { type: String(adp.synchronizationPreventionType ?? 'disabled'), alertThreshold: adp.alertThreshold ?? null } : null,
      features: first.features ?? {},
    };
  }

  /**
   * The tenant's directory sync heartbeat: GET /organization's onPremisesSyncEnabled and onPremisesLastSyncDateTime
   * ("The time and date at which the tenant was last synced with the on-premises directory", organization resource;
   * Application: Organization.Read.All least privileged, organization-get).
   */
  async organizationSync(): Promise<{ onPremisesSyncEnabled: boolean | null; onPremisesLastSyncDateTime: string | null }> {
    const res = await this.t.request('GET', '/organization?$select=id,onPremisesSyncEnabled,onPremisesLastSyncDateTime', { version: 'v1.0' });
    const org = (res.body?.value ?? [])[0] ?? {};
    return { onPremisesSyncEnabled: org.onPremisesSyncEnabled ?? null, onPremisesLastSyncDateTime: org.onPremisesLastSyncDateTime ?? null };
  }

  /**
   * Provisioning log entries for a job, failures first, newest first within each group.
   * Reads at most maxEntries (reports are throttled at 5 requests / 10 s, so we page sparingly).
   */
  async provisioningLogs(jobId: string, opts: { maxEntries?: number; since?: Date } = {}): Promise<ProvisioningLogEntry[]> {
    const max = opts.maxEntries ?? 500;
    const out: ProvisioningLogEntry[] = [];
    let path: string | undefined = paths.provisioningLogs(jobId, Math.min(max, 500), opts.since);
    let version: 'v1.0' | 'beta' = 'v1.0';
    while (path && out.length < max) {
      const p: string = path;
      const v = version;
      const res = await this.#reportsQueue.add(() => this.t.request('GET', p, { version: v }));
      out.push(...(res!.body?.value ?? []).map(parseProvisioningLog));
      const link = res!.body?.['@odata.nextLink'];
      path = undefined;
      if (link) ({ version, path } = this.t.splitLink(link));
    }
    const rank = (e: ProvisioningLogEntry) => (e.status === 'failure' ? 0 : e.status === 'warning' ? 1 : 2);
    return out.slice(0, max).sort((a, b) => rank(a) - rank(b) || (b.activityDateTime?.getTime() ?? 0) - (a.activityDateTime?.getTime() ?? 0));
  }

  // ---- control: each has a describe twin that returns exactly what it sends ----

  describeStartJob(ref: JobRef): PlannedRequest[] {
    return [{ method: 'POST', path: versioned(SYNC_VERSION, paths.jobAction(ref.servicePrincipalId, ref.jobId, 'start')), summary: `Start job ${ref.jobId}` }];
  }
  /**
   * Starts a Disabled or Paused job. Never silently clears a quarantine: a quarantined job throws
   * GraphPlanError('JobQuarantined') carrying the reason, unless clearQuarantine is true (after the caller has shown
   * it). An already running job is left alone (Microsoft: don't call start repeatedly) and [] is returned: a scope
   * change on a running job needs restartProvisioningAfterScopeChange.
   */
  async startJob(ref: JobRef, opts: { clearQuarantine?: boolean } = {}): Promise<PlannedRequest[]> {
    const job = await this.getJob(ref);
    if ((job.status.code === 'Quarantine' || job.status.quarantine) && !opts.clearQuarantine) throw quarantined(job);
    if (job.schedule.state === 'Active' && job.status.code !== 'Quarantine') return [];
    const reqs = this.describeStartJob(ref);
    for (const r of reqs) await this.send(r);
    return reqs;
  }

  /**
   * "Once you've changed the scope, you should restart provisioning" (how-to-configure.md): a running job keeps the
   * scope it had when it was last started or restarted. Restarts with resetScope Watermark (re-evaluate every object,
   * no quarantine or escrow reset). A job that is not running needs nothing (its next start takes the new scope): [].
   * A quarantined job throws GraphPlanError('JobQuarantined') with the reason.
   */
  async describeRestartProvisioningAfterScopeChange(ref: JobRef): Promise<PlannedRequest[]> {
    const job = await this.getJob(ref);
    if (job.status.code === 'Quarantine' || job.status.quarantine) throw quarantined(job);
    if (job.schedule.state !== 'Active') return [];
    return this.describeRestartJob(ref, 'Watermark').map((r) => ({
      ...r,
      summary: `Restart job ${ref.jobId} so it picks up the changed scope (resetScope Watermark)`,
    }));
  }
  async restartProvisioningAfterScopeChange(ref: JobRef): Promise<PlannedRequest[]> {
    const reqs = await this.describeRestartProvisioningAfterScopeChange(ref);
    for (const r of reqs) await this.send(r);
    return reqs;
  }

  describePauseJob(ref: JobRef): PlannedRequest[] {
    return [{ method: 'POST', path: versioned(SYNC_VERSION, paths.jobAction(ref.servicePrincipalId, ref.jobId, 'pause')), summary: `Pause job ${ref.jobId}` }];
  }
  async pauseJob(ref: JobRef): Promise<PlannedRequest[]> {
    const reqs = this.describePauseJob(ref);
    for (const r of reqs) await this.send(r);
    return reqs;
  }

  /** resetScope e.g. 'Watermark, Escrows, QuarantineState' (clear quarantine) or 'ForceDeletes' (release held deletes). */
  describeRestartJob(ref: JobRef, resetScope: string): PlannedRequest[] {
    const scope = normalizeResetScope(resetScope);
    return [
      {
        method: 'POST',
        path: versioned(SYNC_VERSION, paths.jobAction(ref.servicePrincipalId, ref.jobId, 'restart')),
        body: { criteria: { resetScope: scope } },
        summary: `Restart job ${ref.jobId} with resetScope "${scope}"`,
      },
    ];
  }
  async restartJob(ref: JobRef, resetScope: string): Promise<PlannedRequest[]> {
    const reqs = this.describeRestartJob(ref, resetScope);
    for (const r of reqs) await this.send(r);
    return reqs;
  }

  describeProvisionOnDemand(ref: JobRef, ruleId: string, objectDn: string, objectTypeName = 'user'): PlannedRequest[] {
    return [
      {
        method: 'POST',
        path: versioned(SYNC_VERSION, paths.jobAction(ref.servicePrincipalId, ref.jobId, 'provisionOnDemand')),
        body: { parameters: [{ ruleId, subjects: [{ objectId: objectDn, objectTypeName }] }] },
        summary: `Provision ${objectDn} on demand`,
      },
    ];
  }
  /** Queued to Graph's 5 requests / 10 s: callers wait rather than fail. */
  async provisionOnDemand(ref: JobRef, ruleId: string, objectDn: string, objectTypeName = 'user'): Promise<ProvisionOnDemandResult> {
    const [req] = this.describeProvisionOnDemand(ref, ruleId, objectDn, objectTypeName);
    const body = await this.#onDemandQueue.add(() => this.send(req));
    return parseProvisionOnDemand(body);
  }

  describeValidateCredentials(ref: JobRef): PlannedRequest[] {
    return [
      {
        method: 'POST',
        path: versioned(SYNC_VERSION, paths.jobAction(ref.servicePrincipalId, ref.jobId, 'validateCredentials')),
        body: { useSavedCredentials: true },
        summary: `Validate the saved credentials of job ${ref.jobId}`,
      },
    ];
  }
  /** A 400 from Graph means "credentials invalid": reported, not thrown; other failures throw GraphError. */
  async validateCredentials(ref: JobRef): Promise<{ valid: true } | { valid: false; code: string; message: string }> {
    const [req] = this.describeValidateCredentials(ref);
    try {
      await this.send(req);
      return { valid: true };
    } catch (e) {
      if (e instanceof GraphError && e.status === 400) return { valid: false, code: e.code, message: e.message };
      throw e;
    }
  }

  /** The on-premises directory definition id (name "Active Directory") from the job schema. */
  async activeDirectoryDefinitionId(ref: JobRef): Promise<string> {
    const dirs: any[] = (await this.getSchema(ref))?.directories ?? [];
    const ad = dirs.find((d) => typeof d?.name === 'string' && d.name.toLowerCase() === 'active directory') ?? dirs[0];
    if (!ad?.id) throw new GraphPlanError('NoDirectoryDefinition', `job ${ref.jobId} schema lists no directory`);
    return String(ad.id);
  }

  describeDiscoverDirectory(ref: JobRef, directoryId: string): PlannedRequest[] {
    return [
      {
        method: 'POST',
        path: versioned(SYNC_VERSION, paths.discover(ref.servicePrincipalId, ref.jobId, directoryId)),
        summary: `Discover the schema of directory ${directoryId}`,
      },
    ];
  }
  /**
   * Whether the AD schema has mailNickName, so Exchange hybrid writeback (AAD2ADExchangeHybridWriteback) is possible
   * (how-to-inbound-synch-ms-graph.md, "Schema verification"). discover needs Application.ReadWrite.OwnedBy on a
   * configuration cutover created (or Directory.ReadWrite.All): on one made elsewhere the answer is null.
   */
  async exchangeHybridWritebackPossible(ref: JobRef): Promise<{ possible: boolean | null; reason: string }> {
    try {
      const d = await this.discoverDirectory(ref);
      return d.hasMailNickname
        ? { possible: true, reason: 'The AD schema has mailNickName (Exchange schema extended).' }
        : { possible: false, reason: 'The AD schema has no mailNickName: extend it with the Exchange schema before Exchange hybrid writeback.' };
    } catch (e) {
      if (!isAuthorizationDenied(e)) throw e;
      return { possible: null, reason: 'discover needs Application.ReadWrite.OwnedBy on a configuration this app created, or Directory.ReadWrite.All.' };
    }
  }

  /**
   * Cloud Sync password writeback. It is switched on in the portal (Password reset → On-premises integration) or with
   * Set-AADCloudSyncPasswordWritebackConfiguration on an agent server with Global Administrator credentials
   * (tutorial-enable-cloud-sync-sspr-writeback.md); Graph has no call that enables it. Graph shows the tenant flag
   * features.passwordWritebackEnabled on directory/onPremisesSynchronization, which app-only callers cannot read
   * ("Application: Not supported"): with app-only credentials the answer is null.
   */
  async passwordWriteback(): Promise<{ enabled: boolean | null; reason: string }> {
    try {
      const s = await this.onPremisesSynchronization();
      const v = s.features.passwordWritebackEnabled;
      return typeof v === 'boolean'
        ? { enabled: v, reason: 'directory/onPremisesSynchronization features.passwordWritebackEnabled' }
        : { enabled: null, reason: 'Graph did not report passwordWritebackEnabled.' };
    } catch (e) {
      if (!isAuthorizationDenied(e)) throw e;
      return {
        enabled: null,
        reason:
          'App-only credentials cannot read directory/onPremisesSynchronization (Application: Not supported); check Password reset → On-premises integration in the portal.',
      };
    }
  }

  async discoverDirectory(ref: JobRef, directoryId?: string): Promise<DiscoveryResult> {
    const dir = directoryId ?? (await this.activeDirectoryDefinitionId(ref));
    const [req] = this.describeDiscoverDirectory(ref, dir);
    const def = await this.send(req);
    const user = (def?.objects ?? []).find((o: any) => typeof o?.name === 'string' && o.name.toLowerCase() === 'user');
    const hasMailNickname = (user?.attributes ?? []).some((a: any) => typeof a?.name === 'string' && a.name.toLowerCase() === 'mailnickname');
    return {
      directoryId: dir,
      name: typeof def?.name === 'string' ? def.name : null,
      discoveredAt: def?.discoveryDateTime ? new Date(def.discoveryDateTime) : null,
      hasMailNickname,
    };
  }
}
