import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isValidDn, parseDn } from '../dn.js';

/**
 * The runner's allowlist: the only things a runner will do. Every action has typed, validated parameters and a
 * typed result; the agent never evaluates text it receives. The runbook engine refers to these names.
 */

export type ExecutorKind = 'sandbox' | 'ldap' | 'powershell';

// ---------------------------------------------------------------- parameter building blocks

const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Any free-text parameter: no control characters (newlines, NUL, escape sequences), bounded length. */
export const safeText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters (newline, tab, NUL…)');

/**
 * An identifier that ends up in rule names, folder names and derived GUIDs: letters, digits, '.', '_' and '-'
 * only, so quotes, `$(…)`, backticks, ';' and LDAP filter metacharacters cannot appear at all.
 */
export const identifier = (max = 64) =>
  z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'only letters, digits, ".", "_" and "-", starting with a letter or digit')
    .max(max);

/**
 * A distinguished name, parsed as RFC 4514 (src/dn.ts). DNs reach LDAP only as a search base or a modify target
 * (never inside a filter) and PowerShell only as JSON data, so a valid DN is inert wherever it goes.
 */
export const distinguishedName = safeText(2048).refine(isValidDn, 'must be a valid distinguished name (RFC 4514)');

/** An OU DN: the first RDN must be OU= (counts and rules are scoped to organizational units). */
export const ouDn = distinguishedName.refine((dn) => {
  try {
    return parseDn(dn)[0].type === 'ou';
  } catch {
    return false;
  }
}, 'must be the DN of an organizational unit (OU=…)');

export const objectClassSchema = z.enum(['user', 'group', 'contact']);
/** The object types Cloud Sync's OU scope takes and the no-flow rules cover (inetOrgPerson maps to MV person, like user). */
export const NOFLOW_OBJECT_TYPES = ['user', 'inetOrgPerson', 'group', 'contact'] as const;
export type NoFlowObjectType = (typeof NOFLOW_OBJECT_TYPES)[number];
export const noFlowObjectTypeSchema = z.enum(NOFLOW_OBJECT_TYPES);
const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date');
const guid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/);

// ---------------------------------------------------------------- result shapes

export const schedulerSchema = z.object({
  SyncCycleEnabled: z.boolean(),
  StagingModeEnabled: z.boolean(),
  SyncCycleInProgress: z.boolean(),
  SchedulerSuspended: z.boolean(),
  MaintenanceEnabled: z.boolean(),
  NextSyncCycleStartTimeInUTC: isoDate.nullable(),
  NextSyncCyclePolicyType: z.enum(['Delta', 'Initial', 'Unspecified']),
  CurrentlyEffectiveSyncCycleInterval: z.string(),
});

export const runProfileResultSchema = z.object({
  ConnectorName: z.string(),
  ConnectorId: z.string(),
  RunProfileName: z.string(),
  Result: z.string(),
  StartDate: isoDate.nullable(),
  EndDate: isoDate.nullable(),
  IsRunComplete: z.boolean(),
});

const scopeConditionSchema = z.object({ Attribute: z.string(), ComparisonValue: z.string(), ComparisonOperator: z.string() });
export const syncRuleSchema = z.object({
  Identifier: guid,
  Name: z.string(),
  Direction: z.enum(['Inbound', 'Outbound']),
  Precedence: z.number().int(),
  Connector: z.string(),
  LinkType: z.string(),
  SourceObjectType: z.string(),
  TargetObjectType: z.string(),
  Disabled: z.boolean(),
  IsStandardRule: z.boolean(),
  ScopeFilter: z.array(z.object({ ScopeConditionList: z.array(scopeConditionSchema) })),
  AttributeFlowMappings: z.array(
    z.object({ Source: z.array(z.string()), Destination: z.string(), FlowType: z.string(), ValueMergeType: z.string().optional() }),
  ),
});

const createdRuleSchema = z.object({
  identifier: guid,
  name: z.string(),
  direction: z.enum(['Inbound', 'Outbound']),
  objectType: z.string(),
  precedence: z.number().int().min(0).max(99),
  connector: z.string(),
  alreadyPresent: z.boolean(),
});

const noFlowRuleResultSchema = createdRuleSchema.extend({ updated: z.boolean() });

const partitionSchema = z.object({
  name: z.string(),
  selected: z.boolean(),
  includedContainers: z.array(z.string()),
  excludedContainers: z.array(z.string()),
});

const serviceStateSchema = z.object({
  /** Get-Service ADSync .Status */
  status: z.enum(['Running', 'Stopped', 'StartPending', 'StopPending', 'Paused', 'PausePending', 'ContinuePending']),
  /** Win32_Service StartMode, with 'Auto' spelled as Set-Service spells it */
  startupType: z.enum(['Automatic', 'Manual', 'Disabled']),
});
const perTypeSchema = z.object({ objects: z.number().int(), withCloudNoFlow: z.number().int() });

