import type { Logger } from '../log.js';

/**
 * Who runs the scheduled monitor cycles. With PGlite the process owns its data directory, so it is always
 * the leader. With PostgreSQL and several instances, exactly one holds a session-level advisory lock on a
 * dedicated connection; the others try to take it at every scheduled tick, so one takes over within a cycle
 * when the leader dies (its session ends and PostgreSQL releases the lock).
 *
 * The leader re-checks its connection at every tick: a leader that lost its session (network, failover,
 * terminated backend) stops at once instead of running on beside a new one. The session asks the server for
 * TCP keepalives, so the lock of a host that vanished without closing its socket is freed in about 30 s.
 * The connection must be a direct session (port 5432), not a transaction-pooling PgBouncer.
 */
export interface Leader {
  readonly kind: 'always' | 'pg-advisory-lock';
  /** True when this process may run the scheduled cycles now; takes the lease when it is free. */
  acquire(): Promise<boolean>;
  isLeader(): boolean;
  /** Gives the lease up (on stop); another instance takes it at its next tick. */
  release(): Promise<void>;
}

export class AlwaysLeader implements Leader {
  readonly kind = 'always' as const;
  async acquire(): Promise<boolean> {
    return true;
  }
  isLeader(): boolean {
    return true;
  }
  async release(): Promise<void> {}
}

/** The advisory lock key: one per deployment database (tests pass their own). */
export const MONITOR_LOCK_KEY = 7411002n;

interface PgClientLike {
  connect(): Promise<unknown>;
  query(text: string, params?: unknown[]): Promise<{ rows: any[] }>;
  end(): Promise<void>;
  on(event: 'error', fn: (err: Error) => void): unknown;
}

export interface PgLeaderOptions {
  connectionString: string;
  key?: bigint;
  log?: Logger;
  /** Client-side bound on each lease query (default 5 s): a hung connection is a lost lease. */
  queryTimeoutMs?: number;
  /** Called when leadership changes (logs, metrics, tests). */
  onChange?: (leader: boolean) => void;
}

export class PgAdvisoryLeader implements Leader {
  readonly kind = 'pg-advisory-lock' as const;
  #client: PgClientLike | null = null;
  #held = false;
  #released = false;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: PgLeaderOptions) {}

  get key(): bigint {
    return this.o.key ?? MONITOR_LOCK_KEY;
  }

  isLeader(): boolean {
    return this.#held;
  }

  /** The backend pid of the lease's session (tests terminate it to play a dead leader). */
  async backendPid(): Promise<number | null> {
    if (!this.#client) return null;
    return Number((await this.#client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  }

  acquire(): Promise<boolean> {
    return this.#serial(() => this.#acquire());
  }

  release(): Promise<void> {
    return this.#serial(async () => {
      this.#released = true;
      const c = this.#client;
      this.#client = null;
      if (!c) return this.#set(false);
      if (this.#held) await c.query('SELECT pg_advisory_unlock($1::bigint)', [String(this.key)]).catch(() => {});
      await c.end().catch(() => {});
      this.#set(false);
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn, fn);
    this.#chain = p.catch(() => {});
    return p;
  }

  #set(held: boolean): void {
    if (held === this.#held) return;
    this.#held = held;
    this.o.log?.info({ key: String(this.key) }, held ? 'monitor lease taken: this instance runs the scheduled cycles' : 'monitor lease not held');
    this.o.onChange?.(held);
  }

  async #drop(err: unknown): Promise<void> {
    const c = this.#client;
    this.#client = null;
    if (this.#held) this.o.log?.warn({ err }, 'monitor lease lost with its database session');
    this.#set(false);
    await c?.end().catch(() => {});
  }

  async #connect(): Promise<PgClientLike> {
    if (this.#client) return this.#client;
    const { default: pg } = await import('pg');
    const c = new pg.Client({
      connectionString: this.o.connectionString,
      application_name: 'cutover-monitor-lease',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: this.o.queryTimeoutMs ?? 5_000,
      query_timeout: this.o.queryTimeoutMs ?? 5_000,
    } as any) as unknown as PgClientLike;
    // A session killed under us (restart, failover, pg_terminate_backend) must not crash the process.
    c.on('error', (err) => {
      if (this.#client === c) void this.#drop(err);
    });
    await c.connect();
    // Let the server notice a vanished leader host within ~30 s (it then frees the lock).
    await c.query('SET tcp_keepalives_idle = 10').catch(() => {});
    await c.query('SET tcp_keepalives_interval = 5').catch(() => {});
    await c.query('SET tcp_keepalives_count = 3').catch(() => {});
    this.#client = c;
    return c;
  }

  async #acquire(): Promise<boolean> {
    if (this.#released) return false;
    if (this.#held && this.#client) {
      try {
        await this.#client.query('SELECT 1');
        return true;
      } catch (err) {
        await this.#drop(err);
      }
    }
    try {
      const c = await this.#connect();
      const ok = (await c.query('SELECT pg_try_advisory_lock($1::bigint) AS ok', [String(this.key)])).rows[0]?.ok === true;
      this.#set(ok);
      return ok;
    } catch (err) {
      this.o.log?.warn({ err }, 'monitor lease: could not reach PostgreSQL');
      await this.#drop(err);
      return false;
    }
  }
}
