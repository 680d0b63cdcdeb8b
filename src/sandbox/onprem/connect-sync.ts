import { createHash } from 'node:crypto';
import type { AdObject, AdObjectClass, EntraSyncTarget } from '../contracts.js';
import { isUnder, normalizeDn, parseDn } from '../../dn.js';
import { sourceAnchorOf } from '../../identity.js';
import type { ActiveDirectory } from './active-directory.js';

/** The Entra connector's identifier is the same on every Connect Sync server (how-to-upgrade-previous-version.md). */
export const ENTRA_CONNECTOR_ID = 'b891884f-051e-4a83-95af-2544101c9083';
export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

export type PolicyType = 'Delta' | 'Initial';
export type ScopeOperator =
  | 'EQUAL'
  | 'NOTEQUAL'
  | 'LESSTHAN'
  | 'LESSTHAN_OR_EQUAL'
  | 'CONTAINS'
  | 'NOTCONTAINS'
  | 'STARTSWITH'
  | 'NOTSTARTSWITH'
  | 'ENDSWITH'
  | 'NOTENDSWITH'
  | 'GREATERTHAN'
  | 'GREATERTHAN_OR_EQUAL'
  | 'ISNULL'
  | 'ISNOTNULL'
  | 'ISIN'
  | 'ISNOTIN'
  | 'ISBITSET'
  | 'ISNOTBITSET'
  | 'ISMEMBEROF'
  | 'ISNOTMEMBEROF';

export interface ScopeCondition {
  Attribute: string;
  ComparisonValue: string;
  ComparisonOperator: ScopeOperator;
}

export interface AttributeFlowMapping {
  Source: string[];
  Destination: string;
  FlowType: 'Direct' | 'Constant' | 'Expression';
  ValueMergeType: 'Update' | 'Merge' | 'MergeCaseInsensitive';
  Expression?: string;
}

/** A synchronization rule with the properties Get-ADSyncRule shows. */
export interface SyncRule {
  Identifier: string;
  Name: string;
  Description: string;
  Direction: 'Inbound' | 'Outbound';
  Precedence: number;
  Connector: string;
  LinkType: 'Join' | 'Provision' | 'StickyJoin' | 'JoinNoFlow';
  SourceObjectType: string;
  TargetObjectType: string;
  Disabled: boolean;
  IsStandardRule: boolean;
  ImmutableTag: string;
  /** Groups are ORed; the conditions inside one group are ANDed. */
  ScopeFilter: Array<{ ScopeConditionList: ScopeCondition[] }>;
  AttributeFlowMappings: AttributeFlowMapping[];
}

/**
 * One directory partition of the AD connector as Connect stores it: `$c.Partitions[]` with `.Name` (the partition DN),
 * `.Selected`, and `.ConnectorPartitionScope.ContainerInclusionList / ContainerExclusionList` (the wizard's
 * "Domain and OU filtering" tree; public inventory scripts read exactly these properties).
 */
export interface ConnectorPartition {
  name: string;
  selected: boolean;
  includedContainers: string[];
  excludedContainers: string[];
}

export interface Connector {
  Name: string;
  Identifier: string;
  ConnectorTypeName: 'AD' | 'Extensible2';
  SubType: string;
  /** The AD connector's partitions and their OU filtering; empty for the Entra connector. */
  Partitions: ConnectorPartition[];
  /**
   * `GlobalParameters['Connector.GroupFilteringGroupDn']`: group-based filtering (a custom-install option, "for pilot
   * deployments only"); null when off. Only direct members of the group are in scope (how-to-connect-install-custom.md,
   * "Sync filtering based on groups": nested members are not resolved).
   */
  GroupFilteringGroupDn: string | null;
}

/** The ADSync Windows service (Get-Service ADSync; StartMode from Win32_Service). */
export interface AdsyncServiceState {
  status: 'Running' | 'Stopped';
  startupType: 'Automatic' | 'Manual' | 'Disabled';
}

/**
 * What ADSync cmdlets answer while the service is stopped: they talk to the sync engine (miiserver) over RPC and
 * cannot connect. Connect prints "Unable to connect to the Synchronization Service" with the possible reasons; the
 * sandbox uses that text (UNVERIFIED wording from public troubleshooting threads).
 */
export const ADSYNC_SERVICE_STOPPED_MESSAGE =
  'Unable to connect to the Synchronization Service. Some possible reasons are: 1) The service is not started. 2) Your account is not a member of a required security group.';

export class AdsyncServiceStoppedError extends Error {
  constructor() {
    super(ADSYNC_SERVICE_STOPPED_MESSAGE);
    this.name = 'AdsyncServiceStoppedError';
  }
}

/** Pending export on a connector for one object (csexport "<connector>" /f:x shows these). */
export interface PendingExport {
  objectGUID: string;
  dn: string;
  objectClass: AdObjectClass;
  operation: 'add' | 'update' | 'delete';
  /** AD connector only: a group Connect wrote back from Entra (GWB, adminDescription Group_…). */
  writtenBackGroup?: boolean;
  /** AD connector only: the adminDescription Connect last imported (csexport's synchronized hologram holds it). */
  adminDescription?: string;
  /**
   * Entra connector only: the object's sourceAnchor, which names its connector-space object (CN={…}); a delete keeps
   * the anchor it was exported with after the AD object is gone.
   */
  sourceAnchor?: string;
}

/**
 * Connect's own service accounts are never synchronized: the out-of-box rules leave out `Left([sAMAccountName], 4) =
 * "AAD_"` and `Left([sAMAccountName], 5) = "MSOL_"` ("the service account used by Azure AD Connect sync and its earlier
 * versions", concept-azure-ad-connect-sync-default-configuration.md).
 */
export function isSyncServiceAccount(o: Pick<AdObject, 'objectClass' | 'samAccountName'>): boolean {
  const sam = (o.samAccountName ?? '').toUpperCase();
  return (o.objectClass === 'user' || o.objectClass === 'inetOrgPerson') && (sam.startsWith('MSOL_') || sam.startsWith('AAD_'));
}

/** The metaverse object Connect projected for an AD object (only what cutover reads: cloudNoFlow). */
export interface MetaverseEntry {
  objectGUID: string;
  dn: string;
  objectClass: AdObjectClass;
  mvObjectType: 'person' | 'group';
  cloudNoFlow: boolean;
}

export interface SchedulerState {
  AllowedSyncCycleInterval: string;
  CurrentlyEffectiveSyncCycleInterval: string;
  CustomizedSyncCycleInterval: string | null;
  NextSyncCycleStartTimeInUTC: string;
  NextSyncCyclePolicyType: PolicyType;
  PurgeRunHistoryInterval: string;
  SyncCycleEnabled: boolean;
  MaintenanceEnabled: boolean;
  StagingModeEnabled: boolean;
  SchedulerSuspended: boolean;
  SyncCycleInProgress: boolean;
}

