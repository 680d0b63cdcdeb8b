import PQueue from 'p-queue';
import type { Logger } from '../log.js';
import { GraphError, GraphPlanError } from './errors.js';
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

  /** Cloud Sync agents (beta; delegated permission only per Microsoft's docs). */
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

  /**
   * Connect Sync's tenant-level settings (GET /directory/onPremisesSynchronization): its accidental-delete
   * prevention also blocks Cloud Sync's deletes after cutover, until it is turned off.
   */
  async onPremisesSynchronization(): Promise<{ accidentalDeletionPrevention: { type: string; alertThreshold: number | null } | null; features: Record<string, boolean> }> {
    const res = await this.t.request('GET', '/directory/onPremisesSynchronization', { version: 'v1.0' });
    const first = (res.body?.value ?? [])[0] ?? {};
    const adp = first.configuration?.accidentalDeletionPrevention;
    return {
      accidentalDeletionPrevention: adp ? { type: String(adp.synchronizationPreventionType ?? 'disabled'), alertThreshold: adp.alertThreshold ?? null } : null,
      features: first.features ?? {},
    };
  }

  /**
   * Provisioning log entries for a job, failures first, newest first within each group.
   * Reads at most maxEntries (reports are throttled at 5 requests / 10 s, so we page sparingly).
   */
  async provisioningLogs(jobId: string, opts: { maxEntries?: number } = {}): Promise<ProvisioningLogEntry[]> {
    const max = opts.maxEntries ?? 500;
    const out: ProvisioningLogEntry[] = [];
    let path: string | undefined = paths.provisioningLogs(jobId, Math.min(max, 500));
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
    return out
      .slice(0, max)
      .sort((a, b) => rank(a) - rank(b) || (b.activityDateTime?.getTime() ?? 0) - (a.activityDateTime?.getTime() ?? 0));
  }

  // ---- control: each has a describe twin that returns exactly what it sends ----

  describeStartJob(ref: JobRef): PlannedRequest[] {
    return [{ method: 'POST', path: versioned(SYNC_VERSION, paths.jobAction(ref.servicePrincipalId, ref.jobId, 'start')), summary: `Start job ${ref.jobId}` }];
  }
  async startJob(ref: JobRef): Promise<PlannedRequest[]> {
    const reqs = this.describeStartJob(ref);
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
