import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Db, Sql } from '../store/db.js';
import { noTracer, type TraceSpan, type Tracer } from '../telemetry/tracer.js';
import { ActionError, getAction, parseParams, parseResult } from '../actions/index.js';
import { BodyError, checkBodyHeaders, limitForRoute, readBoundedBody, sendBodyError, type BodyLimit } from './body.js';

export type JobState = 'queued' | 'leased' | 'succeeded' | 'failed' | 'lost';
/** `Expired`: registered with a first-use deadline that passed before the runner ever used its token (it never works). */
export type RunnerHealth = 'Healthy' | 'Unknown' | 'Down' | 'Revoked' | 'Expired';

export interface RunnerJob {
  id: string;
  migrationId: string;
  stepSeq: number;
  attempt: number;
  action: string;
  params: unknown;
  mutation: boolean;
  tenantId: string;
  runnerName: string | null;
  /** The runner this job is addressed to (only it may lease the job), or null. */
  runnerId: string | null;
  pool: string | null;
  state: JobState;
  /** The name of the runner holding (or last holding) the lease, for people; leasedById is what is checked. */
  leasedBy: string | null;
  leasedById: string | null;
  /** Changes with every lease; the holder sends it back with each heartbeat and its result. */
  leaseId: string | null;
  leaseUntil: Date | null;
  leaseCount: number;
  createdAt: Date;
  updatedAt: Date;
  settledAt: Date | null;
  result: unknown;
  error: { code: string; message: string } | null;
  transcript: string | null;
}

export interface RunnerInfo {
  /** Never reused: a runner registered again under the same name gets a new id. */
  id: string;
  name: string;
  tenantId: string;
  pool: string | null;
  createdAt: Date;
  lastSeenAt: Date | null;
  revokedAt: Date | null;
  /** Its token works only if first used before this (null: no deadline, e.g. the sandbox's own runner). */
  claimBy: Date | null;
  /** When the runner first used its token (null: not yet, or registered without a deadline and never seen). */
  claimedAt: Date | null;
  version: string | null;
  executor: string | null;
  health: RunnerHealth;
}

export interface EnqueueInput {
  migrationId: string;
  stepSeq: number;
  attempt: number;
  action: string;
  params: unknown;
  tenantId: string;
  runnerName?: string;
  /** Address the job to one runner (its id, of the same tenant): no other runner leases it. */
  runnerId?: string;
  pool?: string;
  mutation: boolean;
}

export interface RunnerHubOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  /** Called once per job when it reaches succeeded, failed or lost (after the change is committed). */
  onJobSettled: (job: RunnerJob) => Promise<void>;
  /** Lease length; the agent heartbeats every third of it. Default 90 s. */
  leaseMs?: number;
  /** How long a poll waits for a job before answering 204. Default 25 s (under common proxy idle timeouts). */
  pollWaitMs?: number;
  /** How often a waiting poll re-checks the database, for jobs enqueued by another server process. Default 2 s. */
  recheckMs?: number;
  /** Traces (optional): one span per runner job, from queued to settled (job id, action, state). */
  tracer?: Tracer;
}

/** Health thresholds as Rundeck uses them: Unknown after 60 s without contact, Down after 120 s. */
export const UNKNOWN_AFTER_MS = 60_000;
export const DOWN_AFTER_MS = 120_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TOKEN = /^cutover_([0-9a-f-]{36})_([A-Za-z0-9_-]{43})$/;

export class RunnerError extends Error {
  constructor(
    readonly code: 'invalid' | 'exists' | 'not-found' | 'conflict' | 'revoked',
    message: string,
  ) {
    super(message);
    this.name = 'RunnerError';
  }
}

const pollBody = z
  .object({ version: z.string().max(64).optional(), executor: z.string().max(32).optional() })
  .passthrough()
  .default({});
