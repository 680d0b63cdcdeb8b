import type { Clock } from '../../clock.js';
import { batchOusWhere } from '../../runbooks/catalog.js';
import type { Migration, RunbookEngine, StepRow } from '../../runbooks/engine.js';
import type { AlertContent, AlertService } from '../alerts.js';
import type { MonitoredJob, MonitorPorts, MonitorSettings } from '../monitor.js';

/**
 * One thing the monitor watches, in a file of its own under checks/, registered in checks/index.ts.
 * The monitor's cycle knows no check by name: it runs the registered checks of a schedule, phase by phase.
 */
export interface MonitorCheck {
  /** The alerts' `check` column and the cycle report's `check` field. */
  readonly key: string;
  /**
   * 'first': run for every migration before any other check, its cards sent when the phase ends (a quarantine
   * reaches the channel without waiting for reconciliation), at `jobConcurrency`. 'main': everything else.
   */
  readonly phase: 'first' | 'main';
  /** Which of the monitor's schedules runs it: 'jobs' (MONITOR_CRON), 'reconcile' (MONITOR_CRON), 'health' (MONITOR_HEALTH_CRON). */
  readonly schedule: 'jobs' | 'reconcile' | 'health';
  /** Checks one migration: raises what holds, resolves what no longer does (through `cx`). */
  run(m: Migration, cx: CheckContext): Promise<void>;
}

/** What a check is given for one cycle: the monitor's parts, what the cycle reads once, and its report. */
export interface CheckContext {
  readonly ports: MonitorPorts;
  readonly engine: RunbookEngine;
  readonly alerts: AlertService;
  readonly clock: Clock;
  readonly settings: MonitorSettings;
  /** The cycle's active migrations. */
  readonly migrations: readonly Migration[];
  /** This check's memory across cycles (per monitor): what it may reuse while its inputs are unchanged. */
  readonly kept: Map<string, unknown>;
  /** A read shared by every check and migration of the cycle: `fn` runs once per key per cycle. */
  once<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** The migration's steps (kept between cycles until the engine reports a change). */
  steps(m: Migration): Promise<StepRow[]>;
  /** The migration's Cloud Sync jobs, read once per cycle. */
  jobs(m: Migration): Promise<MonitoredJob[]>;
  /**
   * A finding of this check; alerted (raised, or kept open) unless `alert` is false. `subject`: what the condition is
   * about when migrations share it (a Cloud Sync job, a runner, a configuration's agents): every migration sharing it
   * raises the same incident, which then lists them all. Returns the alert's id when alerted.
   */
  raise(m: Migration, scope: string, content: AlertContent, alert?: boolean, subject?: string): Promise<string | null>;
  /** Resolves this check's open alerts of the migration whose scope is not in `active`. */
  resolveExcept(m: Migration, active: string[]): Promise<void>;
  /** An error of this check the cycle report shows (the check goes on). */
  error(m: Migration, error: string): void;
}

/** An error as the cycle report shows it; a network failure says which ("fetch failed (ECONNRESET)"). */
export function errorText(err: any): string {
  const msg = String(err?.message ?? err);
  const cause = err?.cause?.code ?? err?.cause?.message;
  return cause && !msg.includes(String(cause)) ? `${msg} (${cause})` : msg;
}

/** Batches whose Cloud Sync scope is configured: their OUs are reconciled and their agents watched. */
export async function scopedOus(m: Migration, cx: CheckContext): Promise<string[]> {
  const steps = await cx.steps(m);
  return batchOusWhere(m, steps, 'ouOnCloudSync');
}
