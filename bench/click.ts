/**
 * What one card click costs cutover, through /api/messages on PGlite: SQL statements per click and CPU time per click in
 * the server process, for
 * - an approval click: a change owner approves a step that needs more approvals; the decision is recorded, the clicker
 *   gets their card back and the channel's card is updated;
 * - a refresh click: the clicker's own view of a step card;
 * - a stale approval click: an Approve from a card of an earlier request; the current card back, nothing changes (with
 *   Refresh, the clicks bench/invoke-latency.ts sends).
 * The baseline is the bare botbuilder bot of bench/echo-bot.ts (a fixed card per invoke), measured in the same run with
 * the same clicks (each names the step's card as Teams does, in replyToId).
 *
 *   npm run bench -- --only click          (or: node --import tsx bench/click.ts)
 *   BENCH_ROUNDS=5 BENCH_STORE=disk|memory BENCH_PROFILE=dir (a V8 CPU profile of cutover per measured window)
 *
 * Targets (issue 17): ≤ 8 SQL statements per approval click; ≤ 2.5 ms CPU per click where bare botbuilder took 1.0 ms (2.5×
 * the floor). A second floor, the bare bot that also updates the clicked card for everyone (one Bot Connector call, as
 * Teams requires of a decision all must see), is the like-for-like baseline of an approval click.
 *
 * Each server runs in its own process and reports its own figures over IPC: process.cpuUsage() around the clicks, and
 * the store's statement counter (Db.counters). Clicks go one at a time (a click's cost, not contention). A measurement
 * ends when the bot has sent nothing for a while and the store has settled, so the work a click leaves behind it (the
 * notifier's update of the channel's card: Teams allows 7 sends a second per conversation, so the updates of a quick
 * series of clicks queue) is counted with it. The Bot Connector the bot sends to runs in this process, so receiving the
 * updates is not counted. The store's background work in the same time (the runner hub's sweeps, the runner's poll) is
 * measured on its own, idle, and subtracted; the raw figures are reported beside.
 *
 * Setup: 10 migrations, each with 10 change owners, 10 approvals required and a requester who is not an owner, waiting
 * for approval on their first step that needs it. A round is 9 approvals per migration (never the 10th: that would
 * start the step's action, whose work is not the click's); between rounds the bench deletes those approvals directly
 * in the store (not measured) so the next round approves the same requests again.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecordingConnector } from '../test/helpers/connector.js';
import { machine } from './machine.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MIGRATIONS = 10;
const OWNERS = 10;
/** Approvals per migration per round: one fewer than the quorum, so the step keeps waiting. */
const APPROVERS = OWNERS - 1;
const CLICKS = MIGRATIONS * APPROVERS;
const USERS = 50;
const CHANNEL = '19:bench-click@thread.tacv2';
const TENANT = '7f3b9c2e-1d4a-4e8b-9c6f-2a5d8e1b3c70';
/** Issue 17: ≤ 8 statements per approval; ≤ 2.5 ms CPU per click where bare botbuilder took 1.0 ms, i.e. 2.5× the floor. */
const TARGET = { sqlPerApproval: 8, cpuRatio: 2.5 };

interface Request {
  /** Migration id, step seq, the step's version and approval attempt when it was asked. */
  m: string;
  s: number;
  v: number;
  a: number;
  name: string;
  owners: number[];
  /** The step card's activity in the channel (Teams names it as the invoke's replyToId). */
  act: string | null;
}
interface Measured {
  cpuMs: number;
  statements: number;
  transactions: number;
  wallMs: number;
  approvals?: number;
}

