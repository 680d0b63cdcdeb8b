import { createHash } from 'node:crypto';
import type { AdObject, AdObjectClass, EntraSyncTarget } from '../contracts.js';
import { makeContainerMatcher, normalizeDn } from '../../dn.js';
import type { ActiveDirectory } from './active-directory.js';

/** The Entra connector's identifier is the same on every Connect Sync server (how-to-upgrade-previous-version.md). */
export const ENTRA_CONNECTOR_ID = 'b891884f-051e-4a83-95af-2544101c9083';
export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

export type PolicyType = 'Delta' | 'Initial';
export type ScopeOperator =
  | 'EQUAL' | 'NOTEQUAL' | 'LESSTHAN' | 'LESSTHAN_OR_EQUAL' | 'CONTAINS' | 'NOTCONTAINS' | 'STARTSWITH'
  | 'NOTSTARTSWITH' | 'ENDSWITH' | 'NOTENDSWITH' | 'GREATERTHAN' | 'GREATERTHAN_OR_EQUAL' | 'ISNULL'
  | 'ISNOTNULL' | 'ISIN' | 'ISNOTIN' | 'ISBITSET' | 'ISNOTBITSET' | 'ISMEMBEROF' | 'ISNOTMEMBEROF';

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

export interface Connector {
  Name: string;
  Identifier: string;
  ConnectorTypeName: 'AD' | 'Extensible2';
  SubType: string;
  /** OU filtering on the AD connector (partition containers); empty for the Entra connector. */
  IncludedContainers: string[];
  ExcludedContainers: string[];
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
  /** Sandbox bookkeeping: when SyncCycleEnabled last went false (null while enabled); the "left disabled" alert reads it. */
  SyncCycleDisabledAtUTC: string | null;
}

export interface RunProfileResult {
  RunHistoryId: string;
  ConnectorId: string;
  ConnectorName: string;
  RunProfileName: string;
  Result: 'success' | 'completed-export-errors' | 'stopped-deletion-threshold-exceeded' | 'stopped-server-down';
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
}

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
}

const SYNC_INTERVAL_MS = 30 * 60_000;

