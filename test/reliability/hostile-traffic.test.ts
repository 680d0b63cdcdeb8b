import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from '../helpers/harness.js';
import { RUNNER_RESULT_LIMIT } from '../../src/runner/body.js';

/**
 * Issue 16 as an outsider would attack, on loopback: compressed bodies that inflate without bound ("gzip bombs") to
 * every route, and a runner result forged by another tenant's runner that took over a revoked runner's name.
 */

/** ~255 KB of gzip that inflates to 250 MB, built in 1 MB pieces (the test itself never holds the inflated bytes). */
async function gzipBomb(inflatedMb = 250): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => gz.on('end', resolve));
  const mb = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < inflatedMb; i++) if (!gz.write(mb)) await new Promise((r) => gz.once('drain', r));
  gz.end();
  await done;
  return Buffer.concat(out);
}

/** The memory gain the bombs may cost the process: one result-route ceiling (32 MB) and room for the rest. */
const MEMORY_BOUND_MB = 64;

describe('hostile traffic', () => {
  let h: Harness;
  let bomb: Buffer;
  const OTHER_TENANT = '3c1d5e7a-9b2f-4c8d-a6e0-5f4b2d8c9e11';

  beforeAll(async () => {
    h = await Harness.start({ build: { sandboxAgent: false, hub: { pollWaitMs: 100, recheckMs: 50 } } });
    bomb = await gzipBomb();
  });
  afterAll(async () => {
    await h?.stop();
  });

  const post = async (path: string, body: Buffer | string, headers: Record<string, string> = {}) => {
    const r = await fetch(`${h.app.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };

  it(`a gzip bomb to every route is refused before any work, and the process gains < ${MEMORY_BOUND_MB} MB`, async () => {
    const tenantId = h.app.tenant!.tenantId;
    const { token } = await h.app.hub.createRunner({ name: 'bomb-r1', tenantId });
    const job = await h.app.hub.enqueue({ migrationId: 'bomb', stepSeq: 1, attempt: 1, action: 'get-scheduler', params: {}, tenantId, mutation: false });
    const leased = await post('/api/runner/v1/poll', '{}', { authorization: `Bearer ${token}` });
    expect(leased.body.jobId).toBe(job.id);
    const gz = { 'content-encoding': 'gzip' };
    global.gc?.();
    const before = process.memoryUsage();
    const started = Date.now();
    // Four at once from outsiders to every route, plus one from a runner with a valid token to the result route (the
    // one route that takes gzip: it inflates to its 32 MB ceiling and stops).
    const answers = await Promise.all([
      ...Array.from({ length: 4 }, () => [
        post('/api/messages', bomb, gz),
        post('/api/runner/v1/poll', bomb, { ...gz, authorization: `Bearer ${token}` }),
        post(`/api/runner/v1/jobs/${job.id}/result`, bomb, gz), // no token: 401, the body is never read
      ]).flat(),
      post(`/api/runner/v1/jobs/${job.id}/result`, bomb, { ...gz, authorization: `Bearer ${token}` }),
    ]);
    const after = process.memoryUsage();
    const gainMb = Math.max(after.rss - before.rss, after.heapUsed - before.heapUsed) / 1024 / 1024;
    expect(answers.map((a) => a.status)).toEqual([...Array.from({ length: 4 }, () => [415, 415, 401]).flat(), 413]);
    expect(answers[0].body.error.message).toMatch(/Content-Encoding gzip is not accepted here/);
    expect(answers[12].body).toMatchObject({ code: 'PayloadTooLarge' });
    expect(gainMb, `rss/heap gain ${gainMb.toFixed(1)} MB`).toBeLessThan(MEMORY_BOUND_MB);
    expect((await fetch(`${h.app.url}/healthz`)).status).toBe(200);
    expect((await h.app.hub.getJob(job.id))!.state).toBe('leased'); // nothing settled it
    console.log(`gzip bombs: 13 refused in ${Date.now() - started} ms; memory gain ${gainMb.toFixed(1)} MB (bound ${MEMORY_BOUND_MB} MB)`);
  });

  it('an oversized plain body is 413 from its Content-Length, on the activity and runner routes', async () => {
    const big = 'x'.repeat(300 * 1024);
    expect((await post('/api/messages', big)).status).toBe(413);
    expect((await post('/api/runner/v1/poll', big, { authorization: 'Bearer nope' })).status).toBe(413);
  });

  it('a real identity export result (~1.5 MB) is accepted on the result route', async () => {
    const tenantId = h.app.tenant!.tenantId;
    const { token } = await h.app.hub.createRunner({ name: 'export-r1', tenantId });
    const ou = 'OU=Finance,DC=contoso,DC=com';
    const job = await h.app.hub.enqueue({
      migrationId: 'export',
      stepSeq: 1,
      attempt: 1,
      action: 'ad-export-identities',
      params: { ou },
      tenantId,
      mutation: false,
    });
    const { leaseId } = (await post('/api/runner/v1/poll', '{}', { authorization: `Bearer ${token}` })).body;
    const objects = Array.from({ length: 3_300 }, (_, i) => {
      const n = String(i).padStart(5, '0');
      return {
        dn: `CN=Employee ${n},OU=Staff,${ou}`,
        objectClass: 'user',
        objectGUID: `0000${n.slice(0, 4)}-0000-4000-8000-${n.padStart(12, '0')}`,
        consistencyGuid: `1111${n.slice(0, 4)}-1111-4111-8111-${n.padStart(12, '0')}`,
        userPrincipalName: `employee.${n}@contoso.com`,
        mail: `employee.${n}@contoso.com`,
        proxyAddresses: [`SMTP:employee.${n}@contoso.com`, `smtp:e${n}@contoso.mail.onmicrosoft.com`, `smtp:employee.${n}@contoso.onmicrosoft.com`],
        displayName: `Employee ${n} (Finance)`,
      };
    });
    const body = JSON.stringify({ leaseId, ok: true, result: { ou, count: objects.length, objects }, transcript: 'Get-ADObject -SearchBase …' });
    expect(body.length).toBeGreaterThan(1_400_000);
    expect(body.length).toBeLessThan(RUNNER_RESULT_LIMIT.maxBytes);
    const r = await post(`/api/runner/v1/jobs/${job.id}/result`, body, { authorization: `Bearer ${token}` });
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('succeeded');
    console.log(
      `identity export: ${objects.length} objects = ${(body.length / 1024 / 1024).toFixed(2)} MB (${Math.round(body.length / objects.length)} bytes each)`,
    );
  });

  it("another tenant's runner that took over a revoked runner's name cannot heartbeat or settle the first tenant's job", async () => {
    const tenantA = h.app.tenant!.tenantId;
    const a = await h.app.hub.createRunner({ name: 'audit-r1', tenantId: tenantA });
    const job = await h.app.hub.enqueue({
      migrationId: 'forged',
      stepSeq: 1,
      attempt: 1,
      action: 'set-scheduler',
      params: { enabled: false },
      tenantId: tenantA,
      mutation: true,
    });
    const { leaseId } = (await post('/api/runner/v1/poll', '{}', { authorization: `Bearer ${a.token}` })).body;
    expect(await h.app.hub.revokeRunner('audit-r1', tenantA)).toBe(true);
    // Tenant B registers the same name: allowed (names are per tenant), with a new id.
    const b = await h.app.hub.createRunner({ name: 'audit-r1', tenantId: OTHER_TENANT });
    expect(b.runner.id).not.toBe(a.runner.id);
    const auth = { authorization: `Bearer ${b.token}` };
    const before = await h.app.hub.getJob(job.id);
    // Even knowing the lease id, B is refused: the job reads as unknown to another tenant.
    const hb = await post(`/api/runner/v1/jobs/${job.id}/heartbeat`, JSON.stringify({ leaseId }), auth);
    const forged = await post(
      `/api/runner/v1/jobs/${job.id}/result`,
      JSON.stringify({ leaseId, ok: true, result: { previousSyncCycleEnabled: true, waitedForIdle: false, scheduler: {} }, transcript: 'forged' }),
      auth,
    );
    expect([403, 404, 409]).toContain(hb.status);
    expect([403, 404, 409]).toContain(forged.status);
    expect(await h.app.hub.getJob(job.id)).toEqual(before);
    // And two tenants may both have a live "audit-r1".
    const a2 = await h.app.hub.createRunner({ name: 'audit-r1', tenantId: tenantA });
    expect(
      (await h.app.hub.listRunners())
        .filter((r) => r.name === 'audit-r1' && r.health !== 'Revoked')
        .map((r) => r.id)
        .sort(),
    ).toEqual([a2.runner.id, b.runner.id].sort());
  });
});