export interface RunProfileResult {
  RunHistoryId: string;
  ConnectorId: string;
  ConnectorName: string;
  RunProfileName: string;
  Result: 'success' | 'completed-export-errors' | 'stopped-deletion-threshold-exceeded' | 'stopped-server-down';
  /**
   * UTC without a time zone designator (e.g. 2026-12-05T01:02:03.123): the cmdlet returns a DateTime of Kind
   * Unspecified holding UTC, so it serialises without 'Z' (review §2; public scripts call .ToLocalTime() on it).
   * Readers must SpecifyKind(Utc) (PowerShell) or append 'Z' (sandbox executor) before using it.
   */
  StartDate: string;
  EndDate: string;
  IsRunComplete: boolean;
  /** Export counters (zero for imports and syncs). */
  Adds: number;
  Updates: number;
  Deletes: number;
}

export interface CompanyFeatures {
  PasswordHashSync: boolean;
  ForcePasswordChangeOnLogOn: boolean;
  UserWriteback: boolean;
  DeviceWriteback: boolean;
  UnifiedGroupWriteback: boolean;
  GroupWritebackV2: boolean;
  /** Get-ADSyncAADPasswordResetConfiguration -Connector <Entra connector>).Enabled (SSPR writeback how-to). */
  PasswordWriteback: boolean;
  /**
   * Exchange hybrid writeback: the wizard adds the out-of-box rule "Out to AD - User Exchange Hybrid"
   * (named in concept-azure-ad-connect-sync-declarative-provisioning-expressions.md). Derived from that rule.
   */
  ExchangeHybrid: boolean;
}

export const EXCHANGE_HYBRID_RULE_NAME = 'Out to AD - User Exchange Hybrid';

export interface ExportDeletionThreshold {
  DeletionPrevention: 0 | 1;
  ThresholdPercentage: number;
  ThresholdCount: number;
}

export interface SyncCycleReport {
  Result: 'Success' | 'stopped-deletion-threshold-exceeded';
  PolicyType: PolicyType;
  StartedAtUTC: string;
  EndedAtUTC: string;
  /** True when staging mode held back every export. */
  exportsSuppressed: boolean;
  exported: { adds: number; updates: number; deletes: number; referenceDeletes: number };
  /** Written-back groups Connect deleted from AD (GWB v2 disabled without the seed-004 rule pair). */
  writebackDeletes: number;
  runs: RunProfileResult[];
}

export interface ConfigExport {
  folder: string;
  takenAtUTC: string;
  files: Array<{ path: string; sha256: string; bytes: number }>;
}

interface ExportedState {
  /** Hash of the non-reference attributes last exported. */
  attrs: string;
  /** Hash of the reference attributes (group members) last exported. */
  refs: string;
  /** Whether the no-flow pair covered the object when Connect last saw it in scope. */
  noFlow: boolean;
  objectClass: AdObjectClass;
  /** The DN when last seen in scope: a delete export still names it after the AD object is gone. */
  dn: string;
  /** The sourceAnchor it was exported with (its Entra connector-space object's name). */
  sourceAnchor: string;
}

const SYNC_INTERVAL_MS = 30 * 60_000;
/** PurgeRunHistoryInterval's default (7.00:00:00): run history older than this is purged by the maintenance task. */
const RUN_HISTORY_MS = 7 * 86_400_000;

/** Connect's metaverse object type for each AD class: what the outbound rule's SourceObjectType names. */
const MV_TYPE: Record<AdObjectClass, 'person' | 'group'> = { user: 'person', inetOrgPerson: 'person', group: 'group', contact: 'person' };

/** DateTime as Get-ADSyncRunProfileResult serialises it: UTC, no zone designator. */
export function runHistoryDate(d: Date): string {
  return d.toISOString().slice(0, -1);
}

/**
 * The simulated Entra Connect Sync server. Its sync cycle exports honestly: the cloudNoFlow/JoinNoFlow rule pair
 * stops adds, deletes and non-reference updates, but not reference updates, and an object that leaves scope
 * while covered by the pair loses its group memberships in Entra (seed 001's hazard).
 */
export class ConnectSyncServer {
  readonly ad: ActiveDirectory;
  readonly target: EntraSyncTarget;
  readonly adConnector: Connector;
  readonly entraConnector: Connector;
  #scheduler: SchedulerState;
  #rules: SyncRule[] = [];
  #features: Omit<CompanyFeatures, 'ExchangeHybrid'>;
  #threshold: ExportDeletionThreshold = { DeletionPrevention: 1, ThresholdPercentage: 0, ThresholdCount: 500 };
  #runs: RunProfileResult[] = [];
  #exported = new Map<string, ExportedState>(); // objectGUID → what Connect last exported
  #exports = new Map<string, ConfigExport>();
  #runCounter = 0;
  #idleWaiters: Array<() => void> = [];
  #startWaiters: Array<() => void> = [];
  #lastCycle: SyncCycleReport | null = null;
  #service: AdsyncServiceState = { status: 'Running', startupType: 'Automatic' };
  /** A Start-ADSyncSyncCycle signal the scheduler has not picked up yet. */
  #signalled = false;
  /** Set-ADSyncSchedulerConnectorOverride -FullSyncRequired, per connector identifier. */
  #fullSyncRequired = new Set<string>();
  /**
   * The rules as they were at each connector's last Full Synchronization. "Made changes to the Synchronization rules
   * → A Full Sync is required on the Connector" (how-to-connect-sync-feature-scheduler.md): until then the sync
   * engine keeps evaluating objects with the rules it last fully applied (the stricter reading: the sandbox does not
   * re-evaluate changed objects with new rules in a delta sync either).
   */
  #appliedRules = new Map<string, SyncRule[]>();
  #mv = new Map<string, MetaverseEntry>(); // objectGUID → metaverse projection of an in-scope AD object
  #pending = new Map<string, PendingExport>(); // objectGUID → the Entra connector's pending export
  #adPending = new Map<string, PendingExport>(); // objectGUID → the AD connector's pending export (written-back groups)

