import type { Clock } from '../../clock.js';
import { AdError } from '../../sandbox/onprem/active-directory.js';
import { ENTRA_CONNECTOR_ID, type ConnectSyncServer, type RunProfileResult, type SchedulerState, type SyncRule } from '../../sandbox/onprem/connect-sync.js';
import {
  ActionError,
  allocatePrecedences,
  noFlowRuleId,
  planGroupWritebackRules,
  planNoFlowRules,
  type ActionName,
  type ActionParams,
  type ActionResult,
  type PlannedRule,
} from '../actions.js';
import type { ActionContext, Executor } from './types.js';

type Handlers = { [A in ActionName]: (p: ActionParams<A>, ctx: ActionContext) => Promise<ActionResult<A>> | ActionResult<A> };

/** Carries out actions against the simulated Connect Sync server and its Active Directory (used by `npm start`). */
export class SandboxExecutor implements Executor {
  readonly kind = 'sandbox' as const;
  readonly #server: ConnectSyncServer;
  readonly #clock: Clock;

  constructor(opts: { server: ConnectSyncServer; clock: Clock }) {
    this.#server = opts.server;
    this.#clock = opts.clock;
  }

  async run(action: ActionName, params: any, ctx: ActionContext): Promise<unknown> {
    const handler = this.#handlers[action] as (p: unknown, c: ActionContext) => unknown;
    try {
      return await handler(params, ctx);
    } catch (err) {
      if (err instanceof AdError) throw new ActionError(err.code === 'not-found' ? 'not-found' : 'failed', err.message);
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
    'get-sync-rules': (p) => ({ rules: this.#server.rules().filter((r) => !p.customOnly || !r.IsStandardRule).map(ruleView) }),
    'get-company-features': () => {
      const f = this.#server.companyFeatures();
      return {
        GroupWritebackV2: f.GroupWritebackV2,
        PasswordHashSync: f.PasswordHashSync,
        UnifiedGroupWriteback: f.UnifiedGroupWriteback,
        UserWriteback: f.UserWriteback,
        DeviceWriteback: f.DeviceWriteback,
      };
    },
    'get-export-deletion-threshold': () => this.#server.exportDeletionThreshold(),
    'get-connector-scope': () => {
      const c = this.#server.adConnector;
      return { connectorName: c.Name, connectorId: c.Identifier, includedContainers: [...c.IncludedContainers], excludedContainers: [...c.ExcludedContainers] };
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
      if (this.#server.busy) {
        ctx.note('a sync cycle is already running; waiting for it to end before starting');
        await abortable(this.#server.whenIdle(), ctx.signal);
      }
      const report = this.#server.runSyncCycle(p.policyType, this.#clock.now());
      ctx.note(
        `Start-ADSyncSyncCycle -PolicyType ${p.policyType}: ${report.Result}` +
          (report.exportsSuppressed ? ' (staging mode: exports suppressed)' : `; exported ${JSON.stringify(report.exported)}`),
      );
      return { result: report.Result, policyType: p.policyType, startedAt: report.StartedAtUTC, endedAt: report.EndedAtUTC, runs: report.runs.map(runView) };
    },
    'create-noflow-rules': (p, ctx) => {
      // The scope condition must be the OU's DN exactly as AD stores it, or ENDSWITH silently matches nothing.
      const ou = this.#server.ad.ouDn(p.ou);
      if (!ou) throw new ActionError('not-found', `OU ${p.ou} does not exist in ${this.#server.ad.domainFqdn}`);
      const plan = planNoFlowRules({ ...p, ou });
      return { ou, ...this.#createRules(plan, p.precedence, ctx) };
    },
    'remove-noflow-rules': (p, ctx) => {
      const removed: string[] = [];
      const notPresent: string[] = [];
      for (const t of ['user', 'group', 'contact'] as const)
        for (const d of ['inbound', 'outbound'] as const) {
          const id = noFlowRuleId(p.migrationId, p.batch, t, d);
          if (this.#server.removeRule(id)) {
            removed.push(id);
            ctx.note(`Remove-ADSyncRule -Identifier ${id}`);
          } else notPresent.push(id);
        }
      return { removed, notPresent };
    },
    'create-group-writeback-noflow-rules': (p, ctx) => this.#createRules(planGroupWritebackRules(p.migrationId), p.precedence, ctx),
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
      return { ou, ...this.#server.ad.count(ou) };
    },
    'ad-domain-summary': () => {
      const all = this.#server.ad.all();
      const groups = all.filter((o) => o.objectClass === 'group');
      const largestGroups = groups
        .map((g) => ({ dn: g.dn, members: g.members?.length ?? 0 }))
        .sort((a, b) => b.members - a.members)
        .slice(0, 5);
      const users = all.filter((o) => o.objectClass === 'user').length;
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
      const objects = this.#server.ad.objectsUnder([ou], p.classes).map((o) => ({
        dn: o.dn,
        objectClass: o.objectClass,
        objectGUID: o.objectGUID,
        consistencyGuid: o.consistencyGuid ?? null,
        userPrincipalName: o.userPrincipalName ?? null,
        mail: o.mail ?? null,
        proxyAddresses: [...o.proxyAddresses],
        displayName: o.displayName ?? null,
      }));
      return { ou, count: objects.length, objects };
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

  /** Idempotent creation: rules that already exist with the same definition are reported, not re-added. */
  #createRules(plan: PlannedRule[], requested: number | undefined, ctx: ActionContext) {
    const existing = this.#server.rules();
    const byId = new Map(existing.map((r) => [r.Identifier, r]));
    const present = plan.filter((r) => byId.has(r.identifier));
    for (const r of present) {
      const have = byId.get(r.identifier)!;
      const want = this.#toRule(r, have.Precedence);
      if (JSON.stringify(ruleView(have)) !== JSON.stringify(ruleView(want)))
        throw new ActionError('conflict', `rule ${r.identifier} ("${have.Name}") exists with a different definition; remove it first (rollback) to re-create`);
    }
    const missing = plan.filter((r) => !byId.has(r.identifier));
    const used = new Set(existing.map((r) => r.Precedence));
    const precedences = missing.length ? allocatePrecedences(used, missing.length, present.length ? undefined : requested) : [];
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
        alreadyPresent: present.includes(r),
      };
    });
    return { rules, created: missing.length, alreadyPresent: present.length };
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
      ScopeFilter: [{ ScopeConditionList: r.scope.map((c) => ({ Attribute: c.attribute, ComparisonValue: c.value, ComparisonOperator: c.operator as any })) }],
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
    SyncCycleDisabledAtUTC: s.SyncCycleDisabledAtUTC,
  };
}

function runView(r: RunProfileResult) {
  return {
    ConnectorName: r.ConnectorName,
    ConnectorId: r.ConnectorId,
    RunProfileName: r.RunProfileName,
    Result: r.Result,
    StartDate: r.StartDate,
    EndDate: r.EndDate,
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
    AttributeFlowMappings: r.AttributeFlowMappings.map((m) => ({ Source: [...m.Source], Destination: m.Destination, FlowType: m.FlowType, ValueMergeType: m.ValueMergeType })),
  };
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
