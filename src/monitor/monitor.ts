import cron, { type ScheduledTask } from 'node-cron';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Migration, RunbookEngine, StepRow } from '../runbooks/engine.js';
import { isValidDn, makeContainerMatcher } from '../dn.js';
import type { AlertContent, AlertService } from './alerts.js';
import { AlwaysLeader, type Leader } from './leader.js';
import { DnBucketCache, EntraOuView, hasFindings, LIST_KEYS, LIST_TITLES, reconcileOu, type EntraIdentity, type OnPremIdentity, type ReconcileResult } from './reconcile.js';
import { cardSections, reportRowCount } from './reports.js';
import { describeConnectScope, ouInConnectScope, type ConnectScope } from '../runbooks/connect-scope.js';

/** What the monitor reads; the composition root adapts Graph and the runner hub to it (see ports.ts). */
export interface MonitorPorts {
  /** The migration's Cloud Sync jobs, or [] when none is configured yet. */
  jobs(m: Migration): Promise<MonitoredJob[]>;
  /**
   * The tenant's synced users, brought up to date (a users/delta poll). The monitor asks once per tenant per
   * cycle; `stamp` changes whenever the users may have changed, so an unchanged tenant is not re-bucketed.
   */
  entraUsers(tenantId: string): Promise<{ stamp: string; users: () => Iterable<EntraIdentity> }>;
  /** The users under an OU as Active Directory holds them (runner: ad-export-identities). */
  onPremIdentities(m: Migration, ou: string): Promise<OnPremIdentity[]>;
  /**
   * Cloud Sync agent health for the migration's configuration, inferred from the job's status, quarantine reasons and
   * provisioning logs (app-only Graph cannot list agents: that API takes delegated permissions only); null before a job exists.
   */
  agents(m: Migration): Promise<{ verdict: 'healthy' | 'unhealthy' | 'unknown'; reasons: string[]; lastSuccessfulRun: string | null; source: string } | null>;
  runners(tenantId: string): Promise<{ name: string; health: string; lastSeenAt: Date | null }[]>;
  /** Get-ADSyncScheduler as it is: Connect records no "disabled since" (cutover's own step records give that). */
  scheduler(m: Migration): Promise<{ syncCycleEnabled: boolean; stagingModeEnabled: boolean }>;
  /** The AD connector's scope as Connect stores it (partitions, inclusions, exclusions, group filtering). */
  connectorScope(m: Migration): Promise<ConnectScope>;
  /** When the monitor first saw this tenant's scheduler off with no migration holding it (kept across restarts). */
  schedulerSeenOff?(tenantId: string, off: boolean, now: Date): Promise<Date | null>;
}

export interface MonitoredJob {
  id: string;
  templateId: string;
  code: string;
  quarantine: { reason: string; error?: { code: string | null; message: string | null } | null; currentBegan?: string; nextAttempt?: string; seriesCount?: number } | null;
  countSuccessiveCompleteFailures: number;
  steadyStateAchieved: boolean;
  lastExecutionState?: string | null;
  lastExecutionEnded?: string | null;
}

export interface MonitorSettings {
  /** Consecutive cycles a reconciliation difference must persist before it alerts (initial sync: differences are expected). */
  mismatchCycles: number;
  /** The same once the job reached steady state (default 1: at once). 2 rides out one Cloud Sync cycle of lag. */
  steadyMismatchCycles?: number;
  /** The Connect scheduler may stay disabled this long while the runbook expects it enabled. */
  schedulerDisabledMs: number;
  /** Migrations checked at once (default 16): spread over tenants, so each tenant's runner stays busy; Graph calls are further bounded per tenant by the transport. */
  concurrency?: number;
  /** Migrations whose job health is checked at once (default 32): one Graph request each, so a quarantine is seen fast. */
  jobConcurrency?: number;
  /** How long a migration's steps are reused between cycles when the engine reported no change (default 5 min). */
  stepsMaxAgeMs?: number;
}

