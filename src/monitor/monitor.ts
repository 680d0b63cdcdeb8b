import cron, { type ScheduledTask } from 'node-cron';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Migration, RunbookEngine, StepRow } from '../runbooks/engine.js';
import type { AlertContent, AlertService } from './alerts.js';
import { AlwaysLeader, type Leader } from './leader.js';
import type { ConnectScope } from '../runbooks/connect-scope.js';
import type { EntraIdentity, OnPremIdentity } from './reconcile.js';
import { errorText, type CheckContext, type MonitorCheck } from './checks/check.js';
import { MONITOR_CHECKS } from './checks/index.js';

export { QUARANTINE_REASONS, jobSubject } from './checks/job-health.js';
export { reconcileContent } from './checks/ou-count.js';
export type { CheckContext, MonitorCheck } from './checks/check.js';

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
  quarantine: {
    reason: string;
    error?: { code: string | null; message: string | null } | null;
    currentBegan?: string;
    nextAttempt?: string;
    seriesCount?: number;
  } | null;
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

/** What a schedule runs when it fires: the checks registered for that schedule ('jobs+reconcile': both at once). */
export type ScheduledTaskName = 'jobs' | 'reconcile' | 'jobs+reconcile' | 'health';

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
 * (node-cron); `runCycle` runs all checks once (also used by /sandbox/v1/monitor/run). The checks themselves are
 * one file each under checks/, registered in checks/index.ts; the cycle runs them without knowing any by name.
 *
 * A cycle runs the first-phase checks (job health) of every migration first (a quarantine reaches the channel without
 * waiting for reconciliation), then the other checks; migrations are checked `concurrency` at a time, and
 * what several checks read (a migration's jobs and steps, a tenant's users and agents) is read once per cycle.
 * Scheduled cycles run only on the leader (leader.ts): with several instances on PostgreSQL, exactly one.
 * Approval housekeeping (expiry, reminders, lost steps, expired policy changes) is the runbooks room's own
 * schedule (runbooks/housekeeping.ts), which takes the same lease.
 */
export class Monitor {
  #tasks: ScheduledTask[] = [];
  readonly #leader: Leader;
  readonly #checks: readonly MonitorCheck[];
  /** Per check: what it keeps between cycles (e.g. a tenant's users bucketed by the monitored OUs). */
  readonly #kept = new Map<string, Map<string, unknown>>();
  readonly #stepsCache = new Map<string, { at: number; steps: Promise<StepRow[]> }>();