const leaseId = z.string().uuid();
const heartbeatBody = z.object({ leaseId }).passthrough();
const resultBody = z.object({
  leaseId,
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.object({ code: z.string().max(100), message: z.string().max(8000) }).optional(),
  transcript: z.string().max(2_000_000).default(''),
});

type AuthedRunner = { name: string; id: string; tenantId: string; pool: string | null };

/**
 * The control-plane side of the runner protocol: runner registration (hashed tokens), the job queue with leases,
 * long-poll / heartbeat / result endpoints. Runners dial out to these; nothing dials in.
 */
export class RunnerHub {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #onJobSettled: (job: RunnerJob) => Promise<void>;
  readonly leaseMs: number;
  readonly pollWaitMs: number;
  readonly #recheckMs: number;
  /** In-process wakeups for waiting polls; other processes' jobs are found by the periodic re-check. */
  readonly #notifier = new EventEmitter().setMaxListeners(0);
  readonly #tracer: Tracer;
  /** Open spans of jobs queued by this process (a job settled by another process ends here when the map is trimmed). */
  readonly #jobSpans = new Map<string, TraceSpan>();

  constructor(opts: RunnerHubOptions) {
    this.#tracer = opts.tracer ?? noTracer;
    this.#db = opts.db;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#onJobSettled = opts.onJobSettled;
    this.leaseMs = opts.leaseMs ?? 90_000;
    this.pollWaitMs = opts.pollWaitMs ?? 25_000;
    this.#recheckMs = opts.recheckMs ?? 2_000;
  }

  // ---------------------------------------------------------------- runners

