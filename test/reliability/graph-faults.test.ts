import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, cardText } from '../helpers/harness.js';
import { AD2AAD_APPLICATION_TEMPLATE_ID } from '../../src/graph/types.js';
import { paths } from '../../src/graph/paths.js';
import { collectingLogger, record, seqOf, snapshot, transitionViolations } from './support.js';

/**
 * The Graph simulator misbehaving while a "Configure Cloud Sync" step runs: 429 storms (inside and beyond the retry
 * budget), 500s (not retried), 504 gateway timeouts, slow answers, and 5xx while the plan is computed at the click.
 * Each time the step either succeeds after retries or fails with Graph's own error on its card, and there is never a
 * second service principal or provisioning job for the domain.
 */
describe('Graph storms during a Cloud Sync configuration step', () => {
  let h: Harness;
  let collected: ReturnType<typeof collectingLogger>;
  const owner = USERS.megan;
  const requester = USERS.alex;

  const prepared = new Map<string, Promise<{ id: string; seq: number }>>();
  const MIGRATIONS: [string, string][] = [
    ['Storm 500', 'OU=CloudSyncPilot,DC=contoso,DC=com'],
    ['Storm 429', 'OU=Finance,DC=contoso,DC=com'],
    ['Storm 429 long', 'OU=Engineering,DC=contoso,DC=com'],
    ['Storm 504', 'OU=PreSales,DC=contoso,DC=com'],
    ['Storm at click', 'OU=EMEA,OU=Sales,DC=contoso,DC=com'],
  ];

  beforeAll(async () => {
    collected = collectingLogger();
    h = await Harness.start({ build: { log: collected.log } });
    // Every migration is brought up to its "Configure Cloud Sync" step at once; the tests then run that step one by one.
    for (const [name, ou] of MIGRATIONS) prepared.set(name, toConfigure(name, ou));
    await Promise.all(prepared.values());
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** Service principals of the AD2AAD template for contoso.com, and provisioning jobs, as Graph lists them. */
  async function cloudSyncObjects(): Promise<{ servicePrincipals: number; provisioningJobs: number; scope: string[] }> {
    const sim = h.app.tenant!.graph;
    const r = await fetch(`${sim.baseUrl}/beta${paths.servicePrincipalsByTemplate(AD2AAD_APPLICATION_TEMPLATE_ID)}`, {
      headers: { authorization: `Bearer ${h.graphToken()}` },
    });
    const sps = ((await r.json()).value ?? []).filter((sp: any) => String(sp.displayName).toLowerCase() === 'contoso.com');
    const jobs = sim.summary().jobs.filter((j) => j.templateId === 'AD2AADProvisioning');
    return { servicePrincipals: sps.length, provisioningJobs: jobs.length, scope: jobs[0]?.includedContainers ?? [] };
  }

  async function toConfigure(name: string, ou: string): Promise<{ id: string; seq: number }> {
    await h.say(
      requester,
      `new migration "${name}" domain=contoso.com ou="${ou}" owners=${requester.aadObjectId},${owner.aadObjectId},${USERS.lee.aadObjectId}`,
    );
    const m = await h.app.engine.findMigration(name);
    if (!m) throw new Error(`${name} not created`);
    const seq = await seqOf(h.app.db, m.id, 'configure-cloud-sync');
    await h.advance(m.id, seq - 1);
    return { id: m.id, seq };
  }

  async function requestAndApprove(id: string, seq: number) {
    const req = await h.click(requester, 'step.request', await h.stepData(id, seq));
    expect(req.status).toBe(200);
    expect(cardText(req.card)).toContain('Waiting for approval');
    const ok = await h.click(owner, 'step.approve', { ...(await h.stepData(id, seq)), confirm: (await h.app.engine.getMigration(id))!.name });
    expect(ok.status).toBe(200);
    return h.waitForStep(id, seq, ['succeeded', 'failed', 'lost'], 90_000);
  }

  it('a 500 on the first change fails the step with Graph’s error; Retry asks again and then succeeds, with one service principal', async () => {
    const { id, seq } = await prepared.get('Storm 500')!;
    const sim = h.app.tenant!.graph;
    const served = sim.stats.faultsServed;
    sim.injectFault({ status: 500, count: 1, match: /^(POST|PUT|PATCH) / });
    const failed = await requestAndApprove(id, seq);
    expect(failed.state).toBe('failed');
    expect(failed.error.message).toMatch(/internal server error/i);
    const card = await h.click(requester, 'card.refresh', await h.stepData(id, seq));
    expect(cardText(card.card)).toMatch(/InternalServerError|internal server error/i);
    expect(sim.stats.faultsServed - served).toBe(1);
    expect((await cloudSyncObjects()).servicePrincipals, 'the refused instantiate created nothing').toBe(0);

    const retry = await h.click(requester, 'step.retry', await h.stepData(id, seq));
    expect(cardText(retry.card)).toContain('Waiting for approval'); // a retry of a production change is approved again
    await h.click(owner, 'step.approve', { ...(await h.stepData(id, seq)), confirm: 'Storm 500' });
    const done = await h.waitForStep(id, seq, ['succeeded', 'failed', 'lost'], 90_000);
    expect(done.state, JSON.stringify(done.error)).toBe('succeeded');
    const objects = await cloudSyncObjects();
    expect(objects).toMatchObject({ servicePrincipals: 1, provisioningJobs: 1 });
    record({
      area: 'Faults',
      check: 'Graph 500 on the first change of "Configure Cloud Sync"',
      figure: `step failed with "${failed.error.code}: ${failed.error.message.slice(0, 50)}"; Retry → approval again → succeeded; 1 service principal, 1 job`,
      outcome: 'survived',
      counts: { doubleMutations: objects.servicePrincipals - 1 },
    });
  });

  it('a 429 storm inside the retry budget is absorbed: the step succeeds, one service principal', async () => {
    const { id, seq } = await prepared.get('Storm 429')!;
    const sim = h.app.tenant!.graph;
    const served = sim.stats.faultsServed;
    sim.injectFault({ status: 429, count: 4, retryAfterSeconds: 0, match: /^(POST|PUT|PATCH) / });
    sim.injectFault({ status: 429, count: 3, retryAfterSeconds: 0 });
    const done = await requestAndApprove(id, seq);
    expect(done.state, JSON.stringify(done.error)).toBe('succeeded');
    const objects = await cloudSyncObjects();
    expect(objects.servicePrincipals).toBe(1);
    expect(objects.provisioningJobs).toBe(1);
    expect(objects.scope).toEqual(expect.arrayContaining(['OU=CloudSyncPilot,DC=contoso,DC=com', 'OU=Finance,DC=contoso,DC=com']));
    expect(sim.stats.faultsServed - served).toBe(7);
    record({
      area: 'Faults',
      check: 'Graph 429 storm (7 answers, Retry-After 0) during "Configure Cloud Sync"',
      figure: `${sim.stats.faultsServed - served} 429s absorbed by retries; step succeeded; 1 service principal, scope grew to ${objects.scope.length} OUs`,
      outcome: 'survived',
      counts: { doubleMutations: objects.servicePrincipals - 1 },
    });
  });

  it('a 429 storm beyond the retry budget fails the step with TooManyRequests; after the storm, Retry succeeds', async () => {
    const { id, seq } = await prepared.get('Storm 429 long')!;
    const sim = h.app.tenant!.graph;
    sim.injectFault({ status: 429, count: 1_000, retryAfterSeconds: 0, match: /^(POST|PUT|PATCH) / });
    const failed = await requestAndApprove(id, seq);
    sim.clearFaults();
    expect(failed.state).toBe('failed');
    expect(`${failed.error.code} ${failed.error.message}`).toMatch(/TooManyRequests|retry/i);
    await h.click(requester, 'step.retry', await h.stepData(id, seq));
    await h.click(owner, 'step.approve', { ...(await h.stepData(id, seq)), confirm: 'Storm 429 long' });
    const done = await h.waitForStep(id, seq, ['succeeded', 'failed', 'lost'], 90_000);
    expect(done.state, JSON.stringify(done.error)).toBe('succeeded');
    const objects = await cloudSyncObjects();
    expect(objects).toMatchObject({ servicePrincipals: 1, provisioningJobs: 1 });
    record({
      area: 'Faults',
      check: 'Graph 429 storm beyond the retry budget',
      figure: `step failed with "${failed.error.code}"; Retry after the storm → succeeded; 1 service principal`,
      outcome: 'survived',
      counts: { doubleMutations: objects.servicePrincipals - 1 },
    });
  });

  it('504 gateway timeouts and slow answers: the step succeeds after retries', async () => {
    const { id, seq } = await prepared.get('Storm 504')!;
    const sim = h.app.tenant!.graph;
    sim.injectFault({ status: 504, count: 3, retryAfterSeconds: 0 });
    sim.setLatency(150);
    const t0 = Date.now();
    try {
      const done = await requestAndApprove(id, seq);
      expect(done.state, JSON.stringify(done.error)).toBe('succeeded');
    } finally {
      sim.setLatency(0);
    }
    const objects = await cloudSyncObjects();
    expect(objects).toMatchObject({ servicePrincipals: 1, provisioningJobs: 1 });
    record({
      area: 'Faults',
      check: 'Graph 504 gateway timeouts (3) + 150 ms per answer',
      figure: `step succeeded in ${((Date.now() - t0) / 1000).toFixed(1)} s; 1 service principal`,
      outcome: 'survived',
      counts: { doubleMutations: objects.servicePrincipals - 1 },
    });
  });

  it('a 500 storm while the plan is computed answers the click with a clear card and changes nothing', async () => {
    const { id, seq } = await prepared.get('Storm at click')!;
    const sim = h.app.tenant!.graph;
    const before = await snapshot(h.app.db);
    sim.injectFault({ status: 500, count: 1_000 });
    let r;
    try {
      r = await h.click(requester, 'step.request', await h.stepData(id, seq));
    } finally {
      sim.clearFaults();
    }
    record({
      area: 'Faults',
      check: 'Graph 500 storm while "Request approval" computes the plan',
      figure: `HTTP ${r.status}; card: ${cardText(r.card).split('\n')[0] || '(none)'}`,
      outcome: r.status === 200 && r.card?.type === 'AdaptiveCard' ? 'survived' : 'FAILED',
      counts: { fiveHundreds: r.status >= 500 ? 1 : 0 },
    });
    expect(r.status).toBe(200);
    expect(cardText(r.card)).toMatch(/did not go through|could not/i);
    expect(await snapshot(h.app.db)).toBe(before);
    expect((await h.app.engine.getStep(id, seq))!.state).toBe('pending');
    // and once Graph is back the same click works
    const again = await h.click(requester, 'step.request', await h.stepData(id, seq));
    expect(cardText(again.card)).toContain('Waiting for approval');
  });

  it('records no duplicate transition, and logs no error other than the Graph failures it was given', async () => {
    expect(await transitionViolations(h.app.db)).toEqual([]);
    const unexpected = collected.errors.filter((e) => !/card action failed|graph|engine background task failed/i.test(`${e.msg} ${e.err?.name ?? ''}`));
    expect(unexpected.map((e) => e.msg)).toEqual([]);
  });
});

/**
 * Graph failing between the approval and the start of the action (while the plan is re-checked). The approval must
 * not be left hanging: the step should end failed (or ask again) with the error on its card.
 */
describe('Graph failing between approval and start', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('does not leave the step "Approved — starting" for ever', async () => {
    await h.say(
      USERS.alex,
      `new migration "Stuck" domain=contoso.com ou="OU=CloudSyncPilot,DC=contoso,DC=com" owners=${USERS.alex.aadObjectId},${USERS.megan.aadObjectId},${USERS.lee.aadObjectId}`,
    );
    const m = (await h.app.engine.findMigration('Stuck'))!;
    const seq = await seqOf(h.app.db, m.id, 'configure-cloud-sync');
    await h.advance(m.id, seq - 1);
    await h.click(USERS.alex, 'step.request', await h.stepData(m.id, seq));
    const sim = h.app.tenant!.graph;
    sim.injectFault({ status: 500, count: 1_000, match: /^GET / });
    let state: string;
    let error: string;
    try {
      await h.click(USERS.megan, 'step.approve', { ...(await h.stepData(m.id, seq)), confirm: 'Stuck' });
      const s = await h.waitForStep(m.id, seq, ['failed', 'awaiting_approval', 'lost', 'succeeded'], 20_000).catch(() => null);
      const now = s ?? (await h.app.engine.getStep(m.id, seq))!;
      state = now.state;
      error = now.error?.message ?? '';
    } finally {
      sim.clearFaults();
    }
    record({
      area: 'Faults',
      check: 'Graph 500s while an approved step re-checks its plan',
      figure: state === 'failed' ? `step → failed: "${error.slice(0, 60)}…"; Retry → approval again` : `step → ${state}`,
      outcome: state === 'failed' ? 'survived' : 'FAILED',
    });
    // The action never ran: the card says so, and a Retry asks for approval again and then runs once.
    expect(state).toBe('failed');
    expect(error).toMatch(/^Could not start: .*did not run/);
    const retried = await h.click(USERS.alex, 'step.retry', await h.stepData(m.id, seq));
    expect(cardText(retried.card)).toContain('Waiting for approval');
  });
});
