import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY } from '../../src/clock.js';
import { runbookOf } from '../../src/runbooks/catalog.js';
import { Harness, USERS, PILOT_OU, cardText } from '../helpers/harness.js';

const FINANCE_OU = 'OU=Finance,DC=contoso,DC=com';
const GWB_OU = 'OU=GWB,DC=contoso,DC=com';

/** Entra as the sandbox holds it: every user once, nothing deleted, at every point of a runbook. */
function entraIntegrity(h: Harness) {
  const dir = h.app.tenant!.graph.directory;
  const users = [...dir.objects.values()].filter((o) => o.kind === 'user');
  const groups = [...dir.objects.values()].filter((o) => o.kind === 'group').length;
  const anchors = users.map((u) => u.props.onPremisesImmutableId).filter(Boolean);
  const tombstones = [...dir.tombstones.values()] as any[];
  return { users: users.length, groups, duplicates: anchors.length - new Set(anchors).size, deleted: tombstones.filter((t) => t.kind !== 'group').length, deletedGroups: tombstones.filter((t) => t.kind === 'group').length };
}

/** Entra after every step change of the process, from now on: each must equal the baseline (nothing deleted or duplicated). */
function watchEntra(h: Harness) {
  const baseline = entraIntegrity(h);
  const checks: ReturnType<typeof entraIntegrity>[] = [];
  h.app.engine.on(() => checks.push(entraIntegrity(h)));
  return { baseline, checks };
}

/** The bot's reply after `from` that says what we expect (alerts may be posted in between). */
async function reply(h: Harness, from: number, expected: string): Promise<string> {
  const r = await h.connector.waitFor(() => h.connector.sent.slice(from).find((s) => s.method === 'POST' && cardText(s.activity).includes(expected)), 10_000, `a reply containing "${expected}"`);
  return cardText(r.activity);
}

