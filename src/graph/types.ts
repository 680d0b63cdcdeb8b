/**
 * Typed views of the Graph resources cutover reads, parsed from the wire shapes in
 * ../shared/reference/graph-openapi-sync-excerpt.yaml. Dates become Date; Graph's "never"
 * (0001-01-01T00:00:00Z) becomes null; Int64 counts become numbers.
 */

/** What an approver sees before approving, and exactly what the operation sends. */
export interface PlannedRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path with version, e.g. /beta/servicePrincipals/{id}/synchronization/jobs. */
  path: string;
  body?: unknown;
  /** A short human summary for the card (the body is the truth). */
  summary?: string;
}

export const AD2AAD_APPLICATION_TEMPLATE_ID = '1a4721b3-e57f-4451-ae87-ef078703ec94';
export type CloudSyncJobTemplate = 'AD2AADProvisioning' | 'AD2AADPasswordHash' | 'AAD2ADExchangeHybridWriteback';

export type SyncStatusCode = 'NotConfigured' | 'NotRun' | 'Active' | 'Paused' | 'Quarantine';
export type QuarantineReason =
  | 'EncounteredBaseEscrowThreshold'
  | 'EncounteredTotalEscrowThreshold'
  | 'EncounteredEscrowProportionThreshold'
  | 'EncounteredQuarantineException'
  | 'Unknown'
  | 'QuarantinedOnDemand'
  | 'TooManyDeletes'
  | 'IngestionInterrupted';

export interface SyncError {
  code: string | null;
  message: string | null;
  tenantActionable: boolean;
}

export interface SyncTaskExecution {
  activityIdentifier: string | null;
  countEntitled: number;
  countEntitledForProvisioning: number;
  countEscrowed: number;
  countEscrowedRaw: number;
  countExported: number;
  countExports: number;
  countImported: number;
  countImportedDeltas: number;
  countImportedReferenceDeltas: number;
  error: SyncError | null;
  state: 'Succeeded' | 'Failed' | 'EntryLevelErrors' | string;
  timeBegan: Date | null;
  timeEnded: Date | null;
}

export interface SyncQuarantine {
  reason: QuarantineReason | string;
  error: SyncError | null;
  currentBegan: Date | null;
  nextAttempt: Date | null;
  seriesBegan: Date | null;
  seriesCount: number;
}

export interface SyncProgress {
  completedUnits: number;
  totalUnits: number;
  units: string | null;
  progressObservationDateTime: Date | null;
}

export interface SyncJobStatus {
  code: SyncStatusCode | string;
  quarantine: SyncQuarantine | null;
  lastExecution: SyncTaskExecution | null;
  lastSuccessfulExecution: SyncTaskExecution | null;
  lastSuccessfulExecutionWithExports: SyncTaskExecution | null;
  progress: SyncProgress[];
  countSuccessiveCompleteFailures: number;
  escrowsPruned: boolean;
  /** null when Graph says 0001-01-01 (never reached). */
  steadyStateFirstAchievedTime: Date | null;
  steadyStateLastAchievedTime: Date | null;
  /** e.g. { 'user to User': 3, 'group to Group': 33 } */
  synchronizedEntryCountByType: Record<string, number>;
  troubleshootingUrl: string | null;
}

export interface SyncJob {
  id: string;
  templateId: string | null;
  schedule: { state: 'Active' | 'Disabled' | 'Paused' | string; interval: string | null; expiration: Date | null };
  status: SyncJobStatus;
  /** synchronizationJobSettings as name → value. */
  settings: Record<string, string | null>;
}

export interface CloudSyncAgent {
  id: string;
  machineName: string;
  externalIp: string;
  /** Lower-cased: the docs' example says "Active", the enum says active. */
  status: string;
  isActive: boolean;
  supportedPublishingTypes: string[];
  agentGroups: { id: string; displayName: string | null }[];
}

export interface ProvisioningLogEntry {
  id: string;
  activityDateTime: Date | null;
  jobId: string | null;
  cycleId: string | null;
  changeId: string | null;
  action: string | null;
  status: string | null;
  errorCode: string | null;
  errorReason: string | null;
  recommendedAction: string | null;
  sourceId: string | null;
  sourceDisplayName: string | null;
  targetId: string | null;
  targetDisplayName: string | null;
  identityType: string | null;
  steps: { name: string | null; type: string | null; status: string | null; description: string | null }[];
}

