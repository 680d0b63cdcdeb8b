import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, buttons, cardText } from '../helpers/harness.js';

/** Teams' Universal Actions: the shared card is read-only; each owner's client refreshes into a view with buttons. */
describe('user-specific views (USER_SPECIFIC_VIEWS=1)', () => {
  let h: Harness;
  let m = '';
  let stop = 0;
  beforeAll(async () => {
    h = await Harness.start({ env: { USER_SPECIFIC_VIEWS: '1' } });
    m = await h.newPilot('Views');
    await h.advanceTo(m, 'count-ou-users', 1);
    stop = await h.seqOf(m, 'stop-scheduler');
    await h.click(USERS.alex, 'step.request', await h.stepData(m, stop));
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('posts a read-only shared card that asks Teams to refresh it for the owners only', async () => {
    const step = { activityId: await h.postedCard(m, stop) };
    const shared = await h.connector.waitFor(() => {
      const c = h.connector.messages.get(step.activityId);
      return cardText(c).includes('Waiting for approval') ? c : undefined;
    });
    const card = shared.attachments[0].content;
    expect(buttons(card)).not.toContain('Approve');
    expect(card.refresh.action.verb).toBe('card.refresh');
    expect([...card.refresh.userIds].sort()).toEqual([USERS.alex.id, USERS.lee.id, USERS.megan.id].sort());
    expect(card.refresh.userIds).not.toContain(USERS.bystander.id);
  });

  it("gives an owner's refresh Approve / Reject, and a bystander's a read-only view", async () => {
    const data = await h.stepData(m, stop);
    expect(buttons((await h.click(USERS.megan, 'card.refresh', data)).card)).toEqual(expect.arrayContaining(['Approve', 'Reject']));
    expect(buttons((await h.click(USERS.bystander, 'card.refresh', data)).card)).not.toContain('Approve');
    // and the server still decides: a bystander who forges the click is refused
    expect(cardText((await h.click(USERS.bystander, 'step.approve', data)).card)).toContain('Only the change owners');
  });
});
