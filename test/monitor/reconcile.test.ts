import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { immutableIdOf } from '../../src/sandbox/contracts.js';
import {
  DnBucketCache,
  EntraOuView,
  guidOfImmutableId,
  hasFindings,
  immutableIdOfGuid,
  normalizeProxyAddress,
  reconcileOu,
  sourceAnchor,
  type EntraIdentity,
  type OnPremIdentity,
} from '../../src/monitor/reconcile.js';
import { cardSections, csvCell, reportRowCount, toCsv } from '../../src/monitor/reports.js';
import { reconcileContent } from '../../src/monitor/monitor.js';
import { alertCard } from '../../src/bot/alert-views.js';

/** Reconciliation of one OU on hand-made data: every list, the matching order, DN and proxy-address edge cases. */

const OU = 'OU=Pilot,DC=contoso,DC=com';
let n = 0;
const guid = () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;

function adUser(cn: string, over: Partial<OnPremIdentity> = {}, parent = OU): OnPremIdentity {
  const sam = cn.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
  return {
    dn: `CN=${cn},${parent}`,
    objectClass: 'user',
    objectGUID: guid(),
    consistencyGuid: null,
    userPrincipalName: `${sam}@contoso.com`,
    mail: `${sam}@contoso.com`,
    proxyAddresses: [`SMTP:${sam}@contoso.com`, `smtp:${sam}@contoso.mail.onmicrosoft.com`],
    displayName: cn.replace(/\\/g, ''),
    ...over,
  };
}

/** What Entra shows for an AD user after a clean sync. */
function synced(o: OnPremIdentity, over: Partial<EntraIdentity> = {}): EntraIdentity {
  return {
    id: `e-${o.objectGUID.slice(-6)}`,
    userPrincipalName: o.userPrincipalName,
    mail: o.mail,
    displayName: o.displayName,
    proxyAddresses: [...o.proxyAddresses],
    onPremisesImmutableId: sourceAnchor(o),
    onPremisesSamAccountName: o.samAccountName ?? null,
    onPremisesDistinguishedName: o.dn,
    ...over,
  };
}

describe('source anchors', () => {
  it('encodes a GUID as Entra shows onPremisesImmutableId (mixed-endian bytes, base64), and back', () => {
    expect(immutableIdOfGuid('3f2504e0-4f89-11d3-9a0c-0305e82c3301')).toBe('4AQlP4lP0xGaDAMF6CwzAQ==');
    expect(immutableIdOfGuid('{3F2504E0-4F89-11D3-9A0C-0305E82C3301}')).toBe('4AQlP4lP0xGaDAMF6CwzAQ==');
    expect(guidOfImmutableId('4AQlP4lP0xGaDAMF6CwzAQ==')).toBe('3f2504e0-4f89-11d3-9a0c-0305e82c3301');
    expect(immutableIdOfGuid('not a guid')).toBeNull();
    expect(guidOfImmutableId('am9obi5zbWl0aEBjb250b3NvLmNvbQ==')).toBeNull(); // base64 of a UPN (a custom source anchor), not 16 bytes
  });

  it('agrees with the sandbox for any GUID, and the anchor prefers ms-DS-ConsistencyGuid', () => {
    fc.assert(
      fc.property(fc.uuid(), (g) => {
        expect(immutableIdOfGuid(g)).toBe(immutableIdOf(g));
        expect(guidOfImmutableId(immutableIdOfGuid(g))).toBe(g.toLowerCase());
      }),
    );
    const g1 = guid();
    const g2 = guid();
    expect(sourceAnchor({ objectGUID: g1, consistencyGuid: g2 })).toBe(immutableIdOf(g2));
    expect(sourceAnchor({ objectGUID: g1, consistencyGuid: null })).toBe(immutableIdOf(g1));
  });
});

