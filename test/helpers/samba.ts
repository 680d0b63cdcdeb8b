/**
 * A real Samba Active Directory DC on loopback for the ldap executor's tests and the LDAP benchmark, after
 * ../shared/reference/samba-ad-dc.sh: private directory under /tmp, 127.0.0.1/::1 only, msDS-ExternalDirectoryObjectId
 * added to the 2012_R2 schema when Samba cannot provision the 2016+ one, OUs, bulk users, groups with
 * adminDescription. Bulk adds get slower as the directory grows, so the loaded DC is snapshotted once per user
 * count and restored in about a second afterwards.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const REALM = 'CONTOSO.TEST';
export const BASE_DN = 'DC=contoso,DC=test';
export const ADMIN_PASSWORD = 'Passw0rd!Probe';
export const BIND_UPN = `Administrator@${REALM}`;

export interface SambaDc {
  url: string; // ldap://127.0.0.1 (simple binds allowed on 389: test convenience)
  ldapsUrl: string;
  bindDn: string;
  password: string;
  baseDn: string;
  bulkUsers: number;
  root: string;
  stop(): void;
}

/** Why the suite cannot run here, or null when Samba AD DC is installed. */
export function sambaUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'Samba AD DC tests need Linux';
  for (const bin of ['samba', 'samba-tool', 'ldbmodify', 'ldapadd', 'ldapsearch'])
    if (!which(bin))
      return `${bin} is not installed (apt-get install --no-install-recommends samba samba-ad-dc samba-ad-provision ldb-tools ldap-utils winbind)`;
  if (!existsSync('/usr/share/samba/setup')) return 'samba-ad-provision is not installed (/usr/share/samba/setup missing)';
  if (process.getuid?.() !== 0) return 'provisioning a Samba DC on port 389 needs root';
  return null;
}