const user = (i: number) => ({ id: `29:bench-${i}`, name: `Bench User ${i}`, aadObjectId: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ server processes

/** Answers the load generator's requests over IPC: begin/end a measurement, reset the approvals. */
function listen(handlers: Record<string, () => Promise<unknown>>): void {
  process.on('message', async (msg: any) => {
    try {
      process.send!({ id: msg.id, ok: true, value: await handlers[msg.op]() });
    } catch (err: any) {
      process.send!({ id: msg.id, ok: false, error: String(err?.stack ?? err) });
    }
  });
}

/** CPU time of this process, in ms (user + system). */
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function serveEcho(updateForEveryone: boolean): Promise<void> {
  const { startEchoBot } = await import('./echo-bot.js');
  const { url } = await startEchoBot(0, { updateForEveryone });
  let start = { cpu: 0, t: 0 };
  listen({
    begin: async () => void (start = { cpu: cpuNow(), t: performance.now() }),
    end: async (): Promise<Measured> => ({ cpuMs: cpuNow() - start.cpu, statements: 0, transactions: 0, wallMs: performance.now() - start.t }),
  });
  process.send!({ ready: { url } });
}

async function serveCutover(serviceUrl: string): Promise<void> {
  const { loadSettings } = await import('../src/config.js');
  const { buildApp } = await import('../src/app.js');
  const { createLogger } = await import('../src/log.js');
  const { openPglite } = await import('../src/store/db.js');
  const users = Array.from({ length: USERS }, (_, i) => user(i));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-click-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const settings = loadSettings({ PORT: '0', PLAYGROUND: '0', MONITOR: '0', LOG_LEVEL: 'silent', SANDBOX_TICK_MS: '0', CUTOVER_DATA_DIR: dir });
  const app = await buildApp(settings, {
    log: createLogger({ level: 'silent' }),
    ...(process.env.BENCH_STORE === 'memory' ? { db: await openPglite(null) } : {}),
  });
  const post = (body: unknown) =>
    fetch(`${app.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const activity = (from: ReturnType<typeof user>, extra: Record<string, unknown>) => ({
    id: randomUUID(),
    channelId: 'msteams',
    serviceUrl,
    from,
    recipient: { id: '28:cutover-bot', name: 'cutover' },
    conversation: { id: CHANNEL, conversationType: 'channel', tenantId: TENANT, isGroup: true },
    channelData: { tenant: { id: TENANT } },
    ...extra,
  });
  const requests: Request[] = [];
  for (let i = 0; i < MIGRATIONS; i++) {
    const owners = Array.from({ length: OWNERS }, (_, k) => (i * 5 + k) % USERS);
    const requester = users[(i * 5 + OWNERS) % USERS];
    const name = `Click ${i + 1}`;
    // One active migration per OU: each its own, in the sandbox forest.
    const ou = `OU=${name},DC=contoso,DC=com`;
    if (!app.tenant!.forest.ad.hasOu(ou)) app.tenant!.forest.ad.addOu(ou);
    const text = `new migration "${name}" domain=contoso.com ou="${ou}" owners=${owners.map((o) => users[o].aadObjectId).join(',')} approvals=${OWNERS}`;
    await (await post(activity(requester, { type: 'message', text }))).arrayBuffer();
    // The command may answer before the migration exists (slow checks finish in the background): wait for it.
    let m = null;
    for (const deadline = Date.now() + 60_000; !m && Date.now() < deadline; await sleep(50)) m = await app.engine.findMigration(name);
    if (!m) throw new Error(`${name} was not created`);
    // Run the steps that need no approval, then request the first one that does.
    for (const row of await app.engine.getSteps(m.id)) {
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
      if (app.engine.plannedStep(m, row).def.approval !== 'none') {
        const s = (await app.engine.getStep(m.id, row.seq))!;
        if (s.state !== 'awaiting_approval') throw new Error(`${name} step ${row.seq} is ${s.state}, not waiting for approval`);
        requests.push({ m: m.id, s: s.seq, v: s.version, a: s.attempt, name, owners, act: s.activityId });
        break;
      }
      for (const deadline = Date.now() + 60_000; ; await sleep(50)) {
        const s = (await app.engine.getStep(m.id, row.seq))!;
        if (s.state === 'succeeded' || s.state === 'skipped') break;
        if (['failed', 'lost', 'rejected'].includes(s.state) || Date.now() > deadline) throw new Error(`${name} step ${row.seq} (${s.key}) is ${s.state}`);
      }
    }
  }
  await app.engine.idle();

  const db = app.db;
  /** Settled: the engine's actions done and no statement for 300 ms (the notifier has updated the channel's cards). */
  const settle = async () => {
    await app.engine.idle();
    for (let last = -1; db.counters.statements !== last; await sleep(300)) last = db.counters.statements;
  };
  let start = { cpu: 0, statements: 0, transactions: 0, t: 0 };
  const profiler = await windowProfiler();
  listen({
    begin: async () => {
      await settle();
      await profiler.start();
      start = { cpu: cpuNow(), statements: db.counters.statements, transactions: db.counters.transactions, t: performance.now() };
    },
    end: async (): Promise<Measured> => {
      await settle();
      const out = {
        cpuMs: cpuNow() - start.cpu,
        statements: db.counters.statements - start.statements,
        transactions: db.counters.transactions - start.transactions,
        wallMs: performance.now() - start.t,
      };
      await profiler.stop();
      const approvals = (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM approvals WHERE (migration_id, seq, attempt) IN (${requests.map((_, i) => `($${3 * i + 1}, $${3 * i + 2}::int, $${3 * i + 3}::int)`).join(',')})`,
          requests.flatMap((r) => [r.m, r.s, r.a]),
        )
      ).rows[0].n;
      return { ...out, approvals };
    },
    // Between rounds, not measured: the same requests can be approved again.
    reset: async () => {
      for (const r of requests) await db.query('DELETE FROM approvals WHERE migration_id = $1 AND seq = $2 AND attempt = $3', [r.m, r.s, r.a]);
      await settle();
    },
  });
  process.send!({ ready: { url: app.url, requests } });
}

