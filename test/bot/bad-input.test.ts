import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, PILOT_OU, cardText } from '../helpers/harness.js';

/** Bad input gets a clear error and changes nothing; the process keeps serving. */
describe('bad input', () => {
  let h: Harness;
  let migrationId = '';

  /** Everything a click could change, to compare before and after. */
  async function snapshot() {
    const db = h.app.db;
    const q = async (sql: string) => JSON.stringify((await db.query(sql)).rows);
    return [
      await q('SELECT id, state, version FROM migrations ORDER BY id'),
      await q('SELECT migration_id, seq, state, version, attempt FROM steps ORDER BY migration_id, seq'),
      await q('SELECT count(*)::int AS n FROM approvals'),
      await q('SELECT count(*)::int AS n FROM audit'),
      await q('SELECT count(*)::int AS n FROM runner_jobs'),
    ].join('\n');
  }

  beforeAll(async () => {
    h = await Harness.start();
    await h.say(USERS.alex, `new migration "Pilot" domain=contoso.com ou="${PILOT_OU}" owners=${USERS.megan.aadObjectId}`);
    migrationId = (await h.app.engine.listMigrations())[0].id;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers 400 to malformed activities and keeps serving', async () => {
    const before = await snapshot();
    const cases: unknown[] = [
      '{not json',
      '[]',
      '"a string"',
      {},
      { type: 'message' },
      { type: 'message', conversation: { id: 'c' } },
      { type: 'message', conversation: { id: 'c' }, serviceUrl: 'javascript:alert(1)' },
      { type: 42, conversation: { id: 'c' }, serviceUrl: 'http://127.0.0.1:1' },
      h.activity(USERS.alex, { type: 'message', text: { nested: 'object' } }),
      h.activity(USERS.alex, { type: 'invoke' }),
      h.activity(USERS.alex, { type: 'message', from: 'not-an-object' }),
    ];
    for (const c of cases) {
      const r = await h.post(c);
      expect(r.status, JSON.stringify(c).slice(0, 80)).toBe(400);
    }
    expect(await snapshot()).toBe(before);
    expect((await fetch(`${h.app.url}/healthz`)).status).toBe(200);
  });

  it('refuses an oversized activity and keeps serving', async () => {
    const before = await snapshot();
    const r = await h.post(h.activity(USERS.alex, { type: 'message', text: 'x'.repeat(600_000) }));
    expect([400, 413]).toContain(r.status);
    expect(await snapshot()).toBe(before);
    const ok = await h.say(USERS.alex, 'help');
    expect(ok.status).toBe(200);
  });

  it('answers a click on a migration or step that does not exist with a clear card, changing nothing', async () => {
    const before = await snapshot();
    const none = await h.click(USERS.megan, 'step.approve', { m: 'no-such-migration', s: 1, v: 0, a: 1 });
    expect(none.status).toBe(200);
    expect(cardText(none.card)).toContain('does not exist');
    const noStep = await h.click(USERS.megan, 'step.approve', { m: migrationId, s: 999, v: 0, a: 1 });
    expect(cardText(noStep.card)).toContain('does not exist');
    expect(await snapshot()).toBe(before);
  });

  it('answers tampered card data with an error card, changing nothing', async () => {
    const before = await snapshot();
    for (const data of [
      { m: migrationId, s: 'one', v: 0 },
      { m: migrationId },
      { m: { $ne: 1 }, s: 1, v: 0 },
      { m: migrationId, s: 1, v: -5 },
      { m: 'x'.repeat(500), s: 1, v: 0 },
      null,
    ]) {
      const r = await h.click(USERS.megan, 'step.request', data as any);
      expect(r.status).toBe(200);
      expect(cardText(r.card)).toMatch(/not valid|does not exist/);
    }
    const unknownVerb = await h.click(USERS.megan, 'step.delete-everything', { m: migrationId, s: 1, v: 0 });
    expect(cardText(unknownVerb.card)).toContain('not one cutover knows');
    expect(await snapshot()).toBe(before);
  });

  it('answers a stale card with the current card and makes no second transition', async () => {
    const v0 = await h.stepData(migrationId, 1);
    const first = await h.click(USERS.alex, 'step.request', v0);
    expect(first.status).toBe(200);
    await h.waitForStep(migrationId, 1, ['succeeded']);
    const before = await snapshot();
    // The same click again (a double click or a replayed invoke) carries the old version.
    const replay = await h.click(USERS.alex, 'step.request', v0);
    expect(cardText(replay.card)).toContain('out of date');
    expect(cardText(replay.card)).toContain('Done');
    expect(await snapshot()).toBe(before);
  });

  it('rejects a command with an invalid DN or owner with a reason, creating nothing', async () => {
    const before = await snapshot();
    const bad = [
      `new migration "X" domain=contoso.com ou="OU=a;DC=b" owners=${USERS.megan.aadObjectId}`,
      `new migration "X" domain=contoso.com ou="OU=Pilot,DC=fabrikam,DC=com" owners=${USERS.megan.aadObjectId}`,
      `new migration "X" domain=contoso.com ou="${PILOT_OU}" owners=megan`,
      `new migration "X" domain=contoso.com ou="${PILOT_OU}" owners=${USERS.megan.aadObjectId} approvals=3`,
      `new migration "X'; DROP TABLE migrations; --" domain=contoso.com ou="CN=x\\0a,DC=contoso,DC=com" owners=${USERS.megan.aadObjectId}`,
    ];
    for (const text of bad) {
      const n = h.connector.sent.length;
      await h.say(USERS.alex, text);
      const reply = await h.connector.waitFor(() => h.connector.sent.slice(n)[0]);
      expect(cardText(reply.activity), text).toMatch(/not|required|only/i);
    }
    expect(await snapshot()).toBe(before);
  });
});
