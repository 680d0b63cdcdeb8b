import type { Clock } from '../clock.js';
import type { Sql } from './db.js';

/** A small key/value table: delta links and other cursors that must survive restarts. */
export class KvStore {
  constructor(
    private readonly db: Sql,
    private readonly clock: Clock,
  ) {}

  async get(key: string): Promise<string | undefined> {
    const r = (await this.db.query<{ value: unknown }>('SELECT value FROM kv WHERE key = $1', [key])).rows[0];
    return r === undefined ? undefined : typeof r.value === 'string' ? r.value : JSON.stringify(r.value);
  }

  async set(key: string, value: string): Promise<void> {
    await this.db.query(
      'INSERT INTO kv (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at',
      [key, JSON.stringify(value), this.clock.now().toISOString()],
    );
  }
}
