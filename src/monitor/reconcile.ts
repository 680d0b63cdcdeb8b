import { makeContainerMatcher, normalizeDn, parseDn } from '../dn.js';

/**
 * Reconciliation of one OU, down to the object: what Active Directory holds under the OU (the runner's
 * `ad-export-identities`) against the synced users Entra ID places under it (onPremisesDistinguishedName).
 * Pure: no I/O, no clock; the same input always gives the same output, sorted, so an unchanged condition
 * produces an unchanged alert (no card churn).
 *
 * Matching follows the sync engines: first the source anchor (onPremisesImmutableId = base64 of
 * ms-DS-ConsistencyGuid, or objectGUID when it is not set: the hard match), then — only to explain what did
 * not match — objectGUID alone, the DN and the samAccountName. A pair found by a fallback is an
 * immutable-id mismatch: the engine would not hard-match it (a duplicate, or a soft match, follows).
 */

export interface OnPremIdentity {
  dn: string;
  objectClass?: string;
  objectGUID: string;
  consistencyGuid: string | null;
  userPrincipalName: string | null;
  mail: string | null;
  proxyAddresses: string[];
  displayName: string | null;
  /** Not in the runner's export today; used for the fallback match when present. */
  samAccountName?: string | null;
}

/** A synced Entra user (the Graph room's SyncedUser has this shape). */
export interface EntraIdentity {
  id: string;
  userPrincipalName: string | null;
  mail: string | null;
  displayName: string | null;
  proxyAddresses: string[];
  onPremisesImmutableId: string | null;
  onPremisesSamAccountName: string | null;
  onPremisesDistinguishedName: string | null;
}

/** Tenant-wide lookups over every synced user (not only the OU's): stale DNs and soft-match collisions. */
export interface TenantLookup {
  byImmutableId(immutableId: string): readonly EntraIdentity[];
  /** Lower-cased UPN. */
  byUpn(upn: string): readonly EntraIdentity[];
  /** Lower-cased mail. */
  byMail(mail: string): readonly EntraIdentity[];
}

export interface OnPremRef {
  dn: string;
  objectGUID: string;
  anchor: string | null;
  userPrincipalName: string | null;
  mail: string | null;
  displayName: string | null;
}

export interface EntraRef {
  id: string;
  dn: string | null;
  immutableId: string | null;
  userPrincipalName: string | null;
  mail: string | null;
  displayName: string | null;
}

export type DriftAttribute = 'displayName' | 'mail' | 'userPrincipalName' | 'proxyAddresses' | 'onPremisesDistinguishedName';
export type DuplicateAttribute = 'userPrincipalName' | 'mail' | 'immutableId';

export interface MissingFinding {
  onPrem: OnPremRef;
}
export interface NotOnPremFinding {
  entra: EntraRef;
}
export interface DuplicateFinding {
  attribute: DuplicateAttribute;
  value: string;
  holders: { side: 'on-prem' | 'entra'; dn: string | null; id: string }[];
}
export interface DriftFinding {
  onPrem: OnPremRef;
  entra: EntraRef;
  attribute: DriftAttribute;
  onPremValue: string;
  entraValue: string;
  detail: string;
}
export interface ImmutableIdFinding {
  onPrem: OnPremRef;
  entra: EntraRef;
  /** What the engine would look for: base64(ms-DS-ConsistencyGuid ?? objectGUID). */
  expected: string | null;
  actual: string | null;
  /** The GUID Entra's immutable id decodes to, when it is a GUID. */
  actualGuid: string | null;
  matchedBy: 'objectGUID' | 'distinguishedName' | 'samAccountName';
  detail: string;
}

export interface ReconcileCounts {
  onPrem: number;
  entra: number;
  matched: number;
  missingInEntra: number;
  notOnPrem: number;
  duplicates: number;
  drift: number;
  immutableIdMismatch: number;
}

export interface ReconcileResult {
  ou: string;
  counts: ReconcileCounts;
  missingInEntra: MissingFinding[];
  notOnPrem: NotOnPremFinding[];
  duplicates: DuplicateFinding[];
  drift: DriftFinding[];
  immutableIdMismatch: ImmutableIdFinding[];
}

export const LIST_KEYS = ['missingInEntra', 'notOnPrem', 'duplicates', 'drift', 'immutableIdMismatch'] as const;
export type ListKey = (typeof LIST_KEYS)[number];

