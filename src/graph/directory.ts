import { isUnder, makeContainerMatcher } from '../dn.js';
import type { Logger } from '../log.js';
import { GraphError } from './errors.js';
import type { GraphTransport } from './transport.js';
import { parseSyncedUser, SYNCED_USER_SELECT, type SyncedUser } from './types.js';

/** Graph's largest page for /users. */
export const MAX_PAGE_SIZE = 999;

const SELECT = SYNCED_USER_SELECT.join(',');
const SYNCED_FILTER = encodeURIComponent('onPremisesSyncEnabled eq true');

/** Pages /users?$filter=onPremisesSyncEnabled eq true at $top=999: ceil(N/999) requests. */
export async function* iterateSyncedUsers(t: GraphTransport): AsyncGenerator<SyncedUser[]> {
  let path: string | undefined = `/users?$filter=${SYNCED_FILTER}&$select=${SELECT}&$top=${MAX_PAGE_SIZE}`;
  let version: 'v1.0' | 'beta' = 'v1.0';
  while (path) {
    const res: { body: any } = await t.request('GET', path, { version });
    yield (res.body?.value ?? []).map(parseSyncedUser);
    const link: string | undefined = res.body?.['@odata.nextLink'];
    path = undefined;
    if (link) ({ version, path } = t.splitLink(link));
  }
}

export async function readSyncedUsers(t: GraphTransport): Promise<SyncedUser[]> {
  const all: SyncedUser[] = [];
  for await (const page of iterateSyncedUsers(t)) for (const u of page) all.push(u);
  return all;
}

