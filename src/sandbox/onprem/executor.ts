import type { Clock } from '../../clock.js';
import { AdError } from './active-directory.js';
import {
  AdsyncServiceStoppedError,
  ENTRA_CONNECTOR_ID,
  isSyncServiceAccount,
  type ConnectSyncServer,
  type RunProfileResult,
  type SchedulerState,
  type SyncCycleReport,
  type SyncRule,
} from './connect-sync.js';
import type { AdObject } from '../contracts.js';
import { ActionError, NOFLOW_OBJECT_TYPES, catalog, type ActionName, type ActionParams, type ActionResult } from '../../actions/index.js';
import { gwbVerdict, syncToolOf } from '../../agent/executors/ad-verdicts.js';
import {
  allocatePrecedences,
  legacyNoFlowNameMarker,
  noFlowRuleIds,
  planGroupWritebackRules,
  planNoFlowRules,
  type PlannedRule,
} from '../../agent/executors/rules.js';
import type { ActionContext, Executor } from '../../agent/executors/types.js';
import { makeContainerMatcher, parentDn } from '../../dn.js';

/**
 * What PowerShell prints when a mandatory parameter is missing under -NonInteractive
 * (ParameterBinderStrings.MissingMandatoryParameter); Get-ADSyncExportDeletionThreshold's -AADUserName is
 * "Required: True" (reference-connect-adsync.md).
 */
export const EXPORT_DELETION_THRESHOLD_ERROR = 'Cannot process command because of one or more missing mandatory parameters: AADUserName.';

/** How long start-sync-cycle waits for a signalled cycle to begin before it gives up (real time, not the clock). */
export const CYCLE_START_TIMEOUT_MS = 60_000;

/** Actions that talk to the ADSync service (ADSync cmdlets): they fail while it is stopped. */
const NEEDS_ADSYNC_SERVICE = new Set<string>(
  Object.values(catalog)
    .filter((d) => !d.executors.includes('ldap') && d.name !== 'get-adsync-service' && d.name !== 'set-adsync-service')
    .map((d) => d.name),
);

type Handlers = { [A in ActionName]: (p: ActionParams<A>, ctx: ActionContext) => Promise<ActionResult<A>> | ActionResult<A> };

/**
 * Carries out actions against the simulated Connect Sync server and its Active Directory (used by `npm start`). It
 * implements the agent's Executor port but lives with the sandbox, so the production agent never loads the simulator;
 * it is plugged in where the sandbox is wired: the composition root (src/app.ts) and the sandbox's runner entry point
 * (src/sandbox/runner-cli.ts, which `cutover-runner … --executor sandbox` routes to).
 */
export class SandboxExecutor implements Executor {
  readonly kind = 'sandbox' as const;
  readonly #server: ConnectSyncServer;
  readonly #clock: Clock;
  readonly #cycleStartTimeoutMs: number;

  constructor(opts: { server: ConnectSyncServer; clock: Clock; cycleStartTimeoutMs?: number }) {
    this.#server = opts.server;
    this.#clock = opts.clock;
    this.#cycleStartTimeoutMs = opts.cycleStartTimeoutMs ?? CYCLE_START_TIMEOUT_MS;
  }

  async run(action: ActionName, params: any, ctx: ActionContext): Promise<unknown> {
    const handler = this.#handlers[action] as (p: unknown, c: ActionContext) => unknown;
    try {
      if (NEEDS_ADSYNC_SERVICE.has(action)) this.#server.requireService();
      return await handler(params, ctx);
    } catch (err) {
      if (err instanceof AdError) throw new ActionError(err.code === 'not-found' ? 'not-found' : 'failed', err.message);
      if (err instanceof AdsyncServiceStoppedError) throw new ActionError('failed', err.message);
      throw err;
    }
  }

