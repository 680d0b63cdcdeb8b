import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import type { Server } from 'restify';
import { systemClock, type Clock } from './clock.js';
import type { Settings } from './config.js';
import { createLogger, type Logger } from './log.js';
import { startTelemetry, type Telemetry } from './telemetry/index.js';
import { openDb, type Db } from './store/db.js';
import { KvStore } from './store/kv.js';
import { createGraph, type Graph, type GraphSettings, type SyncedObjectIndex } from './graph/index.js';
import { RunbookEngine } from './runbooks/engine.js';
import { configureAudit } from './runbooks/audit.js';
import { openAuditTrail } from './runbooks/audit-anchor.js';
import path from 'node:path';
import { OwnersGroupResolver } from './runbooks/owners.js';
import { Administrators, type AdminsConfig } from './runbooks/admins.js';
import { RunnerRegistrations } from './runbooks/runner-registrations.js';
import { CreationChecks, type CreationPorts } from './runbooks/creation-checks.js';
import { Cancellations } from './runbooks/cancel.js';
import { PolicyChanges } from './runbooks/policy-changes.js';
import { ApprovalHousekeeping } from './runbooks/housekeeping.js';
import { isGraphError } from './graph/index.js';
import { graphActions, provisioningJob, type TenantGraphs } from './runbooks/graph-actions.js';
import { RunnerGateway } from './runbooks/runner-actions.js';
import { RunnerHub } from './runner/index.js';
import { startAgent } from './agent/client.js';
import { SandboxExecutor } from './sandbox/onprem/executor.js';
import { PowerShellExecutor, findPowerShell } from './agent/executors/powershell.js';
import type { Executor } from './agent/executors/types.js';
import { AlertService, alertResponders } from './monitor/alerts.js';
import { Monitor } from './monitor/monitor.js';
import { createMonitorPorts } from './monitor/ports.js';
import { AlwaysLeader, PgAdvisoryLeader, type Leader } from './monitor/leader.js';
import { registerReportRoutes } from './monitor/report-routes.js';
import { ReportLinks, registerReportRoute } from './reports/links.js';
import { assessmentCsv, assessmentJson, loadAssessmentReport } from './runbooks/assessment.js';
import { CutoverBot, type BotDeps, type JobView } from './bot/bot.js';
import { createHttpServer } from './bot/http.js';
import { createAdapter } from './bot/adapter.js';
import { Notifier } from './bot/notifier.js';
import { PeopleDirectory } from './bot/people.js';
import { formatTime, scheduleInWords } from './bot/format.js';
import { SandboxTenant, SANDBOX_ADMINS_GROUP, SANDBOX_PEOPLE, SANDBOX_TENANT_ID } from './sandbox/tenant.js';
import { registerSandboxRoutes } from './sandbox/control.js';
import { cmdletBasePath, registerSandboxCmdletRoutes, sandboxPowerShellEnv } from './sandbox/powershell/index.js';

/** Everything one cutover process is made of. Built here and nowhere else (the composition root). */
export interface App {
  settings: Settings;
  url: string;
  server: Server;
  db: Db;
  clock: Clock;
  log: Logger;
  engine: RunbookEngine;
  /** Runner registrations (administrators, four-eyes, tokens shown once to the one who asked). */
  registrations: RunnerRegistrations;
  /** `cancel <migration>`. */
  cancellations: Cancellations;
  hub: RunnerHub;
  runnerGateway: RunnerGateway;
  alerts: AlertService;
  monitor: Monitor;
  /** The runbooks room's schedule: approval expiry, reminders and escalation, lost steps, expired policy changes. */
  housekeeping: ApprovalHousekeeping;
  notifier: Notifier;
  /** The first sandbox tenant (contoso.com), or null (production, or a process that joined another's sandbox). */
  tenant: SandboxTenant | null;
  /** Every sandbox tenant this process runs (SANDBOX_TENANTS), first is `tenant`. */
  tenants: SandboxTenant[];
  /** Traces (OTEL_EXPORTER_OTLP_ENDPOINT / APPLICATIONINSIGHTS_CONNECTION_STRING), or off. */
  telemetry: Telemetry;
  /** Card invokes and messages being handled now (graceful shutdown waits for them). */
  inflight(): number;
  stop(): Promise<void>;
}

