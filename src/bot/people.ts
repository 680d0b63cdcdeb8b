import type { Clock } from '../clock.js';
import type { Sql } from '../store/db.js';

/** Names and Teams ids seen in activities, for display only: authorization uses object ids. */
export class PeopleDirectory {
  #cache = new Map<string, string>();
  constructor(
    private readonly db: Sql,
    private readonly clock: Clock,
  ) {}

  async remember(oid: string, name: string, teamsId?: string): Promise<void> {
    const key = oid.toLowerCase();
    if (this.#cache.get(key) === name) return;
    this.#cache.set(key, name);
    await this.db.query(
      `INSERT INTO people (oid, name, teams_id, updated_at) VALUES ($1,$2,$3,$4)
       ON CONFLICT (oid) DO UPDATE SET name = EXCLUDED.name, teams_id = COALESCE(EXCLUDED.teams_id, people.teams_id), updated_at = EXCLUDED.updated_at`,
      [key, name.slice(0, 200), teamsId ?? null, this.clock.now().toISOString()],
    );
  }

  async nameOf(oid: string): Promise<string | undefined> {
    const key = oid.toLowerCase();
    const hit = this.#cache.get(key);
    if (hit) return hit;
    const r = (await this.db.query<{ name: string }>('SELECT name FROM people WHERE oid = $1', [key])).rows[0];
    if (r) this.#cache.set(key, r.name);
    return r?.name;
  }
}
