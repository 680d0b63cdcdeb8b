import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, PILOT_OU, cardText, buttons } from '../helpers/harness.js';
import { requiredQuorum } from '../../src/runbooks/policy.js';

/** `policy <migration> …`: changing the approval policy is itself an approved, audited change (issue #5). */
describe("changing a migration's approval policy", () => {
  let h: Harness;
  let migrationId = '';

  beforeAll(async () => {
    h = await Harness.start();
    await h.say(
      USERS.alex,
      `new migration "Pol" domain=contoso.com ou="${PILOT_OU}" owners=${USERS.alex.aadObjectId},${USERS.megan.aadObjectId},${USERS.lee.aadObjectId} approvals=2`,
    );
    migrationId = (await h.app.engine.findMigration('Pol'))!.id;
  });
  afterAll(async () => {
    await h?.stop();
  });

  const said = async (who: (typeof USERS)[keyof typeof USERS], text: string) => {
    const before = h.connector.sent.length;
    await h.say(who, text);
    // the reply, not a step card update the notifier sends meanwhile
    return h.connector.sent
      .slice(before)
      .map((s) => s.activity)
      .filter((a) => /Approval policy change|Nothing was changed|No such migration|isn't quite right|Waiting for you/.test(cardText(a)));
  };
  const change = async (id: number) => (await h.app.db.query('SELECT * FROM policy_changes WHERE migration_id = $1 AND id = $2', [migrationId, id])).rows[0];
  const data = async (id: number) => ({ m: migrationId, p: id, v: (await change(id)).version });
  const policy = async () => (await h.app.engine.getMigration(migrationId))!.policy;

  it('refuses bad input with the reason and changes nothing', async () => {
    expect(cardText((await said(USERS.alex, 'policy Pol approvals=0'))[0])).toContain('approvals= is a whole number from 1 to 10');
    expect(cardText((await said(USERS.alex, 'policy Pol'))[0])).toContain('Say what to change');
    expect(cardText((await said(USERS.alex, 'policy Pol ownersGroup=0b0b0b0b-0000-4000-8000-000000000404'))[0])).toContain('There is no Entra group');
    expect(cardText((await said(USERS.alex, 'policy Pol approvals=2'))[0])).toContain('nothing would change');
    expect(cardText((await said(USERS.alex, 'policy Nope approvals=1'))[0])).toContain('No such migration');
    expect((await h.app.db.query('SELECT count(*)::int AS n FROM policy_changes')).rows[0].n).toBe(0);
    expect((await policy()).quorum).toBe(2);
  });

  it('posts old → new and stays pending until the current quorum of other owners approves', async () => {
    const [card] = await said(USERS.alex, 'policy Pol approvals=1 expiry=48h');
    const text = cardText(card);
    expect(text).toContain('Waiting for approval');
    expect(text).toContain('2 (sensitive steps: at least 2) → 1 (sensitive steps: at least 2)');
    expect(text).toContain('24 h → 48 h');
    expect(buttons(card)).toEqual(expect.arrayContaining(['Approve', 'Reject']));

    const self = await h.click(USERS.alex, 'policy.approve', await data(1));
    expect(cardText(self.card)).toContain('four-eyes');
    const forged = await h.click({ ...USERS.bystander, name: USERS.megan.name }, 'policy.approve', await data(1));
    expect(cardText(forged.card)).toContain('Only the change owners');

    const one = await h.click(USERS.megan, 'policy.approve', await data(1));
    expect(cardText(one.card)).toContain('1 more approval');
    expect((await policy()).quorum).toBe(2);
    expect((await change(1)).state).toBe('awaiting_approval');

    // `pending` shows it to Lee (an owner who has not decided), not to the requester
    expect(cardText((await said(USERS.lee, 'pending'))[0])).toContain('approval policy change 1');
    expect(cardText((await said(USERS.alex, 'pending'))[0])).not.toContain('approval policy change');

    const two = await h.click(USERS.lee, 'policy.approve', await data(1));
    expect(cardText(two.card)).toContain('the new policy applies');
    expect(buttons(two.card)).not.toContain('Approve');
    const p = await policy();
    expect(p.quorum).toBe(1);
    expect(p.expiryMs).toBe(48 * 3_600_000);
    // a lower quorum never lowers the sensitive steps' minimum
    expect(requiredQuorum(p, 'sensitive')).toBe(2);

    const rows = await h.app.engine.auditTrail(migrationId);
    const changed = rows.find((r) => r.action === 'policy-changed')!;
    expect(changed.details).toMatchObject({ changeId: 1, old: { quorum: 2, expiryMs: 24 * 3_600_000 }, new: { quorum: 1, expiryMs: 48 * 3_600_000 } });
    expect(rows.map((r) => r.action)).toEqual(expect.arrayContaining(['policy-change-requested', 'policy-change-approved', 'policy-changed']));
    expect(await h.app.engine.verifyAudit(migrationId)).toEqual({ ok: true, rows: rows.length });
    // a click on the old card changes nothing more
    const late = await h.click(USERS.megan, 'policy.approve', { ...(await data(1)), v: 0 });
    expect(cardText(late.card)).toContain('applied');
  });

  it('applies the new quorum to the next approval request', async () => {
    await h.advance(migrationId, (await h.seqOf(migrationId, 'stop-scheduler')) - 1);
    const stop = await h.seqOf(migrationId, 'stop-scheduler');
    await h.click(USERS.alex, 'step.request', await h.stepData(migrationId, stop));
    await h.click(USERS.megan, 'step.approve', await h.stepData(migrationId, stop));
    expect((await h.waitForStep(migrationId, stop, ['succeeded', 'failed'])).state).toBe('succeeded');
  });

  it('is rejected by any one Reject, and the policy stays as it is', async () => {
    await said(USERS.alex, `policy Pol owners=${USERS.alex.aadObjectId},${USERS.megan.aadObjectId}`);
    // only one pending change at a time
    expect(cardText((await said(USERS.megan, 'policy Pol approvals=2'))[0])).toContain('still waiting for approval');
    const r = await h.click(USERS.lee, 'policy.reject', { ...(await data(2)), comment: 'Lee stays an owner' });
    expect(cardText(r.card)).toContain('Rejected');
    expect(cardText(r.card)).toContain('Lee stays an owner');
    expect((await policy()).owners).toContain(USERS.lee.aadObjectId);
    expect((await h.app.engine.auditTrail(migrationId)).at(-1)!.action).toBe('policy-change-rejected');
  });

  it('expires like a step approval: its card says so without a click, and a late click changes nothing', async () => {
    await said(USERS.alex, 'policy Pol window="Mon-Fri 22:00-06:00 Europe/Paris"');
    const activityId = (await change(3)).activity_id;
    expect(activityId).toBeTruthy();
    h.clock.advance(48 * 3_600_000 + 1000);
    const before = h.connector.sent.length;
    expect(await h.app.housekeeping.runScheduled()).toMatchObject({ approvals: { policyChangesExpired: 1 } });
    const updated = await h.connector.waitFor(() => h.connector.sent.slice(before).find((x) => x.method === 'PUT' && x.activityId === activityId));
    expect(cardText(updated.activity)).toContain('Expired');
    expect(buttons(updated.activity)).not.toContain('Approve');
    const late = await h.click(USERS.megan, 'policy.approve', await data(3));
    expect(cardText(late.card)).toContain('Expired');
    expect((await change(3)).state).toBe('expired');
    expect((await policy()).changeWindows).toBeUndefined();
    expect((await h.app.engine.auditTrail(migrationId)).some((r) => r.action === 'policy-change-expired')).toBe(true);
    expect(await h.app.engine.verifyAudit(migrationId)).toMatchObject({ ok: true });
  });
  it('weighs steps still waiting for approval again once a change applies: asked again of the owners as they are now, or started when their approvals now suffice', async () => {
    const rules = await h.seqOf(migrationId, 'create-noflow-rules');
    await h.click(USERS.alex, 'step.request', await h.stepData(migrationId, rules));
    expect((await h.app.engine.getStep(migrationId, rules))!.state).toBe('awaiting_approval');
    const owners = [USERS.alex, USERS.megan, USERS.lee, USERS.bystander].map((u) => u.aadObjectId).join(',');

    // Pat becomes an owner and two approvals are needed: the waiting step is asked again, Pat included, Alex (its requester) not.
    await said(USERS.alex, `policy Pol approvals=2 owners=${owners}`);
    const before = h.connector.sent.length;
    const applied = await h.click(USERS.megan, 'policy.approve', await data(4));
    expect(cardText(applied.card)).toContain(`Step ${rules} still waits for approval: asked again of the owners as they are now.`);
    const reasked = await h.connector.waitFor(() => h.connector.sent.slice(before).find((x) => String(x.activity?.text ?? '').includes('policy change 4')));
    expect(reasked.activity.text).toContain(`step ${rules} (`);
    expect(reasked.activity.text).toContain('2 more approvals from these owners');
    const mentioned = reasked.activity.entities.map((e: any) => e.mentioned.id);
    expect(mentioned).toEqual(expect.arrayContaining([USERS.megan.aadObjectId, USERS.lee.aadObjectId, USERS.bystander.aadObjectId]));
    expect(mentioned).not.toContain(USERS.alex.aadObjectId);
    const stepCardNow = await h.click(USERS.lee, 'card.refresh', await h.stepData(migrationId, rules));
    expect(cardText(stepCardNow.card)).toContain('2 more approvals');

    // Pat approves (one of two); then the quorum goes back to 1: that one approval suffices and the step runs.
    await h.click(USERS.bystander, 'step.approve', await h.stepData(migrationId, rules));
    expect((await h.app.engine.getStep(migrationId, rules))!.state).toBe('awaiting_approval');
    await said(USERS.alex, 'policy Pol approvals=1');
    await h.click(USERS.megan, 'policy.approve', await data(5)); // the current policy asks two owners for this change
    expect((await h.app.engine.getStep(migrationId, rules))!.state).toBe('awaiting_approval');
    const lowered = await h.click(USERS.lee, 'policy.approve', await data(5));
    expect(cardText(lowered.card)).toContain(`Step ${rules} now has enough approvals and starts.`);
    expect((await h.waitForStep(migrationId, rules, ['succeeded', 'failed'])).state).toBe('succeeded');

    const trail = await h.app.engine.auditTrail(migrationId);
    expect(trail.filter((r) => r.stepSeq === rules).map((r) => r.action)).toEqual(
      expect.arrayContaining(['approval-reasked', 'approved', 'approved-under-new-policy', 'step-started']),
    );
    expect(trail.find((r) => r.action === 'approved-under-new-policy')!.details).toMatchObject({
      policyChangeId: 5,
      approvedBy: [USERS.bystander.aadObjectId.toLowerCase()],
      needed: 1,
    });
    expect(await h.app.engine.verifyAudit(migrationId)).toMatchObject({ ok: true });
  });
});
