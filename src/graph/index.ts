/**
 * cutover's one door to Microsoft Graph: runbooks and the monitor call these operations and nothing else.
 *
 *   const graph = createGraph({ baseUrl, tenantId, auth: { kind: 'client-secret', clientId, clientSecret } }, { log });
 *   const cfg = await graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: true, containers: [ou] });
 */
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { Logger } from '../log.js';
import { CloudSyncConfigurator } from './cloudSync.js';
import {
  countSyncedUsers,
  getGroup,
  getUser,
  iterateSyncedUsers,
  listDomains,
  listTransitiveUserMembers,
  readSyncedUsers,
  SyncedObjectIndex,
  type DeltaStateStore,
} from './directory.js';
import { GraphPlanError } from './errors.js';
import { SyncJobOps, type JobRef } from './jobs.js';
import { jobIsOfTemplate } from './types.js';
import { GraphSettingsSchema, type GraphSettings } from './settings.js';
import type { Tracer } from '../telemetry/tracer.js';
import { GraphTransport } from './transport.js';

export { GraphError, GraphPlanError, isGraphError, isAuthorizationDenied } from './errors.js';
export {
  AGENT_HEALTH_SOURCE,
  inferAgentHealth,
  judgeProvisionOnDemand,
  outcomesFromLogs,
  type AgentHealth,
  type CloudSyncOutcome,
  type OnDemandJudgement,
} from './assess.js';
export { APP_PERMISSIONS, CLIENT_ENDPOINTS, ENDPOINT_PERMISSIONS, endpointFor, mintSandboxAppToken } from './permissions.js';
export { GraphSettingsSchema, graphScope, type GraphAuth, type GraphSettings } from './settings.js';
export { GraphTransport, type TransportStats, type GraphResponse } from './transport.js';
export {
  InMemoryDeltaStateStore,
  SyncedObjectIndex,
  MAX_PAGE_SIZE,
  type DeltaStateStore,
  type GroupUserMember,
  type RefreshResult,
  type TenantDomain,
} from './directory.js';
export {
  unionContainers,
  includedContainersOf,
  withPasswordHashMapping,
  hasPasswordHashMapping,
  normalizeRecipients,
  MAX_SCOPE_ENTRIES,
  CREDENTIAL_DATA_MAPPING,
  type CloudSyncConfigurationInput,
  type CloudSyncConfigurationResult,
  type ScopeTarget,
} from './cloudSync.js';
export { normalizeResetScope, RESTART_SCOPE_FLAGS, type DiscoveryResult, type JobRef } from './jobs.js';
export * from './types.js';

export interface GraphDeps {
  log: Logger;
  clock?: Clock;
  /** Traces (optional): one span per Graph request. */
  tracer?: Tracer;
}

