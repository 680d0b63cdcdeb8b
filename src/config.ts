import path from 'node:path';
import { z } from 'zod';

/**
 * Every setting cutover reads, validated once at start. A missing or malformed setting stops the
 * process with one line naming it. With no settings at all, cutover runs the embedded sandbox.
 */

const bool = z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off']).transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Entra object ids, comma-separated (CUTOVER_ADMINS): lower-cased, each a GUID. */
const objectIdList = z.string().transform((v, ctx) => {
  const ids = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const bad = ids.find((x) => !GUID.test(x));
  if (bad) {
    ctx.addIssue({ code: 'custom', message: `is not a comma-separated list of Entra object ids: "${bad.slice(0, 60)}" is not a GUID` });
    return z.NEVER;
  }
  return [...new Set(ids.map((x) => x.toLowerCase()))];
});
const groupObjectId = z
  .string()
  .regex(GUID, "is not an Entra group's object id (a GUID)")
  .transform((v) => v.toLowerCase());

const cronExpr = z.string().regex(/^\S+(\s+\S+){4,5}$/, 'a cron expression with 5 or 6 fields');

/** One customer tenant's Graph credential (GRAPH_TENANTS). */
export const graphTenantSchema = z
  .object({
    tenantId: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a tenant id (GUID)'),
    clientId: z.string().min(1).optional(),
    clientSecret: z.string().min(1).optional(),
    certificatePath: z.string().min(1).optional(),
    managedIdentity: z.boolean().optional(),
  })
  .strict()
  .refine((t) => t.managedIdentity || ((t.clientSecret || t.certificatePath) && t.clientId), {
    message: 'needs clientId with clientSecret or certificatePath, or managedIdentity: true',
  });
export type GraphTenantCredential = z.infer<typeof graphTenantSchema>;

