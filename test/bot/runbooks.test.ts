import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY } from '../../src/clock.js';
import { runbookOf } from '../../src/runbooks/catalog.js';
import { citations } from '../../src/runbooks/sources.js';
import { Harness, USERS, PILOT_OU, cardText } from '../helpers/harness.js';

const FINANCE_OU = 'OU=Finance,DC=contoso,DC=com';

/** Entra as the sandbox holds it: every user once, nothing deleted, at every point of a runbook. */
function entraIntegrity(h: Harness) {
  const dir = h.app.tenant!.graph.directory;
  const users = [...dir.objects.values()].filter((o) => o.kind === 'user');
  const groups = [...dir.objects.values()].filter((o) => o.kind === 'group').length;
  const anchors = users.map((u) => u.props.onPremisesImmutableId).filter(Boolean);
  const tombstones = [...dir.tombstones.values()] as any[];
  return {
    users: users.length,
    groups,
    duplicates: anchors.length - new Set(anchors).size,
    deleted: tombstones.filter((t) => t.kind !== 'group').length,
    deletedGroups: tombstones.filter((t) => t.kind === 'group').length,
  };
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
  const r = await h.connector.waitFor(
    () => h.connector.sent.slice(from).find((s) => s.method === 'POST' && cardText(s.activity).includes(expected)),
    10_000,
    `a reply containing "${expected}"`,
  );
  return cardText(r.activity);
}