  readonly #handlers: Handlers = {
    'get-scheduler': () => schedulerView(this.#server.getScheduler()),
    'get-connector-run-status': () => {
      const running = this.#server.connectorRunStatus();
      return { busy: this.#server.busy || running.length > 0, running };
    },
    'get-run-profile-results': (p) => ({ results: this.#server.runProfileResults({ limit: p.limit }).map(runView) }),
    'get-sync-rules': (p) => ({
      rules: this.#server
        .rules()
        .filter((r) => !p.customOnly || !r.IsStandardRule)
        .map(ruleView),
    }),
    'get-company-features': () => {
      const f = this.#server.companyFeatures();
      return {
        GroupWritebackV2: f.GroupWritebackV2,
        PasswordHashSync: f.PasswordHashSync,
        UnifiedGroupWriteback: f.UnifiedGroupWriteback,
        UserWriteback: f.UserWriteback,
        DeviceWriteback: f.DeviceWriteback,
        PasswordWriteback: f.PasswordWriteback,
        ExchangeHybrid: f.ExchangeHybrid,
      };
    },
    // A runner cannot answer -AADUserName (mandatory) nor the interactive Entra sign-in behind it.
    'get-export-deletion-threshold': () => {
      throw new ActionError('failed', EXPORT_DELETION_THRESHOLD_ERROR);
    },
    'get-connector-scope': () => {
      const c = this.#server.adConnector;
      const selected = c.Partitions.filter((p) => p.selected);
      return {
        connectorName: c.Name,
        connectorId: c.Identifier,
        partitions: c.Partitions.map((p) => ({
          name: p.name,
          selected: p.selected,
          includedContainers: [...p.includedContainers],
          excludedContainers: [...p.excludedContainers],
        })),
        groupFilteringGroupDn: c.GroupFilteringGroupDn,
        includedContainers: selected.flatMap((p) => p.includedContainers),
        excludedContainers: selected.flatMap((p) => p.excludedContainers),
      };
    },
    'get-adsync-service': () => this.#server.adsyncService(),
    'set-adsync-service': (p, ctx) => {
      if (!p.running && this.#server.busy) throw new ActionError('refused', 'a sync cycle is in progress; stop the service after it ends');
      const out = this.#server.setAdsyncService(p.running);
      ctx.note(p.running ? 'Set-Service ADSync -StartupType Automatic; Start-Service ADSync' : 'Stop-Service ADSync; Set-Service ADSync -StartupType Disabled');
      return out;
    },
    'set-scheduler': async (p, ctx) => {
      let waited = false;
      if (this.#server.busy) {
        if (!p.waitForIdle) throw new ActionError('refused', 'a sync cycle is in progress; retry later or ask to wait for it to end (waitForIdle)');
        ctx.note('a sync cycle is in progress; waiting for it to end');
        await abortable(this.#server.whenIdle(), ctx.signal);
        waited = true;
      }
      const previous = this.#server.getScheduler().SyncCycleEnabled;
      const after = this.#server.setSyncCycleEnabled(p.enabled, this.#clock.now());
      ctx.note(`Set-ADSyncScheduler -SyncCycleEnabled $${p.enabled} (was $${previous})`);
      return { previousSyncCycleEnabled: previous, waitedForIdle: waited, scheduler: schedulerView(after) };
    },
    'start-sync-cycle': async (p, ctx) => {
      const server = this.#server;
      if (server.busy) {
        ctx.note('a sync cycle is already running; waiting for it to end before starting');
        await abortable(server.whenIdle(), ctx.signal);
      }
      // Start-ADSyncSyncCycle only signals the scheduler: wait for the cycle to start, then for it to end.
      const started = server.whenCycleStarts();
      let signalled: { Result: string };
      try {
        signalled = server.startSyncCycle(p.policyType, () => this.#clock.now());
      } catch (err) {
        throw new ActionError('failed', `Start-ADSyncSyncCycle -PolicyType ${p.policyType}: ${(err as Error).message}`);
      }
      ctx.note(`Start-ADSyncSyncCycle -PolicyType ${p.policyType}: ${signalled.Result}`);
      await abortable(
        withTimeout(started, this.#cycleStartTimeoutMs, `the ${p.policyType} sync cycle did not start within ${this.#cycleStartTimeoutMs / 1000} s`),
        ctx.signal,
      );
      await abortable(server.whenIdle(), ctx.signal);
      const report = server.lastCycle as SyncCycleReport;
      const runs = report.runs.map(runView);
      const failed = runs.filter((r) => r.Result !== 'success');
      if (report.Result !== 'Success' || failed.length)
        throw new ActionError(
          'failed',
          `the ${p.policyType} sync cycle ended ${report.Result === 'Success' ? 'with failed runs' : report.Result}: ` +
            runs.map((r) => `${r.RunProfileName} on ${r.ConnectorName}: ${r.Result}`).join('; '),
        );
      ctx.note(
        `the ${p.policyType} cycle ended: ` + (report.exportsSuppressed ? 'staging mode: exports suppressed' : `exported ${JSON.stringify(report.exported)}`),
      );
      return { result: report.Result, policyType: p.policyType, startedAt: report.StartedAtUTC, endedAt: report.EndedAtUTC, runs };
    },
    'create-noflow-rules': (p, ctx) => {
      // Each OU must exist, named exactly as AD stores it, or ENDSWITH silently matches nothing: refuse otherwise.
      const ous = p.ous.map((dn) => {
        const ou = this.#server.ad.ouDn(dn);
        if (!ou)
          throw new ActionError('not-found', `OU ${dn} does not exist in ${this.#server.ad.domainFqdn}: refusing to create rules that would match nothing`);
        return ou;
      });
      const plan = planNoFlowRules({ migrationId: p.migrationId, ous, objectTypes: p.objectTypes });
      const out = this.#createRules(plan, undefined, ctx);
      this.#server.setConnectorOverride(this.#server.adConnector.Identifier, { fullSyncRequired: true });
      ctx.note(`Set-ADSyncSchedulerConnectorOverride -ConnectorIdentifier ${this.#server.adConnector.Identifier} -FullSyncRequired $true`);
      return { ous, ...out, fullSyncRequired: true as const };
    },
    'remove-noflow-rules': (p, ctx) => {
      const removed: string[] = [];
      const notPresent: string[] = [];
      const marker = legacyNoFlowNameMarker(p.migrationId);
      const legacy = this.#server
        .rules()
        .filter((r) => !r.IsStandardRule && isLegacyName(r.Name, marker))
        .map((r) => r.Identifier);
      for (const id of [...noFlowRuleIds(p.migrationId), ...legacy]) {
        if (this.#server.removeRule(id)) {
          removed.push(id);
          ctx.note(`Remove-ADSyncRule -Identifier ${id}`);
        } else notPresent.push(id);
      }
      this.#server.setConnectorOverride(this.#server.adConnector.Identifier, { fullSyncRequired: true });
      ctx.note(`Set-ADSyncSchedulerConnectorOverride -ConnectorIdentifier ${this.#server.adConnector.Identifier} -FullSyncRequired $true`);
      return { removed, notPresent, fullSyncRequired: true as const };
    },
    'get-noflow-status': (p) => {
      const ou = this.#mustOu(p.ou);
      const server = this.#server;
      const objects = server.ad
        .objectsUnder([ou], [...NOFLOW_OBJECT_TYPES])
        // What Get-ADSyncCSObject finds in the AD connector space: in Connect's scope (written-back groups are filtered).
        .filter((o) => !isWrittenBack(o) && server.inScope(o));
      const byType = Object.fromEntries(NOFLOW_OBJECT_TYPES.map((t) => [t, { objects: 0, withCloudNoFlow: 0 }])) as Record<
        (typeof NOFLOW_OBJECT_TYPES)[number],
        { objects: number; withCloudNoFlow: number }
      >;
      const missing: Array<{ dn: string; objectClass: string }> = [];
      let withCloudNoFlow = 0;
      for (const o of objects) {
        const has = server.metaverseObject(o.objectGUID)?.cloudNoFlow === true;
        byType[o.objectClass].objects++;
        if (has) {
          byType[o.objectClass].withCloudNoFlow++;
          withCloudNoFlow++;
        } else missing.push({ dn: o.dn, objectClass: o.objectClass });
      }
      const guids = new Set(objects.map((o) => o.objectGUID));
      const pending = server
        .pendingExports()
        .filter((x) => guids.has(x.objectGUID) || (x.operation === 'delete' && x.dn !== '' && endsWithDn(x.dn, ou)))
        .map((x) => ({ dn: x.dn, operation: x.operation }));
      return {
        ou,
        objects: objects.length,
        withCloudNoFlow,
        missingCloudNoFlow: missing.slice(0, 50),
        pendingExports: pending.slice(0, 50),
        pendingExportCount: pending.length,
        byType,
      };
    },
    'create-group-writeback-noflow-rules': (p, ctx) => {
      const { rules, created, alreadyPresent } = this.#createRules(planGroupWritebackRules(p.migrationId), p.precedence, ctx, false);
      return { rules: rules.map(({ updated: _u, ...r }) => r), created, alreadyPresent };
    },
    'disable-group-writeback-v2': (_p, ctx) => {
      const { wasEnabled } = this.#server.disableGroupWritebackV2();
      ctx.note(`Set-ADSyncAADCompanyFeature -GroupWritebackV2 $false (was ${wasEnabled ? 'enabled' : 'already disabled'})`);
      return { wasEnabled, GroupWritebackV2: false as const };
    },
    'export-server-config': (p, ctx) => {
      const e = this.#server.exportServerConfiguration(p.label, this.#clock.now());
      ctx.note(`Get-ADSyncServerConfiguration -Path ${e.folder}: ${e.files.length} files`);
      return { folder: e.folder, takenAt: e.takenAtUTC, files: e.files };
    },
    'ad-count': (p) => {
      const ou = this.#mustOu(p.ou);
      const { users, groups, contacts } = this.#server.ad.count(ou);
      return { ou, users, groups, contacts };
    },
    'ad-count-by-ou': (p) => {
      const ad = this.#server.ad;
      const excluded = makeContainerMatcher(p.excludeContainers);
      const rows = new Map<string, { dn: string; users: number; inetOrgPersons: number; groups: number; contacts: number }>();
      let total = 0;
      for (const o of ad.objectsUnder([p.base], ['user', 'inetOrgPerson', 'group', 'contact'])) {
        if (excluded(o.dn) >= 0 || isWrittenBack(o) || isSyncServiceAccount(o)) continue;
        const parent = parentDn(o.dn);
        const row = rows.get(parent) ?? { dn: parent, users: 0, inetOrgPersons: 0, groups: 0, contacts: 0 };
        if (o.objectClass === 'user') row.users++;
        else if (o.objectClass === 'inetOrgPerson') row.inetOrgPersons++;
        else if (o.objectClass === 'group') row.groups++;
        else row.contacts++;
        rows.set(parent, row);
        total++;
      }
      return { base: p.base, containers: [...rows.values()].sort((a, b) => a.dn.localeCompare(b.dn)), total };
    },
    'ad-domain-summary': () => {
      const all = this.#server.ad.all();
      const groups = all.filter((o) => o.objectClass === 'group');
      const largestGroups = groups
        .map((g) => ({ dn: g.dn, members: g.members?.length ?? 0 }))
        .sort((a, b) => b.members - a.members)
        .slice(0, 5);
      const users = all.filter((o) => o.objectClass === 'user' || o.objectClass === 'inetOrgPerson').length;
      const contacts = all.filter((o) => o.objectClass === 'contact').length;
      return {
        domain: this.#server.ad.domainFqdn,
        users,
        groups: groups.length,
        contacts,
        total: users + groups.length + contacts,
        largestGroups,
        groupsWithoutConsistencyGuid: groups.filter((g) => !g.consistencyGuid).length,
      };
    },
    'ad-export-identities': (p) => {
      const ou = this.#mustOu(p.ou);
      // (objectClass=user) matches inetOrgPerson too (a subclass of user): report it under the class asked for, as LDAP does.
      const classes = p.classes.flatMap((c): AdObject['objectClass'][] => (c === 'user' ? ['user', 'inetOrgPerson'] : [c]));
      const objects = this.#server.ad.objectsUnder([ou], classes).map((o) => ({
        dn: o.dn,
        objectClass: o.objectClass === 'inetOrgPerson' ? ('user' as const) : o.objectClass,
        objectGUID: o.objectGUID,
        consistencyGuid: o.consistencyGuid ?? null,
        userPrincipalName: o.userPrincipalName ?? null,
        mail: o.mail ?? null,
        proxyAddresses: [...o.proxyAddresses],
        displayName: o.displayName ?? null,
      }));
      return { ou, count: objects.length, objects };
    },
    'get-pending-exports': (p) => {
      const server = this.#server;
      const all = server.pendingExports(p.connector);
      const counts = { add: 0, update: 0, delete: 0 };
      for (const x of all) counts[x.operation]++;
      const objects = all
        .slice(0, p.limit)
        .map((x) => ({ dn: x.dn, objectType: x.objectClass, operation: x.operation, writtenBackGroup: x.writtenBackGroup === true }));
      return {
        connector: p.connector === 'ad' ? server.adConnector.Name : server.entraConnector.Name,
        connectorType: p.connector,
        counts,
        total: all.length,
        writtenBackGroupDeletes: all.filter((x) => x.operation === 'delete' && x.writtenBackGroup).length,
        objects,
        truncated: all.length > objects.length,
      };
    },
    'get-last-full-runs': () => {
      const server = this.#server;
      return {
        connectors: server.connectors().map((c) => {
          const runs = server.runProfileResults({ connectorId: c.Identifier, limit: 5000 });
          const latest = (profile: string) => runs.find((r) => r.RunProfileName === profile);
          const fi = latest('Full Import');
          const fs = latest('Full Synchronization');
          return {
            ConnectorName: c.Name,
            ConnectorId: c.Identifier,
            type: c.ConnectorTypeName === 'AD' ? ('ad' as const) : ('entra' as const),
            fullImport: fi ? runView(fi) : null,
            fullSync: fs ? runView(fs) : null,
            runsRead: runs.length,
          };
        }),
      };
    },
    'find-sync-accounts': () => {
      const domains = [this.#server.ad, ...this.#server.ad.otherDomains];
      const accounts = domains.flatMap((ad) =>
        ad
          .all()
          .filter((o) => o.objectClass === 'user' && (o.samAccountName ?? '').toUpperCase().startsWith('MSOL_'))
          .map((o) => ({
            samAccountName: o.samAccountName!,
            dn: o.dn,
            description: o.description ?? null,
            whenCreated: o.whenCreated ?? null,
            ...syncToolOf(o.samAccountName!, o.description),
          })),
      );
      return { accounts };
    },
    'forest-object-count': () => {
      const domains = [this.#server.ad, ...this.#server.ad.otherDomains].map((ad) => {
        const objs = ad.all().filter((o) => !isSyncServiceAccount(o));
        const users = objs.filter((o) => o.objectClass === 'user' || o.objectClass === 'inetOrgPerson').length;
        const groups = objs.filter((o) => o.objectClass === 'group').length;
        const contacts = objs.filter((o) => o.objectClass === 'contact').length;
        return { domain: ad.domainFqdn, dn: ad.baseDn, users, groups, contacts, total: users + groups + contacts };
      });
      return { domains, total: domains.reduce((n, d) => n + d.total, 0) };
    },
    'gwb-scope-report': (p) => {
      const ou = this.#mustOu(p.ou);
      const groups = this.#server.ad.objectsUnder([ou], ['group']).map((g) => {
        const fields = {
          adminDescription: g.adminDescription ?? null,
          mail: g.mail ?? null,
          groupScope: g.groupScope ?? 'global',
          security: g.securityEnabled !== false,
        };
        return { dn: g.dn, displayName: g.displayName ?? null, ...fields, ...gwbVerdict(fields) };
      });
      return { ou, groups, inScope: groups.filter((g) => g.inScope).length, outOfScope: groups.filter((g) => !g.inScope).length };
    },
    'ad-check-schema': () => {
      const s = this.#server.ad.schema;
      return { hasExternalDirectoryObjectId: s.hasExternalDirectoryObjectId, objectVersion: s.objectVersion, windowsServer2016OrLater: s.objectVersion >= 87 };
    },
    'ad-copy-admin-description': (p, ctx) => {
      const ad = this.#server.ad;
      const ou = this.#mustOu(p.ou);
      if (!ad.schema.hasExternalDirectoryObjectId)
        throw new ActionError('refused', 'msDS-ExternalDirectoryObjectId is not in the schema (needs the Windows Server 2016 schema)');
      const groups = ad.objectsUnder([ou], ['group']).filter((g) => g.adminDescription);
      const changes = groups.filter((g) => g.externalDirectoryObjectId === undefined).map((g) => ({ dn: g.dn, from: null, to: g.adminDescription! }));
      const conflicts = groups
        .filter((g) => g.externalDirectoryObjectId !== undefined && g.externalDirectoryObjectId !== g.adminDescription)
        .map((g) => ({ dn: g.dn, adminDescription: g.adminDescription!, externalDirectoryObjectId: g.externalDirectoryObjectId! }));
      if (!p.dryRun)
        for (const c of changes) {
          ad.addExternalDirectoryObjectId(ad.getByDn(c.dn)!.objectGUID, c.to);
          ctx.note(`Set-ADGroup ${c.dn} -Add msDS-ExternalDirectoryObjectId=${c.to}`);
        }
      return { changes, conflicts, applied: !p.dryRun };
    },
  };

  #mustOu(dn: string): string {
    const ou = this.#server.ad.ouDn(dn);
    if (!ou) throw new ActionError('not-found', `OU ${dn} does not exist in ${this.#server.ad.domainFqdn}`);
    return ou;
  }

  /**
   * Idempotent creation: a rule that exists with the same definition is reported as present; one that exists with a
   * different definition is updated in place (Remove-ADSyncRule + Add-ADSyncRule with the same identifier and
   * precedence) when `updateInPlace`, else refused as a conflict.
   */
  #createRules(plan: PlannedRule[], requested: number | undefined, ctx: ActionContext, updateInPlace = true) {
    const existing = this.#server.rules();
    const byId = new Map(existing.map((r) => [r.Identifier, r]));
    const present = plan.filter((r) => byId.has(r.identifier));
    const changed = new Set<string>();
    for (const r of present) {
      const have = byId.get(r.identifier)!;
      const want = this.#toRule(r, have.Precedence);
      if (JSON.stringify(ruleView(have)) === JSON.stringify(ruleView(want))) continue;
      if (!updateInPlace)
        throw new ActionError('conflict', `rule ${r.identifier} ("${have.Name}") exists with a different definition; remove it first (rollback) to re-create`);
      changed.add(r.identifier);
    }
    const missing = plan.filter((r) => !byId.has(r.identifier));
    const used = new Set(existing.map((r) => r.Precedence));
    const precedences = missing.length ? allocatePrecedences(used, missing.length, present.length ? undefined : requested) : [];
    for (const r of present.filter((x) => changed.has(x.identifier))) {
      const precedence = byId.get(r.identifier)!.Precedence;
      this.#server.removeRule(r.identifier);
      this.#server.addRule(this.#toRule(r, precedence));
      ctx.note(`Remove-ADSyncRule + Add-ADSyncRule "${r.name}" -Identifier ${r.identifier} -Precedence ${precedence} (updated in place)`);
    }
    missing.forEach((r, i) => {
      this.#server.addRule(this.#toRule(r, precedences[i]));
      ctx.note(`Add-ADSyncRule "${r.name}" -Identifier ${r.identifier} -Precedence ${precedences[i]}`);
    });
    const rules = plan.map((r) => {
      const have = this.#server.getRule(r.identifier)!;
      return {
        identifier: r.identifier,
        name: r.name,
        direction: r.direction,
        objectType: r.objectType,
        precedence: have.Precedence,
        connector: have.Connector,
        alreadyPresent: present.includes(r) && !changed.has(r.identifier),
        updated: changed.has(r.identifier),
      };
    });
    return { rules, created: missing.length, updated: changed.size, alreadyPresent: present.length - changed.size };
  }