export const settingsSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3978),
    HOST: z.string().default('127.0.0.1'),
    PUBLIC_URL: z.string().url().optional(),
    CUTOVER_DATA_DIR: z.string().default('.cutover'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
      .optional(),
    SANDBOX: bool.optional(),
    PLAYGROUND: bool.default(true),
    PLAYGROUND_PORT: z.coerce.number().int().min(1).max(65535).default(56150),
    MONITOR_CRON: cronExpr.default('*/2 * * * *'),
    MONITOR: bool.default(true),
    SANDBOX_TICK_MS: z.coerce.number().int().min(0).default(5000),
    // Several customers from one deployment, in the sandbox: 1 = contoso.com, 2 = contoso.com and fabrikam.com
    // (each with its own Graph simulator, forest and runner agent).
    SANDBOX_TENANTS: z.coerce.number().int().min(1).max(2).default(1),
    // Scale-out in the sandbox: a second process joins the first one's simulated tenant (its Graph simulator at
    // SANDBOX_GRAPH_URL; the first process's runner agent leases the jobs this one queues in the shared database)
    // instead of starting its own tenant and runner. Needs DATABASE_URL.
    SANDBOX_JOIN: bool.default(false),
    SANDBOX_GRAPH_URL: z.string().url().optional(),
    // The sandbox runner's executor: `powershell` runs the real action scripts (src/agent/scripts) under pwsh against
    // the simulated Connect server through the sandbox's fake ADSync / ActiveDirectory modules; `sandbox` is the
    // TypeScript executor; `auto` is powershell when a pwsh is found (SANDBOX_POWERSHELL, PATH, ~/.dotnet/tools).
    SANDBOX_EXECUTOR: z.enum(['auto', 'powershell', 'sandbox']).default('auto'),
    SANDBOX_POWERSHELL: z.string().min(1).optional(),
    // Schedules besides MONITOR_CRON (jobs and reconciliation): agent/runner/scheduler health (monitor); approvals sweep (runbooks/housekeeping.ts).
    MONITOR_HEALTH_CRON: cronExpr.default('*/1 * * * *'),
    MONITOR_APPROVALS_CRON: cronExpr.default('*/5 * * * *'),
    /** Universal Actions user-specific views: on by default with a bot app id (Teams); the Playground has none. */
    USER_SPECIFIC_VIEWS: bool.optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // Bot Framework authentication (botbuilder's own names).
    MicrosoftAppId: z.string().optional(),
    MicrosoftAppPassword: z.string().optional(),
    MicrosoftAppType: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).optional(),
    MicrosoftAppTenantId: z.string().optional(),
    CertificateThumbprint: z.string().optional(),
    CertificatePrivateKey: z.string().optional(),
    // Microsoft Graph, for production tenants.
    GRAPH_TENANT_ID: z.string().optional(),
    GRAPH_CLIENT_ID: z.string().optional(),
    GRAPH_CLIENT_SECRET: z.string().optional(),
    GRAPH_CERTIFICATE_PATH: z.string().optional(),
    GRAPH_MANAGED_IDENTITY: bool.optional(),
    GRAPH_BASE_URL: z.string().url().default('https://graph.microsoft.com'),
    AZURE_AUTHORITY_HOST: z.string().url().optional(),
    // Several customer tenants: a JSON array of per-tenant Graph credentials, e.g.
    // [{"tenantId":"…","clientId":"…","clientSecret":"…"},{"tenantId":"…","managedIdentity":true}].
    // A tenant not listed uses the GRAPH_CLIENT_* credential (one multi-tenant app consented in each tenant).
    GRAPH_TENANTS: z
      .string()
      .transform((v, ctx) => {
        try {
          return JSON.parse(v) as unknown;
        } catch {
          ctx.addIssue({
            code: 'custom',
            message: 'is not valid JSON (a JSON array of {tenantId, clientId, clientSecret | certificatePath | managedIdentity})',
          });
          return z.NEVER;
        }
      })
      .pipe(z.array(graphTenantSchema).min(1))
      .optional(),
    // Approvals defaults (per migration they can be set when it is created).
    APPROVAL_EXPIRY_HOURS: z.coerce.number().positive().default(24),
    APPROVAL_REMINDER_HOURS: z.coerce.number().positive().default(2),
    APPROVAL_ESCALATION_HOURS: z.coerce.number().positive().default(8),
    // Change owners through an Entra group: its members are read through Graph and cached this long per (tenant, group).
    OWNERS_GROUP_CACHE_MINUTES: z.coerce.number().positive().max(60).default(5),
    // Who may register, rotate and revoke runners (issue 15): Entra object ids and/or an Entra group (its transitive
    // user members, read through Graph as owners groups are). Adding a runner needs a second administrator's approval.
    // Neither set: nobody outside the sandbox (fail closed); the sandbox names its own "Cutover Administrators" group.
    CUTOVER_ADMINS: objectIdList.optional(),
    CUTOVER_ADMINS_GROUP: groupObjectId.optional(),
    // Who may acknowledge, snooze and resolve alerts besides each migration's change owners: an Entra group.
    CUTOVER_RESPONDERS_GROUP: groupObjectId.optional(),
    // A runner token shown to the administrator who asked must be first used by the runner within this time; an
    // unclaimed token then stops working (and an approved request not shown by then expires).
    RUNNER_TOKEN_FIRST_USE_HOURS: z.coerce.number().positive().max(168).default(24),
    // Scale-out: a running Graph/manual step is owned by the process running it for this long without a renewal
    // (renewed every third of it); after that another instance settles it as lost (its owner died).
    STEP_LEASE_SECONDS: z.coerce.number().int().min(3).max(3600).default(60),
    // Cloud Sync's quarantine and accidental-delete e-mails (SyncNotificationSettings): semicolon-separated addresses.
    CLOUD_SYNC_NOTIFICATION_EMAIL: z
      .string()
      .regex(/^[^\s;@]+@[^\s;@]+(;[^\s;@]+@[^\s;@]+)*$/, 'one or more e-mail addresses separated by ;')
      .optional(),
    // "Verify the OU": how long to wait for Cloud Sync to take every object, and how often to look (provisioning logs).
    VERIFY_WAIT_MINUTES: z.coerce
      .number()
      .min(0)
      .max(24 * 60)
      .default(60),
    VERIFY_POLL_SECONDS: z.coerce.number().min(0.01).max(3600).default(15),
    // Traces, off unless set: an OTLP/HTTP collector (the standard OpenTelemetry variable; spans go to <url>/v1/traces)
    // and/or Azure Monitor (Application Insights).
    OTEL_EXPORTER_OTLP_ENDPOINT: z
      .string()
      .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'is not an http(s) URL of an OTLP/HTTP collector (e.g. http://localhost:4318)')
      .optional(),
    // The audit chain's key (HMAC-SHA256 of every row and checkpoint) and the append-only file the signed checkpoints
    // go to (default <CUTOVER_DATA_DIR>/audit-checkpoints.jsonl). In Azure the key is a Key Vault reference; when it is
    // unset a generated key is kept in <CUTOVER_DATA_DIR>/audit.key (0600) and a warning is logged outside the sandbox.
    AUDIT_HMAC_KEY: z.string().min(32, 'is too short: at least 32 characters (e.g. `openssl rand -hex 32`)').optional(),
    AUDIT_CHECKPOINT_PATH: z.string().min(1).optional(),
    APPLICATIONINSIGHTS_CONNECTION_STRING: z
      .string()
      .regex(
        /(^|;)\s*InstrumentationKey=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\s*(;|$)/i,
        'is not an Application Insights connection string (InstrumentationKey=<guid>;IngestionEndpoint=https://…)',
      )
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (s.MicrosoftAppId && !s.MicrosoftAppPassword && !(s.CertificateThumbprint && s.CertificatePrivateKey) && s.MicrosoftAppType !== 'UserAssignedMSI') {
      ctx.addIssue({
        code: 'custom',
        path: ['MicrosoftAppPassword'],
        message: 'is required when MicrosoftAppId is set (or a certificate, or MicrosoftAppType=UserAssignedMSI)',
      });
    }
    if ((s.MicrosoftAppType === 'SingleTenant' || s.MicrosoftAppType === 'UserAssignedMSI') && !s.MicrosoftAppTenantId) {
      ctx.addIssue({ code: 'custom', path: ['MicrosoftAppTenantId'], message: `is required when MicrosoftAppType=${s.MicrosoftAppType}` });
    }
    const sandbox = s.SANDBOX ?? !s.GRAPH_TENANT_ID;
    if (s.SANDBOX_JOIN) {
      if (!s.SANDBOX_GRAPH_URL)
        ctx.addIssue({ code: 'custom', path: ['SANDBOX_GRAPH_URL'], message: "is required with SANDBOX_JOIN=1 (the first process's Graph simulator)" });
      if (!s.DATABASE_URL)
        ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is required with SANDBOX_JOIN=1 (the processes share one PostgreSQL database)' });
    }
    if (!sandbox) {
      if (!s.GRAPH_TENANT_ID) ctx.addIssue({ code: 'custom', path: ['GRAPH_TENANT_ID'], message: 'is required outside sandbox mode' });
      const listed = s.GRAPH_TENANTS?.some((t) => t.tenantId.toLowerCase() === s.GRAPH_TENANT_ID?.toLowerCase());
      if (!listed && !s.GRAPH_MANAGED_IDENTITY && !s.GRAPH_CLIENT_SECRET && !s.GRAPH_CERTIFICATE_PATH) {
        ctx.addIssue({
          code: 'custom',
          path: ['GRAPH_CLIENT_SECRET'],
          message:
            'a Graph credential is required outside sandbox mode (GRAPH_CLIENT_SECRET, GRAPH_CERTIFICATE_PATH, GRAPH_MANAGED_IDENTITY=1, or GRAPH_TENANT_ID listed in GRAPH_TENANTS)',
        });
      }
      if ((s.GRAPH_CLIENT_SECRET || s.GRAPH_CERTIFICATE_PATH) && !s.GRAPH_CLIENT_ID) {
        ctx.addIssue({ code: 'custom', path: ['GRAPH_CLIENT_ID'], message: 'is required with a client secret or certificate' });
      }
      // Without a bot identity botbuilder accepts unsigned activities: anyone could pose as a change owner.
      if (!s.MicrosoftAppId) {
        ctx.addIssue({
          code: 'custom',
          path: ['MicrosoftAppId'],
          message:
            'is required outside sandbox mode (the bot identity, with MicrosoftAppPassword, a certificate or MicrosoftAppType=UserAssignedMSI): without it unsigned activities would be accepted',
        });
      }
    }
  });

export type Settings = z.infer<typeof settingsSchema> & { sandbox: boolean; dataDir: string | null };

export class SettingsError extends Error {}

/** Reads settings from an environment; throws SettingsError whose message is one line naming the setting. */
export function loadSettings(env: Record<string, string | undefined> = process.env, argv: string[] = []): Settings {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = settingsSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue.path.join('.') || 'settings';
    throw new SettingsError(
      `Setting ${name} ${issue.message.startsWith('is ') || issue.message.startsWith('a ') ? issue.message : `is invalid: ${issue.message}`}`,
    );
  }
  const s = parsed.data;
  const sandbox = s.SANDBOX ?? !s.GRAPH_TENANT_ID;
  const playground = argv.includes('--no-playground') ? false : s.PLAYGROUND;
  return { ...s, PLAYGROUND: playground, sandbox, dataDir: s.DATABASE_URL ? null : path.resolve(s.CUTOVER_DATA_DIR) };
}
