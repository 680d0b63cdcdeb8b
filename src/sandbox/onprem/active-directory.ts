import type { AdObject, AdObjectClass, OnPremDirectory } from '../contracts.js';
import { escapeValue, isUnder, makeContainerMatcher, normalizeDn, parentDn, parseDn } from '../../dn.js';
import { Prng } from './prng.js';

/** A new object as a caller describes it: the directory assigns objectGUID and the DN from cn + parent. */
export interface NewAdObject extends Omit<AdObject, 'objectGUID' | 'dn' | 'proxyAddresses'> {
  cn: string;
  parentDn: string;
  proxyAddresses?: string[];
  objectGUID?: string;
}

export interface AdSchemaInfo {
  /** objectVersion of CN=Schema: 87 = Windows Server 2016, 88 = 2019/2022, 91 = 2025, 69 = 2012 R2. */
  objectVersion: number;
  hasExternalDirectoryObjectId: boolean;
}

export class AdError extends Error {
  constructor(
    readonly code: 'not-found' | 'exists' | 'invalid' | 'constraint',
    message: string,
  ) {
    super(message);
    this.name = 'AdError';
  }
}

/**
 * The simulated Active Directory domain: OUs and the user, group and contact objects the migration
 * reads and moves. DNs are kept as the directory would print them; lookups are by normalized DN.
 */
export class ActiveDirectory implements OnPremDirectory {
  readonly domainFqdn: string;
  readonly baseDn: string;
  schema: AdSchemaInfo;
  /** The other domains of this forest (child domains, other trees): DirSync synchronizes the whole forest. */
  readonly otherDomains: ActiveDirectory[] = [];
  #ous = new Map<string, string>(); // normalized DN → DN as created
  #objects = new Map<string, AdObject>(); // objectGUID → object
  #byDn = new Map<string, string>(); // normalized DN → objectGUID
  #guids: Prng;
  /** Bumped on every change: lets the sync engine know whether anything happened since its last cycle. */
  #version = 0;

  constructor(opts: { domainFqdn: string; schema?: Partial<AdSchemaInfo>; guidSeed?: number }) {
    this.domainFqdn = opts.domainFqdn.toLowerCase();
    this.baseDn = this.domainFqdn
      .split('.')
      .map((p) => `DC=${escapeValue(p)}`)
      .join(',');
    this.schema = { objectVersion: 88, hasExternalDirectoryObjectId: true, ...opts.schema };
    this.#guids = new Prng(opts.guidSeed ?? 0x5eed);
  }

  get version(): number {
    return this.#version;
  }

  // ---------------------------------------------------------------- OUs