describe('connect-to-cloud-sync, complete: batches, rollback in batch 2, disable, soak, decommission', () => {
  let h: Harness;
  let m = '';
  let entra: ReturnType<typeof watchEntra>;

  beforeAll(async () => {
    h = await Harness.start();
    // Entra's state after every step change, for "nothing deleted or duplicated at any point"
    entra = watchEntra(h);
    m = await h.newPilot('Full');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('runs the pilot batch', async () => {
    await h.advanceTo(m, 'enable-cloud-sync', 1);
    h.app.tenant!.tick();
    await h.advanceTo(m, 'start-scheduler', 1);
    expect((await h.state()).ous.find((o: any) => o.name === 'CloudSyncPilot').exportedBy).toEqual({ connect: 0, cloud: 40, missing: 0 });
  });

  it('adds batch 2 from chat, and refuses to start it while a critical alert is open', async () => {
    const n = h.connector.sent.length;
    await h.say(USERS.alex, `batch add Full ou="${FINANCE_OU}"`);
    expect(await reply(h, n, 'Batch 2 added')).toContain(FINANCE_OU);
    expect((await h.app.engine.getMigration(m))!.ous).toEqual([PILOT_OU, FINANCE_OU]);
    await h.fault({ kind: 'quarantine', reason: 'TooManyDeletes' });
    await h.monitorRun();
    const count2 = await h.seqOf(m, 'count-ou-users', 2);
    const refused = await h.click(USERS.alex, 'step.request', await h.stepData(m, count2));
    expect(cardText(refused.card)).toContain('open critical alerts');
    expect((await h.app.engine.getStep(m, count2))!.state).toBe('pending');
    // the remedy: restart with ForceDeletes is an admin action here; the alert resolves on the next cycle
    const job = h.app.tenant!.graph.summary().jobs.find((j) => j.templateId === 'AD2AADProvisioning')!;
    await fetch(`${h.app.tenant!.graphBaseUrl}/beta/servicePrincipals/${job.servicePrincipalId}/synchronization/jobs/${encodeURIComponent(job.jobId)}/restart`, { method: 'POST', headers: { authorization: 'Bearer x', 'content-type': 'application/json' }, body: JSON.stringify({ criteria: { resetScope: 'QuarantineState' } }) });
    h.app.tenant!.tick();
    await h.monitorRun();
    expect((await h.app.alerts.list({ migrationId: m, openOnly: true })).filter((a) => a.severity === 'critical')).toEqual([]);
  });

  it('refuses to take a migrating OU out of Connect Sync scope', async () => {
    const n = h.connector.sent.length;
    await h.say(USERS.alex, `connect scope remove "${PILOT_OU}"`);
    expect(await reply(h, n, 'Refused')).toContain('export reference deletes');
    expect((await h.state()).connectScope.some((c: string) => c.toLowerCase() === PILOT_OU.toLowerCase())).toBe(true);
  });

  it('rolls batch 2 back in the middle: Connect Sync keeps the OU, Cloud Sync keeps batch 1', async () => {
    await h.advanceTo(m, 'configure-cloud-sync', 2);
    expect((await h.state()).jobs.find((j: any) => j.templateId === 'AD2AADProvisioning').includedContainers).toEqual([PILOT_OU, FINANCE_OU]);
    const notOwner = h.connector.sent.length;
    await h.say(USERS.bystander, 'rollback Full batch=2');
    expect(await reply(h, notOwner, 'Only a change owner')).toContain('Nothing was changed');
    const n = h.connector.sent.length;
    await h.say(USERS.alex, 'rollback Full batch=2');
    expect(await reply(h, n, 'Rollback of batch 2 started')).toContain('rollback steps');
    const steps = await h.app.engine.getSteps(m);
    expect(steps.filter((s) => s.batch === 2 && s.key === 'provision-on-demand')[0].state).toBe('skipped');
    await h.advanceTo(m, 'rollback-verify', 2);
    const st = await h.state();
    expect(st.jobs.find((j: any) => j.templateId === 'AD2AADProvisioning').includedContainers).toEqual([PILOT_OU]);
    expect(st.ous.find((o: any) => o.name === 'Finance').exportedBy).toEqual({ connect: 80, cloud: 0, missing: 0 });
    expect(st.ous.find((o: any) => o.name === 'CloudSyncPilot').exportedBy.cloud).toBe(40);
    expect(st.rules.filter((r: any) => r.linkType === 'JoinNoFlow')).toHaveLength(1); // batch 1's pair only
    const audit = await h.app.engine.auditTrail(m);
    expect(audit.some((a) => a.action === 'rollback-started' && a.actorOid === USERS.alex.aadObjectId)).toBe(true);
  });

  it('answers status <migration> with its batches and every step', async () => {
    const n = h.connector.sent.length;
    await h.say(USERS.alex, 'status Full');
    const text = await reply(h, n, 'OU batches');
    const steps = await h.app.engine.getSteps(m);
    const inBatch = (b: number) => steps.filter((s) => s.batch === b).length;
    expect(text).toContain(`${PILOT_OU} · ${inBatch(1)} of ${inBatch(1)} steps done · done`);
    expect(text).toContain(`${FINANCE_OU} · ${inBatch(2)} of ${inBatch(2)} steps done · rolled back to Connect Sync`);
    // every step, in order, with its batch and state
    const lines = text.split('\n').filter((l) => /^\S+ \d+\. /.test(l));
    expect(lines).toHaveLength(steps.length);
    expect(lines).toContain(`✅ ${await h.seqOf(m, 'rollback-verify', 2)}. ${h.app.engine.plannedStep((await h.app.engine.getMigration(m))!, steps.find((s) => s.key === 'rollback-verify')!).def.title} (batch 2) — Done`);
    expect(lines).toContain(`⤼ ${await h.seqOf(m, 'provision-on-demand', 2)}. Provision one user on demand (batch 2) — Skipped`);
    // plain `status` keeps to the batches, without the step list
    const n2 = h.connector.sent.length;
    await h.say(USERS.alex, 'status');
    const all = await reply(h, n2, 'OU batches');
    expect(all).toContain('Batch 2');
    expect(all.split('\n').filter((l) => /^\S+ \d+\. /.test(l))).toEqual([]);
  });

  it('validates, disables Connect Sync, and refuses to decommission before the soak ends', async () => {
    h.app.tenant!.tick();
    await h.advanceTo(m, 'check-accidental-delete-prevention');
    const validation = (await h.app.engine.getStep(m, await h.seqOf(m, 'post-migration-validation')))!;
    expect(validation.evidence).toMatchObject({ 'Password hash sync': expect.stringContaining('human check') });
    const adp = (await h.app.engine.getStep(m, await h.seqOf(m, 'check-accidental-delete-prevention')))!;
    expect((adp.evidence as any).action).toContain('Disable-AADCloudSyncToolsDirSyncAccidentalDeletionPrevention');
    expect((await h.state()).scheduler.SyncCycleEnabled).toBe(false);
    const soak = await h.seqOf(m, 'soak');
    h.clock.advance(6 * DAY);
    const early = await h.click(USERS.alex, 'step.request', await h.stepData(m, soak));
    expect(cardText(early.card)).toMatch(/soak lasts 7 days/);
    expect((await h.app.engine.getStep(m, soak))!.state).toBe('pending');
  });

  it('after 7 days, confirms the soak and decommissions with two owners and the typed name', async () => {
    h.clock.advance(1 * DAY + 60_000);
    await h.advance(m, await h.seqOf(m, 'soak'), await h.seqOf(m, 'soak'));
    const dec = await h.seqOf(m, 'decommission');
    await h.click(USERS.alex, 'step.request', await h.stepData(m, dec));
    const untyped = await h.click(USERS.megan, 'step.approve', await h.stepData(m, dec));
    expect(cardText(untyped.card)).toContain('Type the migration');
    await h.click(USERS.megan, 'step.approve', { ...(await h.stepData(m, dec)), confirm: 'Full' });
    expect((await h.app.engine.getStep(m, dec))!.state).toBe('awaiting_approval'); // sensitive: a second owner
    await h.click(USERS.lee, 'step.approve', { ...(await h.stepData(m, dec)), confirm: 'Full' });
    expect((await h.waitForStep(m, dec, ['succeeded'])).state).toBe('succeeded');
    expect((await h.app.engine.getMigration(m))!.state).toBe('completed');
  });

  it('never deleted or duplicated an Entra user at any point', () => {
    expect(entra.checks.length).toBeGreaterThan(50);
    for (const c of entra.checks) expect(c).toEqual({ ...entra.baseline, duplicates: 0, deleted: 0 });
  });
});

describe('group-writeback-v2 (seed 004)', () => {
  let h: Harness;
  let m = '';
  let entra: ReturnType<typeof watchEntra>;
  beforeAll(async () => {
    h = await Harness.start();
    entra = watchEntra(h);
    await h.say(USERS.alex, `new migration "GWB" kind=group-writeback-v2 domain=contoso.com ou="${GWB_OU}" owners=${USERS.alex.aadObjectId},${USERS.megan.aadObjectId},${USERS.lee.aadObjectId}`);
    m = (await h.app.engine.findMigration('GWB'))!.id;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('runs end to end; staging mode is a human step the runner verifies; written-back groups survive', async () => {
    const groupsBefore = h.app.tenant!.forest.ad.objectsUnder([GWB_OU], ['group']).length;
    await h.advanceTo(m, 'gwb-copy-apply');
    const report = (await h.app.engine.getStep(m, await h.seqOf(m, 'gwb-scope-report')))!;
    expect((report.evidence as any).results[0].count).toBe(groupsBefore);
    // Staging mode cannot be set from PowerShell: until a person does it in the wizard, the check fails.
    const staging = await h.seqOf(m, 'gwb-staging-on');
    await h.click(USERS.alex, 'step.request', await h.stepData(m, staging));
    expect((await h.waitForStep(m, staging, ['failed'])).error.message).toContain('StagingModeEnabled is still False');
    h.app.tenant!.forest.server.setStagingMode(true); // the wizard
    await h.click(USERS.alex, 'step.retry', await h.stepData(m, staging));
    await h.waitForStep(m, staging, ['succeeded']);
    await h.advanceTo(m, 'gwb-start-scheduler');
    expect((await h.state()).scheduler.SyncCycleEnabled).toBe(true);
    expect(h.app.tenant!.forest.server.companyFeatures().GroupWritebackV2).toBe(false);
    h.app.tenant!.forest.server.setStagingMode(false); // the wizard again
    await h.advanceTo(m, 'gwb-verify');
    expect((await h.app.engine.getSteps(m)).map((s) => `${s.key}:${s.state}`).filter((x) => !x.endsWith(':succeeded'))).toEqual([]);
    expect((await h.app.engine.getMigration(m))!.state).toBe('completed');
    expect(h.app.tenant!.forest.ad.objectsUnder([GWB_OU], ['group']).length).toBe(groupsBefore);
    // the irreversible step had two owners
    const disableSeq = await h.seqOf(m, 'gwb-disable-feature');
    expect((await h.app.engine.auditTrail(m)).filter((a) => a.action === 'approved' && a.stepSeq === disableSeq).map((a) => a.actorOid).sort()).toEqual([USERS.lee.aadObjectId, USERS.megan.aadObjectId].sort());
  });

  it('never deleted or duplicated an Entra user or group at any point', () => {
    expect(entra.checks.length).toBeGreaterThan(20);
    for (const c of entra.checks) expect(c).toEqual({ ...entra.baseline, duplicates: 0, deleted: 0 });
  });
});

describe('dirsync-upgrade (seed 003)', () => {
  let h: Harness;
  let entra: ReturnType<typeof watchEntra>;
  beforeAll(async () => {
    h = await Harness.start();
    entra = watchEntra(h);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('analyses the object count, takes the in-place path below 50,000 and skips the parallel steps with the reason', async () => {
    await h.say(USERS.alex, `new migration "DirSync" kind=dirsync-upgrade domain=contoso.com owners=${USERS.alex.aadObjectId},${USERS.megan.aadObjectId}`);
    const m = (await h.app.engine.findMigration('DirSync'))!.id;
    await h.advanceTo(m, 'dirsync-in-place');
    const steps = await h.app.engine.getSteps(m);
    const analysis = steps.find((s) => s.key === 'dirsync-analysis')!;
    expect((analysis.evidence as any).results[0].total).toBeLessThan(50_000);
    const parallel = steps.filter((s) => ['dirsync-export-settings', 'dirsync-install-staging', 'dirsync-verify-staging', 'dirsync-retire', 'dirsync-leave-staging'].includes(s.key));
    for (const s of parallel) {
      expect(s.state).toBe('skipped');
      expect((s.evidence as any).skipped).toContain('in-place upgrade applies');
    }
    expect((await h.app.engine.getMigration(m))!.state).toBe('completed');
    expect(entra.checks.length).toBeGreaterThan(5);
    for (const c of entra.checks) expect(c).toEqual({ ...entra.baseline, duplicates: 0, deleted: 0 });
  });

  it('shows a runbook without starting anything, and refuses an OU for DirSync', async () => {
    const n = h.connector.sent.length;
    await h.say(USERS.alex, 'runbook dirsync-upgrade');
    const card = await reply(h, n, 'Runbook');
    expect(card).toContain('parallel deployment');
    expect(card).toContain('must not roll back to using DirSync');
    const n2 = h.connector.sent.length;
    await h.say(USERS.alex, `new migration "D2" kind=dirsync-upgrade domain=contoso.com ou="${PILOT_OU}" owners=${USERS.megan.aadObjectId}`);
    expect(await reply(h, n2, 'takes no OU')).toContain('Migration not created');
  });

  it('shows each kind of runbook, every step in order with its source, and starts nothing', async () => {
    const before = (await h.app.engine.listMigrations()).length;
    for (const kind of ['connect-to-cloud-sync', 'group-writeback-v2', 'dirsync-upgrade']) {
      const rb = runbookOf(kind);
      const n = h.connector.sent.length;
      await h.say(USERS.alex, `runbook ${kind}`);
      const card = await reply(h, n, `Runbook · ${rb.title}`);
      for (const st of rb.steps) {
        expect(card, `${kind}: ${st.key}`).toContain(`${st.title}${st.perBatch ? ' (per OU batch)' : ''}`);
        expect(card, `${kind}: ${st.key}`).toContain(st.source.replace(/</g, '&lt;').replace(/>/g, '&gt;')); // Teams renders markup: <…> is written as entities
      }
    }
    expect(await reply(h, h.connector.sent.length - 1, 'Runbook')).toContain('must not roll back to using DirSync');
    expect((await h.app.engine.listMigrations()).length).toBe(before);
    const n = h.connector.sent.length;
    await h.say(USERS.alex, 'runbook frobnicate');
    expect(await reply(h, n, 'No such runbook')).toContain('connect-to-cloud-sync');
  });
});