  constructor(opts: {
    ad: ActiveDirectory;
    target: EntraSyncTarget;
    adConnectorId: string;
    tenantDomain: string;
    /** Partitions and OU filtering as the wizard stored them (default: the domain partition, whole domain). */
    partitions?: ConnectorPartition[];
    groupFilteringGroupDn?: string | null;
    now: Date;
    features?: Partial<CompanyFeatures>;
  }) {
    this.ad = opts.ad;
    this.target = opts.target;
    this.adConnector = {
      Name: opts.ad.domainFqdn,
      Identifier: opts.adConnectorId,
      ConnectorTypeName: 'AD',
      SubType: '',
      Partitions: structuredClone(opts.partitions ?? [{ name: opts.ad.baseDn, selected: true, includedContainers: [opts.ad.baseDn], excludedContainers: [] }]),
      GroupFilteringGroupDn: opts.groupFilteringGroupDn ?? null,
    };
    for (const p of this.adConnector.Partitions) for (const c of [p.name, ...p.includedContainers, ...p.excludedContainers]) parseDn(c);
    this.entraConnector = {
      Name: `${opts.tenantDomain} - AAD`,
      Identifier: ENTRA_CONNECTOR_ID,
      ConnectorTypeName: 'Extensible2',
      SubType: 'Windows Azure Active Directory (Microsoft)',
      Partitions: [],
      GroupFilteringGroupDn: null,
    };
    const { ExchangeHybrid, ...features } = opts.features ?? {};
    this.#features = {
      PasswordHashSync: true,
      ForcePasswordChangeOnLogOn: false,
      UserWriteback: false,
      DeviceWriteback: false,
      UnifiedGroupWriteback: true,
      GroupWritebackV2: true,
      PasswordWriteback: false,
      ...features,
    };
    this.#scheduler = {
      AllowedSyncCycleInterval: '00:30:00',
      CurrentlyEffectiveSyncCycleInterval: '00:30:00',
      CustomizedSyncCycleInterval: null,
      NextSyncCycleStartTimeInUTC: new Date(opts.now.getTime() + SYNC_INTERVAL_MS).toISOString(),
      NextSyncCyclePolicyType: 'Delta',
      PurgeRunHistoryInterval: '7.00:00:00',
      SyncCycleEnabled: true,
      MaintenanceEnabled: true,
      StagingModeEnabled: false,
      SchedulerSuspended: false,
      SyncCycleInProgress: false,
    };
    this.#rules = standardRules(this.adConnector.Identifier);
    if (ExchangeHybrid) this.setCompanyFeatures({ ExchangeHybrid: true });
    // A fresh install's first cycle is an Initial one; until it runs, the installed rules are what applies.
    for (const id of [this.adConnector.Identifier, ENTRA_CONNECTOR_ID]) this.#appliedRules.set(id, this.#enabledRules());
  }

  // ---------------------------------------------------------------- the ADSync service

  get serviceRunning(): boolean {
    return this.#service.status === 'Running';
  }

  adsyncService(): AdsyncServiceState {
    return { ...this.#service };
  }

  /**
   * Stop-Service ADSync + Set-Service -StartupType Disabled, or Set-Service -StartupType Automatic + Start-Service.
   * With the service stopped nothing of Connect runs: no scheduler, no password hash sync, no cmdlets.
   */
  setAdsyncService(running: boolean): { previous: AdsyncServiceState; current: AdsyncServiceState } {
    const previous = this.adsyncService();
    this.#service = running ? { status: 'Running', startupType: 'Automatic' } : { status: 'Stopped', startupType: 'Disabled' };
    if (!running) this.#signalled = false;
    return { previous, current: this.adsyncService() };
  }

  /** Throws what an ADSync cmdlet throws when the service is stopped. */
  requireService(): void {
    if (!this.serviceRunning) throw new AdsyncServiceStoppedError();
  }

  // ---------------------------------------------------------------- scheduler

  getScheduler(): SchedulerState {
    return { ...this.#scheduler };
  }

  /** Set-ADSyncScheduler -SyncCycleEnabled; the scheduler itself does not refuse while a cycle runs (the action does). */
  setSyncCycleEnabled(enabled: boolean, _now?: Date): SchedulerState {
    this.#scheduler.SyncCycleEnabled = enabled;
    return this.getScheduler();
  }

  /** Staging mode is a wizard setting (unsupported from PowerShell); the sandbox exposes it for the human checklist step. */
  setStagingMode(enabled: boolean): void {
    this.#scheduler.StagingModeEnabled = enabled;
  }

  setNextSyncCyclePolicyType(policy: PolicyType): void {
    this.#scheduler.NextSyncCyclePolicyType = policy;
  }

  /** Set-ADSyncSchedulerConnectorOverride -ConnectorIdentifier <id> -FullSyncRequired <bool> (scheduler doc). */
  setConnectorOverride(connectorId: string, o: { fullSyncRequired: boolean }): void {
    const id = connectorId.toLowerCase();
    if (![this.adConnector.Identifier, ENTRA_CONNECTOR_ID].includes(id)) throw new Error(`no connector ${connectorId}`);
    if (o.fullSyncRequired) this.#fullSyncRequired.add(id);
    else this.#fullSyncRequired.delete(id);
  }

  /** Get-ADSyncSchedulerConnectorOverride. */
  connectorOverride(connectorId: string): { FullSyncRequired: boolean } {
    return { FullSyncRequired: this.#fullSyncRequired.has(connectorId.toLowerCase()) };
  }

  /**
   * Time passes on the server. While the ADSync service runs: password hash sync (its own scheduler, independent of
   * SyncCycleEnabled: "There are two scheduler processes, one for password sync and another for object/attribute
   * sync", how-to-connect-sync-feature-scheduler.md), then the sync scheduler's cycle when one is due and enabled.
   * Returns the cycle report if a cycle ran.
   */
  tick(now: Date): SyncCycleReport | null {
    if (!this.serviceRunning) return null;
    if (this.#features.PasswordHashSync) {
      const users = [...this.#exported].filter(([, e]) => e.objectClass === 'user' || e.objectClass === 'inetOrgPerson').map(([g]) => g);
      // JoinNoFlow keeps the join, and PHS follows joined objects: the stricter reading where the docs are silent.
      if (users.length) this.target.syncPasswordHashes(users, 'connect', now);
    }
    const s = this.#scheduler;
    if (!s.SyncCycleEnabled || s.SchedulerSuspended || s.SyncCycleInProgress || this.#signalled) return null;
    if (now.getTime() < Date.parse(s.NextSyncCycleStartTimeInUTC)) return null;
    return this.runSyncCycle(s.NextSyncCyclePolicyType, now);
  }

  get busy(): boolean {
    return this.#scheduler.SyncCycleInProgress;
  }

  /** Resolves when no cycle is running (at once when idle). */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Resolves when the next cycle starts (SyncCycleInProgress goes true). */
  whenCycleStarts(): Promise<void> {
    return new Promise((resolve) => this.#startWaiters.push(resolve));
  }

  /**
   * Marks a cycle as started without finishing it, so tests and the sandbox can show "a cycle is running"
   * (the guard that set-scheduler must respect). Finish it with completeSyncCycle.
   */
  beginSyncCycle(): void {
    this.requireService();
    if (this.busy) throw new Error('Sync is already running. Cannot start a new run till this one completes.');
    this.#scheduler.SyncCycleInProgress = true;
    for (const w of this.#startWaiters.splice(0)) w();
  }

  completeSyncCycle(policyType: PolicyType, now: Date): SyncCycleReport {
    try {
      return this.#cycle(policyType, now);
    } finally {
      this.#scheduler.SyncCycleInProgress = false;
      for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  /** A whole cycle, synchronously: what the built-in scheduler runs when a cycle is due. */
  runSyncCycle(policyType: PolicyType, now: Date): SyncCycleReport {
    this.beginSyncCycle();
    return this.completeSyncCycle(policyType, now);
  }

  /**
   * Start-ADSyncSyncCycle: only signals the scheduler and returns (reference-connect-adsync.md: the cmdlet
   * "indicate[s] whether it's able to successfully start a new sync cycle"). The cycle begins on a later macrotask and
   * ends on another one, so a caller that reads SyncCycleInProgress right away sees false. `now` is read when the
   * cycle runs. Fails when the service is stopped or a cycle is already running or signalled.
   */
  startSyncCycle(policyType: PolicyType, now: () => Date): { Result: 'Success' } {
    this.requireService();
    if (this.busy || this.#signalled) throw new Error('Sync is already running. Cannot start a new run till this one completes.');
    this.#signalled = true;
    setTimeout(() => {
      if (!this.#signalled) return; // the service was stopped in between
      this.#signalled = false;
      if (!this.serviceRunning || this.busy) return;
      this.beginSyncCycle();
      setTimeout(() => {
        try {
          this.completeSyncCycle(policyType, now());
        } catch {
          // The run history shows what happened; nothing else to do on a timer.
        }
      }, 0);
    }, 0);
    return { Result: 'Success' };
  }

  get lastCycle(): SyncCycleReport | null {
    return this.#lastCycle && structuredClone(this.#lastCycle);
  }

  /** Get-ADSyncConnectorRunStatus: empty when idle, else the busy connector(s). */
  connectorRunStatus(): Array<{ RunState: 'Busy'; ConnectorName: string }> {
    return this.busy ? [{ RunState: 'Busy', ConnectorName: this.adConnector.Name }] : [];
  }

  /** Get-ADSyncRunProfileResult [-ConnectorId] [-NumberRequested]: newest first. */
  runProfileResults(opts: { connectorId?: string; limit?: number } = {}): RunProfileResult[] {
    const rows = this.#runs.filter((r) => !opts.connectorId || r.ConnectorId.toLowerCase() === opts.connectorId.toLowerCase());
    return rows
      .slice(-(opts.limit ?? 50))
      .reverse()
      .map((r) => ({ ...r }));
  }

  // ---------------------------------------------------------------- connectors and scope

  connectors(): Connector[] {
    return [structuredClone(this.adConnector), structuredClone(this.entraConnector)];
  }

  #partitionOf(dn: string): ConnectorPartition | undefined {
    return this.adConnector.Partitions.filter((p) => isUnder(dn, p.name)).sort((a, b) => b.name.length - a.name.length)[0];
  }

  /**
   * Whether a container's objects are in Connect's scope by partition and OU filtering: the partition is selected and
   * the most specific listed container above the DN is an included one (the wizard's tree: unticking a child of a
   * ticked OU lists the child under ContainerExclusionList; ticking a grandchild again lists it as included).
   */
  containerInScope(dn: string): boolean {
    const p = this.#partitionOf(dn);
    if (!p || !p.selected) return false;
    const depth = (list: string[]) => Math.max(-1, ...list.filter((c) => isUnder(dn, c)).map((c) => parseDn(c).length));
    const inc = depth(p.includedContainers);
    return inc >= 0 && inc > depth(p.excludedContainers);
  }

  /** An OU is wholly in scope: by container, and no group-based filtering (which scopes members only). */
  ouInScope(dn: string): boolean {
    return this.containerInScope(dn) && this.adConnector.GroupFilteringGroupDn === null;
  }

  /** The full rule for one object: partition, containers, and (when on) direct membership of the filtering group. */
  inScope(obj: AdObject): boolean {
    if (!this.containerInScope(obj.dn)) return false;
    const gdn = this.adConnector.GroupFilteringGroupDn;
    if (gdn === null) return true;
    const group = this.ad.getByDn(gdn);
    const key = normalizeDn(obj.dn);
    return !!group?.members?.some((m) => normalizeDn(m) === key);
  }

  /** The wizard's "Domain and OU filtering" page for one partition. Takes effect at the next cycle. */
  setPartitionScope(partitionDn: string, scope: Partial<Omit<ConnectorPartition, 'name'>>): void {
    const p = this.adConnector.Partitions.find((x) => normalizeDn(x.name) === normalizeDn(partitionDn));
    if (!p) throw new Error(`no partition ${partitionDn}`);
    for (const c of [...(scope.includedContainers ?? []), ...(scope.excludedContainers ?? [])]) parseDn(c);
    Object.assign(p, structuredClone(scope));
  }

  /** The custom install's "Sync filtering based on groups" (null turns it off). */
  setGroupFilteringGroup(dn: string | null): void {
    if (dn !== null) parseDn(dn);
    this.adConnector.GroupFilteringGroupDn = dn;
  }

  /** Unticking an OU in the wizard: an exact inclusion goes; if a parent is still ticked, the OU becomes an exclusion. */
  excludeContainer(dn: string): void {
    const p = this.#partitionOf(dn);
    if (!p) return;
    const key = normalizeDn(dn);
    p.includedContainers = p.includedContainers.filter((c) => normalizeDn(c) !== key);
    if (this.containerInScope(dn) && !p.excludedContainers.some((c) => normalizeDn(c) === key)) p.excludedContainers.push(dn);
  }

  /** Ticking an OU again: an exact exclusion goes; if it is still not covered, it becomes an inclusion. */
  includeContainer(dn: string): void {
    const p = this.#partitionOf(dn);
    if (!p) throw new Error(`${dn} is in no partition of ${this.adConnector.Name}`);
    const key = normalizeDn(dn);
    p.excludedContainers = p.excludedContainers.filter((c) => normalizeDn(c) !== key);
    if (!this.containerInScope(dn)) p.includedContainers.push(dn);
  }

  // ---------------------------------------------------------------- rules

  rules(): SyncRule[] {
    return this.#rules.map((r) => structuredClone(r)).sort((a, b) => a.Precedence - b.Precedence);
  }

  getRule(identifier: string): SyncRule | undefined {
    const r = this.#rules.find((x) => x.Identifier === identifier.toLowerCase());
    return r && structuredClone(r);
  }

  /**
   * Add-ADSyncRule, with the checks Connect and Microsoft's guidance impose on custom rules. A rule change does not
   * re-evaluate anything by itself: it takes effect at the connector's next Full Synchronization.
   */
  addRule(rule: SyncRule): void {
    this.requireService();
    const id = rule.Identifier.toLowerCase();
    if (this.#rules.some((r) => r.Identifier === id)) throw new Error(`a rule with Identifier ${id} already exists`);
    if (!rule.IsStandardRule) {
      if (!Number.isInteger(rule.Precedence) || rule.Precedence < 0 || rule.Precedence > 99)
        throw new Error(`custom rule precedence must be 0-99, got ${rule.Precedence}`);
      if (rule.ImmutableTag) throw new Error('ImmutableTag is reserved for out-of-box rules');
    }
    const clash = this.#rules.find((r) => r.Precedence === rule.Precedence);
    if (clash) throw new Error(`precedence ${rule.Precedence} is already used by "${clash.Name}"`);
    const connectorIds = [this.adConnector.Identifier, this.entraConnector.Identifier];
    if (!connectorIds.includes(rule.Connector.toLowerCase())) throw new Error(`no connector ${rule.Connector}`);
    this.#rules.push({ ...structuredClone(rule), Identifier: id, Connector: rule.Connector.toLowerCase() });
  }

  /** Remove-ADSyncRule (custom rules only). Takes effect at the next Full Synchronization, like any rule change. */
  removeRule(identifier: string): boolean {
    this.requireService();
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.Identifier !== identifier.toLowerCase() || r.IsStandardRule);
    return this.#rules.length !== before;
  }

  // ---------------------------------------------------------------- features, threshold, configuration

  companyFeatures(): CompanyFeatures {
    const hybrid = this.#rules.some((r) => r.IsStandardRule && !r.Disabled && r.Name.toLowerCase() === EXCHANGE_HYBRID_RULE_NAME.toLowerCase());
    return { ...this.#features, ExchangeHybrid: hybrid };
  }

  /** The wizard's optional features (tests and demos). ExchangeHybrid adds or removes its out-of-box rule. */
  setCompanyFeatures(f: Partial<CompanyFeatures>): void {
    const { ExchangeHybrid, ...rest } = f;
    Object.assign(this.#features, rest);
    if (ExchangeHybrid !== undefined) {
      this.#rules = this.#rules.filter((r) => r.Name !== EXCHANGE_HYBRID_RULE_NAME);
      if (ExchangeHybrid) this.#rules.push(exchangeHybridRule(this.adConnector.Identifier));
    }
  }

  /** Set-ADSyncAADCompanyFeature -GroupWritebackV2 $false. Irreversible, as Microsoft warns: there is no way back on. */
  disableGroupWritebackV2(): { wasEnabled: boolean } {
    this.requireService();
    const wasEnabled = this.#features.GroupWritebackV2;
    this.#features.GroupWritebackV2 = false;
    return { wasEnabled };
  }

  exportDeletionThreshold(): ExportDeletionThreshold {
    return { ...this.#threshold };
  }

  setExportDeletionThreshold(t: Partial<ExportDeletionThreshold>): void {
    this.#threshold = { ...this.#threshold, ...t };
  }

  /**
   * Get-ADSyncServerConfiguration -Path: the folder layout of the real export (Connectors/, GlobalSettings/,
   * SynchronizationRules/). Files are deterministic, so the hashes change exactly when the configuration does.
   */
  exportServerConfiguration(label: string, now: Date): ConfigExport {
    this.requireService();
    const stamp = now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    let folder = `Exported-ServerConfiguration-${label}-${stamp}`;
    for (let n = 2; this.#exports.has(folder); n++) folder = `Exported-ServerConfiguration-${label}-${stamp}-${n}`;
    const files = this.serverConfigurationFiles().map(([path, body]) => ({
      path,
      sha256: createHash('sha256').update(body).digest('hex'),
      bytes: Buffer.byteLength(body),
    }));
    const out: ConfigExport = { folder, takenAtUTC: now.toISOString(), files };
    this.#exports.set(folder, out);
    return structuredClone(out);
  }

  /** The files Get-ADSyncServerConfiguration writes for the configuration as it is now: [path, content]. */
  serverConfigurationFiles(): Array<[string, string]> {
    return [
      ...this.connectors().map((c): [string, string] => [`Connectors/Connector_{${c.Identifier}}.xml`, toXml('connector', c)]),
      ['GlobalSettings/MV.xml', toXml('mv', { objectTypes: ['person', 'group'], features: this.#features })],
      ['GlobalSettings/Scheduler.xml', toXml('scheduler', { interval: this.#scheduler.CurrentlyEffectiveSyncCycleInterval })],
      ...this.rules().map((r): [string, string] => [`SynchronizationRules/SynchronizationRule_{${r.Identifier}}.xml`, toXml('synchronizationRule', r)]),
    ];
  }

  configExports(): ConfigExport[] {
    return [...this.#exports.values()].map((e) => structuredClone(e));
  }

  // ---------------------------------------------------------------- what Connect manages

  /** objectGUIDs Connect has exported to Entra and still tracks. */
  exportedObjectGuids(): string[] {
    return [...this.#exported.keys()];
  }

  /** True when the cloudNoFlow/JoinNoFlow pair covers this AD object under the rules of the last full sync. */
  isNoFlow(obj: AdObject): boolean {
    const rules = this.#appliedRules.get(this.adConnector.Identifier)!;
    return this.#inboundNoFlow(obj, rules) && this.#outboundNoFlow(obj, rules);
  }

  /** True when the pair would cover the object under the current rules (what the next full sync will apply). */
  isNoFlowUnderCurrentRules(obj: AdObject): boolean {
    const rules = this.#enabledRules();
    return this.#inboundNoFlow(obj, rules) && this.#outboundNoFlow(obj, rules);
  }

  /** Get-ADSyncMVObject for the object joined to this AD object (undefined when Connect has no projection). */
  metaverseObject(objectGUID: string): MetaverseEntry | undefined {
    const e = this.#mv.get(objectGUID.toLowerCase());
    return e && { ...e };
  }

  /** A connector's pending exports (csexport "<connector>" /f:x): the Entra connector's by default. */
  pendingExports(connector: 'entra' | 'ad' = 'entra'): PendingExport[] {
    return [...(connector === 'ad' ? this.#adPending : this.#pending).values()].map((p) => ({ ...p }));
  }

  summary(): {
    scheduler: SchedulerState;
    adConnector: Connector;
    customRules: number;
    standardRules: number;
    exportedByConnect: number;
    groupWritebackV2: boolean;
    stagingMode: boolean;
    service: AdsyncServiceState;
    pendingExports: number;
    lastCycle: SyncCycleReport | null;
  } {
    return {
      scheduler: this.getScheduler(),
      adConnector: structuredClone(this.adConnector),
      customRules: this.#rules.filter((r) => !r.IsStandardRule).length,
      standardRules: this.#rules.filter((r) => r.IsStandardRule).length,
      exportedByConnect: this.#exported.size,
      groupWritebackV2: this.#features.GroupWritebackV2,
      stagingMode: this.#scheduler.StagingModeEnabled,
      service: this.adsyncService(),
      pendingExports: this.#pending.size,
      lastCycle: this.lastCycle,
    };
  }

  // ---------------------------------------------------------------- the cycle

  #enabledRules(): SyncRule[] {
    return this.#rules.filter((r) => !r.Disabled).map((r) => structuredClone(r));
  }

  /** The inbound half: an AD-connector Join rule for this class whose scope matches flows Constant true → cloudNoFlow. */
  #inboundNoFlow(obj: AdObject, rules: SyncRule[]): boolean {
    const adId = this.adConnector.Identifier;
    return rules.some(
      (r) =>
        r.Direction === 'Inbound' &&
        r.Connector === adId &&
        r.SourceObjectType.toLowerCase() === obj.objectClass.toLowerCase() &&
        r.AttributeFlowMappings.some(
          (m) => m.FlowType === 'Constant' && m.Destination.toLowerCase() === 'cloudnoflow' && m.Source.some((s) => s.toLowerCase() === 'true'),
        ) &&
        scopeMatches(r, (attr) => adAttribute(obj, attr)),
    );
  }

  /** The outbound half: a JoinNoFlow rule to the Entra connector for this MV type → target type, scoped on cloudNoFlow. */
  #outboundNoFlow(obj: AdObject, rules: SyncRule[]): boolean {
    const target = obj.objectClass === 'inetOrgPerson' ? 'user' : obj.objectClass;
    return rules.some(
      (r) =>
        r.Direction === 'Outbound' &&
        r.Connector === ENTRA_CONNECTOR_ID &&
        r.LinkType === 'JoinNoFlow' &&
        r.SourceObjectType.toLowerCase() === MV_TYPE[obj.objectClass] &&
        r.TargetObjectType.toLowerCase() === target &&
        scopeMatches(r, (attr) => (attr.toLowerCase() === 'cloudnoflow' ? 'true' : undefined)),
    );
  }

  /** Seed 004's pair: written-back groups (cloudMastered, no mail) get cloudNoFlow and JoinNoFlow toward AD. */
  #writebackNoFlow(group: AdObject, rules: SyncRule[]): boolean {
    const inbound = rules.some(
      (r) =>
        r.Direction === 'Inbound' &&
        r.Connector === ENTRA_CONNECTOR_ID &&
        r.SourceObjectType.toLowerCase() === 'group' &&
        r.AttributeFlowMappings.some((m) => m.FlowType === 'Constant' && m.Destination.toLowerCase() === 'cloudnoflow') &&
        scopeMatches(r, (attr) => (attr.toLowerCase() === 'cloudmastered' ? 'true' : adAttribute(group, attr))),
    );
    if (!inbound) return false;
    return rules.some(
      (r) =>
        r.Direction === 'Outbound' &&
        r.Connector === this.adConnector.Identifier &&
        r.LinkType === 'JoinNoFlow' &&
        r.TargetObjectType.toLowerCase() === 'group' &&
        scopeMatches(r, (attr) => (attr.toLowerCase() === 'cloudnoflow' ? 'true' : undefined)),
    );
  }

  #cycle(policyType: PolicyType, now: Date): SyncCycleReport {
    const started = now.toISOString();
    const adId = this.adConnector.Identifier;
    // Initial = full import + full sync on every connector; Delta runs Full Sync on a connector marked FullSyncRequired
    // (and clears the mark), delta sync elsewhere (how-to-connect-sync-feature-scheduler.md).
    const fullSync = new Set<string>();
    for (const id of [adId, ENTRA_CONNECTOR_ID]) if (policyType === 'Initial' || this.#fullSyncRequired.has(id)) fullSync.add(id);
    for (const id of fullSync) {
      this.#appliedRules.set(id, this.#enabledRules());
      this.#fullSyncRequired.delete(id);
    }
    const rules = this.#appliedRules.get(adId)!;
    const entraRules = this.#appliedRules.get(ENTRA_CONNECTOR_ID)!;
    const staging = this.#scheduler.StagingModeEnabled;
    const domain = this.ad.domainFqdn;

    type Pending =
      { kind: 'upsert'; obj: AdObject; state: ExportedState; add: boolean } | { kind: 'delete'; guid: string } | { kind: 'refdelete'; guid: string };
    const pending: Pending[] = [];
    const seen = new Set<string>();
    const writebackDeletes: AdObject[] = [];
    const mv = new Map<string, MetaverseEntry>();

    for (const obj of this.ad.all()) {
      if (isCloudMastered(obj)) {
        // Written back from Entra (GWB v2): Connect's standard inbound rules skip adminDescription Group_*.
        // With GWB v2 turned off and no seed-004 pair, Connect falls back to v1 and removes the security groups it wrote.
        if (!this.#features.GroupWritebackV2 && !obj.mail && !this.#writebackNoFlow(obj, entraRules)) writebackDeletes.push(obj);
        continue;
      }
      if (!this.inScope(obj) || isSyncServiceAccount(obj)) continue;
      seen.add(obj.objectGUID);
      const cloudNoFlow = this.#inboundNoFlow(obj, rules);
      mv.set(obj.objectGUID, { objectGUID: obj.objectGUID, dn: obj.dn, objectClass: obj.objectClass, mvObjectType: MV_TYPE[obj.objectClass], cloudNoFlow });
      const noFlow = cloudNoFlow && this.#outboundNoFlow(obj, rules);
      const attrs = hashOf({ ...obj, members: undefined });
      const refs = hashOf(obj.members ?? []);
      const prev = this.#exported.get(obj.objectGUID);
      const state: ExportedState = { attrs, refs, noFlow, objectClass: obj.objectClass, dn: obj.dn, sourceAnchor: sourceAnchorOf(obj) };
      if (noFlow) {
        // JoinNoFlow: no add, no delete, no plain attribute update -- but a reference change exports everything.
        if (prev && prev.refs !== refs) pending.push({ kind: 'upsert', obj, state, add: false });
        else if (prev) prev.noFlow = true;
        continue;
      }
      if (!prev) pending.push({ kind: 'upsert', obj, state, add: true });
      else if (prev.attrs !== attrs || prev.refs !== refs) pending.push({ kind: 'upsert', obj, state, add: false });
      else prev.noFlow = false;
    }
    const gone = new Map<string, ExportedState>();
    for (const [guid, prev] of this.#exported) {
      if (seen.has(guid)) continue;
      // Out of scope or deleted in AD: a delete export, unless JoinNoFlow held it -- then Connect only drops the
      // object's membership references from the groups it still exports (what seed 001 warns about).
      gone.set(guid, prev);
      pending.push(prev.noFlow ? { kind: 'refdelete', guid } : { kind: 'delete', guid });
    }
    this.#mv = mv;
    // The Entra connector's pending exports after the sync steps; the export step clears what it exports.
    const lastDn = (guid: string) => this.#exported.get(guid)?.dn || this.#pending.get(guid)?.dn || this.ad.get(guid)?.dn || '';
    this.#pending = new Map();
    // The AD connector's side: deletes of the groups Connect wrote back, until exports run (staging holds them).
    this.#adPending = new Map(
      writebackDeletes.map((g) => [
        g.objectGUID,
        {
          objectGUID: g.objectGUID,
          dn: g.dn,
          objectClass: g.objectClass,
          operation: 'delete' as const,
          writtenBackGroup: true,
          adminDescription: g.adminDescription,
        },
      ]),
    );
    for (const p of pending) {
      if (p.kind === 'upsert')
        this.#pending.set(p.obj.objectGUID, {
          objectGUID: p.obj.objectGUID,
          dn: p.obj.dn,
          objectClass: p.obj.objectClass,
          operation: p.add ? 'add' : 'update',
          sourceAnchor: p.state.sourceAnchor,
        });
      else if (p.kind === 'delete')
        this.#pending.set(p.guid, {
          objectGUID: p.guid,
          dn: lastDn(p.guid),
          objectClass: gone.get(p.guid)!.objectClass,
          operation: 'delete',
          sourceAnchor: gone.get(p.guid)!.sourceAnchor,
        });
    }

    const counts = { adds: 0, updates: 0, deletes: 0, referenceDeletes: 0 };
    const deletes = pending.filter((p) => p.kind === 'delete').length;
    const t = this.#threshold;
    // how-to-connect-sync-feature-prevent-accidental-deletes.md: the export stops with this result and nothing is exported.
    const overThreshold = t.DeletionPrevention === 1 && deletes > t.ThresholdCount;
    let exportResult: RunProfileResult['Result'] = 'success';
    if (!staging) {
      if (overThreshold) {
        exportResult = 'stopped-deletion-threshold-exceeded';
      } else {
        const refDeletes: string[] = [];
        for (const p of pending) {
          if (p.kind === 'upsert') {
            this.target.upsertFromOnPrem(p.obj, 'connect', domain);
            this.#exported.set(p.obj.objectGUID, p.state);
            counts[p.add ? 'adds' : 'updates']++;
          } else if (p.kind === 'delete') {
            this.target.deleteFromOnPrem(p.guid, 'connect');
            this.#exported.delete(p.guid);
            counts.deletes++;
          } else {
            refDeletes.push(p.guid);
            this.#exported.delete(p.guid);
          }
        }
        if (refDeletes.length) {
          this.target.removeMembershipReferences(refDeletes, 'connect');
          counts.referenceDeletes = refDeletes.length;
        }
        this.#pending.clear();
        // Entra ID records the directory sync (the tenant's onPremisesLastSyncDateTime).
        this.target.syncCompleted?.('connect', now);
      }
      for (const g of writebackDeletes) this.ad.delete(g.objectGUID);
      this.#adPending.clear();
    }

    const stamp = runHistoryDate(now);
    const mk = (c: Connector, profile: string, result: RunProfileResult['Result'] = 'success', n = { adds: 0, updates: 0, deletes: 0 }): RunProfileResult => ({
      RunHistoryId: runId(++this.#runCounter),
      ConnectorId: c.Identifier,
      ConnectorName: c.Name,
      RunProfileName: profile,
      Result: result,
      StartDate: stamp,
      EndDate: stamp,
      IsRunComplete: true,
      Adds: n.adds,
      Updates: n.updates,
      Deletes: n.deletes,
    });
    const runs: RunProfileResult[] = [];
    for (const c of [this.adConnector, this.entraConnector]) runs.push(mk(c, policyType === 'Initial' ? 'Full Import' : 'Delta Import'));
    for (const c of [this.adConnector, this.entraConnector]) runs.push(mk(c, fullSync.has(c.Identifier) ? 'Full Synchronization' : 'Delta Synchronization'));
    if (!staging) {
      runs.push(
        mk(this.entraConnector, 'Export', exportResult, { adds: counts.adds, updates: counts.updates, deletes: counts.deletes + counts.referenceDeletes }),
      );
      runs.push(mk(this.adConnector, 'Export', 'success', { adds: 0, updates: 0, deletes: writebackDeletes.length }));
    }
    this.#runs.push(...runs);
    // The maintenance task purges run history older than PurgeRunHistoryInterval (7 days by default).
    const keepFrom = now.getTime() - RUN_HISTORY_MS;
    const firstKept = this.#runs.findIndex((r) => Date.parse(`${r.StartDate}Z`) >= keepFrom);
    if (firstKept > 0) this.#runs.splice(0, firstKept);
    this.#scheduler.NextSyncCyclePolicyType = 'Delta';
    this.#scheduler.NextSyncCycleStartTimeInUTC = new Date(now.getTime() + SYNC_INTERVAL_MS).toISOString();
    const report: SyncCycleReport = {
      Result: !staging && overThreshold ? 'stopped-deletion-threshold-exceeded' : 'Success',
      PolicyType: policyType,
      StartedAtUTC: started,
      EndedAtUTC: now.toISOString(),
      exportsSuppressed: staging,
      exported: counts,
      writebackDeletes: staging ? 0 : writebackDeletes.length,
      runs,
    };
    this.#lastCycle = report;
    return structuredClone(report);
  }
}

function isCloudMastered(o: AdObject): boolean {
  return o.objectClass === 'group' && (o.adminDescription ?? '').startsWith('Group_');
}

function adAttribute(o: AdObject, attr: string): string | undefined {
  switch (attr.toLowerCase()) {
    case 'dn':
    case 'distinguishedname':
      return o.dn;
    case 'mail':
      return o.mail;
    case 'admindescription':
      return o.adminDescription;
    case 'userprincipalname':
      return o.userPrincipalName;
    case 'displayname':
      return o.displayName;
    case 'samaccountname':
      return o.samAccountName;
    case 'objectclass':
      return o.objectClass;
    default:
      return undefined;
  }
}

/** Evaluates a rule's scope filter: groups ORed, conditions ANDed; a rule with no scope applies to every object. */
function scopeMatches(rule: SyncRule, read: (attribute: string) => string | undefined): boolean {
  if (rule.ScopeFilter.length === 0) return true;
  return rule.ScopeFilter.some((g) => g.ScopeConditionList.every((c) => conditionMatches(c, read(c.Attribute))));
}

/** String operators compare case-insensitively, like Connect's sync engine does for strings. */
function conditionMatches(c: ScopeCondition, value: string | undefined): boolean {
  const v = value?.toLowerCase();
  const want = c.ComparisonValue.toLowerCase();
  switch (c.ComparisonOperator) {
    case 'ISNULL':
      return v === undefined || v === '';
    case 'ISNOTNULL':
      return v !== undefined && v !== '';
    case 'EQUAL':
      return v === want;
    case 'NOTEQUAL':
      return v !== want;
    case 'CONTAINS':
      return v !== undefined && v.includes(want);
    case 'NOTCONTAINS':
      return v === undefined || !v.includes(want);
    case 'STARTSWITH':
      return v !== undefined && v.startsWith(want);
    case 'NOTSTARTSWITH':
      return v === undefined || !v.startsWith(want);
    case 'ENDSWITH':
      return v !== undefined && v.endsWith(want);
    case 'NOTENDSWITH':
      return v === undefined || !v.endsWith(want);
    default:
      // Operators the sandbox has no data for never match: a rule that uses them scopes nothing here.
      return false;
  }
}

function hashOf(v: unknown): string {
  return createHash('sha1').update(JSON.stringify(v)).digest('hex');
}

function runId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** A readable, deterministic XML-ish rendering of a configuration object (the hashes only need stability). */
function toXml(tag: string, value: unknown): string {
  const render = (k: string, v: unknown, indent: string): string => {
    if (Array.isArray(v)) return `${indent}<${k}>\n${v.map((x) => render('item', x, `${indent}  `)).join('')}${indent}</${k}>\n`;
    if (v && typeof v === 'object')
      return `${indent}<${k}>\n${Object.keys(v as object)
        .sort()
        .map((kk) => render(kk, (v as any)[kk], `${indent}  `))
        .join('')}${indent}</${k}>\n`;
    const text = String(v ?? '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;');
    return `${indent}<${k}>${text}</${k}>\n`;
  };
  return `<?xml version="1.0" encoding="utf-8"?>\n${render(tag, value, '')}`;
}

/** The out-of-box rule the wizard adds with Exchange hybrid writeback (precedence in the out-of-box range). */
function exchangeHybridRule(adConnectorId: string): SyncRule {
  return {
    Identifier: 'b0000000-0000-4000-8000-0000000000e1',
    Name: EXCHANGE_HYBRID_RULE_NAME,
    Description: '',
    Direction: 'Outbound',
    Precedence: 190,
    Connector: adConnectorId,
    LinkType: 'Join',
    SourceObjectType: 'person',
    TargetObjectType: 'user',
    Disabled: false,
    IsStandardRule: true,
    ImmutableTag: 'Microsoft.OuttoADUserExchangeHybrid.010',
    ScopeFilter: [],
    AttributeFlowMappings: [],
  };
}

/** A representative subset of the out-of-box rules (precedence ≥ 100, ImmutableTag set), as a fresh install has. */
function standardRules(adConnectorId: string): SyncRule[] {
  const std = (
    n: number,
    name: string,
    direction: SyncRule['Direction'],
    connector: string,
    src: string,
    tgt: string,
    link: SyncRule['LinkType'],
    scope: ScopeCondition[][] = [],
  ): SyncRule => ({
    Identifier: `b0000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    Name: name,
    Description: '',
    Direction: direction,
    Precedence: 100 + n,
    Connector: connector,
    LinkType: link,
    SourceObjectType: src,
    TargetObjectType: tgt,
    Disabled: false,
    IsStandardRule: true,
    ImmutableTag: `Microsoft.${name.replace(/[^A-Za-z]/g, '')}.008`,
    ScopeFilter: scope.map((ScopeConditionList) => ({ ScopeConditionList })),
    AttributeFlowMappings: [],
  });
  const notWrittenBack = (prefix: string): ScopeCondition[] => [
    { Attribute: 'adminDescription', ComparisonValue: prefix, ComparisonOperator: 'NOTSTARTSWITH' },
  ];
  return [
    std(0, 'In from AD - User Join', 'Inbound', adConnectorId, 'user', 'person', 'Provision', [notWrittenBack('User_')]),
    std(1, 'In from AD - InetOrgPerson Join', 'Inbound', adConnectorId, 'inetOrgPerson', 'person', 'Provision'),
    std(2, 'In from AD - User AccountEnabled', 'Inbound', adConnectorId, 'user', 'person', 'Join'),
    std(3, 'In from AD - User Common', 'Inbound', adConnectorId, 'user', 'person', 'Join'),
    std(4, 'In from AD - Contact Join', 'Inbound', adConnectorId, 'contact', 'person', 'Provision'),
    std(5, 'In from AD - Group Join', 'Inbound', adConnectorId, 'group', 'group', 'Provision', [notWrittenBack('Group_')]),
    std(6, 'In from AD - Group Common', 'Inbound', adConnectorId, 'group', 'group', 'Join'),
    std(7, 'In from AAD - Group Join', 'Inbound', ENTRA_CONNECTOR_ID, 'group', 'group', 'Provision'),
    std(8, 'Out to AAD - User Join', 'Outbound', ENTRA_CONNECTOR_ID, 'person', 'user', 'Provision'),
    std(9, 'Out to AAD - Contact Join', 'Outbound', ENTRA_CONNECTOR_ID, 'person', 'contact', 'Provision'),
    std(10, 'Out to AAD - Group Join', 'Outbound', ENTRA_CONNECTOR_ID, 'group', 'group', 'Provision'),
    std(11, 'Out to AD - Group SOAInAAD', 'Outbound', adConnectorId, 'group', 'group', 'Provision'),
  ];
}
