import { createHmac, createSign, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Harness, USERS } from '../helpers/harness.js';
import { record, snapshot } from './support.js';

/**
 * Bot Framework authentication with an app id configured. botbuilder validates tokens against the Bot Framework's
 * OpenID metadata, which is unreachable offline; what can be checked offline is that every bad token is refused with
 * 401, that the refusal says nothing about the server's internals, and that nothing in the store changes. Runner
 * tokens: wrong, revoked, another runner's, and replayed results.
 */
const APP_ID = '8c1f3a52-6f0e-4c4e-9d55-0b7e2f6a9d11';
const APP_PASSWORD = 'local-test-password-not-a-secret';
const TENANT = '7f3b9c2e-1d4a-4e8b-9c6f-2a5d8e1b3c70';

const b64 = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

function rs256(payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const data = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'local-test-key', ...header })}.${b64(payload)}`;
  return `${data}.${createSign('RSA-SHA256').update(data).sign(privateKey).toString('base64url')}`;
}
function unsigned(payload: Record<string, unknown>): string {
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}
function hs256(payload: Record<string, unknown>, secret: string): string {
  const data = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${data}.${createHmac('sha256', secret).update(data).digest('base64url')}`;
}

describe.each<{ label: string; env: Record<string, string> }>([
  { label: 'MultiTenant', env: { MicrosoftAppType: 'MultiTenant' } },
  { label: 'SingleTenant', env: { MicrosoftAppType: 'SingleTenant', MicrosoftAppTenantId: TENANT } },
])('Bot Framework authentication ($label app)', ({ label, env }) => {
  let h: Harness;
  let serviceUrl = '';

  beforeAll(async () => {
    // CloudAdapter prints every refused request's error with console.error: keep the run's output readable.
    vi.spyOn(console, 'error').mockImplementation(() => {});
    h = await Harness.start({ env: { MicrosoftAppId: APP_ID, MicrosoftAppPassword: APP_PASSWORD, ...env } });
    serviceUrl = h.connector.url;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await h?.stop();
  });

  it('refuses every bad token with 401, says nothing about internals, and changes nothing', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      aud: APP_ID,
      iss: 'https://api.botframework.com',
      serviceurl: serviceUrl,
      nbf: now - 60,
      iat: now - 60,
      exp: now + 3600,
      appid: randomUUID(),
    };
    const aadIssuer = `https://sts.windows.net/${TENANT}/`;
    const tokens: Record<string, string | undefined> = {
      'no Authorization header': undefined,
      'empty bearer': 'Bearer ',
      'not a JWT': 'Bearer not-a-token',
      'two segments': `Bearer ${b64({ alg: 'RS256' })}.${b64(claims)}`,
      'garbage segments': 'Bearer a.b.c',
      'Basic credentials': `Basic ${Buffer.from(`${APP_ID}:${APP_PASSWORD}`).toString('base64')}`,
      'unsigned (alg none), Bot Framework issuer': `Bearer ${unsigned(claims)}`,
      'unsigned (alg none), AAD issuer': `Bearer ${unsigned({ ...claims, iss: aadIssuer, ver: '1.0' })}`,
      'HS256 signed with the app password': `Bearer ${hs256(claims, APP_PASSWORD)}`,
      'expired, signed with a local key': `Bearer ${rs256({ ...claims, nbf: now - 7200, iat: now - 7200, exp: now - 3600 })}`,
      'not yet valid, signed with a local key': `Bearer ${rs256({ ...claims, nbf: now + 3600, exp: now + 7200 })}`,
      'wrong audience, signed with a local key': `Bearer ${rs256({ ...claims, aud: randomUUID() })}`,
      'wrong issuer, signed with a local key': `Bearer ${rs256({ ...claims, iss: 'https://login.evil.example/' })}`,
      'AAD issuer of another tenant': `Bearer ${rs256({ ...claims, iss: `https://sts.windows.net/${randomUUID()}/`, ver: '1.0' })}`,
      'right claims, unknown signing key': `Bearer ${rs256(claims)}`,
      'right claims, serviceUrl claim of another host': `Bearer ${rs256({ ...claims, serviceurl: 'https://smba.trafficmanager.net/evil/' })}`,
      'emulator issuer': `Bearer ${rs256({ ...claims, iss: 'https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/', ver: '1.0' })}`,
      'token with a 7 KB claim': `Bearer ${rs256({ ...claims, pad: 'x'.repeat(7_000) })}`,
    };
    const before = await snapshot(h.app.db);
    const conversationsBefore = JSON.stringify((await h.app.db.query('SELECT * FROM conversations ORDER BY id')).rows);
    const sentBefore = h.connector.sent.length;
    const statuses: Record<string, number[]> = {};
    for (const [name, header] of Object.entries(tokens)) {
      const headers: Record<string, string> = header === undefined ? {} : { authorization: header };
      const message = await h.post(
        h.activity(USERS.alex, {
          type: 'message',
          text: `new migration "Auth" domain=contoso.com ou="OU=Sales,DC=contoso,DC=com" owners=${USERS.megan.aadObjectId}`,
        }),
        headers,
      );
      const invoke = await h.post(
        h.activity(USERS.megan, {
          type: 'invoke',
          name: 'adaptiveCard/action',
          value: { action: { type: 'Action.Execute', verb: 'card.refresh', data: { m: 'x', s: 1, v: 0 } } },
        }),
        headers,
      );
      statuses[name] = [message.status, invoke.status];
      for (const r of [message, invoke]) {
        const body = JSON.stringify(r.body ?? '');
        expect(body, `${name}: the refusal must not describe the server`).not.toMatch(
          /ENOTFOUND|getaddrinfo|login\.botframework\.com|ECONNREFUSED|stack|at \w+ \(/,
        );
      }
    }
    const refused = Object.values(statuses).filter(([a, b]) => a === 401 && b === 401).length;
    record({
      area: 'Auth',
      check: `Bot Framework JWT (${label} app id): bad tokens`,
      figure: `${refused}/${Object.keys(tokens).length} refused with 401 (message and invoke)`,
      outcome: refused === Object.keys(tokens).length ? 'refused' : 'FAILED',
      counts: {
        fiveHundreds: Object.values(statuses)
          .flat()
          .filter((s) => s >= 500).length,
      },
      detail: statuses,
    });
    for (const [name, s] of Object.entries(statuses)) expect(s, name).toEqual([401, 401]);
    expect(await snapshot(h.app.db)).toBe(before);
    expect(JSON.stringify((await h.app.db.query('SELECT * FROM conversations ORDER BY id')).rows)).toBe(conversationsBefore);
    expect(h.connector.sent.length, 'the bot must not have said anything').toBe(sentBefore);
  });

  it('refuses an oversized Authorization header without reaching the bot', async () => {
    const r = await fetch(`${h.app.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${'a'.repeat(20_000)}` },
      body: JSON.stringify(h.activity(USERS.alex, { type: 'message', text: 'help' })),
    });
    await r.arrayBuffer();
    expect([401, 431]).toContain(r.status);
    expect((await fetch(`${h.app.url}/healthz`)).status).toBe(200);
  });
});

