import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, PILOT_OU, cardText, buttons } from '../helpers/harness.js';

/**
 * The walking skeleton, end to end over HTTP: a Connect Sync → Cloud Sync pilot batch run from a
 * channel against the sandbox tenant, with real Bot Framework activities and a recording connector.
 */
describe('pilot batch from a Teams channel', () => {
  let h: Harness;
  let migrationId = '';
  const owner = USERS.megan;
  const requester = USERS.alex;

  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(async () => {
    await h?.stop();
  });

  const seq = (key: string) => h.seqOf(migrationId, key);
  /** Request a step as the requester and, when it needs approval, approve it as the owner. */
  async function runStep(key: string | number, needsApproval: boolean) {
    const seq = typeof key === 'number' ? key : await h.seqOf(migrationId, key);
    const req = await h.click(requester, 'step.request', await h.stepData(migrationId, seq));
    expect(req.status).toBe(200);
    if (needsApproval) {
      expect(cardText(req.card)).toContain('Waiting for approval');
      const ok = await h.click(owner, 'step.approve', await h.stepData(migrationId, seq));
      expect(ok.status).toBe(200);
    }
    return h.waitForStep(migrationId, seq, ['succeeded', 'failed', 'lost']);
  }

  it('answers help with a card listing the commands', async () => {
    const r = await h.say(requester, '<at>cutover</at> help');
    expect(r.status).toBe(200);
    const card = await h.connector.waitFor(() => h.connector.cards().find((c) => cardText(c.card).includes('new migration')));
    expect(cardText(card.card)).toContain('status');
    expect(cardText(card.card)).toContain('jobs');
  });

  it('answers an unknown command with help', async () => {
    const before = h.connector.sent.length;
    await h.say(requester, 'frobnicate the sync');
    const sent = await h.connector.waitFor(() => h.connector.sent.slice(before).find((s) => cardText(s.activity).includes('frobnicate')));
    expect(cardText(sent.activity)).toContain("I don't know");
  });

  it("creates a migration from one line as its own thread: the overview lists every step, the current step's card follows in the thread", async () => {
    const before = h.connector.sent.length;
    await h.say(requester, `new migration "Pilot" domain=contoso.com ou="${PILOT_OU}" owners=${requester.aadObjectId},${owner.aadObjectId}`);
    const ms = await h.app.engine.listMigrations();
    expect(ms).toHaveLength(1);
    migrationId = ms[0].id;
    const sent = h.connector.sent.slice(before);
    // a new top-level post in the channel, not a reply in the thread of the command
    expect(sent[0].topLevel).toBe(true);
    expect(ms[0].conversationId).toBe(sent[0].conversationId);
    expect(ms[0].conversationId).toMatch(/^19:cutover-ops@thread\.tacv2;messageid=/);
    const overview = cardText(sent[0].activity);
    expect(overview).toContain('Pilot');
    expect(overview).toContain('0 of 20 steps done');
    // the audit chain's head, as signed outside the database, is on the overview
    expect(overview).toMatch(/Audit checkpoint\nrow \d+ · [0-9a-f]{16}… · /);
    const titles = [
      'Back up the Connect Sync configuration',
      'Count the users in the OU',
      'Stop the Connect Sync scheduler',
      'Create the cloudNoFlow / JoinNoFlow rules',
      'provisioning agent',
      'Configure Cloud Sync scoped to the OU',
      'Verify the OU users',
      'Start the Connect Sync scheduler',
    ];
    for (const t of titles) expect(overview, t).toContain(t);
    // one step card so far, the current one, in the migration's thread; the command's thread got a short answer
    const first = await h.postedCard(migrationId, 1);
    const steps = h.connector.sent.filter((s) => s.conversationId === ms[0].conversationId && s.method === 'POST' && !s.topLevel);
    expect(steps.map((s) => s.activityId)).toEqual([first]);
    expect(cardText(steps[0].activity)).toContain('Assess the forest');
  });

  it('refuses a step before the previous one is done, and changes nothing', async () => {
    const stop = await seq('stop-scheduler');
    const r = await h.click(requester, 'step.request', await h.stepData(migrationId, stop));
    expect(cardText(r.card)).toContain('must be done first');
    expect((await h.app.engine.getStep(migrationId, stop))!.state).toBe('pending');
  });

  it('assesses the forest first, without changing anything', async () => {
    const a = await runStep('assessment', false);
    expect(a.state).toBe('succeeded');
    expect(a.evidence.objects).toMatch(/of 150,000/);
    expect(a.evidence.recommendation).toMatch(/partially|fully/);
    expect(a.evidence.limits.join(' ')).toContain('group writeback v2');
  });

  it('runs the read-only steps without approval', async () => {
    expect((await runStep('verify-prerequisites', false)).state).toBe('succeeded');
    expect((await runStep('backup-connect-config', false)).state).toBe('succeeded');
    const count = await runStep('count-ou-users', false);
    expect(count.state).toBe('succeeded');
    expect((count.evidence as any).results[0].users).toBe(40);
  });

  it('lets only a change owner other than the requester approve a production change', async () => {
    const stop = await seq('stop-scheduler');
    await h.postedCard(migrationId, stop); // a person asks from the step's card, posted once the step is next
    const data = await h.stepData(migrationId, stop);
    const req = await h.click(requester, 'step.request', data);
    expect(buttons(req.card), cardText(req.card)).toContain('Approve');
    expect(cardText(req.card)).toContain('change owners only');

    const self = await h.click(requester, 'step.approve', await h.stepData(migrationId, stop));
    expect(cardText(self.card)).toContain('four-eyes');
    // a bystander forging an owner's display name is still refused: authorization is by object id
    const forged = await h.click({ ...USERS.bystander, name: owner.name }, 'step.approve', await h.stepData(migrationId, stop));
    expect(cardText(forged.card)).toContain('Only the change owners');
    expect((await h.app.engine.getStep(migrationId, stop))!.state).toBe('awaiting_approval');
    expect(await h.app.engine.getApprovals(migrationId, stop, 1)).toHaveLength(0);

    await h.click(owner, 'step.approve', await h.stepData(migrationId, stop));
    const done = await h.waitForStep(migrationId, stop, ['succeeded', 'failed']);
    expect(done.state).toBe('succeeded');
    expect((await h.state()).scheduler.SyncCycleEnabled).toBe(false);
  });

  it('updates the shared card in place for everyone', async () => {
    const step = { activityId: await h.postedCard(migrationId, await seq('stop-scheduler')) };
    await h.connector.waitFor(() => cardText(h.connector.messages.get(step.activityId)).includes('Done') || undefined);
    const text = cardText(h.connector.messages.get(step.activityId));
    expect(text).toContain('Approved by');
    expect(text).toContain(owner.name);
    expect(text).toContain(requester.name);
    expect(h.connector.sent.some((s) => s.method === 'PUT' && s.activityId === step.activityId)).toBe(true);
  });

  it('creates the no-flow rules for every object type, runs a full synchronization in the same plan, and proves the rules took', async () => {
    // its card was posted in the migration's thread when it became current (the scheduler stopped), with its warning
    const card = await h.postedCard(migrationId, await seq('create-noflow-rules'));
    expect(cardText(h.connector.messages.get(card))).toContain("don't remove OUs");
    expect(h.connector.sent.find((s) => s.activityId === card)!.conversationId).toBe((await h.app.engine.getMigration(migrationId))!.conversationId);
    const rules = await runStep('create-noflow-rules', true);
    expect(rules.state, JSON.stringify(rules.error)).toBe('succeeded');
    const st = await h.state();
    // one pair per object type (user, inetOrgPerson, group, contact) for the whole migration
    expect(st.rules.filter((r: any) => r.linkType === 'JoinNoFlow')).toHaveLength(4);
    expect(st.rules.filter((r: any) => r.direction === 'Inbound')).toHaveLength(4);
    const results = (rules.evidence as any).results;
    expect(results[2].policyType).toBe('Initial'); // the full synchronization ran, to success
    const status = results[3];
    expect(status.objects).toBeGreaterThan(40); // users, inetOrgPersons, groups and contacts
    expect(status.withCloudNoFlow).toBe(status.objects);
    expect(status.pendingExportCount).toBe(0);
  });

  it('verifies the agent, configures Cloud Sync scoped to the OU, provisions one user on demand (matched, not created) and enables it', async () => {
    expect((await runStep('verify-provisioning-agent', false)).state).toBe('succeeded');
    const cfg = await runStep('configure-cloud-sync', true);
    expect(cfg.state).toBe('succeeded');
    expect((cfg.evidence as any).scopedContainers).toEqual([PILOT_OU]);
    expect((cfg.evidence as any).provisioningJobId).toMatch(/^AD2AADProvisioning\.[0-9a-f]{32}\./);
    expect((cfg.evidence as any).schedule).not.toBe('Active'); // configured, not yet enabled
    const pod = await runStep('provision-on-demand', true);
    expect(pod.state, JSON.stringify([pod.error, pod.evidence])).toBe('succeeded');
    expect((pod.evidence as any).user).toContain(PILOT_OU);
    const on = await runStep('enable-cloud-sync', true);
    expect(on.state).toBe('succeeded');
    expect((on.evidence as any).schedule).toBe('Active');
  });

  it('fails verification before Cloud Sync has taken the OU, naming the objects, and passes once its cycle took every one', async () => {
    const verify = await seq('verify-ou-users');
    // Connect's users are all in Entra already, so counts would match: only Cloud Sync's own logs prove the move.
    const early = await runStep(verify, false);
    expect(early.state).toBe('failed');
    expect(early.error.message).toMatch(/Cloud Sync has not taken \d+ of \d+ objects in OU=CloudSyncPilot/);
    expect(early.error.message).toContain("not in Cloud Sync's provisioning logs yet");
    h.app.tenant!.tick();
    await h.click(requester, 'step.retry', await h.stepData(migrationId, verify));
    const done = await h.waitForStep(migrationId, verify, ['succeeded', 'failed']);
    expect(done.state, JSON.stringify(done.error)).toBe('succeeded');
    expect((done.evidence as any).humanCheck).toContain('new user');
    const st = await h.state();
    const pilot = st.ous.find((o: any) => o.name === 'CloudSyncPilot');
    expect(pilot.exportedBy).toEqual({ connect: 0, cloud: 40, missing: 0 });
  });

  it('starts the scheduler; Connect keeps exporting everything outside the pilot, and nothing was deleted or duplicated', async () => {
    expect((await runStep('start-scheduler', true)).state).toBe('succeeded');
    const before = await h.state();
    h.app.tenant!.forest.server.runSyncCycle('Delta', h.clock.now());
    h.app.tenant!.tick();
    const st = await h.state();
    expect(st.scheduler.SyncCycleEnabled).toBe(true);
    expect(st.graph.users).toBe(before.graph.users); // no delete, no duplicate
    for (const ou of st.ous.filter((o: any) => o.name !== 'CloudSyncPilot' && o.adUsers > 0 && o.inConnectScope))
      expect(ou.exportedBy.connect, ou.name).toBe(ou.adUsers);
    expect(st.ous.find((o: any) => o.name === 'CloudSyncPilot').exportedBy.cloud).toBe(40);
  });

  it('answers status with progress and on-premises vs Entra counts, and jobs with the job status', async () => {
    const before = h.connector.sent.length;
    await h.say(requester, 'status');
    const status = await h.connector.waitFor(() =>
      h.connector.sent.slice(before).find((s) => s.method === 'POST' && cardText(s.activity).startsWith('Status')),
    );
    expect(cardText(status.activity)).toContain('12 of 20 steps done');
    expect(cardText(status.activity)).toContain('on-premises 40 · Entra 40');
    const b2 = h.connector.sent.length;
    await h.say(requester, 'jobs');
    const jobs = await h.connector.waitFor(() => h.connector.sent.slice(b2).find((s) => cardText(s.activity).includes('Cloud Sync jobs')));
    expect(cardText(jobs.activity)).toMatch(/AD2AADProvisioning\./);
    expect(cardText(jobs.activity)).toContain('Active');
  });

  it('keeps a hash-chained audit trail of every transition', async () => {
    const v = await h.app.engine.verifyAudit(migrationId);
    expect(v.ok).toBe(true);
    const rows = await h.app.engine.auditTrail(migrationId);
    expect(rows.filter((r) => r.action === 'approved').map((r) => r.actorOid)).toEqual(Array(6).fill(owner.aadObjectId));
  });
});
