import { z } from 'zod';
import { ActionError } from './errors.js';
import {
  createdRuleSchema,
  distinguishedName,
  gwbGroupSchema,
  guid,
  identifier,
  identitySchema,
  isoDate,
  noFlowObjectTypeSchema,
  noFlowRuleResultSchema,
  objectClassSchema,
  ouDn,
  partitionSchema,
  pendingExportsSchema,
  perTypeSchema,
  runProfileResultSchema,
  schedulerSchema,
  serviceStateSchema,
  syncRuleSchema,
} from './schemas.js';

/**
 * The runner's allowlist: the only things a runner will do. Every action has typed, validated parameters and a
 * typed result; the agent never evaluates text it receives. The runbooks, the runner control plane and the agent all
 * refer to these names; this room is the contract between them and carries nothing out itself.
 */

export type ExecutorKind = 'sandbox' | 'ldap' | 'powershell';

// ---------------------------------------------------------------- the catalog

export interface ActionDefinition<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  /** Changes something on the server or in AD: a lost lease is never re-run silently. */
  mutation: boolean;
  /** Executors that can carry it out; any other executor refuses with the reason. */
  executors: readonly ExecutorKind[];
  params: P;
  result: R;
}

const ADSYNC: readonly ExecutorKind[] = ['sandbox', 'powershell'];
const AD: readonly ExecutorKind[] = ['sandbox', 'ldap', 'powershell'];

function define<P extends z.ZodType, R extends z.ZodType>(d: ActionDefinition<P, R>): ActionDefinition<P, R> {
  return d;
}

