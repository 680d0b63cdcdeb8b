import { createHash } from 'node:crypto';
import type { AdObject, EntraSyncTarget } from '../contracts.js';
import { ActiveDirectory } from './active-directory.js';
import { ConnectSyncServer } from './connect-sync.js';
import { Prng } from './prng.js';

const FIRST = [
  'Adele',
  'Alex',
  'Allan',
  'Bianca',
  'Brian',
  'Carla',
  'Chen',
  'Dana',
  'Diego',
  'Elif',
  'Emma',
  'Farid',
  'Grace',
  'Hannah',
  'Henrik',
  'Ines',
  'Isaiah',
  'Jamal',
  'Joni',
  'Kenji',
  'Lara',
  'Lee',
  'Lidia',
  'Lynne',
  'Megan',
  'Miriam',
  'Nestor',
  'Noor',
  'Olga',
  'Pat',
  'Priya',
  'Rafael',
  'Renée',
  'Sanjay',
  'Sofia',
  'Tomás',
  'Uma',
  'Viktor',
  'Wei',
  'Yara',
  'Zoë',
];
const LAST = [
  'Adams',
  'Bauer',
  'Chowdhury',
  'Diaz',
  'Eriksen',
  'Fischer',
  'García',
  'Haddad',
  'Ito',
  'Jensen',
  'Kowalski',
  'Larsen',
  'Müller',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Quinn',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Urban',
  'Varga',
  'Wilson',
  'Xu',
  'Yilmaz',
  'Zimmerman',
  "O'Brien",
];

export interface ContosoForest {
  ad: ActiveDirectory;
  server: ConnectSyncServer;
  /**
   * The OUs the seeds talk about, by short name (CloudSyncPilot, Sales, Sales/EMEA, PreSales, …), plus
   * ServiceAccounts and DisabledUsers, which Connect's OU filtering excludes.
   */
  ous: Record<string, string>;
  /** The AD connector's identifier (the Entra connector's is the fixed ENTRA_CONNECTOR_ID). */
  adConnectorId: string;
}

export interface SeedOptions {
  /** Where Connect exports; the Graph simulator in `npm start`, a MemorySyncTarget in tests. */
  target: EntraSyncTarget;
  seed?: number;
  /** Fixed, not the wall clock, so the forest is the same whenever it is built. */
  now?: Date;
  /** Run Connect's first Initial cycle so Entra already holds what Connect syncs (default true: Connect is the incumbent). */
  initialSync?: boolean;
  tenantDomain?: string;
  /** The forest's DNS name (default contoso.com); fabrikam.com is the second sandbox tenant. UPNs and mail follow it. */
  domain?: string;
  /** Users in OU=Contractors, the OU of realistic size (default LARGE_OU_USERS; 0 leaves the OU out). */
  largeOuUsers?: number;
  /** The sync tool whose service account the forest holds (default Entra Connect; DirSync for upgrade rehearsals). */
  syncTool?: 'dirsync' | 'entra-connect';
}

/** OU=Contractors: at least 5,000 users, the size at which identity exports stop fitting the old 256 KB body limit. */
export const LARGE_OU_USERS = 5_000;

export const CONTOSO_SEED_TIME = new Date('2026-11-01T06:00:00Z');

/**
 * Builds contoso.com as the seeds describe a typical Connect Sync customer: pilot, sales (with a nested OU and the
 * PreSales suffix edge case), finance, engineering, groups with members across OUs, groups written back by
 * GWB v2, contacts, and names that need DN escaping; plus the Connect server that syncs all of it.
 */
