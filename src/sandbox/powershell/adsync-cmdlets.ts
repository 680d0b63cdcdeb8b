/**
 * The ADSync module's cmdlets (and the few Windows and Connect tools the action scripts use beside them: the ADSync
 * service, Win32_Service, csexport.exe), answered from the sandbox's simulated Connect Sync server
 * (src/sandbox/onprem/connect-sync.ts). The fake module (modules/ADSync) declares and binds the parameters; this side
 * does what the Connect server does, refusing as it refuses: every ADSync cmdlet fails while the ADSync service is
 * stopped, Start-ADSyncSyncCycle fails while a cycle runs, Add-ADSyncRule enforces the custom-rule precedence range.
 */
import type { Clock } from '../../clock.js';
import { sourceAnchorOf } from '../../identity.js';
import {
  ADSYNC_SERVICE_STOPPED_MESSAGE,
  ENTRA_CONNECTOR_ID,
  type ConnectSyncServer,
  type Connector,
  type PolicyType,
  type SyncRule,
} from '../onprem/connect-sync.js';
import { CmdletError, datetime, derivedGuid, guid, notModelled, timespan } from './values.js';

const NOT_FOUND_MA = 'Operation failed because the specified MA could not be found.';

/** The ADSync service's Windows view: Get-Service status, and Win32_Service StartMode ('Auto' is Set-Service's Automatic). */
interface ServiceOverlay {
  /** the simulated server's status when this start type was set; a different status means someone else changed it */
  status: 'Running' | 'Stopped';
  startupType: 'Automatic' | 'Manual' | 'Disabled' | 'AutomaticDelayedStart';
}

export class AdsyncCmdlets {
  /** metaverse object id → objectGUID of the AD object it was projected from (ids are derived, so stable). */
  readonly #mvIds = new Map<string, string>();
  #service: ServiceOverlay | null = null;

  constructor(
    private readonly server: ConnectSyncServer,
    private readonly clock: Clock,
  ) {}

  /** ADSync cmdlets that work without the sync engine (they only build objects in memory). */
  static readonly OFFLINE = new Set(['New-ADSyncRule', 'Add-ADSyncAttributeFlowMapping', 'Add-ADSyncScopeConditionGroup']);

