import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { AdObject, AdObjectClass, OnPremDirectory } from '../contracts.js';
import type { EntraDirectory } from './entraDirectory.js';

// The simulated tenant's model: what the engine in simulator.ts and the route handlers in routes/ share.

export const AD2AAD_TEMPLATE_ID = '1a4721b3-e57f-4451-ae87-ef078703ec94';
/** The AD2AADProvisioning rule id seen in real schema dumps (graph-api.md §4). */
export const AD2AAD_RULE_ID = '6c409270-f78a-4bc6-af23-7cf3ab6482fe';
const PHS_RULE_ID = '5a8d8e8b-7bc0-4fe5-9c5c-6b4b1d1d3f21';
const EXCHANGE_RULE_ID = '0e3f5b7a-6c1d-4e2f-8a9b-3c4d5e6f7a81';
/**
 * AAD2ADGroupProvisioning: Cloud Sync's group provisioning to AD (Entra ID → AD), what the admin center configures for
 * "Microsoft Entra ID to AD sync" (the job id prefix seen in public Cloud Sync scripts; Microsoft documents no list).
 */
export const JOB_TEMPLATES = ['AD2AADProvisioning', 'AD2AADPasswordHash', 'AAD2ADExchangeHybridWriteback', 'AAD2ADGroupProvisioning'] as const;
const GROUP_PROVISIONING_RULE_ID = '7d1e4c2a-9b3f-4e6d-8a5c-1f2e3d4c5b61';
/**
 * What Cloud Sync takes from its OUs: users, inetOrgPersons, groups and contacts (how-to-configure.md, and the
 * AD2AAD template's object mappings). 'inetOrgPerson' is named as a string so this works before AdObjectClass has it.
 */
export const CLOUD_SYNC_CLASSES = ['user', 'inetOrgPerson', 'group', 'contact'] as unknown as AdObjectClass[];
export const NEVER = '0001-01-01T00:00:00Z';
export const DEFAULT_DELETE_THRESHOLD = 500;

/** A domain of the tenant, with the properties of Graph's domain resource. */
export interface SimDomain {
  id: string;
  authenticationType: 'Managed' | 'Federated';
  availabilityStatus: string | null;
  isAdminManaged: boolean;
  isDefault: boolean;
  isInitial: boolean;
  isRoot: boolean;
  isVerified: boolean;
  passwordNotificationWindowInDays: number | null;
  passwordValidityPeriodInDays: number | null;
  supportedServices: string[];
  state: unknown;
}

export interface SimulatedAgent {
  id: string;
  machineName: string;
  externalIp: string;
  status: 'active' | 'inactive';
  /** The AD domain the agent serves (its agent group's published resource). */
  domain: string;
}

export interface SimJob {
  id: string;
  templateId: (typeof JOB_TEMPLATES)[number];
  schedule: { expiration: string | null; interval: string; state: 'Active' | 'Disabled' | 'Paused' };
  status: any;
  settings: { name: string; value: string }[];
  schema: any;
  /** Set by restart with ForceDeletes: the next cycle may exceed the delete threshold once. */
  forceDeletes: boolean;
  /** An injected quarantine stays until start/restart; a precondition quarantine re-evaluates each cycle. */
  stickyQuarantine: boolean;
  /**
   * The schema the running job uses: taken when it was last started (from Disabled/Paused) or restarted. A schema PUT
   * on an Active job is not picked up until then: "Once you've changed the scope, you should restart provisioning"
   * (how-to-configure.md).
   */
  runningSchema: any | null;
}

export interface SimServicePrincipal {
  id: string;
  appId: string;
  applicationObjectId: string;
  displayName: string;
  secrets: { key: string; value: string }[];
  jobs: Map<string, SimJob>;
  /** The appid of the app that instantiated it: its owner, which Application.ReadWrite.OwnedBy reaches. */
  ownerAppId: string | null;
  /** The last AppKey scenario set (a write-only secret: it turns on the tenant's sync/PHS flags). */
  appKeyScenario: string | null;
}

export function iso(d: Date): string {
  return d.toISOString();
}

export function emptyStatus(): any {
  return {
    code: 'NotRun',
    countSuccessiveCompleteFailures: 0,
    escrowsPruned: false,
    lastExecution: null,
    lastSuccessfulExecution: null,
    lastSuccessfulExecutionWithExports: null,
    progress: [],
    quarantine: null,
    steadyStateFirstAchievedTime: NEVER,
    steadyStateLastAchievedTime: NEVER,
    synchronizedEntryCountByType: [],
    troubleshootingUrl: null,
  };
}

