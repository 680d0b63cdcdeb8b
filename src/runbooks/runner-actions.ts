import { randomUUID } from 'node:crypto';
import { getAction, parseParams } from '../actions/index.js';
import { canonicalJson } from './audit.js';
import type { RunnerHub, RunnerJob } from '../runner/hub.js';
import type { EnginePorts, SettledJob } from './engine.js';

/**
 * A step may run a sequence of runner actions (export, change, export). The hub keeps one job per
 * (step, attempt), so each action of the sequence gets its own key: attempt × 100 + position.
 */
export const SEQUENCE_SLOTS = 100;
export const jobAttemptKey = (attempt: number, position: number) => attempt * SEQUENCE_SLOTS + position;
export const stepAttemptOf = (jobAttempt: number) => Math.floor(jobAttempt / SEQUENCE_SLOTS);

/** The job has ended: a result, a failure, or a lease that expired. */
const hasEnded = (job: RunnerJob) => job.state === 'succeeded' || job.state === 'failed' || job.state === 'lost';

export class RunnerReadError extends Error {
  /** The runner's error code when it answered with a failure (e.g. `not-found`); none when no runner answered. */
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * The engine's and the monitor's way to the runner: queued jobs for steps, and awaited reads.
 * Reads wait on the hub's settlement callback, and also re-read the job row, because with several
 * server processes the result may be posted to another one.
 */
export class RunnerGateway {
  /** Jobs someone awaits here: their waiters, and one re-read of the job row for all of them. */
  #watches = new Map<string, { waiters: Set<(job: RunnerJob) => void>; recheck: ReturnType<typeof setInterval> }>();
  /**
   * The newest read queued for each question (tenant, action, parameters): an identical read joins it while no runner
   * has taken it. Forgotten once its job settles or its waiters give up, so it holds only questions still in flight.
   */
  #queuedReads = new Map<string, Promise<string>>();

  constructor(
    private readonly hub: RunnerHub,
    private readonly opts: { readTimeoutMs?: number; recheckMs?: number } = {},
  ) {}

  /** A step job as the engine knows it: the attempt without the sequence position. */
  static asStepJob(job: RunnerJob): RunnerJob {
    return { ...job, attempt: stepAttemptOf(job.attempt) };
  }

  /** To be called from the hub's onJobSettled: true when the job was an awaited read. */
  settled(job: RunnerJob): boolean {
    const watch = this.#watches.get(job.id);
    if (!watch) return job.migrationId.startsWith('read:');
    for (const w of [...watch.waiters]) w(job);
    return true;
  }

  /**
   * Asks a runner of the tenant a read-only question and waits for the answer. Fifty cards asking the same question at
   * once cost the runner one answer: a read joins an identical one that is still queued, which no runner has started,
   * so its answer is as fresh as a new job's would be. A read nobody waits for any more is withdrawn from the queue.
   */
  async read(tenantId: string, action: string, params: Record<string, unknown>, o: { timeoutMs?: number; runnerName?: string } = {}): Promise<any> {
    const def = getAction(action);
    if (def.mutation) throw new RunnerReadError(`${action} changes the server; it can only run as an approved step`);
    const valid = parseParams(action, params) as Record<string, unknown>;
    const question = canonicalJson([tenantId, o.runnerName ?? null, action, valid]);
    const timeoutMs = o.timeoutMs ?? this.opts.readTimeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    for (let tries = 1; ; tries++) {
      const jobId = await this.#queuedRead(question, tenantId, action, valid, o.runnerName);
      const job = await this.#await(jobId, action, deadline - Date.now(), timeoutMs).finally(() => this.#forget(question, jobId));
      if (job.state === 'succeeded') return job.result;
      // Withdrawn by a waiter that gave up just as this one joined: ask again, once.
      if (job.error?.code === 'withdrawn' && tries < 2) continue;
      throw new RunnerReadError(`${action}: ${job.error?.message ?? job.state}`, job.error?.code ?? job.state);
    }
  }