  readonly handlers: Record<string, (p: any, cmdlet: string) => unknown> = {
    'Get-ADSyncScheduler': () => {
      const s = this.server.getScheduler();
      return {
        AllowedSyncCycleInterval: timespan(s.AllowedSyncCycleInterval),
        CurrentlyEffectiveSyncCycleInterval: timespan(s.CurrentlyEffectiveSyncCycleInterval),
        CustomizedSyncCycleInterval: s.CustomizedSyncCycleInterval === null ? null : timespan(s.CustomizedSyncCycleInterval),
        NextSyncCyclePolicyType: s.NextSyncCyclePolicyType,
        NextSyncCycleStartTimeInUTC: datetime(s.NextSyncCycleStartTimeInUTC, 'Unspecified'),
        PurgeRunHistoryInterval: timespan(s.PurgeRunHistoryInterval),
        SyncCycleEnabled: s.SyncCycleEnabled,
        MaintenanceEnabled: s.MaintenanceEnabled,
        StagingModeEnabled: s.StagingModeEnabled,
        SchedulerSuspended: s.SchedulerSuspended,
        SyncCycleInProgress: s.SyncCycleInProgress,
      };
    },
    'Set-ADSyncScheduler': (p, c) => {
      for (const k of ['CustomizedSyncCycleInterval', 'PurgeRunHistoryInterval', 'MaintenanceEnabled', 'SchedulerSuspended'])
        if (p[k] !== undefined) throw notModelled(c, `-${k}`);
      if (p.NextSyncCyclePolicyType !== undefined && p.NextSyncCyclePolicyType !== 'Unspecified')
        this.server.setNextSyncCyclePolicyType(p.NextSyncCyclePolicyType as PolicyType);
      if (p.SyncCycleEnabled !== undefined) this.server.setSyncCycleEnabled(Boolean(p.SyncCycleEnabled), this.clock.now());
      return [];
    },
    'Start-ADSyncSyncCycle': (p) => {
      const policy = (
        p.PolicyType === undefined || p.PolicyType === 'Unspecified' ? this.server.getScheduler().NextSyncCyclePolicyType : p.PolicyType
      ) as PolicyType;
      try {
        return this.server.startSyncCycle(policy, () => this.clock.now());
      } catch (err) {
        throw new CmdletError(
          'InvalidOperation',
          `System.InvalidOperationException: ${(err as Error).message}`,
          'System.InvalidOperationException,Microsoft.IdentityManagement.PowerShell.Cmdlet.StartADSyncSyncCycleCmdlet',
        );
      }
    },
    'Get-ADSyncConnectorRunStatus': () => this.server.connectorRunStatus(),
    'Get-ADSyncRunProfileResult': (p, c) => {
      for (const k of ['RunProfileId', 'RunNumber', 'RunStepDetails', 'StepNumber']) if (p[k] !== undefined) throw notModelled(c, `-${k}`);
      const rows = this.server
        .runProfileResults({
          connectorId: p.ConnectorId?.toLowerCase(),
          limit: p.RunHistoryId ? Number.MAX_SAFE_INTEGER : (p.NumberRequested ?? Number.MAX_SAFE_INTEGER),
        })
        .filter((r) => !p.RunHistoryId || r.RunHistoryId === String(p.RunHistoryId).toLowerCase());
      return rows.map((r) => ({
        RunHistoryId: guid(r.RunHistoryId),
        ConnectorId: guid(r.ConnectorId),
        ConnectorName: r.ConnectorName,
        RunProfileName: r.RunProfileName,
        Result: r.Result,
        StartDate: datetime(r.StartDate, 'Unspecified'),
        EndDate: datetime(r.EndDate, 'Unspecified'),
        IsRunComplete: r.IsRunComplete,
        CurrentStepNumber: 1,
        TotalSteps: 1,
      }));
    },
    'Get-ADSyncConnector': (p) => {
      const all = this.server.connectors();
      if (p.Identifier !== undefined || p.Name !== undefined) return [connectorView(this.#connector(p.Identifier, p.Name))];
      return all.map(connectorView);
    },
    'Get-ADSyncRule': (p) => {
      if (p.Identifier !== undefined) {
        const r = this.server.getRule(String(p.Identifier));
        return r ? [ruleView(r)] : [];
      }
      return this.server.rules().map(ruleView);
    },
    'Add-ADSyncRule': (p) => {
      const rule = toRule(p.SynchronizationRule);
      try {
        this.server.addRule(rule);
      } catch (err) {
        throw new CmdletError(
          'InvalidOperation',
          (err as Error).message,
          'System.InvalidOperationException,Microsoft.IdentityManagement.PowerShell.Cmdlet.AddADSyncRuleCmdlet',
        );
      }
      return [ruleView(this.server.getRule(rule.Identifier)!)];
    },
    'Remove-ADSyncRule': (p) => {
      const id = String(p.Identifier).toLowerCase();
      const r = this.server.getRule(id);
      if (!r)
        throw new CmdletError(
          'ObjectNotFound',
          `Synchronization rule ${id} was not found.`,
          'System.ArgumentException,Microsoft.IdentityManagement.PowerShell.Cmdlet.RemoveADSyncRuleCmdlet',
        );
      if (r.IsStandardRule)
        throw new CmdletError(
          'InvalidOperation',
          `"${r.Name}" is an out-of-box rule: disable it instead of deleting it (how-to-connect-sync-change-the-configuration.md).`,
          'System.InvalidOperationException,Microsoft.IdentityManagement.PowerShell.Cmdlet.RemoveADSyncRuleCmdlet',
        );
      this.server.removeRule(id);
      return [];
    },
    'Set-ADSyncSchedulerConnectorOverride': (p, c) => {
      if (p.FullImportRequired !== undefined) throw notModelled(c, '-FullImportRequired (the simulated server keeps no import watermarks)');
      const connector = this.#connector(p.ConnectorIdentifier, p.ConnectorName);
      if (p.FullSyncRequired !== undefined) this.server.setConnectorOverride(connector.Identifier, { fullSyncRequired: Boolean(p.FullSyncRequired) });
      return [];
    },
    'Get-ADSyncSchedulerConnectorOverride': (p) => {
      const list =
        p.ConnectorIdentifier !== undefined || p.ConnectorName !== undefined
          ? [this.#connector(p.ConnectorIdentifier, p.ConnectorName)]
          : this.server.connectors();
      return list.map((c) => ({
        ConnectorIdentifier: guid(c.Identifier),
        ConnectorName: c.Name,
        FullImportRequired: false,
        FullSyncRequired: this.server.connectorOverride(c.Identifier).FullSyncRequired,
      }));
    },
    'Get-ADSyncAADCompanyFeature': (p) => {
      if (p.ConnectorName !== undefined && String(p.ConnectorName).toLowerCase() !== this.server.entraConnector.Name.toLowerCase())
        throw new CmdletError('ObjectNotFound', NOT_FOUND_MA, 'Microsoft.IdentityManagement.PowerShell.Cmdlet.GetADSyncAADCompanyFeatureCmdlet');
      const { PasswordWriteback: _w, ExchangeHybrid: _x, ...f } = this.server.companyFeatures();
      return f;
    },
    'Set-ADSyncAADCompanyFeature': (p, c) => {
      for (const k of Object.keys(p)) if (!['GroupWritebackV2', 'ForcePasswordChangeOnLogOn', 'PasswordHashSync'].includes(k)) throw notModelled(c, `-${k}`);
      if (p.GroupWritebackV2 === false) this.server.disableGroupWritebackV2();
      else if (p.GroupWritebackV2 === true && !this.server.companyFeatures().GroupWritebackV2)
        throw new CmdletError(
          'InvalidOperation',
          'Group Writeback v2 was disabled on this tenant: disabling it is irreversible (migrate-group-writeback.md).',
          'Microsoft.IdentityManagement.PowerShell.Cmdlet.SetADSyncAADCompanyFeatureCmdlet',
        );
      const rest: Record<string, boolean> = {};
      if (p.ForcePasswordChangeOnLogOn !== undefined) rest.ForcePasswordChangeOnLogOn = Boolean(p.ForcePasswordChangeOnLogOn);
      if (p.PasswordHashSync !== undefined) rest.PasswordHashSync = Boolean(p.PasswordHashSync);
      if (Object.keys(rest).length) this.server.setCompanyFeatures(rest);
      return [];
    },
    'Get-ADSyncAADPasswordResetConfiguration': (p) => {
      if (String(p.Connector).toLowerCase() !== this.server.entraConnector.Name.toLowerCase())
        throw new CmdletError('ObjectNotFound', NOT_FOUND_MA, 'Microsoft.IdentityManagement.PowerShell.Cmdlet.GetADSyncAADPasswordResetConfigurationCmdlet');
      const enabled = this.server.companyFeatures().PasswordWriteback;
      return { Enabled: enabled, ServiceStatus: enabled ? 'Started' : 'Stopped', OnboardingRequiredStatus: 'NotRequired' };
    },
    // -AADUserName is mandatory (the module refuses the call without it); with it, the cmdlet signs in to Entra ID
    // interactively (password, MFA), which a runner's service account in a non-interactive session cannot do.
    'Get-ADSyncExportDeletionThreshold': (p) => {
      throw new CmdletError(
        'AuthenticationError',
        `Get-ADSyncExportDeletionThreshold signs in to Microsoft Entra ID as ${String(p.AADUserName)} interactively: not possible in a non-interactive session`,
        'Microsoft.IdentityManagement.PowerShell.Cmdlet.GetADSyncExportDeletionThresholdCmdlet',
      );
    },
    'Get-ADSyncServerConfiguration': (p) => {
      const leaf = String(p.Path).split(/[\\/]/).filter(Boolean).pop() ?? 'export';
      const label = /^Exported-ServerConfiguration-(.+?)-\d{8}T\d{6}Z$/.exec(leaf)?.[1] ?? leaf;
      // The simulated server keeps its record of exports; the files are what the module writes under -Path.
      this.server.exportServerConfiguration(label.slice(0, 40), this.clock.now());
      return { files: this.server.serverConfigurationFiles().map(([path, content]) => ({ path, content })) };
    },
    'Get-ADSyncCSObject': (p, c) => {
      if (p.Identifier !== undefined || p.DistinguishedName === undefined)
        throw notModelled(c, 'connector-space objects by -Identifier or whole connector spaces');
      const connector = this.#connector(p.ConnectorIdentifier, p.ConnectorName);
      if (connector.Identifier !== this.server.adConnector.Identifier) throw notModelled(c, `connector-space objects of ${connector.Name}`);
      const o = this.server.ad.getByDn(String(p.DistinguishedName));
      // Written-back groups (adminDescription Group_...) are filtered out by the out-of-box rules' scope; out-of-scope
      // objects are not in the connector space at all.
      if (!o || (o.objectClass === 'group' && (o.adminDescription ?? '').startsWith('Group_')) || !this.server.inScope(o))
        throw new CmdletError(
          'ObjectNotFound',
          `The object ${String(p.DistinguishedName)} was not found in the connector space of ${connector.Name}.`,
          'Microsoft.IdentityManagement.PowerShell.Cmdlet.GetADSyncCSObjectCmdlet',
        );
      const mv = this.server.metaverseObject(o.objectGUID);
      const mvId = mv ? this.#mvId(o.objectGUID) : '00000000-0000-0000-0000-000000000000';
      return {
        Identifier: guid(derivedGuid(`cs:${connector.Identifier}:${o.objectGUID}`)),
        ConnectorId: guid(connector.Identifier),
        ConnectorName: connector.Name,
        DistinguishedName: o.dn,
        ObjectType: o.objectClass,
        ConnectedMVObjectId: guid(mvId),
        IsConnector: !!mv,
        AnchorValue: o.objectGUID,
      };
    },
    'Get-ADSyncMVObject': (p, c) => {
      const guidOf = this.#mvIds.get(String(p.Identifier).toLowerCase());
      const mv = guidOf ? this.server.metaverseObject(guidOf) : undefined;
      if (!guidOf || !mv)
        throw new CmdletError(
          'ObjectNotFound',
          `The metaverse object ${String(p.Identifier)} was not found.`,
          `Microsoft.IdentityManagement.PowerShell.Cmdlet.${c.replace(/-/g, '')}Cmdlet`,
        );
      const exported = new Set(this.server.exportedObjectGuids());
      const pending = this.server.pendingExports().some((x) => x.objectGUID === mv.objectGUID);
      const ad = this.server.ad.get(mv.objectGUID);
      const lineage = [
        {
          ConnectorId: guid(this.server.adConnector.Identifier),
          ConnectorName: this.server.adConnector.Name,
          ConnectedCsObjectDN: mv.dn,
          ConnectedCsObjectId: guid(derivedGuid(`cs:${this.server.adConnector.Identifier}:${mv.objectGUID}`)),
        },
      ];
      if (exported.has(mv.objectGUID) || pending)
        lineage.push({
          ConnectorId: guid(ENTRA_CONNECTOR_ID),
          ConnectorName: this.server.entraConnector.Name,
          ConnectedCsObjectDN: entraCsDn(sourceAnchorOf(ad ?? mv)),
          ConnectedCsObjectId: guid(derivedGuid(`cs:${ENTRA_CONNECTOR_ID}:${mv.objectGUID}`)),
        });
      const attributes: Array<{ Name: string; Values: string[] }> = [{ Name: 'sourceAnchor', Values: [ad ? sourceAnchorOf(ad) : ''] }];
      if (mv.cloudNoFlow) attributes.push({ Name: 'cloudNoFlow', Values: ['true'] });
      return { ObjectId: guid(this.#mvId(mv.objectGUID)), ObjectType: mv.mvObjectType, Attributes: attributes, Lineage: lineage };
    },
    /**
     * csexport.exe "<connector name>" <file> /f:x — the pending exports of a connector, as the XML csexport writes
     * ([STG]): one cs-object per connector-space object (cs-dn, id, object-type), its unapplied-export/delta with the
     * operation, and the synchronized hologram (the attributes as last synchronized: `entry` with `attr`/`value`).
     * The Entra connector names its objects CN={<sourceAnchor as hex>} and has only `user` for people; the AD
     * connector's cs-dn is the AD DN, and its hologram carries adminDescription (what marks a written-back group).
     * Indented, one element per line, as the tool writes it.
     */
    csexport: (p, c) => {
      const filter = String(p.Filter ?? '');
      if (filter.toLowerCase() !== 'x') throw notModelled(c, `filters other than /f:x (got /f:${filter})`);
      const connector = this.#connector(undefined, p.ConnectorName);
      const entra = connector.Identifier === ENTRA_CONNECTOR_ID;
      const rows = this.server.pendingExports(entra ? 'entra' : 'ad');
      const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
      const objects = rows.map((x) => {
        const type = entra && x.objectClass === 'inetOrgPerson' ? 'user' : x.objectClass;
        const csDn = entra ? entraCsDn(x.sourceAnchor ?? sourceAnchorOf(x)) : x.dn;
        const lines = [
          `  <cs-object cs-dn="${esc(csDn)}" id="{${derivedGuid(`cs:${connector.Identifier}:${x.objectGUID}`).toUpperCase()}}" object-type="${type}">`,
          '    <unapplied-export>',
          `      <delta operation="${x.operation}" dn="${esc(csDn)}"/>`,
          '    </unapplied-export>',
        ];
        if (x.adminDescription !== undefined)
          lines.push(
            '    <synchronized-hologram>',
            `      <entry dn="${esc(csDn)}">`,
            `        <primary-objectclass>${type}</primary-objectclass>`,
            `        <attr name="adminDescription" type="string" multivalued="false">`,
            `          <value>${esc(x.adminDescription)}</value>`,
            '        </attr>',
            '      </entry>',
            '    </synchronized-hologram>',
          );
        lines.push('  </cs-object>');
        return lines.join('\n');
      });
      return { xml: `<?xml version="1.0" encoding="UTF-16"?>\n<cs-objects>\n${objects.map((o) => `${o}\n`).join('')}</cs-objects>\n` };
    },
    // ------------------------------------------------------------ the ADSync Windows service
    'Get-Service': (p) => {
      const names = (p.Name ?? []) as string[];
      for (const n of names)
        if (n.toLowerCase() !== 'adsync')
          throw new CmdletError(
            'ObjectNotFound',
            `Cannot find any service with service name '${n}'.`,
            'NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand',
          );
      const s = this.#serviceState();
      return [
        {
          Name: 'ADSync',
          DisplayName: 'Microsoft Azure AD Sync',
          ServiceName: 'ADSync',
          Status: s.status,
          StartType: s.startupType === 'AutomaticDelayedStart' ? 'Automatic' : s.startupType,
        },
      ];
    },
    'Get-CimInstance': (p, c) => {
      if (String(p.ClassName).toLowerCase() !== 'win32_service') throw notModelled(c, `CIM class ${String(p.ClassName)}`);
      const m = /^\s*Name\s*=\s*'([^']+)'\s*$/i.exec(String(p.Filter ?? ''));
      if (!m) throw notModelled(c, `Win32_Service filters other than Name='<service>' (got ${JSON.stringify(p.Filter)})`);
      if (m[1].toLowerCase() !== 'adsync') return [];
      const s = this.#serviceState();
      return [
        {
          Name: 'ADSync',
          DisplayName: 'Microsoft Azure AD Sync',
          State: s.status,
          StartMode: s.startupType === 'Automatic' || s.startupType === 'AutomaticDelayedStart' ? 'Auto' : s.startupType,
          Started: s.status === 'Running',
        },
      ];
    },
    'Set-Service': (p, c) => {
      this.#mustBeAdsync(c, p.Name);
      for (const k of Object.keys(p)) if (!['Name', 'StartupType', 'PassThru'].includes(k)) throw notModelled(c, `-${k}`);
      const s = this.#serviceState();
      if (p.StartupType !== undefined) this.#service = { status: s.status, startupType: p.StartupType };
      return [];
    },
    'Start-Service': (p, c) => {
      this.#mustBeAdsync(c, p.Name);
      const s = this.#serviceState();
      if (s.status === 'Running') return [];
      if (s.startupType === 'Disabled')
        throw new CmdletError(
          'OpenError',
          "Service 'Microsoft Azure AD Sync (ADSync)' cannot be started due to the following error: Cannot start service ADSync on computer '.'.",
          'CouldNotStartService,Microsoft.PowerShell.Commands.StartServiceCommand',
        );
      this.server.setAdsyncService(true);
      this.#service = { status: 'Running', startupType: s.startupType };
      return [];
    },
    'Stop-Service': (p, c) => {
      this.#mustBeAdsync(c, p.Name);
      const s = this.#serviceState();
      if (s.status === 'Stopped') return [];
      this.server.setAdsyncService(false);
      this.#service = { status: 'Stopped', startupType: s.startupType };
      return [];
    },
  };

  /** Throws what every ADSync cmdlet throws while the service is stopped (the sync engine cannot be reached). */
  requireService(cmdlet: string): void {
    if (!this.server.serviceRunning)
      throw new CmdletError(
        'ConnectionError',
        ADSYNC_SERVICE_STOPPED_MESSAGE,
        `Microsoft.IdentityManagement.PowerShell.Cmdlet.${cmdlet.replace(/-/g, '')}Cmdlet`,
      );
  }

  #serviceState(): ServiceOverlay {
    const sim = this.server.adsyncService();
    if (this.#service && this.#service.status === sim.status) return { ...this.#service };
    this.#service = null;
    return { status: sim.status, startupType: sim.startupType };
  }

  #mustBeAdsync(cmdlet: string, name: unknown): void {
    const names = Array.isArray(name) ? name : [name];
    for (const n of names)
      if (String(n).toLowerCase() !== 'adsync')
        throw new CmdletError(
          'ObjectNotFound',
          `Cannot find any service with service name '${String(n)}'.`,
          `NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.${cmdlet.replace('-', '')}Command`,
        );
  }

  #connector(identifier: unknown, name: unknown): Connector {
    const all = this.server.connectors();
    const hit =
      identifier !== undefined && identifier !== null
        ? all.find((c) => c.Identifier === String(identifier).toLowerCase())
        : all.find((c) => c.Name.toLowerCase() === String(name).toLowerCase());
    if (!hit) throw new CmdletError('ObjectNotFound', NOT_FOUND_MA, 'Microsoft.IdentityManagement.PowerShell.Cmdlet.GetADSyncConnectorCmdlet');
    return hit;
  }

  #mvId(objectGUID: string): string {
    const id = derivedGuid(`mv:${objectGUID}`);
    this.#mvIds.set(id, objectGUID);
    return id;
  }
}