/** Connect's metaverse object type for each AD class: what the outbound rule's SourceObjectType names. */
const MV_TYPE: Record<AdObjectClass, string> = { user: 'person', group: 'group', contact: 'person' };

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
  #features: CompanyFeatures;
  #threshold: ExportDeletionThreshold = { DeletionPrevention: 1, ThresholdPercentage: 0, ThresholdCount: 500 };
  #runs: RunProfileResult[] = [];
  #exported = new Map<string, ExportedState>(); // objectGUID → what Connect last exported
  #exports = new Map<string, ConfigExport>();
  #runCounter = 0;
  #idleWaiters: Array<() => void> = [];
  #lastCycle: SyncCycleReport | null = null;

  constructor(opts: {
    ad: ActiveDirectory;
    target: EntraSyncTarget;
    adConnectorId: string;
    tenantDomain: string;
    includedContainers: string[];
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
      IncludedContainers: [...opts.includedContainers],
      ExcludedContainers: [],
    };
    this.entraConnector = {
      Name: `${opts.tenantDomain} - AAD`,
      Identifier: ENTRA_CONNECTOR_ID,
      ConnectorTypeName: 'Extensible2',
      SubType: 'Windows Azure Active Directory (Microsoft)',
      IncludedContainers: [],
      ExcludedContainers: [],
    };
    this.#features = {
      PasswordHashSync: true,
      ForcePasswordChangeOnLogOn: false,
      UserWriteback: false,
      DeviceWriteback: false,
      UnifiedGroupWriteback: true,
      GroupWritebackV2: true,
      ...opts.features,
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
      SyncCycleDisabledAtUTC: null,
    };
    this.#rules = standardRules(this.adConnector.Identifier);
  }

  // ---------------------------------------------------------------- scheduler

  getScheduler(): SchedulerState {
    return { ...this.#scheduler };
  }

  /** Set-ADSyncScheduler -SyncCycleEnabled; the scheduler itself does not refuse while a cycle runs (the action does). */
  setSyncCycleEnabled(enabled: boolean, now: Date): SchedulerState {
    if (this.#scheduler.SyncCycleEnabled !== enabled) {
      this.#scheduler.SyncCycleEnabled = enabled;
      this.#scheduler.SyncCycleDisabledAtUTC = enabled ? null : now.toISOString();
    }
    return this.getScheduler();
  }

  /** Staging mode is a wizard setting (unsupported from PowerShell); the sandbox exposes it for the human checklist step. */
  setStagingMode(enabled: boolean): void {
    this.#scheduler.StagingModeEnabled = enabled;
  }

  setNextSyncCyclePolicyType(policy: PolicyType): void {
    this.#scheduler.NextSyncCyclePolicyType = policy;
  }

  /** The built-in scheduler: runs a cycle when one is due and the scheduler is enabled. Returns the report if it ran. */
  tick(now: Date): SyncCycleReport | null {
    const s = this.#scheduler;
    if (!s.SyncCycleEnabled || s.SchedulerSuspended || s.SyncCycleInProgress) return null;
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

  /**
   * Marks a cycle as started without finishing it, so tests and the sandbox can show "a cycle is running"
   * (the guard that set-scheduler must respect). Finish it with completeSyncCycle.
   */
  beginSyncCycle(): void {
    if (this.busy) throw new Error('Sync is already running. Cannot start a new run till this one completes.');
    this.#scheduler.SyncCycleInProgress = true;
  }

  completeSyncCycle(policyType: PolicyType, now: Date): SyncCycleReport {
    try {
      return this.#cycle(policyType, now);
    } finally {
      this.#scheduler.SyncCycleInProgress = false;
      for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  /** Start-ADSyncSyncCycle -PolicyType …, run to the end. */
  runSyncCycle(policyType: PolicyType, now: Date): SyncCycleReport {
    this.beginSyncCycle();
    return this.completeSyncCycle(policyType, now);
  }

  get lastCycle(): SyncCycleReport | null {
    return this.#lastCycle && structuredClone(this.#lastCycle);
  }

  /** Get-ADSyncConnectorRunStatus: empty when idle, else the busy connector(s). */
  connectorRunStatus(): Array<{ RunState: 'Busy'; ConnectorName: string }> {
    return this.busy ? [{ RunState: 'Busy', ConnectorName: this.adConnector.Name }] : [];
  }

  runProfileResults(opts: { connectorId?: string; limit?: number } = {}): RunProfileResult[] {
    const rows = this.#runs.filter((r) => !opts.connectorId || r.ConnectorId === opts.connectorId);
    return rows.slice(-(opts.limit ?? 50)).reverse().map((r) => ({ ...r }));
  }

  // ---------------------------------------------------------------- connectors and scope

  connectors(): Connector[] {
    return [structuredClone(this.adConnector), structuredClone(this.entraConnector)];
  }

  /** The wizard's "Domain and OU filtering" page. Takes effect at the next cycle. */
  setIncludedContainers(containers: string[]): void {
    for (const c of containers) normalizeDn(c);
    this.adConnector.IncludedContainers = [...containers];
  }

  excludeContainer(dn: string): void {
    const key = normalizeDn(dn);
    this.adConnector.IncludedContainers = this.adConnector.IncludedContainers.filter((c) => normalizeDn(c) !== key);
  }

  includeContainer(dn: string): void {
    const key = normalizeDn(dn);
    if (!this.adConnector.IncludedContainers.some((c) => normalizeDn(c) === key)) this.adConnector.IncludedContainers.push(dn);
  }

  // ---------------------------------------------------------------- rules

  rules(): SyncRule[] {
    return this.#rules.map((r) => structuredClone(r)).sort((a, b) => a.Precedence - b.Precedence);
  }

  getRule(identifier: string): SyncRule | undefined {
    const r = this.#rules.find((x) => x.Identifier === identifier.toLowerCase());
    return r && structuredClone(r);
  }

  /** Add-ADSyncRule, with the checks Connect and Microsoft's guidance impose on custom rules. */
  addRule(rule: SyncRule): void {
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

  removeRule(identifier: string): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.Identifier !== identifier.toLowerCase() || r.IsStandardRule);
    return this.#rules.length !== before;
  }

  // ---------------------------------------------------------------- features, threshold, configuration

  companyFeatures(): CompanyFeatures {
    return { ...this.#features };
  }

  /** Set-ADSyncAADCompanyFeature -GroupWritebackV2 $false. Irreversible, as Microsoft warns: there is no way back on. */
  disableGroupWritebackV2(): { wasEnabled: boolean } {
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
    const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    let folder = `Exported-ServerConfiguration-${label}-${stamp}`;
    for (let n = 2; this.#exports.has(folder); n++) folder = `Exported-ServerConfiguration-${label}-${stamp}-${n}`;
    const contents: Array<[string, string]> = [
      ...this.connectors().map((c): [string, string] => [`Connectors/Connector_{${c.Identifier}}.xml`, toXml('connector', c)]),
      ['GlobalSettings/MV.xml', toXml('mv', { objectTypes: ['person', 'group'], features: this.#features })],
      ['GlobalSettings/Scheduler.xml', toXml('scheduler', { interval: this.#scheduler.CurrentlyEffectiveSyncCycleInterval })],
      ...this.rules().map((r): [string, string] => [`SynchronizationRules/SynchronizationRule_{${r.Identifier}}.xml`, toXml('synchronizationRule', r)]),
    ];
    const files = contents.map(([path, body]) => ({
      path,
      sha256: createHash('sha256').update(body).digest('hex'),
      bytes: Buffer.byteLength(body),
    }));
    const out: ConfigExport = { folder, takenAtUTC: now.toISOString(), files };
    this.#exports.set(folder, out);
    return structuredClone(out);
  }

  configExports(): ConfigExport[] {
    return [...this.#exports.values()].map((e) => structuredClone(e));
  }

  // ---------------------------------------------------------------- what Connect manages

  /** objectGUIDs Connect has exported to Entra and still tracks. */
  exportedObjectGuids(): string[] {
    return [...this.#exported.keys()];
  }

  /** True when the cloudNoFlow/JoinNoFlow pair covers this AD object under the current rules. */
  isNoFlow(obj: AdObject): boolean {
    return this.#noFlow(obj, this.#enabledRules());
  }

  summary(): {
    scheduler: SchedulerState;
    adConnector: Connector;
    customRules: number;
    standardRules: number;
    exportedByConnect: number;
    groupWritebackV2: boolean;
    stagingMode: boolean;
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
      lastCycle: this.lastCycle,
    };
  }

  // ---------------------------------------------------------------- the cycle

  #enabledRules(): SyncRule[] {
    return this.#rules.filter((r) => !r.Disabled);
  }

  #noFlow(obj: AdObject, rules: SyncRule[]): boolean {
    const adId = this.adConnector.Identifier;
    const inbound = rules.some(
      (r) =>
        r.Direction === 'Inbound' &&
        r.Connector === adId &&
        r.SourceObjectType.toLowerCase() === obj.objectClass &&
        r.AttributeFlowMappings.some(
          (m) => m.FlowType === 'Constant' && m.Destination.toLowerCase() === 'cloudnoflow' && m.Source.some((s) => s.toLowerCase() === 'true'),
        ) &&
        scopeMatches(r, (attr) => adAttribute(obj, attr)),
    );
    if (!inbound) return false;
    return rules.some(
      (r) =>
        r.Direction === 'Outbound' &&
        r.Connector === ENTRA_CONNECTOR_ID &&
        r.LinkType === 'JoinNoFlow' &&
        r.SourceObjectType.toLowerCase() === MV_TYPE[obj.objectClass] &&
        r.TargetObjectType.toLowerCase() === obj.objectClass &&
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
    const rules = this.#enabledRules();
    const staging = this.#scheduler.StagingModeEnabled;
    const inScope = makeContainerMatcher(this.adConnector.IncludedContainers);
    const excluded = makeContainerMatcher(this.adConnector.ExcludedContainers);
    const domain = this.ad.domainFqdn;

    type Pending =
      | { kind: 'upsert'; obj: AdObject; state: ExportedState; add: boolean }
      | { kind: 'delete'; guid: string }
      | { kind: 'refdelete'; guid: string };
    const pending: Pending[] = [];
    const seen = new Set<string>();
    const writebackDeletes: AdObject[] = [];

    for (const obj of this.ad.all()) {
      if (isCloudMastered(obj)) {
        // Written back from Entra (GWB v2): Connect's standard inbound rules skip adminDescription Group_*.
        // With GWB v2 turned off and no seed-004 pair, Connect falls back to v1 and removes the security groups it wrote.
        if (!this.#features.GroupWritebackV2 && !obj.mail && !this.#writebackNoFlow(obj, rules)) writebackDeletes.push(obj);
        continue;
      }
      const scoped = inScope(obj.dn) >= 0 && excluded(obj.dn) < 0;
      if (!scoped) continue;
      seen.add(obj.objectGUID);
      const noFlow = this.#noFlow(obj, rules);
      const attrs = hashOf({ ...obj, members: undefined });
      const refs = hashOf(obj.members ?? []);
      const prev = this.#exported.get(obj.objectGUID);
      const state: ExportedState = { attrs, refs, noFlow };
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
    for (const [guid, prev] of this.#exported) {
      if (seen.has(guid)) continue;
      // Out of scope or deleted in AD: a delete export, unless JoinNoFlow held it -- then Connect only drops the
      // object's membership references from the groups it still exports (what seed 001 warns about).
      pending.push(prev.noFlow ? { kind: 'refdelete', guid } : { kind: 'delete', guid });
    }

    const counts = { adds: 0, updates: 0, deletes: 0, referenceDeletes: 0 };
    const deletes = pending.filter((p) => p.kind === 'delete').length;
    const t = this.#threshold;
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
      }
      for (const g of writebackDeletes) this.ad.delete(g.objectGUID);
    }

    const full = policyType === 'Initial';
    const mk = (c: Connector, profile: string, result: RunProfileResult['Result'] = 'success', n = { adds: 0, updates: 0, deletes: 0 }): RunProfileResult => ({
      RunHistoryId: runId(++this.#runCounter),
      ConnectorId: c.Identifier,
      ConnectorName: c.Name,
      RunProfileName: profile,
      Result: result,
      StartDate: started,
      EndDate: started,
      IsRunComplete: true,
      Adds: n.adds,
      Updates: n.updates,
      Deletes: n.deletes,
    });
    const runs: RunProfileResult[] = [];
    for (const c of [this.adConnector, this.entraConnector]) runs.push(mk(c, full ? 'Full Import' : 'Delta Import'));
    for (const c of [this.adConnector, this.entraConnector]) runs.push(mk(c, full ? 'Full Synchronization' : 'Delta Synchronization'));
    if (!staging) {
      runs.push(mk(this.entraConnector, 'Export', exportResult, { adds: counts.adds, updates: counts.updates, deletes: counts.deletes + counts.referenceDeletes }));
      runs.push(mk(this.adConnector, 'Export', 'success', { adds: 0, updates: 0, deletes: writebackDeletes.length }));
    }
    this.#runs.push(...runs);
    if (this.#runs.length > 500) this.#runs.splice(0, this.#runs.length - 500);
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
    const text = String(v ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return `${indent}<${k}>${text}</${k}>\n`;
  };
  return `<?xml version="1.0" encoding="utf-8"?>\n${render(tag, value, '')}`;
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
  const notWrittenBack = (prefix: string): ScopeCondition[] => [{ Attribute: 'adminDescription', ComparisonValue: prefix, ComparisonOperator: 'NOTSTARTSWITH' }];
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