export interface ProvisionOnDemandResult {
  /** From the JSON in `key`: Success, Skipped, Failure… */
  result: string;
  details: Record<string, unknown>;
  action: string | null;
  steps: { name: string; type: string; status: string; description: string | null }[];
  modifiedProperties: { displayName: string; oldValue?: string | null; newValue?: string | null }[];
  targetId: string | null;
  /** The decoded `value` object, for anything not lifted above. */
  raw: Record<string, unknown>;
}

/** A synced user as read for counts and reconciliation. */
export interface SyncedUser {
  id: string;
  userPrincipalName: string | null;
  mail: string | null;
  displayName: string | null;
  proxyAddresses: string[];
  onPremisesImmutableId: string | null;
  onPremisesSamAccountName: string | null;
  onPremisesDistinguishedName: string | null;
  onPremisesSyncEnabled: boolean | null;
}

export const SYNCED_USER_SELECT = [
  'id',
  'userPrincipalName',
  'mail',
  'displayName',
  'proxyAddresses',
  'onPremisesImmutableId',
  'onPremisesSamAccountName',
  'onPremisesDistinguishedName',
  'onPremisesSyncEnabled',
] as const;

// ---- parsing ----

const NEVER_PREFIX = '0001-01-01';

export function parseDate(v: unknown): Date | null {
  if (typeof v !== 'string' || v === '' || v.startsWith(NEVER_PREFIX)) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : 0;
}
function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

export function parseSyncError(v: any): SyncError | null {
  if (!v || typeof v !== 'object') return null;
  return { code: str(v.code), message: str(v.message), tenantActionable: v.tenantActionable === true };
}

export function parseTaskExecution(v: any): SyncTaskExecution | null {
  if (!v || typeof v !== 'object') return null;
  return {
    activityIdentifier: str(v.activityIdentifier),
    countEntitled: num(v.countEntitled),
    countEntitledForProvisioning: num(v.countEntitledForProvisioning),
    countEscrowed: num(v.countEscrowed),
    countEscrowedRaw: num(v.countEscrowedRaw),
    countExported: num(v.countExported),
    countExports: num(v.countExports),
    countImported: num(v.countImported),
    countImportedDeltas: num(v.countImportedDeltas),
    countImportedReferenceDeltas: num(v.countImportedReferenceDeltas),
    error: parseSyncError(v.error),
    state: str(v.state) ?? 'Unknown',
    timeBegan: parseDate(v.timeBegan),
    timeEnded: parseDate(v.timeEnded),
  };
}

export function parseQuarantine(v: any): SyncQuarantine | null {
  if (!v || typeof v !== 'object') return null;
  return {
    reason: str(v.reason) ?? 'Unknown',
    error: parseSyncError(v.error),
    currentBegan: parseDate(v.currentBegan),
    nextAttempt: parseDate(v.nextAttempt),
    seriesBegan: parseDate(v.seriesBegan),
    seriesCount: num(v.seriesCount),
  };
}

export function parseStatus(v: any): SyncJobStatus {
  const s = v && typeof v === 'object' ? v : {};
  const counts: Record<string, number> = {};
  for (const p of Array.isArray(s.synchronizedEntryCountByType) ? s.synchronizedEntryCountByType : []) {
    if (p && typeof p.key === 'string') counts[p.key] = num(p.value);
  }
  return {
    code: str(s.code) ?? 'NotConfigured',
    quarantine: parseQuarantine(s.quarantine),
    lastExecution: parseTaskExecution(s.lastExecution),
    lastSuccessfulExecution: parseTaskExecution(s.lastSuccessfulExecution),
    lastSuccessfulExecutionWithExports: parseTaskExecution(s.lastSuccessfulExecutionWithExports),
    progress: (Array.isArray(s.progress) ? s.progress : []).map((p: any) => ({
      completedUnits: num(p?.completedUnits),
      totalUnits: num(p?.totalUnits),
      units: str(p?.units),
      progressObservationDateTime: parseDate(p?.progressObservationDateTime),
    })),
    countSuccessiveCompleteFailures: num(s.countSuccessiveCompleteFailures),
    escrowsPruned: s.escrowsPruned === true,
    steadyStateFirstAchievedTime: parseDate(s.steadyStateFirstAchievedTime),
    steadyStateLastAchievedTime: parseDate(s.steadyStateLastAchievedTime),
    synchronizedEntryCountByType: counts,
    troubleshootingUrl: str(s.troubleshootingUrl) || null,
  };
}

