import type { AdObject, EntraSyncTarget, SyncEngine } from '../contracts.js';
import { sourceAnchorOf } from '../contracts.js';

export interface MemoryEntraObject {
  objectGUID: string;
  sourceAnchor: string;
  engine: SyncEngine;
  object: AdObject;
  /** objectGUIDs of members whose references Entra still holds (groups only). */
  memberGuids: string[];
}

/**
 * A small honest EntraSyncTarget for tests and the stand-alone `cutover-runner --executor sandbox`: it keeps one
 * object per source anchor and records every export call, so a test can say exactly what Connect did.
 */
export class MemorySyncTarget implements EntraSyncTarget {
  readonly objects = new Map<string, MemoryEntraObject>(); // source anchor → object
  readonly calls: Array<{ op: 'upsert' | 'delete' | 'removeRefs'; engine: SyncEngine; guids: string[] }> = [];
  #anchorByGuid = new Map<string, string>();
  #resolveMember: (dn: string) => string | undefined;

  /** resolveMember maps a member DN to its objectGUID (the AD model's getByDn), so memberships are kept by identity. */
  constructor(resolveMember: (dn: string) => string | undefined = () => undefined) {
    this.#resolveMember = resolveMember;
  }

  upsertFromOnPrem(obj: AdObject, engine: SyncEngine, _domainFqdn: string): void {
    const anchor = sourceAnchorOf(obj);
    const memberGuids = (obj.members ?? []).map((dn) => this.#resolveMember(dn)).filter((g): g is string => !!g);
    this.objects.set(anchor, { objectGUID: obj.objectGUID, sourceAnchor: anchor, engine, object: structuredClone(obj), memberGuids });
    this.#anchorByGuid.set(obj.objectGUID, anchor);
    this.calls.push({ op: 'upsert', engine, guids: [obj.objectGUID] });
  }

  deleteFromOnPrem(objectGUID: string, engine: SyncEngine): void {
    const anchor = this.#anchorByGuid.get(objectGUID);
    const o = anchor ? this.objects.get(anchor) : undefined;
    this.calls.push({ op: 'delete', engine, guids: [objectGUID] });
    // An engine can only delete what it exported itself (the other engine's object is not its to remove).
    if (anchor && o && o.engine === engine) {
      this.objects.delete(anchor);
      this.#anchorByGuid.delete(objectGUID);
      for (const g of this.objects.values()) g.memberGuids = g.memberGuids.filter((m) => m !== objectGUID);
    }
  }

  removeMembershipReferences(objectGUIDs: string[], engine: SyncEngine): void {
    const gone = new Set(objectGUIDs);
    this.calls.push({ op: 'removeRefs', engine, guids: [...objectGUIDs] });
    for (const g of this.objects.values()) g.memberGuids = g.memberGuids.filter((m) => !gone.has(m));
  }

  readonly passwordHashes = new Map<string, { engine: SyncEngine; at: string }>(); // objectGUID → last hash write

  syncPasswordHashes(objectGUIDs: string[], engine: SyncEngine, now: Date): void {
    for (const g of objectGUIDs) this.passwordHashes.set(g, { engine, at: now.toISOString() });
  }

  exportedBy(objectGUID: string): SyncEngine | undefined {
    const anchor = this.#anchorByGuid.get(objectGUID);
    return anchor ? this.objects.get(anchor)?.engine : undefined;
  }

  has(objectGUID: string): boolean {
    return this.exportedBy(objectGUID) !== undefined;
  }

  membersOf(groupGuid: string): string[] {
    const anchor = this.#anchorByGuid.get(groupGuid);
    return anchor ? [...(this.objects.get(anchor)?.memberGuids ?? [])] : [];
  }
}
