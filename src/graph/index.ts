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
import { countSyncedUsers, getGroup, iterateSyncedUsers, listTransitiveUserMembers, readSyncedUsers, SyncedObjectIndex, type DeltaStateStore } from './directory.js';
import { SyncJobOps, type JobRef } from './jobs.js';
import { GraphSettingsSchema, type GraphSettings } from './settings.js';
import type { Tracer } from '../telemetry/tracer.js';
import { GraphTransport } from './transport.js';

export { GraphError, GraphPlanError, isGraphError } from './errors.js';
export { GraphSettingsSchema, graphScope, type GraphAuth, type GraphSettings } from './settings.js';
export { GraphTransport, type TransportStats, type GraphResponse } from './transport.js';
export {
  InMemoryDeltaStateStore,
  SyncedObjectIndex,
  MAX_PAGE_SIZE,
  type DeltaStateStore,
  type GroupUserMember,
  type RefreshResult,
} from './directory.js';
export {
  unionContainers,
  includedContainersOf,
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
    startJob: (ref: JobRef) => jobs.startJob(ref),
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
    listAgents: () => jobs.listAgents(),
    onPremisesSynchronization: () => jobs.onPremisesSynchronization(),
    provisioningLogs: (jobId: string, opts?: { maxEntries?: number }) => jobs.provisioningLogs(jobId, opts),

    // Counts and reconciliation input
    readSyncedUsers: () => readSyncedUsers(transport),
    iterateSyncedUsers: () => iterateSyncedUsers(transport),
    countSyncedUsers: () => countSyncedUsers(transport),

    // Groups (change owners by group): users reached directly or through nested groups
    transitiveUserMembers: (groupId: string) => listTransitiveUserMembers(transport, groupId),
    getGroup: (groupId: string) => getGroup(transport, groupId),
    /** An OU index kept current by users/delta; its state (deltaLink + objects) lives in `store`. */
    createSyncedObjectIndex: (store: DeltaStateStore, key?: string) => new SyncedObjectIndex(transport, store, log, key),
    clock,
  };
}

export type Graph = ReturnType<typeof createGraph>;
