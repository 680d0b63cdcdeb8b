import type { Clock } from '../clock.js';
import type { Sql } from './db.js';

/** A value of the key/value table (delta links and other cursors that must survive restarts), read through `db`. */
export async function kvGet(db: Sql, key: string): Promise<string | undefined> {
  const r = (await db.query<{ value: unknown }>('SELECT value FROM kv WHERE key = $1', [key])).rows[0];
  return r === undefined ? undefined : typeof r.value === 'string' ? r.value : JSON.stringify(r.value);
}

/** Writes a value of the key/value table through `db`. */
export async function kvSet(db: Sql, clock: Clock, key: string, value: string): Promise<void> {
  await db.query(
    'INSERT INTO kv (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at',
    [key, JSON.stringify(value), clock.now().toISOString()],
  );
}

/** The key/value table over one handle, for the composition root to hand out. */
export class KvStore {
  constructor(
    private readonly db: Sql,
    private readonly clock: Clock,
  ) {}

  get(key: string): Promise<string | undefined> {
    return kvGet(this.db, key);
  }

  set(key: string, value: string): Promise<void> {
    return kvSet(this.db, this.clock, key, value);
  }
}