/**
 * BENCH_PROFILE=dir: a V8 CPU profile of the cutover server for each measured window only (not its setup), written to
 * dir/click-<n>.cpuprofile (open in Chrome DevTools or speedscope).
 */
async function windowProfiler(): Promise<{ start(): Promise<void>; stop(): Promise<void> }> {
  const dir = process.env.BENCH_PROFILE;
  if (!dir) return { start: async () => {}, stop: async () => {} };
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  let n = 0;
  return {
    start: async () => void (await session.post('Profiler.start')),
    stop: async () => {
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `click-${++n}.cpuprofile`), JSON.stringify(profile));
    },
  };
}

// ------------------------------------------------------------------ load generator

interface Server {
  child: ChildProcess;
  url: string;
  requests?: Request[];
  call(op: string): Promise<any>;
}

function start(args: string[], env: Record<string, string> = {}): Promise<Server> {
  const child = fork(path.join(HERE, 'click.ts'), args, {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
  });
  let next = 1;
  const waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${args.join(' ')} did not start`)), 600_000);
    child.on('message', (msg: any) => {
      if (msg.ready) {
        clearTimeout(t);
        resolve({
          child,
          ...msg.ready,
          call: (op: string) =>
            new Promise((res, rej) => {
              const id = next++;
              waiting.set(id, { resolve: res, reject: rej });
              child.send({ id, op });
            }),
        });
        return;
      }
      const w = waiting.get(msg.id);
      if (!w) return;
      waiting.delete(msg.id);
      if (msg.ok) w.resolve(msg.value);
      else w.reject(new Error(msg.error));
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

/** `stale`: an Approve from a card of an earlier approval request (attempt): answered with the current card, nothing changes. */
type Click = { verb: 'step.approve' | 'card.refresh'; r: Request; owner: number; stale?: boolean };

function approvals(requests: Request[], stale = false): Click[] {
  return requests.flatMap((r) => r.owners.slice(0, APPROVERS).map((owner) => ({ verb: 'step.approve' as const, r, owner, stale })));
}
function refreshes(requests: Request[]): Click[] {
  return requests.flatMap((r) => r.owners.slice(0, APPROVERS).map((owner) => ({ verb: 'card.refresh' as const, r, owner })));
}

/** Sends the clicks one at a time; answers how many were not answered with a card, or were refused. */
async function send(url: string, serviceUrl: string, clicks: Click[]): Promise<{ failures: number; refused: number }> {
  let failures = 0;
  let refused = 0;
  for (const c of clicks) {
    const data =
      c.verb === 'card.refresh'
        ? { m: c.r.m, s: String(c.r.s), v: String(c.r.v) }
        : { m: c.r.m, s: String(c.r.s), v: String(c.r.v), a: String(c.stale ? c.r.a - 1 : c.r.a), confirm: c.r.name };
    const body = JSON.stringify({
      id: randomUUID(),
      type: 'invoke',
      name: 'adaptiveCard/action',
      channelId: 'msteams',
      serviceUrl,
      from: user(c.owner),
      recipient: { id: '28:cutover-bot', name: 'cutover' },
      conversation: { id: CHANNEL, conversationType: 'channel', tenantId: TENANT, isGroup: true },
      channelData: { tenant: { id: TENANT } },
      ...(c.r.act ? { replyToId: c.r.act } : {}),
      value: { action: { type: 'Action.Execute', verb: c.verb, data }, trigger: 'manual' },
    });
    const r = await fetch(`${url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json: any = await r.json().catch(() => null);
    if (r.status !== 200 || json?.value?.type !== 'AdaptiveCard') failures++;
    else if (!c.stale && /Nothing was changed|out of date|already decided|cannot approve/.test(JSON.stringify(json.value))) refused++;
  }
  return { failures, refused };
}