export function templateSchema(jobId: string, templateId: SimJob['templateId'], now: Date, mailNickname: boolean): any {
  const adUserAttributes = [
    'objectGUID',
    'distinguishedName',
    'sAMAccountName',
    'userPrincipalName',
    'displayName',
    'mail',
    'proxyAddresses',
    'mS-DS-ConsistencyGuid',
  ];
  if (mailNickname) adUserAttributes.push('mailNickname');
  return {
    id: jobId,
    version: `Date:${iso(now)}, ActivityId:${randomUUID()}`,
    synchronizationRules: [
      {
        editable: true,
        id:
          templateId === 'AD2AADProvisioning'
            ? AD2AAD_RULE_ID
            : templateId === 'AD2AADPasswordHash'
              ? PHS_RULE_ID
              : templateId === 'AAD2ADGroupProvisioning'
                ? GROUP_PROVISIONING_RULE_ID
                : EXCHANGE_RULE_ID,
        name: templateId,
        priority: 0,
        sourceDirectoryName: 'Active Directory',
        targetDirectoryName: 'Microsoft Entra ID',
        containerFilter: { includedContainers: [] },
        groupFilter: { includedGroups: [] },
        metadata: [{ key: 'defaultSourceObjectMappings', value: 'user,group,contact' }],
        // The AD2AAD template maps users, inetOrgPersons, groups and contacts (Entra how-to-inbound-synch-ms-graph.md names
        // "Provision Active Directory users" and "Provision Active Directory inetOrgPersons").
        objectMappings: [
          ['Provision Active Directory users', 'user', 'User'],
          ['Provision Active Directory inetOrgPersons', 'inetOrgPerson', 'User'],
          ['Provision Active Directory groups', 'group', 'Group'],
          ['Provision Active Directory contacts', 'contact', 'Contact'],
        ].map(([name, sourceObjectName, targetObjectName]) => ({
          enabled: true,
          flowTypes: 'Add, Update, Delete',
          name,
          sourceObjectName,
          targetObjectName,
          attributeMappings: [],
          metadata: [],
          scope: null,
        })),
      },
    ],
    directories: [
      {
        id: '5e7e6a2b-0a4f-4a3b-8f2e-6d2f5f0a9c01',
        name: 'Active Directory',
        discoverabilities: 'AttributeNames, AttributeDataTypes',
        discoveryDateTime: null,
        readOnly: false,
        version: 'v1',
        objects: [{ name: 'user', attributes: adUserAttributes.map((n) => ({ name: n, type: 'String' })) }],
      },
      {
        id: '7c1b9a44-2f7d-4c8e-9f14-8f1c2e3d4b02',
        name: 'Microsoft Entra ID',
        discoverabilities: 'None',
        discoveryDateTime: null,
        readOnly: false,
        version: 'v1',
        objects: [{ name: 'User', attributes: [{ name: 'userPrincipalName', type: 'String' }] }],
      },
    ],
  };
}

/** The options the simulator settles at construction, with their defaults filled in. */
export interface SimLimits {
  defaultPageSize: number;
  deltaPageSize: number;
  provisionOnDemandLimit: { requests: number; windowMs: number };
}

/**
 * What a route handler sees of the simulator: its state, and the few Cloud Sync engine steps a request sets off.
 * GraphSimulator builds one over its private fields, so handlers live in routes/ while the class stays the state holder.
 */
export interface SimHost {
  readonly clock: Clock;
  /** e.g. http://127.0.0.1:53121: links and @odata.context are absolute. */
  readonly baseUrl: string;
  readonly tenantId: string;
  readonly directory: EntraDirectory;
  readonly onPrem: OnPremDirectory | undefined;
  readonly limits: SimLimits;
  readonly sps: Map<string, SimServicePrincipal>;
  readonly agents: ReadonlyMap<string, SimulatedAgent>;
  readonly domains: ReadonlyMap<string, SimDomain>;
  /** The provisioning log, oldest first. */
  readonly logs: readonly any[];
  /** The organization's onPremisesLastSyncDateTime. */
  readonly lastDirectorySync: Date | null;
  readonly onPremisesSynchronization: unknown;
  /** Whether the AD schema has mailNickname (what discover reports). */
  readonly adHasMailNickname: boolean;
  /** provisionOnDemand's sliding window: when each recent request came. */
  readonly onDemandHits: number[];
  clearQuarantine(job: SimJob): void;
  inScope(schema: any, onPrem: OnPremDirectory, domain: string): AdObject[];
  addLog(
    sp: SimServicePrincipal,
    job: SimJob,
    cycleId: string,
    now: Date,
    action: string,
    obj: { id?: string; displayName?: string; type: string },
    targetId: string | null,
    failure?: { errorCode: string; reason: string },
  ): void;
}