export function createGraph(settings: GraphSettings, deps: GraphDeps) {
  const parsed = GraphSettingsSchema.parse(settings);
  const log = deps.log.child({ component: 'graph', tenantId: parsed.tenantId });
  const clock = deps.clock ?? systemClock;
  const transport = new GraphTransport(parsed, log, deps.tracer);
  const config = new CloudSyncConfigurator(transport, log);
  const jobs = new SyncJobOps(transport, log);

  return {
    settings: parsed,
    transport,
    /** HTTP attempts, throttled attempts and failures so far (benchmarks, health). */
    stats: () => ({ ...transport.stats }),

    // Cloud Sync configuration (idempotent) and scoping
    findServicePrincipal: (domain: string) => config.findServicePrincipal(domain),
    ensureCloudSyncConfiguration: config.ensureCloudSyncConfiguration.bind(config),
    describeCloudSyncConfiguration: config.describeCloudSyncConfiguration.bind(config),
    removeContainerFromScope: config.removeContainerFromScope.bind(config),
    describeRemoveContainerFromScope: config.describeRemoveContainerFromScope.bind(config),
    setGroupScope: config.setGroupScope.bind(config),
    describeSetGroupScope: config.describeSetGroupScope.bind(config),

    // Job control
    /** Starts a Disabled/Paused job; throws GraphPlanError JobQuarantined (with .quarantine) unless clearQuarantine. */
    startJob: (ref: JobRef, opts?: { clearQuarantine?: boolean }) => jobs.startJob(ref, opts),
    /** After a scope change on a running job: restart (Watermark) so it takes the new scope; [] when not running. */
    restartProvisioningAfterScopeChange: (ref: JobRef) => jobs.restartProvisioningAfterScopeChange(ref),
    describeRestartProvisioningAfterScopeChange: (ref: JobRef) => jobs.describeRestartProvisioningAfterScopeChange(ref),
    /** Starts the configuration's AD2AADPasswordHash job (created by ensureCloudSyncConfiguration with passwordHashSync). */
    startPasswordHashSync: async (servicePrincipalId: string, opts?: { clearQuarantine?: boolean }) => {
      const job = (await jobs.listJobs(servicePrincipalId)).find((j) => jobIsOfTemplate(j, 'AD2AADPasswordHash'));
      if (!job)
        throw new GraphPlanError(
          'NoPasswordHashJob',
          `configuration ${servicePrincipalId} has no AD2AADPasswordHash job: configure it with passwordHashSync first`,
        );
      const ref = { servicePrincipalId, jobId: job.id };
      return { jobId: job.id, requests: await jobs.startJob(ref, opts) };
    },
    describeStartJob: (ref: JobRef) => jobs.describeStartJob(ref),
    pauseJob: (ref: JobRef) => jobs.pauseJob(ref),
    describePauseJob: (ref: JobRef) => jobs.describePauseJob(ref),
    restartJob: (ref: JobRef, resetScope: string) => jobs.restartJob(ref, resetScope),
    describeRestartJob: (ref: JobRef, resetScope: string) => jobs.describeRestartJob(ref, resetScope),
    provisionOnDemand: (ref: JobRef, ruleId: string, objectDn: string, objectTypeName?: string) =>
      jobs.provisionOnDemand(ref, ruleId, objectDn, objectTypeName),
    describeProvisionOnDemand: (ref: JobRef, ruleId: string, objectDn: string, objectTypeName?: string) =>
      jobs.describeProvisionOnDemand(ref, ruleId, objectDn, objectTypeName),
    provisioningRuleId: (ref: JobRef) => jobs.provisioningRuleId(ref),
    validateCredentials: (ref: JobRef) => jobs.validateCredentials(ref),
    describeValidateCredentials: (ref: JobRef) => jobs.describeValidateCredentials(ref),
    discoverDirectory: (ref: JobRef, directoryId?: string) => jobs.discoverDirectory(ref, directoryId),
    describeDiscoverDirectory: (ref: JobRef, directoryId: string) => jobs.describeDiscoverDirectory(ref, directoryId),

    // Status
    listJobs: (servicePrincipalId: string) => jobs.listJobs(servicePrincipalId),
    getJob: (ref: JobRef) => jobs.getJob(ref),
    getSchema: (ref: JobRef) => jobs.getSchema(ref),
    /** Throws a 403 GraphError for app-only credentials (Application: Not supported); prefer agentHealth/tryListAgents. */
    listAgents: () => jobs.listAgents(),
    tryListAgents: () => jobs.tryListAgents(),
    /** Agent health inferred from job status and provisioning logs (what app-only can read). */
    agentHealth: (ref: JobRef, opts?: { now?: Date; staleAfterMs?: number; logWindowMs?: number }) => jobs.agentHealth(ref, opts?.now ?? clock.now(), opts),
    /** Per objectGUID, the latest Cloud Sync provisioning outcome since `since` (taken / failed / skipped / deleted / not-seen). */
    cloudSyncOutcomes: (jobId: string, objectGUIDs: string[], since: Date, opts?: { maxPages?: number }) =>
      jobs.cloudSyncOutcomes(jobId, objectGUIDs, since, opts),
    exchangeHybridWritebackPossible: (ref: JobRef) => jobs.exchangeHybridWritebackPossible(ref),
    passwordWriteback: () => jobs.passwordWriteback(),
    onPremisesSynchronization: () => jobs.onPremisesSynchronization(),
    organizationSync: () => jobs.organizationSync(),
    provisioningLogs: (jobId: string, opts?: { maxEntries?: number; since?: Date }) => jobs.provisioningLogs(jobId, opts),

    // Counts and reconciliation input
    readSyncedUsers: () => readSyncedUsers(transport),
    iterateSyncedUsers: () => iterateSyncedUsers(transport),
    countSyncedUsers: () => countSyncedUsers(transport),

    // Groups (change owners by group): users reached directly or through nested groups
    transitiveUserMembers: (groupId: string) => listTransitiveUserMembers(transport, groupId),
    getGroup: (groupId: string) => getGroup(transport, groupId),
    /** A user of the tenant by object id, or null (Graph 404). */
    getUser: (oid: string) => getUser(transport, oid),

    // The tenant: its domains, verified or not (a new migration's domain must be a verified one)
    listDomains: () => listDomains(transport),
    /** An OU index kept current by users/delta; its state (deltaLink + objects) lives in `store`. */
    createSyncedObjectIndex: (store: DeltaStateStore, key?: string) => new SyncedObjectIndex(transport, store, log, key),
    clock,
  };
}

export type Graph = ReturnType<typeof createGraph>;