export interface BuildOptions {
  clock?: Clock;
  log?: Logger;
  /** Tests pass an open database (e.g. in-memory PGlite) to share or inspect it. */
  db?: Db;
  /** Start the in-process sandbox runner agent (default: in sandbox mode). */
  sandboxAgent?: boolean;
  /** Run the sandbox tenant's clock-driven cycles on a timer (default: settings.SANDBOX_TICK_MS). */
  sandboxTickMs?: number;
  /** Start node-cron schedules (default: settings.MONITOR). */
  monitorSchedules?: boolean;
  hub?: { leaseMs?: number; pollWaitMs?: number; recheckMs?: number };
  notifierRetryBaseMs?: number;
  /** How long an awaited runner read waits for an answer (default 10 s). */
  runnerReadTimeoutMs?: number;
  /** The sandbox's Graph client throttle for provisioning-log reads (Graph allows 5 per 10 s; tests shrink the window). */
  graphReportsLimit?: { requests: number; intervalMs: number };
  /** How long a Request/Retry click may wait before it is answered with a "checking" card (default 4 s). */
  answerClickWithinMs?: number;
  /** How long `new migration` may take before it is answered with a "checking" card (default 1 s). */
  answerNewMigrationWithinMs?: number;
  /** A sandbox tenant that outlives this process (restart tests); the app does not stop it. */
  tenant?: SandboxTenant;
}

/**
 * What only one live process can be at a time, for the owner lease of running steps: a PGlite store is opened by one
 * process, and on PostgreSQL one host's listen address and port are bound by one process (PORT=0: a fresh scope).
 * A step owned under the same scope by another boot is a dead earlier run of this process, settled at once.
 */
function ownerScope(settings: Settings, db: Db): string {
  if (db.kind === 'pglite') return `pglite:${settings.dataDir ?? 'memory'}`;
  return `${hostname()}/${settings.HOST}:${settings.PORT || `ephemeral-${randomUUID()}`}`;
}

