/**
 * The ActiveDirectory module's cmdlets, answered from the sandbox's simulated domain (src/sandbox/onprem/
 * active-directory.ts). The parameters are declared and bound by the fake module (modules/ActiveDirectory); this side
 * carries out the search or change as AD DS would and returns objects with the properties the real cmdlets return.
 *
 * LDAP filters are parsed by ldapts's FilterParser and evaluated here over multi-valued attributes, case-insensitively
 * (the string syntaxes AD compares that way), with AD's objectCategory shorthand (person, group) and objectClass
 * inheritance (an inetOrgPerson is a user). -Filter (the PowerShell expression language) is accepted as '*' only.
 *
 * The forest: the runner's own domain (the one the Connect server is joined to, answered without -Server) and the
 * other domains of the forest (the sandbox's forest-domain fault), each reached with -Server <domain> or one of its
 * domain controllers (DC1.<domain>), as the AD module reaches a domain through its Active Directory Web Services. A
 * search base in another domain without -Server is not found here (a real DC would answer with a referral, which the
 * AD module does not chase).
 */
import {
  AndFilter,
  EqualityFilter,
  type Filter,
  FilterParser,
  GreaterThanEqualsFilter,
  LessThanEqualsFilter,
  NotFilter,
  OrFilter,
  PresenceFilter,
  SubstringFilter,
} from 'ldapts';
import type { AdObject } from '../contracts.js';
import { isUnder, isValidDn as isDn, normalizeDn, parentDn, parseDn } from '../../dn.js';
import { AdError, type ActiveDirectory } from '../onprem/active-directory.js';
import { CmdletError, derivedGuid, guid, guidBytes, notModelled, datetime } from './values.js';

type Values = unknown[];

interface Entry {
  dn: string;
  /** lower-cased lDAPDisplayName → the name as AD spells it, and its values */
  attrs: Map<string, { name: string; values: Values }>;
  object?: AdObject;
}

const CLASS_CHAIN: Record<string, string[]> = {
  user: ['top', 'person', 'organizationalPerson', 'user'],
  inetOrgPerson: ['top', 'person', 'organizationalPerson', 'user', 'inetOrgPerson'],
  contact: ['top', 'person', 'organizationalPerson', 'contact'],
  group: ['top', 'group'],
  organizationalUnit: ['top', 'organizationalUnit'],
  domainDNS: ['top', 'domain', 'domainDNS'],
  container: ['top', 'container'],
  configuration: ['top', 'configuration'],
  dMD: ['top', 'dMD'],
  attributeSchema: ['top', 'attributeSchema'],
};
const CATEGORY: Record<string, string> = {
  user: 'Person',
  inetOrgPerson: 'Person',
  contact: 'Person',
  group: 'Group',
  organizationalUnit: 'Organizational-Unit',
  domainDNS: 'Domain-DNS',
  container: 'Container',
  configuration: 'Configuration',
  dMD: 'DMD',
  attributeSchema: 'Attribute-Schema',
};
/** AdObject fields and the attributes AD holds them in (the rest of a field's name is used as is). */
const FIELD_ATTRIBUTE: Record<string, string> = {
  displayName: 'displayName',
  samAccountName: 'sAMAccountName',
  userPrincipalName: 'userPrincipalName',
  mail: 'mail',
  mailNickname: 'mailNickname',
  proxyAddresses: 'proxyAddresses',
  consistencyGuid: 'mS-DS-ConsistencyGuid',
  members: 'member',
  adminDescription: 'adminDescription',
  externalDirectoryObjectId: 'msDS-ExternalDirectoryObjectId',
};
const SKIP_FIELDS = new Set(['objectGUID', 'dn', 'objectClass', 'groupScope', 'securityEnabled']);
/** Attributes of the schema the sandbox lists under CN=Schema (a few real ones, so a search there is not trivially one object). */
const SCHEMA_ATTRIBUTES = ['adminDescription', 'displayName', 'mail', 'mS-DS-ConsistencyGuid', 'proxyAddresses', 'userPrincipalName'];