/** Each documented quarantine reason: a plain cause and Microsoft's remedy. */
export const QUARANTINE_REASONS: Record<string, { cause: string; remedy: string; resetScope: string }> = {
  EncounteredBaseEscrowThreshold: { cause: 'Too many objects failed to provision (the escrow count passed its base threshold).', remedy: 'Read the provisioning logs for the failing objects, fix them, then restart the job clearing the quarantine (Watermark, Escrows, QuarantineState).', resetScope: 'Watermark, Escrows, QuarantineState' },
  EncounteredTotalEscrowThreshold: { cause: 'The total number of failed objects passed the threshold (over 40,000).', remedy: 'Fix the failing objects shown in the provisioning logs, then restart clearing escrows and quarantine.', resetScope: 'Watermark, Escrows, QuarantineState' },
  EncounteredEscrowProportionThreshold: { cause: 'More than 40% of the objects in scope failed to provision.', remedy: 'Usually a systemic cause (credentials, agent, mappings): fix it, then restart clearing escrows and quarantine.', resetScope: 'Watermark, Escrows, QuarantineState' },
  EncounteredQuarantineException: { cause: 'A critical error stopped the job (for example invalid credentials or no active agent).', remedy: 'Check the quarantine error code: repair the sync account (Repair-AADCloudSyncToolsAccount) or the agent, then restart.', resetScope: 'Watermark, Escrows, QuarantineState' },
  QuarantinedOnDemand: { cause: 'An administrator quarantined the job on purpose.', remedy: 'Restart the job when the reason is resolved.', resetScope: 'QuarantineState' },
  TooManyDeletes: { cause: 'The job would delete more objects than the accidental-delete threshold allows, so it holds the deletes.', remedy: 'Check whether the deletes are intended (scope changes, OU moves). If they are, allow them (restart with ForceDeletes, approval-gated); if not, fix the scope and restart.', resetScope: 'ForceDeletes' },
  IngestionInterrupted: { cause: 'Import from Active Directory was interrupted.', remedy: 'Check agent connectivity to the domain controllers, then restart.', resetScope: 'Watermark, Escrows, QuarantineState' },
  Unknown: { cause: 'The service did not give a reason.', remedy: 'Read the provisioning logs and agent trace (Export-AADCloudSyncToolsLogs), then restart.', resetScope: 'Watermark, Escrows, QuarantineState' },
};

/** The subject of a Cloud Sync job's incidents: every migration whose configuration runs the job shares them. */
export function jobSubject(jobId: string): string {
  return `job:${jobId}`;
}

export interface CycleReport {
  at: string;
  migrations: number;
  findings: { migrationId: string; check: string; scope: string; severity: string; title: string; alerted: boolean }[];
  errors: { migrationId: string; check: string; error: string }[];
  /** Wall time of each phase: job health first (quarantines), then the other checks. */
  timings?: { jobHealthMs: number; otherChecksMs: number };
}

/** What one cycle reads, read once: a port call shared by every check (and migration) that needs it. */
class CycleCache {
  readonly #memo = new Map<string, Promise<unknown>>();
  /** The phase's alert changes: their cards go out when the phase ends (see AlertService.deferred). */
  outbox: ReturnType<AlertService['deferred']> | null = null;
  once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let p = this.#memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = fn();
      p.catch(() => {}); // callers see the rejection; an unobserved copy must not crash the process
      this.#memo.set(key, p);
    }
    return p;
  }
}

export type ScheduledTaskName = 'jobs' | 'reconcile' | 'jobs+reconcile' | 'health' | 'approvals';

const FIRST_PHASE = ['job-health'];
const ALL_CHECKS = ['job-health', 'ou-count', 'coexistence', 'agents', 'runner', 'scheduler'];

/** An error as the cycle report shows it; a network failure says which ("fetch failed (ECONNRESET)"). */
function errorText(err: any): string {
  const msg = String(err?.message ?? err);
  const cause = err?.cause?.code ?? err?.cause?.message;
  return cause && !msg.includes(String(cause)) ? `${msg} (${cause})` : msg;
}