  #toRule(r: PlannedRule, precedence: number): SyncRule {
    return {
      Identifier: r.identifier,
      Name: r.name,
      Description: 'Created by cutover: https://learn.microsoft.com/entra/identity/hybrid/cloud-sync/tutorial-pilot-aadc-aadccp',
      Direction: r.direction,
      Precedence: precedence,
      Connector: r.connector === 'ad' ? this.#server.adConnector.Identifier : ENTRA_CONNECTOR_ID,
      LinkType: r.linkType,
      SourceObjectType: r.sourceObjectType,
      TargetObjectType: r.targetObjectType,
      Disabled: false,
      IsStandardRule: false,
      ImmutableTag: '',
      ScopeFilter: r.scope.map((g) => ({
        ScopeConditionList: g.map((c) => ({ Attribute: c.attribute, ComparisonValue: c.value, ComparisonOperator: c.operator as any })),
      })),
      AttributeFlowMappings: r.flowsCloudNoFlow ? [{ Source: ['true'], Destination: 'cloudNoFlow', FlowType: 'Constant', ValueMergeType: 'Update' }] : [],
    };
  }
}

function schedulerView(s: SchedulerState) {
  return {
    SyncCycleEnabled: s.SyncCycleEnabled,
    StagingModeEnabled: s.StagingModeEnabled,
    SyncCycleInProgress: s.SyncCycleInProgress,
    SchedulerSuspended: s.SchedulerSuspended,
    MaintenanceEnabled: s.MaintenanceEnabled,
    NextSyncCycleStartTimeInUTC: s.NextSyncCycleStartTimeInUTC,
    NextSyncCyclePolicyType: s.NextSyncCyclePolicyType,
    CurrentlyEffectiveSyncCycleInterval: s.CurrentlyEffectiveSyncCycleInterval,
  };
}

