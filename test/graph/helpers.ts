import { afterEach } from 'vitest';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { ManualClock, type Clock } from '../../src/clock.js';
import { isUnder } from '../../src/dn.js';
import { createGraph, type GraphSettings } from '../../src/graph/index.js';
import { mintSandboxAppToken } from '../../src/graph/permissions.js';
import type { AdObject, AdObjectClass, OnPremDirectory } from '../../src/sandbox/contracts.js';
import { GraphSimulator, type GraphSimulatorOptions } from '../../src/sandbox/graph/index.js';

export const silentLog = pino({ level: 'silent' });

/** A minimal Active Directory for the simulator's provisioning agent to read. */
export class FakeAd implements OnPremDirectory {
  readonly objects = new Map<string, AdObject>();
  constructor(readonly domainFqdn = 'contoso.com') {}
  add(o: Partial<AdObject> & { dn: string }): AdObject {
    const obj: AdObject = {
      objectGUID: randomUUID(),
      objectClass: 'user',
      displayName: o.dn.split(',')[0].replace(/^CN=/i, ''),
      proxyAddresses: [],
      ...o,
    };
    obj.samAccountName ??= `u${this.objects.size}`;
    if (obj.objectClass === 'user') obj.userPrincipalName ??= `${obj.samAccountName}@${this.domainFqdn}`;
    this.objects.set(obj.objectGUID, obj);
    return obj;
  }
  move(guid: string, newDn: string): AdObject {
    const o = this.objects.get(guid)!;
    o.dn = newDn;
    return o;
  }
  remove(guid: string): void {
    this.objects.delete(guid);
  }
  objectsUnder(containerDns: string[], classes: AdObjectClass[]): AdObject[] {
    return [...this.objects.values()].filter((o) => classes.includes(o.objectClass) && containerDns.some((c) => isUnder(o.dn, c)));
  }
  get(objectGUID: string): AdObject | undefined {
    return this.objects.get(objectGUID);
  }
}

/**
 * A sandbox starter for a test file: every simulator it starts is stopped after each test (registers the afterEach).
 */
export function sandboxesStoppedAfterEach(): typeof startSandbox {
  const running: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    while (running.length) await running.pop()!.stop();
  });
  return async (...args) => {
    const s = await startSandbox(...args);
    running.push(s.sim);
    return s;
  };
}

export async function startSandbox(opts: { clock?: Clock; simulator?: Partial<GraphSimulatorOptions>; settings?: Partial<GraphSettings>; ad?: FakeAd } = {}) {
  const clock = opts.clock ?? new ManualClock('2026-11-21T09:00:00Z');
  const ad = opts.ad ?? new FakeAd();
  const sim = new GraphSimulator({ clock, onPrem: ad, ...opts.simulator });
  const baseUrl = await sim.start();
  const graph = createGraph(
    { baseUrl, tenantId: `t-${randomUUID()}`, auth: { kind: 'sandbox-app' }, retryDelaySeconds: 0.01, ...opts.settings },
    { log: silentLog, clock },
  );
  return { sim, graph, ad, clock: clock as ManualClock, baseUrl };
}

/** cutover's app-only token as the sandbox mints it (the README's permissions). */
export const APP_TOKEN = mintSandboxAppToken({ tenantId: 'sandbox-tenant' });
/** A delegated token (a signed-in admin) with these scopes: what the agents endpoint needs. */
export function delegatedToken(scopes: string[]): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return [b64({ typ: 'JWT', alg: 'none' }), b64({ tid: 'sandbox-tenant', idtyp: 'user', scp: scopes.join(' '), oid: randomUUID() }), ''].join('.');
}

/** A raw request to the simulator (for behaviour the typed module deliberately never exercises). */
export async function raw(
  baseUrl: string,
  method: string,
  path: string,
  init: { body?: unknown; headers?: Record<string, string>; token?: string | null } = {},
) {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? APP_TOKEN}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* text bodies ($count) stay text */
  }
  return { status: res.status, headers: res.headers, body };
}
