import { randomUUID } from 'node:crypto';
import { normalizeDn, parentDn } from '../../dn.js';
import { sourceAnchorOf, type AdObject, type EntraSyncTarget, type SyncEngine } from '../contracts.js';

export type EntraKind = 'user' | 'group' | 'contact';

/** An Entra object as the simulator holds it: Graph-shaped properties plus sandbox bookkeeping. */
export interface EntraObject {
  id: string;
  kind: EntraKind;
  /** Graph properties (what $select picks from). */
  props: Record<string, unknown>;
  /** Which engine last exported it; undefined for cloud-only objects. */
  engine?: SyncEngine;
  objectGUID?: string;
  anchor?: string;
  domain?: string;
  /** Normalised member DNs (groups synced from AD). */
  memberDns?: Set<string>;
  /** Member object ids (cloud groups): users and nested groups. */
  memberIds?: Set<string>;
  changedSeq: number;
  position: number;
}

export interface Tombstone {
  id: string;
  kind: EntraKind;
  seq: number;
  reason: 'changed' | 'deleted';
}

/** Properties Graph tracks for change (onPremisesLastSyncDateTime moves every export and is not compared). */
const UNTRACKED = new Set(['onPremisesLastSyncDateTime']);

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/**
 * The Entra directory of the sandbox tenant: users and groups, hard-matched by source anchor, with a
 * change log (a global sequence) that users/delta and groups/delta read. Deletes leave tombstones so a
 * delta can report @removed.
 */
export class EntraDirectory implements EntraSyncTarget {
  seq = 0;
  readonly objects = new Map<string, EntraObject>();
  readonly byAnchor = new Map<string, string>();
  readonly byGuid = new Map<string, string>();
  readonly tombstones = new Map<string, Tombstone>();
  /** Append-only enumeration order per kind (null = deleted): stable $skiptoken offsets. */
  readonly order: Record<EntraKind, (string | null)[]> = { user: [], group: [], contact: [] };
  /** (seq, id) for every change, in seq order: delta reads the tail after its token. */
  readonly changeLog: Record<EntraKind, { seq: number; id: string }[]> = { user: [], group: [], contact: [] };
  /**
   * Deleted users, restorable for 30 days (the recycle bin). Synced security groups and contacts are hard-deleted:
   * "Group objects … are hard-deleted" (Entra Cloud Sync tutorial), and only Microsoft 365 groups are restorable
   * (https://learn.microsoft.com/graph/api/resources/directory-deleteditems).
   */
  readonly recycleBin = new Map<string, EntraObject>();

  constructor(private readonly now: () => Date) {}

  private touch(o: EntraObject): void {
    o.changedSeq = ++this.seq;
    this.changeLog[o.kind].push({ seq: o.changedSeq, id: o.id });
  }

  /** Creates an object (cloud-only when no anchor is given). */
  create(
    kind: EntraKind,
    props: Record<string, unknown>,
    meta: Partial<Pick<EntraObject, 'engine' | 'objectGUID' | 'anchor' | 'domain' | 'memberDns' | 'memberIds'>> = {},
    fixedId?: string,
  ): EntraObject {
    const id = fixedId?.toLowerCase() ?? randomUUID();
    if (this.objects.has(id)) throw new Error(`an object with id ${id} already exists`);
    const o: EntraObject = { id, kind, props: { ...props, id }, changedSeq: 0, position: this.order[kind].length, ...meta };
    this.order[kind].push(id);
    this.objects.set(id, o);
    if (o.anchor) this.byAnchor.set(o.anchor, id);
    if (o.objectGUID) this.byGuid.set(o.objectGUID.toLowerCase(), id);
    this.touch(o);
    return o;
  }

  /** Updates properties; bumps the change sequence only when a tracked property really changed. */
  update(o: EntraObject, props: Record<string, unknown>): boolean {
    let changed = false;
    for (const [k, v] of Object.entries(props)) {
      if (!sameValue(o.props[k], v)) {
        o.props[k] = v;
        if (!UNTRACKED.has(k)) changed = true;
      }
    }
    if (changed) this.touch(o);
    return changed;
  }

