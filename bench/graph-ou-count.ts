/**
 * OU counting on a simulated tenant: 150,000 synced users across 20 OUs.
 * Measures Graph requests and wall time for the first full read and for a steady-state delta poll
 * with 100 changes, and the peak RSS growth of the client side (baseline taken after seeding the
 * simulator, which shares the process).
 *
 *   npx tsx bench/graph-ou-count.ts      → bench/results/graph-ou-count.json
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { systemClock } from '../src/clock.js';
import { createGraph, InMemoryDeltaStateStore } from '../src/graph/index.js';
import type { AdObject } from '../src/sandbox/contracts.js';
import { GraphSimulator } from '../src/sandbox/graph/index.js';

const USERS = Number(process.env.BENCH_USERS ?? 150_000);
const OUS = 20;
const CHANGES = 100;
const TARGETS = { firstReadSlack: 0.02, deltaRequests: 3, rssGrowthMb: 150 };

const ous = Array.from({ length: OUS }, (_, i) =>
  // a few awkward names on purpose: a suffix pair and an escaped comma
  i === 0
    ? 'OU=Sales,DC=contoso,DC=com'
    : i === 1
      ? 'OU=PreSales,DC=contoso,DC=com'
      : i === 2
        ? 'OU=Sales\\, EMEA,DC=contoso,DC=com'
        : `OU=Dept${i},OU=Corp,DC=contoso,DC=com`,
);

function adUser(i: number, ou: string): AdObject {
  return {
    objectGUID: randomUUID(),
    dn: `CN=User ${i},${ou}`,
    objectClass: 'user',
    displayName: `User ${i}`,
    samAccountName: `user${i}`,
    userPrincipalName: `user${i}@contoso.com`,
    mail: `user${i}@contoso.com`,
    proxyAddresses: [`SMTP:user${i}@contoso.com`],
  };
}

const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
const gc = (globalThis as any).gc as (() => void) | undefined;

async function main() {
  const sim = new GraphSimulator({ clock: systemClock });
  const baseUrl = await sim.start();
  const objects: AdObject[] = [];
  for (let i = 0; i < USERS; i++) {
    const o = adUser(i, ous[i % OUS]);
    objects.push(o);
    sim.upsertFromOnPrem(o, 'connect', 'contoso.com');
  }
  for (let i = 0; i < 50; i++) sim.addCloudUser(`cloud${i}@contoso.onmicrosoft.com`); // not synced: must not be counted

  gc?.();
  const baselineRss = process.memoryUsage().rss;
  let peakRss = baselineRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 10);

  const graph = createGraph({ baseUrl, tenantId: 'bench', auth: { kind: 'static-token', token: 'bench' } }, { log: pino({ level: 'silent' }) });
  const store = new InMemoryDeltaStateStore();
  const index = graph.createSyncedObjectIndex(store);

  let t0 = performance.now();
  const serverBefore = sim.stats.requests;
  const full = await index.refresh();
  const fullMs = performance.now() - t0;
  const fullServerRequests = sim.stats.requests - serverBefore;

  t0 = performance.now();
  const counts = index.countsUnder(ous);
  const countMs = performance.now() - t0;

  // 100 changes: 40 moves between OUs, 30 new users, 30 deletes
  for (let i = 0; i < 40; i++) {
    const o = objects[i * 7];
    sim.upsertFromOnPrem({ ...o, dn: `CN=User moved ${i},${ous[(ous.indexOf(o.dn.slice(o.dn.indexOf(',') + 1)) + 1) % OUS]}` }, 'connect', 'contoso.com');
  }
  for (let i = 0; i < 30; i++) sim.upsertFromOnPrem(adUser(USERS + i, ous[i % OUS]), 'cloud', 'contoso.com');
  for (let i = 0; i < 30; i++) sim.deleteFromOnPrem(objects[USERS - 1 - i * 11].objectGUID, 'connect');

  t0 = performance.now();
  const beforeDelta = sim.stats.requests;
  const delta = await index.refresh();
  const deltaMs = performance.now() - t0;
  const deltaServerRequests = sim.stats.requests - beforeDelta;

  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  await sim.stop();

  const minRequests = Math.ceil(USERS / 999);
  const countsAfter = index.countsUnder(ous);
  const total = [...countsAfter.values()].reduce((a, b) => a + b, 0);
  const results = {
    users: USERS,
    ous: OUS,
    firstRead: {
      requests: fullServerRequests,
      clientRequests: full.requests,
      minimum: minRequests,
      overheadPct: Math.round(((fullServerRequests - minRequests) / minRequests) * 10000) / 100,
      wallMs: Math.round(fullMs),
      usersIndexed: full.total,
    },
    countAllOus: { wallMs: Math.round(countMs), sales: counts.get(ous[0]), preSales: counts.get(ous[1]), salesEmea: counts.get(ous[2]) },
    deltaPoll: {
      changesMade: CHANGES,
      changesSeen: delta.changes,
      requests: deltaServerRequests,
      wallMs: Math.round(deltaMs),
      usersAfter: delta.total,
      countedAfter: total,
    },
    memory: { baselineRssMb: mb(baselineRss), peakRssMb: mb(peakRss), growthMb: mb(peakRss - baselineRss), gcExposed: !!gc, storedStateMb: mb(store.size) },
    targets: {
      firstReadWithin2Pct: fullServerRequests <= minRequests * (1 + TARGETS.firstReadSlack),
      deltaPollAtMost3: deltaServerRequests <= TARGETS.deltaRequests,
      rssGrowthAtMost150Mb: mb(peakRss - baselineRss) <= TARGETS.rssGrowthMb,
    },
    node: process.version,
    at: new Date().toISOString(),
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/graph-ou-count.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');

  console.table({
    'first full read': {
      requests: results.firstRead.requests,
      target: `≤ ${Math.floor(minRequests * 1.02)} (min ${minRequests})`,
      'wall ms': results.firstRead.wallMs,
    },
    'delta poll (100 changes)': { requests: results.deltaPoll.requests, target: `≤ ${TARGETS.deltaRequests}`, 'wall ms': results.deltaPoll.wallMs },
    'count 20 OUs (in memory)': { requests: 0, target: '-', 'wall ms': results.countAllOus.wallMs },
  });
  console.table({
    'RSS growth MB': { value: results.memory.growthMb, target: `≤ ${TARGETS.rssGrowthMb}` },
    'stored state MB': { value: results.memory.storedStateMb, target: '-' },
  });
  console.log(JSON.stringify(results.targets));
  if (!Object.values(results.targets).every(Boolean)) process.exitCode = 1;
}

await main();