/** One request: /users/$count needs the advanced-query header ConsistencyLevel: eventual. */
export async function countSyncedUsers(t: GraphTransport): Promise<number> {
  const res = await t.request('GET', `/users/$count?$filter=${SYNCED_FILTER}`, { headers: { ConsistencyLevel: 'eventual' } });
  return Number(typeof res.body === 'string' ? res.body.trim() : res.body);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A user who is a member of a group, directly or through nested groups. */
export interface GroupUserMember {
  id: string;
  displayName: string | null;
}

/**
 * The users in a group, directly or through nested groups, by object id:
 * GET /v1.0/groups/{id}/transitiveMembers/microsoft.graph.user?$select=id,displayName, paged by @odata.nextLink.
 * Without ConsistencyLevel: eventual (that index may lag a removal, and this is read to authorize). A group that does
 * not exist is Graph's 404 Request_ResourceNotFound (a GraphError).
 */
export async function listTransitiveUserMembers(t: GraphTransport, groupId: string): Promise<GroupUserMember[]> {
  if (!GUID.test(groupId)) throw new Error(`not a group object id: ${groupId}`);
  const out = new Map<string, GroupUserMember>();
  let path: string | undefined = `/groups/${groupId}/transitiveMembers/microsoft.graph.user?$select=id,displayName`;
  let version: 'v1.0' | 'beta' = 'v1.0';
  while (path) {
    const res: { body: any } = await t.request('GET', path, { version });
    for (const u of res.body?.value ?? []) {
      if (typeof u?.id !== 'string') continue;
      out.set(u.id.toLowerCase(), { id: u.id.toLowerCase(), displayName: typeof u.displayName === 'string' ? u.displayName : null });
    }
    const link: string | undefined = res.body?.['@odata.nextLink'];
    path = undefined;
    if (link) ({ version, path } = t.splitLink(link));
  }
  return [...out.values()];
}

/** GET /v1.0/groups/{id}?$select=id,displayName (404 Request_ResourceNotFound when there is no such group). */
export async function getGroup(t: GraphTransport, groupId: string): Promise<{ id: string; displayName: string | null }> {
  if (!GUID.test(groupId)) throw new Error(`not a group object id: ${groupId}`);
  const res = await t.request('GET', `/groups/${groupId}?$select=id,displayName`);
  return { id: String(res.body?.id ?? groupId).toLowerCase(), displayName: typeof res.body?.displayName === 'string' ? res.body.displayName : null };
}

/** One of the tenant's domains (Graph's domain resource, the properties cutover reads). */
export interface TenantDomain {
  id: string;
  isVerified: boolean;
  isDefault: boolean;
  isInitial: boolean;
  authenticationType: string | null;
}

/** GET /v1.0/domains: the tenant's domains, verified or not (Domain.Read.All). */
export async function listDomains(t: GraphTransport): Promise<TenantDomain[]> {
  const out: TenantDomain[] = [];
  let path: string | undefined = '/domains?$select=id,isVerified,isDefault,isInitial,authenticationType';
  let version: 'v1.0' | 'beta' = 'v1.0';
  while (path) {
    const res: { body: any } = await t.request('GET', path, { version });
    for (const d of res.body?.value ?? []) {
      if (typeof d?.id !== 'string') continue;
      out.push({
        id: d.id.toLowerCase(),
        isVerified: d.isVerified === true,
        isDefault: d.isDefault === true,
        isInitial: d.isInitial === true,
        authenticationType: typeof d.authenticationType === 'string' ? d.authenticationType : null,
      });
    }
    const link: string | undefined = res.body?.['@odata.nextLink'];
    path = undefined;
    if (link) ({ version, path } = t.splitLink(link));
  }
  return out;
}

/**
 * GET /v1.0/users/{id}?$select=id,displayName,accountEnabled (User.Read.All): a user of the tenant, or null when Graph
 * answers 404 (no such user; a group's or a device's id is not a user either).
 */
export async function getUser(t: GraphTransport, oid: string): Promise<{ id: string; displayName: string | null; accountEnabled: boolean | null } | null> {
  if (!GUID.test(oid)) throw new Error(`not a user object id: ${oid}`);
  try {
    const res = await t.request('GET', `/users/${oid}?$select=id,displayName,accountEnabled`);
    return {
      id: String(res.body?.id ?? oid).toLowerCase(),
      displayName: typeof res.body?.displayName === 'string' ? res.body.displayName : null,
      accountEnabled: typeof res.body?.accountEnabled === 'boolean' ? res.body.accountEnabled : null,
    };
  } catch (e) {
    if (e instanceof GraphError && e.status === 404) return null;
    throw e;
  }
}

/**
 * Where the index keeps its deltaLink and the objects it applies to. The caller provides it
 * (the store room backs it with a SQL kv table). Values are strings; keys are namespaced by the index.
 */
export interface DeltaStateStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

export class InMemoryDeltaStateStore implements DeltaStateStore {
  readonly #m = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.#m.get(key);
  }
  async set(key: string, value: string): Promise<void> {
    this.#m.set(key, value);
  }
  /** Total characters stored: lets tests and the benchmark see what a poll writes. */
  get size(): number {
    let n = 0;
    for (const v of this.#m.values()) n += v.length;
    return n;
  }
}

type Row = [string, string | null, string | null, string | null, string[], string | null, string | null, string | null];
const toRow = (u: SyncedUser): Row => [
  u.id,
  u.userPrincipalName,
  u.mail,
  u.displayName,
  u.proxyAddresses,
  u.onPremisesImmutableId,
  u.onPremisesSamAccountName,
  u.onPremisesDistinguishedName,
];
const fromRow = (r: Row): SyncedUser => ({
  id: r[0],
  userPrincipalName: r[1],
  mail: r[2],
  displayName: r[3],
  proxyAddresses: r[4],
  onPremisesImmutableId: r[5],
  onPremisesSamAccountName: r[6],
  onPremisesDistinguishedName: r[7],
  onPremisesSyncEnabled: true,
});

/** head: {deltaLink, chunks, logs}; chunks: snapshot rows; logs: change batches after the snapshot. */
interface Head {
  v: 1;
  deltaLink: string;
  chunks: number;
  logs: number;
  savedAt: string;
}
type LogBatch = { up: Row[]; rm: string[] };

const CHUNK_ROWS = 5000;
const MAX_LOGS_BEFORE_COMPACTION = 50;

export interface RefreshResult {
  mode: 'full' | 'delta';
  /** HTTP requests this refresh made (retries included). */
  requests: number;
  /** Objects added, changed or removed (full: objects read). */
  changes: number;
  total: number;
}

/**
 * The synced users, indexed for counting by OU. The first refresh takes a delta token first
 * ($deltatoken=latest), then pages /users at $top=999, so nothing that changes during the read is
 * lost (the next delta replays it). Later refreshes follow the deltaLink: requests in proportion to
 * changes. State persists as a head (deltaLink) plus snapshot chunks plus change batches, so a poll
 * writes only its changes, and the head is written last so a crash never pairs a link with the wrong objects.
 */
export class SyncedObjectIndex {
  readonly #byId = new Map<string, SyncedUser>();
  #deltaLink: string | undefined;
  #head: Head | undefined;
  #loaded = false;

  constructor(
    private readonly t: GraphTransport,
    private readonly store: DeltaStateStore,
    private readonly log: Logger,
    private readonly key = `graph:${t.settings.tenantId}:users`,
  ) {}

  get size(): number {
    return this.#byId.size;
  }

  get deltaLink(): string | undefined {
    return this.#deltaLink;
  }

  all(): IterableIterator<SyncedUser> {
    return this.#byId.values();
  }

  private async load(): Promise<void> {
    this.#loaded = true;
    const raw = await this.store.get(this.key);
    if (!raw) return;
    const head = JSON.parse(raw) as Head;
    if (head.v !== 1) return;
    for (let i = 0; i < head.chunks; i++) {
      const c = await this.store.get(`${this.key}#c${i}`);
      if (!c) return this.reset('snapshot chunk missing');
      for (const r of JSON.parse(c) as Row[]) this.#byId.set(r[0], fromRow(r));
    }
    for (let i = 0; i < head.logs; i++) {
      const l = await this.store.get(`${this.key}#l${i}`);
      if (!l) return this.reset('change batch missing');
      this.applyBatch(JSON.parse(l) as LogBatch);
    }
    this.#head = head;
    this.#deltaLink = head.deltaLink;
  }

  private reset(why: string): void {
    this.log.warn({ key: this.key, why }, 'synced object index state unusable; a full read follows');
    this.#byId.clear();
    this.#deltaLink = undefined;
    this.#head = undefined;
  }

  private applyBatch(b: LogBatch): void {
    for (const id of b.rm) this.#byId.delete(id);
    for (const r of b.up) this.#byId.set(r[0], fromRow(r));
  }

  private async saveSnapshot(): Promise<void> {
    const rows = Array.from(this.#byId.values(), toRow);
    let chunks = 0;
    for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
      await this.store.set(`${this.key}#c${chunks++}`, JSON.stringify(rows.slice(i, i + CHUNK_ROWS)));
    }
    this.#head = { v: 1, deltaLink: this.#deltaLink!, chunks, logs: 0, savedAt: new Date().toISOString() };
    await this.store.set(this.key, JSON.stringify(this.#head));
  }

  private async saveBatch(b: LogBatch): Promise<void> {
    const head = this.#head!;
    if (head.logs >= MAX_LOGS_BEFORE_COMPACTION) return this.saveSnapshot();
    if (b.up.length || b.rm.length) await this.store.set(`${this.key}#l${head.logs}`, JSON.stringify(b));
    this.#head = { ...head, deltaLink: this.#deltaLink!, logs: head.logs + (b.up.length || b.rm.length ? 1 : 0), savedAt: new Date().toISOString() };
    await this.store.set(this.key, JSON.stringify(this.#head));
  }

  /** Brings the index up to date: a full read the first time, a delta poll after. */
  async refresh(): Promise<RefreshResult> {
    if (!this.#loaded) await this.load();
    const before = this.t.stats.httpRequests;
    if (this.#deltaLink) {
      try {
        const changes = await this.poll();
        return { mode: 'delta', requests: this.t.stats.httpRequests - before, changes, total: this.#byId.size };
      } catch (e) {
        // An expired token (syncStateNotFound, 410 Gone with Location) means: start again from a full read.
        if (!(e instanceof GraphError) || ![400, 404, 410].includes(e.status)) throw e;
        this.reset(`delta token rejected: ${e.code}`);
      }
    }
    const read = await this.fullRead();
    return { mode: 'full', requests: this.t.stats.httpRequests - before, changes: read, total: this.#byId.size };
  }

  private async fullRead(): Promise<number> {
    // Token first: changes made while we page are replayed by the next poll (Graph expects replays).
    const latest = await this.t.request('GET', `/users/delta?$select=${SELECT}&$deltatoken=latest`);
    const link = latest.body?.['@odata.deltaLink'];
    if (typeof link !== 'string') throw new Error('users/delta?$deltatoken=latest returned no @odata.deltaLink');
    this.#byId.clear();
    let read = 0;
    for await (const page of iterateSyncedUsers(this.t)) {
      for (const u of page) this.#byId.set(u.id, u);
      read += page.length;
    }
    this.#deltaLink = link;
    await this.saveSnapshot();
    this.log.info({ key: this.key, users: this.#byId.size }, 'synced object index: full read');
    return read;
  }

  private async poll(): Promise<number> {
    const batch: LogBatch = { up: [], rm: [] };
    let { version, path } = this.t.splitLink(this.#deltaLink!);
    let changes = 0;
    for (;;) {
      const res = await this.t.request('GET', path, { version });
      for (const item of res.body?.value ?? []) {
        changes++;
        // @removed (soft or hard delete) and "no longer synced" both mean: not a synced user any more.
        if (item['@removed'] || item.onPremisesSyncEnabled !== true) {
          if (this.#byId.delete(item.id)) batch.rm.push(item.id);
          continue;
        }
        const u = parseSyncedUser(item);
        this.#byId.set(u.id, u);
        batch.up.push(toRow(u));
      }
      const next = res.body?.['@odata.nextLink'];
      const delta = res.body?.['@odata.deltaLink'];
      if (typeof next === 'string') ({ version, path } = this.t.splitLink(next));
      else if (typeof delta === 'string') {
        this.#deltaLink = delta;
        break;
      } else throw new Error('users/delta page had neither @odata.nextLink nor @odata.deltaLink');
    }
    await this.saveBatch(batch);
    return changes;
  }

  /** Users at or below an OU, RDN-exact (OU=Sales never matches OU=PreSales; escaped commas are values). */
  objectsUnder(ou: string): SyncedUser[] {
    const match = makeContainerMatcher([ou]);
    const out: SyncedUser[] = [];
    for (const u of this.#byId.values()) if (u.onPremisesDistinguishedName && match(u.onPremisesDistinguishedName) === 0) out.push(u);
    return out;
  }

  countUnder(ou: string): number {
    const match = makeContainerMatcher([ou]);
    let n = 0;
    for (const u of this.#byId.values()) if (u.onPremisesDistinguishedName && match(u.onPremisesDistinguishedName) === 0) n++;
    return n;
  }

  /** Counts for many OUs in one pass; a user counts for every listed OU it lies under (nested OUs too). */
  countsUnder(ous: string[]): Map<string, number> {
    const deepest = makeContainerMatcher(ous);
    // If a DN's deepest listed container is ous[i], it is also under every listed ancestor of ous[i].
    const ancestors = ous.map((o, i) => ous.map((_, j) => j).filter((j) => j === i || isUnder(o, ous[j])));
    const perIndex = new Array<number>(ous.length).fill(0);
    for (const u of this.#byId.values()) {
      const dn = u.onPremisesDistinguishedName;
      if (!dn) continue;
      const i = deepest(dn);
      if (i >= 0) for (const j of ancestors[i]) perIndex[j]++;
    }
    return new Map(ous.map((o, i) => [o, perIndex[i]]));
  }
}
