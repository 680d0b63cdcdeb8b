import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { EngineOwnerOptions, StepRow } from './engine-types.js';
import { awaitingOperator, type EngineContext } from './engine-context.js';
import type { RunbookStore } from './store.js';
import { onRunnerJobSettled, startAction } from './step-runs.js';

/**
 * The owner leases of running steps. Who this engine is: `scope` names what only one live process can be at a time, so
 * an owner with the same scope and another boot id is a previous incarnation of this process, hence dead. Graph and
 * manual actions this process runs are held here and their leases renewed until they end.
 */
export class StepLeases {
  readonly scope: string;
  /** This process's owner id for the steps it runs. */
  readonly instanceId: string;
  readonly leaseMs: number;
  readonly #renewMs: number;
  #owned = new Map<string, { migrationId: string; seq: number; attempt: number }>();
  #renewTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly d: { store: RunbookStore; clock: Clock; log: Logger },
    owner?: EngineOwnerOptions,
  ) {
    this.scope = owner?.scope ?? 'local';
    this.instanceId = `${this.scope}#${randomBytes(6).toString('hex')}`;
    this.leaseMs = owner?.leaseMs ?? 60_000;
    this.#renewMs = owner?.renewMs ?? Math.max(1_000, Math.floor(this.leaseMs / 3));
  }

  /** A lease of this process from `now`. */
  lease(now: Date): { ownerId: string; until: Date } {
    return { ownerId: this.instanceId, until: new Date(now.getTime() + this.leaseMs) };
  }

  /**
   * Takes a running step's owner lease for its current attempt and returns the step; null when it is not running or
   * another process holds the lease for this attempt (that process runs the action).
   */
  claim(migrationId: string, seq: number): Promise<StepRow | null> {
    const { ownerId, until } = this.lease(this.d.clock.now());
    return this.d.store.claim(migrationId, seq, ownerId, until);
  }

  /** Keeps renewing this step's lease while its action runs here; the returned function lets go. */
  hold(migrationId: string, seq: number, attempt: number): () => void {
    const key = `${migrationId}/${seq}`;
    this.#owned.set(key, { migrationId, seq, attempt });
    if (!this.#renewTimer) {
      this.#renewTimer = setInterval(
        () => void this.renew().catch((err) => this.d.log.warn({ err }, 'could not renew the leases of running steps; retrying')),
        this.#renewMs,
      );
      this.#renewTimer.unref();
    }
    return () => {
      if (this.#owned.get(key)?.attempt === attempt) this.#owned.delete(key);
      if (!this.#owned.size && this.#renewTimer) {
        clearInterval(this.#renewTimer);
        this.#renewTimer = null;
      }
    };
  }

  /** Extends the leases of the actions this process is running (on a timer; tests call it with their clock). */
  async renew(): Promise<number> {
    const { ownerId, until } = this.lease(this.d.clock.now());
    let n = 0;
    for (const o of [...this.#owned.values()]) if (await this.d.store.renewLease(o.migrationId, o.seq, o.attempt, ownerId, until)) n++;
    return n;
  }

  /** True when nobody alive runs this step: see settleOrphanedSteps. */
  orphaned(s: StepRow, now: Date): boolean {
    if (s.state !== 'running') return false;
    if ((s.evidence as any)?.awaitingOperator === true) return false; // waits for a person, not for a process
    const leased = !!s.ownerId && s.leaseAttempt === s.attempt;
    if (leased) {
      if (s.ownerId === this.instanceId) return false; // this process runs it
      if (scopeOf(s.ownerId!) === this.scope) return true; // an earlier boot of this process
      return !s.leaseUntil || s.leaseUntil.getTime() <= now.getTime();
    }
    // Not claimed yet for this attempt (just moved to running, or a row from before leases): the same grace from its last change.
    return s.updatedAt.getTime() + this.leaseMs <= now.getTime();
  }
}

/**
 * At start: an action whose owner died (a restart of this process, or another instance of a scale-out whose lease
 * expired) is in an unknown state. Mutations become lost (a human decides; never re-run silently); reads fail and
 * may be retried. A step another live process is running (its lease is current) is left alone.
 * Steps approved but not started are started now.
 */
export async function recover(cx: EngineContext): Promise<void> {
  for (const step of await cx.store.runningOrApproved()) {
    if (step.state !== 'approved') continue;
    cx.track(startAction(cx, step.migrationId, step.seq));
  }
  await settleOrphanedSteps(cx);
}

/**
 * Running steps whose owner is gone: its lease expired (it stopped renewing: crashed, killed, partitioned), or it
 * was an earlier boot of this very process. Steps with a runner job are the runner hub's (job leases); a job of theirs
 * that ended unseen is settled here. Called by recover() at start and by the approvals housekeeping. Returns how many
 * orphaned steps were settled.
 */
export async function settleOrphanedSteps(cx: EngineContext): Promise<number> {
  const now = cx.clock.now();
  const leases = cx.leases;
  let settled = 0;
  for (const step of await cx.store.running()) {
    if (step.jobId) {
      // The runner hub owns it: its result, or its lease's expiry. A result that landed before the step pointed at its
      // job, and could not be taken then (see step-runs.ts, enqueueNext), is taken here.
      const ended = await cx.ports.runner.settledJob(step.jobId);
      if (ended) await onRunnerJobSettled(cx, ended);
      continue;
    }
    if (!leases.orphaned(step, now)) continue;
    const m = (await cx.store.migration(step.migrationId))!;
    const def = cx.plannedStep(m, step).def;
    if (def.action.kind === 'manual' && def.action.verify && awaitingOperator(step, def)) continue; // a person's turn
    const reason = step.ownerId && step.leaseAttempt === step.attempt && scopeOf(step.ownerId) !== leases.scope ? 'owner-lease-expired' : 'restart';
    const details = { reason, owner: step.ownerId, leaseUntil: step.leaseUntil?.toISOString() ?? null };
    const still = (s: StepRow) => s.attempt === step.attempt && leases.orphaned(s, now);
    const mutation = def.action.kind === 'graph' ? def.production : (step.plan?.runner ?? []).some((a) => a.mutation);
    const ok = mutation
      ? await cx.transition(
          m.id,
          step.seq,
          ['running'],
          {
            state: 'lost',
            error: {
              code: 'InterruptedByRestart',
              message:
                'cutover restarted, or the cutover instance running this action stopped, while it was running; check its effect, then choose Retry or Mark done.',
            },
          },
          { action: 'step-lost', details },
          still,
        )
      : await cx.transition(
          m.id,
          step.seq,
          ['running'],
          {
            state: 'failed',
            error: {
              code: 'InterruptedByRestart',
              message: 'cutover restarted, or the cutover instance running it stopped, during this read; Retry runs it again.',
            },
          },
          { action: 'step-failed', details },
          still,
        );
    if (ok) {
      settled++;
      cx.log.warn({ migrationId: m.id, seq: step.seq, attempt: step.attempt, ...details }, 'a running step lost its owner');
    }
  }
  return settled;
}

/** The scope part of an owner id (`<scope>#<boot id>`). */
function scopeOf(ownerId: string): string {
  const i = ownerId.lastIndexOf('#');
  return i < 0 ? ownerId : ownerId.slice(0, i);
}