  constructor(
    private readonly d: {
      engine: RunbookEngine;
      alerts: AlertService;
      ports: MonitorPorts;
      clock: Clock;
      log: Logger;
      settings: MonitorSettings;
      leader?: Leader;
      checks?: readonly MonitorCheck[];
    },
  ) {
    this.#leader = d.leader ?? new AlwaysLeader();
    this.#checks = d.checks ?? MONITOR_CHECKS;
    for (const check of this.#checks) this.#kept.set(check.key, new Map());
    // Any change the engine reports for a migration (steps, batches, state) drops its cached steps.
    d.engine.on?.((e: { migrationId?: string }) => {
      if (e?.migrationId) this.#stepsCache.delete(e.migrationId);
    });
  }

  get leader(): Leader {
    return this.#leader;
  }

  start(schedules: { jobs: string; reconcile: string; health: string }): void {
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
  }

  /**
   * What a schedule runs when it fires; nothing (null) unless this process holds the monitor lease.
   * Followers try to take the lease at every tick, so one takes over within a cycle when the leader dies.
   */
  async runScheduled(name: ScheduledTaskName): Promise<CycleReport | null> {
    if (!(await this.#leader.acquire())) return null;
    const schedules: readonly string[] = name === 'jobs+reconcile' ? ['jobs', 'reconcile'] : [name];
    return this.runCycle({ only: this.#checks.filter((c) => schedules.includes(c.schedule)).map((c) => c.key) });
  }

  /** Stops the schedules and gives up the lease (another instance takes over at its next tick). */
  async stop(): Promise<void> {
    for (const t of this.#tasks) await t.destroy();
    this.#tasks = [];
    await this.#leader.release();
  }

  async runCycle(opts: { only?: string[] } = {}): Promise<CycleReport> {
    const report: CycleReport = { at: this.d.clock.now().toISOString(), migrations: 0, findings: [], errors: [] };
    const want = (c: MonitorCheck) => !opts.only || opts.only.includes(c.key);
    await this.d.alerts.wakeSnoozed();
    const migrations = await this.d.engine.listMigrations({ state: 'active' });
    report.migrations = migrations.length;
    const cache = new CycleCache();
    const limit = this.d.settings.concurrency ?? 16;
    // Round-robin over tenants: each tenant has one runner (one read at a time) and its own Graph limits,
    // so migrations checked side by side should be in different tenants.
    const spread = interleaveByTenant(migrations);
    report.timings = { jobHealthMs: 0, otherChecksMs: 0 };
    for (const phase of ['first', 'main'] as const) {
      const checks = this.#checks.filter((c) => c.phase === phase && want(c));
      if (!checks.length) continue;
      const began = Date.now();
      cache.outbox = this.d.alerts.deferred();
      if (phase !== 'first') {
        // Read every migration's steps one at a time first, yielding between reads: a burst would queue the store
        // (PGlite runs each query on this thread) in front of the cards the first phase just raised.
        for (const m of spread) {
          await this.#steps(m, cache).catch(() => undefined);
          await new Promise((r) => setImmediate(r));
        }
      }
      const contexts = checks.map((check) => ({ check, cx: this.#context(check, migrations, cache, report) }));
      try {
        await forEachLimit(spread, phase === 'first' ? (this.d.settings.jobConcurrency ?? 32) : limit, async (m) => {
          for (const { check, cx } of contexts) {
            try {
              await check.run(m, cx);
            } catch (err: any) {
              report.errors.push({ migrationId: m.id, check: check.key, error: errorText(err) });
            }
          }
        });
      } finally {
        // Every migration of the phase is recorded: a shared incident goes out once, naming all it affects.
        cache.outbox.flush();
        cache.outbox = null;
      }
      report.timings[phase === 'first' ? 'jobHealthMs' : 'otherChecksMs'] = Date.now() - began;
    }
    const order = new Map(migrations.map((m, i) => [m.id, i]));
    const byCheck = (c: string) => this.#checks.findIndex((x) => x.key === c);
    report.findings.sort(
      (a, b) =>
        order.get(a.migrationId)! - order.get(b.migrationId)! || byCheck(a.check) - byCheck(b.check) || (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0),
    );
    report.errors.sort((a, b) => order.get(a.migrationId)! - order.get(b.migrationId)! || byCheck(a.check) - byCheck(b.check));
    return report;
  }

  /** What one check is given for one cycle: its findings, resolutions and errors are recorded under its key. */
  #context(check: MonitorCheck, migrations: readonly Migration[], c: CycleCache, report: CycleReport): CheckContext {
    const { engine, alerts, ports, clock, settings } = this.d;
    return {
      engine,
      alerts,
      ports,
      clock,
      settings,
      migrations,
      kept: this.#kept.get(check.key) ?? new Map(),
      once: (key, fn) => c.once(key, fn),
      steps: (m) => this.#steps(m, c),
      jobs: (m) => this.#jobs(m, c),
      raise: (m, scope, content, alert = true, subject) => this.#raise(c, m, check.key, scope, content, report, alert, subject),
      resolveExcept: (m, active) => this.#resolveExcept(m, check.key, active, c),
      error: (m, error) => {
        report.errors.push({ migrationId: m.id, check: check.key, error });
      },
    };
  }

  /**
   * `subject`: what the condition is about when migrations share it (a Cloud Sync job, a runner, a configuration's
   * agents): every migration sharing it raises the same incident, which then lists them all.
   */
  async #raise(
    c: CycleCache,
    m: Migration,
    check: string,
    scope: string,
    content: AlertContent,
    report: CycleReport,
    alert = true,
    subject?: string,
  ): Promise<string | null> {
    report.findings.push({ migrationId: m.id, check, scope, severity: content.severity, title: content.title, alerted: alert });
    if (!alert) return null;
    return (
      await (c.outbox ?? this.d.alerts).raise(
        { migrationId: m.id, tenantId: m.tenantId, conversationId: m.conversationId, check, scope, ...(subject ? { subject } : {}) },
        content,
      )
    ).alertId;
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
}