describe('reconcileOu', () => {
  it('finds nothing when AD and Entra agree (order, case and Exchange Online addresses do not matter)', () => {
    const a = adUser('Ana Diaz', { consistencyGuid: null });
    const b = adUser('Smith\\, John');
    const c = adUser('\\#1 Admin', {}, `OU=Nested,${OU}`);
    const entra = [
      synced(a, { userPrincipalName: 'ANA.diaz@Contoso.com'.toLowerCase().replace('ana.diaz', 'anadiaz'), proxyAddresses: [...a.proxyAddresses].reverse() }),
      synced(b, { mail: b.mail!.toUpperCase(), proxyAddresses: [...b.proxyAddresses, 'smtp:smithjohn@contoso.onmicrosoft.com'] }),
      synced(c, { onPremisesDistinguishedName: `cn=\\#1 Admin,ou=NESTED,ou=pilot,dc=contoso,dc=com` }),
    ];
    const r = reconcileOu({ ou: OU, onPrem: [c, a, b], entra });
    expect(r.counts).toMatchObject({ onPrem: 3, entra: 3, matched: 3 });
    expect(hasFindings(r)).toBe(false);
  });

  it('lists users missing in Entra and Entra users with no AD object', () => {
    const a = adUser('Ana Diaz');
    const b = adUser('Bo Chen');
    const ghost = synced(adUser('Ghost User'));
    const r = reconcileOu({ ou: OU, onPrem: [a, b], entra: [synced(a), ghost] });
    expect(r.missingInEntra.map((f) => f.onPrem.dn)).toEqual([b.dn]);
    expect(r.missingInEntra[0].onPrem.anchor).toBe(sourceAnchor(b));
    expect(r.notOnPrem.map((f) => f.entra.id)).toEqual([ghost.id]);
    expect(r.counts).toMatchObject({ onPrem: 2, entra: 2, matched: 1, missingInEntra: 1, notOnPrem: 1 });
  });

  it('reports attribute drift on displayName, mail, UPN and proxyAddresses, keeping the SMTP: primary distinction', () => {
    const a = adUser('Ana Diaz');
    const b = adUser('Bo Chen');
    const c = adUser('Cy Park', { userPrincipalName: 'cypark@contoso.local' });
    const d = adUser('Di Wu');
    const entra = [
      synced(a, { displayName: 'Ana Díaz' }),
      // the primary swapped: same addresses, different case of the prefix
      synced(b, { mail: 'bo@contoso.com', proxyAddresses: ['smtp:bochen@contoso.com', 'SMTP:bochen@contoso.mail.onmicrosoft.com'] }),
      synced(c, { userPrincipalName: 'cypark@contoso.onmicrosoft.com' }),
      synced(d, { proxyAddresses: ['SMTP:diwu@contoso.com'] }), // a secondary missing in Entra
    ];
    const r = reconcileOu({ ou: OU, onPrem: [a, b, c, d], entra });
    const got = r.drift.map((f) => `${f.onPrem.dn.split(',')[0]} ${f.attribute}`);
    expect(got).toEqual(['CN=Ana Diaz displayName', 'CN=Bo Chen mail', 'CN=Bo Chen proxyAddresses', 'CN=Cy Park userPrincipalName', 'CN=Di Wu proxyAddresses']);
    const bo = r.drift.find((f) => f.attribute === 'proxyAddresses' && f.onPrem.dn.startsWith('CN=Bo'))!;
    expect(bo.detail).toContain('primary SMTP differs (on-premises SMTP:bochen@contoso.com, Entra SMTP:bochen@contoso.mail.onmicrosoft.com)');
    expect(r.drift.find((f) => f.attribute === 'userPrincipalName')!.detail).toContain('is contoso.local a verified domain?');
    expect(r.drift.find((f) => f.onPrem.dn.startsWith('CN=Di'))!.detail).toBe('only on-premises: smtp:diwu@contoso.mail.onmicrosoft.com');
    expect(r.counts.matched).toBe(4);
  });

  it('compares proxyAddresses as case-insensitive sets except for the SMTP/smtp prefix', () => {
    expect(normalizeProxyAddress('SMTP:John@Contoso.COM')).toBe('SMTP:john@contoso.com');
    expect(normalizeProxyAddress('smtp:John@Contoso.COM')).toBe('smtp:john@contoso.com');
    expect(normalizeProxyAddress('Smtp:a@b.c')).toBe('smtp:a@b.c');
    expect(normalizeProxyAddress('X500:/o=ExchangeLabs/ou=Exchange')).toBe('x500:/o=exchangelabs/ou=exchange');
    expect(normalizeProxyAddress('sip:a@b.c')).toBe(normalizeProxyAddress('SIP:A@B.C'));
  });

  it('matches by ms-DS-ConsistencyGuid first, and reports an immutable id that only matches objectGUID (hard-match risk)', () => {
    const a = adUser('Ana Diaz');
    a.consistencyGuid = guid(); // someone wrote a different value into ms-DS-ConsistencyGuid
    const e = synced(a, { onPremisesImmutableId: immutableIdOf(a.objectGUID) });
    const r = reconcileOu({ ou: OU, onPrem: [a], entra: [e] });
    expect(r.missingInEntra).toEqual([]);
    expect(r.immutableIdMismatch).toHaveLength(1);
    expect(r.immutableIdMismatch[0]).toMatchObject({
      matchedBy: 'objectGUID',
      expected: immutableIdOf(a.consistencyGuid),
      actual: immutableIdOf(a.objectGUID),
      actualGuid: a.objectGUID,
    });
  });

  it('falls back to the DN (parsed, not text) and to samAccountName to explain a failed hard match', () => {
    const a = adUser('Smith\\, John');
    const b = adUser('Bo Chen', { samAccountName: 'bchen' });
    const other = guid();
    const ea = synced(a, { onPremisesImmutableId: immutableIdOf(other), onPremisesDistinguishedName: 'cn=Smith\\2C John, ou=Pilot ,DC=Contoso,DC=COM' });
    const eb = synced(b, {
      onPremisesImmutableId: 'am9obi5zbWl0aEBjb250b3NvLmNvbQ==',
      onPremisesSamAccountName: 'BCHEN',
      onPremisesDistinguishedName: `CN=Bo Chen,OU=Old,${OU}`,
    });
    const r = reconcileOu({ ou: OU, onPrem: [a, b], entra: [ea, eb] });
    expect(r.missingInEntra).toEqual([]);
    expect(r.notOnPrem).toEqual([]);
    expect(r.immutableIdMismatch.map((f) => [f.onPrem.dn, f.matchedBy, f.actualGuid])).toEqual([
      [b.dn, 'samAccountName', null],
      [a.dn, 'distinguishedName', other],
    ]);
    // the samAccountName match is also a DN difference within the OU (a move not yet synced)
    expect(r.drift.map((f) => f.attribute)).toEqual(['onPremisesDistinguishedName']);
  });

  it('finds a user Entra still places in another OU (a move not yet synced) instead of calling it missing', () => {
    const a = adUser('Ana Diaz');
    const stale = synced(a, { onPremisesDistinguishedName: 'CN=Ana Diaz,OU=Sales,DC=contoso,DC=com' });
    const view = new EntraOuView([stale], [OU, 'OU=Sales,DC=contoso,DC=com']);
    const r = reconcileOu({ ou: OU, onPrem: [a], entra: view.under(OU), tenant: view });
    expect(r.counts).toMatchObject({ entra: 0, matched: 1, missingInEntra: 0 });
    expect(r.drift).toHaveLength(1);
    expect(r.drift[0]).toMatchObject({ attribute: 'onPremisesDistinguishedName', entraValue: 'CN=Ana Diaz,OU=Sales,DC=contoso,DC=com' });
    expect(r.drift[0].detail).toContain('outside the OU');
  });

  it('lists duplicates: the same UPN, mail or immutable id on two identities, on either side or across the tenant', () => {
    const a = adUser('Ana Diaz');
    const a2 = adUser('Ana Diaz2', { userPrincipalName: a.userPrincipalName, mail: 'ana2@contoso.com' }); // same UPN twice in AD
    const b = adUser('Bo Chen');
    const c = adUser('Cy Park'); // not yet synced; a cloud-side user elsewhere has its mail: the soft-match problem
    const cloudCy = {
      ...synced(adUser('Cy Park', {}, 'OU=Sales,DC=contoso,DC=com')),
      id: 'e-cloud-cy',
      onPremisesImmutableId: immutableIdOf(guid()),
      mail: 'CYPARK@contoso.com',
    };
    const dupB = { ...synced(b), id: 'e-dup-b', userPrincipalName: 'bochen2@contoso.com', mail: 'bochen2@contoso.com' }; // same immutable id twice in Entra
    const entra = [synced(a), synced(a2, { userPrincipalName: 'anadiaz2@contoso.com' }), synced(b), dupB];
    const view = new EntraOuView([...entra, cloudCy], [OU, 'OU=Sales,DC=contoso,DC=com']);
    const r = reconcileOu({ ou: OU, onPrem: [a, a2, b, c], entra: view.under(OU), tenant: view });
    const dups = r.duplicates.map((d) => `${d.attribute} ${d.value} ${d.holders.map((h) => h.side).join('+')}`);
    expect(dups).toEqual([
      `immutableId ${sourceAnchor(b)} on-prem+entra`,
      'mail cypark@contoso.com on-prem+entra',
      'userPrincipalName anadiaz@contoso.com on-prem+on-prem',
      'userPrincipalName cypark@contoso.com on-prem+entra',
    ]);
    expect(r.missingInEntra.map((f) => f.onPrem.dn)).toEqual([c.dn]);
    expect(r.notOnPrem.map((f) => f.entra.id)).toEqual(['e-dup-b']);
    // an on-prem object and the Entra user it is synced to are one identity: no duplicate of themselves
    expect(r.duplicates.some((d) => d.value === a2.mail)).toBe(false);
  });

  it('is deterministic: the same findings whatever order the inputs come in', () => {
    const users = Array.from({ length: 30 }, (_, i) => adUser(`User ${i}`));
    const entra = users.map((u, i) => synced(u, i % 7 === 0 ? { displayName: `x${i}` } : {})).filter((_, i) => i % 5 !== 0);
    entra.push(synced(adUser('Ghost A')), synced(adUser('Ghost B')));
    const one = reconcileOu({ ou: OU, onPrem: users, entra });
    fc.assert(
      fc.property(fc.shuffledSubarray(users, { minLength: users.length }), fc.shuffledSubarray(entra, { minLength: entra.length }), (u, e) => {
        expect(reconcileOu({ ou: OU, onPrem: u, entra: e })).toEqual(one);
      }),
      { numRuns: 25 },
    );
  });
});

