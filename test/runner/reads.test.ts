import { beforeEach, describe, expect, it } from 'vitest';
import { RunnerHub, type RunnerJob } from '../../src/runner/index.js';
import { RunnerGateway } from '../../src/runbooks/runner-actions.js';
import { runnerStore, silentLog as log } from '../helpers/runner-store.js';

/**
 * Awaited reads (the guards of fifty cards, the monitor): identical questions still queued share one job, a read
 * queued after a runner took the previous one gets its own (fresh) answer, and a read nobody waits for any more is
 * withdrawn so a runner that falls behind does not spend its time on it.
 */
const OU = 'OU=CloudSyncPilot,DC=contoso,DC=com';

const store = runnerStore();
let hub: RunnerHub;
let gateway: RunnerGateway;

beforeEach(() => {
  hub = new RunnerHub({
    db: store.db,
    clock: store.clock,
    log,
    onJobSettled: async (job: RunnerJob) => void gateway.settled(job),
    leaseMs: 60_000,
    pollWaitMs: 50,
    recheckMs: 20,
  });
  gateway = new RunnerGateway(hub, { readTimeoutMs: 5_000, recheckMs: 20 });
});

const jobs = async () =>
  (await store.db.query("SELECT id, action, params, state, error FROM runner_jobs WHERE migration_id LIKE 'read:%' ORDER BY created_at, id")).rows;

/** What a runner does: lease the oldest job and answer it (through the hub's protocol code, not HTTP: reads.test is about the gateway). */
async function answerNext(users: number | ((job: { tenant_id: string; params: { ou: string } }) => number), id?: string): Promise<string | null> {
  const queued = (
    await store.db.query(
      "SELECT id, tenant_id, params FROM runner_jobs WHERE state = 'queued' AND ($1::text IS NULL OR id = $1) ORDER BY created_at, id LIMIT 1",
      [id ?? null],
    )
  ).rows[0];
  if (!queued) return null;
  await store.db.query("UPDATE runner_jobs SET state = 'leased', leased_by = 'r1', lease_until = now() + interval '1 minute', lease_count = 1 WHERE id = $1", [
    queued.id,
  ]);
  const result = { ou: OU, users: typeof users === 'number' ? users : users(queued), groups: 2, contacts: 0 };
  const r = (
    await store.db.query("UPDATE runner_jobs SET state = 'succeeded', result = $2::jsonb, settled_at = now() WHERE id = $1 RETURNING *", [
      queued.id,
      JSON.stringify(result),
    ])
  ).rows[0];
  gateway.settled({ ...(await hub.getJob(r.id))! });
  return queued.id;
}

const until = async (cond: () => Promise<boolean>) => {
  for (let i = 0; i < 500 && !(await cond()); i++) await new Promise((r) => setImmediate(r));
};

describe('awaited runner reads', () => {
  it('fifty identical questions asked before a runner takes any cost one job, and all get its answer', async () => {
    const answers = Promise.all(Array.from({ length: 50 }, () => gateway.read('t1', 'ad-count', { ou: OU })));
    await until(async () => (await jobs()).length > 0);
    await answerNext(40);
    const got = await answers;
    expect(got.every((a) => a.users === 40)).toBe(true);
    expect((await jobs()).length).toBe(1);
    expect(gateway.queuedQuestions).toBe(0); // answered: the gateway holds nothing for it any more
  });

  it('a question asked after a runner took the queued one gets its own job and a fresh answer', async () => {
    const first = gateway.read('t1', 'ad-count', { ou: OU });
    await until(async () => (await jobs()).length === 1);
    await store.db.query("UPDATE runner_jobs SET state = 'leased', leased_by = 'r1'"); // the runner is looking now
    const second = gateway.read('t1', 'ad-count', { ou: OU });
    await until(async () => (await jobs()).length === 2);
    const b = (await jobs()).find((j) => j.state === 'queued')!;
    const a = (await jobs()).find((j) => j.state === 'leased')!;
    await store.db.query("UPDATE runner_jobs SET state = 'queued' WHERE id = $1", [a.id]);
    await answerNext(40, a.id); // the first (as it was when the runner looked)
    await answerNext(41, b.id); // the second, after a change
    expect((await first).users).toBe(40);
    expect((await second).users).toBe(41);
    expect(b.state).toBe('queued');
  });

  it('another OU or another tenant is another question', async () => {
    const other = 'OU=Sales,DC=contoso,DC=com';
    const reads = [gateway.read('t1', 'ad-count', { ou: OU }), gateway.read('t1', 'ad-count', { ou: other }), gateway.read('t2', 'ad-count', { ou: OU })];
    await until(async () => (await jobs()).length === 3);
    const users = (j: { tenant_id: string; params: { ou: string } }) => (j.tenant_id === 't2' ? 12 : j.params.ou === other ? 11 : 10);
    for (let i = 0; i < 3; i++) await answerNext(users);
    expect((await Promise.all(reads)).map((r) => r.users)).toEqual([10, 11, 12]);
    expect((await jobs()).length).toBe(3);
    expect(gateway.queuedQuestions).toBe(0);
  });

  it('a read nobody waits for any more is withdrawn from the queue, so no runner spends time on it', async () => {
    const read = gateway.read('t1', 'ad-count', { ou: OU }, { timeoutMs: 30 });
    await expect(read).rejects.toThrow(/no runner answered "ad-count" within 0 s/);
    await until(async () => (await jobs())[0]?.state === 'failed');
    const [j] = await jobs();
    expect(j.state).toBe('failed');
    expect(j.error.code).toBe('withdrawn');
    expect(await answerNext(1)).toBeNull(); // nothing left for a runner to take
    await until(async () => gateway.queuedQuestions === 0);
    expect(gateway.queuedQuestions).toBe(0);

    // and the next question queues a new job rather than joining the withdrawn one
    const again = gateway.read('t1', 'ad-count', { ou: OU });
    await until(async () => (await jobs()).length === 2);
    await answerNext(40);
    expect((await again).users).toBe(40);
  });

  it('one waiter giving up leaves the question open to reads that join those still waiting', async () => {
    const patient = gateway.read('t1', 'ad-count', { ou: OU });
    await until(async () => (await jobs()).length === 1);
    await expect(gateway.read('t1', 'ad-count', { ou: OU }, { timeoutMs: 30 })).rejects.toThrow(/no runner answered/);
    const late = gateway.read('t1', 'ad-count', { ou: OU });
    await answerNext(40);
    expect([(await patient).users, (await late).users]).toEqual([40, 40]);
    expect((await jobs()).map((j) => j.state)).toEqual(['succeeded']); // one job: the impatient one withdrew nothing
    expect(gateway.queuedQuestions).toBe(0);
  });

  it('a mutation is never run as a read', async () => {
    await expect(gateway.read('t1', 'set-scheduler', { enabled: false })).rejects.toThrow(/only run as an approved step/);
    expect(await jobs()).toEqual([]);
  });
});
