/** The simulated on-premises side: Active Directory and the Entra Connect Sync server that syncs it. */
export { ActiveDirectory, AdError, type AdSchemaInfo, type NewAdObject } from './active-directory.js';
export {
  ConnectSyncServer,
  ENTRA_CONNECTOR_ID,
  isSyncServiceAccount,
  ZERO_GUID,
  type AttributeFlowMapping,
  type CompanyFeatures,
  type ConfigExport,
  type Connector,
  type ExportDeletionThreshold,
  type PolicyType,
  type RunProfileResult,
  type SchedulerState,
  type ScopeCondition,
  type ScopeOperator,
  type SyncCycleReport,
  type SyncRule,
} from './connect-sync.js';
export { MemorySyncTarget, type MemoryEntraObject } from './memory-target.js';
export { seedContosoForest, installSyncTool, addForestDomain, CONTOSO_SEED_TIME, type ContosoForest, type SeedOptions } from './seed.js';
export { Prng } from './prng.js';
export { SandboxExecutor } from './executor.js';