/** The Entra connector-space DN of an AD object: Connect names them by the source anchor (CN={<anchor as hex>}). */
function entraCsDn(sourceAnchor: string): string {
  return `CN={${Buffer.from(sourceAnchor).toString('hex').slice(0, 48).toUpperCase()}}`;
}

function connectorView(c: Connector) {
  return {
    Name: c.Name,
    Identifier: guid(c.Identifier),
    ConnectorTypeName: c.ConnectorTypeName,
    Type: c.ConnectorTypeName,
    SubType: c.SubType,
    Partitions: c.Partitions.map((p) => ({
      Name: p.name,
      DN: p.name,
      Selected: p.selected,
      ConnectorPartitionScope: { ContainerInclusionList: [...p.includedContainers], ContainerExclusionList: [...p.excludedContainers] },
    })),
    GlobalParameters:
      c.ConnectorTypeName === 'AD'
        ? { 'Connector.GroupFilteringGroupDn': { Name: 'Connector.GroupFilteringGroupDn', Value: c.GroupFilteringGroupDn ?? '' } }
        : {},
  };
}

/** A rule as Get-ADSyncRule writes it (the module turns it into a SynchronizationRule object). */
export function ruleView(r: SyncRule) {
  return {
    Identifier: r.Identifier,
    Name: r.Name,
    Description: r.Description,
    Direction: r.Direction,
    Precedence: r.Precedence,
    PrecedenceAfter: '00000000-0000-0000-0000-000000000000',
    PrecedenceBefore: '00000000-0000-0000-0000-000000000000',
    Connector: r.Connector,
    SourceObjectType: r.SourceObjectType,
    TargetObjectType: r.TargetObjectType,
    LinkType: r.LinkType,
    Disabled: r.Disabled,
    IsStandardRule: r.IsStandardRule,
    ImmutableTag: r.ImmutableTag,
    ScopeFilter: r.ScopeFilter.map((g) => ({ ScopeConditionList: g.ScopeConditionList.map((c) => ({ ...c })) })),
    AttributeFlowMappings: r.AttributeFlowMappings.map((m) => ({
      Source: [...m.Source],
      Destination: m.Destination,
      FlowType: m.FlowType,
      ValueMergeType: m.ValueMergeType,
      Expression: m.Expression ?? null,
    })),
  };
}

