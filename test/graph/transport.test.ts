import { describe, expect, it } from 'vitest';
import { GraphError } from '../../src/graph/index.js';
import { raw, sandboxesStoppedAfterEach } from './helpers.js';

/** Simulators started here are stopped after each test. */
const sandbox = sandboxesStoppedAfterEach();

describe('Graph transport against the simulator', () => {
  it('answers 401 with a Graph error body when no bearer token or no Entra-shaped token is sent', async () => {
    const { baseUrl } = await sandbox();
    const none = await raw(baseUrl, 'GET', '/v1.0/users', { token: null });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('InvalidAuthenticationToken');
    const empty = await raw(baseUrl, 'GET', '/v1.0/users', { headers: { authorization: 'Bearer ' }, token: null });
    expect(empty.status).toBe(401);
    // was: any non-empty bearer was accepted
    const opaque = await raw(baseUrl, 'GET', '/v1.0/users', { token: 'anything' });
    expect(opaque.status).toBe(401);
    expect(opaque.body.error.code).toBe('InvalidAuthenticationToken');
    expect((await raw(baseUrl, 'GET', '/v1.0/users')).status).toBe(200); // the sandbox app's app-only token
  });

  it('turns a 404 into a typed GraphError carrying Graph code, request-id and client-request-id', async () => {
    const { graph } = await sandbox();
    const err = await graph.getJob({ servicePrincipalId: '00000000-0000-0000-0000-000000000000', jobId: 'AD2AADProvisioning.x.y' }).catch((e) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect(err.status).toBe(404);
    expect(err.code).toBe('Request_ResourceNotFound');
    expect(err.message).toMatch(/does not exist/);
    expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(err.clientRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(err.requestId).not.toBe(err.clientRequestId);
  });

  it('refuses $top over 999 with Graph’s message', async () => {
    const { baseUrl } = await sandbox();
    const r = await raw(baseUrl, 'GET', '/v1.0/users?$top=1000');
    expect(r.status).toBe(400);
    expect(r.body.error.message).toBe("Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.");
    expect(r.body.error.innerError['request-id']).toBe(r.headers.get('request-id'));
  });

  it('retries a 429 storm after Retry-After and succeeds', async () => {
    const { sim, graph } = await sandbox({ settings: { maxRetries: 5 } });
    sim.injectFault({ status: 429, count: 3, retryAfterSeconds: 0.05, match: /servicePrincipals/ });
    const t0 = performance.now();
    const sp = await graph.findServicePrincipal('contoso.com');
    const elapsed = performance.now() - t0;
    expect(sp).toBeUndefined();
    expect(sim.stats.faultsServed).toBe(3);
    expect(graph.stats().throttled).toBe(3);
    expect(graph.stats().httpRequests).toBe(4);
    // three waits of 50 ms each: the Retry-After was honoured, not ignored
    expect(elapsed).toBeGreaterThanOrEqual(140);
  });

  it('a connection dropped with no answer: a read is tried again and succeeds; a POST is not repeated', async () => {
    const { sim, graph } = await sandbox();
    sim.injectFault({ status: 'drop', count: 1, match: /^GET .*servicePrincipals/ });
    expect(await graph.findServicePrincipal('contoso.com')).toBeUndefined();
    expect(sim.stats.faultsServed).toBe(1);
    // a POST may have been carried out before the connection dropped: it surfaces, with the cause, and is not re-sent
    sim.injectFault({ status: 'drop', count: 5, match: /^POST / });
    const before = sim.stats.requests;
    const err = await graph
      .ensureCloudSyncConfiguration({ domain: 'contoso.com', passwordHashSync: false, containers: ['OU=Sales,DC=contoso,DC=com'] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect(err.status).toBe(0);
    expect(err.code).toBe('ConnectionDropped');
    expect(err.message).toMatch(/connection dropped before an answer \((ECONNRESET|UND_ERR_SOCKET)/);
    expect(sim.stats.requests - before).toBeLessThanOrEqual(3); // the lookups before it, and the one POST
    expect(sim.stats.faultsServed).toBe(2);
  });

  it('stops at the retry bound and reports the 429 as a typed error', async () => {
    const { sim, graph } = await sandbox({ settings: { maxRetries: 2 } });
    sim.injectFault({ status: 429, count: 10, retryAfterSeconds: 0.01 });
    const err = await graph.readSyncedUsers().catch((e) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect(err.status).toBe(429);
    expect(err.code).toBe('TooManyRequests');
    expect(err.retryAfterSeconds).toBe(0.01);
    expect(sim.stats.faultsServed).toBe(3); // 1 attempt + 2 retries, no more
  });

  it('retries 503 and 504 but not 500', async () => {
    const { sim, graph } = await sandbox({ settings: { maxRetries: 4 } });
    sim.injectFault({ status: 503, count: 2, retryAfterSeconds: 0.01 });
    sim.injectFault({ status: 504, count: 1, retryAfterSeconds: 0.01 });
    expect(await graph.readSyncedUsers()).toEqual([]);
    expect(sim.stats.faultsServed).toBe(3);

    sim.injectFault({ status: 500, count: 5 });
    const err = await graph.readSyncedUsers().catch((e) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect(err.status).toBe(500);
    expect(err.code).toBe('InternalServerError');
    expect(sim.stats.faultsServed).toBe(4); // a 500 is not retried: a write may have happened
  });

  it('holds a tenant to its concurrency bound', async () => {
    const { sim, graph } = await sandbox({ settings: { maxConcurrency: 2 } });
    sim.setLatency(25);
    await Promise.all(Array.from({ length: 8 }, () => graph.readSyncedUsers()));
    expect(sim.stats.requests).toBe(8);
    expect(sim.stats.maxInFlight).toBe(2);
  });
});