/** Default property sets of each Get-AD* cmdlet's output (the AD module's "default properties"). */
const DEFAULTS: Record<string, string[]> = {
  'Get-ADObject': ['DistinguishedName', 'Name', 'ObjectClass', 'ObjectGUID'],
  'Get-ADUser': ['DistinguishedName', 'Enabled', 'GivenName', 'Name', 'ObjectClass', 'ObjectGUID', 'SamAccountName', 'SID', 'Surname', 'UserPrincipalName'],
  'Get-ADGroup': ['DistinguishedName', 'GroupCategory', 'GroupScope', 'Name', 'ObjectClass', 'ObjectGUID', 'SamAccountName', 'SID'],
  'Get-ADOrganizationalUnit': [
    'City',
    'Country',
    'DistinguishedName',
    'LinkedGroupPolicyObjects',
    'ManagedBy',
    'Name',
    'ObjectClass',
    'ObjectGUID',
    'PostalCode',
    'State',
    'StreetAddress',
  ],
};
/** What each Get-AD* cmdlet searches for, ANDed with the caller's filter. */
const CLASS_OF: Record<string, string | null> = {
  'Get-ADObject': null,
  'Get-ADUser': 'user',
  'Get-ADGroup': 'group',
  'Get-ADOrganizationalUnit': 'organizationalUnit',
};

const ERR = {
  identity: (cmdlet: string, id: string, base: string) =>
    new CmdletError(
      'ObjectNotFound',
      `Cannot find an object with identity: '${id}' under: '${base}'.`,
      `ActiveDirectoryCmdlet:Microsoft.ActiveDirectory.Management.ADIdentityNotFoundException,Microsoft.ActiveDirectory.Management.Commands.${cmdlet.replace('-', '')}`,
    ),
  base: (cmdlet: string) =>
    new CmdletError(
      'ObjectNotFound',
      'Directory object not found',
      `ActiveDirectoryCmdlet:Microsoft.ActiveDirectory.Management.ADIdentityNotFoundException,Microsoft.ActiveDirectory.Management.Commands.${cmdlet.replace('-', '')}`,
    ),
  server: (cmdlet: string) =>
    new CmdletError(
      'ResourceUnavailable',
      'Unable to contact the server. This may be because this server does not exist, it is currently down, or it does not have the Active Directory Web Services running.',
      `ActiveDirectoryServer:0,Microsoft.ActiveDirectory.Management.Commands.${cmdlet.replace('-', '')}`,
    ),
};

export class ActiveDirectoryCmdlets {
  constructor(private readonly ad: ActiveDirectory) {}

  /** The forest root's: configuration and schema are forest-wide partitions. */
  get schemaNc(): string {
    return `CN=Schema,CN=Configuration,${this.ad.baseDn}`;
  }

  get configurationNc(): string {
    return `CN=Configuration,${this.ad.baseDn}`;
  }

  /** Every domain of the forest: the runner's own first. */
  get domains(): ActiveDirectory[] {
    return [this.ad, ...this.ad.otherDomains];
  }

