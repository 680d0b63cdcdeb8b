import { readdir, readFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The one SQL surface every room uses: PGlite embedded by default, PostgreSQL when DATABASE_URL is set. */
export interface Sql {
  query<T = any>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /** Inside a transaction: runs fn once it has committed (awaited before transaction() returns); never on rollback. */
  afterCommit?(fn: () => Promise<void> | void): void;
}

/** Runs the callbacks a transaction registered, after its COMMIT; one failing does not stop the others. */
async function runAfterCommit(fns: Array<() => Promise<void> | void>): Promise<void> {
  for (const fn of fns)
    await Promise.resolve()
      .then(fn)
      .catch(() => {});
}

/**
 * What this process has sent the store since it opened it, for diagnostics (the click benchmark reads it): statements
 * cutover issued through query(), inside transactions or not, and transactions. The BEGIN and COMMIT that open and close
 * a transaction are not counted as statements (on PostgreSQL each is one more round trip; PGlite runs them in-process).
 */
export interface StoreCounters {
  statements: number;
  transactions: number;
}

export interface Db extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** Live counts (two integers bumped per call: no cost worth a switch). */
  readonly counters: Readonly<StoreCounters>;
  /** Runs fn in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export async function openPglite(dataDir: string | null): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const pg = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  const counters: StoreCounters = { statements: 0, transactions: 0 };
  const db: Db = {
    kind: 'pglite',
    counters,
    query: async (text, params) => {
      counters.statements++;
      return pg.query(text, params as any[]) as any;
    },
    async transaction(fn) {
      const after: Array<() => Promise<void> | void> = [];
      counters.transactions++;
      const out = await pg.transaction((tx) =>
        fn({
          query: async (text, params) => {
            counters.statements++;
            return tx.query(text, params as any[]) as any;
          },
          afterCommit: (f) => void after.push(f),
        }),
      );
      await runAfterCommit(after);
      return out;
    },
    close: () => pg.close(),
  };
  await migrate(db);
  return db;
}

export async function openPostgres(url: string): Promise<Db> {
  const { default: pgmod } = await import('pg');
  const pool = new pgmod.Pool({ connectionString: url, max: 10 });
  // An idle client losing its server (restart, failover) must not crash the process.
  pool.on('error', () => {});
  const counters: StoreCounters = { statements: 0, transactions: 0 };
  const db: Db = {
    kind: 'postgres',
    counters,
    query: (text, params) => {
      counters.statements++;
      return pool.query(text, params as any[]) as any;
    },
    async transaction(fn) {
      counters.transactions++;
      const client = await pool.connect();
      // A checked-out client has no listener of the pool's: a server gone between two statements of the
      // transaction would otherwise be an uncaught 'error' event. The failing statement reports it instead.
      const onError = () => {};
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const after: Array<() => Promise<void> | void> = [];
        const out = await fn({
          query: (text, params) => {
            counters.statements++;
            return client.query(text, params as any[]) as any;
          },
          afterCommit: (f) => void after.push(f),
        });
        await client.query('COMMIT');
        await runAfterCommit(after);
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.off('error', onError);
        client.release();
      }
    },
    close: () => pool.end(),
  };
  await migrate(db);
  return db;
}

export async function openDb(opts: { databaseUrl?: string; dataDir: string | null }): Promise<Db> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl) : openPglite(opts.dataDir);
}

/** Applies src/store/migrations/*.sql in name order, once each; an advisory lock keeps two processes from racing. */
async function migrate(db: Db): Promise<void> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
  await db.transaction(async (tx) => {
    if (db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(7411001)');
    await tx.query('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await tx.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
    for (const f of files) {
      if (done.has(f)) continue;
      const sql = await readFile(path.join(MIGRATIONS_DIR, f), 'utf8');
      for (const stmt of splitStatements(sql)) await tx.query(stmt);
      await tx.query('INSERT INTO schema_migrations(name) VALUES ($1)', [f]);
    }
  });
}

function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}
