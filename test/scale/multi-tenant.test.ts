import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, cardText } from '../helpers/harness.js';
import { SANDBOX_TENANTS } from '../../src/sandbox/tenant.js';
import { startAgent } from '../../src/agent/client.js';
import { SandboxExecutor } from '../../src/sandbox/onprem/executor.js';
import { createLogger } from '../../src/log.js';

/**
 * One deployment, two customers (an MSP): SANDBOX_TENANTS=2 runs contoso.com and fabrikam.com, each with its own
 * Graph simulator, forest and runner agent. Two channels in two Entra tenants drive a migration each over HTTP;
 * nothing of one tenant is visible or actionable from the other's channel, and each runner leases only its
 * tenant's jobs.
 */
const [CONTOSO, FABRIKAM] = SANDBOX_TENANTS;
const CONTOSO_CHANNEL = '19:contoso-identity@thread.tacv2';
const FABRIKAM_CHANNEL = '19:fabrikam-identity@thread.tacv2';

describe('several tenants from one deployment', () => {
  let h: Harness;
  let contoso: Harness;
  let fabrikam: Harness;
  let contosoId = '';
  let fabrikamId = '';

  beforeAll(async () => {
    // Alex and Megan administer cutover (CUTOVER_ADMINS: object ids, whichever tenant's channel they speak in).
    h = await Harness.start({ env: { SANDBOX_TENANTS: '2', CUTOVER_ADMINS: `${USERS.alex.aadObjectId},${USERS.megan.aadObjectId}` } });
    contoso = h.in({ tenantId: CONTOSO.tenantId, channel: CONTOSO_CHANNEL });
    fabrikam = h.in({ tenantId: FABRIKAM.tenantId, channel: FABRIKAM_CHANNEL });
  });
  const agents = new AbortController();
  afterAll(async () => {
    agents.abort();
    await h?.stop();
  });

  /** Says something in a channel and returns the text of what the bot posted back to that channel. */
  async function ask(in_: Harness, text: string, user = USERS.megan): Promise<string> {
    const before = h.connector.sent.length;
    const r = await in_.say(user, text);
    expect(r.status).toBe(200);
    const channel = in_.scope.channel!;
    const sent = await h.connector.waitFor(
      () => h.connector.sent.slice(before).find((s) => s.conversationId.startsWith(channel) && s.method === 'POST'),
      10_000,
      `a reply to "${text}"`,
    );
    return cardText(sent.activity);
  }

  async function auditCount(migrationId: string): Promise<number> {
    return Number((await h.app.db.query('SELECT count(*) AS n FROM audit WHERE migration_id = $1', [migrationId])).rows[0].n);
  }

  it('runs two simulated tenants, each with its own Graph simulator, forest and runner bound to it', async () => {
    expect(h.app.tenants.map((t) => [t.tenantId, t.domain])).toEqual([
      [CONTOSO.tenantId, 'contoso.com'],
      [FABRIKAM.tenantId, 'fabrikam.com'],
    ]);
    expect(h.app.tenants[0].graphBaseUrl).not.toBe(h.app.tenants[1].graphBaseUrl);
    const fab = h.app.tenants[1].state() as any;
    expect(fab.ous.find((o: any) => o.name === 'CloudSyncPilot').dn).toBe('OU=CloudSyncPilot,DC=fabrikam,DC=com');
    expect(fab.graph.users).toBeGreaterThan(300);
    const runners = await h.app.hub.listRunners();
    expect(runners.filter((r) => r.tenantId === CONTOSO.tenantId && r.health !== 'Revoked').map((r) => r.name)).toEqual([
      expect.stringMatching(/^sandbox-[0-9a-z]+$/),
    ]);
    expect(runners.filter((r) => r.tenantId === FABRIKAM.tenantId && r.health !== 'Revoked').map((r) => r.name)).toEqual([
      expect.stringMatching(/^sandbox-fabrikam-/),
    ]);
  });

  it("names each migration's Entra tenant from the conversation it was started in", async () => {
    const owners = `owners=${USERS.alex.aadObjectId},${USERS.megan.aadObjectId}`;
    await contoso.say(USERS.alex, `new migration "Contoso pilot" domain=contoso.com ou="OU=CloudSyncPilot,DC=contoso,DC=com" ${owners}`);
    await fabrikam.say(USERS.alex, `new migration "Fabrikam pilot" domain=fabrikam.com ou="OU=CloudSyncPilot,DC=fabrikam,DC=com" ${owners}`);
    const c = (await h.app.engine.findMigration('Contoso pilot'))!;
    const f = (await h.app.engine.findMigration('Fabrikam pilot'))!;
    expect(c.tenantId).toBe(CONTOSO.tenantId);
    expect(f.tenantId).toBe(FABRIKAM.tenantId);
    contosoId = c.id;
    fabrikamId = f.id;
  });

  it("runs each tenant's runner steps on that tenant's runner only, against that tenant's forest", async () => {
    await contoso.advanceTo(contosoId, 'count-ou-users');
    await fabrikam.advanceTo(fabrikamId, 'count-ou-users');
    const count = (await h.app.engine.getStep(fabrikamId, await h.seqOf(fabrikamId, 'count-ou-users')))!;
    expect((count.evidence as any).results[0]).toMatchObject({ ou: 'OU=CloudSyncPilot,DC=fabrikam,DC=com', users: 40 });

    const jobs = (
      await h.app.db.query(
        'SELECT j.id, j.tenant_id, j.leased_by, j.lease_count, r.tenant_id AS runner_tenant FROM runner_jobs j LEFT JOIN runners r ON r.name = j.leased_by',
      )
    ).rows;
    const fab = jobs.filter((j: any) => j.tenant_id === FABRIKAM.tenantId);
    const con = jobs.filter((j: any) => j.tenant_id === CONTOSO.tenantId);
    expect(fab.length).toBeGreaterThan(0);
    expect(con.length).toBeGreaterThan(0);
    for (const j of jobs) {
      expect(j.runner_tenant, `job ${j.id} of ${j.tenant_id} leased by ${j.leased_by}`).toBe(j.tenant_id);
      expect(j.lease_count).toBe(1);
    }
    expect(new Set(fab.map((j: any) => j.leased_by)).size).toBe(1);
    expect(fab[0].leased_by).toMatch(/^sandbox-fabrikam-/);
  });

  it('a fabrikam job is never leased by the contoso runner, even when the fabrikam runner is gone', async () => {
    const fabRunner = (await h.app.hub.listRunners({ tenantId: FABRIKAM.tenantId })).find((r) => r.health !== 'Revoked')!;
    await h.app.hub.revokeRunner(fabRunner.name);
    const job = await h.app.hub.enqueue({
      migrationId: 'read:isolation',
      stepSeq: 0,
      attempt: 0,
      action: 'get-scheduler',
      params: {},
      tenantId: FABRIKAM.tenantId,
      mutation: false,
    });
    // The contoso runner keeps polling (recheck every 2 s): give it several chances.
    await new Promise((r) => setTimeout(r, 4_500));
    const after = (await h.app.hub.getJob(job.id))!;
    expect(after.state).toBe('queued');
    expect(after.leasedBy ?? null).toBeNull();
    // The fabrikam runner, rotated (registered again under its name), takes it: migrations are bound to it by name.
    const { token } = await h.app.hub.createRunner({ name: fabRunner.name, tenantId: FABRIKAM.tenantId });
    startAgent({
      serverUrl: h.app.url,
      token,
      executor: new SandboxExecutor({ server: h.app.tenants[1].forest.server, clock: h.clock }),
      log: createLogger({ level: 'silent' }),
      signal: agents.signal,
    });
    await expect.poll(async () => (await h.app.hub.getJob(job.id))!.state, { timeout: 10_000 }).toBe('succeeded');
    expect((await h.app.hub.getJob(job.id))!.leasedBy).toBe(fabRunner.name);
  });

  it('status, jobs, audit and runners in one tenant show nothing of the other', async () => {
    const status = await ask(fabrikam, 'status');
    expect(status).toContain('Fabrikam pilot');
    expect(status).not.toContain('Contoso pilot');
    expect(await ask(fabrikam, 'status "Contoso pilot"')).toContain('There is no migration "Contoso pilot"');
    expect(await ask(fabrikam, `audit ${contosoId}`)).toContain(`There is no migration "${contosoId}"`);
    expect(await ask(fabrikam, 'jobs')).not.toContain('Contoso');
    const runners = await ask(fabrikam, 'runners');
    expect(runners).not.toContain(CONTOSO.tenantId);
    expect(runners).not.toMatch(/sandbox-[0-9a-z]+\n/);
    const contosoRunners = await ask(contoso, 'runners');
    expect(contosoRunners).toContain(CONTOSO.tenantId);
    expect(contosoRunners).not.toContain(FABRIKAM.tenantId);
  });

  it('the same conversation id in another tenant sees nothing either (isolation is by tenant, not only by channel)', async () => {
    const impostor = h.in({ tenantId: FABRIKAM.tenantId, channel: CONTOSO_CHANNEL });
    const status = await ask(impostor, 'status');
    expect(status).not.toContain('Contoso pilot');
    expect(await ask(impostor, `audit ${contosoId}`)).toContain('There is no migration');
  });

  it('pending lists only the requests of the tenant it is asked in', async () => {
    for (const [x, id] of [
      [contoso, contosoId],
      [fabrikam, fabrikamId],
    ] as const) {
      const seq = await h.seqOf(id, 'stop-scheduler');
      const r = await x.click(USERS.alex, 'step.request', await h.stepData(id, seq));
      expect(cardText(r.card)).toContain('Waiting for approval');
    }
    const inFabrikam = await ask(fabrikam, 'pending');
    expect(inFabrikam).toContain('Fabrikam pilot');
    expect(inFabrikam).not.toContain('Contoso pilot');
    const inContoso = await ask(contoso, 'pending');
    expect(inContoso).toContain('Contoso pilot');
    expect(inContoso).not.toContain('Fabrikam pilot');
  });

  it("refuses card clicks naming another tenant's migration with a clear card, and changes nothing", async () => {
    const seq = await h.seqOf(contosoId, 'stop-scheduler');
    const audit = await auditCount(contosoId);
    const data = await h.stepData(contosoId, seq);
    for (const verb of ['step.approve', 'step.reject', 'card.refresh']) {
      const r = await fabrikam.click(USERS.megan, verb, { ...data, comment: 'no' });
      expect(r.status).toBe(200);
      // the same answer as an unknown id: no oracle of what exists in another tenant
      expect(cardText(r.card), verb).toContain(`Migration ${contosoId} does not exist.`);
      expect(cardText(r.card)).not.toContain('Contoso pilot');
    }
    const refresh = await fabrikam.click(USERS.megan, 'migration.refresh', { m: contosoId });
    expect(cardText(refresh.card)).toContain('another conversation or Entra tenant');
    expect((await h.app.engine.getStep(contosoId, seq))!.state).toBe('awaiting_approval');
    expect(await h.app.engine.getApprovals(contosoId, seq, 1)).toHaveLength(0);
    expect(await auditCount(contosoId)).toBe(audit);
    // …while in its own channel the same click works.
    const ok = await contoso.click(USERS.megan, 'step.approve', await h.stepData(contosoId, seq));
    expect(cardText(ok.card)).not.toContain('another Entra tenant');
    expect((await h.waitForStep(contosoId, seq, ['succeeded', 'failed'])).state).toBe('succeeded');
    expect((h.app.tenants[0].state() as any).scheduler.SyncCycleEnabled).toBe(false);
    expect((h.app.tenants[1].state() as any).scheduler.SyncCycleEnabled).toBe(true);
  });

  it("alerts and alert actions stay in their tenant's channel", async () => {
    const { alertId } = await h.app.alerts.raise(
      { migrationId: contosoId, tenantId: CONTOSO.tenantId, conversationId: CONTOSO_CHANNEL, check: 'agents', scope: 'isolation-test' },
      { severity: 'warning', title: 'Contoso agent inactive', summary: 'test alert', facts: [] },
    );
    expect(await ask(contoso, 'alerts')).toContain('Contoso agent inactive');
    const fab = await ask(fabrikam, 'alerts');
    expect(fab).toContain('Open alerts (0)');
    const before = (await h.app.alerts.get(alertId))!;
    const r = await fabrikam.click(USERS.megan, 'alert.ack', { alert: alertId, v: before.version });
    expect(cardText(r.card)).toContain('another conversation or Entra tenant');
    expect(cardText(r.card)).not.toContain('Contoso agent inactive');
    const after = (await h.app.alerts.get(alertId))!;
    expect(after.state).toBe(before.state);
    expect(after.version).toBe(before.version);
  });

  it("an administrator cannot revoke another tenant's runner", async () => {
    const contosoRunner = (await h.app.hub.listRunners({ tenantId: CONTOSO.tenantId })).find((r) => r.health !== 'Revoked')!;
    const reply = await ask(fabrikam, `runner revoke ${contosoRunner.name}`, USERS.alex);
    expect(reply).toContain('No such runner');
    expect((await h.app.hub.listRunners({ tenantId: CONTOSO.tenantId })).find((r) => r.name === contosoRunner.name)!.health).not.toBe('Revoked');
  });
});