  readonly handlers: Record<string, (p: any, cmdlet: string) => unknown> = {
    'Get-ADObject': (p, c) => this.#get(c, p),
    'Get-ADUser': (p, c) => this.#get(c, p),
    'Get-ADGroup': (p, c) => this.#get(c, p),
    'Get-ADOrganizationalUnit': (p, c) => this.#get(c, p),
    'Set-ADGroup': (p, c) => this.#setGroup(c, p),
    // Get-ADDomain: the domain of -Server (or the runner's own); -Identity names that domain (DNS name, NetBIOS name
    // or DN) — another domain is not found through this domain's controller.
    'Get-ADDomain': (p, c) => {
      const d = this.#server(c, p.Server);
      if (p.Identity !== undefined && !isDomain(d, String(p.Identity))) throw ERR.identity(c, String(p.Identity), d.baseDn);
      // A child domain's parent is the root (the sandbox's forest is one level deep); another tree has none.
      const parent = d !== this.ad && d.domainFqdn.endsWith(`.${this.ad.domainFqdn}`) ? this.ad.domainFqdn : null;
      return {
        DistinguishedName: d.baseDn,
        DNSRoot: d.domainFqdn,
        Forest: this.ad.domainFqdn,
        Name: d.domainFqdn.split('.')[0],
        NetBIOSName: d.domainFqdn.split('.')[0].toUpperCase(),
        ObjectClass: 'domainDNS',
        ObjectGUID: guid(derivedGuid(`domain:${d.baseDn}`)),
        PDCEmulator: dcName(d),
        ParentDomain: parent,
        ChildDomains: d === this.ad ? this.ad.otherDomains.map((x) => x.domainFqdn).filter((x) => x.endsWith(`.${this.ad.domainFqdn}`)) : [],
        DomainMode: 'Windows2016Domain',
      };
    },
    // Get-ADForest: the forest of -Server (or of the runner's domain): Domains lists every domain's DNS name.
    'Get-ADForest': (p, c) => {
      this.#server(c, p.Server);
      if (p.Identity !== undefined && !this.domains.some((d) => isDomain(d, String(p.Identity)))) throw ERR.identity(c, String(p.Identity), this.ad.baseDn);
      return {
        Name: this.ad.domainFqdn,
        RootDomain: this.ad.domainFqdn,
        Domains: this.domains.map((d) => d.domainFqdn),
        ForestMode: 'Windows2016Forest',
        SchemaMaster: dcName(this.ad),
        DomainNamingMaster: dcName(this.ad),
        GlobalCatalogs: this.domains.map(dcName),
        UPNSuffixes: [],
      };
    },
    'Get-ADRootDSE': (p, c) => {
      const d = this.#server(c, p.Server);
      return {
        defaultNamingContext: d.baseDn,
        rootDomainNamingContext: this.ad.baseDn,
        configurationNamingContext: this.configurationNc,
        schemaNamingContext: this.schemaNc,
        namingContexts: [d.baseDn, this.configurationNc, this.schemaNc],
        dnsHostName: dcName(d),
        domainFunctionality: 'Windows2016Domain',
        forestFunctionality: 'Windows2016Forest',
      };
    },
  };