export const LIST_TITLES: Record<ListKey, string> = {
  missingInEntra: 'Missing in Entra ID',
  notOnPrem: 'In Entra ID, not on-premises',
  duplicates: 'Duplicates (same UPN, mail or immutable id)',
  drift: 'Attribute drift',
  immutableIdMismatch: 'Immutable id mismatch (hard-match risk)',
};

export interface ReconcileOptions {
  /**
   * Entra-only proxy addresses that are not drift. Default: secondary smtp addresses at *.onmicrosoft.com,
   * which Exchange Online adds to synced mailboxes by itself.
   */
  ignoreEntraOnlyProxy?: (normalizedAddress: string) => boolean;
}

export function hasFindings(r: ReconcileResult): boolean {
  return LIST_KEYS.some((k) => r[k].length > 0);
}

// ---------------------------------------------------------------- source anchors

const GUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

/**
 * Memo for per-object derivations that repeat every cycle (the same DNs and GUIDs come back each time): bounded,
 * cleared when it grows past what two large tenants need.
 */
function memo<T>(limit: number, fn: (k: string) => T): (k: string) => T {
  const m = new Map<string, T>();
  return (k) => {
    let v = m.get(k);
    if (v === undefined && !m.has(k)) {
      v = fn(k);
      if (m.size >= limit) m.clear();
      m.set(k, v);
    }
    return v as T;
  };
}

const anchorOf = memo(400_000, (guid: string): string | null => {
  const s = guid.trim().replace(/^\{|\}$/g, '');
  if (!GUID_RE.test(s)) return null;
  const b = Buffer.from(s.replace(/-/g, ''), 'hex');
  const le = Buffer.concat([
    Buffer.from(b.subarray(0, 4)).reverse(),
    Buffer.from(b.subarray(4, 6)).reverse(),
    Buffer.from(b.subarray(6, 8)).reverse(),
    b.subarray(8),
  ]);
  return le.toString('base64');
});

/** base64 of the GUID's bytes in Microsoft's mixed-endian order (how Entra shows onPremisesImmutableId); null for a non-GUID. */
export function immutableIdOfGuid(guid: string | null | undefined): string | null {
  return guid ? anchorOf(guid) : null;
}

