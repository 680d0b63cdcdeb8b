import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, PILOT_OU, cardText } from '../helpers/harness.js';
import type { GraphSimulator } from '../../src/sandbox/graph/index.js';
import { SANDBOX_OWNERS_GROUP } from '../../src/sandbox/tenant.js';

/**
 * Change owners through an Entra group, over HTTP: membership read from the Graph simulator
 * (transitiveMembers, nested groups), cached for OWNERS_GROUP_CACHE_MINUTES, authorization by object id only.
 */
describe('change owners through an Entra group', () => {
  let h: Harness;
  let sim: GraphSimulator;
  let migrationId = '';
  let groupId = '';
  let nestedId = '';
  const TTL_MS = 5 * 60_000;

  beforeAll(async () => {
    h = await Harness.start();
    sim = h.app.tenant!.graph;
    for (const u of [USERS.alex, USERS.megan, USERS.lee, USERS.bystander]) sim.addCloudUser(`${u.id.slice(3)}@contoso.com`, u.name, u.aadObjectId);
    // Megan directly, Lee through a nested group; Alex (listed owner, the requester) and Pat are not members.
    nestedId = sim.addCloudGroup('Sync Operators', [USERS.lee.aadObjectId]);
    groupId = sim.addCloudGroup('Pilot Change Owners', [USERS.megan.aadObjectId, nestedId]);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const lastNotice = (before: number) =>
    h.connector.sent
      .slice(before)
      .map((s) => cardText(s.activity))
      .join('\n');

  it('refuses a group that does not exist in the tenant, and creates nothing', async () => {
    const before = h.connector.sent.length;
    await h.say(USERS.alex, `new migration "Nope" domain=contoso.com ou="${PILOT_OU}" ownersGroup=0b0b0b0b-0000-4000-8000-000000000404`);
    expect(lastNotice(before)).toContain('There is no Entra group with object id 0b0b0b0b-0000-4000-8000-000000000404');
    expect(await h.app.engine.findMigration('Nope')).toBeNull();
  });

  it('refuses a malformed ownersGroup= with the reason', async () => {
    const before = h.connector.sent.length;
    await h.say(USERS.alex, `new migration "Nope" domain=contoso.com ou="${PILOT_OU}" ownersGroup=admins`);
    expect(lastNotice(before)).toContain('ownersGroup= takes one Entra group object id');
    expect(await h.app.engine.findMigration('Nope')).toBeNull();
  });

  it('creates a migration owned by a listed owner and a group, and shows both on the overview', async () => {
    const before = h.connector.sent.length;
    await h.say(USERS.alex, `new migration "Grouped" domain=contoso.com ou="${PILOT_OU}" owners=${USERS.alex.aadObjectId} ownersGroup=${groupId}`);
    const m = await h.app.engine.findMigration('Grouped');
    expect(m?.policy.ownersGroup).toBe(groupId);
    migrationId = m!.id;
    const overview = cardText(h.connector.sent[before].activity);
    expect(overview).toContain('Owners group');
    expect(overview).toContain('Pilot Change Owners (2 members: Megan Bowen, Lee Gu)');
    expect(overview).toContain('Alex Wilber');
    await h.advance(migrationId, (await h.seqOf(migrationId, 'stop-scheduler')) - 1);
  });

  it("refuses a non-member whose display name is a member's, and fails closed when Graph is down", async () => {
    const stop = await h.seqOf(migrationId, 'stop-scheduler');
    const before = h.connector.sent.length;
    await h.click(USERS.alex, 'step.request', await h.stepData(migrationId, stop));
    expect((await h.app.engine.getStep(migrationId, stop))!.state).toBe('awaiting_approval');
    // Issue 17: the owners who can decide are told at once (not at the 2-hour reminder), by mention, and the card names them.
    const told = await h.connector.waitFor(() => h.connector.sent.slice(before).find((x) => String(x.activity?.text ?? '').includes('asks approval for step')));
    expect(told.activity.text).toContain(`Alex Wilber asks approval for step ${stop}`);
    const mentioned = (told.activity.entities ?? []).map((e: any) => e.mentioned?.id);
    expect(mentioned).toEqual(expect.arrayContaining([USERS.megan.aadObjectId, USERS.lee.aadObjectId]));
    expect(mentioned).not.toContain(USERS.alex.aadObjectId);
    const shown = cardText((await h.click(USERS.megan, 'card.refresh', await h.stepData(migrationId, stop))).card);
    expect(shown).toMatch(/Waiting for\n[^\n]*Megan Bowen/);
    expect(shown).toMatch(/Waiting for\n[^\n]*Lee Gu/);

    const forged = await h.click({ ...USERS.bystander, name: USERS.lee.name }, 'step.approve', await h.stepData(migrationId, stop));
    expect(cardText(forged.card)).toContain('members of its owners group');
    expect(await h.app.engine.getApprovals(migrationId, stop, 1)).toHaveLength(0);

    // The cached membership expires; Graph answers 500 to transitiveMembers: a member's decision is refused.
    h.clock.advance(TTL_MS + 1);
    sim.injectFault({ status: 500, count: 1000, match: /transitiveMembers/ });
    const auditBefore = (await h.app.engine.auditTrail(migrationId)).length;
    const versionBefore = (await h.app.engine.getStep(migrationId, stop))!.version;
    const down = await h.click(USERS.lee, 'step.approve', await h.stepData(migrationId, stop));
    expect(cardText(down.card)).toContain('could not be read from Microsoft Graph');
    expect(cardText(down.card)).toContain('nothing changed');
    const after = (await h.app.engine.getStep(migrationId, stop))!;
    expect(after.state).toBe('awaiting_approval');
    expect(after.version).toBe(versionBefore);
    expect(await h.app.engine.getApprovals(migrationId, stop, 1)).toHaveLength(0);
    expect((await h.app.engine.auditTrail(migrationId)).length).toBe(auditBefore);
    sim.clearFaults();
  });

  it('lists the step in `pending` for a group member (nested), not for a non-member', async () => {
    const before = h.connector.sent.length;
    await h.say(USERS.lee, 'pending');
    expect(lastNotice(before)).toContain('Stop the Connect Sync scheduler');
    const before2 = h.connector.sent.length;
    await h.say(USERS.bystander, 'pending');
    expect(lastNotice(before2)).toContain('Nothing is waiting for your approval');
  });

  it('mentions group members in the reminder', async () => {
    const stop = await h.seqOf(migrationId, 'stop-scheduler');
    const requested = (await h.app.engine.getStep(migrationId, stop))!.requestedAt!;
    h.clock.set(new Date(requested.getTime() + 2 * 3_600_000 + 1000));
    const before = h.connector.sent.length;
    expect((await h.app.engine.sweepApprovals()).reminded).toBe(1);
    const sent = await h.connector.waitFor(() => h.connector.sent.slice(before).find((s) => String(s.activity?.text ?? '').includes('Reminder')));
    const mentioned = (sent.activity.entities ?? []).map((e: any) => e.mentioned?.id);
    expect(mentioned).toEqual(expect.arrayContaining([USERS.megan.aadObjectId, USERS.lee.aadObjectId]));
    expect(mentioned).not.toContain(USERS.alex.aadObjectId); // the requester
  });

  it('accepts a member of a nested group', async () => {
    const stop = await h.seqOf(migrationId, 'stop-scheduler');
    const ok = await h.click(USERS.lee, 'step.approve', await h.stepData(migrationId, stop));
    expect(cardText(ok.card)).not.toContain('Only the change owners');
    expect((await h.waitForStep(migrationId, stop, ['succeeded', 'failed'])).state).toBe('succeeded');
  });

  it('refuses a member removed from the group once the cache has expired (no sleeps: the clock moves)', async () => {
    const rules = await h.seqOf(migrationId, 'create-noflow-rules');
    await h.click(USERS.alex, 'step.request', await h.stepData(migrationId, rules));
    sim.removeGroupMember(nestedId, USERS.lee.aadObjectId);
    h.clock.advance(TTL_MS + 1);
    const refused = await h.click(USERS.lee, 'step.approve', await h.stepData(migrationId, rules));
    expect(cardText(refused.card)).toContain('Only the change owners');
    expect((await h.app.engine.getStep(migrationId, rules))!.state).toBe('awaiting_approval');
    await h.click(USERS.megan, 'step.approve', await h.stepData(migrationId, rules));
    expect((await h.waitForStep(migrationId, rules, ['succeeded', 'failed'])).state).toBe('succeeded');
    expect(await h.app.engine.verifyAudit(migrationId)).toMatchObject({ ok: true });
  });

  it('seeds the Playground\'s "Cutover Change Owners" group in the sandbox tenant', async () => {
    const g = await h.app.engine.ownersGroup({
      tenantId: h.app.tenant!.tenantId,
      policy: { owners: [], ownersGroup: SANDBOX_OWNERS_GROUP.id, quorum: 1, fourEyes: true, expiryMs: 1, reminderMs: 1, escalationMs: 1 },
    });
    expect(g?.name).toBe('Cutover Change Owners');
    expect(g?.members.map((x) => x.displayName).sort()).toEqual(['Lee Gu', 'Megan Bowen']);
  });
});
