import { Attribute, Change, Client, EqualityFilter, type Entry } from 'ldapts';
import type { ConnectionOptions } from 'node:tls';
import { makeContainerMatcher, parentDn, parseDn } from '../../dn.js';
import { ActionError, type ActionName, type IdentityRecord } from '../../actions/index.js';
import { GROUP_TYPE, gwbVerdict, syncToolOf } from './ad-verdicts.js';
import type { ActionContext, Executor } from './types.js';
import { installFastAttributeDecoding } from './ldap-fast-decode.js';

export interface LdapSettings {
  /** ldap://host[:port] or ldaps://host[:port] */
  url: string;
  bindDn: string;
  bindPassword: string;
  /** Upgrade ldap:// with StartTLS before binding. */
  startTls?: boolean;
  /** Simple bind over unencrypted ldap:// -- only for a lab; must be asked for explicitly. */
  allowPlainLdap?: boolean;
  tls?: ConnectionOptions;
  /** Paged search page size; AD's MaxPageSize is 1000, so larger values are refused. */
  pageSize?: number;
  /**
   * The Global Catalog (ldap://host:3268, ldaps://host:3269) for counting the forest's other domains; by default the
   * same host on the GC port. Every object class and objectCategory is in the GC's partial attribute set.
   */
  gcUrl?: string;
  timeoutMs?: number;
}

/** AD's recommended class filters (objectClass is not indexed; objectCategory is). */
export const FILTERS = {
  user: '(&(objectCategory=person)(objectClass=user))',
  contact: '(&(objectCategory=person)(objectClass=contact))',
  group: '(objectCategory=group)',
} as const;

/** Connect never synchronizes its own service accounts (MSOL_…, AAD_…): the default configuration's user filter. */
const NOT_SYNC_ACCOUNTS = '(!(sAMAccountName=MSOL_*))(!(sAMAccountName=AAD_*))';

/** AD's GeneralizedTime (20261205043012.0Z) as ISO 8601, or null. */
function generalizedTime(v: unknown): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})/.exec(String(v ?? ''));
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : null;
}

const IDENTITY_ATTRIBUTES = ['objectClass', 'objectGUID', 'mS-DS-ConsistencyGuid', 'userPrincipalName', 'mail', 'proxyAddresses', 'displayName'];

/**
 * The Active Directory actions over LDAP (ldapts). The only user data that reaches LDAP are DNs (as search bases
 * and modify targets, validated as RFC 4514) and values from the directory itself; filters are fixed strings or
 * built with ldapts filter objects, which escape their values.
 */
export class LdapExecutor implements Executor {
  readonly kind = 'ldap' as const;
  readonly #s: LdapSettings;
  readonly pageSize: number;