export function seedContosoForest(opts: SeedOptions): ContosoForest {
  const rnd = new Prng(opts.seed ?? 20261121);
  const domain = opts.domain ?? 'contoso.com';
  const label = domain.split('.')[0];
  const ad = new ActiveDirectory({ domainFqdn: domain, guidSeed: rnd.int(2 ** 31) });
  const base = ad.baseDn;
  const ous: Record<string, string> = {
    CloudSyncPilot: `OU=CloudSyncPilot,${base}`,
    Sales: `OU=Sales,${base}`,
    'Sales/EMEA': `OU=EMEA,OU=Sales,${base}`,
    PreSales: `OU=PreSales,${base}`,
    Finance: `OU=Finance,${base}`,
    Engineering: `OU=Engineering,${base}`,
    Groups: `OU=Groups,${base}`,
    GWB: `OU=GWB,${base}`,
    Contacts: `OU=Contacts,${base}`,
  };
  for (const dn of Object.values(ous)) ad.addOu(dn);

  const usedSam = new Set<string>();
  const users: Record<string, AdObject[]> = {};
  // The last `inetOrgPersons` of an OU's n people are inetOrgPerson objects (an LDAP (objectClass=user) count still
  // includes them, so the OU's user count is n either way).
  const addUsers = (ouKey: string, n: number, special: Array<[string, string]> = [], inetOrgPersons = 0) => {
    users[ouKey] ??= [];
    for (let i = 0; i < n; i++) {
      const [first, last] = i < special.length ? special[i] : [rnd.pick(FIRST), rnd.pick(LAST)];
      let sam = `${first[0]}${last}`
        .normalize('NFD')
        .replace(/[^A-Za-z]/g, '')
        .toLowerCase()
        .slice(0, 16);
      for (let k = 2; usedSam.has(sam); k++) sam = `${sam.replace(/\d+$/, '')}${k}`;
      usedSam.add(sam);
      // "Last, First" display names are common in AD and need an escaped comma in the DN.
      const cn = i < special.length || rnd.int(10) === 0 ? `${last}, ${first}` : `${first} ${last}`;
      const upn = `${sam}@${domain}`;
      const mailbox = rnd.int(5) !== 0; // most users have a mailbox
      const u = ad.add({
        cn: usedCn(ad, ous[ouKey], cn, sam),
        parentDn: ous[ouKey],
        objectClass: i >= n - inetOrgPersons ? 'inetOrgPerson' : 'user',
        displayName: `${first} ${last}`,
        samAccountName: sam,
        userPrincipalName: upn,
        mail: mailbox ? upn : undefined,
        mailNickname: mailbox ? sam : undefined,
        proxyAddresses: mailbox ? [`SMTP:${upn}`, `smtp:${sam}@${label}.mail.onmicrosoft.com`] : [],
      });
      // Connect with ms-DS-ConsistencyGuid as source anchor writes it back to users on first export.
      ad.update(u.objectGUID, { consistencyGuid: u.objectGUID });
      users[ouKey].push(ad.get(u.objectGUID)!);
    }
  };
  addUsers(
    'CloudSyncPilot',
    40,
    [
      ['John', 'Smith'],
      ['Ana', 'de la Cruz'],
    ],
    2,
  );
  addUsers('Sales', 90, [['Mary', 'Jones']], 2);
  addUsers('Sales/EMEA', 30);
  addUsers('PreSales', 30, [], 1);
  addUsers('Finance', 80, [['Robert', 'Smith']], 1);
  addUsers('Engineering', 100, [['#1', 'Admin']]);

  const contacts: AdObject[] = [];
  const addContact = (ouKey: string, name: string, mail: string) =>
    contacts.push(ad.add({ cn: name, parentDn: ous[ouKey], objectClass: 'contact', displayName: name, mail, proxyAddresses: [`SMTP:${mail}`] }));
  addContact('Contacts', 'Fabrikam Support', 'support@fabrikam.example');
  addContact('Contacts', 'Northwind Sales', 'sales@northwind.example');
  addContact('Contacts', 'Tailspin, Accounts', 'accounts@tailspin.example');
  addContact('CloudSyncPilot', 'Pilot Vendor', 'vendor@litware.example');
  addContact('CloudSyncPilot', 'Pilot Auditor', 'auditor@woodgrove.example');
  addContact('Sales', 'Adventure Works Buyer', 'buyer@adventure-works.example');

  const groupSpecs: Array<[string, string[], number]> = [
    ['All Staff', ['CloudSyncPilot', 'Sales', 'Sales/EMEA', 'PreSales', 'Finance', 'Engineering'], 60],
    ['Sales Team', ['Sales', 'Sales/EMEA'], 40],
    ['PreSales Team', ['PreSales'], 20],
    ['EMEA Sales', ['Sales/EMEA'], 15],
    ['Finance Approvers', ['Finance'], 8],
    ['Finance Readers', ['Finance', 'CloudSyncPilot'], 20],
    ['Engineering', ['Engineering'], 50],
    ['Engineering Leads', ['Engineering'], 6],
    ['Pilot Users', ['CloudSyncPilot'], 40],
    ['VPN Users', ['Engineering', 'Sales', 'CloudSyncPilot'], 30],
    ['Project Phoenix', ['Engineering', 'Finance', 'CloudSyncPilot', 'PreSales'], 18],
    ['Helpdesk', ['CloudSyncPilot', 'Engineering'], 7],
    ['Printer Admins', ['Engineering'], 3],
    ['Travel Approvers', ['Finance', 'Sales'], 10],
    ['Board, Observers', ['Finance', 'Sales'], 4],
  ];
  for (const [name, from, n] of groupSpecs) {
    const sam = name.replace(/[^A-Za-z0-9]/g, '');
    const mailEnabled = rnd.int(3) === 0;
    const g = ad.add({
      cn: name,
      parentDn: ous.Groups,
      objectClass: 'group',
      displayName: name,
      samAccountName: sam,
      mail: mailEnabled ? `${sam.toLowerCase()}@${domain}` : undefined,
      proxyAddresses: mailEnabled ? [`SMTP:${sam.toLowerCase()}@${domain}`] : [],
      groupScope: rnd.int(2) ? 'global' : 'universal',
      securityEnabled: true,
    });
    const pool = from.flatMap((k) => users[k]);
    const chosen = new Set<string>();
    while (chosen.size < Math.min(n, pool.length)) chosen.add(rnd.pick(pool).dn);
    for (const dn of chosen) ad.addMember(g.objectGUID, dn);
  }
  // Nested membership and a contact member, as real groups have.
  const allStaff = ad.getByDn(`CN=All Staff,${ous.Groups}`)!;
  ad.addMember(allStaff.objectGUID, `CN=Engineering Leads,${ous.Groups}`);
  ad.addMember(ad.getByDn(`CN=Sales Team,${ous.Groups}`)!.objectGUID, contacts[5].dn);

  // Cloud-created groups written back by Connect GWB v2: CN=Group_<objectId>, adminDescription=Group_<objectId>.
  const writeBack = (displayName: string, mail?: string) => {
    const cloudId = rnd.guid();
    const g = ad.add({
      cn: `Group_${cloudId}`,
      parentDn: ous.GWB,
      objectClass: 'group',
      displayName,
      samAccountName: `Group_${cloudId.slice(0, 8)}`,
      adminDescription: `Group_${cloudId}`,
      mail,
      mailNickname: mail?.split('@')[0],
      proxyAddresses: mail ? [`SMTP:${mail}`] : [],
      groupScope: 'universal',
      securityEnabled: !mail,
    });
    const pool = [...users.CloudSyncPilot, ...users.Engineering];
    for (let i = 0; i < 5; i++) ad.addMember(g.objectGUID, rnd.pick(pool).dn);
  };
  for (const name of ['Cloud Admins', 'SaaS App Owners', 'Intune Pilot', 'Conditional Access Exclusions', 'Teams Rooms', 'Licensing E5']) writeBack(name);
  writeBack('Marketing Team', `marketing@${domain}`);
  writeBack('Product Launch', `launch@${domain}`);

  const now = opts.now ?? CONTOSO_SEED_TIME;
  const adConnectorId = rnd.guid();

  // Groups and contacts inside the batch OUs (Cloud Sync's OU scope takes users, groups and contacts; the tutorial
  // says to follow the same steps "for all object types"). Added after everything else so earlier GUIDs stay put.
  const localGroup = (ouKey: string, name: string, members: AdObject[]) => {
    const g = ad.add({
      cn: name,
      parentDn: ous[ouKey],
      objectClass: 'group',
      displayName: name,
      samAccountName: name.replace(/[^A-Za-z0-9]/g, ''),
      proxyAddresses: [],
      groupScope: 'global',
      securityEnabled: true,
    });
    for (const m of members) ad.addMember(g.objectGUID, m.dn);
  };
  localGroup('CloudSyncPilot', 'Pilot Champions', users.CloudSyncPilot.slice(0, 6));
  localGroup('CloudSyncPilot', 'Pilot Printers', users.CloudSyncPilot.slice(10, 14));
  localGroup('Sales', 'Sales Managers', users.Sales.slice(0, 5));
  localGroup('PreSales', 'PreSales Engineers', users.PreSales.slice(0, 8));
  localGroup('Finance', 'Finance Payroll', users.Finance.slice(0, 4));
  addContact('PreSales', 'Contoso Partner Desk', 'partners@proseware.example');
  addContact('Finance', 'External Auditor', 'audit@fourthcoffee.example');

  // Containers a real Connect install usually leaves out: service accounts and disabled users (unticked in the
  // wizard's "Domain and OU filtering", so they appear in ContainerExclusionList under the selected domain root).
  ous.ServiceAccounts = `OU=Service Accounts,${base}`;
  ous.DisabledUsers = `OU=Disabled Users,${base}`;
  ad.addOu(ous.ServiceAccounts);
  ad.addOu(ous.DisabledUsers);
  for (const sam of ['svc-sql01', 'svc-backup', 'svc-print'])
    ad.add({
      cn: sam,
      parentDn: ous.ServiceAccounts,
      objectClass: 'user',
      displayName: sam,
      samAccountName: sam,
      userPrincipalName: `${sam}@${domain}`,
      proxyAddresses: [],
    });
  for (const [first, last] of [
    ['Former', 'Employee'],
    ['Left', 'Company'],
  ])
    ad.add({
      cn: `${first} ${last}`,
      parentDn: ous.DisabledUsers,
      objectClass: 'user',
      displayName: `${first} ${last}`,
      samAccountName: `${first[0]}${last}`.toLowerCase(),
      proxyAddresses: [],
    });

  // An OU of realistic size: identity exports, counts and reconciliation travel the whole runner path at 5,000 users
  // (a ~2.3 MB identity export). Plain names, so it costs little to build; added last, so earlier GUIDs stay put.
  if ((opts.largeOuUsers ?? LARGE_OU_USERS) > 0) {
    ous.Contractors = `OU=Contractors,${base}`;
    ad.addOu(ous.Contractors);
    const n = opts.largeOuUsers ?? LARGE_OU_USERS;
    for (let i = 1; i <= n; i++) {
      const sam = `contractor${String(i).padStart(5, '0')}`;
      const upn = `${sam}@${domain}`;
      const u = ad.add({
        cn: `Contractor ${String(i).padStart(5, '0')}`,
        parentDn: ous.Contractors,
        objectClass: 'user',
        displayName: `Contractor ${i}`,
        samAccountName: sam,
        userPrincipalName: upn,
        mail: upn,
        mailNickname: sam,
        proxyAddresses: [`SMTP:${upn}`],
      });
      ad.update(u.objectGUID, { consistencyGuid: u.objectGUID });
    }
  }

  // OUs whose names need escaping in a DN — a comma, a plus, a quote — with a few users each: every card must show
  // their DNs exactly, backslashes and all (copying one from a card gives the same DN). Added last, so earlier GUIDs
  // stay put; in Connect's scope like any other OU.
  const escapedOus: Array<[key: string, ou: string, prefix: string, users: number]> = [
    ['Sales, EMEA', 'Sales\\, EMEA', 'emea', 4],
    ['R+D', 'R\\+D', 'rnd', 3],
    ['"Quoted" Team', '\\"Quoted\\" Team', 'quoted', 3],
  ];
  for (const [key, rdn, prefix, n] of escapedOus) {
    ous[key] = `OU=${rdn},${base}`;
    ad.addOu(ous[key]);
    for (let i = 1; i <= n; i++) {
      const sam = `${prefix}${i}`;
      const upn = `${sam}@${domain}`;
      const u = ad.add({
        cn: `${key.replace(/[^A-Za-z ]/g, '').trim()} User ${i}`,
        parentDn: ous[key],
        objectClass: 'user',
        displayName: `${key} user ${i}`,
        samAccountName: sam,
        userPrincipalName: upn,
        mail: upn,
        mailNickname: sam,
        proxyAddresses: [`SMTP:${upn}`],
      });
      ad.update(u.objectGUID, { consistencyGuid: u.objectGUID });
    }
  }

  const server = new ConnectSyncServer({
    ad,
    target: opts.target,
    adConnectorId,
    tenantDomain: opts.tenantDomain ?? `${label}.onmicrosoft.com`,
    // The common shape: the domain root ticked, a few OUs unticked.
    partitions: [{ name: base, selected: true, includedContainers: [base], excludedContainers: [ous.ServiceAccounts, ous.DisabledUsers] }],
    groupFilteringGroupDn: null,
    now,
  });
  // The sync tool's service account in CN=Users (never synchronized itself), as the installer leaves it.
  ad.addOu(`CN=Users,${base}`);
  installSyncTool(ad, opts.syncTool ?? 'entra-connect', now, 'CONNECT01');
  if (opts.initialSync ?? true) server.runSyncCycle('Initial', now);
  return { ad, server, ous, adConnectorId };
}

