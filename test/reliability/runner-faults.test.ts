import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, cardText } from '../helpers/harness.js';
import { startAgent } from '../../src/agent/client.js';
import { SandboxExecutor } from '../../src/sandbox/onprem/executor.js';
import type { ActionContext, Executor } from '../../src/agent/executors/types.js';
import type { ActionName } from '../../src/actions/index.js';
import { createLogger } from '../../src/log.js';
import { record, seqOf, transitionViolations, until } from './support.js';

/**
 * The runner killed in the middle of a production change: the agent stops (no result, no heartbeats) while
 * "Stop the Connect Sync scheduler" runs. Its lease expires, the job is lost, the step says lost on its card (never
 * re-run silently), a late result from the dead runner changes nothing, and Retry asks for approval again.
 */
class HoldingExecutor implements Executor {
  readonly kind = 'sandbox' as const;
  started: Promise<void>;
  #started!: () => void;
  constructor(
    private readonly inner: Executor,
    private readonly hold: ActionName,
  ) {
    this.started = new Promise((r) => (this.#started = r));
  }
  async run(action: ActionName, params: any, ctx: ActionContext): Promise<unknown> {
    if (action === this.hold) {
      this.#started();
      // a cmdlet that never returns: only the agent being stopped ends this
      await new Promise<void>((resolve) => (ctx.signal?.aborted ? resolve() : ctx.signal?.addEventListener('abort', () => resolve(), { once: true })));
      throw new Error('stopped');
    }
    return this.inner.run(action, params, ctx);
  }
}

describe('runner killed mid-job', () => {
  let h: Harness;
  const agents: AbortController[] = [];
  const log = createLogger({ level: 'silent' });

  async function agent(name: string, executor: Executor): Promise<AbortController> {
    const { token } = await h.app.hub.createRunner({ name, tenantId: h.app.tenant!.tenantId });
    const abort = new AbortController();
    agents.push(abort);
    startAgent({ serverUrl: h.app.url, token, executor, log, signal: abort.signal, backoff: { initialMs: 50, maxMs: 200 } }).done.catch(() => {});
    return abort;
  }

  beforeAll(async () => {
    h = await Harness.start({ build: { sandboxAgent: false, hub: { leaseMs: 3_000, pollWaitMs: 500, recheckMs: 50 } } });
  });
  afterAll(async () => {
    for (const a of agents) a.abort();
    await h?.stop();
  });

  it('lease → lost, the card says lost, a late result changes nothing, Retry re-asks approval and runs once', async () => {
    const tenant = h.app.tenant!;
    const sandbox = () => new SandboxExecutor({ server: tenant.forest.server, clock: h.clock });
    const first = await agent('runner-1', sandbox());
    const id = await h.newPilot('Runner kill');
    const seq = await seqOf(h.app.db, id, 'stop-scheduler');
    await h.advance(id, seq - 1);
    await h.click(USERS.alex, 'step.request', await h.stepData(id, seq));
    // Stopped and revoked, as an operator retires a runner: a poll it had in flight when it stopped may still be
    // open on the server, and a revoked runner's poll takes no job.
    first.abort();
    await h.app.hub.revokeRunner('runner-1');

    // The runner that will die, registered again under the migration's runner name (a rotation: the migration is bound
    // to runner-1 by name): it takes the job and never comes back.
    const holding = new HoldingExecutor(sandbox(), 'set-scheduler');
    const doomed = await agent('runner-1', holding);
    await h.click(USERS.megan, 'step.approve', { ...(await h.stepData(id, seq)), confirm: 'Runner kill' });
    await holding.started;
    const running = (await h.app.engine.getStep(id, seq))!;
    expect(running.state).toBe('running');
    const job = (await h.app.hub.getJob(running.jobId!))!;
    expect(job.state).toBe('leased');
    doomed.abort(); // killed: no result, no more heartbeats
    await h.app.hub.revokeRunner('runner-1'); // and retired (its last poll may still be open on the server)

    // Its lease runs out; the sweep marks the mutation lost (never queued again).
    h.clock.advance(10_000);
    const swept = await h.app.hub.sweepExpiredLeases();
    expect(swept.lost.map((j) => j.id)).toContain(job.id);
    expect(swept.requeued.map((j) => j.id)).not.toContain(job.id);
    const lost = await h.waitForStep(id, seq, ['lost'], 10_000);
    expect(lost.error.code).toBe('RunnerLost');
    const activityId = await h.postedCard(id, seq);
    await h.connector.waitFor(() => /Lost/.test(cardText(h.connector.messages.get(activityId))) || undefined, 15_000, 'the step card to say lost');
    const shared = cardText(h.connector.messages.get(activityId));
    expect(shared).toMatch(/Lost — a human must check/);
    expect(shared).toMatch(/Retry|Mark done/);
    expect(tenant.forest.server.getScheduler().SyncCycleEnabled, 'the dead runner changed nothing').toBe(true);

    // Retry asks the change owners again; the approved retry runs exactly once on a healthy runner.
    await agent('runner-1', sandbox()); // a healthy runner-1 again
    const retry = await h.click(USERS.alex, 'step.retry', await h.stepData(id, seq));
    expect(cardText(retry.card)).toContain('Waiting for approval');
    expect((await h.app.engine.getStep(id, seq))!.attempt).toBe(running.attempt + 1);
    await h.click(USERS.megan, 'step.approve', { ...(await h.stepData(id, seq)), confirm: 'Runner kill' });
    const done = await h.waitForStep(id, seq, ['succeeded', 'failed', 'lost'], 30_000);
    expect(done.state, JSON.stringify(done.error)).toBe('succeeded');
    expect(tenant.forest.server.getScheduler().SyncCycleEnabled).toBe(false);

    const jobs = (await h.app.hub.listJobs({ migrationId: id })).filter((j) => j.stepSeq === seq);
    expect(jobs.map((j) => j.state).sort()).toEqual(['lost', 'succeeded']);
    expect(await transitionViolations(h.app.db)).toEqual([]);
    const starts = (
      await h.app.db.query("SELECT count(*)::int AS n FROM audit WHERE migration_id = $1 AND step_seq = $2 AND action = 'step-started'", [id, seq])
    ).rows[0].n;
    expect(starts).toBe(2); // one per approved attempt
    record({
      area: 'Faults',
      check: 'Runner killed while "Stop the scheduler" runs',
      figure: `lease expired → job lost → step lost (card says so); Retry → approval again → ran once on another runner; jobs: ${jobs.map((j) => j.state).join(', ')}`,
      outcome: 'survived',
      counts: { doubleMutations: jobs.filter((j) => j.state === 'succeeded').length - 1 },
    });
  });

  it('a result posted by the dead runner after its job was lost is refused (409) and kept as evidence', async () => {
    // A fresh job leased by a runner we control over HTTP, so we can post its late result ourselves.
    const tenant = h.app.tenant!;
    for (const a of agents) a.abort();
    await h.app.hub.revokeRunner('runner-1');
    const { token } = await h.app.hub.createRunner({ name: 'runner-http', tenantId: tenant.tenantId });
    const job = await h.app.hub.enqueue({
      migrationId: 'read:late-result',
      stepSeq: 0,
      attempt: 0,
      action: 'get-scheduler',
      params: {},
      tenantId: tenant.tenantId,
      mutation: true,
    });
    const api = (path: string, body: unknown) =>
      fetch(`${h.app.url}/api/runner/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    let leased: any = null;
    await until(
      async () => {
        const r = await api('/poll', {});
        if (r.status === 200) leased = await r.json();
        else await r.arrayBuffer();
        return leased?.jobId === job.id;
      },
      15_000,
      'the job to be leased',
    );
    h.clock.advance(10_000);
    await h.app.hub.sweepExpiredLeases();
    expect((await h.app.hub.getJob(job.id))!.state).toBe('lost');
    const late = await api(`/jobs/${job.id}/result`, { leaseId: leased.leaseId, ok: true, result: {}, transcript: 'finished after all' });
    expect(late.status).toBe(409);
    const again = await api(`/jobs/${job.id}/result`, {
      leaseId: leased.leaseId,
      ok: false,
      error: { code: 'x', message: 'second late result' },
      transcript: '',
    });
    expect(again.status).toBe(409);
    const row = (await h.app.db.query('SELECT state, late_result FROM runner_jobs WHERE id = $1', [job.id])).rows[0];
    expect(row.state).toBe('lost');
    expect(row.late_result.transcript).toBe('finished after all'); // the first late result, not overwritten
    record({
      area: 'Faults',
      check: 'Late results from a runner whose lease was lost',
      figure: '409 twice; job stays lost; first late result kept as evidence',
      outcome: 'survived',
    });
  });
});
