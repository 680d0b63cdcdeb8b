import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import restify from 'restify';
import type { AddressInfo } from 'node:net';
import { RunnerHub, type RunnerJob } from '../../src/runner/index.js';
import { startAgent } from '../../src/agent/client.js';
import type { Executor } from '../../src/agent/executors/types.js';
import { SandboxExecutor } from '../../src/sandbox/onprem/executor.js';
import { MemorySyncTarget, seedContosoForest } from '../../src/sandbox/onprem/index.js';
import { runnerStore, silentLog as log } from '../helpers/runner-store.js';

const LEASE_MS = 90_000;

/** Jobs as onJobSettled reports them, with a way to await the next one (no sleeps). */
class Settled {
  readonly jobs: RunnerJob[] = [];
  #waiters: Array<(j: RunnerJob) => void> = [];
  push = async (job: RunnerJob) => {
    this.jobs.push(job);
    this.#waiters.shift()?.(job);
  };
  next(): Promise<RunnerJob> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

const store = runnerStore();
let hub: RunnerHub;
let server: restify.Server;
let base: string;
let settled: Settled;

beforeEach(async () => {
  settled = new Settled();
  hub = new RunnerHub({ db: store.db, clock: store.clock, log, onJobSettled: settled.push, leaseMs: LEASE_MS, pollWaitMs: 150, recheckMs: 50 });
  server = restify.createServer();
  hub.registerRoutes(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.close();
});

async function post(path: string, token: string | null, body: unknown = {}) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const poll = (token: string) => post('/api/runner/v1/poll', token, { version: 'test', executor: 'sandbox' });
const job = (over: Partial<Parameters<RunnerHub['enqueue']>[0]> = {}) =>
  hub.enqueue({ migrationId: 'mig-1', stepSeq: 1, attempt: 1, action: 'set-scheduler', params: { enabled: false }, tenantId: 't1', mutation: true, ...over });

describe('runner protocol over HTTP', () => {
  it('rejects a wrong, malformed or missing token with 401 and nothing else', async () => {
    const { token } = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    await job();
    const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const t of [forged, 'nonsense', null, `${token} `.repeat(2)]) {
      const r = await post('/api/runner/v1/poll', t);
      expect(r).toEqual({ status: 401, body: { code: 'Unauthorized' } });
    }
    expect((await hub.listJobs())[0].state).toBe('queued'); // nothing was leased
  });

  it('stores only a hash of the token', async () => {
    const { token } = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    const rows = (await store.db.query('SELECT * FROM runners')).rows;
    expect(JSON.stringify(rows)).not.toContain(token.slice(-43)); // the 256-bit secret part
    expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('leases a job once, then answers 204 when there is nothing to do', async () => {
    const { token } = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    const queued = await job();
    const first = await poll(token);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ jobId: queued.id, action: 'set-scheduler', params: { enabled: false, waitForIdle: false } });
    expect(first.body.leaseUntil).toBe(new Date(store.clock.now().getTime() + LEASE_MS).toISOString());
    expect((await poll(token)).status).toBe(204);
    expect(await hub.getJob(queued.id)).toMatchObject({ state: 'leased', leasedBy: 'r1', leaseCount: 1 });
  });

  it('scopes jobs to a runner or a pool of the same tenant', async () => {
    const a = await hub.createRunner({ name: 'a', tenantId: 't1', pool: 'east' });
    const b = await hub.createRunner({ name: 'b', tenantId: 't1', pool: 'west' });
    const other = await hub.createRunner({ name: 'x', tenantId: 't2' });
    await job({ pool: 'west' });
    expect((await poll(a.token)).status).toBe(204);
    expect((await poll(other.token)).status).toBe(204);
    expect((await poll(b.token)).status).toBe(200);
    await job({ stepSeq: 2, runnerName: 'a' });
    expect((await poll(b.token)).status).toBe(204);
    expect((await poll(a.token)).status).toBe(200);
  });

  it("a job addressed to a runner id is leased by that runner only; another tenant's or a revoked runner cannot be addressed", async () => {
    const a = await hub.createRunner({ name: 'a', tenantId: 't1' });
    const b = await hub.createRunner({ name: 'b', tenantId: 't1' });
    const other = await hub.createRunner({ name: 'a', tenantId: 't2' }); // names are per tenant
    const queued = await job({ runnerId: a.runner.id });
    expect(queued.runnerId).toBe(a.runner.id);
    expect((await poll(b.token)).status).toBe(204);
    expect((await poll(other.token)).status).toBe(204);
    const leased = await poll(a.token);
    expect(leased.body).toMatchObject({ jobId: queued.id, leaseId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    await expect(job({ stepSeq: 2, runnerId: other.runner.id })).rejects.toThrow(/no runner .* in this tenant/);
    await hub.revokeRunner(b.runner.id, 't1');
    await expect(job({ stepSeq: 3, runnerId: b.runner.id })).rejects.toThrow(/revoked/);
    await expect(hub.createRunner({ name: 'a', tenantId: 't1' })).rejects.toThrow(/already exists/);
  });

  it('a heartbeat extends the lease; without one the mutation becomes lost and is never re-run', async () => {
    const { token } = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    const queued = await job();
    const { leaseId } = (await poll(token)).body;
    store.clock.advance(60_000);
    const hb = await post(`/api/runner/v1/jobs/${queued.id}/heartbeat`, token, { leaseId });
    expect(hb).toEqual({ status: 200, body: { jobId: queued.id, leaseUntil: new Date(store.clock.now().getTime() + LEASE_MS).toISOString() } });
    store.clock.advance(60_000); // past the first lease, inside the extended one
    expect((await hub.sweepExpiredLeases()).lost).toEqual([]);
    store.clock.advance(LEASE_MS);
    const swept = await hub.sweepExpiredLeases();
    expect(swept.lost.map((j) => j.id)).toEqual([queued.id]);
    expect(settled.jobs).toHaveLength(1);
    expect(settled.jobs[0]).toMatchObject({ id: queued.id, state: 'lost', error: { code: 'lease-expired' } });
    expect((await poll(token)).status).toBe(204); // not handed out again
    expect((await post(`/api/runner/v1/jobs/${queued.id}/heartbeat`, token, { leaseId })).status).toBe(409);
    // The late result is refused (409) and kept as evidence; the job stays lost.
    const late = await post(`/api/runner/v1/jobs/${queued.id}/result`, token, { leaseId, ok: true, result: {}, transcript: 'late' });
    expect(late.status).toBe(409);
    expect((await hub.getJob(queued.id))!.state).toBe('lost');
    expect(settled.jobs).toHaveLength(1);
  });

  it('an expired read is queued again once, then lost', async () => {
    const { token } = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    const read = await job({ action: 'get-scheduler', params: {}, mutation: false });
    await poll(token);
    store.clock.advance(LEASE_MS + 1);
    expect((await hub.sweepExpiredLeases()).requeued.map((j) => j.id)).toEqual([read.id]);
    expect((await poll(token)).body.jobId).toBe(read.id);
    store.clock.advance(LEASE_MS + 1);
    expect((await hub.sweepExpiredLeases()).lost.map((j) => j.id)).toEqual([read.id]);
  });

  it('records a result once; a replay changes nothing and returns the recorded outcome', async () => {
    const { token } = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    const read = await job({ action: 'get-export-deletion-threshold', params: {}, mutation: false });
    const { leaseId } = (await poll(token)).body;
    const body = {
      leaseId,
      ok: true,
      result: { DeletionPrevention: 1, ThresholdPercentage: 0, ThresholdCount: 500 },
      transcript: 'Get-ADSyncExportDeletionThreshold',
    };
    const first = await post(`/api/runner/v1/jobs/${read.id}/result`, token, body);
    expect(first).toMatchObject({ status: 200, body: { state: 'succeeded', replay: false, result: body.result } });
    const replay = await post(`/api/runner/v1/jobs/${read.id}/result`, token, {
      leaseId,
      ok: false,
      error: { code: 'x', message: 'different' },
      transcript: '',
    });
    expect(replay).toMatchObject({ status: 200, body: { state: 'succeeded', replay: true, result: body.result } });
    expect(settled.jobs.map((j) => j.state)).toEqual(['succeeded']);
    expect((await hub.getJob(read.id))!.transcript).toBe('Get-ADSyncExportDeletionThreshold');
  });

  it('a result that does not match the action result schema fails the job', async () => {
    const { token } = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    const read = await job({ action: 'get-export-deletion-threshold', params: {}, mutation: false });
    const { leaseId } = (await poll(token)).body;
    const r = await post(`/api/runner/v1/jobs/${read.id}/result`, token, { leaseId, ok: true, result: { ThresholdCount: 'lots' }, transcript: '' });
    expect(r.body).toMatchObject({ state: 'failed', error: { code: 'invalid-result' } });
  });

  it('a result for a job not leased to that runner is 409; an unknown job is 404', async () => {
    const a = await hub.createRunner({ name: 'a', tenantId: 't1' });
    const b = await hub.createRunner({ name: 'b', tenantId: 't1' });
    const queued = await job();
    const { leaseId } = (await poll(a.token)).body;
    // Even with the lease id (say it leaked), another runner's result and heartbeat are refused.
    const r = await post(`/api/runner/v1/jobs/${queued.id}/result`, b.token, { leaseId, ok: true, result: {}, transcript: '' });
    expect(r.status).toBe(409);
    expect(r.body.state).toBeUndefined(); // another runner learns nothing about the job
    expect((await post(`/api/runner/v1/jobs/${queued.id}/heartbeat`, b.token, { leaseId })).status).toBe(409);
    expect((await post('/api/runner/v1/jobs/00000000-0000-0000-0000-000000000000/result', a.token, { leaseId, ok: true, transcript: '' })).status).toBe(404);
    expect((await hub.getJob(queued.id))!.state).toBe('leased');
  });

  it('a revoked token gets 401 on every endpoint', async () => {
    const { token } = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    const queued = await job();
    await poll(token);
    expect(await hub.revokeRunner('r1')).toBe(true);
    expect((await poll(token)).status).toBe(401);
    expect((await post(`/api/runner/v1/jobs/${queued.id}/heartbeat`, token, { leaseId: queued.id })).status).toBe(401);
    expect((await post(`/api/runner/v1/jobs/${queued.id}/result`, token, { leaseId: queued.id, ok: true, transcript: '' })).status).toBe(401);
    expect((await hub.listRunners())[0].health).toBe('Revoked');
    // The same name can be registered again, with a new token; the old one stays dead.
    const again = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    expect((await poll(token)).status).toBe(401);
    expect((await poll(again.token)).status).toBe(204);
  });

  it('two agents competing for one job: exactly one gets it', async () => {
    const a = await hub.createRunner({ name: 'a', tenantId: 't1' });
    const b = await hub.createRunner({ name: 'b', tenantId: 't1' });
    const polls = [poll(a.token), poll(b.token)];
    const queued = await job();
    const results = await Promise.all(polls);
    expect(results.map((r) => r.status).sort()).toEqual([200, 204]);
    expect(results.find((r) => r.status === 200)!.body.jobId).toBe(queued.id);
  });

  it('many competing polls over many jobs: every job leased exactly once', async () => {
    const runners = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => hub.createRunner({ name, tenantId: 't1' })));
    const jobs = await Promise.all(Array.from({ length: 30 }, (_, i) => job({ stepSeq: i, action: 'get-scheduler', params: {}, mutation: false })));
    const leased: string[] = [];
    await Promise.all(
      runners.map(async ({ token }) => {
        for (;;) {
          const r = await poll(token);
          if (r.status !== 200) return;
          leased.push(r.body.jobId);
        }
      }),
    );
    expect(leased.sort()).toEqual(jobs.map((j) => j.id).sort());
  });

  it('runner health: Healthy, Unknown after 60 s silent, Down after 120 s', async () => {
    const { token } = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    expect((await hub.listRunners())[0].health).toBe('Unknown'); // never seen yet
    await poll(token);
    expect((await hub.listRunners())[0]).toMatchObject({ health: 'Healthy', version: 'test', executor: 'sandbox' });
    store.clock.advance(61_000);
    expect((await hub.listRunners())[0].health).toBe('Unknown');
    store.clock.advance(60_000);
    expect((await hub.listRunners())[0].health).toBe('Down');
  });

  it('enqueue validates params against the allowlist and is idempotent per step attempt', async () => {
    await expect(job({ params: { enabled: 'false; Remove-ADSyncRule' } })).rejects.toThrow(/invalid|expected boolean/i);
    await expect(job({ action: 'Invoke-Expression' })).rejects.toThrow(/not an allowlisted action/);
    const a = await job();
    const b = await job();
    expect(b.id).toBe(a.id);
    // The catalog decides what is a mutation.
    expect((await job({ stepSeq: 9, mutation: false })).mutation).toBe(true);
  });

  it('an agent runs a job end to end with the sandbox executor', async () => {
    let f: ReturnType<typeof seedContosoForest> | undefined;
    const target = new MemorySyncTarget((dn) => f?.ad.getByDn(dn)?.objectGUID);
    f = seedContosoForest({ target });
    const executor = new SandboxExecutor({ server: f.server, clock: store.clock });
    const { token } = await hub.createRunner({ name: 'sandbox', tenantId: 't1' });
    const stop = new AbortController();
    const delivered: string[] = [];
    let onDelivered = () => {};
    const agent = startAgent({ serverUrl: base, token, executor, log, signal: stop.signal, onJobDone: (id) => (delivered.push(id), onDelivered()) });
    const next = settled.next();
    const queued = await job();
    const done = await next;
    expect(done).toMatchObject({ id: queued.id, state: 'succeeded', result: { previousSyncCycleEnabled: true, scheduler: { SyncCycleEnabled: false } } });
    expect(done.transcript).toMatch(/Set-ADSyncScheduler -SyncCycleEnabled \$false/);
    expect(f.server.getScheduler().SyncCycleEnabled).toBe(false);
    // A refused action comes back as a failed job with the reason.
    const next2 = settled.next();
    const refused = await job({ stepSeq: 2, action: 'ad-count', params: { ou: 'OU=Nowhere,DC=contoso,DC=com' }, mutation: false });
    expect(await next2).toMatchObject({ state: 'failed', error: { code: 'not-found' } });
    // An agent lives for months on the Connect server: finished jobs leave no listener behind on its stop signal
    // (once the agent has the server's answer to its result, only its next poll listens).
    if (!delivered.includes(refused.id)) await new Promise<void>((r) => (onDelivered = r));
    expect(getEventListeners(stop.signal, 'abort').length).toBeLessThanOrEqual(1);
    stop.abort();
    await agent.done;
  });

  it('a poll already waiting when its runner is revoked takes no job', async () => {
    const { token } = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    Object.defineProperty(hub, 'pollWaitMs', { value: 5_000 }); // a long poll, as in production (this file's hub answers in 150 ms)
    const waiting = poll(token);
    await expect.poll(async () => (await hub.listRunners())[0].lastSeenAt).not.toBeNull(); // authenticated, now waiting
    await hub.revokeRunner('r1');
    const queued = await job();
    const r = await waiting;
    expect(r.status).not.toBe(200);
    expect((await hub.getJob(queued.id))!.state).toBe('queued');
    expect((await poll(token)).status).toBe(401);
  });

  it('an agent runs reads side by side, and a change alone once the reads have finished', async () => {
    const { token } = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    let activeReads = 0;
    let readsWhenChangeStarted = -1;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let threeStarted!: () => void;
    const allStarted = new Promise<void>((r) => (threeStarted = r));
    const executor: Executor = {
      kind: 'sandbox',
      run: async (action, params) => {
        if (action === 'set-scheduler') {
          readsWhenChangeStarted = activeReads;
          return { previousSyncCycleEnabled: true, scheduler: {} };
        }
        if (++activeReads === 3) threeStarted();
        await released;
        activeReads--;
        return { ou: params.ou, users: 1, groups: 0, contacts: 0 };
      },
    };
    const stop = new AbortController();
    const agent = startAgent({ serverUrl: base, token, executor, log, signal: stop.signal });
    const ous = ['Sales', 'Finance', 'Engineering'].map((o) => `OU=${o},DC=contoso,DC=com`);
    for (const [i, ou] of ous.entries()) await job({ stepSeq: 10 + i, action: 'ad-count', params: { ou }, mutation: false });
    await allStarted; // three reads running at once (one at a time, this never resolves)
    await job({ stepSeq: 20 }); // a change, queued while they run
    const four = [settled.next(), settled.next(), settled.next(), settled.next()];
    release();
    const done = await Promise.all(four);
    expect(done.map((j) => j.action).sort()).toEqual(['ad-count', 'ad-count', 'ad-count', 'set-scheduler']);
    expect(readsWhenChangeStarted).toBe(0);
    stop.abort();
    await agent.done;
  });

  it('an agent restarted mid-job does not re-run it: the lease expires and the job is lost', async () => {
    const { token } = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    let calls = 0;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const hanging: Executor = {
      kind: 'sandbox',
      run: () => {
        calls++;
        started();
        return new Promise(() => {}); // the process "dies" during the action
      },
    };
    const first = new AbortController();
    const agentA = startAgent({ serverUrl: base, token, executor: hanging, log, signal: first.signal });
    const queued = await job();
    await running;
    first.abort(); // crash
    await agentA.done;

    const second = new AbortController();
    let secondCalls = 0;
    const counting: Executor = { kind: 'sandbox', run: async () => (secondCalls++, {}) };
    const agentB = startAgent({ serverUrl: base, token, executor: counting, log, signal: second.signal });
    store.clock.advance(LEASE_MS + 1);
    const lostNext = settled.next();
    await hub.sweepExpiredLeases();
    expect(await lostNext).toMatchObject({ id: queued.id, state: 'lost' });
    second.abort();
    await agentB.done;
    expect(calls).toBe(1);
    expect(secondCalls).toBe(0);
  });

  it('a stopped agent reports nothing; the agent stops on a revoked token', async () => {
    const { token } = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    await hub.revokeRunner('r1');
    const executor: Executor = { kind: 'sandbox', run: async () => ({}) };
    await expect(startAgent({ serverUrl: base, token, executor, log }).done).rejects.toThrow(/rejected the runner token/);
  });

  it('refuses to send the token over plain http to a non-loopback host', () => {
    const executor: Executor = { kind: 'sandbox', run: async () => ({}) };
    expect(() => startAgent({ serverUrl: 'http://cutover.example.com', token: 'x', executor, log })).toThrow(/HTTPS/);
  });
});
