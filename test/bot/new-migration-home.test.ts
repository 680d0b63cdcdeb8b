import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Harness, USERS, CHANNEL, cardText, type TestUser } from '../helpers/harness.js';

/**
 * Issue 17: a migration has a home. `new migration` starts a new top-level post in the channel (its overview), and is
 * answered at once: when the checks are slow (Graph far away), the answer says it is checking and is replaced by the
 * result when they are done — from the one-line command and from the form.
 */
describe('new migration: its own thread, answered at once', () => {
  let h: Harness;
  const owners = `${USERS.alex.aadObjectId},${USERS.megan.aadObjectId}`;

  beforeAll(async () => {
    // Checks slower than the time a request is answered within: Graph answers every request 150 ms late.
    h = await Harness.start({ build: { answerNewMigrationWithinMs: 50 } });
    h.app.tenant!.graph.setLatency(150);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const postsFrom = (n: number) => h.connector.sent.slice(n);
  const latest = (id: string) => cardText(h.connector.messages.get(id));

  it('the command is answered with "Creating…", which becomes the result; the migration is a new top-level post listing its steps', async () => {
    const ou = h.ou('Home One', 2);
    const n = h.connector.sent.length;
    await h.say(USERS.alex, `new migration "Home One" domain=contoso.com ou="${ou}" owners=${owners}`);
    // the turn is over: the answer is in the command's thread, and nothing exists yet
    const answer = postsFrom(n).find((s) => s.method === 'POST' && !s.topLevel)!;
    expect(cardText(answer.activity)).toContain('Creating "Home One"…');
    expect(answer.conversationId).toBe(CHANNEL);
    // then the checks finish: the same message says it was created, and where
    await h.connector.waitFor(() => latest(answer.activityId).includes('Migration "Home One" created') || undefined, 20_000, 'the answer updated');
    expect(latest(answer.activityId)).toContain('its own thread in this channel');
    const m = (await h.app.engine.findMigration('Home One'))!;
    const top = h.connector.sent.find((s) => s.topLevel && s.conversationId === m.conversationId)!;
    expect(top).toBeDefined();
    expect(cardText(top.activity)).toContain('0 of 20 steps done');
    expect(cardText(top.activity)).toContain('Start the Connect Sync scheduler'); // every step is listed
    expect(m.overviewActivityId).toBe(top.activityId);
    // the first step's card is in the migration's thread, and only it
    const first = await h.postedCard(m.id, 1);
    expect(h.connector.sent.filter((s) => s.conversationId === m.conversationId && s.method === 'POST' && !s.topLevel).map((s) => s.activityId)).toEqual([
      first,
    ]);
  });

  it('a command refused by a slow check: "Creating…" becomes the reason, and nothing is created', async () => {
    const disabled = h.app.tenant!.graph.addCloudUser('slow-gone@contoso.com', 'Slow Gone', randomUUID(), { accountEnabled: false });
    const ou = h.ou('Home Two');
    const n = h.connector.sent.length;
    await h.say(USERS.alex, `new migration "Home Two" domain=contoso.com ou="${ou}" owners=${USERS.megan.aadObjectId},${disabled}`);
    const answer = postsFrom(n).find((s) => s.method === 'POST')!;
    expect(cardText(answer.activity)).toContain('Creating "Home Two"…');
    await h.connector.waitFor(() => latest(answer.activityId).includes('Migration not created') || undefined, 20_000, 'the refusal');
    expect(latest(answer.activityId)).toContain('has a disabled account');
    expect(await h.app.engine.findMigration('Home Two')).toBeNull();
    expect(postsFrom(n).some((s) => s.topLevel)).toBe(false);
  });

  async function submit(who: TestUser, form: Record<string, string>, formMessage: string) {
    return h.click(who, 'migration.create', form, formMessage);
  }

  it('the form is answered with "Creating…"; its message then says where the migration is, or comes back with the reason', async () => {
    const ou = h.ou('Home Three', 1);
    const form = {
      kind: 'connect-to-cloud-sync',
      name: 'Home Three',
      domain: 'contoso.com',
      ou,
      ownerChoices: USERS.megan.aadObjectId,
      owners: '',
      approvals: '1',
    };
    // the form was posted by the bot; the click comes from that message
    const formMessage = h.connector.sent.at(-1)!.activityId;
    const r = await submit(USERS.alex, form, formMessage);
    expect(cardText(r.card)).toContain('Creating "Home Three"…');
    await h.connector.waitFor(
      () =>
        h.connector.sent.some((s) => s.method === 'PUT' && s.activityId === formMessage && cardText(s.activity).includes('Migration "Home Three" created'))
          ? true
          : undefined,
      20_000,
      'the form message updated',
    );
    const m = (await h.app.engine.findMigration('Home Three'))!;
    expect(m.conversationId).toMatch(new RegExp(`^${CHANNEL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')};messageid=`));

    const bad = await submit(USERS.alex, { ...form, name: 'Home Four', ou: 'OU=Nowhere,DC=contoso,DC=com' }, formMessage);
    expect(cardText(bad.card)).toContain('Creating "Home Four"…');
    const back = await h.connector.waitFor(
      () => h.connector.sent.find((s) => s.method === 'PUT' && s.activityId === formMessage && cardText(s.activity).includes('OU=Nowhere')),
      20_000,
      'the form back with the reason',
    );
    // the form again, with what was typed and the reason
    expect(JSON.stringify(back.activity)).toContain('Input.Text');
    expect(cardText(back.activity)).toMatch(/Nowhere/);
    expect(await h.app.engine.findMigration('Home Four')).toBeNull();
  });
});
