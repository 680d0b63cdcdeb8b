import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, cardText, type TestUser } from '../helpers/harness.js';
import { actionsOf, collectingLogger, envNumber, latencySummary, record, sleep, snapshot, trackUnhandled, transitionViolations, until } from './support.js';

/**
 * Load: 200 people clicking on the step cards of 50 migrations in 10 channels for RELIABILITY_LOAD_SECONDS (60 s by
 * default), through /api/messages as Teams would send the invokes. Each migration has six change owners and a quorum of
 * one or two. People click what their card shows them — request, approve, reject, retry, refresh — and now and then
 * replay a click they made before (a double click, a stale card, a retried invoke).
 *
 * Afterwards: no 5xx, no error logged, every answer a card; every transition exactly once (each accepted click has
 * exactly one audit row and each audit row an accepted click, or a Request answered early with a "checking" card and
 * settled in the background, at most one row each; one request, at most one start and one end per step
 * attempt; no approver counted twice; one runner job per step attempt and position); audit chains intact.
 */
const SECONDS = envNumber('RELIABILITY_LOAD_SECONDS', 60);
const PEOPLE = envNumber('RELIABILITY_LOAD_PEOPLE', 200);
const MIGRATIONS = envNumber('RELIABILITY_LOAD_MIGRATIONS', 50);
/** Mean pause between a person's clicks (uniform from 0 to twice this): people read a card before they click. */
const THINK_MS = envNumber('RELIABILITY_LOAD_THINK_MS', 1000);
const CHANNELS = 10;

const oid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const channel = (c: number) => `19:load-${c}@thread.tacv2`;

interface Target {
  id: string;
  name: string;
  channel: string;
  owners: Set<string>;
  steps: { seq: number }[];
}

interface Click {
  verb: string;
  data: Record<string, unknown>;
  migration: Target;
  replyToId: string | undefined;
}

/** The state icon a step card shows (views.ts): ✅ done, ⏳ waiting for approval, ▶ running… */
const iconCache = new WeakMap<object, string>();
function stateIcon(card: any): string {
  if (!card || typeof card !== 'object') return '?';
  let icon = iconCache.get(card);
  if (!icon) iconCache.set(card, (icon = /^(○|⏳|✔|▶|✅|❌|⛔|⤼|❓) /m.exec(cardText(card))?.[1] ?? '?'));
  return icon;
}

