import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'ldapts';
import { LdapExecutor } from '../../src/agent/executors/ldap.js';
import { runAction } from '../../src/agent/run-action.js';
import { FIXTURE, sambaUnavailableReason, startSambaDc, type SambaDc } from '../helpers/samba.js';

const BULK = Number(process.env.CUTOVER_SAMBA_USERS ?? 5000);
const reason = sambaUnavailableReason();
if (reason) console.warn(`[ldap-samba] skipped: ${reason}`);

describe.skipIf(reason !== null)('ldap executor against a real Samba AD DC', () => {
  let dc: SambaDc;
  let exec: LdapExecutor;

  beforeAll(async () => {
    dc = await startSambaDc({ bulkUsers: BULK, log: (l) => console.log(`[samba] ${l}`) });
    exec = new LdapExecutor({ url: dc.url, bindDn: dc.bindDn, bindPassword: dc.password, allowPlainLdap: true });
  }, 600_000);

  afterAll(() => dc?.stop());

  const ok = async (action: string, params: unknown, executor: LdapExecutor = exec): Promise<any> => {
    const out = await runAction(executor, action, params);
    if (!out.ok) throw new Error(`${action}: ${out.error.code}: ${out.error.message}`);
    return out.result;
  };

  it(`counts ${BULK} users in one OU with paged searches (page size 1000)`, async () => {
    expect(await ok('ad-count', { ou: FIXTURE.bulkOu })).toEqual({ ou: FIXTURE.bulkOu, users: BULK, groups: 0, contacts: 0 });
  });

  it('counts users, groups and contacts separately with objectCategory filters, nested OUs included', async () => {
    expect(await ok('ad-count', { ou: FIXTURE.pilotOu })).toMatchObject({ users: FIXTURE.pilotUsers, groups: 1, contacts: FIXTURE.pilotContacts });
    expect(await ok('ad-count', { ou: FIXTURE.salesOu })).toMatchObject({ users: FIXTURE.salesUsers + FIXTURE.emeaUsers });
    // OU=PreSales is not under OU=Sales, whatever a text match would say.
    expect(await ok('ad-count', { ou: FIXTURE.preSalesOu })).toMatchObject({ users: FIXTURE.preSalesUsers });
  });

  it('summarises the whole domain: counts and the largest groups by member count', async () => {
    const s = await ok('ad-domain-summary', {});
    expect(s.domain).toBe(
      dc.baseDn
        .split(',')
        .map((r: string) => r.split('=')[1].toLowerCase())
        .join('.'),
    );
    expect(s.users).toBeGreaterThanOrEqual(BULK + FIXTURE.pilotUsers + FIXTURE.salesUsers + FIXTURE.emeaUsers + FIXTURE.preSalesUsers);
    expect(s.total).toBe(s.users + s.groups + s.contacts);
    expect(s.largestGroups.length).toBeGreaterThan(0);
    for (let i = 1; i < s.largestGroups.length; i++) expect(s.largestGroups[i - 1].members).toBeGreaterThanOrEqual(s.largestGroups[i].members);
  });

  it('a small page size still returns everything', async () => {
    const small = new LdapExecutor({ url: dc.url, bindDn: dc.bindDn, bindPassword: dc.password, allowPlainLdap: true, pageSize: 7 });
    expect((await ok('ad-count', { ou: FIXTURE.pilotOu }, small)).users).toBe(FIXTURE.pilotUsers);
  });

  it('exports identity data, including escaped DNs and objectGUID as a GUID string', async () => {
    const r = await ok('ad-export-identities', { ou: FIXTURE.pilotOu });
    expect(r.count).toBe(FIXTURE.pilotUsers + FIXTURE.pilotContacts + 1);
    const john = r.objects.find((o: any) => o.userPrincipalName === 'jsmith@contoso.test');
    expect(john).toMatchObject({ objectClass: 'user', mail: 'jsmith@contoso.test', proxyAddresses: ['SMTP:jsmith@contoso.test'], displayName: 'Smith, John' });
    expect(john.dn).toBe(`CN=Smith\\, John,${FIXTURE.pilotOu}`);
    expect(john.objectGUID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // Cross-check the GUID byte order against the server's own GUID-string lookup (<GUID=…> base).
    const c = new Client({ url: dc.url });
    await c.bind(dc.bindDn, dc.password);
    const viaGuid = await c.search(`<GUID=${john.objectGUID}>`, { scope: 'base', attributes: ['userPrincipalName'] });
    await c.unbind();
    expect(viaGuid.searchEntries[0]?.userPrincipalName).toBe('jsmith@contoso.test');
    expect(r.objects.filter((o: any) => o.objectClass === 'contact')).toHaveLength(FIXTURE.pilotContacts);
  });

  it('checks the schema for msDS-ExternalDirectoryObjectId and objectVersion', async () => {
    const r = await ok('ad-check-schema', {});
    expect(r.hasExternalDirectoryObjectId).toBe(true);
    expect(r.objectVersion).toBeGreaterThanOrEqual(69);
    expect(r.windowsServer2016OrLater).toBe(r.objectVersion >= 87);
  });

  it('copies adminDescription to msDS-ExternalDirectoryObjectId: dry run, apply, idempotent, conflicts left alone', async () => {
    const dry = await ok('ad-copy-admin-description', { ou: FIXTURE.gwbOu, dryRun: true });
    expect(dry.changes).toHaveLength(6);
    expect(dry.conflicts).toHaveLength(1);
    expect(dry.applied).toBe(false);
    expect((await ok('ad-copy-admin-description', { ou: FIXTURE.gwbOu, dryRun: true })).changes).toHaveLength(6); // nothing written
    const applied = await ok('ad-copy-admin-description', { ou: FIXTURE.gwbOu, dryRun: false });
    expect(applied).toMatchObject({ applied: true });
    expect(applied.changes.every((c: any) => c.from === null && c.to.startsWith('Group_'))).toBe(true);
    const again = await ok('ad-copy-admin-description', { ou: FIXTURE.gwbOu, dryRun: false });
    expect(again.changes).toEqual([]);
    expect(again.conflicts).toHaveLength(1);
  });

  it('an OU that does not exist is not-found, not zero', async () => {
    const out = await runAction(exec, 'ad-count', { ou: `OU=Nowhere,${dc.baseDn}` });
    expect(out).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it('filter metacharacters and PowerShell in a DN are inert: a valid DN that names nothing', async () => {
    const out = await runAction(exec, 'ad-count', { ou: `OU=*)(objectClass\\=*)$(Remove-ADSyncRule)\`,${dc.baseDn}` });
    expect(out).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it('works over ldaps:// and StartTLS', async () => {
    const tls = { rejectUnauthorized: false }; // Samba's self-signed test certificate
    const ldaps = new LdapExecutor({ url: dc.ldapsUrl, bindDn: dc.bindDn, bindPassword: dc.password, tls });
    expect((await ok('ad-count', { ou: FIXTURE.pilotOu }, ldaps)).users).toBe(FIXTURE.pilotUsers);
    const startTls = new LdapExecutor({ url: dc.url, bindDn: dc.bindDn, bindPassword: dc.password, startTls: true, tls });
    expect((await ok('ad-count', { ou: FIXTURE.pilotOu }, startTls)).users).toBe(FIXTURE.pilotUsers);
  });

  it("reads the sync tools' service accounts, every domain of the forest, and the writeback scope from groupType", async () => {
    const domain = dc.baseDn
      .split(',')
      .map((r: string) => r.split('=')[1].toLowerCase())
      .join('.');
    const before = await ok('forest-object-count', {});
    expect(before.domains).toEqual([expect.objectContaining({ domain, dn: dc.baseDn })]);
    expect(before.total).toBe(before.domains[0].users + before.domains[0].groups + before.domains[0].contacts);
    expect(before.domains[0].users).toBeGreaterThanOrEqual(BULK + FIXTURE.pilotUsers + FIXTURE.salesUsers + FIXTURE.emeaUsers + FIXTURE.preSalesUsers);
    const scopeOu = `OU=GwbScope,${dc.baseDn}`;
    const c = new Client({ url: dc.url });
    await c.bind(dc.bindDn, dc.password);
    try {
      const user = ['top', 'person', 'organizationalPerson', 'user'];
      await c.add(`CN=MSOL_AD_SYNC,CN=Users,${dc.baseDn}`, {
        objectClass: user,
        sAMAccountName: 'MSOL_AD_SYNC',
        description:
          "Account created by the Windows Azure Active Directory Sync tool with installation identifier '1f2e3d4c5b6a' running on computer 'DIRSYNC01' configured to synchronize to tenant 'contoso.onmicrosoft.com'.",
      });
      await c.add(`CN=MSOL_0123456789ab,CN=Users,${dc.baseDn}`, {
        objectClass: user,
        sAMAccountName: 'MSOL_0123456789ab',
        description:
          'Account created by Microsoft Azure Active Directory Connect with installation identifier 0123456789ab running on computer AADC01 configured to synchronize to tenant contoso.onmicrosoft.com.',
      });
      await c.add(scopeOu, { objectClass: ['top', 'organizationalUnit'] });
      const group = (cn: string, groupType: string, extra: Record<string, string> = {}) =>
        c.add(`CN=${cn},${scopeOu}`, { objectClass: ['top', 'group'], sAMAccountName: `gwbscope${cn.slice(-2)}`, groupType, adminDescription: cn, ...extra });
      await group('Group_00000000-0000-4000-8000-0000000000a1', '-2147483640'); // universal security: in scope
      await group('Group_00000000-0000-4000-8000-0000000000a2', '8', { mail: 'dl@contoso.test' }); // universal distribution, mail-enabled
      await group('Group_00000000-0000-4000-8000-0000000000a3', '-2147483646'); // global security
    } finally {
      await c.unbind();
    }
    const found = await ok('find-sync-accounts', {});
    expect(found.accounts.map((a: any) => [a.samAccountName, a.tool, a.computer]).sort()).toEqual([
      ['MSOL_0123456789ab', 'entra-connect', 'AADC01'],
      ['MSOL_AD_SYNC', 'dirsync', 'DIRSYNC01'],
    ]);
    expect(found.accounts.every((a: any) => /^\d{4}-\d{2}-\d{2}T/.test(a.whenCreated))).toBe(true);
    // The sync accounts are never synchronized, so they are not in the count DirSync's upgrade path depends on.
    expect((await ok('forest-object-count', {})).domains[0].users).toBe(before.domains[0].users);
    const report = await ok('gwb-scope-report', { ou: scopeOu });
    expect(report).toMatchObject({ inScope: 1, outOfScope: 2 });
    const by = Object.fromEntries(report.groups.map((g: any) => [g.adminDescription.slice(-2), g]));
    expect(by.a1).toMatchObject({ groupScope: 'universal', security: true, inScope: true });
    expect(by.a2).toMatchObject({
      groupScope: 'universal',
      security: false,
      mail: 'dl@contoso.test',
      inScope: false,
      reason: expect.stringContaining('mail-enabled'),
    });
    expect(by.a3).toMatchObject({ groupScope: 'global', security: true, inScope: false, reason: expect.stringContaining('global scope') });
  });

  it('a wrong password fails cleanly', async () => {
    const bad = new LdapExecutor({ url: dc.url, bindDn: dc.bindDn, bindPassword: 'wrong', allowPlainLdap: true });
    expect(await runAction(bad, 'ad-check-schema', {})).toMatchObject({ ok: false, error: { code: 'failed' } });
  });
});

describe('ldap executor settings', () => {
  it('refuses plain ldap:// unless asked, and page sizes over 1000', () => {
    expect(() => new LdapExecutor({ url: 'ldap://dc1.contoso.com', bindDn: 'x', bindPassword: 'y' })).toThrow(/plain ldap/);
    expect(() => new LdapExecutor({ url: 'ldaps://dc1.contoso.com', bindDn: 'x', bindPassword: 'y', pageSize: 5000 })).toThrow(/1-1000/);
    expect(() => new LdapExecutor({ url: 'http://dc1.contoso.com', bindDn: 'x', bindPassword: 'y' })).toThrow(/ldap:\/\/ or ldaps:\/\//);
  });

  it('refuses ADSync actions and says why', async () => {
    const exec = new LdapExecutor({ url: 'ldaps://dc1.contoso.com', bindDn: 'x', bindPassword: 'y' });
    const out = await runAction(exec, 'create-noflow-rules', { migrationId: 'm', batch: 1, ou: 'OU=A,DC=contoso,DC=com', objectTypes: ['user'] });
    expect(out).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    expect((out as any).error.message).toMatch(/powershell/);
  });
});