function toRule(x: any): SyncRule {
  if (!x || typeof x !== 'object') throw new CmdletError('InvalidArgument', 'SynchronizationRule is required', 'ParameterArgumentValidationError');
  return {
    Identifier: String(x.Identifier).toLowerCase(),
    Name: String(x.Name ?? ''),
    Description: String(x.Description ?? ''),
    Direction: x.Direction,
    Precedence: Number(x.Precedence),
    Connector: String(x.Connector).toLowerCase(),
    LinkType: x.LinkType,
    SourceObjectType: String(x.SourceObjectType ?? ''),
    TargetObjectType: String(x.TargetObjectType ?? ''),
    Disabled: Boolean(x.Disabled),
    IsStandardRule: false,
    ImmutableTag: String(x.ImmutableTag ?? ''),
    ScopeFilter: (x.ScopeFilter ?? []).map((g: any) => ({
      ScopeConditionList: (g.ScopeConditionList ?? []).map((c: any) => ({
        Attribute: String(c.Attribute),
        ComparisonValue: String(c.ComparisonValue ?? ''),
        ComparisonOperator: c.ComparisonOperator,
      })),
    })),
    AttributeFlowMappings: (x.AttributeFlowMappings ?? []).map((m: any) => ({
      Source: (m.Source ?? []).map(String),
      Destination: String(m.Destination),
      FlowType: m.FlowType,
      ValueMergeType: m.ValueMergeType,
      ...(m.Expression ? { Expression: String(m.Expression) } : {}),
    })),
  };
}