  addOu(dn: string): string {
    parseDn(dn);
    if (!isUnder(dn, this.baseDn)) throw new AdError('invalid', `${dn} is not in ${this.domainFqdn}`);
    const parent = parentDn(dn);
    if (normalizeDn(parent) !== normalizeDn(this.baseDn) && !this.hasOu(parent)) throw new AdError('not-found', `parent container ${parent} does not exist`);
    const key = normalizeDn(dn);
    if (this.#ous.has(key)) throw new AdError('exists', `OU ${dn} already exists`);
    this.#ous.set(key, dn);
    this.#version++;
    return dn;
  }

  hasOu(dn: string): boolean {
    try {
      return this.#ous.has(normalizeDn(dn));
    } catch {
      return false;
    }
  }

  /** The OU's DN exactly as the directory stores it (what a rule's `dn ENDSWITH` condition must match). */
  ouDn(dn: string): string | undefined {
    try {
      return this.#ous.get(normalizeDn(dn));
    } catch {
      return undefined;
    }
  }

  listOus(): string[] {
    return [...this.#ous.values()];
  }

  // ---------------------------------------------------------------- objects

  add(spec: NewAdObject): AdObject {
    const { cn, parentDn: parent, objectGUID, ...rest } = spec;
    if (normalizeDn(parent) !== normalizeDn(this.baseDn) && !this.hasOu(parent)) throw new AdError('not-found', `container ${parent} does not exist`);
    const dn = `CN=${escapeValue(cn)},${parent}`;
    const key = normalizeDn(dn);
    if (this.#byDn.has(key)) throw new AdError('exists', `${dn} already exists`);
    const guid = (objectGUID ?? this.#guids.guid()).toLowerCase();
    if (this.#objects.has(guid)) throw new AdError('exists', `objectGUID ${guid} already exists`);
    const obj: AdObject = { ...rest, objectGUID: guid, dn, proxyAddresses: spec.proxyAddresses ?? [] };
    if (obj.objectClass === 'group') obj.members ??= [];
    this.#objects.set(guid, obj);
    this.#byDn.set(key, guid);
    this.#version++;
    return structuredClone(obj);
  }

  get(objectGUID: string): AdObject | undefined {
    const o = this.#objects.get(objectGUID.toLowerCase());
    return o && structuredClone(o);
  }

  getByDn(dn: string): AdObject | undefined {
    let key: string;
    try {
      key = normalizeDn(dn);
    } catch {
      return undefined;
    }
    const guid = this.#byDn.get(key);
    return guid ? this.get(guid) : undefined;
  }

  all(): AdObject[] {
    return [...this.#objects.values()].map((o) => structuredClone(o));
  }

  objectsUnder(containerDns: string[], classes: AdObjectClass[]): AdObject[] {
    if (containerDns.length === 0) return [];
    const match = makeContainerMatcher(containerDns);
    const wanted = new Set(classes);
    const out: AdObject[] = [];
    for (const o of this.#objects.values()) if (wanted.has(o.objectClass) && match(o.dn) >= 0) out.push(structuredClone(o));
    return out;
  }

  /** Changes attributes other than identity and location (use move for the DN, never objectGUID). */
  update(objectGUID: string, patch: Partial<Omit<AdObject, 'objectGUID' | 'dn' | 'objectClass'>>): AdObject {
    const o = this.#must(objectGUID);
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete (o as any)[k];
      else (o as any)[k] = structuredClone(v);
    }
    this.#version++;
    return structuredClone(o);
  }

  /**
   * Sets msDS-ExternalDirectoryObjectId the way `Set-ADGroup -Add` does: the attribute is single-valued,
   * so adding a second value is a constraint violation, and it exists only in a 2016+ schema.
   */
  addExternalDirectoryObjectId(objectGUID: string, value: string): void {
    if (!this.schema.hasExternalDirectoryObjectId)
      throw new AdError('constraint', 'msDS-ExternalDirectoryObjectId is not in the schema (needs Windows Server 2016 schema)');
    const o = this.#must(objectGUID);
    if (o.externalDirectoryObjectId !== undefined) throw new AdError('constraint', `${o.dn} already has msDS-ExternalDirectoryObjectId (single-valued)`);
    o.externalDirectoryObjectId = value;
    this.#version++;
  }

  /** Moves an object to another container, keeping its objectGUID (as AD does); group references follow. */
  move(objectGUID: string, newParentDn: string): AdObject {
    const o = this.#must(objectGUID);
    if (normalizeDn(newParentDn) !== normalizeDn(this.baseDn) && !this.hasOu(newParentDn))
      throw new AdError('not-found', `container ${newParentDn} does not exist`);
    const rdn = o.dn.slice(0, o.dn.length - parentDn(o.dn).length - 1);
    const newDn = `${rdn},${newParentDn}`;
    const newKey = normalizeDn(newDn);
    if (this.#byDn.has(newKey)) throw new AdError('exists', `${newDn} already exists`);
    this.#byDn.delete(normalizeDn(o.dn));
    this.#renameReferences(o.dn, newDn);
    o.dn = newDn;
    this.#byDn.set(newKey, o.objectGUID);
    this.#version++;
    return structuredClone(o);
  }

  delete(objectGUID: string): void {
    const o = this.#must(objectGUID);
    this.#objects.delete(o.objectGUID);
    this.#byDn.delete(normalizeDn(o.dn));
    this.#renameReferences(o.dn, null);
    this.#version++;
  }

  addMember(groupGuid: string, memberDn: string): void {
    const g = this.#must(groupGuid);
    if (g.objectClass !== 'group') throw new AdError('invalid', `${g.dn} is not a group`);
    if (!this.getByDn(memberDn)) throw new AdError('not-found', `member ${memberDn} does not exist`);
    const key = normalizeDn(memberDn);
    if (!g.members!.some((m) => normalizeDn(m) === key)) {
      g.members!.push(memberDn);
      this.#version++;
    }
  }

  removeMember(groupGuid: string, memberDn: string): void {
    const g = this.#must(groupGuid);
    const key = normalizeDn(memberDn);
    const before = g.members?.length ?? 0;
    g.members = (g.members ?? []).filter((m) => normalizeDn(m) !== key);
    if (g.members.length !== before) this.#version++;
  }

  /**
   * Counts by class under one container (what `ad-count` answers). `users` is what `(&(objectCategory=person)
   * (objectClass=user))` and Get-ADUser return: inetOrgPerson derives from user in the AD schema, so it is counted
   * there too; `inetOrgPersons` says how many of them are inetOrgPersons.
   */
  count(containerDn: string): { users: number; inetOrgPersons: number; groups: number; contacts: number } {
    const objs = this.objectsUnder([containerDn], ['user', 'inetOrgPerson', 'group', 'contact']);
    const n = (c: AdObjectClass) => objs.filter((o) => o.objectClass === c).length;
    return { users: n('user') + n('inetOrgPerson'), inetOrgPersons: n('inetOrgPerson'), groups: n('group'), contacts: n('contact') };
  }

  /** Per-OU totals for the sandbox state page and tests (users include inetOrgPersons, as in count()). */
  summary(): {
    domainFqdn: string;
    ous: Array<{ dn: string; users: number; inetOrgPersons: number; groups: number; contacts: number }>;
    totals: { users: number; inetOrgPersons: number; groups: number; contacts: number };
  } {
    const totals = { users: 0, inetOrgPersons: 0, groups: 0, contacts: 0 };
    for (const o of this.#objects.values()) {
      if (o.objectClass === 'inetOrgPerson') totals.inetOrgPersons++;
      totals[o.objectClass === 'inetOrgPerson' ? 'users' : (`${o.objectClass}s` as 'users')]++;
    }
    return { domainFqdn: this.domainFqdn, ous: this.listOus().map((dn) => ({ dn, ...this.count(dn) })), totals };
  }

  #must(objectGUID: string): AdObject {
    const o = this.#objects.get(objectGUID.toLowerCase());
    if (!o) throw new AdError('not-found', `no object with objectGUID ${objectGUID}`);
    return o;
  }

  /** AD keeps member links pointing at the object wherever it moves; deletion removes them. */
  #renameReferences(oldDn: string, newDn: string | null): void {
    const key = normalizeDn(oldDn);
    for (const g of this.#objects.values()) {
      if (!g.members) continue;
      const idx = g.members.findIndex((m) => normalizeDn(m) === key);
      if (idx < 0) continue;
      if (newDn) g.members[idx] = newDn;
      else g.members.splice(idx, 1);
    }
  }
}
