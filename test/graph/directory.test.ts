import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { InMemoryDeltaStateStore, SyncedObjectIndex } from '../../src/graph/index.js';
import type { AdObject } from '../../src/sandbox/contracts.js';
import { raw, silentLog, sandboxesStoppedAfterEach } from './helpers.js';

/** Simulators started here are stopped after each test. */
const sandbox = sandboxesStoppedAfterEach();

function adUser(dn: string, i: number): AdObject {
  return {
    objectGUID: randomUUID(),
    dn,
    objectClass: 'user',
    displayName: `User ${i}`,
    samAccountName: `user${i}`,
    userPrincipalName: `user${i}@contoso.com`,
    proxyAddresses: [`SMTP:user${i}@contoso.com`],
  };
}

const SALES = 'OU=Sales,DC=contoso,DC=com';
const PRESALES = 'OU=PreSales,DC=contoso,DC=com';
const EMEA = 'OU=EMEA,OU=Sales,DC=contoso,DC=com';
const COMMA = 'OU=Sales\\, EMEA,DC=contoso,DC=com';

describe('synced users: paging, counting by OU, delta', () => {
  it('pages /users at $top=999 across many pages, only synced users, with the selected properties', async () => {
    const { sim, graph } = await sandbox();
    for (let i = 0; i < 2500; i++) sim.upsertFromOnPrem(adUser(`CN=User ${i},${SALES}`, i), 'connect', 'contoso.com');
    for (let i = 0; i < 7; i++) sim.addCloudUser(`cloud${i}@contoso.onmicrosoft.com`);
    const before = graph.stats().httpRequests;
    const users = await graph.readSyncedUsers();
    expect(users).toHaveLength(2500);
    expect(graph.stats().httpRequests - before).toBe(3); // ceil(2500/999)
    expect(new Set(users.map((u) => u.id)).size).toBe(2500);
    expect(users[0]).toEqual({
      id: expect.any(String),
      userPrincipalName: 'user0@contoso.com',
      mail: null,
      displayName: 'User 0',
      proxyAddresses: ['SMTP:user0@contoso.com'],
      onPremisesImmutableId: expect.any(String),
      onPremisesSamAccountName: 'user0',
      onPremisesDistinguishedName: `CN=User 0,${SALES}`,
      onPremisesSyncEnabled: true,
    });
    expect(await graph.countSyncedUsers()).toBe(2500);
    const noHeader = await raw(graph.settings.baseUrl, 'GET', '/v1.0/users/$count');
    expect(noHeader.status).toBe(400);
  });

  it('counts exactly at DN edge cases: OU=Sales vs OU=PreSales, nested OUs, case, escaped commas', async () => {
    const { sim, graph } = await sandbox();
    const dns = [
      `CN=A,${SALES}`,
      `CN=B,ou=sales,dc=CONTOSO,dc=com`,
      `CN=C,${EMEA}`,
      `CN=D,${PRESALES}`,
      `CN=Smith\\, John,${COMMA}`,
      `CN=E,OU=Sales,OU=Other,DC=contoso,DC=com`,
    ];
    dns.forEach((dn, i) => sim.upsertFromOnPrem(adUser(dn, i), 'connect', 'contoso.com'));
    const index = graph.createSyncedObjectIndex(new InMemoryDeltaStateStore());
    await index.refresh();
    expect(index.countUnder(SALES)).toBe(3); // A, B (case), C (nested)
    expect(index.countUnder(PRESALES)).toBe(1);
    expect(index.countUnder(EMEA)).toBe(1);
    expect(index.countUnder(COMMA)).toBe(1);
    expect(index.objectsUnder(COMMA)[0].onPremisesDistinguishedName).toBe(`CN=Smith\\, John,${COMMA}`);
    expect(index.countUnder('OU=Other,DC=contoso,DC=com')).toBe(1);
    expect(Object.fromEntries(index.countsUnder([SALES, EMEA, PRESALES, COMMA]))).toEqual({ [SALES]: 3, [EMEA]: 1, [PRESALES]: 1, [COMMA]: 1 });
  });

  it('keeps the index current with users/delta: adds, moves between OUs, deletes, at a cost proportional to changes', async () => {
    const { sim, graph } = await sandbox();
    const objs = Array.from({ length: 1200 }, (_, i) => adUser(`CN=User ${i},${i % 2 ? SALES : PRESALES}`, i));
    for (const o of objs) sim.upsertFromOnPrem(o, 'connect', 'contoso.com');
    const store = new InMemoryDeltaStateStore();
    const index = graph.createSyncedObjectIndex(store);
    const full = await index.refresh();
    expect(full).toEqual({ mode: 'full', requests: 1 + 2, changes: 1200, total: 1200 }); // deltaToken=latest + ceil(1200/999)
    expect(index.countUnder(SALES)).toBe(600);

    const quiet = await index.refresh();
    expect(quiet).toEqual({ mode: 'delta', requests: 1, changes: 0, total: 1200 });

    for (let i = 0; i < 5; i++) sim.upsertFromOnPrem(adUser(`CN=New ${i},${SALES}`, 5000 + i), 'cloud', 'contoso.com'); // adds
    for (const o of objs.slice(0, 10).filter((_, i) => i % 2 === 0))
      sim.upsertFromOnPrem({ ...o, dn: o.dn.replace(PRESALES, SALES) }, 'connect', 'contoso.com'); // 5 moves PreSales → Sales
    for (const o of objs.slice(1, 8).filter((_, i) => i % 2 === 0)) sim.deleteFromOnPrem(o.objectGUID, 'connect'); // 4 deletes in Sales
    sim.deleteFromOnPrem(objs[11].objectGUID, 'cloud'); // another engine's object: not deleted
    const polled = await index.refresh();
    expect(polled).toEqual({ mode: 'delta', requests: 1, changes: 14, total: 1201 });
    expect(index.countUnder(SALES)).toBe(600 + 5 + 5 - 4);
    expect(index.countUnder(PRESALES)).toBe(600 - 5);

    // a fresh process with the same store resumes from the stored deltaLink: no full read
    const resumed = new SyncedObjectIndex(graph.transport, store, silentLog);
    sim.removeUsersUnder(PRESALES, 3); // count drift
    const r = await resumed.refresh();
    expect(r.mode).toBe('delta');
    expect(r.requests).toBe(1);
    expect(resumed.countUnder(PRESALES)).toBe(595 - 3);
    expect(resumed.countUnder(SALES)).toBe(606);
  });

  it('pages a large delta with @odata.nextLink and reports @removed with a reason', async () => {
    const { sim, graph, baseUrl } = await sandbox();
    const latest = await raw(baseUrl, 'GET', '/v1.0/users/delta?$select=id,onPremisesDistinguishedName,onPremisesSyncEnabled&$deltatoken=latest');
    const objs = Array.from({ length: 450 }, (_, i) => adUser(`CN=U${i},${SALES}`, i));
    for (const o of objs) sim.upsertFromOnPrem(o, 'connect', 'contoso.com');
    sim.deleteFromOnPrem(objs[0].objectGUID, 'connect');
    let link: string = latest.body['@odata.deltaLink'];
    const pages: any[] = [];
    for (;;) {
      const page = await raw(baseUrl, 'GET', link.slice(baseUrl.length));
      pages.push(page.body);
      if (page.body['@odata.nextLink']) link = page.body['@odata.nextLink'];
      else break;
    }
    expect(pages.map((p) => p.value.length)).toEqual([200, 200, 50]);
    expect(pages[2]['@odata.deltaLink']).toMatch(/\$deltatoken=/);
    const removed = pages.flatMap((p) => p.value).filter((v) => v['@removed']);
    expect(removed).toEqual([{ id: expect.any(String), '@removed': { reason: 'changed' } }]);
    expect(Object.keys(pages[0].value[1]).sort()).toEqual(['id', 'onPremisesDistinguishedName', 'onPremisesSyncEnabled']);

    const index = graph.createSyncedObjectIndex(new InMemoryDeltaStateStore());
    await index.refresh();
    for (const o of objs.slice(1, 451)) sim.upsertFromOnPrem({ ...o, displayName: `${o.displayName} (renamed)` }, 'connect', 'contoso.com');
    const r = await index.refresh();
    expect(r).toEqual({ mode: 'delta', requests: 3, changes: 449, total: 449 });
    expect(index.objectsUnder(SALES).every((u) => u.displayName?.endsWith('(renamed)'))).toBe(true);
  });

  it('one Entra object per AD object whichever engine exports it, and the engine is tracked', async () => {
    const { sim } = await sandbox();
    const o = adUser(`CN=A,${SALES}`, 1);
    sim.upsertFromOnPrem(o, 'connect', 'contoso.com');
    sim.upsertFromOnPrem({ ...o, displayName: 'A (cloud)' }, 'cloud', 'contoso.com');
    expect(sim.summary().users).toBe(1);
    expect(sim.exportedBy(o.objectGUID)).toBe('cloud');
    sim.deleteFromOnPrem(o.objectGUID, 'connect'); // Connect no longer owns it
    expect(sim.summary().users).toBe(1);
    sim.deleteFromOnPrem(o.objectGUID, 'cloud');
    expect(sim.summary().users).toBe(0);
  });
});