  /**
   * Registers a runner and returns its token. The token is shown once; only its SHA-256 is stored. With `claimBy` the
   * token works only if the runner first uses it before then. With `replace`, a live runner of the same name is revoked
   * in the same transaction (a rotation: migrations bound to the name keep their runner). A runner of the same name
   * whose first-use deadline passed unclaimed is revoked too: its token never worked.
   */
  async createRunner(input: {
    name: string;
    tenantId: string;
    pool?: string;
    claimBy?: Date;
    replace?: boolean;
  }): Promise<{ runner: RunnerInfo; token: string; replaced: string | null }> {
    if (!NAME.test(input.name)) throw new RunnerError('invalid', 'runner names are 1-64 letters, digits, ".", "_" or "-"');
    if (input.pool !== undefined && !NAME.test(input.pool)) throw new RunnerError('invalid', 'pool names are 1-64 letters, digits, ".", "_" or "-"');
    const id = randomUUID();
    const token = `cutover_${id}_${randomBytes(32).toString('base64url')}`;
    const now = this.#clock.now();
    const { rows, replaced } = await this.#db.transaction(async (tx) => {
      // Names are unique per tenant among runners not revoked (a unique index holds it under races too); a revoked
      // runner's row stays, so its id is never handed out again.
      const existing = (
        await tx.query('SELECT id, claim_by, claimed_at FROM runners WHERE tenant_id = $1 AND name = $2 AND revoked_at IS NULL FOR UPDATE', [
          input.tenantId,
          input.name,
        ])
      ).rows[0];
      let replaced: string | null = null;
      if (existing) {
        const expired = existing.claim_by && !existing.claimed_at && new Date(existing.claim_by).getTime() <= now.getTime();
        if (!input.replace && !expired) throw new RunnerError('exists', `a runner named ${input.name} already exists; revoke it first`);
        await tx.query('UPDATE runners SET revoked_at = $2 WHERE id = $1', [existing.id, now]);
        replaced = existing.id as string;
      }
      const rows = (
        await tx.query(`INSERT INTO runners (name, id, tenant_id, pool, token_hash, created_at, claim_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`, [
          input.name,
          id,
          input.tenantId,
          input.pool ?? null,
          sha256(token),
          now,
          input.claimBy ?? null,
        ])
      ).rows;
      return { rows, replaced };
    });
    this.#log.info(
      { runner: input.name, runnerId: id, tenantId: input.tenantId, claimBy: input.claimBy?.toISOString(), replaced },
      replaced ? 'runner registered in place of the one of that name' : 'runner registered',
    );
    return { runner: this.#runnerInfo(rows[0], now), token, replaced };
  }

  /**
   * Revokes a runner by its id, or by its name within a tenant. True when one was revoked. Without a tenant a name is
   * taken only when exactly one live runner has it (names are unique per tenant only): otherwise RunnerError 'conflict'.
   */
  async revokeRunner(nameOrId: string, tenantId?: string): Promise<boolean> {
    if (tenantId === undefined) {
      const live = (await this.#db.query('SELECT tenant_id FROM runners WHERE (name = $1 OR id = $1) AND revoked_at IS NULL', [nameOrId])).rows;
      if (live.length > 1) throw new RunnerError('conflict', `several tenants have a runner named ${nameOrId}: name the tenant or use the runner id`);
      if (!live.length) return false;
      tenantId = live[0].tenant_id as string;
    }
    const r = await this.#db.query(
      'UPDATE runners SET revoked_at = $3 WHERE tenant_id = $2 AND (name = $1 OR id = $1) AND revoked_at IS NULL RETURNING name, id',
      [nameOrId, tenantId, this.#clock.now()],
    );
    if (r.rows.length) this.#log.info({ runner: r.rows[0].name, runnerId: r.rows[0].id, tenantId }, 'runner revoked');
    return r.rows.length > 0;
  }

  async listRunners(filter: { tenantId?: string } = {}): Promise<RunnerInfo[]> {
    const r = await this.#db.query('SELECT * FROM runners WHERE ($1::text IS NULL OR tenant_id = $1) ORDER BY name, created_at', [filter.tenantId ?? null]);
    const now = this.#clock.now();
    return r.rows.map((row) => this.#runnerInfo(row, now));
  }

  #runnerInfo(row: any, now: Date): RunnerInfo {
    const lastSeen: Date | null = row.last_seen_at ? new Date(row.last_seen_at) : null;
    let health: RunnerHealth;
    if (row.revoked_at) health = 'Revoked';
    else if (unclaimedPastDeadline(row, now)) health = 'Expired';
    else if (!lastSeen) health = 'Unknown';
    else {
      const silent = now.getTime() - lastSeen.getTime();
      health = silent > DOWN_AFTER_MS ? 'Down' : silent > UNKNOWN_AFTER_MS ? 'Unknown' : 'Healthy';
    }
    return {
      id: row.id,
      name: row.name,
      tenantId: row.tenant_id,
      pool: row.pool,
      createdAt: new Date(row.created_at),
      lastSeenAt: lastSeen,
      revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
      claimBy: row.claim_by ? new Date(row.claim_by) : null,
      claimedAt: row.claimed_at ? new Date(row.claimed_at) : null,
      version: row.version,
      executor: row.executor,
      health,
    };
  }

  // ---------------------------------------------------------------- jobs

  /**
   * Queues an action for a runner (by name) or a pool. Parameters are validated against the allowlist here, so a
   * bad job never reaches a runner. Enqueueing the same (migration, step, attempt) again returns the first job.
   */
  async enqueue(input: EnqueueInput): Promise<RunnerJob> {
    const def = getAction(input.action);
    const params = parseParams(input.action, input.params);
    // The catalog decides what is a mutation; a caller may only make a read stricter, never the reverse.
    const mutation = def.mutation || input.mutation;
    if (input.runnerId !== undefined) {
      const r = (await this.#db.query('SELECT tenant_id, revoked_at FROM runners WHERE id = $1', [input.runnerId])).rows[0];
      if (!r || r.tenant_id !== input.tenantId) throw new RunnerError('not-found', `no runner ${input.runnerId} in this tenant`);
      if (r.revoked_at) throw new RunnerError('revoked', `runner ${input.runnerId} is revoked`);
    }
    const now = this.#clock.now();
    const inserted = await this.#db.query(
      `INSERT INTO runner_jobs (id, migration_id, step_seq, attempt, action, params, mutation, tenant_id, runner_name, pool, state, created_at, updated_at, runner_id)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, 'queued', $11, $11, $12)
       ON CONFLICT (migration_id, step_seq, attempt) DO NOTHING RETURNING *`,
      [
        randomUUID(),
        input.migrationId,
        input.stepSeq,
        input.attempt,
        input.action,
        JSON.stringify(params),
        mutation,
        input.tenantId,
        input.runnerName ?? null,
        input.pool ?? null,
        now,
        input.runnerId ?? null,
      ],
    );
    let row = inserted.rows[0];
    if (!row) {
      row = (
        await this.#db.query('SELECT * FROM runner_jobs WHERE migration_id = $1 AND step_seq = $2 AND attempt = $3', [
          input.migrationId,
          input.stepSeq,
          input.attempt,
        ])
      ).rows[0];
      if (row.action !== input.action) throw new RunnerError('conflict', `step ${input.stepSeq} attempt ${input.attempt} already has a ${row.action} job`);
    } else {
      this.#log.info({ jobId: row.id, action: input.action, migrationId: input.migrationId, step: input.stepSeq }, 'runner job queued');
      if (this.#tracer !== noTracer) {
        this.#jobSpans.set(
          row.id,
          this.#tracer.start(
            'runner.job',
            {
              'cutover.job.id': row.id,
              'cutover.job.action': input.action,
              'cutover.job.mutation': mutation,
              'cutover.migration.id': input.migrationId,
              'cutover.step.seq': input.stepSeq,
              'cutover.step.attempt': input.attempt,
              'cutover.tenant.id': input.tenantId,
            },
            { kind: 'producer' },
          ),
        );
        for (const [id, span] of this.#jobSpans) {
          if (this.#jobSpans.size <= 1000) break;
          span.set({ 'cutover.job.state': 'unknown' });
          span.end();
          this.#jobSpans.delete(id);
        }
      }
      this.#notifier.emit('job');
    }
    return toJob(row);
  }

  async getJob(id: string): Promise<RunnerJob | undefined> {
    const r = await this.#db.query('SELECT * FROM runner_jobs WHERE id = $1', [id]);
    return r.rows[0] ? toJob(r.rows[0]) : undefined;
  }

  async listJobs(filter: { migrationId?: string; state?: JobState } = {}): Promise<RunnerJob[]> {
    const r = await this.#db.query(
      `SELECT * FROM runner_jobs WHERE ($1::text IS NULL OR migration_id = $1) AND ($2::text IS NULL OR state = $2) ORDER BY created_at, id`,
      [filter.migrationId ?? null, filter.state ?? null],
    );
    return r.rows.map(toJob);
  }

  /**
   * Withdraws a read nobody waits for any more, if no runner has taken it yet: a runner that falls behind must not
   * then spend its time on answers no one will read. Mutations are never withdrawn here. True when withdrawn.
   */
  async withdrawQueuedRead(id: string, reason: string): Promise<boolean> {
    const now = this.#clock.now();
    const r = await this.#db.query(
      `UPDATE runner_jobs SET state = 'failed', error = $2::jsonb, settled_at = $3, updated_at = $3 WHERE id = $1 AND state = 'queued' AND NOT mutation RETURNING id`,
      [id, JSON.stringify({ code: 'withdrawn', message: reason }), now],
    );
    return r.rows.length > 0;
  }

  /**
   * Leases past their end without a result: a mutation becomes 'lost' (a human decides; never re-run silently);
   * a read is queued again once, then lost.
   */
  async sweepExpiredLeases(): Promise<{ lost: RunnerJob[]; requeued: RunnerJob[] }> {
    const now = this.#clock.now();
    const { lost, requeued } = await this.#db.transaction(async (tx) => {
      const expired = (await tx.query(`SELECT * FROM runner_jobs WHERE state = 'leased' AND lease_until < $1 ORDER BY id FOR UPDATE SKIP LOCKED`, [now])).rows;
      const lost: RunnerJob[] = [];
      const requeued: RunnerJob[] = [];
      for (const row of expired) {
        if (row.mutation || row.lease_count >= 2) {
          const error = {
            code: 'lease-expired',
            message: `runner ${row.leased_by} went silent while running ${row.action}; check on the server whether it took effect, then Retry or Mark done`,
          };
          const r = await tx.query(`UPDATE runner_jobs SET state = 'lost', error = $2::jsonb, settled_at = $3, updated_at = $3 WHERE id = $1 RETURNING *`, [
            row.id,
            JSON.stringify(error),
            now,
          ]);
          lost.push(toJob(r.rows[0]));
        } else {
          const r = await tx.query(
            `UPDATE runner_jobs SET state = 'queued', leased_by = NULL, leased_by_id = NULL, lease_id = NULL, lease_until = NULL, updated_at = $2 WHERE id = $1 RETURNING *`,
            [row.id, now],
          );
          requeued.push(toJob(r.rows[0]));
        }
      }
      return { lost, requeued };
    });
    for (const job of lost) {
      this.#log.warn({ jobId: job.id, action: job.action, runner: job.leasedBy }, 'runner job lost (lease expired)');
      await this.#settled(job);
    }
    if (requeued.length) this.#notifier.emit('job');
    return { lost, requeued };
  }

  /** Runs sweepExpiredLeases every intervalMs until the returned function is called. */
  startSweeper(intervalMs = 5_000): () => void {
    const t = setInterval(() => {
      this.sweepExpiredLeases().catch((err) => this.#log.error({ err }, 'lease sweep failed'));
    }, intervalMs);
    t.unref();
    return () => clearInterval(t);
  }

  async #settled(job: RunnerJob): Promise<void> {
    const span = this.#jobSpans.get(job.id);
    if (span) {
      this.#jobSpans.delete(job.id);
      span.set({ 'cutover.job.state': job.state, 'cutover.job.runner': job.runnerName ?? undefined });
      if (job.state !== 'succeeded') span.fail({ code: job.error?.code ?? (job.state === 'lost' ? 'RunnerLost' : 'RunnerActionFailed') });
      span.end();
    }
    try {
      await this.#onJobSettled(job);
    } catch (err) {
      this.#log.error({ err, jobId: job.id }, 'onJobSettled failed');
    }
  }

  // ---------------------------------------------------------------- protocol

  /** Leases the oldest job this runner may take; exactly one lease even with competing runners and processes. */
  async #lease(runner: AuthedRunner): Promise<RunnerJob | null> {
    const now = this.#clock.now();
    const until = new Date(now.getTime() + this.leaseMs);
    return this.#db.transaction(async (tx) => {
      const r = await tx.query(
        `UPDATE runner_jobs SET state = 'leased', leased_by = $1, leased_by_id = $6, lease_id = $7, lease_until = $2, lease_count = lease_count + 1, updated_at = $3
         WHERE id = (
           SELECT id FROM runner_jobs
           WHERE state = 'queued' AND tenant_id = $4
             AND (runner_id = $6
               OR (runner_id IS NULL AND (runner_name = $1 OR (runner_name IS NULL AND (pool IS NULL OR pool = $5)))))
           ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
         ) AND state = 'queued'
           -- a long poll authenticated before its runner was revoked must not take a job after it
           AND EXISTS (SELECT 1 FROM runners WHERE id = $6 AND revoked_at IS NULL)
         RETURNING *`,
        [runner.name, until, now, runner.tenantId, runner.pool, runner.id, randomUUID()],
      );
      return r.rows[0] ? toJob(r.rows[0]) : null;
    });
  }

  async #authenticate(req: Request): Promise<AuthedRunner | null> {
    const header = req.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) return null;
    const token = header.slice(7).trim();
    const m = TOKEN.exec(token);
    if (!m) return null;
    const row = (await this.#db.query('SELECT * FROM runners WHERE id = $1', [m[1]])).rows[0];
    if (!row || row.revoked_at) return null;
    const want = Buffer.from(row.token_hash, 'hex');
    const got = Buffer.from(sha256(token), 'hex');
    if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
    if (row.claim_by && !row.claimed_at) {
      // First use: only before the deadline. An unclaimed token past it never works (the runner is registered again).
      const now = this.#clock.now();
      if (unclaimedPastDeadline(row, now)) {
        this.#log.warn(
          { runner: row.name, runnerId: row.id, tenantId: row.tenant_id, claimBy: new Date(row.claim_by).toISOString() },
          'refused a runner token first used after its deadline',
        );
        return null;
      }
      await this.#db.query('UPDATE runners SET claimed_at = $2 WHERE id = $1 AND claimed_at IS NULL', [row.id, now]);
      this.#log.info({ runner: row.name, runnerId: row.id, tenantId: row.tenant_id }, 'runner token claimed (first use)');
    }
    return { name: row.name, id: row.id, tenantId: row.tenant_id, pool: row.pool };
  }

  async #touch(runner: AuthedRunner, info: { version?: string; executor?: string } = {}): Promise<void> {
    await this.#db.query('UPDATE runners SET last_seen_at = $2, version = COALESCE($3, version), executor = COALESCE($4, executor) WHERE id = $1', [
      runner.id,
      this.#clock.now(),
      info.version ?? null,
      info.executor ?? null,
    ]);
  }

  registerRoutes(server: Server): void {
    server.post(
      '/api/runner/v1/poll',
      this.#handler((req, res, runner) => this.#poll(req, res, runner)),
    );
    server.post(
      '/api/runner/v1/jobs/:id/heartbeat',
      this.#handler((req, res, runner) => this.#heartbeat(req, res, runner)),
    );
    server.post(
      '/api/runner/v1/jobs/:id/result',
      this.#handler((req, res, runner) => this.#result(req, res, runner)),
    );
  }

  #handler(fn: (req: Request, res: Response, runner: AuthedRunner) => Promise<void>) {
    return (req: Request, res: Response, next: (err?: any) => void) => {
      (async () => {
        // The body's limit and coding are judged from its headers before anything else (413 / 415); the body itself
        // is read, within the limit, only for a runner whose token was checked.
        checkBodyHeaders(req, routeLimit(req));
        const runner = await this.#authenticate(req);
        // Wrong, expired or revoked token: 401 and nothing else (no hint which, no body read, no state touched).
        if (!runner) {
          res.send(401, { code: 'Unauthorized' });
          return;
        }
        await fn(req, res, runner);
      })().then(
        () => next(),
        (err) => {
          if (err instanceof BodyError) {
            if (!res.headersSent) sendBodyError(res as any, err, 'flat');
          } else if (err instanceof BadRequest) {
            if (!res.headersSent) res.send(400, { code: 'BadRequest', message: err.message });
          } else {
            this.#log.error({ err, url: req.url }, 'runner endpoint failed');
            if (!res.headersSent) res.send(500, { code: 'InternalError' });
          }
          next();
        },
      );
    };
  }

  async #poll(req: Request, res: Response, runner: AuthedRunner): Promise<void> {
    const body = pollBody.safeParse(await readJson(req, routeLimit(req)));
    if (!body.success) throw new BadRequest('poll body must be {version?, executor?}');
    await this.#touch(runner, body.data);
    let closed = false;
    res.once('close', () => (closed = true));
    // The connection may have gone before that listener existed (the runner stopped while its poll was read):
    // the socket says so then, and 'close' will not come again.
    const gone = () => closed || !!req.socket?.destroyed;
    const deadline = Date.now() + this.pollWaitMs;
    for (;;) {
      // A runner whose connection dropped must not be handed a job it will never see.
      if (gone()) return;
      const job = await this.#lease(runner);
      if (job && gone()) {
        // It went while the job was being leased: give the job back for the next runner.
        await this.#db.query(
          `UPDATE runner_jobs SET state = 'queued', leased_by = NULL, leased_by_id = NULL, lease_id = NULL, lease_until = NULL, lease_count = lease_count - 1 WHERE id = $1 AND state = 'leased' AND lease_id = $2`,
          [job.id, job.leaseId],
        );
        this.#notifier.emit('job');
        return;
      }
      if (job) {
        this.#log.info({ jobId: job.id, action: job.action, runner: runner.name }, 'runner job leased');
        res.send(200, {
          jobId: job.id,
          leaseId: job.leaseId,
          action: job.action,
          params: job.params,
          leaseUntil: job.leaseUntil!.toISOString(),
          leaseMs: this.leaseMs,
        });
        return;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#notifier.off('job', done);
          res.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(remaining, this.#recheckMs));
        this.#notifier.once('job', done);
        res.once('close', done);
      });
    }
    if (!gone()) {
      res.status(204);
      res.end();
    }
  }

  async #heartbeat(req: Request, res: Response, runner: AuthedRunner): Promise<void> {
    const parsed = heartbeatBody.safeParse(await readJson(req, routeLimit(req)));
    if (!parsed.success) throw new BadRequest('heartbeat body must be {leaseId} (the lease id the poll answered with)');
    await this.#touch(runner);
    const now = this.#clock.now();
    const until = new Date(now.getTime() + this.leaseMs);
    const id = String(req.params.id);
    // Only the runner holding this job's current lease (its id, of the job's tenant, and the lease id) extends it.
    const r = await this.#db.query(
      `UPDATE runner_jobs SET lease_until = $3, updated_at = $4 WHERE id = $1 AND state = 'leased' AND leased_by_id = $2 AND lease_id = $5 AND tenant_id = $6 RETURNING lease_until`,
      [id, runner.id, until, now, parsed.data.leaseId, runner.tenantId],
    );
    if (r.rows.length) {
      res.send(200, { jobId: id, leaseUntil: until.toISOString() });
      return;
    }
    const job = await this.getJob(id);
    if (!job || job.tenantId !== runner.tenantId) res.send(404, { code: 'NotFound' });
    else if (!holds(job, runner, parsed.data.leaseId)) this.#notYours(res, id, runner);
    else res.send(409, { code: 'NotLeasedToYou', message: 'This job is no longer leased.', state: job.state });
  }

  #notYours(res: Response, jobId: string, runner: AuthedRunner): void {
    this.#log.warn({ jobId, runner: runner.name, runnerId: runner.id }, 'refused a heartbeat or result from a runner not holding the lease');
    res.send(409, { code: 'NotLeasedToYou', message: "This runner does not hold this job's current lease; nothing was changed." });
  }

  async #result(req: Request, res: Response, runner: AuthedRunner): Promise<void> {
    const parsed = resultBody.safeParse(await readJson(req, routeLimit(req)));
    if (!parsed.success) throw new BadRequest('result body must be {leaseId, ok, result?, error?: {code, message}, transcript}');
    await this.#touch(runner);
    const body = parsed.data;
    const id = String(req.params.id);
    const now = this.#clock.now();
    const outcome = await this.#db.transaction(async (tx: Sql) => {
      const row = (await tx.query('SELECT * FROM runner_jobs WHERE id = $1 FOR UPDATE', [id])).rows[0];
      // Another tenant's job reads as unknown; a job leased to another runner, or under an earlier lease, is refused.
      if (!row || row.tenant_id !== runner.tenantId) return { status: 404 as const };
      if (!holds(toJob(row), runner, body.leaseId)) return { status: 409 as const, job: toJob(row), foreign: true };
      if (row.state === 'succeeded' || row.state === 'failed') return { status: 200 as const, job: toJob(row), replay: true };
      if (row.state === 'lost') {
        // Too late: a human is already deciding. Keep what the runner said as evidence, change nothing else.
        if (!row.late_result)
          await tx.query('UPDATE runner_jobs SET late_result = $2::jsonb WHERE id = $1', [id, JSON.stringify({ ...body, leaseId: undefined })]);
        return { status: 409 as const, job: toJob(row) };
      }
      if (row.state !== 'leased') return { status: 409 as const, job: toJob(row) };
      let state: JobState = body.ok ? 'succeeded' : 'failed';
      let result: unknown = null;
      let error = body.ok ? null : (body.error ?? { code: 'failed', message: 'the runner reported a failure without details' });
      if (body.ok) {
        try {
          result = parseResult(row.action, body.result);
        } catch (err) {
          state = 'failed';
          error = { code: 'invalid-result', message: err instanceof ActionError ? err.message : String(err) };
        }
      }
      const r = await tx.query(
        `UPDATE runner_jobs SET state = $2, result = $3::jsonb, error = $4::jsonb, transcript = $5, settled_at = $6, updated_at = $6, lease_until = NULL
         WHERE id = $1 RETURNING *`,
        [id, state, JSON.stringify(result), JSON.stringify(error), body.transcript, now],
      );
      return { status: 200 as const, job: toJob(r.rows[0]), replay: false };
    });
    if (outcome.status === 404) {
      res.send(404, { code: 'NotFound' });
      return;
    }
    if (outcome.status === 409) {
      if ('foreign' in outcome && outcome.foreign) this.#notYours(res, id, runner);
      else res.send(409, { code: 'NotLeasedToYou', message: 'This job is no longer leased.', state: outcome.job.state });
      return;
    }
    const job = outcome.job;
    if (!outcome.replay) {
      this.#log.info({ jobId: job.id, action: job.action, state: job.state, runner: runner.name }, 'runner job settled');
      await this.#settled(job);
    }
    res.send(200, { jobId: job.id, state: job.state, result: job.result, error: job.error, replay: outcome.replay });
  }
}

