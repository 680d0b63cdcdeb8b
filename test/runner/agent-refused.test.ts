import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import restify from 'restify';
import type { AddressInfo } from 'node:net';
import { RunnerHub, type RunnerJob } from '../../src/runner/index.js';
import { startAgent } from '../../src/agent/client.js';
import type { Executor } from '../../src/agent/executors/types.js';
import { runnerStore, silentLog as log } from '../helpers/runner-store.js';

const store = runnerStore();
let hub: RunnerHub;
let server: restify.Server;
let base: string;
let settled: RunnerJob[];

beforeEach(async () => {
  settled = [];
  hub = new RunnerHub({ db: store.db, clock: store.clock, log, onJobSettled: async (j) => void settled.push(j), pollWaitMs: 100, recheckMs: 50 });
  server = restify.createServer();
  hub.registerRoutes(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  server.close();
});

describe('a result the server refuses as too large', () => {
  it('is not retried forever: the agent reports the job failed with the reason, once', async () => {
    const { token } = await hub.createRunner({ name: 'r1', tenantId: 't1' });
    const job = await hub.enqueue({ migrationId: 'm', stepSeq: 1, attempt: 1, action: 'get-scheduler', params: {}, tenantId: 't1', mutation: false });
    const executor: Executor = { kind: 'sandbox', run: async () => ({ SyncCycleEnabled: true }) } as any;
    let refused = 0;
    const posts: string[] = [];
    // Stands in for a result over the route's 32 MB limit: the server's real 413 answer for the first delivery.
    const f: typeof fetch = async (url, init) => {
      if (String(url).endsWith('/result')) {
        posts.push(String(init?.body));
        if (refused++ === 0)
          return new Response(JSON.stringify({ code: 'PayloadTooLarge', message: 'The body is larger than this route accepts (32 MB after decoding).' }), {
            status: 413,
          });
      }
      return fetch(url, init);
    };
    const stop = new AbortController();
    const done = new Promise<string>((resolve) => {
      const agent = startAgent({
        serverUrl: base,
        token,
        executor,
        log,
        fetch: f,
        signal: stop.signal,
        onJobDone: resolve,
        backoff: { initialMs: 10, maxMs: 20 },
      });
      void agent.done.catch(() => {});
    });
    expect(await done).toBe(job.id);
    stop.abort();
    expect(posts).toHaveLength(2);
    expect(JSON.parse(posts[1])).toMatchObject({ ok: false, error: { code: 'result-too-large' } });
    const after = (await hub.getJob(job.id))!;
    expect(after).toMatchObject({ state: 'failed', error: { code: 'result-too-large' } });
    expect(after.error!.message).toContain('32 MB after decoding');
    expect(settled.map((j) => j.state)).toEqual(['failed']);
  });
});