describe('EntraOuView (one pass over the tenant)', () => {
  const sales = 'OU=Sales,DC=contoso,DC=com';
  const emea = 'OU=EMEA,OU=Sales,DC=contoso,DC=com';
  const presales = 'OU=PreSales,DC=contoso,DC=com';
  const comma = 'OU=R\\2CD,DC=contoso,DC=com'; // OU "R,D" written with a hex escape
  const u = (id: string, dn: string | null): EntraIdentity => ({
    id,
    userPrincipalName: `${id}@contoso.com`,
    mail: null,
    displayName: id,
    proxyAddresses: [],
    onPremisesImmutableId: null,
    onPremisesSamAccountName: null,
    onPremisesDistinguishedName: dn,
  });

  it('buckets RDN-exact: OU=Sales never takes OU=PreSales, nested OUs count for their parents, escapes are values', () => {
    const users = [
      u('s1', `CN=A,${sales}`),
      u('s2', 'cn=B,ou=emea,ou=sales,dc=contoso,dc=com'),
      u('p1', `CN=C,${presales}`),
      u('r1', 'CN=D,OU=R\\,D,DC=contoso,DC=com'),
      u('bad', 'CN=E,,OU=Sales'), // not a DN: in no bucket, no crash
      u('none', null),
      u('x', 'CN=Sales,DC=contoso,DC=com'),
    ];
    const v = new EntraOuView(users, [sales, emea, presales, comma]);
    expect(v.under(sales).map((x) => x.id)).toEqual(['s1', 's2']);
    expect(v.under('ou=emea, ou=SALES, dc=contoso, dc=com').map((x) => x.id)).toEqual(['s2']);
    expect(v.under(presales).map((x) => x.id)).toEqual(['p1']);
    expect(v.under('OU=R\\,D,DC=contoso,DC=com').map((x) => x.id)).toEqual(['r1']);
    expect(v.size).toBe(users.length);
    expect(v.byUpn('s1@contoso.com').map((x) => x.id)).toEqual(['s1']);
    expect(() => v.under('OU=Finance,DC=contoso,DC=com')).toThrow(/not one of the OUs/);
  });

  it('reuses its DN cache for the same OU list and refuses it for another', () => {
    const cache = new DnBucketCache([sales, emea]);
    const v1 = new EntraOuView([u('a', `CN=A,${emea}`)], [sales, emea], cache);
    const v2 = new EntraOuView([u('a', `CN=A,${emea}`), u('b', `CN=B,${sales}`)], [sales, emea], cache);
    expect(v1.under(sales)).toHaveLength(1);
    expect(v2.under(sales)).toHaveLength(2);
    expect(() => new EntraOuView([], [sales], cache)).toThrow(/another OU list/);
  });
});