export async function buildApp(settings: Settings, opts: BuildOptions = {}): Promise<App> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger({ level: settings.LOG_LEVEL });
  // Traces, optional by setting: with neither setting nothing is loaded or started.
  const telemetry = await startTelemetry(settings, { log: log.child({ component: 'telemetry' }), serviceVersion: process.env.npm_package_version });
  const tracer = telemetry.kind === 'off' ? undefined : telemetry.tracer;
  const db = opts.db ?? (await openDb({ databaseUrl: settings.DATABASE_URL, dataDir: settings.dataDir }));
  const kv = new KvStore(db, clock);
  // The audit chain's key and the signed checkpoints of its heads (outside the database).
  const auditDir = opts.db ? null : (settings.dataDir ?? path.resolve(settings.CUTOVER_DATA_DIR));
  const audit = await openAuditTrail({ secret: settings.AUDIT_HMAC_KEY, checkpointPath: settings.AUDIT_CHECKPOINT_PATH, dir: auditDir, clock });
  configureAudit({ key: audit.key, anchor: audit.anchor });
  if (!settings.sandbox && audit.keySource !== 'setting')
    log.warn(
      { keyFile: auditDir && path.join(auditDir, 'audit.key') },
      'AUDIT_HMAC_KEY is not set: the audit chain is keyed with a generated key kept next to the data; set it from Key Vault',
    );

  // --- the cloud side: Microsoft Graph per tenant (the sandbox's simulator, or the real one)
  // SANDBOX_JOIN: another process runs the simulated tenant; this one talks to its Graph simulator.
  const joined = settings.sandbox && settings.SANDBOX_JOIN;
  const sandboxTenants: SandboxTenant[] = [];
  if (settings.sandbox && !joined) {
    for (let i = 0; i < settings.SANDBOX_TENANTS; i++)
      sandboxTenants.push(i === 0 && opts.tenant ? opts.tenant : await SandboxTenant.start({ clock, log, index: i }));
  }
  const tenant = sandboxTenants[0] ?? null;
  const defaultTenantId = tenant?.tenantId ?? (joined ? SANDBOX_TENANT_ID : settings.GRAPH_TENANT_ID!);
  const graphTenants = new Map((settings.GRAPH_TENANTS ?? []).map((t) => [t.tenantId.toLowerCase(), t]));
  const graphs = new Map<string, Graph>();
  const indexes = new Map<string, SyncedObjectIndex>();
  const graphSettingsFor = (tenantId: string): GraphSettings => {
    if (tenant) {
      // Each simulated tenant has its own simulator; an unknown tenant id falls back to the first (as before).
      const t = sandboxTenants.find((x) => x.tenantId === tenantId) ?? tenant;
      return { baseUrl: t.graphBaseUrl, tenantId, auth: { kind: 'sandbox-app' }, ...(opts.graphReportsLimit ? { reportsLimit: opts.graphReportsLimit } : {}) };
    }
    if (joined) return { baseUrl: settings.SANDBOX_GRAPH_URL!, tenantId, auth: { kind: 'sandbox-app' } };
    // Per-tenant credentials (GRAPH_TENANTS) first; otherwise the deployment's app, consented in each tenant.
    const own = graphTenants.get(tenantId.toLowerCase());
    if (own) {
      const auth: GraphSettings['auth'] = own.managedIdentity
        ? { kind: 'managed-identity', clientId: own.clientId }
        : own.certificatePath
          ? { kind: 'client-certificate', clientId: own.clientId!, certificatePath: own.certificatePath }
          : { kind: 'client-secret', clientId: own.clientId!, clientSecret: own.clientSecret! };
      return { baseUrl: settings.GRAPH_BASE_URL, tenantId, auth, authorityHost: settings.AZURE_AUTHORITY_HOST };
    }
    const auth: GraphSettings['auth'] = settings.GRAPH_MANAGED_IDENTITY
      ? { kind: 'managed-identity', clientId: settings.GRAPH_CLIENT_ID }
      : settings.GRAPH_CERTIFICATE_PATH
        ? { kind: 'client-certificate', clientId: settings.GRAPH_CLIENT_ID!, certificatePath: settings.GRAPH_CERTIFICATE_PATH }
        : { kind: 'client-secret', clientId: settings.GRAPH_CLIENT_ID!, clientSecret: settings.GRAPH_CLIENT_SECRET! };
    return { baseUrl: settings.GRAPH_BASE_URL, tenantId, auth, authorityHost: settings.AZURE_AUTHORITY_HOST };
  };
  const tenants: TenantGraphs = {
    graph(tenantId) {
      let g = graphs.get(tenantId);
      if (!g) graphs.set(tenantId, (g = createGraph(graphSettingsFor(tenantId), { log: log.child({ tenantId }), clock, tracer })));
      return g;
    },
    index(tenantId) {
      let i = indexes.get(tenantId);
      if (!i) indexes.set(tenantId, (i = this.graph(tenantId).createSyncedObjectIndex(kv)));
      return i;
    },
  };

  // --- the on-premises side: the runner hub, and the engine that reports into one state machine
  // The sandbox runner's executor: the real PowerShell scripts under pwsh when there is one (SANDBOX_EXECUTOR=auto),
  // else the TypeScript executor. The scripts reach the simulated server through the sandbox's fake modules.
  const pwsh = !sandboxTenants.length || settings.SANDBOX_EXECUTOR === 'sandbox' ? null : findPowerShell(settings.SANDBOX_POWERSHELL, { core: true });
  if (sandboxTenants.length && settings.SANDBOX_EXECUTOR === 'powershell' && !pwsh)
    throw new Error('Setting SANDBOX_EXECUTOR=powershell, but no pwsh was found: set SANDBOX_POWERSHELL, or run scripts/install-engines.sh');
  let engine!: RunbookEngine;
  let runnerGateway!: RunnerGateway;
  const alerts = new AlertService({ db, clock });
  const hub = new RunnerHub({
    tracer,
    db,
    clock,
    log: log.child({ component: 'runner-hub' }),
    onJobSettled: async (job) => {
      if (runnerGateway.settled(job)) return;
      await engine.onRunnerJobSettled(RunnerGateway.asStepJob(job) as any);
    },
    ...opts.hub,
  });
  // A script is a pwsh process (about a second to start, more on a busy machine, four reads at a time): a read waits
  // up to a minute for the sandbox's PowerShell runner, as for a Connect server's powershell.exe under load.
  runnerGateway = new RunnerGateway(hub, { readTimeoutMs: opts.runnerReadTimeoutMs ?? (pwsh ? 60_000 : undefined) });
  // Change owners through an Entra group: its transitive user members, through Graph, cached per (tenant, group).
  const ownersGroups = new OwnersGroupResolver({
    clock,
    ttlMs: settings.OWNERS_GROUP_CACHE_MINUTES * 60_000,
    port: {
      async read(tenantId, groupId) {
        const g = tenants.graph(tenantId);
        try {
          const [group, members] = await Promise.all([g.getGroup(groupId), g.transitiveUserMembers(groupId)]);
          return { id: group.id, name: group.displayName, members };
        } catch (e) {
          if (isGraphError(e) && e.status === 404) return null;
          throw e;
        }
      },
    },
  });
  engine = new RunbookEngine({
    ownersGroups,
    db,
    clock,
    log: log.child({ component: 'engine' }),
    owner: { scope: ownerScope(settings, db), leaseMs: settings.STEP_LEASE_SECONDS * 1000 },
    tracer,
    ports: {
      runner: runnerGateway.port(),
      graph: graphActions(tenants, (t, a, p, r) => runnerGateway.read(t, a, p, r ? { runnerName: r } : {}), {
        notificationEmail: settings.CLOUD_SYNC_NOTIFICATION_EMAIL,
        verifyWaitMs: settings.VERIFY_WAIT_MINUTES * 60_000,
        verifyPollMs: settings.VERIFY_POLL_SECONDS * 1000,
      }),
      openCriticalAlerts: async (id) => (await alerts.list({ migrationId: id, openOnly: true })).filter((x) => x.severity === 'critical'),
    },
  });

  // --- authority (issue 15): administrators, runner registrations, creation checks, cancel, alert responders
  // Administrators come from the settings. Neither set: nobody outside the sandbox (fail closed, warned at start); the
  // sandbox names its own "Cutover Administrators" group (Alex and Megan of the Playground) so its demo runs as is.
  const adminsConfig: AdminsConfig =
    settings.CUTOVER_ADMINS?.length || settings.CUTOVER_ADMINS_GROUP
      ? { oids: settings.CUTOVER_ADMINS ?? [], groupId: settings.CUTOVER_ADMINS_GROUP ?? null }
      : settings.sandbox
        ? {
            oids: [],
            groupId: SANDBOX_ADMINS_GROUP.id,
            source: `the sandbox's "${SANDBOX_ADMINS_GROUP.name}" group (${[SANDBOX_PEOPLE[0].name, SANDBOX_PEOPLE[1].name].join(', ')})`,
          }
        : { oids: [], groupId: null };
  const admins = new Administrators({ config: adminsConfig, groups: ownersGroups });
  if (!admins.configured) log.warn('CUTOVER_ADMINS and CUTOVER_ADMINS_GROUP are unset: nobody can register, rotate or revoke runners');
  else if (!adminsConfig.groupId && adminsConfig.oids.length < 2)
    log.warn({ admins: adminsConfig.oids.length }, 'CUTOVER_ADMINS names one administrator: adding a runner needs a second one to approve it');
  const registrations = new RunnerRegistrations({
    db,
    clock,
    log: log.child({ component: 'runner-registrations' }),
    admins,
    requestExpiryMs: settings.APPROVAL_EXPIRY_HOURS * 3_600_000,
    firstUseMs: settings.RUNNER_TOKEN_FIRST_USE_HOURS * 3_600_000,
    managedTenant: (tenantId) => managedTenant(tenantId),
    registry: {
      list: (tenantId) => hub.listRunners({ tenantId }),
      create: async (input) => {
        const { runner, token } = await hub.createRunner(input);
        return { runnerId: runner.id, token };
      },
      revoke: (name, tenantId) => hub.revokeRunner(name, tenantId),
    },
  });
  // Which Entra tenants cutover holds Graph credentials for: the sandbox's own; in production GRAPH_TENANT_ID, those
  // listed in GRAPH_TENANTS, and with an app credential (GRAPH_CLIENT_*: one multi-tenant app) any tenant that
  // consented to it (Graph then answers for it); a managed identity reaches its own tenant only.
  const managedTenant: CreationPorts['managedTenant'] = (tenantId) => {
    const id = tenantId.toLowerCase();
    const known = settings.sandbox
      ? (joined ? [SANDBOX_TENANT_ID] : sandboxTenants.map((t) => t.tenantId)).map((t) => t.toLowerCase()).includes(id)
      : id === settings.GRAPH_TENANT_ID?.toLowerCase() || graphTenants.has(id) || !!(settings.GRAPH_CLIENT_SECRET || settings.GRAPH_CERTIFICATE_PATH);
    return known
      ? { managed: true }
      : {
          managed: false,
          reason: `cutover does not manage this Microsoft Entra tenant (${tenantId}): it holds no Microsoft Graph credentials for it (GRAPH_TENANT_ID, GRAPH_TENANTS), so it could neither read nor change anything there. Start the migration from a channel of a tenant cutover manages, or ask whoever runs cutover to add this one.`,
        };
  };
  const creation = new CreationChecks({
    engine,
    ports: {
      managedTenant,
      domains: (tenantId) => tenants.graph(tenantId).listDomains(),
      user: (tenantId, oid) => tenants.graph(tenantId).getUser(oid),
      runners: (tenantId) => runnerGateway.port().runners(tenantId),
      runnerRead: (tenantId, runnerName, action, params) => runnerGateway.read(tenantId, action, params, { runnerName }),
    },
  });
  const cancellations = new Cancellations({
    db,
    clock,
    engine,
    onCancelled: async (m, actor) => void (await alerts.resolveAllOf(m.id, actor, 'migration cancelled')),
  });
  // An incident that resolved takes the remedy steps it added and that have not run (a restart waiting for approval,
  // rejected or failed) with it: the runbook does not wait for a remedy nobody needs any more.
  alerts.on((e) => {
    if (e.type !== 'resolved') return;
    void engine
      .settleIncidentSteps(e.alertId, 'the alert it was asked for was resolved before it ran')
      .catch((err) => log.warn({ err, alertId: e.alertId }, 'could not settle the steps of a resolved alert'));
  });
  // Alerts: the migration's change owners, or the responders group (CUTOVER_RESPONDERS_GROUP); nobody else.
  const respondersGroup = settings.CUTOVER_RESPONDERS_GROUP;
  alerts.setResponders(
    alertResponders({
      isOwner: async (migrationId, oid) => {
        const m = await engine.getMigration(migrationId);
        return !!m && (await engine.isOwnerNow(m, oid));
      },
      ...(respondersGroup
        ? {
            responders: {
              groupId: respondersGroup,
              isMember: async (tenantId, oid) =>
                (await ownersGroups.resolve(tenantId, respondersGroup)).members.some((x) => x.id.toLowerCase() === oid.toLowerCase()),
            },
          }
        : {}),
    }),
  );

  // --- the monitor
  const monitorPorts = createMonitorPorts({
    tenants,
    runnerRead: (t, action, params, runnerName) => runnerGateway.read(t, action, params, runnerName ? { runnerName } : {}),
    runners: (tenantId) => hub.listRunners({ tenantId }),
    kv,
  });
  // One monitor per deployment: with PostgreSQL the instance holding the advisory lock runs the scheduled cycles.
  const leaseLog = log.child({ component: 'monitor-lease', pid: process.pid });
  const leader: Leader =
    db.kind === 'postgres' && settings.DATABASE_URL
      ? new PgAdvisoryLeader({
          connectionString: settings.DATABASE_URL,
          log: leaseLog,
          onChange: (held) =>
            held
              ? leaseLog.warn({ leader: true }, 'monitor lease taken by this instance')
              : leaseLog.warn({ leader: false }, 'monitor lease released or lost by this instance'),
        })
      : new AlwaysLeader();
  const policyChanges = new PolicyChanges({ db, clock, engine });
  const monitor = new Monitor({
    engine,
    alerts,
    ports: monitorPorts,
    clock,
    log: log.child({ component: 'monitor' }),
    settings: { mismatchCycles: 3, schedulerDisabledMs: 4 * 3_600_000 },
    leader,
  });
  // The approvals sweep under the same lease (one process of a deployment sweeps); snoozed alerts wake on its tick too.
  const housekeeping = new ApprovalHousekeeping({
    engine,
    policyChanges,
    lease: leader,
    log: log.child({ component: 'housekeeping' }),
    after: () => alerts.wakeSnoozed(),
  });

  // --- downloadable reports behind signed, expiring links (alert reconciliations, assessments)
  const reportLinks = await ReportLinks.open(db, clock);
  const publicUrl = () => settings.PUBLIC_URL ?? url;
  const links = { url: (kind: 'assessments', id: string, now: Date, format?: 'csv' | 'json') => reportLinks.url(publicUrl(), kind, id, now, format) };

  // --- the Bot Framework surface
  const adapter = createAdapter(settings);
  const people = new PeopleDirectory(db, clock);
  const notifier = new Notifier({
    adapter,
    appId: settings.MicrosoftAppId ?? '',
    db,
    engine,
    alerts,
    policyChanges,
    registrations,
    cancellations,
    people,
    links,
    clock,
    log: log.child({ component: 'notifier' }),
    retryBaseMs: opts.notifierRetryBaseMs,
    userSpecificViews: settings.USER_SPECIFIC_VIEWS ?? !!settings.MicrosoftAppId,
  });
  notifier.attach();
  adapter.onTurnError = async (context, error) => {
    log.error({ err: error, activityId: context.activity?.id }, 'turn failed');
    if (context.activity?.type === 'message')
      await context.sendActivity('cutover hit an error handling that message; nothing was changed. The error is in the service log.').catch(() => {});
  };
  const insight: BotDeps['insight'] = {
    async statusFacts(m) {
      const facts: { title: string; value: string }[] = [];
      const index = tenants.index(m.tenantId);
      await index.refresh();
      for (const ou of m.ous) {
        // The migration's own runner (its Connect server's forest), never whichever runner of the tenant answers first.
        const onPrem = await runnerGateway
          .read(m.tenantId, 'ad-count', { ou }, m.runnerName ? { runnerName: m.runnerName } : {})
          .then((r) => String(r.users))
          .catch((e) => `unavailable (${e.message})`);
        facts.push({ title: ou, value: `on-premises ${onPrem} · Entra ${index.countUnder(ou)}` });
      }
      return facts;
    },
    async jobs(m) {
      const g = tenants.graph(m.tenantId);
      const found = await provisioningJob(g, m.domain);
      if (!found) return [];
      const now = clock.now();
      return (await g.listJobs(found.servicePrincipalId)).map((j): JobView => {
        const q = j.status.quarantine;
        const last = j.status.lastExecution;
        return {
          migration: m.name,
          id: j.id,
          templateId: j.templateId ?? j.id.split('.')[0],
          code: j.status.code,
          quarantined: j.status.code === 'Quarantine',
          facts: [
            { title: 'Status', value: j.status.code },
            { title: 'Schedule', value: scheduleInWords(j.schedule.state, j.schedule.interval) },
            {
              title: 'Last execution',
              value: last ? `${last.state}, ${formatTime(last.timeEnded, now)} (exported ${last.countExported}, escrowed ${last.countEscrowed})` : 'never',
            },
            {
              title: 'Steady state',
              value: j.status.steadyStateFirstAchievedTime ? `since ${formatTime(j.status.steadyStateFirstAchievedTime, now)}` : 'not reached',
            },
            ...(q
              ? [
                  {
                    title: 'Quarantine',
                    value: `${q.reason}${q.error ? ` (${q.error.code})` : ''} since ${formatTime(q.currentBegan, now)}; next attempt ${formatTime(q.nextAttempt, now)}`,
                  },
                ]
              : []),
            {
              title: 'Synchronized',
              value:
                Object.entries(j.status.synchronizedEntryCountByType)
                  .map(([k, v]) => `${k}: ${v}`)
                  .join(', ') || '—',
            },
          ],
        };
      });
    },
  };
  const bot = new CutoverBot({
    engine,
    policyChanges,
    people,
    notifier,
    links,
    insight,
    alerts,
    runners: {
      list: (tenantId) => hub.listRunners({ tenantId }),
    },
    registrations,
    creation,
    cancellations,
    publicUrl,
    tenantId: defaultTenantId,
    approvalHours: { expiry: settings.APPROVAL_EXPIRY_HOURS, reminder: settings.APPROVAL_REMINDER_HOURS, escalation: settings.APPROVAL_ESCALATION_HOURS },
    answerClickWithinMs: opts.answerClickWithinMs,
    answerNewMigrationWithinMs: opts.answerNewMigrationWithinMs,
    clock,
    log: log.child({ component: 'bot' }),
  });

  const server = createHttpServer({
    tracer,
    adapter,
    bot,
    log,
    ready: async () => {
      await db.query('SELECT 1');
      return {
        store: db.kind,
        sandbox: tenant
          ? { graph: tenant.graphBaseUrl, tenants: sandboxTenants.map((t) => ({ tenantId: t.tenantId, domain: t.domain, graph: t.graphBaseUrl })) }
          : joined
            ? { joined: settings.SANDBOX_GRAPH_URL }
            : null,
        monitor: { lease: leader.kind, leader: leader.isLeader() },
        pid: process.pid,
      };
    },
  });
  hub.registerRoutes(server);
  registerReportRoutes(server, { links: reportLinks, alerts, clock, log, baseUrl: publicUrl });
  registerReportRoute(server, {
    kind: 'assessments',
    links: reportLinks,
    clock,
    log,
    id: /[a-z0-9][a-z0-9-]{0,99}/,
    load: (migrationId) => loadAssessmentReport(engine, migrationId),
    render: { csv: assessmentCsv, json: assessmentJson },
    messages: {
      expired: 'This report link has expired: press Refresh on the assessment card for a new one.',
      missing: 'No assessment has run for this migration.',
    },
  });
  if (tenant) registerSandboxRoutes(server, { tenant, monitor, engine, log });
  // The simulated Connect servers and forests as the fake ADSync / ActiveDirectory modules reach them (loopback only).
  if (sandboxTenants.length) registerSandboxCmdletRoutes(server, { tenants: sandboxTenants, clock, log });

  // In-flight bot turns (messages, card invokes): a graceful stop lets them finish before closing connections.
  let inflight = 0;
  let drained: (() => void) | null = null;
  (server as any).server.on('request', (req: { url?: string }, res: { once(e: 'close', f: () => void): void }) => {
    if (!req.url?.startsWith('/api/messages')) return;
    inflight++;
    res.once('close', () => {
      inflight--;
      if (inflight === 0) drained?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(settings.PORT, settings.HOST, () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const url = `http://${settings.HOST.includes(':') ? `[${settings.HOST}]` : settings.HOST}:${port}`;

  // --- background work: lease sweeps, recovery after a restart, the sandbox's runner and clock
  const stopSweeper = hub.startSweeper(5_000);
  await engine.recover();
  const agentAbort = new AbortController();
  const windowsRoots: string[] = [];
  const sandboxExecutor = (t: SandboxTenant): Executor => {
    if (!pwsh) return new SandboxExecutor({ server: t.forest.server, clock });
    const windowsRoot = mkdtempSync(path.join(tmpdir(), `cutover-sandbox-${t.domain.split('.')[0]}-`));
    windowsRoots.push(windowsRoot);
    return new PowerShellExecutor({ executable: pwsh, env: sandboxPowerShellEnv({ onpremUrl: `${url}${cmdletBasePath(t.tenantId)}`, windowsRoot }) });
  };
  // One runner agent per simulated tenant, bound to that tenant: it never leases another tenant's jobs.
  for (const t of (opts.sandboxAgent ?? true) ? sandboxTenants : []) {
    for (const r of await hub.listRunners({ tenantId: t.tenantId }))
      if (r.name.startsWith('sandbox-') && r.health !== 'Revoked') await hub.revokeRunner(r.id, t.tenantId);
    const label = t === tenant ? '' : `${t.domain.split('.')[0]}-`;
    // The same name at every start (the old one revoked first): migrations are bound to their runner by name.
    const { token } = await hub.createRunner({ name: `sandbox-${label}runner`, tenantId: t.tenantId });
    const executor = sandboxExecutor(t);
    log.info(
      { tenantId: t.tenantId, executor: executor.kind, ...(pwsh ? { powershell: pwsh } : {}) },
      executor.kind === 'powershell'
        ? 'sandbox runner: the real PowerShell scripts under pwsh, against the simulated Connect server'
        : 'sandbox runner: the TypeScript sandbox executor',
    );
    const agent = startAgent({
      serverUrl: url,
      token,
      executor,
      log: log.child({ component: 'sandbox-runner', tenantId: t.tenantId }),
      signal: agentAbort.signal,
    });
    agent.done.catch((err) => log.error({ err }, 'sandbox runner stopped'));
  }
  for (const t of sandboxTenants) t.startTimer(opts.sandboxTickMs ?? settings.SANDBOX_TICK_MS);
  if (opts.monitorSchedules ?? settings.MONITOR) {
    monitor.start({ jobs: settings.MONITOR_CRON, reconcile: settings.MONITOR_CRON, health: settings.MONITOR_HEALTH_CRON });
    housekeeping.start(settings.MONITOR_APPROVALS_CRON);
  }

  return {
    settings,
    url,
    server,
    db,
    clock,
    log,
    engine,
    registrations,
    cancellations,
    hub,
    runnerGateway,
    alerts,
    monitor,
    housekeeping,
    notifier,
    tenant,
    tenants: sandboxTenants,
    telemetry,
    inflight: () => inflight,
    async stop() {
      // Give the monitor lease up first, so another instance takes the cycles (and the approvals sweep) over at its next tick.
      await housekeeping.stop();
      await monitor.stop();
      stopSweeper();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      (server as any).server?.closeIdleConnections?.();
      // Drain: bot turns already accepted finish (bounded); no new connection is accepted meanwhile.
      if (inflight > 0) {
        log.info({ inflight }, 'draining in-flight bot turns');
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, 30_000).unref();
        });
      }
      // Clicks answered early ("checking") finish while the runner can still answer them.
      await Promise.race([bot.idle(), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      agentAbort.abort();
      // Long polls from runners would hold the close for their full wait: end them now.
      setTimeout(() => (server as any).server?.closeAllConnections?.(), 1_000).unref();
      await closed;
      await engine.idle();
      for (const t of sandboxTenants) if (t !== opts.tenant) await t.stop();
      for (const dir of windowsRoots) rmSync(dir, { recursive: true, force: true });
      if (!opts.db) await db.close();
      await telemetry.shutdown().catch((err) => log.warn({ err }, 'could not flush the last traces'));
    },
  };
}
