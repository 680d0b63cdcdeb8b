import { afterEach, describe, expect, it } from 'vitest';
import { systemClock, MINUTE } from '../../src/clock.js';
import { GraphError, GraphPlanError } from '../../src/graph/index.js';
import { raw, startSandbox } from './helpers.js';

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

const SALES = 'OU=Sales,DC=contoso,DC=com';
const HR = 'OU=HR,DC=contoso,DC=com';

async function configured(opts: Parameters<typeof startSandbox>[0] = {}) {
  const s = await startSandbox(opts);
  running.push(s.sim);
  for (let i = 0; i < 4; i++) s.ad.add({ dn: `CN=Sales ${i},${SALES}` });
  for (let i = 0; i < 3; i++) s.ad.add({ dn: `CN=Hr ${i},${HR}` });
  const cfg = await s.graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: [SALES] });
  const ref = { servicePrincipalId: cfg.servicePrincipalId, jobId: cfg.provisioningJobId };
  return { ...s, cfg, ref };
}

describe('job control and status', () => {
  it('walks NotRun → Active after the first cycle, with counts, steady state and agents', async () => {
    const { sim, graph, ref, clock } = await configured();
    const agent = sim.seedAgent({ machineName: 'AGENT1.contoso.com', domain: 'contoso.com' });
    let job = await graph.getJob(ref);
    expect(job.status.code).toBe('NotRun');
    expect(job.status.steadyStateFirstAchievedTime).toBeNull(); // Graph's 0001-01-01
    expect(job.status.quarantine).toBeNull();
    expect(job.status.lastExecution).toBeNull();

    sim.runSyncCycle(clock.now()); // schedule is Disabled: nothing happens
    expect(sim.summary().byEngine.cloud).toBe(0);

    expect(await graph.startJob(ref)).toEqual(graph.describeStartJob(ref));
    sim.runSyncCycle(clock.advance(2 * MINUTE));
    job = await graph.getJob(ref);
    expect(job.schedule.state).toBe('Active');
    expect(job.status.code).toBe('Active');
    expect(job.status.lastExecution?.countExported).toBe(4);
    expect(job.status.lastExecution?.state).toBe('Succeeded');
    expect(job.status.synchronizedEntryCountByType['user to User']).toBe(4);
    expect(job.status.steadyStateFirstAchievedTime).toBeNull();

    sim.runSyncCycle(clock.advance(2 * MINUTE));
    job = await graph.getJob(ref);
    expect(job.status.lastExecution?.countExported).toBe(0);
    expect(job.status.steadyStateFirstAchievedTime?.toISOString()).toBe(clock.now().toISOString());
    expect(sim.summary().usersByOu[SALES]).toEqual({ connect: 0, cloud: 4, unsynced: 0 });

    // app-only: the agents list is refused (Application: Not supported); health comes from the job and its logs
    expect(agent.status).toBe('active');
    const listed = await graph.tryListAgents();
    expect(listed).toMatchObject({ available: false, error: { status: 403, code: 'Authorization_RequestDenied' } });
    expect(await graph.agentHealth(ref)).toEqual({
      verdict: 'healthy',
      reasons: [expect.stringMatching(/^The last cycle succeeded/)],
      lastSuccessfulRun: clock.now().toISOString(),
      source: 'job status and provisioning logs (app-only: the agents endpoint needs delegated permissions)',
    });

    await graph.pauseJob(ref);
    job = await graph.getJob(ref);
    expect(job.status.code).toBe('Paused');
    expect(job.schedule.state).toBe('Paused');
  });

  it('quarantines without agents or an active agent, and restart with resetScope clears it', async () => {
    const { sim, graph, ref, clock } = await configured();
    await graph.startJob(ref);
    sim.runSyncCycle(clock.now());
    let job = await graph.getJob(ref);
    expect(job.status.code).toBe('Quarantine');
    expect(job.status.quarantine?.reason).toBe('EncounteredQuarantineException');
    expect(job.status.quarantine?.error?.code).toBe('HybridIdentityServiceNoAgentsAssigned');
    expect(job.status.quarantine?.currentBegan?.toISOString()).toBe(clock.now().toISOString());
    expect(job.status.quarantine?.nextAttempt?.getTime()).toBeGreaterThan(clock.now().getTime());
    expect(await graph.agentHealth(ref)).toMatchObject({
      verdict: 'unhealthy',
      reasons: [expect.stringMatching(/HybridIdentityServiceNoAgentsAssigned/)],
      lastSuccessfulRun: null,
    });

    const agent = sim.seedAgent({ machineName: 'AGENT1', domain: 'contoso.com', status: 'inactive' });
    sim.runSyncCycle(clock.advance(60 * MINUTE));
    job = await graph.getJob(ref);
    expect(job.status.quarantine?.error?.code).toBe('HybridIdentityServiceNoActiveAgents');
    expect(job.status.quarantine?.seriesCount).toBe(1);
    expect((await graph.agentHealth(ref)).reasons[0]).toMatch(/HybridIdentityServiceNoActiveAgents/);

    sim.setAgentStatus(agent.id, 'active');
    expect(await graph.restartJob(ref, 'Watermark, Escrows, QuarantineState')).toEqual([
      expect.objectContaining({ method: 'POST', body: { criteria: { resetScope: 'Watermark, Escrows, QuarantineState' } } }),
    ]);
    job = await graph.getJob(ref);
    expect(job.status.quarantine).toBeNull();
    sim.runSyncCycle(clock.advance(MINUTE));
    expect((await graph.getJob(ref)).status.code).toBe('Active');

    sim.injectQuarantine(ref.jobId, 'EncounteredEscrowProportionThreshold', { code: 'AzureDirectoryServiceServerBusy', message: 'busy' });
    sim.runSyncCycle(clock.advance(120 * MINUTE)); // injected quarantine does not lift by itself
    job = await graph.getJob(ref);
    expect(job.status.quarantine).toEqual(
      expect.objectContaining({
        reason: 'EncounteredEscrowProportionThreshold',
        error: { code: 'AzureDirectoryServiceServerBusy', message: 'busy', tenantActionable: true },
      }),
    );
    // start never clears a quarantine silently: the caller gets the reason first
    const refused = await graph.startJob(ref).catch((e) => e);
    expect(refused).toBeInstanceOf(GraphPlanError);
    expect(refused.code).toBe('JobQuarantined');
    expect(refused.message).toMatch(/EncounteredEscrowProportionThreshold: AzureDirectoryServiceServerBusy/);
    expect(refused.quarantine.reason).toBe('EncounteredEscrowProportionThreshold');
    expect((await graph.getJob(ref)).status.quarantine).not.toBeNull();
    await graph.startJob(ref, { clearQuarantine: true });
    expect((await graph.getJob(ref)).status.quarantine).toBeNull();

    expect(() => graph.describeRestartJob(ref, 'Watermark, Everything')).toThrow(GraphPlanError);
  });

  it('a restart lifts a quarantine only with QuarantineState (or Full); ForceDeletes lifts only TooManyDeletes', async () => {
    const { sim, graph, ref } = await configured();
    await graph.startJob(ref);
    sim.injectQuarantine(ref.jobId, 'EncounteredBaseEscrowThreshold', { code: 'EscrowThresholdExceeded', message: 'too many failures' });
    // Re-evaluating and retrying does not lift it, nor does letting held deletes through: the job stays quarantined.
    for (const scope of ['Watermark', 'Watermark, Escrows', 'ForceDeletes']) {
      await graph.restartJob(ref, scope);
      const job = await graph.getJob(ref);
      expect([scope, job.status.code, job.status.quarantine?.reason]).toEqual([scope, 'Quarantine', 'EncounteredBaseEscrowThreshold']);
    }
    await graph.restartJob(ref, 'Watermark, Escrows, QuarantineState');
    expect((await graph.getJob(ref)).status).toMatchObject({ code: 'NotRun', quarantine: null }); // lifted; it has not run a cycle yet
    sim.injectQuarantine(ref.jobId, 'TooManyDeletes', { code: 'SyncJobQuarantinedTooManyDeletes', message: 'held deletes' });
    await graph.restartJob(ref, 'ForceDeletes');
    expect((await graph.getJob(ref)).status.quarantine).toBeNull();
  });

  it('holds deletes over the threshold in TooManyDeletes until a ForceDeletes restart', async () => {
    const { sim, graph, ref, clock, baseUrl, cfg } = await configured();
    sim.seedAgent({ machineName: 'AGENT1', domain: 'contoso.com' });
    // the documented shape only: without Recipients the simulator answers 400
    const partial = await raw(baseUrl, 'PUT', `/beta/servicePrincipals/${cfg.servicePrincipalId}/synchronization/secrets`, {
      body: {
        value: [
          { key: 'Domain', value: '{"domain":"contoso.com"}' },
          { key: 'SyncNotificationSettings', value: '{"Enabled":true,"DeleteThresholdEnabled":true,"DeleteThresholdValue":3}' },
        ],
      },
    });
    expect(partial.status).toBe(400);
    await graph.ensureCloudSyncConfiguration({
      domain: 'contoso.com',
      passwordHashSync: false,
      containers: [SALES],
      notificationEmail: 'ops@contoso.com',
      deleteThreshold: 3,
    });
    await graph.startJob(ref);
    sim.runSyncCycle(clock.now());
    expect(sim.summary().byEngine.cloud).toBe(4);

    // removing the last OU would mean "no filter": refused
    await expect(graph.removeContainerFromScope({ ...ref, container: SALES })).rejects.toMatchObject({ code: 'WouldWidenScope' });
    await graph.ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: [HR] });
    await graph.removeContainerFromScope({ ...ref, container: SALES });
    // the running job keeps the scope it was started with until it is restarted
    sim.runSyncCycle(clock.advance(2 * MINUTE));
    expect((await graph.getJob(ref)).status.code).toBe('Active');
    expect(sim.summary().usersByOu[HR]).toBeUndefined();
    expect(await graph.restartProvisioningAfterScopeChange(ref)).toEqual([expect.objectContaining({ body: { criteria: { resetScope: 'Watermark' } } })]);
    // scope is now HR only: 4 Sales users would be deleted, over the threshold of 3
    sim.runSyncCycle(clock.advance(2 * MINUTE));
    let job = await graph.getJob(ref);
    expect(job.status.code).toBe('Quarantine');
    expect(job.status.quarantine?.reason).toBe('TooManyDeletes');
    expect(sim.summary().byEngine.cloud).toBe(4); // nothing deleted, nothing exported

    await graph.restartJob(ref, 'ForceDeletes');
    sim.runSyncCycle(clock.advance(2 * MINUTE));
    job = await graph.getJob(ref);
    expect(job.status.code).toBe('Active');
    expect(sim.summary().usersByOu[SALES]).toBeUndefined();
    expect(sim.summary().usersByOu[HR]).toEqual({ connect: 0, cloud: 3, unsynced: 0 });
  });

  it('provisions one user on demand with the rule id from the schema, and rejects a rule the job lacks', async () => {
    const { sim, graph, ref, ad } = await configured();
    const user = [...ad.objects.values()][0];
    const ruleId = await graph.provisioningRuleId(ref);
    expect(graph.describeProvisionOnDemand(ref, ruleId, user.dn)[0].body).toEqual({
      parameters: [{ ruleId, subjects: [{ objectId: user.dn, objectTypeName: 'user' }] }],
    });
    const r = await graph.provisionOnDemand(ref, ruleId, user.dn);
    expect(r.result).toBe('Success');
    expect(r.action).toBe('Create');
    expect(r.steps.map((s) => s.type)).toEqual(['Import', 'Matching', 'Scoping', 'Export']);
    expect(r.targetId).toBe(sim.directory.byGuid.get(user.objectGUID));
    expect(sim.exportedBy(user.objectGUID)).toBe('cloud');
    expect((await graph.provisionOnDemand(ref, ruleId, user.dn)).details).toEqual({ errorCode: 'RedundantExport' });
    const hr = [...ad.objects.values()].find((o) => o.dn.includes('OU=HR'))!;
    expect((await graph.provisionOnDemand(ref, ruleId, hr.dn)).result).toBe('Skipped'); // out of scope

    const err = await graph.provisionOnDemand(ref, '00000000-0000-0000-0000-000000000000', user.dn).catch((e) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect(err.status).toBe(400);
    expect(err.code).toBe('RequestParameterInvalid');
  });

  it('queues provisionOnDemand to 5 per interval on the client instead of failing', async () => {
    // The server sets no limit here, so a loaded machine cannot turn this into a throttling test: it shows the
    // client's own queue (5 per 1 s) held the sixth and seventh call back by an interval.
    const { graph, ref, ad, sim } = await configured({
      clock: systemClock,
      simulator: { provisionOnDemandLimit: { requests: 1_000, windowMs: 1_000 } },
      settings: { provisionOnDemandLimit: { requests: 5, intervalMs: 1_000 } },
    });
    const ruleId = await graph.provisioningRuleId(ref);
    const dn = [...ad.objects.values()][0].dn;
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: 7 }, () => graph.provisionOnDemand(ref, ruleId, dn)));
    expect(results).toHaveLength(7);
    expect(graph.stats().throttled).toBe(0);
    expect(sim.stats.byRoute['POST /jobs/{id}/provisionOnDemand']).toBe(7);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(980);
  });

  it('the simulator answers calls past 5 in its 10 s window with 429 and Retry-After, as Graph does', async () => {
    const { ref, ad, baseUrl, graph } = await configured(); // a manual clock: the window does not move under load
    const ruleId = await graph.provisioningRuleId(ref);
    const dn = [...ad.objects.values()][0].dn;
    const path = `/beta/servicePrincipals/${ref.servicePrincipalId}/synchronization/jobs/${ref.jobId}/provisionOnDemand`;
    const body = { parameters: [{ ruleId, subjects: [{ objectId: dn, objectTypeName: 'user' }] }] };
    const answers = await Promise.all(Array.from({ length: 7 }, () => raw(baseUrl, 'POST', path, { body })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = answers.find((a) => a.status === 429)!;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('validates credentials, discovers mailNickname, and lists provisioning logs failures first', async () => {
    const { sim, graph, ref, ad, clock } = await configured();
    expect(await graph.validateCredentials(ref)).toEqual({ valid: false, code: 'HybridIdentityServiceNoActiveAgents', message: expect.any(String) });
    sim.seedAgent({ machineName: 'AGENT1', domain: 'contoso.com' });
    expect(await graph.validateCredentials(ref)).toEqual({ valid: true });

    expect((await graph.discoverDirectory(ref)).hasMailNickname).toBe(true);
    sim.setAdHasMailNickname(false);
    const d = await graph.discoverDirectory(ref);
    expect(d.hasMailNickname).toBe(false);
    expect(d.name).toBe('Active Directory');
    expect(d.discoveredAt?.toISOString()).toBe(clock.now().toISOString());

    const broken = [...ad.objects.values()][2];
    sim.injectExportFailure(broken.objectGUID, 'AzureActiveDirectoryDuplicateValue', 'proxyAddresses conflict');
    await graph.startJob(ref);
    sim.runSyncCycle(clock.advance(MINUTE));
    const job = await graph.getJob(ref);
    expect(job.status.lastExecution?.state).toBe('EntryLevelErrors');
    expect(job.status.lastExecution?.countEscrowed).toBe(1);
    const logs = await graph.provisioningLogs(ref.jobId);
    expect(logs).toHaveLength(4);
    expect(logs[0]).toEqual(expect.objectContaining({ status: 'failure', errorCode: 'AzureActiveDirectoryDuplicateValue', sourceId: broken.objectGUID }));
    expect(logs.slice(1).every((l) => l.status === 'success' && l.action === 'create')).toBe(true);
  });
});