describe('the report', () => {
  it('cards show counts and the first 20 of each list; the CSV has every row, quoted and safe for spreadsheets', () => {
    const onPrem = Array.from({ length: 25 }, (_, i) => adUser(`Missing ${String(i).padStart(2, '0')}`));
    const evil = adUser('Evil', { displayName: '=HYPERLINK("http://x","y")' });
    const r = reconcileOu({ ou: OU, onPrem: [...onPrem, evil], entra: [synced(evil, { displayName: 'Evil, "the"\nsecond' })] });
    const sections = cardSections(r);
    expect(sections.map((s) => s.title)).toEqual(['Missing in Entra ID: 25 (first 20 shown)', 'Attribute drift: 1']);
    expect(sections[0].lines).toHaveLength(20);
    expect(reportRowCount(r)).toBe(26);
    const csv = toCsv({
      v: 1,
      alertId: 'al-0123456789-1',
      migrationId: 'm',
      migrationName: 'Pilot',
      ou: OU,
      generatedAt: '2026-11-21T00:00:00.000Z',
      result: r,
    });
    expect(csv.startsWith('\uFEFF')).toBe(true);
    const lines = csv.split('\r\n');
    expect(lines.filter((l) => l.startsWith('missingInEntra,'))).toHaveLength(25);
    expect(csv).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csv).toContain('"Evil, ""the""\nsecond"');
    expect(csvCell('-1+2')).toBe("'-1+2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('plain')).toBe('plain');
  });

  it("keeps the card within Teams' message size when every list is long and the DNs are long", () => {
    const deep = `OU=${'Department of Very Long Names '.repeat(3).trim()},OU=Region,OU=Country,${OU}`;
    const onPrem = Array.from({ length: 60 }, (_, i) =>
      adUser(`${'Somebody With A Long Name '.repeat(2)}${i}`, { userPrincipalName: `dup${i % 30}@contoso.com` }, deep),
    );
    const entra = onPrem.slice(0, 30).map((o, i) => synced(o, { displayName: `x${i}`, onPremisesImmutableId: immutableIdOf(guid()) }));
    entra.push(...Array.from({ length: 30 }, (_, i) => synced(adUser(`Ghost ${'Long '.repeat(10)}${i}`, {}, deep))));
    const r = reconcileOu({ ou: OU, onPrem, entra });
    for (const k of ['missingInEntra', 'notOnPrem', 'duplicates', 'drift', 'immutableIdMismatch'] as const) expect(r[k].length, k).toBeGreaterThan(20);
    const content = reconcileContent(r, { steady: true, need: 1 });
    const card = alertCard(
      {
        ...content,
        id: 'al-0123456789-1',
        migrationId: 'm',
        migrationName: 'Pilot',
        tenantId: 't',
        check: 'ou-count',
        scope: OU,
        state: 'open',
        openedAt: new Date(),
        lastSeenAt: new Date(),
        resolvedAt: null,
        ackedBy: null,
        snoozedUntil: null,
        activityId: null,
        conversationId: null,
        deliveryError: null,
        version: 3,
        reportUrl: `https://cutover.contoso.com/api/reports/alerts/al-0123456789-1.csv?exp=1999999999&sig=${'A'.repeat(43)}`,
      },
      { now: new Date() },
    );
    expect(Buffer.byteLength(JSON.stringify(card))).toBeLessThan(28_000);
    expect(JSON.stringify(card)).toContain('Full report (CSV');
  });
});