  async #queuedRead(question: string, tenantId: string, action: string, params: Record<string, unknown>, runnerName?: string): Promise<string> {
    const shared = this.#queuedReads.get(question);
    if (shared) {
      const id = await shared.catch(() => undefined);
      if (id && (await this.hub.getJob(id).catch(() => undefined))?.state === 'queued') return id;
      if (this.#queuedReads.get(question) === shared) this.#queuedReads.delete(question);
    }
    const queued = this.#queuedReads.get(question);
    if (queued) return queued; // another caller queued a fresh one meanwhile
    const enqueued = this.hub
      .enqueue({
        migrationId: `read:${randomUUID()}`,
        stepSeq: 0,
        attempt: 0,
        action,
        params,
        tenantId,
        mutation: false,
        ...(runnerName ? { runnerName } : {}),
      })
      .then((j) => j.id);
    this.#queuedReads.set(question, enqueued);
    enqueued.catch(() => this.#queuedReads.get(question) === enqueued && this.#queuedReads.delete(question));
    return enqueued;
  }

  /**
   * A question whose job was answered, or that its last waiter gave up (withdrawn), is no longer queued: drop it, unless
   * a newer job took its place. While others still wait on the job (its watch stands), identical reads keep joining it.
   */
  async #forget(question: string, jobId: string): Promise<void> {
    if (this.#watches.has(jobId)) return;
    const entry = this.#queuedReads.get(question);
    if (entry && (await entry.catch(() => undefined)) === jobId && this.#queuedReads.get(question) === entry) this.#queuedReads.delete(question);
  }

  /** How many questions have a read in the queue that a new identical read would join. */
  get queuedQuestions(): number {
    return this.#queuedReads.size;
  }

  #await(jobId: string, action: string, remainingMs: number, timeoutMs: number): Promise<RunnerJob> {
    return new Promise<RunnerJob>((resolve, reject) => {
      let watch = this.#watches.get(jobId);
      if (!watch) {
        const recheck = setInterval(async () => {
          const j = await this.hub.getJob(jobId).catch(() => undefined);
          if (j && hasEnded(j)) this.settled(j);
        }, this.opts.recheckMs ?? 500);
        watch = { waiters: new Set(), recheck };
        this.#watches.set(jobId, watch);
      }
      const w = watch;
      const leave = () => {
        clearTimeout(timer);
        w.waiters.delete(waiter);
        if (w.waiters.size) return false;
        clearInterval(w.recheck);
        this.#watches.delete(jobId);
        return true;
      };
      const waiter = (j: RunnerJob) => {
        leave();
        resolve(j);
      };
      w.waiters.add(waiter);
      const timer = setTimeout(
        () => {
          if (leave()) void this.hub.withdrawQueuedRead(jobId, `nobody waits for this ${action} any more`).catch(() => false);
          reject(
            new RunnerReadError(
              `no runner answered "${action}" within ${Math.round(timeoutMs / 1000)} s (is a runner for this tenant connected? say "runners")`,
            ),
          );
        },
        Math.max(0, remainingMs),
      );
    });
  }

  port(): EnginePorts['runner'] {
    return {
      enqueue: async ({ position, ...req }) => {
        const job = await this.hub.enqueue({ ...req, attempt: jobAttemptKey(req.attempt, position), mutation: getAction(req.action).mutation });
        return { jobId: job.id };
      },
      settledJob: async (jobId) => {
        const job = await this.hub.getJob(jobId);
        return job && hasEnded(job) ? (RunnerGateway.asStepJob(job) as SettledJob) : null;
      },
      read: (tenantId, action, params, o) => this.read(tenantId, action, params, o),
      // Revoked runners, and runners whose token expired unclaimed (it never works), serve no migration.
      runners: async (tenantId) =>
        (await this.hub.listRunners({ tenantId })).filter((r) => !r.revokedAt && r.health !== 'Expired').map((r) => ({ id: r.id, name: r.name })),
      describe: (action, params) => {
        const def = getAction(action);
        const valid = parseParams(action, params) as Record<string, unknown>;
        return { action, params: valid, mutation: def.mutation, script: `src/agent/scripts/${action}.ps1 (parameters as JSON on stdin)` };
      },
    };
  }
}
