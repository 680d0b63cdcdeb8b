import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, cardText } from '../helpers/harness.js';

/**
 * Issue 14: the group writeback v2 (seed 004) and DirSync (seed 003) runbooks as the real systems behave, with go-live
 * gates that look before they leap. Each test fails on the runbooks of 7e6e835.
 */

const GWB_OU = 'OU=GWB,DC=contoso,DC=com';
const AD2AAD_TEMPLATE_ID = '1a4721b3-e57f-4451-ae87-ef078703ec94';
const HOUR = 3_600_000;

/** What an admin does in the Entra admin center: a Cloud Sync "Entra ID to AD" configuration for groups, enabled. */
async function configureGroupProvisioningInPortal(h: Harness): Promise<string> {
  const base = h.app.tenant!.graph.baseUrl;
  const headers = { authorization: `Bearer ${h.graphToken()}`, 'content-type': 'application/json' };
  const post = async (path: string, body?: unknown) => {
    const r = await fetch(`${base}${path}`, { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.status === 204 ? null : r.json();
  };
  const list = await (
    await fetch(`${base}/beta/servicePrincipals?$filter=${encodeURIComponent(`applicationTemplateId eq '${AD2AAD_TEMPLATE_ID}'`)}`, { headers })
  ).json();
  let spId: string | undefined = list.value?.find((sp: any) => sp.displayName === 'contoso.com')?.id;
  if (!spId) {
    const made = await post(`/beta/applicationTemplates/${AD2AAD_TEMPLATE_ID}/instantiate`, { displayName: 'contoso.com' });
    spId = made.servicePrincipal.objectId ?? made.servicePrincipal.id;
  }
  const job = await post(`/beta/servicePrincipals/${spId}/synchronization/jobs`, { templateId: 'AAD2ADGroupProvisioning' });
  await post(`/beta/servicePrincipals/${spId}/synchronization/jobs/${job.id}/start`);
  return job.id;
}

async function newGwbMigration(h: Harness, name: string): Promise<string> {
  await h.say(
    USERS.alex,
    `new migration "${name}" kind=group-writeback-v2 domain=contoso.com ou="${GWB_OU}" owners=${USERS.alex.aadObjectId},${USERS.megan.aadObjectId},${USERS.lee.aadObjectId}`,
  );
  return (await h.app.engine.findMigration(name))!.id;
}

describe('group writeback v2 → Cloud Sync (seed 004), production-faithful', () => {
  let h: Harness;
  let m = '';
  beforeAll(async () => {
    h = await Harness.start();
    const server = h.app.tenant!.forest.server;
    h.operators['gwb-staging-on'] = () => server.setStagingMode(true);
    h.operators['gwb-staging-off'] = () => server.setStagingMode(false);
    h.operators['gwb-configure-cloud-sync'] = async () => void (await configureGroupProvisioningInPortal(h));
    m = await newGwbMigration(h, 'GWB');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('confirms the tenant uses group writeback v2 before anything assumes it', async () => {
    const server = h.app.tenant!.forest.server;
    server.setCompanyFeatures({ GroupWritebackV2: false });
    const seq = await h.seqOf(m, 'gwb-prerequisites');
    await h.click(USERS.alex, 'step.request', await h.stepData(m, seq));
    const failed = await h.waitForStep(m, seq, ['failed']);
    expect(failed.error.message).toContain('GroupWritebackV2 = False');
    server.setCompanyFeatures({ GroupWritebackV2: true });
    await h.click(USERS.alex, 'step.retry', await h.stepData(m, seq));
    expect((await h.waitForStep(m, seq, ['succeeded'])).evidence.results[1].GroupWritebackV2).toBe(true);
  });

  it('lists, group by group from the real groupType, which groups are in scope and which stay out, and why', async () => {
    const ad = h.app.tenant!.forest.ad;
    // A written-back group someone changed to global scope: not what seed 004 supports.
    ad.add({
      cn: 'Group_0f0e0d0c-0000-4000-8000-00000000beef',
      parentDn: GWB_OU,
      objectClass: 'group',
      displayName: 'Old Global',
      adminDescription: 'Group_0f0e0d0c-0000-4000-8000-00000000beef',
      groupScope: 'global',
      securityEnabled: true,
    });
    await h.advanceTo(m, 'gwb-scope-report');
    const report = (await h.app.engine.getStep(m, await h.seqOf(m, 'gwb-scope-report')))!.evidence as any;
    expect(report.results[0].inScope).toBe(6);
    expect(report.inScopeGroups).toHaveLength(6);
    expect(report.outOfScopeGroups).toEqual(
      expect.arrayContaining([expect.stringMatching(/mail-enabled/), expect.stringMatching(/mail-enabled/), expect.stringMatching(/Old Global|global scope/)]),
    );
    expect(report.outOfScopeGroups.find((x: string) => x.includes('Group_0f0e0d0c'))).toContain('global scope: only universal groups are supported');
  });

  it('says where the rule pair goes and why it differs from seed 004, and attributes each warning to its text', async () => {
    const n = h.connector.sent.length;
    await h.say(USERS.alex, 'runbook group-writeback-v2');
    const card = await h.connector.waitFor(() => h.connector.sent.slice(n).find((s) => cardText(s.activity).includes('Runbook')), 10_000, 'the runbook card');
    const text = cardText(card.activity);
    const doc = 'Migrate Microsoft Entra Connect Sync group writeback V2 to Microsoft Entra Cloud Sync';
    expect(text).toContain(`differs from the 2023 revision of ${doc}`);
    expect(text).toContain('inbound on the Entra connector, outbound JoinNoFlow on the AD connector');
    expect(text).toMatch(new RegExp(`This operation is irreversible\\.[^\\n]*the current revision of ${doc}, 2024 and later`));
    expect(text).not.toMatch(/irreversible[^\n]*2023/);
    expect(text).not.toMatch(/\bseeds? \d{3}/);
  });

  it('asks approval to put the server in staging mode, then waits for the person and verifies it', async () => {
    await h.advanceTo(m, 'gwb-copy-apply');
    const seq = await h.seqOf(m, 'gwb-staging-on');
    await h.click(USERS.alex, 'step.request', await h.stepData(m, seq));
    expect((await h.app.engine.getStep(m, seq))!.state).toBe('awaiting_approval');
    await h.click(USERS.megan, 'step.approve', await h.stepData(m, seq));
    const waiting = await h.waitForStep(m, seq, ['operator']);
    const card = await h.click(USERS.alex, 'card.refresh', await h.stepData(m, seq));
    expect(cardText(card.card)).toContain('Approved — waiting for the person doing it');
    expect(JSON.stringify(card.card)).toContain('step.done');
    // Saying "done" before doing it proves nothing: the verification fails.
    await h.click(USERS.alex, 'step.done', { m, s: seq, v: waiting.version });
    expect((await h.waitForStep(m, seq, ['failed'])).error.message).toContain('StagingModeEnabled is still False');
    h.app.tenant!.forest.server.setStagingMode(true);
    await h.advanceTo(m, 'gwb-staging-on');
    expect((await h.app.engine.getStep(m, seq))!.state).toBe('succeeded');
    expect((await h.app.engine.auditTrail(m)).filter((a) => a.stepSeq === seq).map((a) => a.action)).toEqual(
      expect.arrayContaining(['approved', 'operator-go', 'operator-done', 'step-succeeded']),
    );
  });

  it('shows the pending exports before leaving staging; deletes of written-back groups block it; the approval binds to the figures', async () => {
    await h.advanceTo(m, 'gwb-start-scheduler');
    const server = h.app.tenant!.forest.server;
    // A wrong rule set: the inbound group rule is gone, and a full cycle in staging computes what going live would do.
    const inbound = server.rules().find((r) => r.Name.startsWith('In from AAD - Group SOAinAAD'))!;
    server.removeRule(inbound.Identifier);
    server.runSyncCycle('Initial', h.clock.now());
    expect(server.pendingExports('ad').filter((p) => p.writtenBackGroup && p.operation === 'delete')).toHaveLength(7);
    const seq = await h.seqOf(m, 'gwb-staging-off');
    await h.click(USERS.alex, 'step.request', await h.stepData(m, seq));
    const asked = (await h.app.engine.getStep(m, seq))!;
    expect(asked.state).toBe('awaiting_approval');
    expect(asked.plan!.preview!.lines.join('\n'), asked.plan!.preview!.lines.join('\n')).toContain('7 deletes, of which 7 deletes of written-back groups');
    expect(asked.plan!.preview!.objects.filter((o) => o.operation === 'delete' && o.dn.endsWith(GWB_OU))).toHaveLength(7);
    const card = cardText((await h.click(USERS.megan, 'card.refresh', await h.stepData(m, seq))).card);
    expect(card).toContain('Go-live: what will be exported or deleted');
    expect(card).toContain('would be deleted from AD');
    // An owner's plain approval is not enough: they must decide on the deletes explicitly.
    const plain = await h.click(USERS.megan, 'step.approve', await h.stepData(m, seq));
    expect(cardText(plain.card)).toContain("To approve anyway, type the migration's name");
    expect((await h.app.engine.getStep(m, seq))!.state).toBe('awaiting_approval');
    // The owners fix the rules instead, and the figures change before anyone approves: approving the old figures is void.
    server.addRule(inbound);
    server.runSyncCycle('Initial', h.clock.now());
    await h.click(USERS.megan, 'step.approve', { ...(await h.stepData(m, seq)), confirm: 'GWB' });
    const voided = await h.waitForStep(m, seq, ['awaiting_approval']);
    expect(voided.attempt).toBe(asked.attempt + 1);
    expect(voided.error.message).toContain('go-live figures changed after approval');
    expect(voided.plan.preview.counts.writtenBackGroupDeletes).toBe(0);
    expect(voided.plan.preview.blocker).toBeUndefined();
    // The new figures, approved as they are: then the person leaves staging mode and the runner verifies it.
    await h.click(USERS.megan, 'step.approve', await h.stepData(m, seq));
    await h.waitForStep(m, seq, ['operator']);
    server.setStagingMode(false);
    await h.click(USERS.alex, 'step.done', await h.stepData(m, seq));
    expect((await h.waitForStep(m, seq, ['succeeded'])).evidence.results[0].StagingModeEnabled).toBe(false);
  });

  it('verifies Cloud Sync group provisioning after the person configures it, and proves no written-back group was deleted', async () => {
    const seq = await h.seqOf(m, 'gwb-configure-cloud-sync');
    await h.click(USERS.alex, 'step.request', await h.stepData(m, seq));
    await h.click(USERS.megan, 'step.approve', await h.stepData(m, seq));
    await h.waitForStep(m, seq, ['operator']);
    await h.click(USERS.alex, 'step.done', await h.stepData(m, seq));
    expect((await h.waitForStep(m, seq, ['failed'])).error.message).toContain('No Cloud Sync group provisioning to AD (AAD2ADGroupProvisioning)');
    await h.advanceTo(m, 'gwb-configure-cloud-sync'); // Retry: approval again, the portal configuration, Done
    expect((await h.app.engine.getStep(m, seq))!.evidence).toMatchObject({ state: 'Active', quarantine: null });
    // Someone deletes a written-back group before the verification: it says which.
    const ad = h.app.tenant!.forest.ad;
    const victim = ad.objectsUnder([GWB_OU], ['group']).find((g) => g.displayName === 'Teams Rooms')!;
    ad.delete(victim.objectGUID);
    const verify = await h.seqOf(m, 'gwb-verify');
    await h.click(USERS.alex, 'step.request', await h.stepData(m, verify));
    const failed = await h.waitForStep(m, verify, ['failed']);
    expect(failed.error.message).toContain('1 written-back group(s) in scope at the start no longer exist in AD');
    expect(failed.error.message).toContain(victim.dn);
  });
});

describe('DirSync → Entra Connect (seed 003), production-faithful', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(async () => {
    await h?.stop();
  });

  const create = async (name: string, extra = '') => {
    const n = h.connector.sent.length;
    await h.say(
      USERS.alex,
      `new migration "${name}" kind=dirsync-upgrade domain=contoso.com owners=${USERS.alex.aadObjectId},${USERS.megan.aadObjectId}${extra}`,
    );
    const m = await h.app.engine.findMigration(name);
    if (!m)
      throw new Error(
        h.connector.sent
          .slice(n)
          .map((s) => cardText(s.activity))
          .join('\n'),
      );
    return m.id;
  };

  it('refuses a forest that Entra Connect synchronizes: the upgrade is only for DirSync', async () => {
    const m = await create('NotDirSync');
    const seq = await h.seqOf(m, 'dirsync-analysis');
    await h.click(USERS.alex, 'step.request', await h.stepData(m, seq));
    const failed = await h.waitForStep(m, seq, ['failed']);
    expect(failed.error.message).toContain('synchronized by Microsoft Entra Connect, not DirSync');
  });

  it('counts every domain of the forest, as DirSync does: 50,000 or more objects recommends the parallel deployment', async () => {
    expect((await h.fault({ kind: 'sync-tool', tool: 'dirsync' })).status).toBe(200);
    expect((await h.fault({ kind: 'forest-domain', domain: 'emea.contoso.com', users: 45_000 })).status).toBe(200);
    const m = await create('Forest');
    await h.advanceTo(m, 'dirsync-prerequisites');
    const ev = (await h.app.engine.getStep(m, await h.seqOf(m, 'dirsync-analysis')))!.evidence as any;
    expect(ev.syncTool).toMatch(/^DirSync \(MSOL_AD_SYNC on DIRSYNC01\)$/);
    expect(ev.domains).toHaveLength(2);
    const contoso = ev.results[1].domains.find((d: any) => d.domain === 'contoso.com').total;
    expect(contoso).toBeLessThan(50_000); // one domain alone would have said in-place
    expect(ev.objects).toBe(contoso + 45_000);
    expect(ev).toMatchObject({ recommendedPath: 'parallel', chosenPath: 'parallel' });
    expect(ev.estimateHours).toBeGreaterThanOrEqual(3);
    const steps = await h.app.engine.getSteps(m);
    expect(steps.find((s) => s.key === 'dirsync-in-place')).toMatchObject({
      state: 'skipped',
      evidence: { skipped: expect.stringContaining('parallel deployment was chosen') },
    });
    expect(steps.find((s) => s.key === 'dirsync-export-settings')!.state).toBe('pending');
  });

  it('lets the owners choose in-place at 50,000 or more, and verifies after the upgrade that sync resumed', async () => {
    const m = await create('InPlace', ' path=in-place');
    await h.advanceTo(m, 'dirsync-prerequisites');
    const ev = (await h.app.engine.getStep(m, await h.seqOf(m, 'dirsync-analysis')))!.evidence as any;
    expect(ev).toMatchObject({ recommendedPath: 'parallel', chosenPath: 'in-place', override: expect.stringContaining('against the recommendation') });
    const seq = await h.seqOf(m, 'dirsync-in-place');
    await h.click(USERS.alex, 'step.request', await h.stepData(m, seq));
    await h.click(USERS.megan, 'step.approve', await h.stepData(m, seq));
    await h.waitForStep(m, seq, ['operator']);
    // The upgrade is not finished: Entra has seen no directory sync since it began.
    h.clock.advance(60_000);
    await h.click(USERS.alex, 'step.done', await h.stepData(m, seq));
    expect((await h.waitForStep(m, seq, ['failed'])).error.message).toContain('sync has not resumed');
    // Retry; this time the new Entra Connect completes a cycle before the person says done.
    h.operators['dirsync-in-place'] = () => {
      h.clock.advance(60_000);
      h.app.tenant!.forest.server.runSyncCycle('Delta', h.clock.now());
    };
    await h.advanceTo(m, 'dirsync-in-place');
    await h.app.engine.idle(); // the steps that no longer apply are skipped right after
    const done = (await h.app.engine.getStep(m, seq))!.evidence as any;
    expect(Date.parse(done.onPremisesLastSyncDateTime)).toBeGreaterThan(Date.parse(done.upgradeStartedAt));
    expect((await h.app.engine.getSteps(m)).filter((s) => s.state !== 'succeeded').map((s) => `${s.key}:${s.state}`)).toEqual([
      'dirsync-export-settings:skipped',
      'dirsync-force-export:skipped',
      'dirsync-install-staging:skipped',
      'dirsync-verify-staging:skipped',
      'dirsync-retire:skipped',
      'dirsync-leave-staging:skipped',
    ]);
    expect((await h.app.engine.getMigration(m))!.state).toBe('completed');
  });

  it('below 50,000 lets the owners choose a parallel deployment, exported with AzureADConnect.exe /ForceExport', async () => {
    const small = await Harness.start();
    try {
      await small.fault({ kind: 'sync-tool', tool: 'dirsync' });
      await small.say(
        USERS.alex,
        `new migration "Refresh" kind=dirsync-upgrade domain=contoso.com owners=${USERS.alex.aadObjectId},${USERS.megan.aadObjectId} path=parallel`,
      );
      const m = (await small.app.engine.findMigration('Refresh'))!.id;
      await small.advanceTo(m, 'dirsync-prerequisites');
      const steps = await small.app.engine.getSteps(m);
      expect(steps.find((s) => s.key === 'dirsync-analysis')!.evidence).toMatchObject({ recommendedPath: 'in-place', chosenPath: 'parallel' });
      expect(steps.find((s) => s.key === 'dirsync-in-place')!.state).toBe('skipped');
      expect(steps.find((s) => s.key === 'dirsync-export-settings')!.state).toBe('skipped');
      expect(steps.find((s) => s.key === 'dirsync-force-export')!.state).toBe('pending');
      const force = await small.seqOf(m, 'dirsync-force-export');
      await small.click(USERS.alex, 'step.request', await small.stepData(m, force));
      await small.waitForStep(m, force, ['succeeded']);
      expect(cardText((await small.click(USERS.alex, 'card.refresh', await small.stepData(m, force))).card)).toContain('AzureADConnect.exe /ForceExport');
    } finally {
      await small.stop();
    }
  });

  it('installs with /migrate, finds the full runs however many delta cycles followed, and gates going live on the pending exports', async () => {
    const server = h.app.tenant!.forest.server;
    const m = await create('Parallel');
    h.operators['dirsync-install-staging'] = () => server.setStagingMode(true);
    await h.advanceTo(m, 'dirsync-force-export');
    const install = await h.seqOf(m, 'dirsync-install-staging');
    await h.click(USERS.alex, 'step.request', await h.stepData(m, install));
    const card = cardText((await h.click(USERS.alex, 'card.refresh', await h.stepData(m, install))).card);
    expect(card).toContain('AzureADConnect.exe /migrate');
    expect(card).not.toContain('AzureADConnect.msi');
    await h.click(USERS.megan, 'step.approve', await h.stepData(m, install));
    await h.waitForStep(m, install, ['operator']);
    server.setStagingMode(true);
    await h.click(USERS.alex, 'step.done', await h.stepData(m, install));
    await h.waitForStep(m, install, ['succeeded']);
    // The new server's first cycle is Initial; a day of 30-minute delta cycles follows before anyone verifies.
    server.runSyncCycle('Initial', h.clock.now());
    for (let i = 0; i < 48; i++) {
      h.clock.advance(HOUR / 2);
      server.runSyncCycle('Delta', h.clock.now());
    }
    expect(server.runProfileResults({ limit: 50 }).some((r) => r.RunProfileName.startsWith('Full'))).toBe(false); // what the old check read
    // Changes made in AD while staging: the new server holds them as pending exports.
    const ad = h.app.tenant!.forest.ad;
    const leavers = ad.objectsUnder(['OU=Finance,DC=contoso,DC=com'], ['user']).slice(0, 3);
    for (const u of leavers) ad.delete(u.objectGUID);
    server.runSyncCycle('Delta', h.clock.now());
    await h.advanceTo(m, 'dirsync-verify-staging');
    const verified = (await h.app.engine.getStep(m, await h.seqOf(m, 'dirsync-verify-staging')))!.evidence as any;
    expect(verified.results[1].connectors.every((c: any) => c.fullImport?.Result === 'success' && c.fullSync?.Result === 'success')).toBe(true);
    expect(verified.pendingExports[0]).toContain('3 deletes');
    // Retiring DirSync and leaving staging show what will be exported or deleted, and their approval binds to it.
    await h.advanceTo(m, 'dirsync-retire');
    const leave = await h.seqOf(m, 'dirsync-leave-staging');
    await h.click(USERS.alex, 'step.request', await h.stepData(m, leave));
    const asked = (await h.app.engine.getStep(m, leave))!;
    expect(asked.plan!.preview!.counts['entra.delete']).toBe(3);
    expect(
      asked
        .plan!.preview!.objects.filter((o) => o.operation === 'delete')
        .map((o) => o.dn)
        .sort(),
    ).toEqual(leavers.map((u) => u.dn).sort());
    // One more leaver before the approval lands: the approved figures are no longer what would run.
    ad.delete(ad.objectsUnder(['OU=Finance,DC=contoso,DC=com'], ['user'])[0].objectGUID);
    server.runSyncCycle('Delta', h.clock.now());
    await h.click(USERS.megan, 'step.approve', await h.stepData(m, leave));
    const voided = await h.waitForStep(m, leave, ['awaiting_approval']);
    expect(voided.attempt).toBe(asked.attempt + 1);
    expect(voided.plan.preview.counts['entra.delete']).toBe(4);
    h.operators['dirsync-leave-staging'] = () => server.setStagingMode(false);
    await h.click(USERS.megan, 'step.approve', await h.stepData(m, leave));
    await h.waitForStep(m, leave, ['operator']);
    server.setStagingMode(false);
    await h.click(USERS.alex, 'step.done', await h.stepData(m, leave));
    await h.waitForStep(m, leave, ['succeeded']);
    expect((await h.app.engine.getMigration(m))!.state).toBe('completed');
  });

  it('says where the runner can run, and offers the LDAP executor on another machine', async () => {
    const m = await create('Placement');
    const card = cardText((await h.click(USERS.alex, 'card.refresh', await h.stepData(m, await h.seqOf(m, 'dirsync-analysis')))).card);
    expect(card).toContain('Windows Server 2008/2008 R2/2012 with PowerShell 2–4');
    expect(card).toContain('--executor ldap');
  });
});