function runView(r: RunProfileResult) {
  return {
    ConnectorName: r.ConnectorName,
    ConnectorId: r.ConnectorId,
    RunProfileName: r.RunProfileName,
    Result: r.Result,
    // Run history holds UTC without a zone designator; SpecifyKind(Utc) is appending 'Z' here.
    StartDate: isoUtc(r.StartDate),
    EndDate: isoUtc(r.EndDate),
    IsRunComplete: r.IsRunComplete,
  };
}

/** The rule as get-sync-rules reports it; also the shape compared when deciding whether a rule is already present. */
function ruleView(r: SyncRule) {
  return {
    Identifier: r.Identifier,
    Name: r.Name,
    Direction: r.Direction,
    Precedence: r.Precedence,
    Connector: r.Connector,
    LinkType: r.LinkType,
    SourceObjectType: r.SourceObjectType,
    TargetObjectType: r.TargetObjectType,
    Disabled: r.Disabled,
    IsStandardRule: r.IsStandardRule,
    ScopeFilter: r.ScopeFilter.map((g) => ({ ScopeConditionList: g.ScopeConditionList.map((c) => ({ ...c })) })),
    AttributeFlowMappings: r.AttributeFlowMappings.map((m) => ({
      Source: [...m.Source],
      Destination: m.Destination,
      FlowType: m.FlowType,
      ValueMergeType: m.ValueMergeType,
    })),
  };
}

function isoUtc(runHistoryDate: string): string {
  return new Date(/[zZ]|[+-]\d\d:\d\d$/.test(runHistoryDate) ? runHistoryDate : `${runHistoryDate}Z`).toISOString();
}

function isWrittenBack(o: AdObject): boolean {
  return o.objectClass === 'group' && (o.adminDescription ?? '').startsWith('Group_');
}

function endsWithDn(dn: string, ou: string): boolean {
  return dn.toLowerCase().endsWith(`,${ou.toLowerCase()}`);
}

/** "… (cutover <migrationId> batch <digits>)": a rule of the earlier per-batch scheme. */
function isLegacyName(name: string, marker: string): boolean {
  const i = name.indexOf(marker);
  return i > 0 && /^\d+\)$/.test(name.slice(i + marker.length));
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new ActionError('failed', message)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}

function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new ActionError('failed', 'aborted'));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new ActionError('failed', 'aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}