const identitySchema = z.object({
  dn: z.string(),
  objectClass: objectClassSchema,
  objectGUID: guid,
  consistencyGuid: guid.nullable(),
  userPrincipalName: z.string().nullable(),
  mail: z.string().nullable(),
  proxyAddresses: z.array(z.string()),
  displayName: z.string().nullable(),
});
export type IdentityRecord = z.infer<typeof identitySchema>;

export const pendingExportsSchema = z.object({
  connector: z.string(),
  connectorType: z.enum(['ad', 'entra']),
  counts: z.object({ add: z.number().int(), update: z.number().int(), delete: z.number().int() }),
  total: z.number().int(),
  /** Deletes of groups Connect wrote back to AD (GWB): the objects a wrong rule destroys when the server goes live. */
  writtenBackGroupDeletes: z.number().int(),
  objects: z.array(z.object({ dn: z.string(), objectType: z.string(), operation: z.enum(['add', 'update', 'delete']), writtenBackGroup: z.boolean() })),
  truncated: z.boolean(),
});
export type PendingExports = z.infer<typeof pendingExportsSchema>;

const gwbGroupSchema = z.object({
  dn: z.string(),
  displayName: z.string().nullable(),
  adminDescription: z.string().nullable(),
  mail: z.string().nullable(),
  groupScope: z.enum(['universal', 'global', 'domainLocal']),
  security: z.boolean(),
  writtenBack: z.boolean(),
  inScope: z.boolean(),
  reason: z.string(),
});

/** groupType flags (MS-ADTS 2.2.12): scope bits and the security bit. */
export const GROUP_TYPE = { global: 0x2, domainLocal: 0x4, universal: 0x8, security: 0x80000000 } as const;

/** Seed 004's scope, for one group: only cloud-created security groups written back with universal scope. */
export function gwbVerdict(g: { adminDescription: string | null; mail: string | null; groupScope: 'universal' | 'global' | 'domainLocal'; security: boolean }): { writtenBack: boolean; inScope: boolean; reason: string } {
  const writtenBack = (g.adminDescription ?? '').startsWith('Group_');
  if (!writtenBack) return { writtenBack, inScope: false, reason: 'not written back by Connect (no adminDescription Group_…)' };
  if (g.mail) return { writtenBack, inScope: false, reason: 'mail-enabled (a Microsoft 365 group or DL): not supported by this migration' };
  if (!g.security) return { writtenBack, inScope: false, reason: 'a distribution group: not supported by this migration' };
  if (g.groupScope !== 'universal') return { writtenBack, inScope: false, reason: `${g.groupScope} scope: only universal groups are supported` };
  return { writtenBack, inScope: true, reason: 'cloud security group written back as universal' };
}

/**
 * Which sync tool created an MSOL_ service account, from its description. Connect writes "Account created by Microsoft
 * Azure Active Directory Connect with installation identifier … running on computer … configured to synchronize to
 * tenant …"; DirSync's product is the "Windows Azure Active Directory Sync tool" (seed 003, "Uninstall DirSync"), and
 * public accounts show its accounts described as "Account created by the Windows Azure Active Directory Sync tool with
 * installation identifier …" (third-party; Microsoft does not document the text). Azure AD Sync was "Azure Active
 * Directory Sync Services".
 */
