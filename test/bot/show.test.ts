import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, CHANNEL, cardText, buttons, stepOfCard } from '../helpers/harness.js';

/**
 * Issue 17: people find their way back to a migration's cards. `show MIGRATION [step N]` posts them where it is asked
 * for, with live buttons (the Playground loses a channel on reload; Teams users lose threads too), and `pending` gives
 * each item a button that posts its card.
 */
describe('show and pending: the current cards, where they are asked for', () => {
  let h: Harness;
  let m = '';
  const ELSEWHERE = `${CHANNEL};messageid=elsewhere-1`; // another post of the same channel

  beforeAll(async () => {
    h = await Harness.start();
    m = await h.newPilot('Findable');
  });
  afterAll(async () => {
    await h?.stop();
  });

  const sayIn = async (conversation: string, who: typeof USERS.alex, text: string) => {
    const n = h.connector.sent.length;
    await h.post(
      h.activity(who, {
        type: 'message',
        text,
        conversation: { id: conversation, conversationType: 'channel', tenantId: h.app.tenant!.tenantId, isGroup: true },
      }),
    );
    return n;
  };
  const postsIn = (conversation: string, from: number) => h.connector.sent.slice(from).filter((s) => s.method === 'POST' && s.conversationId === conversation);

  it('show MIGRATION posts its overview and the card of the step in play, in the thread it was asked in', async () => {
    const n = await sayIn(ELSEWHERE, USERS.lee, 'show Findable');
    const posted = await h.connector.waitFor(() => (postsIn(ELSEWHERE, n).length >= 2 ? postsIn(ELSEWHERE, n) : undefined), 10_000, 'the cards');
    expect(cardText(posted[0].activity)).toContain('0 of 20 steps done');
    expect(stepOfCard(posted[1].activity.attachments[0].content)).toEqual({ m, s: 1 });
    // live: the copy's Run button runs the step, and the card in the migration's own thread follows
    const original = await h.postedCard(m, 1);
    expect(buttons(posted[1].activity.attachments[0].content)).toContain('Run');
    const r = await h.click(USERS.alex, 'step.request', await h.stepData(m, 1), posted[1].activityId);
    expect(r.status).toBe(200);
    await h.waitForStep(m, 1, ['succeeded']);
    await h.connector.waitFor(() => cardText(h.connector.messages.get(original)).includes('✅ Done') || undefined, 20_000, 'the original card updated');
  });

  it('show MIGRATION step N posts that one card; a step that does not exist, an unknown migration and a bad number get the reason', async () => {
    let n = await sayIn(ELSEWHERE, USERS.lee, 'show Findable step 4');
    const one = await h.connector.waitFor(() => postsIn(ELSEWHERE, n)[0], 10_000, 'step 4');
    expect(stepOfCard(one.activity.attachments[0].content)).toEqual({ m, s: 4 });
    expect(cardText(one.activity)).toContain('Count the users in the OU');

    n = await sayIn(ELSEWHERE, USERS.lee, 'show Findable step 99');
    expect(cardText((await h.connector.waitFor(() => postsIn(ELSEWHERE, n)[0], 10_000, 'the reason')).activity)).toContain(
      'Findable has no step 99 (its steps are 1 to 20)',
    );
    n = await sayIn(ELSEWHERE, USERS.lee, 'show Nothing Like It');
    expect(cardText((await h.connector.waitFor(() => postsIn(ELSEWHERE, n)[0], 10_000, 'the reason')).activity)).toContain(
      'There is no migration "Nothing Like It" in this channel',
    );
    n = await sayIn(ELSEWHERE, USERS.lee, 'show Findable step four');
    expect(cardText((await h.connector.waitFor(() => postsIn(ELSEWHERE, n)[0], 10_000, 'the reason')).activity)).toContain('"four" is not a step number');
    // another channel does not see it
    n = await sayIn('19:other-team@thread.tacv2', USERS.lee, 'show Findable');
    expect(cardText((await h.connector.waitFor(() => postsIn('19:other-team@thread.tacv2', n)[0], 10_000, 'the reason')).activity)).toContain(
      'There is no migration "Findable"',
    );
  });

  it('pending: each item has a button that posts the step card below the list', async () => {
    const stop = await h.seqOf(m, 'stop-scheduler');
    await h.advance(m, stop - 1, 2);
    await h.click(USERS.alex, 'step.request', await h.stepData(m, stop));
    const n = await sayIn(ELSEWHERE, USERS.megan, 'pending');
    const list = await h.connector.waitFor(() => postsIn(ELSEWHERE, n)[0], 10_000, 'the pending list');
    expect(cardText(list.activity)).toContain(`Findable · step ${stop}: Stop the Connect Sync scheduler`);
    expect(buttons(list.activity.attachments[0].content)).toEqual(['Show its card']);
    const k = h.connector.sent.length;
    const r = await h.click(USERS.megan, 'step.show', { m, s: stop }, list.activityId);
    expect(cardText(r.card)).toContain(`The card of Findable step ${stop} is posted below.`);
    const posted = await h.connector.waitFor(
      () => postsIn(CHANNEL, k).find((s) => stepOfCard(s.activity.attachments?.[0]?.content)?.s === stop),
      10_000,
      'the step card',
    );
    // Megan can approve from it
    expect(buttons(posted.activity.attachments[0].content)).toContain('Approve');
    // tampered data changes nothing
    expect(cardText((await h.click(USERS.megan, 'step.show', { m: 'no-such-migration', s: 1 })).card)).toContain('That step does not exist here.');
  });
});