  /**
   * -Server: a domain of the forest by its DNS or NetBIOS name, or one of its domain controllers (DC1.<domain>), with
   * an optional port; none means the runner's own domain. Anything else is unreachable, with the AD module's error.
   */
  #server(cmdlet: string, server: unknown): ActiveDirectory {
    if (server === undefined || server === null) return this.ad;
    const s = String(server).toLowerCase().replace(/:\d+$/, '');
    const hit = this.domains.find((d) => s === d.domainFqdn || s === dcName(d).toLowerCase() || s === d.domainFqdn.split('.')[0]);
    if (hit) return hit;
    throw ERR.server(cmdlet);
  }

  // ------------------------------------------------------------------ the directory as entries

  /** One domain's naming context as entries, with the forest's configuration and schema partitions. */
  #entries(d: ActiveDirectory): Entry[] {
    const base = d.baseDn;
    const out: Entry[] = [entry(base, 'domainDNS', { dc: base.split(',')[0].slice(3), objectGUID: derivedGuid(`domain:${base}`) })];
    for (const dn of d.listOus()) out.push(entry(dn, 'organizationalUnit', { ou: parseDn(dn)[0].value, objectGUID: derivedGuid(`ou:${normalizeDn(dn)}`) }));
    for (const o of d.all()) out.push(objectEntry(o));
    out.push(entry(this.configurationNc, 'configuration', { objectGUID: derivedGuid(`nc:${this.configurationNc}`) }));
    out.push(entry(this.schemaNc, 'dMD', { objectVersion: this.ad.schema.objectVersion, objectGUID: derivedGuid(`nc:${this.schemaNc}`) }));
    const attrs = [...SCHEMA_ATTRIBUTES, ...(this.ad.schema.hasExternalDirectoryObjectId ? ['msDS-ExternalDirectoryObjectId'] : [])];
    for (const a of attrs) out.push(entry(`CN=${a},${this.schemaNc}`, 'attributeSchema', { lDAPDisplayName: a, objectGUID: derivedGuid(`schema:${a}`) }));
    return out;
  }

  #find(entries: Entry[], cmdlet: string, identity: unknown, base: string): Entry {
    const id = identityText(identity);
    const byGuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
    const key = byGuid ? null : isDn(id) ? normalizeDn(id) : null;
    const hit = entries.find((e) =>
      byGuid ? String(e.attrs.get('objectguid')?.values[0]).toLowerCase() === id.toLowerCase() : key !== null && normalizeDn(e.dn) === key,
    );
    if (!hit) throw ERR.identity(cmdlet, id, base);
    return hit;
  }

  #get(cmdlet: string, p: any): unknown {
    const d = this.#server(cmdlet, p.Server);
    const entries = this.#entries(d);
    const cls = CLASS_OF[cmdlet];
    const props = (p.Properties ?? []) as string[];
    if (p.Identity !== undefined && p.Identity !== null) {
      const e = this.#find(entries, cmdlet, p.Identity, p.Partition ?? d.baseDn);
      if (cls && !values(e, 'objectClass').some((v) => String(v).toLowerCase() === cls.toLowerCase()))
        throw ERR.identity(cmdlet, identityText(p.Identity), p.Partition ?? d.baseDn);
      return [view(cmdlet, e, props)];
    }
    let filter: Filter | null = null;
    if (p.LDAPFilter !== undefined) {
      try {
        filter = FilterParser.parseString(String(p.LDAPFilter));
      } catch (err) {
        throw new CmdletError(
          'InvalidArgument',
          `The search filter cannot be recognized: ${(err as Error).message}`,
          `ActiveDirectoryCmdlet:System.ArgumentException,Microsoft.ActiveDirectory.Management.Commands.${cmdlet.replace('-', '')}`,
        );
      }
    } else if (p.Filter !== undefined && String(p.Filter).trim() !== '*') {
      throw notModelled(cmdlet, `-Filter expressions other than '*' (got ${JSON.stringify(p.Filter)}); use -LDAPFilter`);
    }
    const base = p.SearchBase === undefined || p.SearchBase === null || p.SearchBase === '' ? d.baseDn : String(p.SearchBase);
    if (!isDn(base) || !entries.some((e) => normalizeDn(e.dn) === normalizeDn(base))) throw ERR.base(cmdlet);
    const scope = String(p.SearchScope ?? 'Subtree');
    const nbase = normalizeDn(base);
    const inScope = (dn: string) => {
      const n = normalizeDn(dn);
      if (scope === 'Base' || scope === '0') return n === nbase;
      if (scope === 'OneLevel' || scope === '1') return n !== nbase && normalizeDn(parentDn(dn)) === nbase;
      return isUnder(dn, base);
    };
    const limit = p.ResultSetSize === undefined || p.ResultSetSize === null ? Infinity : Number(p.ResultSetSize);
    const out: unknown[] = [];
    for (const e of entries) {
      if (out.length >= limit) break;
      if (!inScope(e.dn)) continue;
      if (cls && !values(e, 'objectClass').some((v) => String(v).toLowerCase() === cls.toLowerCase())) continue;
      if (filter && !matches(filter, e)) continue;
      out.push(view(cmdlet, e, props));
    }
    return out;
  }

  #setGroup(cmdlet: string, p: any): unknown {
    const d = this.#server(cmdlet, p.Server);
    const entries = this.#entries(d);
    const e = this.#find(entries, cmdlet, p.Identity, d.baseDn);
    if (!e.object || e.object.objectClass !== 'group') throw ERR.identity(cmdlet, identityText(p.Identity), d.baseDn);
    for (const op of ['Replace', 'Remove', 'Clear'] as const) if (p[op] !== undefined) throw notModelled(cmdlet, `-${op}`);
    for (const k of ['Description', 'DisplayName', 'GroupCategory', 'GroupScope', 'HomePage', 'ManagedBy', 'SamAccountName'])
      if (p[k] !== undefined) throw notModelled(cmdlet, `-${k}`);
    for (const [attr, value] of Object.entries<unknown>(p.Add ?? {})) {
      if (attr.toLowerCase() !== 'msds-externaldirectoryobjectid') throw notModelled(cmdlet, `-Add of ${attr} (only msDS-ExternalDirectoryObjectId)`);
      const v = Array.isArray(value) ? value : [value];
      if (v.length !== 1)
        throw new CmdletError(
          'InvalidOperation',
          'Multiple values were specified for an attribute that can have only one value',
          'ActiveDirectoryServer:8321,Microsoft.ActiveDirectory.Management.Commands.SetADGroup',
        );
      try {
        d.addExternalDirectoryObjectId(e.object.objectGUID, String(v[0]));
      } catch (err) {
        if (err instanceof AdError)
          throw new CmdletError('InvalidOperation', err.message, 'ActiveDirectoryServer:8321,Microsoft.ActiveDirectory.Management.Commands.SetADGroup');
        throw err;
      }
    }
    return p.PassThru ? [view('Get-ADGroup', objectEntry(d.get(e.object.objectGUID)!), [])] : [];
  }
}