  remove(id: string, reason: Tombstone['reason'] = 'changed'): boolean {
    const o = this.objects.get(id);
    if (!o) return false;
    if (reason === 'changed' && o.kind === 'user') this.recycleBin.set(id, o);
    this.objects.delete(id);
    this.order[o.kind][o.position] = null;
    if (o.anchor && this.byAnchor.get(o.anchor) === id) this.byAnchor.delete(o.anchor);
    if (o.objectGUID && this.byGuid.get(o.objectGUID.toLowerCase()) === id) this.byGuid.delete(o.objectGUID.toLowerCase());
    const t: Tombstone = { id, kind: o.kind, seq: ++this.seq, reason };
    this.tombstones.set(id, t);
    this.changeLog[o.kind].push({ seq: t.seq, id });
    return true;
  }

  /**
   * A sync engine's delete: users go to the recycle bin (soft delete; users/delta reports @removed reason "changed"),
   * synced groups and contacts are deleted for good (reason "deleted").
   */
  deleteSynced(id: string): boolean {
    const o = this.objects.get(id);
    if (!o) return false;
    return this.remove(id, o.kind === 'user' ? 'changed' : 'deleted');
  }

  // ---- EntraSyncTarget ----

  /** Graph properties an export writes for an AD object. */
  static propsFor(obj: AdObject, domainFqdn: string, now: Date): { kind: EntraKind; props: Record<string, unknown> } | undefined {
    const anchor = sourceAnchorOf(obj);
    const common = {
      displayName: obj.displayName,
      mail: obj.mail ?? null,
      proxyAddresses: [...obj.proxyAddresses],
      onPremisesSyncEnabled: true,
      onPremisesSamAccountName: obj.samAccountName ?? null,
      onPremisesDomainName: domainFqdn,
      onPremisesLastSyncDateTime: now.toISOString(),
    };
    // inetOrgPerson objects become Entra users, as Cloud Sync's "Provision Active Directory inetOrgPersons" mapping does.
    const cls = obj.objectClass as string;
    if (cls === 'user' || cls === 'inetOrgPerson') {
      return {
        kind: 'user',
        props: {
          ...common,
          userPrincipalName: obj.userPrincipalName ?? `${obj.samAccountName ?? obj.objectGUID}@${domainFqdn}`,
          onPremisesImmutableId: anchor,
          onPremisesDistinguishedName: obj.dn,
          onPremisesUserPrincipalName: obj.userPrincipalName ?? null,
        },
      };
    }
    if (obj.objectClass === 'group') {
      return { kind: 'group', props: { ...common, mailNickname: obj.mailNickname ?? null, securityEnabled: obj.securityEnabled ?? true } };
    }
    if (cls === 'contact') {
      return { kind: 'contact', props: { ...common, mailNickname: obj.mailNickname ?? null } };
    }
    return undefined;
  }

  /** Hard match on the source anchor: one Entra object per AD object, whichever engine exports it. */
  upsertFromOnPrem(obj: AdObject, engine: SyncEngine, domainFqdn: string): void {
    this.exportObject(obj, engine, domainFqdn);
  }

  /** As upsertFromOnPrem, saying what happened (the simulator's provisioning log needs it). */
  exportObject(obj: AdObject, engine: SyncEngine, domainFqdn: string): 'create' | 'update' | 'none' | 'skipped' {
    const shaped = EntraDirectory.propsFor(obj, domainFqdn, this.now());
    if (!shaped) return 'skipped';
    const anchor = sourceAnchorOf(obj);
    const memberDns = shaped.kind === 'group' ? new Set((obj.members ?? []).map(safeNormalize)) : undefined;
    const id = this.byAnchor.get(anchor);
    if (!id) {
      this.create(shaped.kind, shaped.props, { engine, objectGUID: obj.objectGUID, anchor, domain: domainFqdn, memberDns });
      return 'create';
    }
    const o = this.objects.get(id)!;
    // Taking over an object the other engine synced is a join and an export (the engine writes its own provenance),
    // so it is logged like an update even when no attribute value changes.
    const takeover = o.engine !== engine;
    o.engine = engine;
    o.objectGUID = obj.objectGUID;
    this.byGuid.set(obj.objectGUID.toLowerCase(), id);
    if (memberDns) o.memberDns = memberDns;
    const changed = this.update(o, shaped.props);
    return changed || takeover ? 'update' : 'none';
  }