/**
 * Until the bot has sent the connector nothing for 600 ms: the channel's card updates a click leaves behind are queued
 * (Teams allows a conversation 7 sends a second), and their work belongs to the clicks that caused them.
 */
async function quiet(connector: RecordingConnector): Promise<void> {
  for (let last = -1; connector.sent.length !== last; await sleep(600)) last = connector.sent.length;
}

async function measure(s: Server, connector: RecordingConnector, clicks: Click[]): Promise<Measured & { failures: number; refused: number }> {
  await quiet(connector);
  await s.call('begin');
  const sent = await send(s.url, connector.url, clicks);
  await quiet(connector);
  return { ...(await s.call('end')), ...sent };
}

/** The store's and the process's own background work over a given time, with no click. */
async function idle(s: Server, ms: number): Promise<Measured> {
  await s.call('begin');
  await sleep(ms);
  return s.call('end');
}

const r2 = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const serve = process.argv.indexOf('--serve');
  if (serve >= 0) {
    process.on('disconnect', () => process.exit(0));
    const what = process.argv[serve + 1];
    return what === 'cutover' ? serveCutover(process.env.BENCH_SERVICE_URL!) : serveEcho(what === 'echo-update');
  }

  const { RecordingConnector } = await import('../test/helpers/connector.js');
  const connector = await new RecordingConnector().start();
  connector.members = Array.from({ length: USERS }, (_, i) => user(i));
  const load0 = os.loadavg()[0];
  console.log(`click: ${ROUNDS} rounds × ${CLICKS} approval clicks and ${CLICKS} refresh clicks, one at a time (setting up cutover…)`);
  const echo = await start(['--serve', 'echo']);
  const echoUpdate = await start(['--serve', 'echo-update']);
  const cut = await start(['--serve', 'cutover'], { BENCH_SERVICE_URL: connector.url });
  try {
    const requests = cut.requests!;
    // Warm up both (JIT, connections, caches), then measure rounds, alternating servers so other load falls on all.
    await send(echo.url, connector.url, approvals(requests));
    await send(echoUpdate.url, connector.url, approvals(requests));
    await send(cut.url, connector.url, refreshes(requests));
    await send(cut.url, connector.url, approvals(requests, true));
    await send(cut.url, connector.url, approvals(requests));
    await quiet(connector);
    await cut.call('reset');
    type Run = Measured & { failures: number; refused: number };
    const rounds: { echo: Measured[]; echoUpdate: Measured[]; approve: Run[]; stale: Run[]; refresh: Run[]; idle: Measured[] } = {
      echo: [],
      echoUpdate: [],
      approve: [],
      stale: [],
      refresh: [],
      idle: [],
    };
    for (let round = 0; round < ROUNDS; round++) {
      rounds.echo.push(await measure(echo, connector, approvals(requests)));
      rounds.echoUpdate.push(await measure(echoUpdate, connector, approvals(requests)));
      const a = await measure(cut, connector, approvals(requests));
      if (a.approvals !== CLICKS)
        throw new Error(`round ${round + 1}: ${a.approvals} approvals recorded, ${CLICKS} expected (${a.refused} refused, ${a.failures} failed)`);
      rounds.approve.push(a);
      await quiet(connector);
      await cut.call('reset');
      rounds.refresh.push(await measure(cut, connector, refreshes(requests)));
      rounds.stale.push(await measure(cut, connector, approvals(requests, true)));
      rounds.idle.push(await idle(cut, Math.round(a.wallMs)));
      const per = (m: Measured) => `${r2(m.statements / CLICKS)} SQL, ${r2(m.cpuMs / CLICKS)} ms CPU`;
      console.log(
        `  round ${round + 1}: approval ${per(a)}; refresh ${per(rounds.refresh[round])}; stale approval ${per(rounds.stale[round])}; echo ${r2(rounds.echo[round].cpuMs / CLICKS)} ms CPU, with the update ${r2(rounds.echoUpdate[round].cpuMs / CLICKS)} ms; idle ${rounds.idle[round].statements} SQL in ${Math.round(rounds.idle[round].wallMs)} ms`,
      );
    }
    // Per click, over every round; the idle background (per ms of wall time) subtracted from the clicks' windows.
    const sum = (xs: Measured[], k: 'cpuMs' | 'statements' | 'transactions' | 'wallMs') => xs.reduce((n, x) => n + x[k], 0);
    const idleRate = { statements: sum(rounds.idle, 'statements') / sum(rounds.idle, 'wallMs'), cpuMs: sum(rounds.idle, 'cpuMs') / sum(rounds.idle, 'wallMs') };
    const perClick = (xs: Measured[]) => {
      const n = xs.length * CLICKS;
      const wall = sum(xs, 'wallMs');
      return {
        clicks: n,
        sqlStatements: r2((sum(xs, 'statements') - idleRate.statements * wall) / n),
        sqlStatementsRaw: r2(sum(xs, 'statements') / n),
        transactions: r2(sum(xs, 'transactions') / n),
        cpuMs: r2((sum(xs, 'cpuMs') - idleRate.cpuMs * wall) / n),
        cpuMsRaw: r2(sum(xs, 'cpuMs') / n),
        cpuMsPerRound: xs.map((x) => r2(x.cpuMs / CLICKS)),
      };
    };
    const echoCpu = r2(sum(rounds.echo, 'cpuMs') / (rounds.echo.length * CLICKS));
    const echoUpdateCpu = r2(sum(rounds.echoUpdate, 'cpuMs') / (rounds.echoUpdate.length * CLICKS));
    const approval = perClick(rounds.approve);
    const refresh = perClick(rounds.refresh);
    const stale = perClick(rounds.stale);
    const results = {
      bench: 'click',
      date: new Date().toISOString(),
      machine: machine(),
      load: {
        loadavg1mBefore: +load0.toFixed(2),
        loadavg1mAfter: +os.loadavg()[0].toFixed(2),
        note: 'other processes on the machine share its cores; rounds alternate the servers so that interference falls on all',
      },
      settings: {
        rounds: ROUNDS,
        clicksPerRound: CLICKS,
        store: process.env.BENCH_STORE === 'memory' ? 'PGlite in memory' : 'PGlite on disk (as npm start)',
        setup: `${MIGRATIONS} migrations, ${OWNERS} change owners and ${OWNERS} approvals required each, waiting for approval; ${APPROVERS} approvals per migration per round`,
        counting:
          'statements through the store (Db.counters, BEGIN/COMMIT not counted) and process.cpuUsage() in the server process, from the first click until the server settled after the last; the idle background over the same time is subtracted (raw figures beside)',
        userSpecificViews: false,
      },
      idleBackground: { statementsPerSecond: r2(idleRate.statements * 1000), cpuMsPerSecond: r2(idleRate.cpuMs * 1000) },
      echo: {
        what: 'bare botbuilder CloudAdapter + restify, onAdaptiveCardInvoke returns a fixed card (bench/echo-bot.ts)',
        cpuMsPerClick: echoCpu,
        cpuMsPerRound: rounds.echo.map((x) => r2(x.cpuMs / CLICKS)),
      },
      echoWithUpdate: {
        what: "the same bare bot, which also updates the clicked card for everyone (updateActivity on replyToId, as Microsoft's approval sample): what Teams requires of a click that changes a shared card",
        cpuMsPerClick: echoUpdateCpu,
        cpuMsPerRound: rounds.echoUpdate.map((x) => r2(x.cpuMs / CLICKS)),
      },
      approval: {
        ...approval,
        failures: rounds.approve.reduce((n, x) => n + x.failures, 0),
        refused: rounds.approve.reduce((n, x) => n + x.refused, 0),
        cpuRatioToEcho: r2(approval.cpuMs / echoCpu),
        cpuRatioToEchoWithUpdate: r2(approval.cpuMs / echoUpdateCpu),
      },
      refresh: { ...refresh, failures: rounds.refresh.reduce((n, x) => n + x.failures, 0), cpuRatioToEcho: r2(refresh.cpuMs / echoCpu) },
      staleApproval: {
        what: 'an Approve from a card of an earlier approval request: the current card back, nothing changes',
        ...stale,
        failures: rounds.stale.reduce((n, x) => n + x.failures, 0),
        cpuRatioToEcho: r2(stale.cpuMs / echoCpu),
      },
      /** As bench/invoke-latency.ts clicks: half Refresh, half a stale Approve. */
      refreshAndStaleMix: { cpuMs: r2((refresh.cpuMs + stale.cpuMs) / 2), cpuRatioToEcho: r2((refresh.cpuMs + stale.cpuMs) / 2 / echoCpu) },
      target: {
        sqlPerApproval: { target: TARGET.sqlPerApproval, met: approval.sqlStatements <= TARGET.sqlPerApproval },
        // The issue's 2.5 ms is against a 1.0 ms floor: 2.5× the bare bot measured in the same run.
        cpuRatioToEcho: {
          target: TARGET.cpuRatio,
          met: [approval, refresh, stale].every((x) => x.cpuMs <= TARGET.cpuRatio * echoCpu),
        },
      },
    };
    mkdirSync(path.join(HERE, 'results'), { recursive: true });
    writeFileSync(path.join(HERE, 'results', 'click.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.table({
      'approval click': {
        'SQL statements': approval.sqlStatements,
        transactions: approval.transactions,
        'CPU ms': approval.cpuMs,
        '× echo': results.approval.cpuRatioToEcho,
        '× echo with update': results.approval.cpuRatioToEchoWithUpdate,
      },
      'refresh click': {
        'SQL statements': refresh.sqlStatements,
        transactions: refresh.transactions,
        'CPU ms': refresh.cpuMs,
        '× echo': results.refresh.cpuRatioToEcho,
      },
      'stale approval click': {
        'SQL statements': stale.sqlStatements,
        transactions: stale.transactions,
        'CPU ms': stale.cpuMs,
        '× echo': results.staleApproval.cpuRatioToEcho,
      },
      'bare botbuilder': { 'SQL statements': 0, transactions: 0, 'CPU ms': echoCpu, '× echo': 1 },
      'bare botbuilder + update for everyone': { 'SQL statements': 0, transactions: 0, 'CPU ms': echoUpdateCpu, '× echo': r2(echoUpdateCpu / echoCpu) },
    });
    console.log(
      `SQL per approval click ${approval.sqlStatements} (target ≤ ${TARGET.sqlPerApproval}: ${results.target.sqlPerApproval.met ? 'met' : 'NOT met'}); ` +
        `CPU per click: approval ${approval.cpuMs} ms (${results.approval.cpuRatioToEcho}× bare botbuilder, ${results.approval.cpuRatioToEchoWithUpdate}× bare botbuilder updating the card for everyone), ` +
        `refresh ${refresh.cpuMs} ms (${results.refresh.cpuRatioToEcho}×), stale approval ${stale.cpuMs} ms (${results.staleApproval.cpuRatioToEcho}×), bare botbuilder ${echoCpu} ms ` +
        `(target ≤ ${TARGET.cpuRatio}× bare botbuilder: ${results.target.cpuRatioToEcho.met ? 'met' : 'NOT met'})`,
    );
  } finally {
    for (const c of [echo.child, echoUpdate.child, cut.child]) c.kill('SIGKILL');
    await connector.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
