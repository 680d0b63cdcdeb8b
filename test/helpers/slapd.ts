/**
 * OpenLDAP slapd with a tiny AD-flavoured schema, for volume tests (150,000 users load in seconds with slapadd),
 * after ../shared/reference/openldap-slapd.sh: private directory, 127.0.0.1 only, unprivileged port. AD behaviour
 * (objectCategory expansion, GUIDs, UPN binds) is not there; objectCategory is stored as a plain string.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const SLAPD_BASE_DN = 'dc=contoso,dc=test';
export const SLAPD_BIND_DN = 'cn=admin,dc=contoso,dc=test';
export const SLAPD_PASSWORD = 'Passw0rd!Probe';
export const SLAPD_BULK_OU = `ou=Bulk,${SLAPD_BASE_DN}`;

export function slapdUnavailableReason(): string | null {
  for (const bin of ['slapd', 'slapadd', 'ldapsearch'])
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed (apt-get install --no-install-recommends slapd ldap-utils, with debconf slapd/no_configuration=true)`;
    }
  return null;
}

const SCHEMA = `attributetype ( 1.2.840.113556.1.2.226 NAME 'adminDescription'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{1024} SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.2310 NAME 'msDS-ExternalDirectoryObjectId'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{256} SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{256} SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{1024} SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.782 NAME 'objectCategory'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.2 NAME 'objectGUID'
  EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40{16} SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.1360 NAME 'mS-DS-ConsistencyGuid'
  EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40{16} SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.210 NAME 'proxyAddresses'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{1123} )
objectclass ( 1.2.840.113556.1.5.9 NAME 'user' SUP organizationalPerson STRUCTURAL
  MAY ( sAMAccountName $ userPrincipalName $ adminDescription $ msDS-ExternalDirectoryObjectId $ objectCategory $
        objectGUID $ mS-DS-ConsistencyGuid $ proxyAddresses $ mail $ displayName $ givenName ) )
`;

export interface Slapd {
  url: string;
  bindDn: string;
  password: string;
  bulkOu: string;
  users: number;
  stop(): void;
}

function stop(dir: string): void {
  const pidFile = path.join(dir, 'run', 'slapd.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    process.kill(pid, 'SIGTERM');
    const until = Date.now() + 10_000;
    for (;;) {
      process.kill(pid, 0);
      if (Date.now() > until) break;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  } catch {
    /* gone */
  }
  rmSync(pidFile, { force: true });
}

async function writeBulk(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write(
    `dn: ${SLAPD_BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\no: Contoso\ndc: contoso\n\ndn: ${SLAPD_BULK_OU}\nobjectClass: organizationalUnit\nou: Bulk\n\n`,
  );
  for (let i = 1; i <= n; i++) {
    const s = `bulk${String(i).padStart(6, '0')}`;
    const guid = randomBytes(16).toString('base64');
    await write(
      `dn: cn=${s},${SLAPD_BULK_OU}\nobjectClass: user\ncn: ${s}\nsn: User\ngivenName: Bulk${i}\nsAMAccountName: ${s}\n` +
        `userPrincipalName: ${s}@contoso.test\nmail: ${s}@contoso.test\nproxyAddresses: SMTP:${s}@contoso.test\ndisplayName: Bulk User ${i}\n` +
        `objectCategory: person\nobjectGUID:: ${guid}\nmS-DS-ConsistencyGuid:: ${guid}\n\n`,
    );
  }
  await new Promise<void>((r) => out.end(r));
}

/** Builds (slapadd, offline) and starts slapd with `users` users in ou=Bulk. */
export async function startSlapd(opts: { users: number; port?: number; root?: string }): Promise<Slapd> {
  const root = opts.root ?? '/tmp/cutover-slapd';
  const port = opts.port ?? 3890;
  const dir = path.join(root, 'slapd');
  stop(dir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  mkdirSync(path.join(dir, 'run'), { recursive: true });
  writeFileSync(path.join(dir, 'ad-lite.schema'), SCHEMA);
  const conf = path.join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include ${dir}/ad-lite.schema
pidfile ${dir}/run/slapd.pid
argsfile ${dir}/run/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
loglevel none
sizelimit unlimited

database mdb
suffix "${SLAPD_BASE_DN}"
rootdn "${SLAPD_BIND_DN}"
rootpw ${SLAPD_PASSWORD}
directory ${dir}/data
maxsize 4294967296
index objectClass,objectCategory eq
index sAMAccountName,userPrincipalName eq
`,
  );
  const ldif = path.join(dir, 'bulk.ldif');
  await writeBulk(ldif, opts.users);
  execFileSync('slapadd', ['-q', '-f', conf, '-l', ldif]);
  const url = `ldap://127.0.0.1:${port}`;
  execFileSync('slapd', ['-f', conf, '-h', `${url}/`]); // forks; PID in run/slapd.pid
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      execFileSync('ldapsearch', ['-x', '-H', url, '-b', '', '-s', 'base'], { stdio: 'ignore' });
      break;
    } catch {
      if (Date.now() > until) throw new Error('slapd did not answer within 20 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url, bindDn: SLAPD_BIND_DN, password: SLAPD_PASSWORD, bulkOu: SLAPD_BULK_OU, users: opts.users, stop: () => stop(dir) };
}