describe('connect-to-cloud-sync, complete: batches, a refused partial rollback, completeness before disabling, soak, decommission', () => {
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
    await h.runBatch(m, 1);
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
    // A step further on is refused naming the step that holds it by the number on that step's card.
    const steps = await h.app.engine.getSteps(m);
    const last = steps.at(-1)!;
    const holder = steps.find((s) => s.ord < last.ord && s.state !== 'succeeded' && s.state !== 'skipped')!;
    const early = await h.click(USERS.alex, 'step.request', await h.stepData(m, last.seq));
    expect(cardText(early.card)).toContain(`Step ${holder.seq} (`);
    // the remedy: restart with ForceDeletes is an admin action here; the alert resolves on the next cycle
    const job = h.app.tenant!.graph.summary().jobs.find((j) => j.templateId === 'AD2AADProvisioning')!;
    await fetch(
      `${h.app.tenant!.graphBaseUrl}/beta/servicePrincipals/${job.servicePrincipalId}/synchronization/jobs/${encodeURIComponent(job.jobId)}/restart`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${h.graphToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ criteria: { resetScope: 'QuarantineState' } }),
      },
    );
    h.app.tenant!.tick();
    await h.monitorRun();
    expect((await h.app.alerts.list({ migrationId: m, openOnly: true })).filter((a) => a.severity === 'critical')).toEqual([]);
  });

  it('refuses to take a migrating OU out of Connect Sync scope', async () => {
    const n = h.connector.sent.length;
    await h.say(USERS.alex, `connect scope remove "${PILOT_OU}"`);
    expect(await reply(h, n, 'Refused')).toContain('export reference deletes');
    expect((await h.state()).ous.find((o: any) => o.name === 'CloudSyncPilot').inConnectScope).toBe(true);
  });

  it('refuses to roll batch 2 back alone once batch 1 is on Cloud Sync too, and changes nothing', async () => {
    await h.advanceTo(m, 'configure-cloud-sync', 2);
    expect((await h.state()).jobs.find((j: any) => j.templateId === 'AD2AADProvisioning').includedContainers).toEqual([PILOT_OU, FINANCE_OU]);
    const notOwner = h.connector.sent.length;
    await h.say(USERS.bystander, 'rollback Full batch=2');
    expect(await reply(h, notOwner, 'Only a change owner')).toContain('Nothing was changed');
    // What a step is and where it stands (its card's message id is Teams', set when the card is posted, not a change).
    const stepsNow = async () => (await h.app.engine.getSteps(m)).map(({ activityId: _, ...s }) => s);
    const before = await stepsNow();
    const n = h.connector.sent.length;
    await h.say(USERS.alex, 'rollback Full batch=2');
    const text = await reply(h, n, 'cannot be rolled back alone');
    expect(text).toContain(`batch 1 (${PILOT_OU})`);
    expect(text).toContain('deletes its objects from Entra ID');
    expect(text).toContain('batch=all');
    expect(await stepsNow()).toEqual(before);
    expect((await h.state()).jobs.find((j: any) => j.templateId === 'AD2AADProvisioning').includedContainers).toEqual([PILOT_OU, FINANCE_OU]);
  });

  it('restarts the running job for batch 2 (a running job takes a new scope only after a restart), and Cloud Sync takes Finance', async () => {
    await h.runBatch(m, 2);
    const enable = (await h.app.engine.getStep(m, await h.seqOf(m, 'enable-cloud-sync', 2)))!;
    expect((enable.evidence as any).action).toContain('restarted');
    const st = await h.state();
    expect(st.ous.find((o: any) => o.name === 'Finance').exportedBy).toEqual({ connect: 0, cloud: 80, missing: 0 });
    expect(st.ous.find((o: any) => o.name === 'CloudSyncPilot').exportedBy.cloud).toBe(40);
    expect(st.rules.filter((r: any) => r.linkType === 'JoinNoFlow')).toHaveLength(4); // one pair per type, both OUs in its scope
  });

  it('answers status <migration> with its batches and every step', async () => {
    const n = h.connector.sent.length;
    await h.say(USERS.alex, 'status Full');
    const text = await reply(h, n, 'OU batches');
    const steps = await h.app.engine.getSteps(m);
    const inBatch = (b: number) => steps.filter((s) => s.batch === b).length;
    expect(text).toContain(`${PILOT_OU} · ${inBatch(1)} of ${inBatch(1)} steps done · done`);
    expect(text).toContain(`${FINANCE_OU} · ${inBatch(2)} of ${inBatch(2)} steps done · done`);
    const lines = text.split('\n').filter((l) => /^\S+ \d+\. /.test(l));
    expect(lines).toHaveLength(steps.length);
    const n2 = h.connector.sent.length;
    await h.say(USERS.alex, 'status');
    const all = await reply(h, n2, 'OU batches');
    expect(all).toContain('Batch 2');
    expect(all.split('\n').filter((l) => /^\S+ \d+\. /.test(l))).toEqual([]);
  });

  it('moves password hash sync to Cloud Sync (the tenant uses it) and nothing it does not use', async () => {
    await h.advanceTo(m, 'move-sync-features');
    const features = (await h.app.engine.getStep(m, await h.seqOf(m, 'move-sync-features')))!;
    expect((features.evidence as any)['Password hash sync']).toMatch(/used by the tenant: AD2AADPasswordHash job Active, last successful run/);
    expect((features.evidence as any)['Password writeback']).toContain('not used by the tenant');
    expect((features.evidence as any)['Exchange hybrid writeback']).toContain('not used by the tenant');
    expect(
      h.app
        .tenant!.graph.summary()
        .jobs.map((j) => j.templateId)
        .sort(),
    ).toEqual(['AD2AADPasswordHash', 'AD2AADProvisioning']);
    const writeback = (await h.app.engine.getStep(m, await h.seqOf(m, 'cloud-sync-password-writeback')))!;
    expect(writeback.state).toBe('skipped');
  });

  it('refuses to disable Connect Sync while its scope still holds objects no batch moved, counted per OU and type', async () => {
    const disable = await h.seqOf(m, 'disable-connect-sync');
    const r = await h.click(USERS.alex, 'step.request', await h.stepData(m, disable));
    const text = cardText(r.card);
    expect(text).toMatch(/Connect Sync still serves \d+ users, \d+ groups and \d+ contacts that no batch has moved/);
    expect(text).toMatch(/OU=Sales,DC=contoso,DC=com: \d+ users/);
    expect(text).not.toContain('OU=Service Accounts'); // excluded from Connect's scope: not Connect's to strand
    expect((await h.app.engine.getStep(m, disable))!.state).toBe('pending');
    expect((await h.state()).scheduler.SyncCycleEnabled).toBe(true);
  });

  it('disables Connect Sync entirely once every object in its scope has moved: scheduler off and the ADSync service stopped', async () => {
    // the whole domain: every OU in Connect's scope, the ones whose names need escaping included
    const rest = [
      'OU=Sales,DC=contoso,DC=com',
      'OU=PreSales,DC=contoso,DC=com',
      'OU=Engineering,DC=contoso,DC=com',
      'OU=Groups,DC=contoso,DC=com',
      'OU=Contacts,DC=contoso,DC=com',
      'OU=Contractors,DC=contoso,DC=com',
      'OU=Sales\\, EMEA,DC=contoso,DC=com',
      'OU=R\\+D,DC=contoso,DC=com',
      'OU=\\"Quoted\\" Team,DC=contoso,DC=com',
    ];
    for (const ou of rest) {
      const n = h.connector.sent.length;
      await h.say(USERS.alex, `batch add Full ou="${ou}"`);
      await reply(h, n, 'added to Full');
    }
    for (let b = 3; b <= 2 + rest.length; b++) await h.runBatch(m, b);
    h.app.tenant!.tick();
    await h.advanceTo(m, 'disable-connect-sync');
    const st = await h.state();
    expect(st.scheduler.SyncCycleEnabled).toBe(false);
    expect(st.adsyncService).toMatchObject({ status: 'Stopped', startupType: 'Disabled' });
    const disable = (await h.app.engine.getStep(m, await h.seqOf(m, 'disable-connect-sync')))!;
    expect(disable.plan!.runner!.map((a) => a.action)).toEqual(['export-server-config', 'set-scheduler', 'set-adsync-service']);
  });

  it('refuses to decommission before the soak ends', async () => {
    await h.advanceTo(m, 'check-accidental-delete-prevention');
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

describe('runbooks shown in chat (seeds 003, 004)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(async () => {
    await h?.stop();
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
        // the source as the documents' titles (links), never a seed number
        expect(card, `${kind}: ${st.key}`).toContain(
          citations(st.source)
            .map((r) => r.text)
            .join(''),
        );
      }
    }
    expect(await reply(h, h.connector.sent.length - 1, 'Runbook')).toContain('must not roll back to using DirSync');
    expect(await reply(h, h.connector.sent.length - 1, 'Runbook')).not.toMatch(/\bseeds? \d{3}/);
    expect((await h.app.engine.listMigrations()).length).toBe(before);
    const n = h.connector.sent.length;
    await h.say(USERS.alex, 'runbook frobnicate');
    expect(await reply(h, n, 'No such runbook')).toContain('connect-to-cloud-sync');
  });
});