export const catalog = {
  'get-scheduler': define({
    name: 'get-scheduler',
    description: 'Get-ADSyncScheduler: whether the sync cycle is enabled, staging mode, a cycle in progress, the next cycle.',
    mutation: false,
    executors: ADSYNC,
    params: z.object({}).strict(),
    result: schedulerSchema,
  }),
  'get-connector-run-status': define({
    name: 'get-connector-run-status',
    description: 'Get-ADSyncConnectorRunStatus plus SyncCycleInProgress: is the sync engine busy, and with which connector.',
    mutation: false,
    executors: ADSYNC,
    params: z.object({}).strict(),
    result: z.object({
      busy: z.boolean(),
      running: z.array(z.object({ RunState: z.string(), ConnectorName: z.string() })),
    }),
  }),
  'get-run-profile-results': define({
    name: 'get-run-profile-results',
    description: 'Get-ADSyncRunProfileResult: the latest run profile results per connector (Full Import, Full Sync, Export…).',
    mutation: false,
    executors: ADSYNC,
    params: z.object({ limit: z.number().int().min(1).max(200).default(20) }).strict(),
    result: z.object({ results: z.array(runProfileResultSchema) }),
  }),
  'get-sync-rules': define({
    name: 'get-sync-rules',
    description: 'Get-ADSyncRule: the synchronization rules (custom only by default).',
    mutation: false,
    executors: ADSYNC,
    params: z.object({ customOnly: z.boolean().default(true) }).strict(),
    result: z.object({ rules: z.array(syncRuleSchema) }),
  }),
  'get-company-features': define({
    name: 'get-company-features',
    description:
      'Get-ADSyncAADCompanyFeature (GroupWritebackV2, PasswordHashSync…), Get-ADSyncAADPasswordResetConfiguration ' +
      '(PasswordWriteback) and whether the out-of-box rule "Out to AD - User Exchange Hybrid" is present and enabled (ExchangeHybrid).',
    mutation: false,
    executors: ADSYNC,
    params: z.object({}).strict(),
    result: z.object({
      GroupWritebackV2: z.boolean(),
      PasswordHashSync: z.boolean(),
      UnifiedGroupWriteback: z.boolean(),
      UserWriteback: z.boolean(),
      DeviceWriteback: z.boolean(),
      PasswordWriteback: z.boolean(),
      ExchangeHybrid: z.boolean(),
    }),
  }),
  'get-export-deletion-threshold': define({
    name: 'get-export-deletion-threshold',
    description:
      'Get-ADSyncExportDeletionThreshold: accidental-delete protection (default 500 objects). Its -AADUserName is mandatory ' +
      "and it signs in to Entra interactively, so a non-interactive runner cannot answer it: it fails with PowerShell's " +
      'missing-mandatory-parameter error (use Graph onPremisesSynchronization.configuration instead).',
    mutation: false,
    executors: ADSYNC,
    params: z.object({}).strict(),
    result: z.object({ DeletionPrevention: z.number().int(), ThresholdPercentage: z.number(), ThresholdCount: z.number().int() }),
  }),
  'get-connector-scope': define({
    name: 'get-connector-scope',
    description:
      "The AD connector's scope as Connect stores it: partitions (Selected, ContainerInclusionList, ContainerExclusionList) and " +
      'group-based filtering (Connector.GroupFilteringGroupDn). In scope = partition selected, under an included container and ' +
      'not under a more specific excluded one, and (when group filtering is on) a direct member of that group.',
    mutation: false,
    executors: ADSYNC,
    params: z.object({}).strict(),
    result: z.object({
      connectorName: z.string(),
      connectorId: z.string(),
      partitions: z.array(partitionSchema),
      groupFilteringGroupDn: z.string().nullable(),
      /** Flattened across selected partitions (kept for older readers). */
      includedContainers: z.array(z.string()),
      excludedContainers: z.array(z.string()),
    }),
  }),
  'set-scheduler': define({
    name: 'set-scheduler',
    description: 'Set-ADSyncScheduler -SyncCycleEnabled; refuses while a sync cycle runs unless waitForIdle.',
    mutation: true,
    executors: ADSYNC,
    params: z.object({ enabled: z.boolean(), waitForIdle: z.boolean().default(false) }).strict(),
    result: z.object({ previousSyncCycleEnabled: z.boolean(), waitedForIdle: z.boolean(), scheduler: schedulerSchema }),
  }),
  'start-sync-cycle': define({
    name: 'start-sync-cycle',
    description:
      'Start-ADSyncSyncCycle -PolicyType Delta|Initial (it only signals the scheduler), waits for the cycle to start and then to ' +
      'end; fails naming each run and its result unless every run succeeded; returns the runs of that cycle (ISO UTC dates).',
    mutation: true,
    executors: ADSYNC,
    params: z.object({ policyType: z.enum(['Delta', 'Initial']) }).strict(),
    result: z.object({
      result: z.string(),
      policyType: z.enum(['Delta', 'Initial']),
      startedAt: isoDate,
      endedAt: isoDate,
      runs: z.array(runProfileResultSchema),
    }),
  }),
  'create-noflow-rules': define({
    name: 'create-noflow-rules',
    description:
      "Creates or updates the migration's no-flow rules: per object type ONE inbound rule (AD connector, Join, Constant true → " +
      'cloudNoFlow, one scope group "dn ENDSWITH <OU>" per OU, ORed) and ONE outbound rule (Entra connector, JoinNoFlow, ' +
      'cloudNoFlow EQUAL true). Identifiers derive from migration + type + direction; a longer OU list updates the rules in ' +
      'place (same identifier and precedence). Each OU DN must be verified in AD (AD module or ADSI). Marks the AD connector ' +
      'FullSyncRequired: the rules take effect at its next Full Synchronization.',
    mutation: true,
    executors: ADSYNC,
    params: z
      .object({
        migrationId: identifier(),
        ous: z
          .array(ouDn)
          .min(1)
          .max(50)
          .refine((a) => new Set(a.map((d) => d.toLowerCase())).size === a.length, 'OUs must be unique'),
        objectTypes: z
          .array(noFlowObjectTypeSchema)
          .min(1)
          .max(4)
          .refine((a) => new Set(a).size === a.length, 'object types must be unique'),
      })
      .strict(),
    result: z.object({
      ous: z.array(z.string()),
      rules: z.array(noFlowRuleResultSchema),
      created: z.number().int(),
      updated: z.number().int(),
      alreadyPresent: z.number().int(),
      fullSyncRequired: z.literal(true),
    }),
  }),
  'remove-noflow-rules': define({
    name: 'remove-noflow-rules',
    description:
      'Rollback: removes every no-flow rule of this migration (and any older per-batch rules cutover made for it) and marks the AD ' +
      'connector FullSyncRequired: Connect takes the objects back at its next Full Synchronization.',
    mutation: true,
    executors: ADSYNC,
    params: z.object({ migrationId: identifier() }).strict(),
    result: z.object({ removed: z.array(guid), notPresent: z.array(guid), fullSyncRequired: z.literal(true) }),
  }),
  'get-noflow-status': define({
    name: 'get-noflow-status',
    description:
      'Proof the no-flow rules took: for every object under the OU that Connect has in its AD connector space, whether its ' +
      'metaverse object carries cloudNoFlow = true, and whether the Entra connector holds a pending export for it.',
    mutation: false,
    executors: ADSYNC,
    params: z.object({ ou: ouDn }).strict(),
    result: z.object({
      ou: z.string(),
      objects: z.number().int(),
      withCloudNoFlow: z.number().int(),
      missingCloudNoFlow: z.array(z.object({ dn: z.string(), objectClass: z.string() })).max(50),
      pendingExports: z.array(z.object({ dn: z.string(), operation: z.enum(['add', 'update', 'delete']) })).max(50),
      pendingExportCount: z.number().int(),
      byType: z.object({ user: perTypeSchema, inetOrgPerson: perTypeSchema, group: perTypeSchema, contact: perTypeSchema }),
    }),
  }),
  'get-adsync-service': define({
    name: 'get-adsync-service',
    description: 'Get-Service ADSync and Win32_Service StartMode: whether the sync service (and with it password hash sync) runs.',
    mutation: false,
    executors: ADSYNC,
    params: z.object({}).strict(),
    result: serviceStateSchema,
  }),
  'set-adsync-service': define({
    name: 'set-adsync-service',
    description:
      'Stops the ADSync service and disables it (Stop-Service ADSync; Set-Service ADSync -StartupType Disabled), or sets it back ' +
      'to Automatic and starts it. Stopped, Connect runs nothing: no sync cycles, no password hash sync, no writeback. ' +
      'Refuses while a sync cycle runs.',
    mutation: true,
    executors: ADSYNC,
    params: z.object({ running: z.boolean() }).strict(),
    result: z.object({ previous: serviceStateSchema, current: serviceStateSchema }),
  }),
  'create-group-writeback-noflow-rules': define({
    name: 'create-group-writeback-noflow-rules',
    description:
      "Seed 004's pair (Microsoft's script): inbound on the Entra connector, cloudMastered EQUAL true + mail ISNULL → cloudNoFlow; " +
      'outbound JoinNoFlow on the AD connector scoped on cloudNoFlow EQUAL true.',
    mutation: true,
    executors: ADSYNC,
    params: z.object({ migrationId: identifier(), precedence: z.number().int().min(0).max(98).optional() }).strict(),
    result: z.object({ rules: z.array(createdRuleSchema), created: z.number().int(), alreadyPresent: z.number().int() }),
  }),
  'disable-group-writeback-v2': define({
    name: 'disable-group-writeback-v2',
    description: 'Set-ADSyncAADCompanyFeature -GroupWritebackV2 $false. IRREVERSIBLE: there is no way to turn it back on.',
    mutation: true,
    executors: ADSYNC,
    params: z.object({ confirm: z.literal(true) }).strict(),
    result: z.object({ wasEnabled: z.boolean(), GroupWritebackV2: z.literal(false) }),
  }),
  'export-server-config': define({
    name: 'export-server-config',
    description: 'Get-ADSyncServerConfiguration to a new timestamped folder; returns its files and SHA-256 hashes.',
    // Writes a new folder only; running it twice is harmless, so a lost lease may be retried.
    mutation: false,
    executors: ADSYNC,
    params: z.object({ label: identifier(40) }).strict(),
    result: z.object({
      folder: z.string(),
      takenAt: isoDate,
      files: z.array(z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int() })),
    }),
  }),
  'ad-count': define({
    name: 'ad-count',
    description: 'Counts users, groups and contacts under an OU (paged LDAP search, objectCategory filters).',
    mutation: false,
    executors: AD,
    params: z.object({ ou: ouDn }).strict(),
    result: z.object({ ou: z.string(), users: z.number().int(), groups: z.number().int(), contacts: z.number().int() }),
  }),
  'ad-count-by-ou': define({
    name: 'ad-count-by-ou',
    description:
      'Counts users (with inetOrgPersons), groups and contacts under a container, per parent container, leaving out the given ' +
      "containers and AD's critical system objects (which Connect never synchronizes): what is left of Connect Sync's scope.",
    mutation: false,
    executors: AD,
    params: z
      .object({
        base: distinguishedName,
        excludeContainers: z.array(distinguishedName).max(500).default([]),
      })
      .strict(),
    result: z.object({
      base: z.string(),
      containers: z.array(
        z.object({ dn: z.string(), users: z.number().int(), inetOrgPersons: z.number().int(), groups: z.number().int(), contacts: z.number().int() }),
      ),
      total: z.number().int(),
    }),
  }),
  'ad-domain-summary': define({
    name: 'ad-domain-summary',
    description:
      'Counts the whole domain (users, groups, contacts) and its largest groups by member count: the assessment against Cloud Sync limits (150,000 objects per domain, 50,000 members per group) and the DirSync upgrade path (< 50,000 objects: in-place).',
    mutation: false,
    executors: AD,
    params: z.object({}).strict(),
    result: z.object({
      domain: z.string(),
      users: z.number().int(),
      groups: z.number().int(),
      contacts: z.number().int(),
      total: z.number().int(),
      largestGroups: z.array(z.object({ dn: z.string(), members: z.number().int() })).max(10),
      groupsWithoutConsistencyGuid: z.number().int(),
    }),
  }),
  'ad-export-identities': define({
    name: 'ad-export-identities',
    description: 'Per-object identity data under an OU for reconciliation: objectGUID, ms-DS-ConsistencyGuid, UPN, mail, proxyAddresses, displayName, DN.',
    mutation: false,
    executors: AD,
    params: z.object({ ou: ouDn, classes: z.array(objectClassSchema).min(1).max(3).default(['user', 'group', 'contact']) }).strict(),
    result: z.object({ ou: z.string(), count: z.number().int(), objects: z.array(identitySchema) }),
  }),
  'ad-check-schema': define({
    name: 'ad-check-schema',
    description: 'Checks the AD schema: msDS-ExternalDirectoryObjectId present, objectVersion (87 = Windows Server 2016).',
    mutation: false,
    executors: AD,
    params: z.object({}).strict(),
    result: z.object({ hasExternalDirectoryObjectId: z.boolean(), objectVersion: z.number().int(), windowsServer2016OrLater: z.boolean() }),
  }),
  'ad-copy-admin-description': define({
    name: 'ad-copy-admin-description',
    description:
      'For written-back groups under an OU: copy adminDescription into msDS-ExternalDirectoryObjectId (dry run reports, apply writes; idempotent; never overwrites a different value).',
    mutation: true,
    executors: AD,
    params: z.object({ ou: ouDn, dryRun: z.boolean() }).strict(),
    result: z.object({
      changes: z.array(z.object({ dn: z.string(), from: z.string().nullable(), to: z.string() })),
      conflicts: z.array(z.object({ dn: z.string(), adminDescription: z.string(), externalDirectoryObjectId: z.string() })),
      applied: z.boolean(),
    }),
  }),
  'get-pending-exports': define({
    name: 'get-pending-exports',
    description:
      'What a connector will export when exports run: csexport "<connector>" /f:x (pending exports) parsed into adds, updates and ' +
      'deletes by object. On the AD connector, deletes of groups Connect wrote back (adminDescription Group_…) are marked. ' +
      "Microsoft's staging-mode guidance: review this before a server goes live.",
    mutation: false,
    executors: ADSYNC,
    params: z.object({ connector: z.enum(['ad', 'entra']), limit: z.number().int().min(1).max(1000).default(200) }).strict(),
    result: pendingExportsSchema,
  }),
  'get-last-full-runs': define({
    name: 'get-last-full-runs',
    description:
      'For each connector, the latest Full Import and Full Synchronization runs and their results, however many delta runs ' +
      'followed them (Get-ADSyncRunProfileResult -ConnectorId, the whole retained history).',
    mutation: false,
    executors: ADSYNC,
    params: z.object({}).strict(),
    result: z.object({
      connectors: z.array(
        z.object({
          ConnectorName: z.string(),
          ConnectorId: z.string(),
          type: z.enum(['ad', 'entra']),
          fullImport: runProfileResultSchema.nullable(),
          fullSync: runProfileResultSchema.nullable(),
          runsRead: z.number().int(),
        }),
      ),
    }),
  }),
  'find-sync-accounts': define({
    name: 'find-sync-accounts',
    description:
      'The sync tools that ever connected this forest, from their AD service accounts (MSOL_…): the account description names ' +
      'the tool (DirSync, Azure AD Sync or Entra Connect) and the computer it ran on. Readable over LDAP from any machine.',
    mutation: false,
    executors: AD,
    params: z.object({}).strict(),
    result: z.object({
      accounts: z.array(
        z.object({
          samAccountName: z.string(),
          dn: z.string(),
          description: z.string().nullable(),
          whenCreated: isoDate.nullable(),
          tool: z.enum(['dirsync', 'azure-ad-sync', 'entra-connect', 'unknown']),
          computer: z.string().nullable(),
        }),
      ),
    }),
  }),
  'forest-object-count': define({
    name: 'forest-object-count',
    description:
      "Users, groups and contacts in every domain of the forest (not only the runner's), leaving out critical system objects: " +
      'the count DirSync bases its upgrade path on (its database holds the whole forest it synchronizes).',
    mutation: false,
    executors: AD,
    params: z.object({}).strict(),
    result: z.object({
      domains: z.array(
        z.object({
          domain: z.string(),
          dn: z.string(),
          users: z.number().int(),
          groups: z.number().int(),
          contacts: z.number().int(),
          total: z.number().int(),
        }),
      ),
      total: z.number().int(),
    }),
  }),
  'gwb-scope-report': define({
    name: 'gwb-scope-report',
    description:
      'Every group under the Group Writeback target OU with its real groupType: in scope of seed 004 (written back from a cloud ' +
      'security group, universal, not mail-enabled) or out of it (mail-enabled groups and DLs, other scopes), with the reason.',
    mutation: false,
    executors: AD,
    params: z.object({ ou: ouDn }).strict(),
    result: z.object({
      ou: z.string(),
      groups: z.array(gwbGroupSchema),
      inScope: z.number().int(),
      outOfScope: z.number().int(),
    }),
  }),
} as const;

export type ActionName = keyof typeof catalog;
export type ActionParams<A extends ActionName> = z.output<(typeof catalog)[A]['params']>;
export type ActionResult<A extends ActionName> = z.output<(typeof catalog)[A]['result']>;

export const actionNames = Object.keys(catalog) as ActionName[];

export function isActionName(name: unknown): name is ActionName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(catalog, name);
}

export function getAction(name: string): ActionDefinition {
  if (!isActionName(name)) throw new ActionError('unknown-action', `"${String(name).slice(0, 80)}" is not an allowlisted action`);
  return catalog[name] as unknown as ActionDefinition;
}