class BadRequest extends Error {}

/** True when this runner holds the job's current lease (the lease may have ended since: the state says). */
function holds(job: RunnerJob, runner: AuthedRunner, leaseId: string): boolean {
  return job.leasedById === runner.id && job.tenantId === runner.tenantId && job.leaseId === leaseId;
}

function routeLimit(req: Request): BodyLimit {
  return limitForRoute((req as any).getRoute?.()?.path);
}

/** A token registered with a first-use deadline that passed before it was ever used. */
function unclaimedPastDeadline(row: { claim_by?: unknown; claimed_at?: unknown }, now: Date): boolean {
  return !!row.claim_by && !row.claimed_at && new Date(row.claim_by as string).getTime() <= now.getTime();
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function toJob(row: any): RunnerJob {
  return {
    id: row.id,
    migrationId: row.migration_id,
    stepSeq: row.step_seq,
    attempt: row.attempt,
    action: row.action,
    params: row.params,
    mutation: row.mutation,
    tenantId: row.tenant_id,
    runnerName: row.runner_name,
    runnerId: row.runner_id ?? null,
    pool: row.pool,
    state: row.state,
    leasedBy: row.leased_by,
    leasedById: row.leased_by_id ?? null,
    leaseId: row.lease_id ?? null,
    leaseUntil: row.lease_until ? new Date(row.lease_until) : null,
    leaseCount: row.lease_count,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    settledAt: row.settled_at ? new Date(row.settled_at) : null,
    result: row.result ?? null,
    error: row.error ?? null,
    transcript: row.transcript,
  };
}

/** The JSON body, within the route's limit, whether or not the server read it already (the routes must not depend on it). */
async function readJson(req: Request, limit: BodyLimit): Promise<unknown> {
  const pre = (req as any).body;
  if (pre !== undefined) {
    if (typeof pre === 'string' || Buffer.isBuffer(pre)) return parseJson(pre.toString());
    return pre;
  }
  const text = (await readBoundedBody(req as unknown as IncomingMessage, limit)).toString('utf8');
  return text.trim() === '' ? undefined : parseJson(text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest('body is not JSON');
  }
}