  deleteFromOnPrem(objectGUID: string, engine: SyncEngine): void {
    const id = this.byGuid.get(objectGUID.toLowerCase());
    const o = id ? this.objects.get(id) : undefined;
    // An engine deletes only what it exported: after a cutover, Connect's delete of a Cloud-Sync-owned object is a no-op.
    if (o && o.engine === engine) this.deleteSynced(o.id);
  }

  removeMembershipReferences(objectGUIDs: string[], engine: SyncEngine): void {
    const dns = new Set<string>();
    for (const g of objectGUIDs) {
      const id = this.byGuid.get(g.toLowerCase());
      const dn = id ? (this.objects.get(id)?.props.onPremisesDistinguishedName as string | undefined) : undefined;
      if (dn) dns.add(safeNormalize(dn));
    }
    for (const o of this.objects.values()) {
      if (o.kind !== 'group' || o.engine !== engine || !o.memberDns) continue;
      for (const dn of dns) o.memberDns.delete(dn);
    }
  }

  /**
   * The users in a group, directly or through nested groups (cycles allowed, each user once), in a stable order:
   * cloud groups by member id, groups synced from AD by member DN.
   */
  transitiveMembers(groupId: string): { users: EntraObject[]; groups: EntraObject[] } {
    const users = new Map<string, EntraObject>();
    const groups = new Map<string, EntraObject>();
    let byDn: Map<string, EntraObject> | undefined;
    const seen = new Set<string>([groupId]);
    const queue = [groupId];
    const visit = (o: EntraObject | undefined) => {
      if (!o) return;
      if (o.kind === 'user') users.set(o.id, o);
      else if (o.kind === 'group' && !seen.has(o.id)) {
        seen.add(o.id);
        groups.set(o.id, o);
        queue.push(o.id);
      }
    };
    while (queue.length) {
      const g = this.objects.get(queue.shift()!);
      if (!g || g.kind !== 'group') continue;
      for (const id of g.memberIds ?? []) visit(this.objects.get(id));
      if (g.memberDns?.size) {
        if (!byDn) {
          byDn = new Map();
          for (const o of this.objects.values()) {
            const dn = o.props.onPremisesDistinguishedName as string | undefined;
            if (dn) byDn.set(safeNormalize(dn), o);
          }
        }
        for (const dn of g.memberDns) visit(byDn.get(dn));
      }
    }
    const byPosition = (a: EntraObject, b: EntraObject) => a.position - b.position;
    return { users: [...users.values()].sort(byPosition), groups: [...groups.values()].sort(byPosition) };
  }

  exportedBy(objectGUID: string): SyncEngine | undefined {
    const id = this.byGuid.get(objectGUID.toLowerCase());
    return id ? this.objects.get(id)?.engine : undefined;
  }

  /** objectGUID → which engine last wrote the user's password hash, and when (sandbox bookkeeping). */
  readonly passwordHashes = new Map<string, { engine: SyncEngine; at: string }>();

  syncPasswordHashes(objectGUIDs: string[], engine: SyncEngine, now: Date): void {
    for (const g of objectGUIDs) this.passwordHashes.set(g.toLowerCase(), { engine, at: now.toISOString() });
  }

  /** Users per parent OU and per engine (the sandbox state view). */
  usersByOu(): Record<string, { connect: number; cloud: number; unsynced: number }> {
    const out: Record<string, { connect: number; cloud: number; unsynced: number }> = {};
    for (const o of this.objects.values()) {
      if (o.kind !== 'user') continue;
      const dn = o.props.onPremisesDistinguishedName as string | undefined;
      let ou = '(cloud-only)';
      if (dn) {
        try {
          ou = parentDn(dn);
        } catch {
          ou = '(invalid DN)';
        }
      }
      const row = (out[ou] ??= { connect: 0, cloud: 0, unsynced: 0 });
      if (o.engine === 'connect') row.connect++;
      else if (o.engine === 'cloud') row.cloud++;
      else row.unsynced++;
    }
    return out;
  }
}

function safeNormalize(dn: string): string {
  try {
    return normalizeDn(dn);
  } catch {
    return dn.toLowerCase();
  }
}
