/**
 * Invoke latency through /api/messages at 50 concurrent users clicking Refresh and a stale Approve on step cards,
 * as a ratio to a bare botbuilder bot that answers every card action with a fixed card (bench/echo-bot.ts), measured
 * in the same run. Target: cutover ≤ 1.5× the floor (p50 and p99).
 *
 *   npm run bench -- --only invoke-latency     (or: node --import tsx bench/invoke-latency.ts)
 *   BENCH_INVOKES=1500 BENCH_ROUNDS=3 BENCH_USERS=50 BENCH_STORE=disk|memory
 *
 * Each server runs in its own process (the load generator would otherwise share its event loop); rounds alternate
 * floor / cutover so that other load on the machine falls on both. cutover runs as `npm start` does (sandbox tenant,
 * PGlite on disk), with 10 migrations, each waiting for approval on its first production step. The clicks change
 * nothing (a refresh, and an approve from a card whose approval request is no longer current), so every round sees
 * the same state. CPU time per invoke is read from /proc for each server process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from './machine.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const INVOKES = Number(process.env.BENCH_INVOKES ?? 1500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const USERS = Number(process.env.BENCH_USERS ?? 50);
const TARGET = 1.5;
const CHANNEL = '19:bench@thread.tacv2';
const TENANT = '7f3b9c2e-1d4a-4e8b-9c6f-2a5d8e1b3c70';

interface Click {
  m: string;
  s: number;
  v: number;
  a: number;
  name: string;
}
interface Served {
  url: string;
  pid: number;
  serviceUrl?: string;
  clicks?: Click[];
}

const user = (i: number) => ({ id: `29:bench-${i}`, name: `Bench User ${i}`, aadObjectId: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}` });

// ------------------------------------------------------------------ server processes

async function serveEcho(): Promise<void> {
  const { startEchoBot } = await import('./echo-bot.js');
  const { url } = await startEchoBot();
  process.stdout.write(`${JSON.stringify({ url, pid: process.pid })}\n`);
}

async function serveCutover(): Promise<void> {
  const { loadSettings } = await import('../src/config.js');
  const { buildApp } = await import('../src/app.js');
  const { createLogger } = await import('../src/log.js');
  const { openPglite } = await import('../src/store/db.js');
  const { RecordingConnector } = await import('../test/helpers/connector.js');
  const connector = await new RecordingConnector().start();
  const users = Array.from({ length: USERS }, (_, i) => user(i));
  connector.members = users;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const settings = loadSettings({
    PORT: '0',
    PLAYGROUND: '0',
    MONITOR: '0',
    LOG_LEVEL: 'silent',
    SANDBOX_TICK_MS: '0',
    SANDBOX_EXECUTOR: 'sandbox',
    CUTOVER_DATA_DIR: dir,
  });
  const app = await buildApp(settings, {
    log: createLogger({ level: 'silent' }),
    ...(process.env.BENCH_STORE === 'memory' ? { db: await openPglite(null) } : {}),
  });
  const post = (body: unknown) =>
    fetch(`${app.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const activity = (from: ReturnType<typeof user>, extra: Record<string, unknown>) => ({
    id: randomUUID(),
    channelId: 'msteams',
    serviceUrl: connector.url,
    from,
    recipient: { id: '28:cutover-bot', name: 'cutover' },
    conversation: { id: CHANNEL, conversationType: 'channel', tenantId: TENANT, isGroup: true },
    channelData: { tenant: { id: TENANT } },
    ...extra,
  });
  const clicks: Click[] = [];
  for (let i = 0; i < 10; i++) {
    const owners = users.slice((i * 5) % USERS, ((i * 5) % USERS) + 5).map((u) => u.aadObjectId);
    const requester = users[(i * 5 + 5) % USERS];
    const name = `Bench ${i + 1}`;
    // One active migration per OU: each its own, in the sandbox forest.
    const ou = `OU=${name},DC=contoso,DC=com`;
    if (!app.tenant!.forest.ad.hasOu(ou)) app.tenant!.forest.ad.addOu(ou);
    const r = await post(activity(requester, { type: 'message', text: `new migration "${name}" domain=contoso.com ou="${ou}" owners=${owners.join(',')}` }));
    await r.arrayBuffer();
    // By name alone: the migration's home is its own thread of the channel (`<channel>;messageid=…`), not CHANNEL.
    const m = await app.engine.findMigration(name);
    if (!m)
      throw new Error(
        `${name} was not created: ${[...connector.messages.values()]
          .map((a) => JSON.stringify(a))
          .filter((t) => t.includes('not created'))
          .at(-1)
          ?.slice(0, 400)}`,
      );
    // Run the steps that need no approval, then request the first one that does: its card offers Approve.
    for (const row of await app.engine.getSteps(m.id)) {
      // A step's card is posted when the step becomes current: what its button asks is read from its definition.
      const needsApproval = app.engine.plannedStep(m, row).def.approval !== 'none';
      const current = (await app.engine.getStep(m.id, row.seq))!;
      if (current.state === 'succeeded' || current.state === 'skipped') continue;
      const res = await app.engine.act({
        verb: 'request',
        migrationId: m.id,
        seq: row.seq,
        version: current.version,
        actor: { oid: requester.aadObjectId, name: requester.name },
      });
      if (!res.changed) throw new Error(`${name} step ${row.seq}: ${res.notice}`);
      if (needsApproval) {
        const s = (await app.engine.getStep(m.id, row.seq))!;
        clicks.push({ m: m.id, s: s.seq, v: s.version, a: s.attempt, name });
        break;
      }
      const deadline = Date.now() + 60_000;
      for (;;) {
        const s = (await app.engine.getStep(m.id, row.seq))!;
        if (s.state === 'succeeded' || s.state === 'skipped') break;
        if (['failed', 'lost', 'rejected'].includes(s.state) || Date.now() > deadline) throw new Error(`${name} step ${row.seq} (${s.key}) is ${s.state}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
  await app.engine.idle();
  process.stdout.write(`${JSON.stringify({ url: app.url, pid: process.pid, serviceUrl: connector.url, clicks })}\n`);
}

// ------------------------------------------------------------------ load generator

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in USER_HZ (100 on Linux)
}

function start(args: string[]): Promise<{ child: ChildProcess; served: Served }> {
  // BENCH_PROFILE=dir writes a V8 CPU profile of each server process there (for finding where the time goes).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'silent' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${out}`)), 300_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(t);
        resolve({ child, served: JSON.parse(line) });
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

async function drive(
  target: Served,
  clicks: Click[],
  serviceUrl: string,
  n: number,
): Promise<{ latencies: number[]; wallMs: number; cpuMs: number; failures: number; resets: number }> {
  const latencies: number[] = [];
  let issued = 0;
  let failures = 0;
  let resets = 0;
  const cpu0 = cpuMs(target.pid);
  const t0 = performance.now();
  const worker = async (w: number) => {
    const from = user(w);
    while (issued < n) {
      const i = issued++;
      const c = clicks[i % clicks.length];
      const verb = i % 2 ? 'card.refresh' : 'step.approve';
      const data =
        verb === 'card.refresh' ? { m: c.m, s: String(c.s), v: String(c.v) } : { m: c.m, s: String(c.s), v: String(c.v), a: String(c.a - 1), confirm: c.name };
      const body = JSON.stringify({
        id: randomUUID(),
        type: 'invoke',
        name: 'adaptiveCard/action',
        channelId: 'msteams',
        serviceUrl,
        from,
        recipient: { id: '28:cutover-bot', name: 'cutover' },
        conversation: { id: CHANNEL, conversationType: 'channel', tenantId: TENANT, isGroup: true },
        channelData: { tenant: { id: TENANT } },
        value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
      });
      for (let attempt = 1; ; attempt++) {
        const s = performance.now();
        try {
          const r = await fetch(`${target.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          const json: any = await r.json().catch(() => null);
          latencies.push(performance.now() - s);
          if (r.status !== 200 || json?.value?.type !== 'AdaptiveCard') failures++;
          break;
        } catch (err) {
          // A kept-alive connection the server closed while idle (between rounds) is reset on reuse: send again.
          if (attempt >= 3) throw err;
          resets++;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: USERS }, (_, w) => worker(w)));
  return { latencies, wallMs: performance.now() - t0, cpuMs: cpuMs(target.pid) - cpu0, failures, resets };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const r1 = (x: number) => Math.round(x * 10) / 10;

function summarize(runs: Awaited<ReturnType<typeof drive>>[]) {
  const all = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const perRound = runs.map((r) => {
    const s = [...r.latencies].sort((a, b) => a - b);
    return { p50: r1(pct(s, 50)), p99: r1(pct(s, 99)), perSecond: Math.round((r.latencies.length / r.wallMs) * 1000) };
  });
  const invokes = all.length;
  return {
    invokes,
    p50Ms: r1(pct(all, 50)),
    p90Ms: r1(pct(all, 90)),
    p99Ms: r1(pct(all, 99)),
    maxMs: r1(all[all.length - 1]),
    perSecond: Math.round((invokes / runs.reduce((n, r) => n + r.wallMs, 0)) * 1000),
    cpuMsPerInvoke: r1(runs.reduce((n, r) => n + r.cpuMs, 0) / invokes),
    failures: runs.reduce((n, r) => n + r.failures, 0),
    connectionResetsRetried: runs.reduce((n, r) => n + r.resets, 0),
    perRound,
  };
}

async function main(): Promise<void> {
  const serve = process.argv.indexOf('--serve');
  if (serve >= 0) {
    process.on('SIGINT', () => process.exit(0)); // a normal exit, so --cpu-prof writes its profile
    return process.argv[serve + 1] === 'echo' ? serveEcho() : serveCutover();
  }

  const load0 = os.loadavg()[0];
  console.log(`invoke latency: ${USERS} concurrent users, ${ROUNDS} rounds × ${INVOKES} invokes per server (setting up cutover…)`);
  const echo = await start(['bench/invoke-latency.ts', '--serve', 'echo']);
  const cut = await start(['bench/invoke-latency.ts', '--serve', 'cutover']);
  try {
    const clicks = cut.served.clicks!;
    const serviceUrl = cut.served.serviceUrl!;
    await drive(echo.served, clicks, serviceUrl, 300); // warm up both (JIT, connections, caches)
    await drive(cut.served, clicks, serviceUrl, 300);
    const runs: { echo: Awaited<ReturnType<typeof drive>>[]; cutover: Awaited<ReturnType<typeof drive>>[] } = { echo: [], cutover: [] };
    for (let round = 0; round < ROUNDS; round++) {
      runs.echo.push(await drive(echo.served, clicks, serviceUrl, INVOKES));
      runs.cutover.push(await drive(cut.served, clicks, serviceUrl, INVOKES));
      console.log(
        `  round ${round + 1}: floor p50 ${r1(
          pct(
            [...runs.echo[round].latencies].sort((a, b) => a - b),
            50,
          ),
        )} ms, cutover p50 ${r1(
          pct(
            [...runs.cutover[round].latencies].sort((a, b) => a - b),
            50,
          ),
        )} ms`,
      );
    }
    const floor = summarize(runs.echo);
    const cutover = summarize(runs.cutover);
    const ratio = {
      p50: +(cutover.p50Ms / floor.p50Ms).toFixed(2),
      p99: +(cutover.p99Ms / floor.p99Ms).toFixed(2),
      cpuPerInvoke: +(cutover.cpuMsPerInvoke / floor.cpuMsPerInvoke).toFixed(2),
    };
    const results = {
      bench: 'invoke-latency',
      date: new Date().toISOString(),
      machine: machine(),
      load: {
        loadavg1mBefore: +load0.toFixed(2),
        loadavg1mAfter: +os.loadavg()[0].toFixed(2),
        note: 'other processes on the machine share its cores; both servers see the same interference (rounds alternate)',
      },
      settings: {
        concurrentUsers: USERS,
        invokesPerRound: INVOKES,
        rounds: ROUNDS,
        clicks: 'half Refresh, half a stale Approve (old approval request), on 10 migrations waiting for approval',
        store: process.env.BENCH_STORE === 'memory' ? 'PGlite in memory' : 'PGlite on disk (as npm start)',
      },
      floor: { what: 'bare botbuilder CloudAdapter + restify, onAdaptiveCardInvoke returns a fixed card', ...floor },
      cutover,
      ratio,
      target: { ratio: TARGET, met: ratio.p50 <= TARGET && ratio.p99 <= TARGET },
    };
    mkdirSync(path.join(HERE, 'results'), { recursive: true });
    writeFileSync(path.join(HERE, 'results', 'invoke-latency.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.table({ floor: pick(floor), cutover: pick(cutover) });
    console.log(
      `ratio cutover / floor: p50 ${ratio.p50}×, p99 ${ratio.p99}×, CPU per invoke ${ratio.cpuPerInvoke}× (target ≤ ${TARGET}×: ${results.target.met ? 'met' : 'NOT met'})`,
    );
  } finally {
    // SIGINT lets a profiled server write its profile; SIGKILL after a grace period otherwise.
    for (const c of [echo.child, cut.child]) {
      c.kill(process.env.BENCH_PROFILE ? 'SIGINT' : 'SIGKILL');
      setTimeout(() => c.kill('SIGKILL'), 5_000).unref();
    }
  }
}

function pick(s: ReturnType<typeof summarize>) {
  return {
    invokes: s.invokes,
    'p50 ms': s.p50Ms,
    'p90 ms': s.p90Ms,
    'p99 ms': s.p99Ms,
    'per s': s.perSecond,
    'CPU ms/invoke': s.cpuMsPerInvoke,
    failures: s.failures,
  };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