describe('runner tokens', () => {
  let h: Harness;
  const api = (path: string, token: string | null, body: unknown = {}) =>
    fetch(`${h.app.url}/api/runner/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: r.status === 204 ? null : await r.json().catch(() => null) }));

  beforeAll(async () => {
    h = await Harness.start({ build: { sandboxAgent: false, hub: { pollWaitMs: 200, recheckMs: 50, leaseMs: 60_000 } } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('refuses wrong, malformed, revoked and cross-tenant tokens; a replayed result is idempotent', async () => {
    const hub = h.app.hub;
    const tenant = h.app.tenant!.tenantId;
    const a = await hub.createRunner({ name: 'auth-a', tenantId: tenant });
    const b = await hub.createRunner({ name: 'auth-b', tenantId: tenant });
    const other = await hub.createRunner({ name: 'auth-other-tenant', tenantId: randomUUID() });
    const [, id] = /^cutover_([0-9a-f-]{36})_/.exec(a.token)!;
    const checks: Record<string, number> = {};

    // Wrong and malformed tokens: 401 on every endpoint, whatever the job id.
    const bad: Record<string, string | null> = {
      'no token': null,
      'right id, wrong secret': `cutover_${id}_${randomBytes(32).toString('base64url')}`,
      'unknown id': `cutover_${randomUUID()}_${randomBytes(32).toString('base64url')}`,
      'secret truncated': a.token.slice(0, -1),
      'secret with a character changed': a.token.slice(0, -1) + (a.token.endsWith('A') ? 'B' : 'A'),
      'not a runner token': 'eyJhbGciOiJub25lIn0.e30.',
      'SQL in the id': `cutover_' OR '1'='1_${randomBytes(32).toString('base64url')}`,
      'token twice': `${a.token} ${a.token}`,
    };
    for (const [name, token] of Object.entries(bad)) {
      for (const path of ['/poll', `/jobs/${randomUUID()}/heartbeat`, `/jobs/${randomUUID()}/result`]) {
        const r = await api(path, token, path.endsWith('result') ? { ok: true, transcript: '' } : {});
        checks[`${name} ${path.split('/')[1]}`] = r.status;
        expect(r.status, `${name} ${path}`).toBe(401);
      }
    }

    // A job for this tenant: runner a leases it; b may neither heartbeat nor post its result; a's result is final.
    const job = await hub.enqueue({
      migrationId: 'read:auth-test',
      stepSeq: 0,
      attempt: 0,
      action: 'get-scheduler',
      params: {},
      tenantId: tenant,
      mutation: false,
    });
    const crossTenant = await api('/poll', other.token);
    expect(crossTenant.status, 'a runner of another tenant gets no job').toBe(204);
    const leased = await api('/poll', a.token);
    expect(leased.status).toBe(200);
    expect(leased.body.jobId).toBe(job.id);
    // Even with the lease id (leaked, say), another runner is refused.
    const leaseId = leased.body.leaseId;
    expect((await api(`/jobs/${job.id}/heartbeat`, b.token, { leaseId })).status).toBe(409);
    expect((await api(`/jobs/${job.id}/result`, b.token, { leaseId, ok: true, result: {}, transcript: 'forged' })).status).toBe(409);
    const result = {
      leaseId,
      ok: true,
      result: {
        SyncCycleEnabled: true,
        StagingModeEnabled: false,
        SyncCycleInProgress: false,
        CurrentlyEffectiveSyncCycleInterval: '00:30:00',
        NextSyncCyclePolicyType: 'Delta',
        NextSyncCycleStartTimeInUTC: new Date().toISOString(),
        MaintenanceEnabled: true,
        SchedulerSuspended: false,
        SyncCycleDisabledAtUTC: null,
      },
      transcript: 'scheduler read',
    };
    const first = await api(`/jobs/${job.id}/result`, a.token, result);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const settled = await hub.getJob(job.id);
    const replay = await api(`/jobs/${job.id}/result`, a.token, { ...result, ok: false, error: { code: 'x', message: 'replayed with another outcome' } });
    expect(replay.status).toBe(200);
    expect(replay.body.replay).toBe(true);
    expect(await hub.getJob(job.id)).toEqual(settled);
    checks['replayed result'] = replay.status;

    // Revoked: the same token that worked a moment ago is refused everywhere.
    await hub.revokeRunner('auth-a');
    for (const path of ['/poll', `/jobs/${job.id}/heartbeat`, `/jobs/${job.id}/result`]) {
      const r = await api(path, a.token, path.endsWith('result') ? result : {});
      checks[`revoked ${path.split('/')[1]}`] = r.status;
      expect(r.status, `revoked ${path}`).toBe(401);
    }
    expect(await hub.getJob(job.id)).toEqual(settled);

    // A result for a job that does not exist, from a valid runner.
    expect((await api(`/jobs/${randomUUID()}/result`, b.token, result)).status).toBe(404);

    record({
      area: 'Auth',
      check: 'Runner tokens: wrong, malformed, revoked, other runner, other tenant, replayed result',
      figure: `${Object.keys(checks).length} requests: wrong/revoked → 401, other runner → 409, replay → 200 idempotent`,
      outcome: 'refused',
      detail: checks,
    });
  });
});