function interleaveByTenant(ms: Migration[]): Migration[] {
  const groups = new Map<string, Migration[]>();
  for (const m of ms) {
    const g = groups.get(m.tenantId);
    if (g) g.push(m);
    else groups.set(m.tenantId, [m]);
  }
  const lists = [...groups.values()];
  const out: Migration[] = [];
  for (let i = 0; out.length < ms.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * Watches every active migration and speaks through alerts. One schedule per check family
 * (node-cron); `runCycle` runs all checks once (also used by /sandbox/v1/monitor/run).
 *
 * A cycle runs the job-health check of every migration first (a quarantine reaches the channel without
 * waiting for reconciliation), then the other checks; migrations are checked `concurrency` at a time, and
 * what several checks read (a migration's jobs and steps, a tenant's users and agents) is read once per cycle.
 * Scheduled cycles run only on the leader (leader.ts): with several instances on PostgreSQL, exactly one.
 */
export class Monitor {
  #tasks: ScheduledTask[] = [];
  readonly #leader: Leader;
  /** Per tenant: the users bucketed by the monitored OUs, kept while neither the users nor the OUs change. */
  readonly #views = new Map<string, { stamp: string; signature: string; view: EntraOuView }>();
  readonly #stepsCache = new Map<string, { at: number; steps: Promise<StepRow[]> }>();

  constructor(
    private readonly d: { engine: RunbookEngine; alerts: AlertService; ports: MonitorPorts; clock: Clock; log: Logger; settings: MonitorSettings; leader?: Leader; policyChanges?: { expireDue(): Promise<number> } },
  ) {
    this.#leader = d.leader ?? new AlwaysLeader();
    // Any change the engine reports for a migration (steps, batches, state) drops its cached steps.
    d.engine.on?.((e: { migrationId?: string }) => {
      if (e?.migrationId) this.#stepsCache.delete(e.migrationId);
    });
  }

  get leader(): Leader {
    return this.#leader;
  }

  start(schedules: { jobs: string; reconcile: string; health: string; approvals: string }): void {
    const run = (name: ScheduledTaskName, expr: string) =>
      cron.schedule(
        expr,
        async () => {
          try {
            await this.runScheduled(name);
          } catch (err) {
            this.d.log.error({ err, check: name }, 'monitor check failed');
          }
        },
        { name: `cutover-${name}`, noOverlap: true },
      );
    if (schedules.jobs === schedules.reconcile) {
      // Same schedule: one cycle, so the jobs list read for job health also serves reconciliation.
      this.#tasks.push(run('jobs+reconcile', schedules.jobs));
    } else {
      this.#tasks.push(run('jobs', schedules.jobs));
      this.#tasks.push(run('reconcile', schedules.reconcile));
    }
    this.#tasks.push(run('health', schedules.health));
    this.#tasks.push(run('approvals', schedules.approvals));
  }

  /**
   * What a schedule runs when it fires; nothing (null) unless this process holds the monitor lease.
   * Followers try to take the lease at every tick, so one takes over within a cycle when the leader dies.
   */
  async runScheduled(name: ScheduledTaskName): Promise<CycleReport | { approvals: unknown } | null> {
    if (!(await this.#leader.acquire())) return null;
    switch (name) {
      case 'jobs':
        return this.runCycle({ only: ['job-health'] });
      case 'reconcile':
        return this.runCycle({ only: ['ou-count', 'coexistence'] });
      case 'jobs+reconcile':
        return this.runCycle({ only: ['job-health', 'ou-count', 'coexistence'] });
      case 'health':
        return this.runCycle({ only: ['agents', 'runner', 'scheduler'] });
      case 'approvals': {
        const approvals = await this.d.engine.sweepApprovals();
        // Running Graph/manual steps whose owning instance died (its lease expired) become lost, once.
        const orphaned = (await this.d.engine.settleOrphanedSteps?.()) ?? 0;
        const policyChangesExpired = (await this.d.policyChanges?.expireDue()) ?? 0;
        await this.d.alerts.wakeSnoozed();
        return { approvals: { ...approvals, orphaned, policyChangesExpired } };
      }
    }
  }

  /** Stops the schedules and gives up the lease (another instance takes over at its next tick). */
  async stop(): Promise<void> {
    for (const t of this.#tasks) await t.destroy();
    this.#tasks = [];
    await this.#leader.release();
  }

  async runCycle(opts: { only?: string[] } = {}): Promise<CycleReport> {
    const report: CycleReport = { at: this.d.clock.now().toISOString(), migrations: 0, findings: [], errors: [] };
    const want = (c: string) => !opts.only || opts.only.includes(c);
    await this.d.alerts.wakeSnoozed();
    const migrations = await this.d.engine.listMigrations({ state: 'active' });
    report.migrations = migrations.length;
    const cache = new CycleCache();
    const checks: Record<string, (m: Migration) => Promise<void>> = {
      'job-health': (m) => this.#jobHealth(m, cache, report),
      'ou-count': (m) => this.#reconcile(m, migrations, cache, report),
      coexistence: (m) => this.#coexistence(m, cache, report),
      agents: (m) => this.#agents(m, cache, report),
      runner: (m) => this.#runner(m, cache, report),
      scheduler: (m) => this.#scheduler(m, cache, report),
    };
    const limit = this.d.settings.concurrency ?? 16;
    // Round-robin over tenants: each tenant has one runner (one read at a time) and its own Graph limits,
    // so migrations checked side by side should be in different tenants.
    const spread = interleaveByTenant(migrations);
    report.timings = { jobHealthMs: 0, otherChecksMs: 0 };
    for (const phase of [FIRST_PHASE, ALL_CHECKS.filter((c) => !FIRST_PHASE.includes(c))]) {
      const names = phase.filter(want);
      if (!names.length) continue;
      const began = Date.now();
      cache.outbox = this.d.alerts.deferred();
      if (phase !== FIRST_PHASE) {
        // Read every migration's steps one at a time first, yielding between reads: a burst would queue the store
        // (PGlite runs each query on this thread) in front of the cards the first phase just raised.
        for (const m of spread) {
          await this.#steps(m, cache).catch(() => undefined);
          await new Promise((r) => setImmediate(r));
        }
      }
      try {
        await forEachLimit(spread, phase === FIRST_PHASE ? (this.d.settings.jobConcurrency ?? 32) : limit, async (m) => {
          for (const name of names) {
            try {
              await checks[name](m);
            } catch (err: any) {
              report.errors.push({ migrationId: m.id, check: name, error: errorText(err) });
            }
          }
        });
      } finally {
        // Every migration of the phase is recorded: a shared incident goes out once, naming all it affects.
        cache.outbox.flush();
        cache.outbox = null;
      }
      report.timings[phase === FIRST_PHASE ? 'jobHealthMs' : 'otherChecksMs'] = Date.now() - began;
    }
    const order = new Map(migrations.map((m, i) => [m.id, i]));
    const byCheck = (c: string) => ALL_CHECKS.indexOf(c);
    report.findings.sort((a, b) => order.get(a.migrationId)! - order.get(b.migrationId)! || byCheck(a.check) - byCheck(b.check) || (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
    report.errors.sort((a, b) => order.get(a.migrationId)! - order.get(b.migrationId)! || byCheck(a.check) - byCheck(b.check));
    return report;
  }

  /**
   * `subject`: what the condition is about when migrations share it (a Cloud Sync job, a runner, a configuration's
   * agents): every migration sharing it raises the same incident, which then lists them all.
   */
  async #raise(c: CycleCache, m: Migration, check: string, scope: string, content: AlertContent, report: CycleReport, alert = true, subject?: string): Promise<string | null> {
    report.findings.push({ migrationId: m.id, check, scope, severity: content.severity, title: content.title, alerted: alert });
    if (!alert) return null;
    return (await (c.outbox ?? this.d.alerts).raise({ migrationId: m.id, tenantId: m.tenantId, conversationId: m.conversationId, check, scope, ...(subject ? { subject } : {}) }, content)).alertId;
  }

  /** resolveExcept, skipped when the cycle's snapshot of open alerts shows nothing it could resolve. */
  async #resolveExcept(m: Migration, check: string, active: string[], c: CycleCache): Promise<void> {
    const open = (await c.once('open-alerts', () => this.d.alerts.openScopes())).get(`${m.id}|${check}`) ?? [];
    if (open.every((s) => active.includes(s))) return;
    await (c.outbox ?? this.d.alerts).resolveExcept(m.id, check, active);
  }

  /**
   * A migration's steps: kept between cycles (each is a large read) until the engine reports a change to the
   * migration, or `stepsMaxAgeMs` passed (changes made through another instance are seen within that).
   */
  #steps(m: Migration, c: CycleCache): Promise<StepRow[]> {
    return c.once(`steps|${m.id}`, () => {
      const hit = this.#stepsCache.get(m.id);
      const now = Date.now();
      if (hit && now - hit.at < (this.d.settings.stepsMaxAgeMs ?? 5 * 60_000)) return hit.steps;
      const steps = this.d.engine.getSteps(m.id);
      this.#stepsCache.set(m.id, { at: now, steps });
      steps.catch(() => this.#stepsCache.delete(m.id));
      return steps;
    });
  }

  #jobs(m: Migration, c: CycleCache): Promise<MonitoredJob[]> {
    return c.once(`jobs|${m.id}`, () => this.d.ports.jobs(m));
  }

  /** Batches whose Cloud Sync scope is configured: their OUs are reconciled. */
  async #scopedOus(m: Migration, c: CycleCache): Promise<string[]> {
    const steps = await this.#steps(m, c);
    return m.ous.filter((_, i) => steps.some((s) => s.key === 'configure-cloud-sync' && s.batch === i + 1 && s.state === 'succeeded'));
  }

  /** The tenant's synced users bucketed by every OU reconciled in that tenant this cycle: one delta poll, one pass. */
  #entraView(tenantId: string, migrations: Migration[], c: CycleCache): Promise<EntraOuView> {
    return c.once(`entra|${tenantId}`, async () => {
      const lists = await Promise.all(migrations.filter((x) => x.tenantId === tenantId).map((x) => this.#scopedOus(x, c)));
      const ous = [...new Map(lists.flat().map((o) => [DnBucketCache.signatureOf([o]), o])).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
      const signature = DnBucketCache.signatureOf(ous);
      const { stamp, users } = await this.d.ports.entraUsers(tenantId);
      const cached = this.#views.get(tenantId);
      if (cached && cached.stamp === stamp && cached.signature === signature) return cached.view;
      const view = new EntraOuView(users(), ous, cached?.signature === signature ? cached.view.dnCache : new DnBucketCache(ous));
      this.#views.set(tenantId, { stamp, signature, view });
      return view;
    });
  }

  async #jobHealth(m: Migration, c: CycleCache, report: CycleReport): Promise<void> {
    const jobs = await this.#jobs(m, c);
    const active: string[] = [];
    for (const j of jobs) {
      if (j.code === 'Quarantine' && j.quarantine) {
        const info = QUARANTINE_REASONS[j.quarantine.reason] ?? QUARANTINE_REASONS.Unknown;
        active.push(j.id);
        const reason = QUARANTINE_REASONS[j.quarantine.reason] ? j.quarantine.reason : 'Unknown';
        await this.#raise(c, m, 'job-health', j.id, {
          severity: 'critical',
          title: `Cloud Sync job quarantined: ${j.quarantine.reason}`,
          summary: info.cause,
          remedy: info.remedy,
          facts: [
            { title: 'Job', value: j.id },
            { title: 'Reason', value: j.quarantine.reason },
            ...(j.quarantine.error ? [{ title: 'Error', value: `${j.quarantine.error.code}: ${j.quarantine.error.message}` }] : []),
            { title: 'Since', value: j.quarantine.currentBegan ?? '—' },
            { title: 'Next attempt', value: j.quarantine.nextAttempt ?? '—' },
            { title: 'Times in this series', value: String(j.quarantine.seriesCount ?? 1) },
            { title: 'Restart with', value: `resetScope "${info.resetScope}" (approval required)` },
          ],
          // The card offers the restart its reason needs, as a step the change owners approve.
          action: { kind: 'restart-job', jobId: j.id, resetScope: info.resetScope, reason },
        }, report, true, jobSubject(j.id));
      } else if (j.countSuccessiveCompleteFailures >= 3) {
        active.push(j.id);
        await this.#raise(c, m, 'job-health', j.id, {
          severity: 'warning',
          title: `Cloud Sync job failing: ${j.countSuccessiveCompleteFailures} complete failures in a row`,
          summary: 'The job is not in quarantine yet, but its last cycles all failed.',
          remedy: 'Read the provisioning logs (failures first) and the agent trace.',
          facts: [{ title: 'Job', value: j.id }, { title: 'Last execution', value: `${j.lastExecutionState ?? '—'} at ${j.lastExecutionEnded ?? '—'}` }],
        }, report, true, jobSubject(j.id));
      }
    }
    await this.#resolveExcept(m, 'job-health', active, c);
  }

  /**
   * Reconciliation per scoped OU (check key 'ou-count'): AD's users under the OU against Entra's synced users
   * placed under it. Alerts when any list is non-empty for `mismatchCycles` consecutive cycles, or
   * `steadyMismatchCycles` once the job reached steady state; resolves when every list is empty again.
   */
  async #reconcile(m: Migration, migrations: Migration[], c: CycleCache, report: CycleReport): Promise<void> {
    const ous = await this.#scopedOus(m, c);
    if (!ous.length) return;
    const jobs = await this.#jobs(m, c);
    const steady = jobs.some((j) => j.templateId.startsWith('AD2AADProvisioning') && j.steadyStateAchieved);
    const view = await this.#entraView(m.tenantId, migrations, c);
    const need = steady ? Math.max(1, this.d.settings.steadyMismatchCycles ?? 1) : Math.max(1, this.d.settings.mismatchCycles);
    const active: string[] = [];
    const cleared: string[] = [];
    for (const ou of ous) {
      let result: ReconcileResult;
      try {
        const onPrem = await this.d.ports.onPremIdentities(m, ou);
        result = reconcileOu({ ou, onPrem, entra: view.under(ou), tenant: view });
      } catch (err: any) {
        // Unknown this cycle (runner down, export failed): neither count it nor resolve what is open.
        report.errors.push({ migrationId: m.id, check: 'ou-count', error: `${ou}: ${errorText(err)}` });
        active.push(ou);
        continue;
      }
      const holds = hasFindings(result);
      const key = `${m.id}|ou-count|${ou.toLowerCase()}`;
      if (!holds) {
        if ((await c.once('streaks', () => this.d.alerts.streakKeys())).has(key)) cleared.push(key);
        continue;
      }
      const streak = await this.d.alerts.streak(key, true);
      active.push(ou); // keep an already-open incident open while the difference persists
      const alert = streak >= need;
      const alertId = await this.#raise(c, m, 'ou-count', ou, reconcileContent(result, { steady, need }), report, alert);
      if (alertId) {
        await this.d.alerts.reports.save({ v: 1, alertId, migrationId: m.id, migrationName: m.name, ou, generatedAt: this.d.clock.now().toISOString(), result });
      }
    }
    await this.d.alerts.clearStreaks(cleared);
    await this.#resolveExcept(m, 'ou-count', active, c);
  }

  async #coexistence(m: Migration, c: CycleCache, report: CycleReport): Promise<void> {
    const steps = await this.#steps(m, c);
    const ous = m.ous.filter((_, i) => steps.some((s) => s.key === 'create-noflow-rules' && s.batch === i + 1 && s.state === 'succeeded'));
    if (!ous.length) return;
    const scope = await c.once(`connector-scope|${m.tenantId}`, () => this.d.ports.connectorScope(m));
    // Inclusions, exclusions, partition selection and group filtering: in the usual "domain root included" shape an
    // OU that leaves scope shows up only as an exclusion.
    const verdicts = ous.map((ou) => ({ ou, v: ouInConnectScope(scope, ou) }));
    const out = verdicts.filter((x) => !x.v.inScope).map((x) => x.ou);
    for (const { ou, v } of verdicts) {
      if (v.inScope) continue;
      await this.#raise(c, m, 'coexistence', ou, {
        severity: 'critical',
        title: `${ou} was removed from Connect Sync scope before cutover`,
        summary: `${v.detail}. Removing objects from Connect Sync scope during coexistence can drop references in the Entra connector space and export reference deletes (group membership removals) to Entra ID (seed 001).`,
        remedy: 'Put the OU back in the AD connector\'s scope in the Connect wizard before the next sync cycle, and keep the scheduler stopped until it is back.',
        facts: [{ title: 'OU', value: ou }, { title: 'Connect scope', value: describeConnectScope(scope) || '(empty)' }],
      }, report);
    }
    await this.#resolveExcept(m, 'coexistence', out, c);
  }

  async #agents(m: Migration, c: CycleCache, report: CycleReport): Promise<void> {
    if (!(await this.#scopedOus(m, c)).length) return;
    const h = await c.once(`agents|${m.tenantId}|${m.domain.toLowerCase()}`, () => this.d.ports.agents(m));
    const scopes: string[] = [];
    if (h?.verdict === 'unhealthy') {
      scopes.push('unhealthy');
      await this.#raise(c, m, 'agents', 'unhealthy', {
        severity: 'critical',
        title: `Cloud Sync agents for ${m.domain} look unhealthy`,
        summary: `${h.reasons.join(' ')} (inferred from ${h.source}).`,
        remedy: 'Check the provisioning agent service (Microsoft Azure AD Connect Provisioning Agent) on the agent servers, its outbound connectivity, and the agents page in the Entra admin center.',
        facts: [
          { title: 'Last successful run', value: h.lastSuccessfulRun ?? 'never' },
          { title: 'How this is known', value: 'app-only Graph cannot list agents: job status, quarantine reasons and provisioning logs' },
        ],
      }, report, true, `configuration:${m.domain.toLowerCase()}`);
    }
    await this.#resolveExcept(m, 'agents', scopes, c);
  }

  async #runner(m: Migration, c: CycleCache, report: CycleReport): Promise<void> {
    // A runner down affects the migrations bound to it (and those not bound yet, which would take the tenant's runner).
    const mine = (r: { name: string }) => !m.runnerName || m.runnerName.toLowerCase() === r.name.toLowerCase();
    const down = (await c.once(`runners|${m.tenantId}`, () => this.d.ports.runners(m.tenantId))).filter((r) => r.health === 'Down' && mine(r));
    for (const r of down) {
      await this.#raise(c, m, 'runner', r.name, {
        severity: 'critical',
        title: `Runner ${r.name} is down`,
        summary: `No heartbeat or poll for more than 120 s (last seen ${r.lastSeenAt?.toISOString() ?? 'never'}). On-premises steps and checks cannot run.`,
        remedy: 'Check the cutover-runner service on the Connect server and its outbound HTTPS (443) to cutover.',
        facts: [{ title: 'Runner', value: r.name }, { title: 'Last seen', value: r.lastSeenAt?.toISOString() ?? 'never' }],
      }, report, true, `runner:${r.name.toLowerCase()}`);
    }
    await this.#resolveExcept(m, 'runner', down.map((r) => r.name), c);
  }

  async #scheduler(m: Migration, c: CycleCache, report: CycleReport): Promise<void> {
    // How long the scheduler has been off comes from cutover's records of the step that stopped it: Connect keeps no
    // such time (Get-ADSyncScheduler has no "disabled since"). Off with no migration holding it: since first seen off.
    const held = await c.once(`scheduler-held|${m.id}`, () => this.d.engine.schedulerHold(m.id));
    const s = await c.once(`scheduler|${m.tenantId}`, () => this.d.ports.scheduler(m));
    const now = this.d.clock.now();
    const scopes: string[] = [];
    const heldByAny = held ?? (await c.once(`scheduler-held-tenant|${m.tenantId}`, () => this.d.engine.schedulerHeldInTenant(m.tenantId)));
    const seenOff = await c.once(`scheduler-seen-off|${m.tenantId}`, () => this.d.ports.schedulerSeenOff?.(m.tenantId, !s.syncCycleEnabled && !heldByAny, now) ?? Promise.resolve(null));
    const disabledSince = s.syncCycleEnabled ? null : (held?.since ?? heldByAny?.since ?? seenOff);
    if (!s.syncCycleEnabled && disabledSince) {
      const off = now.getTime() - disabledSince.getTime();
      const weekLimit = 7 * 24 * 3_600_000;
      const since = disabledSince.toISOString();
      const source = held || heldByAny ? `stopped by cutover ("${(held ?? heldByAny)!.stepTitle}")` : 'first seen off by the monitor (not stopped by cutover)';
      // Connect disabled on purpose (service stopped too) is the soak: a rollback then needs a full sync, said on its card.
      if (off >= weekLimit - 24 * 3_600_000 && !(held ?? heldByAny)?.serviceStopped) {
        scopes.push('seven-day');
        await this.#raise(c, m, 'scheduler', 'seven-day', {
          severity: 'critical',
          title: 'Connect Sync scheduler off for nearly 7 days',
          summary: `The scheduler has been disabled since ${since} (${source}). A delta sync must happen within 7 days of the last one, or a full sync is needed.`,
          remedy: 'Finish the current step and start the scheduler, or run a delta cycle (Start-ADSyncSyncCycle -PolicyType Delta).',
          facts: [{ title: 'Disabled since', value: since }, { title: 'Source', value: source }],
        }, report);
      } else if (!heldByAny && off >= this.d.settings.schedulerDisabledMs) {
        scopes.push('left-disabled');
        await this.#raise(c, m, 'scheduler', 'left-disabled', {
          severity: 'warning',
          title: 'Connect Sync scheduler left disabled',
          summary: `The scheduler has been disabled since ${since} (${source}), but no step of this migration expects it off now.`,
          remedy: "Start it (Set-ADSyncScheduler -SyncCycleEnabled $true) or run the runbook's start-scheduler step.",
          facts: [{ title: 'Disabled since', value: since }, { title: 'Source', value: source }],
        }, report);
      }
    }
    if (s.stagingModeEnabled && m.kind === 'connect-to-cloud-sync') {
      scopes.push('staging');
      await this.#raise(c, m, 'scheduler', 'staging', {
        severity: 'warning',
        title: 'Connect Sync server is in staging mode',
        summary: 'This runbook does not expect staging mode: Connect Sync exports nothing while it is on.',
        remedy: 'Check whether the wizard was used to enable staging mode by mistake.',
        facts: [{ title: 'StagingModeEnabled', value: 'True' }],
      }, report);
    }
    await this.#resolveExcept(m, 'scheduler', scopes, c);
  }
}