function which(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The OUs and objects every DC gets besides the bulk users (kept small: ~2 s with samba over LDAP). */
export const FIXTURE = {
  pilotOu: `OU=CloudSyncPilot,${BASE_DN}`,
  salesOu: `OU=Sales,${BASE_DN}`,
  emeaOu: `OU=EMEA,OU=Sales,${BASE_DN}`,
  preSalesOu: `OU=PreSales,${BASE_DN}`,
  gwbOu: `OU=GWB,${BASE_DN}`,
  bulkOu: `OU=Bulk,${BASE_DN}`,
  pilotUsers: 40,
  pilotContacts: 2,
  salesUsers: 12, // + 5 in EMEA
  emeaUsers: 5,
  preSalesUsers: 7,
  /** Written-back groups: 6 to copy, 1 already copied, 1 with a different value (a conflict). */
  gwbGroups: 8,
};

function deterministicGuid(seed: string): string {
  const h = createHash('sha1').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function fixtureLdif(): string {
  const out: string[] = [];
  const ou = (dn: string) => out.push(`dn: ${dn}\nchangetype: add\nobjectClass: organizationalUnit\n`);
  const user = (parent: string, cn: string, sam: string, extra = '') =>
    out.push(
      `dn: CN=${cn},${parent}\nchangetype: add\nobjectClass: user\nsAMAccountName: ${sam}\nuserPrincipalName: ${sam}@contoso.test\n` +
        `displayName: ${cn.replace(/\\/g, '')}\nmail: ${sam}@contoso.test\nproxyAddresses: SMTP:${sam}@contoso.test\n${extra}`,
    );
  for (const dn of [FIXTURE.pilotOu, FIXTURE.salesOu, FIXTURE.emeaOu, FIXTURE.preSalesOu, FIXTURE.gwbOu]) ou(dn);
  user(FIXTURE.pilotOu, 'Smith\\, John', 'jsmith');
  for (let i = 2; i <= FIXTURE.pilotUsers; i++) user(FIXTURE.pilotOu, `Pilot User ${i}`, `pilot${i}`);
  for (let i = 1; i <= FIXTURE.pilotContacts; i++)
    out.push(
      `dn: CN=Pilot Contact ${i},${FIXTURE.pilotOu}\nchangetype: add\nobjectClass: contact\ndisplayName: Pilot Contact ${i}\nmail: contact${i}@fabrikam.example\n`,
    );
  for (let i = 1; i <= FIXTURE.salesUsers; i++) user(FIXTURE.salesOu, `Sales User ${i}`, `sales${i}`);
  for (let i = 1; i <= FIXTURE.emeaUsers; i++) user(FIXTURE.emeaOu, `EMEA User ${i}`, `emea${i}`);
  for (let i = 1; i <= FIXTURE.preSalesUsers; i++) user(FIXTURE.preSalesOu, `PreSales User ${i}`, `presales${i}`);
  out.push(
    `dn: CN=Pilot Readers,${FIXTURE.pilotOu}\nchangetype: add\nobjectClass: group\nsAMAccountName: PilotReaders\n` +
      `member: CN=Smith\\, John,${FIXTURE.pilotOu}\nmember: CN=Pilot User 2,${FIXTURE.pilotOu}\n`,
  );
  for (let i = 1; i <= FIXTURE.gwbGroups; i++) {
    const id = `Group_${deterministicGuid(`gwb-${i}`)}`;
    const ext = i === 7 ? `msDS-ExternalDirectoryObjectId: ${id}\n` : i === 8 ? `msDS-ExternalDirectoryObjectId: Group_${deterministicGuid('other')}\n` : '';
    // groupType -2147483640: universal security group, as GWB v2 writes them.
    out.push(
      `dn: CN=${id},${FIXTURE.gwbOu}\nchangetype: add\nobjectClass: group\nsAMAccountName: gwb${i}\ngroupType: -2147483640\n` +
        `adminDescription: ${id}\ndisplayName: Cloud Group ${i}\n${ext}member: CN=Pilot User 3,${FIXTURE.pilotOu}\n`,
    );
  }
  return out.join('\n');
}

function bulkLdif(n: number): string {
  const parts = [`dn: ${FIXTURE.bulkOu}\nchangetype: add\nobjectClass: organizationalUnit\n`];
  for (let i = 1; i <= n; i++) {
    const sam = `bulk${String(i).padStart(6, '0')}`;
    parts.push(
      `dn: CN=${sam},${FIXTURE.bulkOu}\nchangetype: add\nobjectClass: user\nsAMAccountName: ${sam}\nuserPrincipalName: ${sam}@contoso.test\n` +
        `givenName: Bulk${i}\nsn: User\ndisplayName: Bulk User ${i}\nmail: ${sam}@contoso.test\nproxyAddresses: SMTP:${sam}@contoso.test\n`,
    );
  }
  return parts.join('\n');
}

const SCHEMA_ATTR = (base: string) => `dn: CN=ms-DS-External-Directory-Object-Id,CN=Schema,CN=Configuration,${base}
changetype: add
objectClass: top
objectClass: attributeSchema
cn: ms-DS-External-Directory-Object-Id
attributeID: 1.2.840.113556.1.4.2310
attributeSyntax: 2.5.5.12
oMSyntax: 64
isSingleValued: TRUE
rangeUpper: 256
searchFlags: 9
lDAPDisplayName: msDS-ExternalDirectoryObjectId
adminDisplayName: ms-DS-External-Directory-Object-Id
adminDescription: ms-DS-External-Directory-Object-Id
schemaIDGUID:: kL8pva1m4UCIexDfBwQZpg==
attributeSecurityGUID:: hri1d0qU0RGuvQAA+ANnwQ==
showInAdvancedViewOnly: FALSE
systemOnly: FALSE
systemFlags: 16
isMemberOfPartialAttributeSet: TRUE

dn:
changetype: modify
add: schemaUpdateNow
schemaUpdateNow: 1
-
`;
const SCHEMA_CLASS = (base: string) => `dn: CN=Mail-Recipient,CN=Schema,CN=Configuration,${base}
changetype: modify
add: mayContain
mayContain: msDS-ExternalDirectoryObjectId
-

dn:
changetype: modify
add: schemaUpdateNow
schemaUpdateNow: 1
-
`;

const LDAP_AUTH = ['-x', '-H', 'ldap://127.0.0.1', '-D', BIND_UPN, '-w', ADMIN_PASSWORD];

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function stopDc(dc: string): void {
  const pidFile = path.join(dc, 'run', 'samba.fg.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (pid && pidAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    const until = Date.now() + 10_000;
    while (pidAlive(pid) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  rmSync(pidFile, { force: true });
}

async function startDc(dc: string): Promise<void> {
  const conf = path.join(dc, 'etc', 'smb.conf');
  mkdirSync(path.join(dc, 'log'), { recursive: true });
  const child = spawn('samba', ['-i', '-M', 'single', '--maximum-runtime=7200', '-s', conf], { detached: true, stdio: 'ignore' });
  child.unref();
  writeFileSync(path.join(dc, 'run', 'samba.fg.pid'), String(child.pid));
  // Ready when the rootDSE answers (about a second; TLS key generation on first start).
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      run('ldapsearch', [...LDAP_AUTH, '-b', '', '-s', 'base', '(objectClass=*)', 'defaultNamingContext']);
      return;
    } catch (err) {
      if (Date.now() > until) throw new Error(`Samba DC did not answer LDAP within 60 s: ${(err as Error).message}`, { cause: err });
      if (!pidAlive(child.pid!)) throw new Error(`Samba DC exited; see ${path.join(dc, 'log')}`, { cause: err });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function provision(dc: string): void {
  rmSync(dc, { recursive: true, force: true });
  const baseSchema = run('samba-tool', ['domain', 'provision', '--help']).includes("'2019'") ? '2019' : '2012_R2';
  run('samba-tool', [
    'domain',
    'provision',
    `--targetdir=${dc}`,
    `--realm=${REALM}`,
    '--domain=CONTOSO',
    `--adminpass=${ADMIN_PASSWORD}`,
    '--server-role=dc',
    '--use-rfc2307',
    '--dns-backend=NONE',
    '--host-name=dc1',
    `--base-schema=${baseSchema}`,
    '--function-level=2008_R2',
    '--option=interfaces=lo',
    '--option=bind interfaces only=yes',
    '--option=server services=ldap cldap kdc',
    '--option=disable netbios=yes',
    `--option=pid directory=${dc}/run`,
    `--option=ncalrpc dir=${dc}/run/ncalrpc`,
    `--option=winbindd socket directory=${dc}/run/winbindd`,
    `--option=ntp signd socket directory=${dc}/run/ntp_signd`,
    '--option=logging=file',
    `--option=log file=${dc}/log/log.%m`,
  ]);
  mkdirSync(path.join(dc, 'run'), { recursive: true });
  const conf = path.join(dc, 'etc', 'smb.conf');
  // Simple binds on plain 389 (test convenience; --option at provision time does not reach smb.conf).
  writeFileSync(conf, readFileSync(conf, 'utf8').replace(/^\[global\]$/m, '[global]\n\tldap server require strong auth = no'));
  const sam = path.join(dc, 'private', 'sam.ldb');
  const has = run('ldbsearch', ['-H', sam, '-b', `CN=Schema,CN=Configuration,${BASE_DN}`, '(lDAPDisplayName=msDS-ExternalDirectoryObjectId)', 'dn']);
  if (!/^dn:/m.test(has)) {
    for (const [name, ldif] of [
      ['schema-1-attr', SCHEMA_ATTR(BASE_DN)],
      ['schema-2-class', SCHEMA_CLASS(BASE_DN)],
    ] as const) {
      const file = path.join(dc, `${name}.ldif`);
      writeFileSync(file, ldif);
      run('ldbmodify', ['-H', sam, '--option=dsdb:schema update allowed=true', file]);
    }
  }
}

/**
 * Starts (restoring from snapshot when there is one) a Samba DC with the fixture objects and `bulkUsers` users in
 * OU=Bulk. One DC at a time per machine (it owns 127.0.0.1:389).
 */
export async function startSambaDc(opts: { bulkUsers: number; root?: string; log?: (line: string) => void }): Promise<SambaDc> {
  const log = opts.log ?? (() => {});
  const root = opts.root ?? process.env.CUTOVER_SAMBA_ROOT ?? '/tmp/cutover-samba';
  const dc = path.join(root, 'dc');
  const snapshot = path.join(root, `golden-${opts.bulkUsers}.tar`);
  mkdirSync(root, { recursive: true });
  stopDc(dc);
  const t0 = Date.now();
  if (existsSync(snapshot)) {
    rmSync(dc, { recursive: true, force: true });
    run('tar', ['-C', root, '-xf', snapshot]);
    await startDc(dc);
    log(`restored Samba DC snapshot (${opts.bulkUsers} bulk users) in ${Date.now() - t0} ms`);
  } else {
    provision(dc);
    await startDc(dc);
    run('ldapadd', LDAP_AUTH, fixtureLdif());
    log(`provisioned Samba DC with fixtures in ${Date.now() - t0} ms; loading ${opts.bulkUsers} users (slow once, then snapshotted)`);
    if (opts.bulkUsers > 0) {
      const file = path.join(root, `bulk-${opts.bulkUsers}.ldif`);
      writeFileSync(file, bulkLdif(opts.bulkUsers));
      run('ldapadd', [...LDAP_AUTH, '-f', file]);
    }
    stopDc(dc);
    run('tar', ['-C', root, '-cf', `${snapshot}.tmp`, 'dc']);
    run('mv', [`${snapshot}.tmp`, snapshot]);
    await startDc(dc);
    log(`Samba DC ready and snapshotted in ${Date.now() - t0} ms`);
  }
  return {
    url: 'ldap://127.0.0.1',
    ldapsUrl: 'ldaps://127.0.0.1:636',
    bindDn: BIND_UPN,
    password: ADMIN_PASSWORD,
    baseDn: BASE_DN,
    bulkUsers: opts.bulkUsers,
    root,
    stop: () => stopDc(dc),
  };
}