export function syncToolOf(samAccountName: string, description: string | null | undefined): { tool: 'dirsync' | 'azure-ad-sync' | 'entra-connect' | 'unknown'; computer: string | null } {
  const d = description ?? '';
  const computer = /running on (?:computer )?['‘"]?([A-Za-z0-9._-]+)/i.exec(d)?.[1] ?? null;
  // DirSync's wizard names its account MSOL_AD_SYNC (Microsoft documents that name; the description text is third-party).
  if (samAccountName.toUpperCase() === 'MSOL_AD_SYNC' || /Directory Sync tool|\bDirSync\b/i.test(d)) return { tool: 'dirsync', computer };
  if (/Active Directory Connect|Azure AD Connect|Entra Connect/i.test(d)) return { tool: 'entra-connect', computer };
  if (/Active Directory Sync Services|Azure AD Sync\b/i.test(d)) return { tool: 'azure-ad-sync', computer };
  return { tool: 'unknown', computer };
}

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
      'and it signs in to Entra interactively, so a non-interactive runner cannot answer it: it fails with PowerShell\'s ' +
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
      'Creates or updates the migration\'s no-flow rules: per object type ONE inbound rule (AD connector, Join, Constant true → ' +
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
        objectTypes: z.array(noFlowObjectTypeSchema).min(1).max(4).refine((a) => new Set(a).size === a.length, 'object types must be unique'),
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
      "Rollback: removes every no-flow rule of this migration (and any older per-batch rules cutover made for it) and marks the AD " +
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
      containers: z.array(z.object({ dn: z.string(), users: z.number().int(), inetOrgPersons: z.number().int(), groups: z.number().int(), contacts: z.number().int() })),
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
    params: z
      .object({ ou: ouDn, classes: z.array(objectClassSchema).min(1).max(3).default(['user', 'group', 'contact']) })
      .strict(),
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
      'Users, groups and contacts in every domain of the forest (not only the runner\'s), leaving out critical system objects: ' +
      'the count DirSync bases its upgrade path on (its database holds the whole forest it synchronizes).',
    mutation: false,
    executors: AD,
    params: z.object({}).strict(),
    result: z.object({
      domains: z.array(z.object({ domain: z.string(), dn: z.string(), users: z.number().int(), groups: z.number().int(), contacts: z.number().int(), total: z.number().int() })),
      total: z.number().int(),
    }),
  }),
  'gwb-scope-report': define({
    name: 'gwb-scope-report',
    description:
      "Every group under the Group Writeback target OU with its real groupType: in scope of seed 004 (written back from a cloud " +
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

export type ActionErrorCode =
  | 'unknown-action'
  | 'invalid-params'
  | 'invalid-result'
  | 'unsupported'
  | 'refused'
  | 'conflict'
  | 'not-found'
  | 'failed';

export class ActionError extends Error {
  constructor(
    readonly code: ActionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ActionError';
  }
}

function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ');
}

/** Validates parameters against the allowlist; throws ActionError('invalid-params') with every reason. */
export function parseParams<A extends ActionName>(name: A, params: unknown): ActionParams<A>;
export function parseParams(name: string, params: unknown): unknown;
export function parseParams(name: string, params: unknown): unknown {
  const def = getAction(name);
  const r = def.params.safeParse(params ?? {});
  if (!r.success) throw new ActionError('invalid-params', `${name}: ${describeIssues(r.error)}`);
  return r.data;
}

export function parseResult(name: string, result: unknown): unknown {
  const def = getAction(name);
  const r = def.result.safeParse(result);
  if (!r.success) throw new ActionError('invalid-result', `${name} result: ${describeIssues(r.error)}`);
  return r.data;
}

/** Human-readable parameter list for `cutover-runner actions`. */
export function describeParams(name: ActionName): Record<string, unknown> {
  const schema = z.toJSONSchema(catalog[name].params, { io: 'input', unrepresentable: 'any' }) as any;
  return schema.properties ?? {};
}

// ---------------------------------------------------------------- deterministic rule identifiers

/** Namespace for cutover's rule identifiers (a fixed random UUID). */
export const RULE_NAMESPACE = '6c1f0f4e-5d0a-4b8e-9a44-0d6e3b1f2a7c';

/** RFC 4122 version-5 UUID (SHA-1, namespace + name): the same migration/batch/type always names the same rule. */
export function uuidV5(name: string, namespace = RULE_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export type NoFlowDirection = 'inbound' | 'outbound';

/** One rule per object type and direction per migration, whatever its batch count. */
export function noFlowRuleId(migrationId: string, objectType: NoFlowObjectType, direction: NoFlowDirection): string {
  return uuidV5(`cutover/noflow/${migrationId}/${objectType}/${direction}`);
}

/** The per-batch identifiers earlier cutover versions used (remove-noflow-rules still removes them). */
export function legacyNoFlowRuleId(migrationId: string, batch: number, objectType: string, direction: NoFlowDirection): string {
  return uuidV5(`cutover/noflow/${migrationId}/${batch}/${objectType}/${direction}`);
}

/** Every identifier a migration's no-flow rules can have (current scheme). */
export function noFlowRuleIds(migrationId: string): string[] {
  return NOFLOW_OBJECT_TYPES.flatMap((t) => (['inbound', 'outbound'] as const).map((d) => noFlowRuleId(migrationId, t, d)));
}

/**
 * Rule names of the earlier per-batch scheme end with this text followed by the batch number and ')'; together with
 * IsStandardRule false that is how remove-noflow-rules recognises them without enumerating every possible batch.
 */
export function legacyNoFlowNameMarker(migrationId: string): string {
  return ` (cutover ${migrationId} batch `;
}

export function groupWritebackRuleId(migrationId: string, direction: NoFlowDirection): string {
  return uuidV5(`cutover/gwb-noflow/${migrationId}/${direction}`);
}

/** The planned rule pair for one object type: what every ADSync executor creates, so their results agree. */
export interface PlannedRule {
  identifier: string;
  name: string;
  direction: 'Inbound' | 'Outbound';
  objectType: NoFlowObjectType;
  sourceObjectType: string;
  targetObjectType: string;
  /** 'ad' or 'entra': which connector the rule is on. */
  connector: 'ad' | 'entra';
  linkType: 'Join' | 'JoinNoFlow';
  /** Scope condition groups: ORed; the conditions inside one group are ANDed. */
  scope: Array<Array<{ attribute: string; value: string; operator: string }>>;
  flowsCloudNoFlow: boolean;
}

/**
 * Connect's types: In from AD user→person, inetOrgPerson→person, contact→person, group→group; out to AAD person→user
 * (users and inetOrgPersons), person→contact, group→group (out-of-box rules "In from AD - InetOrgPerson Join",
 * "Out to AAD - User Join", "Out to AAD - Contact Join", "Out to AAD - Group Join").
 */
const NOFLOW_TYPES: Record<NoFlowObjectType, { mv: string; entra: string; label: string }> = {
  user: { mv: 'person', entra: 'user', label: 'User' },
  inetOrgPerson: { mv: 'person', entra: 'user', label: 'InetOrgPerson' },
  group: { mv: 'group', entra: 'group', label: 'Group' },
  contact: { mv: 'person', entra: 'contact', label: 'Contact' },
};

/** The migration's no-flow rules: per type one inbound rule (one `dn ENDSWITH` group per OU) and one outbound rule. */
export function planNoFlowRules(p: { migrationId: string; ous: string[]; objectTypes: NoFlowObjectType[] }): PlannedRule[] {
  const out: PlannedRule[] = [];
  for (const t of p.objectTypes) {
    const { mv, entra, label } = NOFLOW_TYPES[t];
    out.push({
      identifier: noFlowRuleId(p.migrationId, t, 'inbound'),
      name: `In from AD - ${label} cloudNoFlow (cutover ${p.migrationId})`,
      direction: 'Inbound',
      objectType: t,
      sourceObjectType: t,
      targetObjectType: mv,
      connector: 'ad',
      linkType: 'Join',
      scope: p.ous.map((ou) => [{ attribute: 'dn', value: ou, operator: 'ENDSWITH' }]),
      flowsCloudNoFlow: true,
    });
    out.push({
      identifier: noFlowRuleId(p.migrationId, t, 'outbound'),
      name: `Out to AAD - ${label} JoinNoFlow (cutover ${p.migrationId})`,
      direction: 'Outbound',
      objectType: t,
      sourceObjectType: mv,
      targetObjectType: entra,
      connector: 'entra',
      linkType: 'JoinNoFlow',
      scope: [[{ attribute: 'cloudNoFlow', value: 'true', operator: 'EQUAL' }]],
      flowsCloudNoFlow: false,
    });
  }
  return out;
}

export function planGroupWritebackRules(migrationId: string): PlannedRule[] {
  return [
    {
      identifier: groupWritebackRuleId(migrationId, 'inbound'),
      name: 'In from AAD - Group SOAinAAD coexistence with Cloud Sync',
      direction: 'Inbound',
      objectType: 'group',
      sourceObjectType: 'group',
      targetObjectType: 'group',
      connector: 'entra',
      linkType: 'Join',
      scope: [
        [
          { attribute: 'cloudMastered', value: 'true', operator: 'EQUAL' },
          { attribute: 'mail', value: '', operator: 'ISNULL' },
        ],
      ],
      flowsCloudNoFlow: true,
    },
    {
      identifier: groupWritebackRuleId(migrationId, 'outbound'),
      name: 'Out to AD - Group SOAinAAD coexistence with Cloud Sync',
      direction: 'Outbound',
      objectType: 'group',
      sourceObjectType: 'group',
      targetObjectType: 'group',
      connector: 'ad',
      linkType: 'JoinNoFlow',
      scope: [[{ attribute: 'cloudNoFlow', value: 'true', operator: 'EQUAL' }]],
      flowsCloudNoFlow: false,
    },
  ];
}

/**
 * Chooses precedences for n new rules: the requested start (all n consecutive values must be free), or else the
 * lowest free consecutive block at or above 20 (below that is where admins usually keep their own rules).
 */
export function allocatePrecedences(used: Set<number>, n: number, requested?: number): number[] {
  const block = (start: number) => Array.from({ length: n }, (_, i) => start + i);
  const free = (start: number) => start >= 0 && start + n - 1 <= 99 && block(start).every((p) => !used.has(p));
  if (requested !== undefined) {
    if (!free(requested)) {
      const taken = block(requested).filter((p) => used.has(p) || p > 99);
      throw new ActionError('conflict', `precedence ${requested}..${requested + n - 1} is not free (taken or out of 0-99: ${taken.join(', ')})`);
    }
    return block(requested);
  }
  for (const start of [...Array(100).keys()].map((i) => (i + 20) % 100)) if (free(start)) return block(start);
  throw new ActionError('conflict', `no ${n} consecutive free precedences in 0-99`);
}