/**
 * The AD service account a sync tool's installer creates. DirSync's configuration wizard creates MSOL_AD_SYNC ("When
 * you finish the Azure Active Directory Sync tool Configuration Wizard, the MSOL_AD_SYNC account is created in your
 * Active Directory forest", Exchange Online Protection's directory sync how-to); Entra Connect creates MSOL_<id> with
 * a description naming itself and the computer. `replace` removes the accounts of other tools first (a forest synced by
 * that tool alone).
 */
export function installSyncTool(ad: ActiveDirectory, tool: 'dirsync' | 'entra-connect', now: Date, computer: string, replace = false): AdObject {
  const users = `CN=Users,${ad.baseDn}`;
  if (!ad.hasOu(users)) ad.addOu(users);
  if (replace) for (const o of ad.objectsUnder([users], ['user'])) if ((o.samAccountName ?? '').toUpperCase().startsWith('MSOL_')) ad.delete(o.objectGUID);
  const id = createHash('sha1').update(`${ad.domainFqdn}/${tool}/${computer}`).digest('hex').slice(0, 12);
  const sam = tool === 'dirsync' ? 'MSOL_AD_SYNC' : `MSOL_${id}`;
  const existing = ad.objectsUnder([users], ['user']).find((o) => o.samAccountName === sam);
  if (existing) return existing;
  const tenant = `${ad.domainFqdn.split('.')[0]}.onmicrosoft.com`;
  const description =
    tool === 'dirsync'
      ? `Account created by the Windows Azure Active Directory Sync tool with installation identifier '${id}' running on computer '${computer}' configured to synchronize to tenant '${tenant}'. This account must have directory replication permissions in the local Active Directory and write permission on certain attributes to enable Hybrid Deployment.`
      : `Account created by Microsoft Azure Active Directory Connect with installation identifier ${id} running on computer ${computer} configured to synchronize to tenant ${tenant}. This account must have directory replication permissions in the local Active Directory and write permission on certain attributes to enable Hybrid Deployment.`;
  return ad.add({
    cn: sam,
    parentDn: users,
    objectClass: 'user',
    displayName: sam,
    samAccountName: sam,
    description,
    whenCreated: now.toISOString(),
    proxyAddresses: [],
  });
}

/**
 * Another domain of the forest (a child domain) with `users` users, for the DirSync upgrade: its object count is the
 * forest's, not one domain's.
 */
export function addForestDomain(root: ActiveDirectory, fqdn: string, users: number): ActiveDirectory {
  const child = new ActiveDirectory({ domainFqdn: fqdn, guidSeed: fqdn.length * 7919 });
  const ou = `OU=Staff,${child.baseDn}`;
  child.addOu(ou);
  for (let i = 1; i <= users; i++) {
    const sam = `staff${String(i).padStart(6, '0')}`;
    child.add({
      cn: sam,
      parentDn: ou,
      objectClass: 'user',
      displayName: `Staff ${i}`,
      samAccountName: sam,
      userPrincipalName: `${sam}@${fqdn}`,
      proxyAddresses: [],
    });
  }
  root.otherDomains.push(child);
  return child;
}

/** Two people can share a display name; AD needs the CN unique within its container. */
function usedCn(ad: ActiveDirectory, parent: string, cn: string, sam: string): string {
  const probe = (c: string) => !!ad.getByDn(`CN=${c.replace(/[\\,+"<>;=]/g, (x) => `\\${x}`)},${parent}`);
  return probe(cn) ? `${cn} (${sam})` : cn;
}
