import type { Clock } from '../clock.js';

/**
 * Change owners through an Entra group: the group's transitive user members, read through Microsoft Graph and cached
 * per (tenant, group) for a short time. Authorization stays on object ids; display names are for cards only.
 * There is no stale fallback: when the cache has expired and Graph cannot be read, resolve() throws, and the caller
 * refuses (fail closed).
 */

export interface OwnersGroup {
  id: string;
  /** The group's display name, for cards. */
  name: string | null;
  members: { id: string; displayName: string | null }[];
}

/** What the composition root provides (over src/graph): null when the group does not exist in the tenant. */
export interface OwnersGroupPort {
  read(tenantId: string, groupId: string): Promise<OwnersGroup | null>;
}

/** Graph could not be read (and nothing fresh is cached): decisions that need the group are refused. */
export class OwnersGroupUnavailable extends Error {
  constructor(
    readonly groupId: string,
    readonly reason: string,
  ) {
    super(`The change owners group ${groupId} could not be read from Microsoft Graph (${reason}).`);
  }
}

/** The group does not exist (Graph 404 Request_ResourceNotFound). */
export class OwnersGroupNotFound extends Error {
  constructor(readonly groupId: string) {
    super(`There is no Entra group with object id ${groupId} in this tenant.`);
  }
}

export const DEFAULT_OWNERS_GROUP_TTL_MS = 5 * 60_000;

export class OwnersGroupResolver {
  readonly #cache = new Map<string, { at: number; group: OwnersGroup | null }>();
  readonly #inflight = new Map<string, Promise<OwnersGroup | null>>();

  constructor(private readonly d: { port: OwnersGroupPort; clock: Clock; ttlMs?: number }) {}

  get ttlMs(): number {
    return this.d.ttlMs ?? DEFAULT_OWNERS_GROUP_TTL_MS;
  }

  /** The group and its members: from the cache while fresh, else from Graph. Throws OwnersGroupUnavailable / OwnersGroupNotFound. */
  async resolve(tenantId: string, groupId: string): Promise<OwnersGroup> {
    const key = `${tenantId.toLowerCase()}|${groupId.toLowerCase()}`;
    const hit = this.#cache.get(key);
    const now = this.d.clock.now().getTime();
    let group: OwnersGroup | null;
    if (hit && now - hit.at < this.ttlMs) group = hit.group;
    else {
      let p = this.#inflight.get(key);
      if (!p) {
        p = this.d.port.read(tenantId, groupId).finally(() => this.#inflight.delete(key));
        this.#inflight.set(key, p);
      }
      try {
        group = await p;
      } catch (err: any) {
        throw new OwnersGroupUnavailable(groupId, String(err?.code && err?.message ? `${err.code}: ${err.message}` : (err?.message ?? err)).slice(0, 300));
      }
      this.#cache.set(key, { at: now, group });
    }
    if (!group) throw new OwnersGroupNotFound(groupId);
    return group;
  }

  /** Forget a group (e.g. after a policy names another one). */
  forget(tenantId: string, groupId: string): void {
    this.#cache.delete(`${tenantId.toLowerCase()}|${groupId.toLowerCase()}`);
  }
}