/** The alert for one OU's reconciliation: counts per list as facts, the first 20 of each list, the report's size. */
export function reconcileContent(r: ReconcileResult, o: { steady: boolean; need: number }): AlertContent {
  const k = r.counts;
  const diff = k.entra - k.onPrem;
  const lists = LIST_KEYS.filter((key) => r[key].length > 0);
  const remedies: string[] = [];
  if (k.missingInEntra) remedies.push('Missing: read the provisioning logs for those users and the job status; provision one on demand to see the reason.');
  if (k.notOnPrem) remedies.push('In Entra only: check for moves out of the OU and deletes held by the accidental-delete threshold.');
  if (k.duplicates) remedies.push('Duplicates: make UPN and mail unique on-premises, or hard-match the existing cloud user (matching immutable id) before the next sync; otherwise a soft match or an AttributeValueMustBeUnique error follows.');
  if (k.drift) remedies.push('Drift: look for export errors on those users in the provisioning logs and check the attribute mappings.');
  if (k.immutableIdMismatch) remedies.push('Immutable id: set ms-DS-ConsistencyGuid to the GUID Entra holds (or fix the cloud user) before Cloud Sync takes these users over, or they will be duplicated.');
  return {
    severity: 'warning',
    title: k.onPrem !== k.entra ? `User count mismatch in ${r.ou}` : `Reconciliation differences in ${r.ou}`,
    summary:
      `Active Directory has ${k.onPrem} users in the OU; Entra ID has ${k.entra} synced users whose on-premises DN is in it (${diff > 0 ? '+' : ''}${diff}). ` +
      `Differences: ${lists.map((key) => `${LIST_TITLES[key].replace(/ \(.*\)$/, '').toLowerCase()} ${r[key].length}`).join(', ')}.`,
    remedy: remedies.join(' '),
    facts: [
      { title: 'OU', value: r.ou },
      { title: 'On-premises', value: String(k.onPrem) },
      { title: 'Entra ID', value: String(k.entra) },
      { title: 'Matched', value: String(k.matched) },
      ...LIST_KEYS.map((key) => ({ title: LIST_TITLES[key], value: String(r[key].length) })),
      { title: 'Persisted', value: o.steady ? (o.need > 1 ? `${o.need}+ consecutive checks (job in steady state)` : 'job in steady state: alerting at once') : `${o.need}+ consecutive checks` },
    ],
    objects: { title: '', lines: [], sections: cardSections(r), report: { rows: reportRowCount(r) } },
  };
}
