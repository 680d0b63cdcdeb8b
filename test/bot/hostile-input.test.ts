import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, PILOT_OU, CHANNEL, cardText } from '../helpers/harness.js';
import { validateNewMigration } from '../../src/runbooks/new-migration.js';

/** Issue 16, item 6: what a hostile channel member or another tenant can learn or plant through /api/messages. */
describe('hostile input through /api/messages', () => {
  let h: Harness;
  let migrationId = '';
  const OTHER_TENANT = '3c1d5e7a-9b2f-4c8d-a6e0-5f4b2d8c9e11';

  async function snapshot() {
    const q = async (sql: string) => JSON.stringify((await h.app.db.query(sql)).rows);
    return [
      await q('SELECT id, name, tenant_id, state, version FROM migrations ORDER BY id'),
      await q('SELECT migration_id, seq, state, version, attempt FROM steps ORDER BY migration_id, seq'),
      await q('SELECT count(*)::int AS n FROM approvals'),
      await q('SELECT count(*)::int AS n FROM audit'),
    ].join('\n');
  }

  /** Says something and returns the text of the bot's answer (the card that matches, or the first one). */
  async function ask(harness: Harness, text: string, match?: RegExp): Promise<string> {
    const n = h.connector.sent.length;
    await harness.say(USERS.alex, text);
    const reply = await h.connector.waitFor(
      () => h.connector.sent.slice(n).find((s) => !match || match.test(cardText(s.activity))) ?? (match ? undefined : h.connector.sent[n]),
    );
    return cardText(reply.activity);
  }

  beforeAll(async () => {
    h = await Harness.start();
    await h.say(USERS.alex, `new migration "Pilot" domain=contoso.com ou="${PILOT_OU}" owners=${USERS.megan.aadObjectId}`);
    migrationId = (await h.app.engine.listMigrations())[0].id;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("a click on another tenant's migration id reads exactly as an unknown id", async () => {
    const before = await snapshot();
    const other = h.in({ tenantId: OTHER_TENANT });
    const theirs = await other.click(USERS.megan, 'step.approve', { m: migrationId, s: 1, v: 0, a: 1 });
    const unknown = await other.click(USERS.megan, 'step.approve', { m: 'pilot-0000', s: 1, v: 0, a: 1 });
    expect(theirs.status).toBe(200);
    expect(cardText(theirs.card)).not.toMatch(/tenant/i);
    expect(cardText(theirs.card).replace(migrationId, 'ID')).toBe(cardText(unknown.card).replace('pilot-0000', 'ID'));
    expect(await snapshot()).toBe(before);
  });

  it("the new-migration name clash is scoped to the tenant; a tenant cutover does not manage is told so, not another tenant's clash", async () => {
    // Same conversation id, another tenant (one cutover holds no Graph credentials for): a clear answer, never
    // "already exists" (which would confirm another tenant's migration name), and nothing is created.
    const before = await snapshot();
    const n = h.connector.sent.length;
    await h.in({ tenantId: OTHER_TENANT }).say(USERS.alex, `new migration "Pilot" domain=contoso.com ou="${PILOT_OU}" owners=${USERS.megan.aadObjectId}`);
    const answer = (await h.connector.waitFor(() => h.connector.sent.slice(n).find((x) => cardText(x.activity).includes('Migration not created')))).activity;
    expect(cardText(answer)).toContain(`cutover does not manage this Microsoft Entra tenant (${OTHER_TENANT})`);
    expect(cardText(answer)).not.toContain('already exists');
    expect(await snapshot()).toBe(before);
    // In its own tenant the clash still holds.
    expect(await ask(h, `new migration "pilot" domain=contoso.com ou="${PILOT_OU}" owners=${USERS.megan.aadObjectId}`, /already exists/)).toContain(
      'already exists',
    );
  });

  it('names and comments with control, bidirectional-override or separator characters are refused with a reason', async () => {
    const before = await snapshot();
    for (const [name, reason] of [
      ['Pilot\u202Efdp.exe', /bidirectional-override.*U\+202E/],
      ['Pilot\u2066x\u2069', /bidirectional-override.*U\+2066/],
      ['Pilot\u0007bell', /control characters.*U\+0007/],
    ] as const) {
      expect(
        await ask(h, `new migration "${name}" domain=contoso.com ou="${PILOT_OU}" owners=${USERS.megan.aadObjectId}`, /may not contain/),
        JSON.stringify(name),
      ).toMatch(reason);
    }
    // A chat message folds U+2028 into a space before parsing; the form (and anything else) meets the same validator.
    expect(
      validateNewMigration({
        name: 'Pilot\u2028two lines',
        kind: 'connect-to-cloud-sync',
        domain: 'contoso.com',
        ous: [PILOT_OU],
        owners: [USERS.megan.aadObjectId],
      }),
    ).toMatchObject({ ok: false, error: expect.stringMatching(/line or paragraph separators: U\+2028/) });
    const data = await h.stepData(migrationId, 1);
    const r = await h.click(USERS.megan, 'step.reject', { ...data, comment: 'looks fine\u202E' });
    expect(cardText(r.card)).toMatch(/The comment may not contain bidirectional-override characters/);
    expect(await snapshot()).toBe(before);
  });

  it('an activity with no tenant id is refused, not mapped to a default tenant', async () => {
    const before = await snapshot();
    const a = h.activity(USERS.alex, { type: 'message', text: 'status' });
    delete a.conversation.tenantId;
    delete a.channelData.tenant;
    const r = await h.post(a);
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('no tenant id');
    expect(await snapshot()).toBe(before);
    expect(CHANNEL).toBe(a.conversation.id);
  });
  it('a Markdown link in a name or a comment renders as text on the bot cards, never as a link', async () => {
    const n = h.connector.sent.length;
    await h.say(
      USERS.alex,
      `new migration "[Approve here](https://evil.example/x)" domain=contoso.com ou="OU=Sales,DC=contoso,DC=com" owners=${USERS.megan.aadObjectId}`,
    );
    const m = (await h.app.engine.listMigrations()).find((x) => x.name.startsWith('[Approve'))!;
    expect(m).toBeDefined();
    await h.connector.waitFor(() => h.connector.sent.slice(n).find((s) => JSON.stringify(s.activity).includes('Approve here')));
    const posted = h.connector.sent.slice(n).map((s) => s.activity);
    // Shown exactly as typed, in plain-text runs (a TextRun is not Markdown in any Teams client): no Markdown element
    // anywhere, no HTML entity, and no link to where the name points.
    const runs = textRuns(posted);
    expect(runs.some((t) => t.includes('[Approve here](https://evil.example/x)'))).toBe(true);
    expect(JSON.stringify(posted)).not.toMatch(/"type":"(TextBlock|FactSet)"|&#\d+;|&lt;|&gt;|&amp;/);
    expect(JSON.stringify(posted)).not.toContain('https://evil.example/x"');
    // A comment on a rejection shows as text too.
    await h.click(USERS.alex, 'step.request', await h.stepData(m.id, 1));
    const r = await h.click(USERS.megan, 'step.reject', { ...(await h.stepData(m.id, 1)), comment: 'see [docs](https://evil.example/y)' });
    expect(JSON.stringify(r.card)).not.toMatch(/"type":"(TextBlock|FactSet)"|&#\d+;|"url":"https:\/\/evil/);
  });
});

/** The text of every TextRun in these cards (or activities carrying them). */
function textRuns(x: unknown): string[] {
  const out: string[] = [];
  const walk = (n: any) => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(walk);
    if (n.type === 'TextRun' && typeof n.text === 'string') out.push(n.text);
    for (const v of Object.values(n)) walk(v);
  };
  walk(x);
  return out;
}
