import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY } from '../../src/clock.js';
import { ReportLinks } from '../../src/reports/links.js';
import { Harness, USERS, PILOT_OU, cardText } from '../helpers/harness.js';

const DOWNLOAD = 'Download the assessment report (CSV)';

/** The URL of the card's Action.OpenUrl with this title. */
function openUrl(card: any, title: string): string | undefined {
  let url: string | undefined;
  const walk = (n: any) => {
    if (!n || typeof n !== 'object' || url) return;
    if (Array.isArray(n)) return n.forEach(walk);
    if (n.type === 'Action.OpenUrl' && n.title === title) url = n.url;
    for (const v of Object.values(n)) if (typeof v === 'object') walk(v);
  };
  walk(card);
  return url;
}

/** RFC 4180, enough for the report: quoted cells with "" and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

/** Every row of every table: what a refused request must leave as it was. */
async function storeSnapshot(h: Harness): Promise<string> {
  const tables = (
    await h.app.db.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
    )
  ).rows.map((r: any) => r.table_name as string);
  const out: Record<string, unknown[]> = {};
  for (const t of tables) out[t] = (await h.app.db.query(`SELECT * FROM "${t}"`)).rows.map((r) => JSON.stringify(r)).sort();
  return JSON.stringify(out);
}

describe('the assessment report: downloadable from the assessment card through a signed, expiring link', () => {
  let h: Harness;
  let m = '';
  let card: any;
  let link = '';
  let fresh = '';

  beforeAll(async () => {
    h = await Harness.start();
    m = await h.newPilot('Assessed');
    fresh = await h.newPilot('Not assessed', '', 'OU=Sales,DC=contoso,DC=com');
    // its current step's card is posted long before the refusals below look at the store
    await h.postedCard(fresh, 1);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('offers no download before the assessment has run', async () => {
    const seq = await h.seqOf(m, 'assessment');
    const before = await h.click(USERS.alex, 'card.refresh', await h.stepData(m, seq));
    expect(openUrl(before.card, DOWNLOAD)).toBeUndefined();
  });

  it('puts a download button on the assessment card once it has run', async () => {
    const seq = await h.seqOf(m, 'assessment');
    await h.advance(m, seq, seq);
    card = (await h.click(USERS.lee, 'card.refresh', await h.stepData(m, seq))).card;
    link = openUrl(card, DOWNLOAD)!;
    expect(link).toMatch(new RegExp(`^${h.app.url}/api/reports/assessments/${m}\\.csv\\?exp=\\d+&sig=[\\w-]{43}$`));
    // the card the channel got was updated in place with the same button
    const posted = h.connector.sent.filter((s) => s.method === 'PUT' && cardText(s.activity).includes('Assess the forest for Cloud Sync')).pop();
    expect(openUrl(posted?.activity, DOWNLOAD)).toBe(link);
  });

  it('serves every finding as a CSV row, the same as the card shows, each with its evidence', async () => {
    const res = await fetch(link);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toContain(`cutover-${m}.csv`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const lines = parseCsv((await res.text()).replace(/^\uFEFF/, ''));
    const head = lines.filter((l) => l[0].startsWith('#')).map((l) => l.join(','));
    expect(head.join('\n')).toContain(`migration Assessed (${m}) · domain contoso.com`);
    const table = lines.filter((l) => !l[0].startsWith('#'));
    expect(table[0]).toEqual(['area', 'check', 'status', 'result', 'limit', 'evidence']);
    const rows = table.slice(1).map(([area, check, status, result, limit, evidence]) => ({ area, check, status, result, limit, evidence }));

    // one row per finding on the card, with the same words
    const text = cardText(card);
    const icon: Record<string, string> = { ok: '✅', limit: '⚠', blocker: '⛔', 'human check': '☐' };
    // the recommendation first, in normal text, right under the card's header; then one fact per other finding
    const cardLines = text.split('\n');
    const recommendation = rows.find((r) => r.area === 'Recommendation')!;
    expect(cardLines.slice(3, 5)).toEqual(['Recommendation', recommendation.result]);
    for (const r of rows.filter((x) => x !== recommendation)) {
      expect(text, r.check).toContain(r.check);
      expect(text, r.check).toContain(`${icon[r.status]} ${r.result}`);
      expect(r.evidence, r.check).not.toBe('');
    }
    // and no finding on the card that the CSV lacks (long values are shown below the fact set; the step's warning and state are no findings)
    const shown = cardLines.filter((l) => /^(✅|⚠|⛔|☐) /.test(l) && !l.startsWith('⚠ If you depend') && l !== '✅ Done');
    expect(shown).toHaveLength(rows.length - 1);
    // documents are named by their titles, on the card and in the report: never by seed number
    expect(text).not.toMatch(/\bseeds? \d{3}/);
    expect(rows.map((r) => `${r.result} ${r.evidence}`).join(' ')).not.toMatch(/\bseeds? \d{3}/);

    // the checks the issue names, with the sandbox forest's own numbers
    const row = (check: string) => rows.find((r) => r.check === check)!;
    const ad = h.app.tenant!.forest.ad.all();
    const objects = row('Objects in contoso.com');
    expect(objects).toMatchObject({ area: 'Object counts', status: 'ok', limit: '150,000 objects per domain' });
    expect(objects.result).toContain(
      `${ad.length.toLocaleString('en-US')} (users ${ad.filter((o) => o.objectClass === 'user' || o.objectClass === 'inetOrgPerson').length.toLocaleString('en-US')}`,
    );
    expect(row('Groups over 50,000 members')).toMatchObject({ status: 'ok', result: 'none', limit: '50,000 members per group' });
    expect(row('Groups over 50,000 members').evidence).toMatch(/^largest groups: CN=/);
    // Get-ADSyncExportDeletionThreshold needs -AADUserName and an interactive sign-in: a person reads it, cutover does not call it
    expect(row('Export deletion threshold')).toMatchObject({ area: 'Connect Sync', status: 'human check' });
    expect(row('Export deletion threshold').evidence).toContain('-AADUserName is mandatory');
    // what the tenant uses moves to Cloud Sync, and only that
    expect(row('Password hash sync')).toMatchObject({ area: 'Connect Sync', result: expect.stringContaining('in use') });
    expect(row('Password writeback').result).toBe('not in use');
    expect(row('Exchange hybrid writeback').result).toBe('not in use');
    expect(row('Group writeback v2')).toMatchObject({ area: 'Parity gaps', status: 'limit' });
    for (const gap of [
      'Device writeback',
      'Advanced (custom) sync rules',
      'Attribute-based filtering',
      'Cross-forest references',
      'Pass-through authentication and AD FS',
    ])
      expect(row(gap)?.area, gap).toBe('Parity gaps');
    for (const pre of [
      'Cloud Sync provisioning agents',
      'Agent version',
      'Groups without ms-DS-ConsistencyGuid',
      'Source anchor',
      'Windows Server and AD schema for group scenarios',
    ])
      expect(row(pre)?.area, pre).toBe('Prerequisites');
    const rec = row('Recommendation');
    expect(rec.result).toBe(`partially (coexistence): migrate the OUs that only need basic sync (${PILOT_OU}) and keep the rest on Connect Sync`);
    expect(rec.evidence).toContain('Group writeback v2: in use');
  });

  it('serves the same findings as JSON with the same signature', async () => {
    const res = await fetch(link.replace(`${m}.csv`, `${m}.json`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = await res.json();
    expect(body.migration).toMatchObject({ id: m, name: 'Assessed', domain: 'contoso.com', ous: [PILOT_OU] });
    expect(body.verdict).toBe('partially');
    const csv = parseCsv((await (await fetch(link)).text()).replace(/^\uFEFF/, ''))
      .filter((l) => !l[0].startsWith('#'))
      .slice(1);
    expect(body.findings.map((f: any) => [f.area, f.check, f.status, f.result, f.limit ?? '', f.evidence])).toEqual(csv);
  });

  it("refuses a tampered signature, another migration's link, an unknown id and an expired link, and changes nothing", async () => {
    const before = await storeSnapshot(h);
    const tampered = link.replace(/sig=./, (s) => (s.endsWith('A') ? 'sig=B' : 'sig=A'));
    expect((await fetch(tampered)).status).toBe(403);
    expect((await fetch(link.replace(/&sig=.*$/, ''))).status).toBe(403);
    expect((await fetch(link.replace(/exp=\d+/, (e) => `exp=${Number(e.slice(4)) + 86_400}`))).status).toBe(403);
    // the link of an alert report (no kind in its signature) does not open an assessment
    const links = await ReportLinks.open(h.app.db, h.clock);
    const alertSigned = new URL(links.url(h.app.url, 'alerts', m, h.clock.now()));
    expect((await fetch(`${h.app.url}/api/reports/assessments/${m}.csv${alertSigned.search}`)).status).toBe(403);

    // unknown: a name that is no migration id, a validly signed id of no migration, a migration not assessed yet
    expect((await fetch(`${h.app.url}/api/reports/assessments/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
    expect((await fetch(`${h.app.url}/api/reports/assessments/${m}.xlsx${new URL(link).search}`)).status).toBe(404);
    const unknown = await fetch(links.url(h.app.url, 'assessments', 'no-such-migration-0000', h.clock.now()));
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(await unknown.json())).toContain('No assessment has run');
    expect((await fetch(links.url(h.app.url, 'assessments', fresh, h.clock.now()))).status).toBe(404);

    // expired: 14 days (rounded up to the day) after it was issued
    h.clock.advance(15 * DAY);
    const expired = await fetch(link);
    expect(expired.status).toBe(403);
    expect(JSON.stringify(await expired.json())).toContain('expired');
    expect(await storeSnapshot(h)).toBe(before);

    // the card's Refresh gives a fresh link that works
    const seq = await h.seqOf(m, 'assessment');
    const renewed = openUrl((await h.click(USERS.alex, 'card.refresh', await h.stepData(m, seq))).card, DOWNLOAD)!;
    expect(renewed).not.toBe(link);
    expect((await fetch(renewed)).status).toBe(200);
  });
});