  constructor(settings: LdapSettings) {
    const url = new URL(settings.url);
    if (url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') throw new Error(`LDAP URL must be ldap:// or ldaps://, got ${url.protocol}`);
    if (url.protocol === 'ldap:' && !settings.startTls && !settings.allowPlainLdap)
      throw new Error('refusing a simple bind over plain ldap://: use ldaps://, StartTLS (--start-tls), or allow plain LDAP explicitly (--allow-plain-ldap)');
    const pageSize = settings.pageSize ?? 1000;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new Error('LDAP page size must be 1-1000 (AD MaxPageSize)');
    this.#s = settings;
    this.pageSize = pageSize;
    installFastAttributeDecoding();
  }

  async run(action: ActionName, params: any, ctx: ActionContext): Promise<unknown> {
    switch (action) {
      case 'ad-count':
        return this.#withClient((c) => this.#count(c, params.ou, ctx));
      case 'ad-count-by-ou':
        return this.#withClient((c) => this.#countByOu(c, params.base, params.excludeContainers ?? [], ctx));
      case 'ad-export-identities':
        return this.#withClient((c) => this.#exportIdentities(c, params.ou, params.classes, ctx));
      case 'ad-domain-summary':
        return this.#withClient((c) => this.#domainSummary(c, ctx));
      case 'ad-check-schema':
        return this.#withClient((c) => this.#checkSchema(c, ctx));
      case 'ad-copy-admin-description':
        return this.#withClient((c) => this.#copyAdminDescription(c, params.ou, params.dryRun, ctx));
      case 'find-sync-accounts':
        return this.#withClient((c) => this.#findSyncAccounts(c, ctx));
      case 'forest-object-count':
        return this.#withClient((c) => this.#forestObjectCount(c, ctx));
      case 'gwb-scope-report':
        return this.#withClient((c) => this.#gwbScopeReport(c, params.ou, ctx));
      default:
        throw new ActionError('unsupported', `the ldap executor does not carry out ${action}`);
    }
  }

  async #withClient<T>(fn: (c: Client) => Promise<T>, url = this.#s.url): Promise<T> {
    const secure = url.startsWith('ldaps:');
    const client = new Client({
      url,
      timeout: this.#s.timeoutMs ?? 120_000,
      connectTimeout: 10_000,
      // ldapts turns TLS on whenever tlsOptions is given, even for ldap://, so pass them only for ldaps://.
      ...(secure ? { tlsOptions: this.#s.tls ?? {} } : {}),
    });
    try {
      if (!secure && this.#s.startTls) await client.startTLS(this.#s.tls ?? {});
      await client.bind(this.#s.bindDn, this.#s.bindPassword);
      return await fn(client);
    } catch (err) {
      if (err instanceof ActionError) throw err;
      const name = (err as Error)?.constructor?.name ?? 'Error';
      if (name === 'NoSuchObjectError') throw new ActionError('not-found', `LDAP: ${(err as Error).message}`);
      throw new ActionError('failed', `LDAP ${name}: ${(err as Error).message}`);
    } finally {
      await client.unbind().catch(() => {});
    }
  }

  /** Every entry of a paged subtree search, page by page, never holding more than one page of raw results. */
  async *#paged(client: Client, base: string, filter: string | EqualityFilter, attributes: string[], buffers: string[] = []): AsyncGenerator<Entry[]> {
    for await (const page of client.searchPaginated(base, {
      scope: 'sub',
      filter,
      attributes,
      explicitBufferAttributes: buffers,
      sizeLimit: 0,
      paged: { pageSize: this.pageSize },
    }))
      yield page.searchEntries;
  }

  async #countFilter(client: Client, base: string, filter: string): Promise<number> {
    let n = 0;
    for await (const entries of this.#paged(client, base, filter, ['1.1'])) n += entries.length;
    return n;
  }

  async #count(client: Client, ou: string, ctx: ActionContext) {
    parseDn(ou);
    const users = await this.#countFilter(client, ou, FILTERS.user);
    const groups = await this.#countFilter(client, ou, FILTERS.group);
    const contacts = await this.#countFilter(client, ou, FILTERS.contact);
    ctx.note(`paged LDAP count under ${ou} (page size ${this.pageSize}): ${users} users, ${groups} groups, ${contacts} contacts`);
    return { ou, users, groups, contacts };
  }

  /** What is left under a container outside the excluded ones, per parent container (critical system objects left out). */
  async #countByOu(client: Client, base: string, exclude: string[], ctx: ActionContext) {
    const excluded = makeContainerMatcher(exclude);
    const filter = `(&(|${FILTERS.user}${FILTERS.group}${FILTERS.contact})(!(isCriticalSystemObject=TRUE))${NOT_SYNC_ACCOUNTS})`;
    const rows = new Map<string, { dn: string; users: number; inetOrgPersons: number; groups: number; contacts: number }>();
    let total = 0;
    for await (const entries of this.#paged(client, base, filter, ['objectClass'])) {
      for (const e of entries) {
        if (excluded(e.dn) >= 0) continue;
        const classes = ([] as unknown[]).concat(e.objectClass ?? []).map((c) => String(c).toLowerCase());
        const parent = parentDn(e.dn);
        const row = rows.get(parent) ?? { dn: parent, users: 0, inetOrgPersons: 0, groups: 0, contacts: 0 };
        if (classes.includes('group')) row.groups++;
        else if (classes.includes('contact')) row.contacts++;
        else if (classes.includes('inetorgperson')) row.inetOrgPersons++;
        else row.users++;
        rows.set(parent, row);
        total++;
      }
    }
    ctx.note(`paged LDAP count under ${base} less ${exclude.length} excluded containers: ${total} objects in ${rows.size} containers`);
    return { base, containers: [...rows.values()].sort((a, b) => a.dn.localeCompare(b.dn)), total };
  }

  async #exportIdentities(client: Client, ou: string, classes: Array<'user' | 'group' | 'contact'>, ctx: ActionContext) {
    const filter = classes.length === 1 ? FILTERS[classes[0]] : `(|${classes.map((c) => FILTERS[c]).join('')})`;
    const objects: IdentityRecord[] = [];
    for await (const entries of this.#paged(client, ou, filter, IDENTITY_ATTRIBUTES, ['objectGUID', 'mS-DS-ConsistencyGuid']))
      for (const e of entries) objects.push(toIdentity(e));
    ctx.note(`exported identity data of ${objects.length} objects under ${ou}`);
    return { ou, count: objects.length, objects };
  }

  /** The whole domain: counts, plus member counts of groups (ranged retrieval past AD's 1,500-value pages). */
  async #domainSummary(client: Client, ctx: ActionContext) {
    const root = await this.#rootDse(client);
    const base = String(root.defaultNamingContext ?? '');
    if (!base) throw new ActionError('failed', 'rootDSE has no defaultNamingContext');
    const users = await this.#countFilter(client, base, FILTERS.user);
    const contacts = await this.#countFilter(client, base, FILTERS.contact);
    const sizes: { dn: string; members: number }[] = [];
    let withoutAnchor = 0;
    for await (const entries of this.#paged(client, base, FILTERS.group, ['member', 'mS-DS-ConsistencyGuid'])) {
      for (const e of entries) {
        if (!e['mS-DS-ConsistencyGuid'] && !e['ms-DS-ConsistencyGuid']) withoutAnchor++;
        sizes.push({ dn: String(e.dn), members: await this.#memberCount(client, e) });
      }
    }
    sizes.sort((a, b) => b.members - a.members);
    const domain = parseDn(base)
      .filter((r) => r.type === 'dc')
      .map((r) => r.value.toLowerCase())
      .join('.');
    ctx.note(`paged LDAP summary of ${base}: ${users} users, ${sizes.length} groups, ${contacts} contacts`);
    return {
      domain,
      users,
      groups: sizes.length,
      contacts,
      total: users + sizes.length + contacts,
      largestGroups: sizes.slice(0, 5),
      groupsWithoutConsistencyGuid: withoutAnchor,
    };
  }

  /** AD returns member;range=0-1499 for large groups: fetch the following ranges until the last one (…-*). */
  async #memberCount(client: Client, e: Entry): Promise<number> {
    const rangedKey = Object.keys(e).find((k) => /^member;range=/i.test(k));
    const asList = (v: unknown) => (Array.isArray(v) ? v.length : v ? 1 : 0);
    if (!rangedKey) return asList(e.member);
    let count = asList(e[rangedKey]);
    let m = /range=(\d+)-(\d+|\*)/i.exec(rangedKey);
    while (m && m[2] !== '*') {
      const next = Number(m[2]) + 1;
      const r = await client.search(String(e.dn), { scope: 'base', filter: '(objectClass=*)', attributes: [`member;range=${next}-*`] });
      const entry = r.searchEntries[0] ?? {};
      const key = Object.keys(entry).find((k) => /^member;range=/i.test(k));
      if (!key) break;
      count += asList(entry[key]);
      m = /range=(\d+)-(\d+|\*)/i.exec(key);
    }
    return count;
  }

  async #rootDse(client: Client): Promise<Entry> {
    const r = await client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['schemaNamingContext', 'defaultNamingContext'] });
    if (!r.searchEntries[0]) throw new ActionError('failed', 'the directory returned no rootDSE');
    return r.searchEntries[0];
  }

  async #checkSchema(client: Client, ctx: ActionContext) {
    const schemaNc = String(first((await this.#rootDse(client)).schemaNamingContext) ?? '');
    if (!schemaNc) throw new ActionError('failed', 'rootDSE has no schemaNamingContext (not an Active Directory?)');
    const schema = await client.search(schemaNc, { scope: 'base', filter: '(objectClass=*)', attributes: ['objectVersion'] });
    const objectVersion = Number(first(schema.searchEntries[0]?.objectVersion) ?? 0);
    const attr = await client.search(schemaNc, {
      scope: 'one',
      filter: new EqualityFilter({ attribute: 'lDAPDisplayName', value: 'msDS-ExternalDirectoryObjectId' }),
      attributes: ['lDAPDisplayName'],
    });
    const hasExternalDirectoryObjectId = attr.searchEntries.length > 0;
    ctx.note(`schema objectVersion ${objectVersion}; msDS-ExternalDirectoryObjectId ${hasExternalDirectoryObjectId ? 'present' : 'missing'}`);
    return { hasExternalDirectoryObjectId, objectVersion, windowsServer2016OrLater: objectVersion >= 87 };
  }

  /** MSOL_ accounts anywhere in the domain: which sync tool created each (its description says), on which computer. */
  async #findSyncAccounts(client: Client, ctx: ActionContext) {
    const base = String(first((await this.#rootDse(client)).defaultNamingContext) ?? '');
    const accounts = [];
    for await (const entries of this.#paged(client, base, '(&(objectCategory=person)(objectClass=user)(sAMAccountName=MSOL_*))', [
      'sAMAccountName',
      'description',
      'whenCreated',
    ])) {
      for (const e of entries) {
        const sam = String(first(e.sAMAccountName) ?? '');
        const description = text(e.description);
        accounts.push({ samAccountName: sam, dn: e.dn, description, whenCreated: generalizedTime(first(e.whenCreated)), ...syncToolOf(sam, description) });
      }
    }
    ctx.note(`found ${accounts.length} sync service account(s) under ${base}`);
    return { accounts };
  }

  /**
   * Every domain of the forest (crossRef objects of the configuration partition with the domain flag): this DC's own
   * domain searched here, the others through the Global Catalog. Critical system objects and sync accounts left out.
   */
  async #forestObjectCount(client: Client, ctx: ActionContext) {
    const root = await client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['configurationNamingContext', 'defaultNamingContext'] });
    const config = String(first(root.searchEntries[0]?.configurationNamingContext) ?? '');
    const own = String(first(root.searchEntries[0]?.defaultNamingContext) ?? '');
    if (!config || !own) throw new ActionError('failed', 'rootDSE has no configurationNamingContext (not an Active Directory?)');
    const refs = await client.search(`CN=Partitions,${config}`, {
      scope: 'one',
      filter: '(&(objectClass=crossRef)(systemFlags:1.2.840.113556.1.4.803:=2))',
      attributes: ['nCName', 'dnsRoot'],
    });
    const ncs = refs.searchEntries.map((e) => ({ dn: String(first(e.nCName)), domain: String(first(e.dnsRoot) ?? '').toLowerCase() }));
    if (!ncs.some((n) => n.dn.toLowerCase() === own.toLowerCase()))
      ncs.push({
        dn: own,
        domain: parseDn(own)
          .map((r) => r.value)
          .join('.')
          .toLowerCase(),
      });
    const countIn = async (c: Client, base: string) => {
      const skip = `(!(isCriticalSystemObject=TRUE))${NOT_SYNC_ACCOUNTS}`;
      const users = await this.#countFilter(c, base, `(&${FILTERS.user}${skip})`);
      const groups = await this.#countFilter(c, base, `(&${FILTERS.group}${skip})`);
      const contacts = await this.#countFilter(c, base, `(&${FILTERS.contact}${skip})`);
      return { users, groups, contacts, total: users + groups + contacts };
    };
    const domains = [];
    for (const nc of ncs) {
      const n = nc.dn.toLowerCase() === own.toLowerCase() ? await countIn(client, nc.dn) : await this.#withClient((gc) => countIn(gc, nc.dn), this.#gcUrl());
      domains.push({ domain: nc.domain, dn: nc.dn, ...n });
    }
    const total = domains.reduce((n, d) => n + d.total, 0);
    ctx.note(`counted ${domains.length} domain(s) of the forest: ${total} users, groups and contacts`);
    return { domains, total };
  }

  #gcUrl(): string {
    if (this.#s.gcUrl) return this.#s.gcUrl;
    const u = new URL(this.#s.url);
    return `${u.protocol}//${u.hostname}:${u.protocol === 'ldaps:' ? 3269 : 3268}`;
  }

  /** Groups under the Group Writeback OU with their groupType: seed 004's scope, group by group. */
  async #gwbScopeReport(client: Client, ou: string, ctx: ActionContext) {
    const groups = [];
    for await (const entries of this.#paged(client, ou, FILTERS.group, ['displayName', 'adminDescription', 'mail', 'groupType'])) {
      for (const e of entries) {
        const type = Number(first(e.groupType) ?? 0) >>> 0;
        const fields = {
          adminDescription: text(e.adminDescription),
          mail: text(e.mail),
          groupScope: type & GROUP_TYPE.universal ? ('universal' as const) : type & GROUP_TYPE.domainLocal ? ('domainLocal' as const) : ('global' as const),
          security: (type & GROUP_TYPE.security) !== 0,
        };
        groups.push({ dn: e.dn, displayName: text(e.displayName), ...fields, ...gwbVerdict(fields) });
      }
    }
    const inScope = groups.filter((g) => g.inScope).length;
    ctx.note(`${groups.length} groups under ${ou}: ${inScope} in scope`);
    return { ou, groups, inScope, outOfScope: groups.length - inScope };
  }

  async #copyAdminDescription(client: Client, ou: string, dryRun: boolean, ctx: ActionContext) {
    const changes: Array<{ dn: string; from: string | null; to: string }> = [];
    const conflicts: Array<{ dn: string; adminDescription: string; externalDirectoryObjectId: string }> = [];
    for await (const entries of this.#paged(client, ou, '(&(objectCategory=group)(adminDescription=*))', [
      'adminDescription',
      'msDS-ExternalDirectoryObjectId',
    ])) {
      for (const e of entries) {
        const adminDescription = String(first(e.adminDescription) ?? '');
        const current = first(e['msDS-ExternalDirectoryObjectId']);
        if (!adminDescription) continue;
        if (current === undefined) changes.push({ dn: e.dn, from: null, to: adminDescription });
        else if (String(current) !== adminDescription) conflicts.push({ dn: e.dn, adminDescription, externalDirectoryObjectId: String(current) });
      }
    }
    if (!dryRun) {
      for (const c of changes) {
        // 'add', not 'replace': if a value appeared meanwhile, AD refuses (single-valued) instead of overwriting it.
        await client.modify(c.dn, new Change({ operation: 'add', modification: new Attribute({ type: 'msDS-ExternalDirectoryObjectId', values: [c.to] }) }));
        ctx.note(`set msDS-ExternalDirectoryObjectId on ${c.dn}`);
      }
    }
    ctx.note(`${dryRun ? 'dry run: would copy' : 'copied'} adminDescription on ${changes.length} groups; ${conflicts.length} conflicts left alone`);
    return { changes, conflicts, applied: !dryRun };
  }
}

