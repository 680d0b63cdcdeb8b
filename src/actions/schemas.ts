import { z } from 'zod';
import { isValidDn, parseDn } from '../dn.js';

/**
 * The runner actions' contract, part one: the parameter building blocks (what a parameter may contain at all) and the
 * result shapes several actions share. Pure data: no execution, no I/O.
 */

// ---------------------------------------------------------------- parameter building blocks

// eslint-disable-next-line no-control-regex -- control characters are what parameters may not carry
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
export const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date');
export const guid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/);

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

export const scopeConditionSchema = z.object({ Attribute: z.string(), ComparisonValue: z.string(), ComparisonOperator: z.string() });
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

export const createdRuleSchema = z.object({
  identifier: guid,
  name: z.string(),
  direction: z.enum(['Inbound', 'Outbound']),
  objectType: z.string(),
  precedence: z.number().int().min(0).max(99),
  connector: z.string(),
  alreadyPresent: z.boolean(),
});

export const noFlowRuleResultSchema = createdRuleSchema.extend({ updated: z.boolean() });

export const partitionSchema = z.object({
  name: z.string(),
  selected: z.boolean(),
  includedContainers: z.array(z.string()),
  excludedContainers: z.array(z.string()),
});

export const serviceStateSchema = z.object({
  /** Get-Service ADSync .Status */
  status: z.enum(['Running', 'Stopped', 'StartPending', 'StopPending', 'Paused', 'PausePending', 'ContinuePending']),
  /** Win32_Service StartMode, with 'Auto' spelled as Set-Service spells it */
  startupType: z.enum(['Automatic', 'Manual', 'Disabled']),
});
export const perTypeSchema = z.object({ objects: z.number().int(), withCloudNoFlow: z.number().int() });

export const identitySchema = z.object({
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

export const gwbGroupSchema = z.object({
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