describe('load: approvers clicking on migration cards', () => {
  let h: Harness;
  let collected: ReturnType<typeof collectingLogger>;
  // PEOPLE change owners who approve, plus 10 identity admins who request the steps.
  const people: TestUser[] = Array.from({ length: PEOPLE + 10 }, (_, i) => ({ id: `29:person-${i}`, name: `Person ${i}`, aadObjectId: oid(i + 1) }));
  const requesters = people.slice(0, 10);
  const targets: Target[] = [];

  beforeAll(async () => {
    collected = collectingLogger();
    h = await Harness.start({ build: { log: collected.log } });
    h.connector.members = people;
    // One active migration per OU: each of the 50 its own, with a few users (Connect Sync exports them at once).
    const ous = Array.from({ length: MIGRATIONS }, (_, i) => h.ou(`Load ${String(i + 1).padStart(2, '0')}`, 5));
    // 50 migrations, requested by 10 identity admins, each with 6 change owners among the other people.
    const approvers = people.slice(10);
    const create = async (i: number) => {
      const owners = Array.from({ length: 6 }, (_, k) => approvers[(i * 4 + k) % approvers.length].aadObjectId);
      const name = `Load ${String(i + 1).padStart(2, '0')}`;
      const conv = channel(i % CHANNELS);
      const quorum = i % 2 ? 2 : 1;
      const r = await h.post({
        ...h.activity(requesters[i % requesters.length], {
          type: 'message',
          text: `new migration "${name}" domain=contoso.com ou="${ous[i]}" owners=${owners.join(',')} approvals=${quorum}`,
        }),
        conversation: { id: conv, conversationType: 'channel', tenantId: h.app.tenant!.tenantId, isGroup: true },
      });
      expect(r.status).toBe(200);
      const m = await h.app.engine.findMigration(name);
      if (!m) throw new Error(`${name} was not created`);
      // its own thread in the channel; a step's card is posted there when the step becomes current
      expect(m.conversationId?.startsWith(`${conv};messageid=`)).toBe(true);
      const steps = (await h.app.engine.getSteps(m.id)).map((s) => ({ seq: s.seq }));
      await h.postedCard(m.id, steps[0].seq);
      targets[i] = { id: m.id, name, channel: conv, owners: new Set(owners), steps };
    };
    for (let i = 0; i < MIGRATIONS; i += 5) await Promise.all(Array.from({ length: Math.min(5, MIGRATIONS - i) }, (_, k) => create(i + k)));
    // One in five migrations starts at its first step that needs approval, so approvals happen from the first second.
    // (Three at a time: the one sandbox runner answers the guards' reads one job after another.)
    const odd = targets.filter((_, i) => i % 5 === 1);
    for (let i = 0; i < odd.length; i += 3) await Promise.all(odd.slice(i, i + 3).map((t, k) => advanceToApproval(t, requesters[(i + k) % requesters.length])));
  });

  /** Runs the steps that need no approval (as the requester, through the engine), up to the first one that does. */
  async function advanceToApproval(t: Target, requester: TestUser) {
    for (const s of t.steps) {
      const activityId = await h.postedCard(t.id, s.seq);
      const card = h.connector.messages.get(activityId)?.attachments?.[0]?.content;
      const request = actionsOf(card).find((a) => a.verb === 'step.request');
      if (!request || request.title === 'Request approval') return;
      for (let attempt = 1; ; attempt++) {
        const row = (await h.app.engine.getStep(t.id, s.seq))!;
        const r = await h.app.engine.act({
          verb: 'request',
          migrationId: t.id,
          seq: s.seq,
          version: row.version,
          actor: { oid: requester.aadObjectId, name: requester.name },
        });
        if (r.changed) break;
        if (attempt >= 3 || !/could not be made/.test(r.notice ?? '')) throw new Error(`${t.name} step ${s.seq}: ${r.notice}`);
      }
      const done = await h.waitForStep(t.id, s.seq, ['succeeded', 'failed', 'lost', 'skipped'], 60_000);
      if (done.state !== 'succeeded' && done.state !== 'skipped') throw new Error(`${t.name} step ${s.seq} ended ${done.state}`);
      // the card in the channel is updated by the notifier: wait for it before reading the next step's card
      await until(() => stateIcon(h.connector.messages.get(activityId)?.attachments?.[0]?.content) === '✅', 30_000, `${t.name} step ${s.seq} card`);
    }
  }
  afterAll(async () => {
    await h?.stop();
  });

  it(`holds ${PEOPLE} people clicking on ${MIGRATIONS} migrations for ${SECONDS} s`, async () => {
    const unhandled = trackUnhandled();
    const latencies: number[] = [];
    const byVerb = new Map<string, number[]>();
    const statuses = new Map<number, number>();
    const problems: string[] = [];
    const accepted = { decisions: 0, requests: 0, markDone: 0 };
    let answeredEarly = 0;
    let stale = 0;
    let replays = 0;
    const auditBefore = Number((await h.app.db.query("SELECT count(*)::int AS n FROM audit WHERE action IN ('approved','rejected')")).rows[0].n);
    const requestsBefore = Number(
      (await h.app.db.query("SELECT count(*)::int AS n FROM audit WHERE action IN ('approval-requested','retry-requested','step-run','step-retried')")).rows[0]
        .n,
    );

    /** The newest card a person has seen for a step: the shared one in the channel, or the one their last click returned. */
    const seen = new Map<string, { card: any; v: number }>();
    const latestCard = (t: Target, seq: number, activityId: string | undefined, person: string) => {
      const shared = activityId ? h.connector.messages.get(activityId)?.attachments?.[0]?.content : undefined;
      const sharedV = Number(actionsOf(shared).find((a) => a.verb === 'card.refresh')?.data.v ?? -1);
      const mine = seen.get(`${person}|${t.id}|${seq}`);
      return mine && mine.v > sharedV ? mine.card : shared;
    };

    const deadline = Date.now() + SECONDS * 1000;
    const person = async (p: TestUser, index: number) => {
      const mine = targets.filter((t) => t.owners.has(p.aadObjectId) || requesters.includes(p));
      const history: Click[] = [];
      let x = Math.imul(index + 1, 2654435761) >>> 0 || 1;
      const random = () => {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        return (x >>> 0) / 2 ** 32;
      };
      while (Date.now() < deadline) {
        let click: Click | null;
        if (history.length && random() < 0.12) {
          click = history[Math.floor(random() * history.length)];
          replays++;
        } else {
          const t = mine.length && random() < 0.8 ? mine[Math.floor(random() * mine.length)] : targets[Math.floor(random() * targets.length)];
          // the first step that is not done, as the channel's cards show it
          // (a step's card is in the channel once the step became current)
          let chosen: { seq: number; activityId: string | undefined; card: any } | null = null;
          for (const s of t.steps) {
            const activityId = h.cardIdOf(t.id, s.seq);
            const card = latestCard(t, s.seq, activityId, p.aadObjectId);
            if (!card) continue;
            if (!['✅', '⤼'].includes(stateIcon(card))) {
              chosen = { ...s, activityId, card };
              break;
            }
          }
          if (!chosen) {
            const shown = t.steps.filter((s) => h.cardIdOf(t.id, s.seq));
            const s = shown[Math.floor(random() * shown.length)] ?? t.steps[0];
            chosen = { ...s, activityId: h.cardIdOf(t.id, s.seq), card: latestCard(t, s.seq, h.cardIdOf(t.id, s.seq), p.aadObjectId) };
          }
          const actions = actionsOf(chosen.card);
          const has = (v: string) => actions.find((a) => a.verb === v);
          const owner = t.owners.has(p.aadObjectId);
          const r = random();
          let pick = has('card.refresh');
          if (has('step.approve') && (owner || r < 0.1)) pick = r < 0.85 ? has('step.approve') : r < 0.95 ? has('step.reject') : pick;
          else if (has('step.request')) pick = r < 0.7 ? has('step.request') : pick;
          else if (has('step.retry') && owner) pick = r < 0.6 ? has('step.retry') : r < 0.7 && has('step.mark-done') ? has('step.mark-done') : pick;
          if (!pick) {
            await sleep(THINK_MS);
            continue;
          }
          const data = {
            ...pick.data,
            ...(pick.verb === 'step.approve' ? { confirm: t.name } : {}),
            ...(pick.verb === 'step.reject' ? { comment: `rejected under load by ${p.name}` } : {}),
          };
          click = { verb: pick.verb, data, migration: t, replyToId: chosen.activityId };
          history.push(click);
          if (history.length > 20) history.shift();
        }
        const activity = {
          ...h.activity(p, {
            type: 'invoke',
            name: 'adaptiveCard/action',
            replyToId: click.replyToId,
            value: { action: { type: 'Action.Execute', verb: click.verb, data: click.data }, trigger: 'manual' },
          }),
          conversation: { id: click.migration.channel, conversationType: 'channel', tenantId: h.app.tenant!.tenantId, isGroup: true },
        };
        const t0 = performance.now();
        let status = 0;
        let body: any = null;
        try {
          const r = await h.post(activity);
          status = r.status;
          body = r.body;
        } catch (err) {
          problems.push(`${click.verb} failed: ${String(err)}`);
        }
        const ms = performance.now() - t0;
        latencies.push(ms);
        if (!byVerb.has(click.verb)) byVerb.set(click.verb, []);
        byVerb.get(click.verb)!.push(ms);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const card = body?.value;
        if (status !== 200 || card?.type !== 'AdaptiveCard') {
          problems.push(`${click.verb} → ${status} ${JSON.stringify(body).slice(0, 200)}`);
        } else {
          const text = cardText(card);
          const checking = text.includes('Checking with the on-premises runner');
          const refused = !checking && (text.includes('ℹ ') || /Nothing was changed|did not go through/.test(text));
          if (/did not go through|hit an error/.test(text)) problems.push(`${click.verb} → error card: ${text.slice(0, 200)}`);
          if (checking)
            answeredEarly++; // accepted or refused in the background: reconciled against the audit below
          else if (refused) stale++;
          else if (click.verb === 'step.approve' || click.verb === 'step.reject') accepted.decisions++;
          else if (click.verb === 'step.request' || click.verb === 'step.retry') accepted.requests++;
          else if (click.verb === 'step.mark-done') accepted.markDone++;
          const refresh = actionsOf(card).find((a) => a.verb === 'card.refresh');
          if (refresh) seen.set(`${p.aadObjectId}|${click.migration.id}|${refresh.data.s}`, { card, v: Number(refresh.data.v) });
        }
        await sleep(THINK_MS * 2 * random());
      }
    };
    const t0 = Date.now();
    await Promise.all(people.map((p, i) => person(p, i)));
    const elapsed = (Date.now() - t0) / 1000;

    // Let what was approved finish (runner jobs, Graph calls), within a bound.
    const drainStart = Date.now();
    let inFlight: number;
    for (;;) {
      inFlight = Number((await h.app.db.query("SELECT count(*)::int AS n FROM steps WHERE state IN ('approved','running')")).rows[0].n);
      if (!inFlight || Date.now() - drainStart > 60_000) break;
      await sleep(500);
    }
    await h.app.engine.idle();
    const drainSeconds = (Date.now() - drainStart) / 1000;
    unhandled.dispose();

    const db = h.app.db;
    const violations = await transitionViolations(db);
    const auditDecisions = Number((await db.query("SELECT count(*)::int AS n FROM audit WHERE action IN ('approved','rejected')")).rows[0].n) - auditBefore;
    const auditRequests =
      Number(
        (await db.query("SELECT count(*)::int AS n FROM audit WHERE action IN ('approval-requested','retry-requested','step-run','step-retried')")).rows[0].n,
      ) - requestsBefore;
    const auditMarkDone = Number((await db.query("SELECT count(*)::int AS n FROM audit WHERE action = 'marked-done'")).rows[0].n);
    const chains = await Promise.all(targets.map(async (t) => ({ name: t.name, ...(await h.app.engine.verifyAudit(t.id)) })));
    const brokenChains = chains.filter((c) => !c.ok).map((c) => c.name);
    const failedSteps = (await db.query("SELECT error->>'message' AS reason, count(*)::int AS n FROM steps WHERE state = 'failed' GROUP BY 1 ORDER BY 2 DESC"))
      .rows;
    const progress = (await db.query('SELECT state, count(*)::int AS n FROM steps GROUP BY state ORDER BY state')).rows
      .map((r: any) => `${r.state} ${r.n}`)
      .join(', ');
    const transitions = (await db.query('SELECT count(*)::int AS n FROM audit WHERE step_seq IS NOT NULL')).rows[0].n;
    const jobs = (await db.query("SELECT state, count(*)::int AS n FROM runner_jobs WHERE migration_id NOT LIKE 'read:%' GROUP BY state ORDER BY state")).rows
      .map((r: any) => `${r.state} ${r.n}`)
      .join(', ');
    const errors = [...new Set(collected.errors.map((e) => `${e.msg}: ${e.err?.message ?? ''}`))];
    const all = latencySummary(latencies);
    const verbs = Object.fromEntries([...byVerb].map(([v, s]) => [v, latencySummary(s)]));
    const fiveHundreds = [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
    const mismatches = [
      auditDecisions !== accepted.decisions ? `accepted approve/reject clicks ${accepted.decisions} ≠ audit decisions ${auditDecisions}` : null,
      // A click answered early ("checking") was accepted or refused afterwards: at most one audit row each.
      auditRequests < accepted.requests || auditRequests > accepted.requests + answeredEarly
        ? `accepted request/retry clicks ${accepted.requests} (+ ${answeredEarly} answered early) ≠ audit requests ${auditRequests}`
        : null,
      auditMarkDone !== accepted.markDone ? `accepted mark-done clicks ${accepted.markDone} ≠ audit ${auditMarkDone}` : null,
    ].filter(Boolean) as string[];

    const held =
      !problems.length &&
      !fiveHundreds &&
      !errors.length &&
      !violations.length &&
      !mismatches.length &&
      !brokenChains.length &&
      !unhandled.rejections.length &&
      !unhandled.exceptions.length;
    record({
      area: 'Load',
      check: `${PEOPLE} approvers (+10 requesters) × ${MIGRATIONS} migrations × ${SECONDS} s, invokes over /api/messages`,
      figure: `${all.n} clicks (${(all.n / elapsed).toFixed(0)}/s), p50 ${all.p50} ms, p99 ${all.p99} ms, max ${all.max} ms; ${accepted.decisions} decisions + ${accepted.requests} requests accepted, ${answeredEarly} answered early ("checking"), ${stale} stale/refused; 5xx ${fiveHundreds}, errors ${errors.length}`,
      outcome: held ? 'held' : 'FAILED',
      counts: { duplicateTransitions: violations.length + mismatches.length, fiveHundreds },
      detail: {
        latency: all,
        verbs,
        statuses: Object.fromEntries(statuses),
        accepted,
        answeredEarly,
        auditDecisions,
        auditRequests,
        stale,
        replays,
        transitions,
        progress,
        failedSteps,
        jobs,
        inFlightAfterDrain: inFlight,
        drainSeconds,
        elapsed,
        problems: problems.slice(0, 20),
        errors: errors.slice(0, 10),
        violations: violations.slice(0, 20),
        mismatches,
        brokenChains,
      },
    });
    console.log(
      `[load] ${all.n} clicks in ${elapsed.toFixed(0)} s: p50 ${all.p50} ms, p90 ${all.p90} ms, p99 ${all.p99} ms; steps: ${progress}; runner jobs: ${jobs}`,
    );
    expect(problems.slice(0, 10)).toEqual([]);
    expect(fiveHundreds).toBe(0);
    expect(errors).toEqual([]);
    expect(unhandled.rejections).toEqual([]);
    expect(unhandled.exceptions).toEqual([]);
    expect(violations).toEqual([]);
    expect(mismatches).toEqual([]);
    expect(brokenChains).toEqual([]);
    expect(inFlight, 'steps still approved/running 60 s after the load').toBe(0);
    expect(accepted.decisions).toBeGreaterThan(0);
    // the snapshot helper still reads every table (the store is intact after the load)
    expect(await snapshot(db)).toBeTruthy();
  });
});