export function parseJob(v: any): SyncJob {
  const settings: Record<string, string | null> = {};
  for (const kv of Array.isArray(v?.synchronizationJobSettings) ? v.synchronizationJobSettings : []) {
    if (kv && typeof kv.name === 'string') settings[kv.name] = str(kv.value);
  }
  return {
    id: String(v?.id ?? ''),
    templateId: str(v?.templateId),
    schedule: {
      state: str(v?.schedule?.state) ?? 'Disabled',
      interval: str(v?.schedule?.interval),
      expiration: parseDate(v?.schedule?.expiration),
    },
    status: parseStatus(v?.status),
    settings,
  };
}

/** Graph shows ids as `<templateId>.<hex>[.<guid>]`, and one documented example has a mismatching templateId: match either. */
export function jobIsOfTemplate(job: { id: string; templateId: string | null }, template: string): boolean {
  return job.templateId === template || job.id.startsWith(`${template}.`);
}

export function parseAgent(v: any): CloudSyncAgent {
  const status = (str(v?.status) ?? 'unknown').toLowerCase();
  return {
    id: String(v?.id ?? ''),
    machineName: str(v?.machineName) ?? '',
    externalIp: str(v?.externalIp) ?? '',
    status,
    isActive: status === 'active',
    supportedPublishingTypes: Array.isArray(v?.supportedPublishingTypes) ? v.supportedPublishingTypes.map(String) : [],
    agentGroups: (Array.isArray(v?.agentGroups) ? v.agentGroups : []).map((g: any) => ({
      id: String(g?.id ?? ''),
      displayName: str(g?.displayName),
    })),
  };
}

export function parseProvisioningLog(v: any): ProvisioningLogEntry {
  const info = v?.provisioningStatusInfo ?? v?.statusInfo ?? {};
  const err = info?.errorInformation ?? {};
  return {
    id: String(v?.id ?? ''),
    activityDateTime: parseDate(v?.activityDateTime),
    jobId: str(v?.jobId),
    cycleId: str(v?.cycleId),
    changeId: str(v?.changeId),
    action: str(v?.provisioningAction) ?? str(v?.action),
    status: str(info?.status),
    errorCode: str(err?.errorCode),
    errorReason: str(err?.reason),
    recommendedAction: str(err?.recommendedAction),
    sourceId: str(v?.sourceIdentity?.id),
    sourceDisplayName: str(v?.sourceIdentity?.displayName),
    targetId: str(v?.targetIdentity?.id),
    targetDisplayName: str(v?.targetIdentity?.displayName),
    identityType: str(v?.sourceIdentity?.identityType),
    steps: (Array.isArray(v?.provisioningSteps) ? v.provisioningSteps : []).map((s: any) => ({
      name: str(s?.name),
      type: str(s?.provisioningStepType),
      status: str(s?.status),
      description: str(s?.description),
    })),
  };
}

/** provisionOnDemand answers a stringKeyStringValuePair whose key and value are themselves JSON strings. */
export function parseProvisionOnDemand(v: any): ProvisionOnDemandResult {
  const decode = (s: unknown): any => {
    if (typeof s !== 'string' || s === '') return {};
    try {
      return JSON.parse(s);
    } catch {
      return {};
    }
  };
  const key = decode(v?.key);
  const value = decode(v?.value);
  return {
    result: typeof key.result === 'string' ? key.result : 'Unknown',
    details: key.details && typeof key.details === 'object' ? key.details : {},
    action: str(value.action),
    steps: (Array.isArray(value.provisioningSteps) ? value.provisioningSteps : []).map((s: any) => ({
      name: String(s?.name ?? ''),
      type: String(s?.type ?? ''),
      status: String(s?.status ?? ''),
      description: str(s?.description),
    })),
    modifiedProperties: Array.isArray(value.modifiedProperties) ? value.modifiedProperties : [],
    targetId: str(value?.targetIdentity?.id),
    raw: value,
  };
}

export function parseSyncedUser(v: any): SyncedUser {
  return {
    id: String(v.id),
    userPrincipalName: str(v.userPrincipalName),
    mail: str(v.mail),
    displayName: str(v.displayName),
    proxyAddresses: Array.isArray(v.proxyAddresses) ? v.proxyAddresses : [],
    onPremisesImmutableId: str(v.onPremisesImmutableId),
    onPremisesSamAccountName: str(v.onPremisesSamAccountName),
    onPremisesDistinguishedName: str(v.onPremisesDistinguishedName),
    onPremisesSyncEnabled: typeof v.onPremisesSyncEnabled === 'boolean' ? v.onPremisesSyncEnabled : null,
  };
}
