import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, cardText, buttons } from '../helpers/harness.js';
import type { Recorded } from '../helpers/connector.js';
import { runCloudSync } from './helpers.js';

/**
 * Issue 17, alerts that cannot be missed: one Cloud Sync job shared by three migrations is one incident, a top-level
 * post in the channel mentioning the owners of all three; acted on from its card by an owner of any of them (nobody
 * else); its Restart is an approved step; status and the overview start with it.
 */
describe('one incident per shared Cloud Sync job', () => {
  let h: Harness;
  const DANA = { id: '29:dana', name: 'Dana Whitfield', aadObjectId: '00000000-0000-0000-0000-00000000da4a' };
  const ids: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
  const QUARANTINED = 'Cloud Sync job quarantined';
  /** New posts in the channel (a thread of their own) holding a card with this text. */
  const topLevelCards = (text: string) => h.connector.sent.filter((s) => s.topLevel && s.activity.attachments?.length && cardText(s.activity).includes(text));
  const cardOf = (r: Recorded) => r.activity.attachments[0].content;
  /** The card as it is now in the channel (updates replace it). */
  const shown = (activityId: string) => h.connector.messages.get(activityId)?.attachments?.[0]?.content;
  const alertData = async (id: string) => ({ alert: id, v: (await h.app.alerts.get(id))!.version });

  beforeAll(async () => {
    h = await Harness.start();
    h.connector.members.push(DANA); // in the team: an owner of one migration only
    ids.a = await h.newPilot('Inc A');
    await runCloudSync(h, ids.a); // contoso.com's Cloud Sync configuration: one provisioning job, for every migration of the domain
    h.app.tenant!.tick(); // its first cycle: Inc A's OU is in step (no count alert of its own)
    // Two more migrations of contoso.com (so on the same job), each with owners of its own besides Alex.
    for (const [k, name, owner] of [
      ['b', 'Inc B', USERS.megan],
      ['c', 'Inc C', DANA],
    ] as const) {
      h.clock.advance(60_000); // created later than Inc A: Inc A is the oldest
      const ou = h.ou(name.replace(' ', ''), 2);
      await h.say(USERS.alex, `new migration "${name}" domain=contoso.com ou="${ou}" owners=${USERS.alex.aadObjectId},${owner.aadObjectId}`);
      ids[k] = (await h.app.engine.findMigration(name))!.id;
    }
  }, 180_000);
  afterAll(async () => {
    await h?.stop();
  });

  let alertId = '';
  let post: Recorded;

  it('one quarantine of the job shared by three migrations: one top-level post naming all three, then one message mentioning all their owners', async () => {
    const before = h.connector.sent.length;
    expect((await h.fault({ kind: 'quarantine', reason: 'EncounteredBaseEscrowThreshold' })).status).toBe(200);
    const report = await h.monitorRun();
    expect(
      report.findings
        .filter((f: any) => f.check === 'job-health')
        .map((f: any) => f.migrationId)
        .sort(),
    ).toEqual(Object.values(ids).sort());
    post = await h.connector.waitFor(() => topLevelCards(QUARANTINED)[0], 20_000, 'the incident post');
    const text = cardText(cardOf(post));
    expect(text).toContain('Affects 3 migrations');
    for (const name of ['Inc A', 'Inc B', 'Inc C']) expect(text).toContain(name);
    expect(text).toContain('EncounteredBaseEscrowThreshold');
    expect(text).toContain('What to do');
    expect(buttons(cardOf(post))).toEqual(['Acknowledge', 'Snooze 1 h', 'Snooze 24 h', 'Resolve', 'Restart', 'Refresh']);
    expect(text).toContain('Restart asks the change owners of Inc A (the oldest migration it affects)');
    // Its own thread in the channel, not a reply in a migration's thread.
    expect(post.conversationId).toBe(`${h.activity(USERS.alex, {}).conversation.id};messageid=${post.activityId}`);
    const mention = await h.connector.waitFor(
      () => h.connector.sent.find((s) => s.conversationId === post.conversationId && s.activity.entities?.some((e: any) => e.type === 'mention')),
      20_000,
      'the mention of the owners',
    );
    const mentioned = mention.activity.entities
      .filter((e: any) => e.type === 'mention')
      .map((e: any) => e.mentioned.id)
      .sort();
    expect(mentioned).toEqual([USERS.alex, USERS.megan, USERS.lee, DANA].map((u) => u.aadObjectId).sort());
    for (const u of [USERS.alex, USERS.megan, USERS.lee, DANA]) expect(mention.activity.text).toContain(`<at>${u.name}</at>`);
    expect(mention.activity.text).toContain('Inc A, Inc B, Inc C');
    // Exactly one card and one mention for the incident, whatever the number of migrations.
    const posted = h.connector.sent.slice(before).filter((s) => s.method === 'POST');
    expect(posted.filter((s) => cardText(s.activity).includes(QUARANTINED)).map((s) => (s.activity.attachments?.length ? 'card' : 'mention'))).toEqual([
      'card',
      'mention',
    ]);

    // One incident, found from each migration it affects (and in each one's audit).
    const open = await h.app.alerts.list({ openOnly: true });
    expect(open.filter((a) => a.check === 'job-health')).toHaveLength(1);
    alertId = open.find((a) => a.check === 'job-health')!.id;
    expect((await h.app.alerts.get(alertId))!.activityId).toBe(post.activityId);
    for (const id of Object.values(ids)) {
      expect((await h.app.alerts.list({ migrationId: id, openOnly: true })).filter((a) => a.check === 'job-health').map((a) => a.id)).toEqual([alertId]);
      expect((await h.app.engine.auditTrail(id)).some((r) => r.action === 'alert-opened' && r.details.alertId === alertId)).toBe(true);
    }
  });

  it('a second cycle finds the same incident: nothing new is posted about it', async () => {
    const before = h.connector.sent.length;
    await h.monitorRun();
    await h.monitorRun();
    // (The quarantine also makes Inc A's agents look unhealthy, Inc A's own configuration check: another incident.)
    const about = h.connector.sent
      .slice(before)
      .filter((s) => s.method === 'POST' && (s.conversationId === post.conversationId || cardText(s.activity).includes(QUARANTINED)));
    expect(about).toEqual([]);
    expect((await h.app.alerts.list({ openOnly: true })).filter((a) => a.check === 'job-health').map((a) => a.id)).toEqual([alertId]);
  });

  it('status and each overview start with the open alert, before progress', async () => {
    const n = h.connector.sent.length;
    await h.say(USERS.lee, 'status Inc B');
    const status = await h.connector.waitFor(() => h.connector.sent.slice(n).find((s) => cardText(s.activity).startsWith('Status')), 10_000, 'the status card');
    const text = cardText(status.activity);
    expect(text).toContain('Needs attention: 1 open alert');
    expect(text).toMatch(/CRITICAL · Cloud Sync job quarantined: EncounteredBaseEscrowThreshold · since \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    expect(text.indexOf(QUARANTINED)).toBeLessThan(text.indexOf('steps done'));
    for (const id of Object.values(ids)) {
      const m = (await h.app.engine.getMigration(id))!;
      const overview = await h.connector.waitFor(
        () => (cardText(shown(m.overviewActivityId!)).includes(QUARANTINED) ? shown(m.overviewActivityId!) : undefined),
        10_000,
        `the overview of ${m.name}`,
      );
      const o = cardText(overview);
      expect(o.indexOf(QUARANTINED), m.name).toBeLessThan(o.indexOf('steps done'));
    }
  });

  it('a bystander is refused and nothing changes; an owner of any one affected migration acknowledges it for everyone', async () => {
    const before = (await h.app.alerts.get(alertId))!;
    for (const verb of ['alert.ack', 'alert.snooze', 'alert.resolve', 'alert.restart']) {
      const r = await h.click(USERS.bystander, verb, { ...(await alertData(alertId)), hours: 1 }, post.activityId);
      expect(cardText(r.card), verb).toMatch(
        /Only the change owners of Inc A, Inc B or Inc C can (acknowledge, snooze or resolve its alerts|ask for a restart from its alerts)\. Nothing was changed\./,
      );
    }
    const after = (await h.app.alerts.get(alertId))!;
    expect([after.state, after.version]).toEqual([before.state, before.version]);
    expect(await h.app.engine.incidentSteps(alertId)).toEqual([]);
    // Dana owns Inc C only.
    const r = await h.click(DANA, 'alert.ack', await alertData(alertId), post.activityId);
    expect(cardText(r.card)).toContain(`Acknowledged by ${DANA.name}`);
    await h.connector.waitFor(() => cardText(shown(post.activityId)).includes(`Acknowledged by ${DANA.name}`) || undefined, 10_000, 'the shared card update');
    for (const id of Object.values(ids))
      expect(
        (await h.app.engine.auditTrail(id)).some((a) => a.action === 'alert-acknowledged' && a.actorOid === DANA.aadObjectId && a.details.alertId === alertId),
      ).toBe(true);
  });

  it('Restart is an approved step of the oldest migration: requested by the clicker, approved by another owner, run with the reset scope the reason needs; the next cycle resolves the incident', async () => {
    const g = h.app.tenant!.graph;
    const restarts = () => g.stats.byRoute['POST /jobs/{id}/restart'] ?? 0;
    const sentBefore = restarts();
    const asked = await h.click(USERS.lee, 'alert.restart', await alertData(alertId), post.activityId);
    expect(cardText(asked.card)).toMatch(/Restart requested: step \d+ of Inc A waits for the approval of its change owners/);
    const [{ migration, step }] = await h.app.engine.incidentSteps(alertId);
    expect([migration.name, step.key, step.state, step.requestedBy?.name]).toEqual(['Inc A', 'restart-quarantined-job', 'awaiting_approval', USERS.lee.name]);
    expect(step.params).toMatchObject({ alertId, resetScope: 'Watermark, Escrows, QuarantineState', reason: 'EncounteredBaseEscrowThreshold' });
    expect(step.plan?.graph).toEqual([
      {
        method: 'POST',
        path: expect.stringMatching(/\/synchronization\/jobs\/.+\/restart$/),
        body: { criteria: { resetScope: 'Watermark, Escrows, QuarantineState' } },
      },
    ]);
    const total = (await h.app.engine.getSteps(ids.a)).length;
    expect(cardText(asked.card)).toContain(`Restart requested by Lee Gu — waiting for approval (step ${step.seq} of ${total} of Inc A)`);
    expect(buttons(asked.card)).not.toContain('Restart');
    // Its card is posted in Inc A's thread like any step's, and the owners are asked there.
    await h.postedCard(ids.a, step.seq);
    // A second click while it waits answers with it and changes nothing.
    const again = await h.click(USERS.megan, 'alert.restart', { alert: alertId, v: 0 }, post.activityId);
    expect(cardText(again.card)).toContain(`A restart is already asked for: step ${step.seq} of Inc A (waiting for approval). Nothing was changed`);
    expect((await h.app.engine.incidentSteps(alertId)).map((x) => [x.step.seq, x.step.version])).toEqual([[step.seq, step.version]]);
    expect(restarts()).toBe(sentBefore);
    await h.connector.waitFor(
      () => cardText(shown(post.activityId)).includes('Restart requested by Lee Gu — waiting for approval') || undefined,
      10_000,
      'the incident card saying the restart waits',
    );

    // The requester does not approve their own request; another owner of Inc A does, and it runs.
    expect(cardText((await h.click(USERS.lee, 'step.approve', await h.stepData(ids.a, step.seq))).card)).toMatch(/four-eyes|own/i);
    await h.click(USERS.megan, 'step.approve', await h.stepData(ids.a, step.seq));
    const done = await h.waitForStep(ids.a, step.seq, ['succeeded', 'failed']);
    expect([done.state, done.evidence]).toEqual([
      'succeeded',
      expect.objectContaining({
        restarted: true,
        resetScope: 'Watermark, Escrows, QuarantineState',
        quarantineBefore: 'EncounteredBaseEscrowThreshold',
        quarantineAfter: null,
      }),
    ]);
    expect(restarts()).toBe(sentBefore + 1);
    const job = g.summary().jobs.find((j) => j.templateId === 'AD2AADProvisioning')!;
    expect(job.status).not.toBe('Quarantine');
    const restartedText =
      /Restarted \(resetScope "Watermark, Escrows, QuarantineState"\) \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC .*: requested by Lee Gu, approved by Megan Bowen/;
    await h.connector.waitFor(() => restartedText.test(cardText(shown(post.activityId))) || undefined, 10_000, 'the incident card saying it was restarted');

    // The quarantine is gone: the next cycle resolves the incident; its card says so and loses its buttons.
    await h.monitorRun();
    const resolved = (await h.app.alerts.get(alertId))!;
    expect([resolved.state, resolved.resolvedBy]).toEqual(['resolved', null]);
    await h.connector.waitFor(() => cardText(shown(post.activityId)).includes('✅ Resolved automatically') || undefined, 10_000, 'the resolved card');
    expect(buttons(shown(post.activityId))).toEqual(['Refresh']);
    expect(cardText(shown(post.activityId))).toMatch(restartedText);
    await h.connector.waitFor(
      () => h.connector.sent.find((s) => s.conversationId === post.conversationId && String(s.activity.text ?? '').startsWith(`Resolved: ${QUARANTINED}`)),
      10_000,
      'the reply in the incident thread',
    );
    for (const id of Object.values(ids)) expect(await h.app.alerts.list({ migrationId: id, openOnly: true })).toEqual([]);
  });

  it('Resolve by hand: a held-deletes quarantine offers Restart with ForceDeletes; an owner resolves it, and the card says who', async () => {
    const posts = topLevelCards(QUARANTINED).length;
    await h.fault({ kind: 'quarantine', reason: 'TooManyDeletes' });
    await h.monitorRun();
    const second = await h.connector.waitFor(() => topLevelCards('Cloud Sync job quarantined: TooManyDeletes')[0], 20_000, 'the new incident post');
    expect(topLevelCards(QUARANTINED)).toHaveLength(posts + 1); // a new incident, a new post
    expect(cardText(cardOf(second))).toContain('with resetScope "ForceDeletes"');
    const incident = (await h.app.alerts.list({ openOnly: true })).find((a) => a.check === 'job-health')!;
    expect(incident.id).not.toBe(alertId);
    const r = await h.click(USERS.megan, 'alert.resolve', await alertData(incident.id), second.activityId);
    expect(cardText(r.card)).toContain('✅ Resolved by Megan Bowen');
    expect(buttons(r.card)).toEqual(['Refresh']);
    await h.connector.waitFor(() => cardText(shown(second.activityId)).includes('✅ Resolved by Megan Bowen') || undefined, 10_000, 'the shared card');
    expect(cardText(shown(second.activityId))).toMatch(/Resolved by Megan Bowen, \d{4}-\d{2}-\d{2}/); // in its history too
    for (const id of Object.values(ids))
      expect(
        (await h.app.engine.auditTrail(id)).some(
          (a) => a.action === 'alert-resolved' && a.actorOid === USERS.megan.aadObjectId && a.details.alertId === incident.id,
        ),
      ).toBe(true);
  });

  it('where there is no channel (a group chat), a new incident is a reply where the migration speaks', async () => {
    const GROUP = '19:incident-group-chat@thread.v2';
    const tenantId = h.app.tenant!.tenantId;
    // The group chat has spoken to the bot: cutover knows how to answer there.
    await h.post({
      ...h.activity(USERS.alex, { type: 'message', text: 'help' }),
      conversation: { id: GROUP, conversationType: 'groupChat', tenantId, isGroup: true },
      channelData: { tenant: { id: tenantId } },
    });
    const n = h.connector.sent.length;
    const { alertId } = await h.app.alerts.raise(
      { migrationId: ids.b, tenantId, conversationId: GROUP, check: 'scheduler', scope: 'group-chat' },
      { severity: 'warning', title: 'Connect Sync scheduler left disabled (group chat)', summary: 'The scheduler is off.', facts: [] },
    );
    const card = await h.connector.waitFor(
      () => h.connector.sent.slice(n).find((s) => s.activity.attachments?.length && cardText(s.activity).includes('(group chat)')),
      10_000,
      'the alert card in the group chat',
    );
    expect([card.method, card.topLevel, card.conversationId]).toEqual(['POST', undefined, GROUP]);
    // Then the owners are mentioned there (once the card's id is recorded).
    await h.connector.waitFor(
      () =>
        h.connector.sent.slice(n).find((s) => s.conversationId === GROUP && s.activity.entities?.some((e: any) => e.mentioned?.id === USERS.megan.aadObjectId)),
      10_000,
      "the mention of Inc B's owners",
    );
    expect((await h.app.alerts.get(alertId))!.activityId).toBe(card.activityId);
  });
});