function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

/** A single-valued string attribute, or null when the entry has none (ldapts gives [] for a requested, absent one). */
function text(v: unknown): string | null {
  const x = first(v);
  return x === undefined || x === null ? null : String(x);
}

function many(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** AD GUIDs are 16 bytes with the first three fields little-endian. (Table lookups: an export formats 300,000 of them.) */
export function guidFromBytes(b: Buffer): string {
  if (b.length !== 16) throw new Error(`a GUID has 16 bytes, got ${b.length}`);
  const x = HEX;
  return `${x[b[3]]}${x[b[2]]}${x[b[1]]}${x[b[0]]}-${x[b[5]]}${x[b[4]]}-${x[b[7]]}${x[b[6]]}-${x[b[8]]}${x[b[9]]}-${x[b[10]]}${x[b[11]]}${x[b[12]]}${x[b[13]]}${x[b[14]]}${x[b[15]]}`;
}

function toIdentity(e: Entry): IdentityRecord {
  const classes = many(e.objectClass).map((c) => c.toLowerCase());
  const objectClass = classes.includes('group') ? 'group' : classes.includes('contact') ? 'contact' : 'user';
  const guid = first(e.objectGUID);
  const cg = first(e['mS-DS-ConsistencyGuid'] ?? e['ms-DS-ConsistencyGuid'] ?? e['msDS-ConsistencyGuid']);
  const str = text;
  return {
    dn: e.dn,
    objectClass,
    objectGUID: Buffer.isBuffer(guid) ? guidFromBytes(guid) : String(guid),
    consistencyGuid: Buffer.isBuffer(cg) && cg.length === 16 ? guidFromBytes(cg) : null,
    userPrincipalName: str(e.userPrincipalName),
    mail: str(e.mail),
    proxyAddresses: many(e.proxyAddresses),
    displayName: str(e.displayName),
  };
}
