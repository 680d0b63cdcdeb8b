import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, PILOT_OU, cardText, buttons } from '../helpers/harness.js';
import { openPglite, type Db } from '../../src/store/db.js';
import { immutableIdOf } from '../../src/sandbox/contracts.js';
import { reportLink, runCloudSync, startProcess } from './helpers.js';

/**
 * The reconciliation check in the running service: AD and Entra changed behind its back with the sandbox's
 * models and faults, the alert card in the channel (once per incident, updated in place), the CSV behind its
 * link, and a restart on the same database and tenant.
 */
describe('per-OU reconciliation alerts', () => {
  let db: Db;
  let h: Harness;
  let migrationId = '';
  const reconcileAlert = async () => {
    const all = (await h.app.alerts.list({ openOnly: false, migrationId })).filter((a) => a.check === 'ou-count');
    return all.find((a) => a.state !== 'resolved') ?? all.pop();
  };
  const postsOf = (activityId: string) => h.connector.sent.filter((s) => s.activityId === activityId);
  const ad = () => h.app.tenant!.forest.ad;
  const entra = () => h.app.tenant!.graph.directory;
  const pilotUsers = () =>
    ad()
      .objectsUnder([PILOT_OU], ['user'])
      .sort((a, b) => a.dn.localeCompare(b.dn));

  async function cycle(): Promise<any> {
    h.clock.advance(2 * 60_000); // the default schedule: every 2 minutes
    const r = await h.monitorRun();
    expect(r.errors).toEqual([]);
    return r;
  }
  async function openCard(): Promise<{ alert: any; card: any }> {
    const alert = (await reconcileAlert())!;
    expect(alert?.state).toBe('open');
    const post = await h.connector.waitFor(
      () =>
        (alert.activityId ? h.connector.messages.get(alert.activityId) : undefined) ||
        h.connector.sent.find((s) => cardText(s.activity).includes(alert.id))?.activity,
      30_000,
      'the reconciliation card',
    );
    const fresh = (await h.app.alerts.get(alert.id))!;
    return { alert: fresh, card: h.connector.messages.get(fresh.activityId!) ?? post };
  }
  beforeAll(async () => {
    db = await openPglite(null);
    h = await startProcess({ db });
    migrationId = await h.newPilot();
    await runCloudSync(h, migrationId); // Cloud Sync configured and enabled, but it has not run a cycle: no steady state yet
  }, 240_000);
  afterAll(async () => {
    await h?.app.stop();
    await h?.app.tenant?.stop();
    await h?.connector.stop();
    await db?.close();
  });

  it('during initial sync, alerts only when a difference persisted 3 consecutive cycles, with counts and the objects on the card', async () => {
    const jobs = h.app.tenant!.graph.summary().jobs.filter((j) => j.templateId === 'AD2AADProvisioning');
    expect(jobs).toHaveLength(1);
    const u = pilotUsers()[3];
    ad().update(u.objectGUID, { displayName: 'Renamed On-Prem' }); // Cloud Sync has not exported it yet
    for (let i = 1; i <= 2; i++) {
      const r = await cycle();
      const f = r.findings.filter((x: any) => x.check === 'ou-count');
      expect(f).toEqual([expect.objectContaining({ scope: PILOT_OU, alerted: false })]);
      expect(await reconcileAlert()).toBeUndefined();
    }
    await cycle();
    const { alert, card } = await openCard();
    const text = cardText(card);
    expect(alert.title).toBe(`Reconciliation differences in ${PILOT_OU}`);
    expect(text).toContain('Attribute drift: 1');
    expect(text).toContain(`${u.dn}: displayName "Renamed On-Prem" → Entra "${u.displayName}"`);
    for (const fact of [
      'Missing in Entra ID',
      'In Entra ID, not on-premises',
      'Duplicates (same UPN, mail or immutable id)',
      'Immutable id mismatch (hard-match risk)',
    ])
      expect(text).toContain(fact);
    expect(text).toContain('3+ consecutive checks');
    expect(buttons(card)).toContain('Acknowledge');
  });

  it('serves the full report as CSV from the card link, and refuses a tampered or expired link', async () => {
    const { alert, card } = await openCard();
    const link = reportLink(card)!;
    expect(link).toMatch(new RegExp(`^${h.app.url}/api/reports/alerts/${alert.id}\\.csv\\?exp=\\d+&sig=[\\w-]{43}$`));
    const res = await fetch(link);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toContain(`cutover-${alert.id}.csv`);
    const csv = await res.text();
    expect(csv).toContain('list,attribute,value,side,onPremDn');
    expect(csv).toMatch(/\r\ndrift,displayName,,both,/);
    expect(csv).toContain('Renamed On-Prem');
    const tampered = link.replace(/sig=./, (s) => (s.endsWith('A') ? 'sig=B' : 'sig=A'));
    expect((await fetch(tampered)).status).toBe(403);
    expect((await fetch(link.replace(/exp=\d+/, (e) => `exp=${Number(e.slice(4)) + 86_400}`))).status).toBe(403);
    expect((await fetch(link.replace(`${alert.id}.csv`, 'al-0000000000-1.csv'))).status).toBe(403);
    expect((await fetch(`${h.app.url}/api/reports/alerts/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
    h.clock.advance(15 * 24 * 3_600_000);
    const expired = await fetch(link);
    expect(expired.status).toBe(403);
    expect(JSON.stringify(await expired.json())).toContain('Refresh');
    h.clock.advance(-15 * 24 * 3_600_000);
  });

  it('posts one card per incident: more cycles with the same differences change nothing in the channel', async () => {
    const { alert } = await openCard();
    const before = postsOf(alert.activityId).length;
    const version = alert.version;
    for (let i = 0; i < 3; i++) await cycle();
    expect(postsOf(alert.activityId)).toHaveLength(before); // no new post, no update
    expect((await h.app.alerts.get(alert.id))!.version).toBe(version);
    expect((await h.app.alerts.list({ openOnly: true, migrationId })).filter((a) => a.check === 'ou-count')).toHaveLength(1);
  });

  it('resolves when Cloud Sync exports the change, updating the same card', async () => {
    const { alert } = await openCard();
    h.app.tenant!.tick();
    await cycle();
    expect((await h.app.alerts.get(alert.id))!.state).toBe('resolved');
    await h.connector.waitFor(() => cardText(h.connector.messages.get(alert.activityId)).includes('Resolved') || undefined, 30_000, 'the resolved card');
    h.app.tenant!.tick(); // a cycle with nothing to export: steady state
    const job = h.app.tenant!.graph.summary().jobs.find((j) => j.templateId === 'AD2AADProvisioning')!;
    expect(job.status).toBe('Active');
  });

  it('after steady state alerts at once: an Entra user no AD object backs, and an immutable id that does not match (hard-match risk)', async () => {
    const [a, b] = pilotUsers();
    const ghostId = entra().create('user', {
      displayName: 'Ghost User',
      userPrincipalName: 'ghost@contoso.com',
      mail: null,
      proxyAddresses: [],
      onPremisesSyncEnabled: true,
      onPremisesImmutableId: immutableIdOf(randomUUID()),
      onPremisesDistinguishedName: `CN=Ghost User,${PILOT_OU}`,
      onPremisesSamAccountName: 'ghost',
    }).id;
    const eb = entra().objects.get(entra().byGuid.get(b.objectGUID)!)!;
    const wrong = randomUUID();
    entra().update(eb, { onPremisesImmutableId: immutableIdOf(wrong) });
    await cycle();
    const { alert, card } = await openCard();
    const text = cardText(card);
    expect(text).toContain('In Entra ID, not on-premises: 1');
    expect(text).toContain(`CN=Ghost User,${PILOT_OU} · ghost@contoso.com · Entra id ${ghostId}`);
    expect(text).toContain('Immutable id mismatch (hard-match risk): 1');
    expect(text).toContain(
      `${b.dn}: expected ${immutableIdOf(b.consistencyGuid ?? b.objectGUID)}, Entra has ${immutableIdOf(wrong)} (matched by distinguishedName)`,
    );
    expect(text).toContain('job in steady state');
    expect(alert.title).toBe(`User count mismatch in ${PILOT_OU}`); // 40 in AD, 41 in Entra
    const csv = await (await fetch(reportLink(card)!)).text();
    expect(csv).toContain(`decodes to GUID ${wrong}`);
    void a;
  });

  it('updates the open card in place when the differences change (duplicates: the same UPN on two AD users)', async () => {
    const { alert } = await openCard();
    const posts = postsOf(alert.activityId).length;
    const [a] = pilotUsers();
    const dup = ad().add({
      cn: 'Dup User',
      parentDn: PILOT_OU,
      objectClass: 'user',
      displayName: 'Dup User',
      samAccountName: 'dupuser',
      userPrincipalName: a.userPrincipalName,
      mail: 'dupuser@contoso.com',
      proxyAddresses: ['SMTP:dupuser@contoso.com'],
    });
    h.app.tenant!.tick(); // Cloud Sync exports it (and heals the immutable id it owns)
    await cycle();
    const now = (await h.app.alerts.get(alert.id))!;
    expect(now.state).toBe('open');
    const card = await h.connector.waitFor(
      () => {
        const c = h.connector.messages.get(alert.activityId);
        return cardText(c).includes('Duplicates (same UPN, mail or immutable id): 1') ? c : undefined;
      },
      30_000,
      'the updated card',
    );
    expect(cardText(card)).toContain(`userPrincipalName ${a.userPrincipalName!.toLowerCase()}: AD ${a.dn} | AD ${dup.dn}`);
    expect(cardText(card)).not.toContain('Immutable id mismatch (hard-match risk): 1');
    expect(postsOf(alert.activityId).filter((s) => s.method === 'POST')).toHaveLength(1);
    expect(postsOf(alert.activityId).length).toBeGreaterThan(posts); // a PUT
  });

  it('after a restart on the same database: no second card, the report link still works, and the fix resolves the same card', async () => {
    const { alert, card } = await openCard();
    const link = reportLink(card)!;
    const tenant = h.app.tenant!;
    const connector = h.connector;
    const clock = h.clock;
    await h.app.stop();
    h = await startProcess({ db, tenant, connector, clock });
    const sent = connector.sent.length;
    await cycle();
    await cycle();
    const same = (await h.app.alerts.list({ openOnly: true, migrationId })).filter((a) => a.check === 'ou-count');
    expect(same.map((a) => a.id)).toEqual([alert.id]);
    expect(connector.sent.slice(sent).filter((s) => s.method === 'POST')).toEqual([]);
    // Same signing secret (it is in the store): the old link, on the new process's address, still serves the report.
    const moved = new URL(link);
    const res = await fetch(`${h.app.url}${moved.pathname}${moved.search}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`CN=Dup User,${PILOT_OU}`);
    // Fix everything: the duplicate UPN, the ghost.
    const dup = ad().getByDn(`CN=Dup User,${PILOT_OU}`)!;
    ad().update(dup.objectGUID, { userPrincipalName: 'dupuser@contoso.com' });
    for (const o of [...entra().objects.values()]) if (o.props.displayName === 'Ghost User') entra().remove(o.id, 'deleted');
    tenant.tick();
    await cycle();
    expect((await h.app.alerts.get(alert.id))!.state).toBe('resolved');
    await h.connector.waitFor(() => cardText(connector.messages.get(alert.activityId)).includes('Resolved') || undefined, 30_000, 'the resolved card');
    expect(connector.sent.slice(sent).filter((s) => s.method === 'POST' && s.activity.attachments)).toEqual([]);
  });
});