/** The sandbox's name for a domain's (first) domain controller. */
const dcName = (d: ActiveDirectory) => `DC1.${d.domainFqdn}`;

/** Whether an -Identity names this domain: its DNS name, its NetBIOS name or its DN. */
function isDomain(d: ActiveDirectory, id: string): boolean {
  const v = id.toLowerCase();
  return v === d.domainFqdn || v === d.domainFqdn.split('.')[0] || (isDn(id) && normalizeDn(id) === normalizeDn(d.baseDn));
}

// -------------------------------------------------------------------- entries

function entry(dn: string, objectClass: string, more: Record<string, unknown>): Entry {
  const e: Entry = { dn, attrs: new Map() };
  const set = (name: string, v: unknown) => {
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return;
    e.attrs.set(name.toLowerCase(), { name, values: Array.isArray(v) ? [...v] : [v] });
  };
  set('distinguishedName', dn);
  set('objectClass', CLASS_CHAIN[objectClass] ?? ['top', objectClass]);
  set('objectCategory', `CN=${CATEGORY[objectClass] ?? objectClass},CN=Schema,CN=Configuration,${dn.slice(dn.toLowerCase().indexOf('dc='))}`);
  const rdn = parseDn(dn)[0];
  set('name', rdn.value);
  set(rdn.type === 'cn' ? 'cn' : rdn.type, rdn.value);
  for (const [k, v] of Object.entries(more)) set(k, v);
  return e;
}

function objectEntry(o: AdObject): Entry {
  const more: Record<string, unknown> = { objectGUID: o.objectGUID };
  for (const [k, v] of Object.entries(o)) {
    if (SKIP_FIELDS.has(k) || v === undefined || v === null) continue;
    if (typeof v === 'object' && !Array.isArray(v)) continue;
    more[FIELD_ATTRIBUTE[k] ?? k] = v;
  }
  if (o.objectClass === 'group') {
    const scope = { global: 0x2, domainLocal: 0x4, universal: 0x8 }[o.groupScope ?? 'global'];
    more.groupType = scope | ((o.securityEnabled ?? true) ? 0x80000000 : 0) | 0; // a signed 32-bit integer, as AD stores it
  }
  const e = entry(o.dn, o.objectClass, more);
  e.object = o;
  return e;
}

const values = (e: Entry, attr: string): Values => e.attrs.get(attr.toLowerCase())?.values ?? [];

function identityText(identity: unknown): string {
  if (identity && typeof identity === 'object') {
    const o = identity as Record<string, unknown>;
    return String(o.DistinguishedName ?? o.distinguishedName ?? o.ObjectGUID ?? o.objectGUID ?? '');
  }
  return String(identity ?? '');
}

// -------------------------------------------------------------------- LDAP filters