/** The GUID an immutable id encodes (the inverse of immutableIdOfGuid), or null when it is not 16 bytes of base64. */
export function guidOfImmutableId(immutableId: string | null | undefined): string | null {
  if (!immutableId || !/^[A-Za-z0-9+/]{22}==$/.test(immutableId.trim())) return null;
  const b = Buffer.from(immutableId.trim(), 'base64');
  if (b.length !== 16) return null;
  const hex = Buffer.concat([
    Buffer.from(b.subarray(0, 4)).reverse(),
    Buffer.from(b.subarray(4, 6)).reverse(),
    Buffer.from(b.subarray(6, 8)).reverse(),
    b.subarray(8),
  ]).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The source anchor Connect (with ms-DS-ConsistencyGuid) and Cloud Sync look for. */
export function sourceAnchor(o: Pick<OnPremIdentity, 'objectGUID' | 'consistencyGuid'>): string | null {
  return immutableIdOfGuid(o.consistencyGuid) ?? immutableIdOfGuid(o.objectGUID);
}

// ---------------------------------------------------------------- attribute normalisation

const normalizedDn = memo(400_000, (dn: string): string => {
  try {
    return normalizeDn(dn);
  } catch {
    return dn.trim().toLowerCase();
  }
});

/** A DN in canonical form (parsed: case, spacing and escapes do not matter); an unparsable one lower-cased. */
function safeDn(dn: string | null | undefined): string | null {
  return dn ? normalizedDn(dn) : null;
}

const lower = (s: string | null | undefined): string => (s ?? '').trim().toLowerCase();

/**
 * One proxy address for comparison: the address part case-insensitive, the prefix kept as written for SMTP
 * (SMTP: is the primary address, smtp: a secondary one), any other prefix (X500:, SIP:…) case-insensitive.
 */
export function normalizeProxyAddress(p: string): string {
  const s = p.trim();
  const i = s.indexOf(':');
  if (i <= 0) return s.toLowerCase();
  const prefix = s.slice(0, i);
  const rest = s.slice(i + 1).toLowerCase();
  if (prefix === 'SMTP') return `SMTP:${rest}`;
  if (prefix.toLowerCase() === 'smtp') return `smtp:${rest}`;
  return `${prefix.toLowerCase()}:${rest}`;
}

export const defaultIgnoreEntraOnlyProxy = (p: string): boolean => /^smtp:[^@]+@([a-z0-9-]+\.)*onmicrosoft\.com$/.test(p);

function proxyDiff(onPrem: string[], entra: string[], ignore: (p: string) => boolean): { onlyOnPrem: string[]; onlyEntra: string[]; detail: string } | null {
  if (onPrem.length === entra.length && onPrem.every((x, i) => x === entra[i])) return null; // the usual case: copied as is
  const a = new Set(onPrem.map(normalizeProxyAddress));
  const b = new Set(entra.map(normalizeProxyAddress));
  const onlyOnPrem = [...a].filter((x) => !b.has(x)).sort();
  const onlyEntra = [...b].filter((x) => !a.has(x) && !ignore(x)).sort();
  if (!onlyOnPrem.length && !onlyEntra.length) return null;
  const primary = (s: Set<string>) => [...s].find((x) => x.startsWith('SMTP:')) ?? null;
  const pa = primary(a);
  const pb = primary(b);
  const parts: string[] = [];
  if (pa !== pb) parts.push(`primary SMTP differs (on-premises ${pa ?? 'none'}, Entra ${pb ?? 'none'})`);
  if (onlyOnPrem.length) parts.push(`only on-premises: ${onlyOnPrem.join(' ')}`);
  if (onlyEntra.length) parts.push(`only in Entra: ${onlyEntra.join(' ')}`);
  return { onlyOnPrem, onlyEntra, detail: parts.join('; ') };
}

// ---------------------------------------------------------------- the reconciliation

interface Prepared {
  o: OnPremIdentity;
  i: number;
  ndn: string | null;
  anchor: string | null;
  guidAnchor: string | null;
  ref: OnPremRef;
}

const entraRef = (u: EntraIdentity): EntraRef => ({
  id: u.id,
  dn: u.onPremisesDistinguishedName,
  immutableId: u.onPremisesImmutableId,
  userPrincipalName: u.userPrincipalName,
  mail: u.mail,
  displayName: u.displayName,
});

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

export function reconcileOu(
  input: { ou: string; onPrem: readonly OnPremIdentity[]; entra: readonly EntraIdentity[]; tenant?: TenantLookup },
  opts: ReconcileOptions = {},
): ReconcileResult {
  const ignore = opts.ignoreEntraOnlyProxy ?? defaultIgnoreEntraOnlyProxy;
  const ou = input.ou;

  // On-premises side, in a stable order (normalised DN, then GUID).
  const prepared: Prepared[] = input.onPrem
    .map((o) => {
      const anchor = sourceAnchor(o);
      const guidAnchor = immutableIdOfGuid(o.objectGUID);
      return {
        o,
        i: 0,
        ndn: safeDn(o.dn),
        anchor,
        guidAnchor: guidAnchor !== anchor ? guidAnchor : null,
        ref: { dn: o.dn, objectGUID: o.objectGUID.toLowerCase(), anchor, userPrincipalName: o.userPrincipalName, mail: o.mail, displayName: o.displayName },
      };
    })
    .sort((a, b) => cmp(a.ndn ?? '', b.ndn ?? '') || cmp(a.ref.objectGUID, b.ref.objectGUID));
  prepared.forEach((p, i) => (p.i = i));

  // Entra side under the OU, stable order by id; indexes for each way of matching.
  const entra = [...input.entra].sort((a, b) => cmp(a.id, b.id));
  const entraById = new Map(entra.map((u) => [u.id, u]));
  const byImm = new Map<string, EntraIdentity[]>();
  for (const u of entra) if (u.onPremisesImmutableId) push(byImm, u.onPremisesImmutableId.trim(), u);
  // The fallback indexes are built only when something is left after the hard match (rarely, in steady state).
  let byDn: Map<string, EntraIdentity[]> | undefined;
  let bySam: Map<string, EntraIdentity[]> | undefined;
  const fallbackIndexes = () => {
    if (byDn && bySam) return { byDn, bySam };
    byDn = new Map();
    bySam = new Map();
    for (const u of entra) {
      const d = safeDn(u.onPremisesDistinguishedName);
      if (d) push(byDn, d, u);
      if (u.onPremisesSamAccountName) push(bySam, lower(u.onPremisesSamAccountName), u);
    }
    return { byDn, bySam };
  };

  const claimed = new Map<string, number>(); // Entra id → prepared index
  const match = new Map<number, { u: EntraIdentity; by: 'anchor' | ImmutableIdFinding['matchedBy'] }>();
  const take = (p: Prepared, cands: readonly EntraIdentity[] | undefined, by: 'anchor' | ImmutableIdFinding['matchedBy']): boolean => {
    const u = cands?.find((c) => !claimed.has(c.id));
    if (!u) return false;
    claimed.set(u.id, p.i);
    match.set(p.i, { u, by });
    return true;
  };
  const unmatched = () => prepared.filter((p) => !match.has(p.i));
  // 1. The hard match, within the OU, then anywhere in the tenant (Entra still has the old DN: a move not yet synced).
  for (const p of prepared) if (p.anchor) take(p, byImm.get(p.anchor), 'anchor');
  if (input.tenant) for (const p of unmatched()) if (p.anchor) take(p, input.tenant.byImmutableId(p.anchor), 'anchor');
  // 2. Fallbacks that explain a failed hard match.
  for (const p of unmatched()) if (p.guidAnchor) take(p, byImm.get(p.guidAnchor) ?? input.tenant?.byImmutableId(p.guidAnchor), 'objectGUID');
  if (unmatched().length) {
    const fb = fallbackIndexes();
    for (const p of unmatched()) if (p.ndn) take(p, fb.byDn.get(p.ndn), 'distinguishedName');
    for (const p of unmatched()) {
      const sam = p.o.samAccountName ? lower(p.o.samAccountName) : '';
      if (sam) take(p, fb.bySam.get(sam), 'samAccountName');
    }
  }

  const missingInEntra: MissingFinding[] = [];
  const drift: DriftFinding[] = [];
  const immutableIdMismatch: ImmutableIdFinding[] = [];
  for (const p of prepared) {
    const m = match.get(p.i);
    if (!m) {
      missingInEntra.push({ onPrem: p.ref });
      continue;
    }
    const u = m.u;
    const e = entraRef(u);
    if (m.by !== 'anchor') {
      const actual = u.onPremisesImmutableId;
      const actualGuid = guidOfImmutableId(actual);
      const detail =
        m.by === 'objectGUID'
          ? `Entra's immutable id is the objectGUID, but ms-DS-ConsistencyGuid holds ${p.o.consistencyGuid}: the engine looks for ${p.anchor} and would not hard-match this user.`
          : `Found by ${m.by === 'distinguishedName' ? 'DN' : 'samAccountName'} only: Entra's immutable id ${actual ?? '(none)'}${actualGuid ? ` (GUID ${actualGuid})` : ''} is not ${p.anchor ?? '(no valid anchor)'}; a sync would create a duplicate or soft-match by UPN/mail.`;
      immutableIdMismatch.push({ onPrem: p.ref, entra: e, expected: p.anchor, actual, actualGuid, matchedBy: m.by, detail });
    }
    const add = (attribute: DriftAttribute, onPremValue: string, entraValue: string, detail: string) =>
      drift.push({ onPrem: p.ref, entra: e, attribute, onPremValue, entraValue, detail });
    if ((p.o.displayName ?? '') !== (u.displayName ?? '')) add('displayName', p.o.displayName ?? '', u.displayName ?? '', 'displayName differs');
    if (lower(p.o.mail) !== lower(u.mail)) add('mail', p.o.mail ?? '', u.mail ?? '', 'mail differs');
    if (p.o.userPrincipalName && lower(p.o.userPrincipalName) !== lower(u.userPrincipalName)) {
      const [lp, dp] = lower(p.o.userPrincipalName).split('@');
      const [le, de] = lower(u.userPrincipalName).split('@');
      const detail =
        lp === le && de?.endsWith('.onmicrosoft.com') && !dp?.endsWith('.onmicrosoft.com')
          ? `UPN suffix @${dp} was replaced by @${de}: is ${dp} a verified domain?`
          : 'userPrincipalName differs';
      add('userPrincipalName', p.o.userPrincipalName, u.userPrincipalName ?? '', detail);
    }
    const pd = proxyDiff(p.o.proxyAddresses ?? [], u.proxyAddresses ?? [], ignore);
    if (pd) add('proxyAddresses', [...(p.o.proxyAddresses ?? [])].sort().join(' '), [...(u.proxyAddresses ?? [])].sort().join(' '), pd.detail);
    if (u.onPremisesDistinguishedName !== p.o.dn && safeDn(u.onPremisesDistinguishedName) !== p.ndn) {
      const outside = !entraById.has(u.id);
      add(
        'onPremisesDistinguishedName',
        p.o.dn,
        u.onPremisesDistinguishedName ?? '',
        outside
          ? 'Entra still places this user outside the OU: a move not yet synced, or the sync engine does not see the new location'
          : 'DN differs within the OU (rename or move not yet synced)',
      );
    }
  }

  const notOnPrem: NotOnPremFinding[] = entra.filter((u) => !claimed.has(u.id)).map((u) => ({ entra: entraRef(u) }));

  // Duplicates: one identity per on-prem object (with its matched Entra user) and per unmatched Entra user.
  // Most values are held once: remember the first holder, and build a list only when a second identity appears.
  type Holder = DuplicateFinding['holders'][number];
  const first = new Map<string, { identity: string; h: Holder }>();
  const holders = new Map<string, Map<string, Holder>>(); // attr|value → identity → holder (values held twice or more)
  const hold = (attr: DuplicateAttribute, value: string | null | undefined, identity: string, h: Holder) => {
    if (!value) return;
    const v = attr === 'immutableId' ? value.trim() : value.trim().toLowerCase();
    if (!v) return;
    const key = `${attr}|${v}`;
    const m = holders.get(key);
    if (m) {
      if (!m.has(identity) || h.side === 'on-prem') m.set(identity, h);
      return;
    }
    const f = first.get(key);
    if (!f) first.set(key, { identity, h });
    else if (f.identity === identity) {
      if (h.side === 'on-prem') f.h = h;
    } else
      holders.set(
        key,
        new Map([
          [f.identity, f.h],
          [identity, h],
        ]),
      );
  };
  const identityOf = (u: EntraIdentity): string => {
    const i = claimed.get(u.id);
    return i === undefined ? `e:${u.id}` : `o:${i}`;
  };
  const holdEntra = (u: EntraIdentity) => {
    const id = identityOf(u);
    const h = { side: 'entra' as const, dn: u.onPremisesDistinguishedName, id: u.id };
    hold('userPrincipalName', u.userPrincipalName, id, h);
    hold('mail', u.mail, id, h);
    hold('immutableId', u.onPremisesImmutableId, id, h);
  };
  for (const p of prepared) {
    const id = `o:${p.i}`;
    const h = { side: 'on-prem' as const, dn: p.o.dn, id: p.ref.objectGUID };
    hold('userPrincipalName', p.o.userPrincipalName, id, h);
    hold('mail', p.o.mail, id, h);
    hold('immutableId', p.anchor, id, h);
  }
  const seenEntra = new Set<string>();
  const visit = (u: EntraIdentity) => {
    if (seenEntra.has(u.id)) return;
    seenEntra.add(u.id);
    holdEntra(u);
  };
  for (const u of entra) visit(u);
  for (const { u } of match.values()) visit(u);
  if (input.tenant) {
    // Soft-match collisions: the same value on another Entra user anywhere in the tenant.
    for (const p of prepared) {
      if (p.o.userPrincipalName) input.tenant.byUpn(lower(p.o.userPrincipalName)).forEach(visit);
      if (p.o.mail) input.tenant.byMail(lower(p.o.mail)).forEach(visit);
      if (p.anchor) input.tenant.byImmutableId(p.anchor).forEach(visit);
    }
    for (const u of entra) {
      if (u.userPrincipalName) input.tenant.byUpn(lower(u.userPrincipalName)).forEach(visit);
      if (u.mail) input.tenant.byMail(lower(u.mail)).forEach(visit);
      if (u.onPremisesImmutableId) input.tenant.byImmutableId(u.onPremisesImmutableId.trim()).forEach(visit);
    }
  }
  const duplicates: DuplicateFinding[] = [];
  for (const [key, m] of holders) {
    if (m.size < 2) continue;
    const bar = key.indexOf('|');
    // Report each duplicated value once, with every object holding it (an on-prem object and its Entra user are one identity).
    const list = [...m.values()].sort((a, b) => cmp(b.side, a.side) || cmp(safeDn(a.dn) ?? '', safeDn(b.dn) ?? '') || cmp(a.id, b.id));
    duplicates.push({ attribute: key.slice(0, bar) as DuplicateAttribute, value: key.slice(bar + 1), holders: list });
  }
  duplicates.sort((a, b) => cmp(a.attribute, b.attribute) || cmp(a.value, b.value));
  drift.sort((a, b) => cmp(safeDn(a.onPrem.dn) ?? '', safeDn(b.onPrem.dn) ?? '') || cmp(a.attribute, b.attribute));
  notOnPrem.sort((a, b) => cmp(safeDn(a.entra.dn) ?? '', safeDn(b.entra.dn) ?? '') || cmp(a.entra.id, b.entra.id));

  return {
    ou,
    counts: {
      onPrem: prepared.length,
      entra: entra.length,
      matched: match.size,
      missingInEntra: missingInEntra.length,
      notOnPrem: notOnPrem.length,
      duplicates: duplicates.length,
      drift: drift.length,
      immutableIdMismatch: immutableIdMismatch.length,
    },
    missingInEntra,
    notOnPrem,
    duplicates,
    drift,
    immutableIdMismatch,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------- the Entra side of many OUs at once

/**
 * Every synced user of a tenant bucketed by the monitored OUs in one pass (a user counts for every listed OU it
 * lies under, nested OUs too), plus the tenant-wide lookups. DN parsing is the hot path for 150,000 users, so
 * the DN → OU mapping is cached across rebuilds while the OU list stays the same.
 */
export class EntraOuView implements TenantLookup {
  readonly #buckets: EntraIdentity[][];
  readonly #index = new Map<string, number>();
  readonly #imm = new Map<string, EntraIdentity[]>();
  readonly #upn = new Map<string, EntraIdentity[]>();
  readonly #mail = new Map<string, EntraIdentity[]>();
  readonly size: number;

  constructor(
    users: Iterable<EntraIdentity>,
    ous: readonly string[],
    readonly dnCache: DnBucketCache = new DnBucketCache(ous),
  ) {
    if (dnCache.signature !== DnBucketCache.signatureOf(ous)) throw new Error('DN cache built for another OU list');
    this.#buckets = ous.map(() => []);
    ous.forEach((o, i) => this.#index.set(safeDn(o) ?? o, i));
    let n = 0;
    for (const u of users) {
      n++;
      if (u.onPremisesImmutableId) push(this.#imm, u.onPremisesImmutableId.trim(), u);
      if (u.userPrincipalName) push(this.#upn, u.userPrincipalName.toLowerCase(), u);
      if (u.mail) push(this.#mail, u.mail.toLowerCase(), u);
      const dn = u.onPremisesDistinguishedName;
      if (!dn) continue;
      for (const j of dnCache.bucketsOf(dn)) this.#buckets[j].push(u);
    }
    this.size = n;
  }

  under(ou: string): EntraIdentity[] {
    const i = this.#index.get(safeDn(ou) ?? ou);
    if (i === undefined) throw new Error(`${ou} is not one of the OUs this view was built for`);
    return this.#buckets[i];
  }

  byImmutableId(v: string): readonly EntraIdentity[] {
    return this.#imm.get(v) ?? [];
  }
  byUpn(v: string): readonly EntraIdentity[] {
    return this.#upn.get(v) ?? [];
  }
  byMail(v: string): readonly EntraIdentity[] {
    return this.#mail.get(v) ?? [];
  }
}

/** DN → indexes of the listed OUs it lies under; memoised per DN string. */
export class DnBucketCache {
  readonly signature: string;
  readonly #deepest: (dn: string) => number;
  readonly #ancestors: number[][];
  readonly #memo = new Map<string, readonly number[]>();
  static readonly NONE: readonly number[] = Object.freeze([]);

  static signatureOf(ous: readonly string[]): string {
    return ous.map((o) => safeDn(o) ?? o).join('\n');
  }

  constructor(ous: readonly string[]) {
    this.signature = DnBucketCache.signatureOf(ous);
    this.#deepest = makeContainerMatcher([...ous]);
    // Which listed OUs each listed OU lies under (itself included): RDN lists compared from the root, parsed once.
    const rdns = ous.map((o) => {
      try {
        return parseDn(o).map((r) => `${r.type}=${r.value.toLowerCase()}`);
      } catch {
        return [o.toLowerCase()];
      }
    });
    const under = (a: string[], c: string[]) => c.length <= a.length && c.every((r, k) => r === a[a.length - c.length + k]);
    this.#ancestors = ous.map((_, i) => ous.map((__, j) => j).filter((j) => j === i || under(rdns[i], rdns[j])));
  }

  bucketsOf(dn: string): readonly number[] {
    let r = this.#memo.get(dn);
    if (r === undefined) {
      const i = this.#deepest(dn);
      r = i < 0 ? DnBucketCache.NONE : this.#ancestors[i];
      // Bounded: a tenant's DNs, kept while they are seen; cleared when it grows past twice a large tenant.
      if (this.#memo.size > 1_000_000) this.#memo.clear();
      this.#memo.set(dn, r);
    }
    return r;
  }
}
