import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';
import type { RunbookEngine } from './engine.js';
import type { PolicyChanges } from './policy-changes.js';
import type { StepRow } from './engine-types.js';
import type { EngineContext } from './engine-context.js';
import { startAction } from './step-runs.js';

/** Who may sweep now: the composition root passes the monitor's lease, so one process of a deployment sweeps. */
export interface HousekeepingLease {
  acquire(): Promise<boolean>;
}

export interface HousekeepingReport {
  approvals: { expired: number; reminded: number; escalated: number; started: number; orphaned: number; policyChangesExpired: number };
}

/**
 * The runbooks room's own schedule: approval requests expire, remind and escalate (and approved steps whose window
 * opened start), running steps whose owner died become lost, and policy changes past their expiry expire (their
 * cards updated in place). One schedule (MONITOR_APPROVALS_CRON); runs only while this process holds the lease.
 */
export class ApprovalHousekeeping {
  #task: ScheduledTask | null = null;

  constructor(
    private readonly d: {
      engine: Pick<RunbookEngine, 'sweepApprovals'> & Partial<Pick<RunbookEngine, 'settleOrphanedSteps'>>;
      policyChanges?: Pick<PolicyChanges, 'expireDue'>;
      log: Logger;
      lease?: HousekeepingLease;
      /** Run after each sweep (the composition root wakes snoozed alerts here, on the same schedule as before). */
      after?: () => Promise<unknown>;
    },
  ) {}

  start(schedule: string): void {
    this.#task = cron.schedule(
      schedule,
      async () => {
        try {
          await this.runScheduled();
        } catch (err) {
          this.d.log.error({ err, check: 'approvals' }, 'approval housekeeping failed');
        }
      },
      { name: 'cutover-approvals', noOverlap: true },
    );
  }

  /** What the schedule runs when it fires; nothing (null) unless this process holds the lease. */
  async runScheduled(): Promise<HousekeepingReport | null> {
    if (this.d.lease && !(await this.d.lease.acquire())) return null;
    return this.runOnce();
  }

  async runOnce(): Promise<HousekeepingReport> {
    const approvals = await this.d.engine.sweepApprovals();
    // Running Graph/manual steps whose owning instance died (its lease expired) become lost, once.
    const orphaned = (await this.d.engine.settleOrphanedSteps?.()) ?? 0;
    const policyChangesExpired = (await this.d.policyChanges?.expireDue()) ?? 0;
    await this.d.after?.();
    return { approvals: { ...approvals, orphaned, policyChangesExpired } };
  }

  /** Stops the schedule (the lease is the monitor's to give up). */
  async stop(): Promise<void> {
    await this.#task?.destroy();
    this.#task = null;
  }
}

/** Expiry, reminders and escalation of pending approval requests; approved steps whose window opened start. Called by ApprovalHousekeeping's schedule (through the engine). */
export async function sweepApprovals(cx: EngineContext): Promise<{ expired: number; reminded: number; escalated: number; started: number }> {
  const now = cx.clock.now();
  const due = await cx.store.dueToStart(now);
  for (const d of due) await startAction(cx, d.migrationId, d.seq);
  const rows = await cx.store.awaitingApproval();
  const out = { expired: 0, reminded: 0, escalated: 0, started: due.length };
  for (const s of rows) {
    const m = (await cx.store.migration(s.migrationId))!;
    const age = now.getTime() - s.requestedAt!.getTime();
    if (age >= m.policy.expiryMs) {
      if (
        await cx.transition(
          m.id,
          s.seq,
          ['awaiting_approval'],
          {
            state: 'pending',
            error: {
              code: 'ApprovalExpired',
              message: `The approval request expired at ${new Date(s.requestedAt!.getTime() + m.policy.expiryMs).toISOString()} without a decision; request it again.`,
            },
          },
          { action: 'approval-expired', details: {} },
          (x) => x.attempt === s.attempt,
        )
      )
        out.expired++;
      continue;
    }
    const escalate = !s.escalatedAt && age >= m.policy.reminderMs + m.policy.escalationMs;
    const remind = !s.remindedAt && age >= m.policy.reminderMs;
    if (escalate || remind) {
      const patch: Partial<StepRow> = escalate ? { escalatedAt: now, remindedAt: s.remindedAt ?? now } : { remindedAt: now };
      const ok = await cx.transition(
        m.id,
        s.seq,
        ['awaiting_approval'],
        patch,
        { action: escalate ? 'approval-escalated' : 'approval-reminded', details: {} },
        (x) => x.attempt === s.attempt,
      );
      if (ok) {
        if (escalate) out.escalated++;
        else out.reminded++;
        cx.emit({ type: 'approval-reminder', migrationId: m.id, seq: s.seq, escalate });
      }
    }
  }
  return out;
}