function matches(f: Filter, e: Entry): boolean {
  if (f instanceof AndFilter) return f.filters.every((x) => matches(x, e));
  if (f instanceof OrFilter) return f.filters.some((x) => matches(x, e));
  if (f instanceof NotFilter) return !matches(f.filter, e);
  if (f instanceof PresenceFilter) return f.attribute.toLowerCase() === 'objectclass' || values(e, f.attribute).length > 0;
  const strings = (attr: string) => {
    const vs = values(e, attr).map((v) => String(v).toLowerCase());
    // objectCategory=person is AD's shorthand for the category's DN (CN=Person,CN=Schema,...)
    if (attr.toLowerCase() === 'objectcategory') for (const v of [...vs]) vs.push(v.replace(/^cn=([^,]+),.*$/, '$1'));
    return vs;
  };
  if (f instanceof EqualityFilter) {
    const want = String(f.value).toLowerCase();
    return strings(f.attribute).includes(want);
  }
  if (f instanceof SubstringFilter) {
    const parts = [f.initial ?? '', ...(f.any ?? []), f.final ?? ''].map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').toLowerCase());
    const re = new RegExp(
      `^${parts[0]}${parts
        .slice(1, -1)
        .map((x) => `.*${x}`)
        .join('')}.*${parts[parts.length - 1]}$`,
      's',
    );
    return strings(f.attribute).some((v) => re.test(v));
  }
  if (f instanceof GreaterThanEqualsFilter) return strings(f.attribute).some((v) => compare(v, String(f.value)) >= 0);
  if (f instanceof LessThanEqualsFilter) return strings(f.attribute).some((v) => compare(v, String(f.value)) <= 0);
  throw notModelled('LDAP filter', `the filter item ${String(f)}`);
}

function compare(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a.localeCompare(b.toLowerCase());
}

// -------------------------------------------------------------------- output objects

/** The object a Get-AD* cmdlet writes: its default properties plus the ones asked for with -Properties. */
function view(cmdlet: string, e: Entry, requested: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const classes = values(e, 'objectClass').map(String);
  const o = e.object;
  const sid = `S-1-5-21-1004336348-1177238915-682003330-${1000 + (parseInt(derivedGuid(`sid:${e.dn}`).slice(0, 6), 16) % 900000)}`;
  const extended: Record<string, () => unknown> = {
    DistinguishedName: () => e.dn,
    Name: () => values(e, 'name')[0],
    ObjectClass: () => classes[classes.length - 1],
    ObjectGUID: () => guid(String(values(e, 'objectGUID')[0])),
    SamAccountName: () => values(e, 'sAMAccountName')[0] ?? null,
    UserPrincipalName: () => values(e, 'userPrincipalName')[0] ?? null,
    SID: () => sid,
    Enabled: () => true,
    GivenName: () => null,
    Surname: () => null,
    GroupCategory: () => ((o?.securityEnabled ?? true) ? 'Security' : 'Distribution'),
    GroupScope: () => ({ global: 'Global', domainLocal: 'DomainLocal', universal: 'Universal' })[o?.groupScope ?? 'global'],
    City: () => null,
    Country: () => null,
    LinkedGroupPolicyObjects: () => [],
    ManagedBy: () => null,
    PostalCode: () => null,
    State: () => null,
    StreetAddress: () => null,
  };
  for (const name of DEFAULTS[cmdlet]) out[name] = extended[name]();
  const wanted = requested.includes('*') ? [...e.attrs.values()].map((a) => a.name) : requested;
  for (const name of wanted) {
    const key = Object.keys(out).find((k) => k.toLowerCase() === name.toLowerCase());
    const ext = Object.keys(extended).find((k) => k.toLowerCase() === name.toLowerCase());
    if (key) continue;
    if (ext && !e.attrs.has(name.toLowerCase())) {
      out[ext] = extended[ext]();
      continue;
    }
    out[name] = typed(name, values(e, name));
  }
  return out;
}

const MULTI_VALUED = new Set(['objectclass', 'proxyaddresses', 'member', 'memberof', 'namingcontexts']);

function typed(name: string, vs: Values): unknown {
  const n = name.toLowerCase();
  const one = (v: unknown): unknown => {
    if (n === 'objectguid') return guid(String(v));
    if (n === 'ms-ds-consistencyguid') return guidBytes(String(v));
    if (n === 'whencreated' || n === 'whenchanged') return datetime(String(v), 'Local');
    return v;
  };
  if (MULTI_VALUED.has(n)) return vs.map(one);
  return vs.length === 0 ? null : one(vs[0]);
}
