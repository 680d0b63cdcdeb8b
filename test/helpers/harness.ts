import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../src/clock.js';
import { loadSettings } from '../../src/config.js';
import { buildApp, type App, type BuildOptions } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import { openPglite, type Db } from '../../src/store/db.js';
import type { StepState } from '../../src/runbooks/types.js';
import { RecordingConnector } from './connector.js';
import { mintSandboxAppToken } from '../../src/graph/permissions.js';

export const USERS = {
  alex: { id: '29:alex', name: 'Alex Wilber', aadObjectId: '00000000-0000-0000-0000-00000000a1e0' },
  megan: { id: '29:megan', name: 'Megan Bowen', aadObjectId: '00000000-0000-0000-0000-0000000be6a0' },
  lee: { id: '29:lee', name: 'Lee Gu', aadObjectId: '00000000-0000-0000-0000-0000000011ee' },
  bystander: { id: '29:pat', name: 'Pat Bystander', aadObjectId: '00000000-0000-0000-0000-0000000ba700' },
};
export type TestUser = (typeof USERS)[keyof typeof USERS];

export const CHANNEL = '19:cutover-ops@thread.tacv2';
export const PILOT_OU = 'OU=CloudSyncPilot,DC=contoso,DC=com';

/** A cutover process on loopback with the sandbox tenant, a recording connector, and a manual clock. */
export class Harness {
  /** How long advance() waits for a started step to end (the PowerShell executor's tests give it longer). */
  stepTimeoutMs = 60_000;

  constructor(
    readonly app: App,
    readonly connector: RecordingConnector,
    readonly clock: ManualClock,
    /** Optional: the Entra tenant and channel this harness's activities come from (default: the first sandbox tenant, CHANNEL). */
    readonly scope: { tenantId?: string; channel?: string } = {},
  ) {}

  /** The same process, seen from another channel and/or another Entra tenant (multi-tenant tests). */
  in(scope: { tenantId?: string; channel?: string }): Harness {
    return new Harness(this.app, this.connector, this.clock, scope);
  }

  static async start(opts: { env?: Record<string, string>; db?: Db; build?: BuildOptions } = {}): Promise<Harness> {
    const connector = await new RecordingConnector().start();
    connector.members = Object.values(USERS);
    const clock = new ManualClock(new Date());
    // The TypeScript sandbox executor by default: the harness's ManualClock drives it, where the PowerShell scripts read
    // the wall clock (tests of the PowerShell executor pass SANDBOX_EXECUTOR: 'powershell').
    const settings = loadSettings({
      PORT: '0',
      PLAYGROUND: '0',
      MONITOR: '0',
      LOG_LEVEL: 'silent',
      VERIFY_WAIT_MINUTES: '0.03',
      VERIFY_POLL_SECONDS: '0.05',
      SANDBOX_EXECUTOR: 'sandbox',
      ...opts.env,
    });
    const app = await buildApp(settings, {
      clock,
      log: createLogger({ level: 'silent' }),
      db: opts.db ?? (await openPglite(null)),
      sandboxTickMs: 0,
      monitorSchedules: false,
      notifierRetryBaseMs: 10,
      graphReportsLimit: { requests: 5, intervalMs: 50 },
      ...opts.build,
    });
    return new Harness(app, connector, clock);
  }

  async stop(): Promise<void> {
    await this.app.stop();
    await this.connector.stop();
  }

  activity(from: TestUser, extra: Record<string, unknown>): any {
    return {
      id: randomUUID(),
      channelId: 'msteams',
      serviceUrl: this.connector.url,
      timestamp: new Date().toISOString(),
      from: { id: from.id, name: from.name, aadObjectId: from.aadObjectId },
      recipient: { id: '28:cutover-bot', name: 'cutover' },
      conversation: {
        id: this.scope.channel ?? CHANNEL,
        conversationType: 'channel',
        tenantId: this.scope.tenantId ?? this.app.tenant?.tenantId,
        isGroup: true,
      },
      channelData: { tenant: { id: this.scope.tenantId ?? this.app.tenant?.tenantId }, channel: { id: this.scope.channel ?? CHANNEL } },
      ...extra,
    };
  }

  async post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const r = await fetch(`${this.app.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* keep text */
    }
    return { status: r.status, body: parsed };
  }

  /** A chat message; resolves once the bot's turn has finished (CloudAdapter answers after the turn). */
  async say(from: TestUser, text: string): Promise<{ status: number; body: any }> {
    return this.post(this.activity(from, { type: 'message', text }));
  }

  /** A card click (Action.Execute → adaptiveCard/action invoke); returns the card the clicker gets back. */
  async click(from: TestUser, verb: string, data: Record<string, unknown>, replyToId?: string): Promise<{ status: number; card: any; body: any }> {
    const r = await this.post(
      this.activity(from, {
        type: 'invoke',
        name: 'adaptiveCard/action',
        replyToId,
        value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
      }),
    );
    return { status: r.status, card: r.body?.value, body: r.body };
  }

  async state(): Promise<any> {
    return (await fetch(`${this.app.url}/sandbox/v1/state`)).json();
  }

  /**
   * Waits until the step is in one of `states`, driven by the engine's own events (no sleeps); 'operator' stands for an
   * approved manual step waiting for the person doing it (running, nothing of cutover's own running).
   */
  async waitForStep(migrationId: string, seq: number, states: (StepState | 'operator')[], timeoutMs = 60_000): Promise<any> {
    const engine = this.app.engine;
    const current = async () => {
      const s = await engine.getStep(migrationId, seq);
      const operator = s?.state === 'running' && (s.evidence as any)?.awaitingOperator === true;
      return s && (states.includes(s.state) || (operator && states.includes('operator'))) ? s : null;
    };
    const now = await current();
    if (now) return now;
    return new Promise((resolve, reject) => {
      let done = false;
      const t = setTimeout(async () => {
        done = true;
        const s = await engine.getStep(migrationId, seq);
        reject(new Error(`step ${seq} did not reach ${states.join('|')} (it is ${s?.state}: ${JSON.stringify(s?.error)})`));
      }, timeoutMs);
      engine.on(async (e) => {
        if (done || e.type !== 'step-changed' || e.migrationId !== migrationId || e.seq !== seq) return;
        const s = await current();
        if (s && !done) {
          done = true;
          clearTimeout(t);
          resolve(s);
        }
      });
    });
  }

  /**
   * Creates a pilot migration (requester alex, owners alex + megan + lee) and returns its id. One active migration
   * holds an OU: a second one at a time needs its own `ou`.
   */
  async newPilot(name = 'Pilot', extra = '', ou = PILOT_OU): Promise<string> {
    const n = this.connector.sent.length;
    await this.say(
      USERS.alex,
      `new migration "${name}" domain=contoso.com ou="${ou}" owners=${USERS.alex.aadObjectId},${USERS.megan.aadObjectId},${USERS.lee.aadObjectId} ${extra}`,
    );
    // Answered "Creating…" when the checks outlast the answer's time (a slow runner, pwsh): the answer is then replaced
    // by the result, whichever it is.
    await this.connector
      .waitFor(
        () => this.connector.sent.slice(n).some((s) => /Migration "[^"]*" created|Migration not created/.test(cardText(s.activity))) || undefined,
        60_000,
        `the answer to new migration "${name}"`,
      )
      .catch(() => undefined);
    const m = await this.app.engine.findMigration(name);
    if (!m)
      throw new Error(
        `migration ${name} was not created: ${this.connector.sent
          .slice(n)
          .map((s) => cardText(s.activity))
          .join(' | ')
          .slice(0, 600)}`,
      );
    return m.id;
  }

  /**
   * A fresh OU of the sandbox forest (contoso.com), with `users` users that Connect Sync exports at once: one active
   * migration holds an OU, so tests that start many migrations at a time give each its own.
   */
  ou(name: string, users = 0): string {
    const forest = this.app.tenant!.forest;
    const dn = `OU=${name},DC=contoso,DC=com`;
    if (!forest.ad.hasOu(dn)) forest.ad.addOu(dn);
    for (let i = 0; i < users; i++) {
      const sam = `${name
        .replace(/[^A-Za-z0-9]/g, '')
        .slice(0, 10)
        .toLowerCase()}u${i}`;
      const u = forest.ad.add({
        cn: `${name} user ${i}`,
        parentDn: dn,
        objectClass: 'user',
        displayName: `${name} user ${i}`,
        samAccountName: sam,
        userPrincipalName: `${sam}@contoso.com`,
        proxyAddresses: [],
      });
      forest.ad.update(u.objectGUID, { consistencyGuid: u.objectGUID });
    }
    if (users) forest.server.runSyncCycle('Delta', this.clock.now());
    return dn;
  }

  /** Clicks a migration through steps from..to (by seq): alex requests, megan (and lee for sensitive steps) approve. */
  /** What the person doing a manual step does by hand, by step key (e.g. the Connect wizard's staging mode). */
  operators: Record<string, () => void | Promise<void>> = {};

  async advance(migrationId: string, to: number, from = 1): Promise<void> {
    const m = (await this.app.engine.getMigration(migrationId))!;
    for (let seq = from; seq <= to; seq++) {
      const row = (await this.app.engine.getStep(migrationId, seq))!;
      if (row.state === 'succeeded' || row.state === 'skipped') continue;
      const def = this.app.engine.plannedStep(m, row).def;
      const again = row.state === 'failed' || row.state === 'lost';
      const asked = await this.click(USERS.alex, again ? 'step.retry' : 'step.request', await this.stepData(migrationId, seq));
      if ((await this.app.engine.getStep(migrationId, seq))!.state === row.state && !cardText(asked.card).includes('Checking with the on-premises runner')) {
        // refused (a guard, the sequence, a plan that could not be prepared): say why instead of waiting for nothing
        const notice =
          cardText(asked.card)
            .split('\n')
            .find((l) => l.startsWith('ℹ')) ?? cardText(asked.card).slice(-400);
        throw new Error(`step ${seq} (${row.key}) was not started: ${notice}`);
      }
      // A request answered with the "checking" card (its guard reads outlasted the click) goes on in the background:
      // approving before it has asked for approval would be a click on a stale card, answered with nothing changed.
      if (cardText(asked.card).includes('Checking with the on-premises runner'))
        await this.waitForStep(
          migrationId,
          seq,
          ['awaiting_approval', 'approved', 'running', 'succeeded', 'failed', 'lost', 'skipped', 'rejected'],
          this.stepTimeoutMs,
        );
      if (def.approval !== 'none') await this.click(USERS.megan, 'step.approve', { ...(await this.stepData(migrationId, seq)), confirm: m.name });
      if (def.approval === 'sensitive') await this.click(USERS.lee, 'step.approve', { ...(await this.stepData(migrationId, seq)), confirm: m.name });
      let s = await this.waitForStep(migrationId, seq, ['succeeded', 'failed', 'lost', 'skipped', 'operator'], this.stepTimeoutMs);
      if (s.state === 'running') {
        // An approved manual step: the person does it by hand (in the sandbox, `operators[key]` plays them), then says so.
        await this.operators[row.key]?.();
        await this.click(USERS.alex, 'step.done', await this.stepData(migrationId, seq));
        s = await this.waitForStep(migrationId, seq, ['succeeded', 'failed', 'lost', 'skipped'], this.stepTimeoutMs);
      }
      if (s.state !== 'succeeded' && s.state !== 'skipped') throw new Error(`step ${seq} (${row.key}) ended ${s.state}: ${JSON.stringify(s.error)}`);
    }
  }

  async fault(body: unknown): Promise<{ status: number; body: any }> {
    const r = await fetch(`${this.app.url}/sandbox/v1/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() };
  }

  /** An app-only token with the sandbox app's permissions, for a test's own requests to the Graph simulator. */
  graphToken(): string {
    return mintSandboxAppToken({ tenantId: this.app.tenant!.tenantId });
  }

  async monitorRun(): Promise<any> {
    return (await fetch(`${this.app.url}/sandbox/v1/monitor/run`, { method: 'POST' })).json();
  }

  /** A step's seq by its key (and batch), as the runbook names it. */
  async seqOf(migrationId: string, key: string, batch: number | null = null): Promise<number> {
    const steps = await this.app.engine.getSteps(migrationId);
    const s = steps.find((x) => x.key === key && (batch === null || x.batch === batch));
    if (!s) throw new Error(`no step ${key}${batch ? ` in batch ${batch}` : ''}`);
    return s.seq;
  }

  /** Clicks through the steps in order until (and including) the step with this key. */
  async advanceTo(migrationId: string, key: string, batch: number | null = null): Promise<void> {
    const target = await this.seqOf(migrationId, key, batch);
    for (const s of await this.app.engine.getSteps(migrationId)) {
      if (s.state === 'succeeded' || s.state === 'skipped') {
        if (s.seq === target) return;
        continue;
      }
      await this.advance(migrationId, s.seq, s.seq);
      if (s.seq === target) return;
    }
  }

  /**
   * One Connect → Cloud Sync batch through to its scheduler start. Cloud Sync runs a cycle between enabling and
   * verifying (the sandbox's tick); the clock moves past provisioning on demand's window (5 requests per 10 s).
   */
  async runBatch(migrationId: string, batch: number): Promise<void> {
    this.clock.advance(10_001);
    await this.advanceTo(migrationId, 'enable-cloud-sync', batch);
    this.app.tenant!.tick();
    await this.advanceTo(migrationId, 'start-scheduler', batch);
  }

  /**
   * The id of the message holding a step's card in the migration's thread, once posted (a step's card is posted when
   * the step becomes current, through the channel's send queue).
   */
  async postedCard(migrationId: string, seq: number, timeoutMs = 45_000): Promise<string> {
    return this.connector.waitFor(() => this.cardIdOf(migrationId, seq), timeoutMs, `the card of step ${seq}`);
  }

  #cardIds = new Map<string, string>();
  #cardsScanned = 0;
  /** The message of a step's card as the channel shows it (undefined until posted): what a person can click. */
  cardIdOf(migrationId: string, seq: number): string | undefined {
    const sent = this.connector.sent;
    for (; this.#cardsScanned < sent.length; this.#cardsScanned++) {
      const r = sent[this.#cardsScanned];
      if (r.method !== 'POST') continue;
      for (const a of r.activity.attachments ?? []) {
        const of = stepOfCard(a.content);
        if (of && !this.#cardIds.has(`${of.m}|${of.s}`)) this.#cardIds.set(`${of.m}|${of.s}`, r.activityId);
      }
    }
    return this.#cardIds.get(`${migrationId}|${seq}`);
  }

  /** The step's current version, as its card carries it. */
  async stepData(migrationId: string, seq: number): Promise<{ m: string; s: number; v: number; a: number }> {
    const s = (await this.app.engine.getStep(migrationId, seq))!;
    return { m: migrationId, s: seq, v: s.version, a: s.attempt };
  }
}

/**
 * The text of every text element of a card, one line each, for assertions on what a person sees: a RichTextBlock's
 * runs read as one line (as it shows), and cards render every text as TextRuns (src/bot/cards.ts).
 */
export function cardText(card: any): string {
  const out: string[] = [];
  const walk = (n: any) => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(walk);
    if (n.type === 'RichTextBlock' && Array.isArray(n.inlines)) {
      out.push(n.inlines.map((r: any) => (typeof r === 'string' ? r : (r.text ?? ''))).join(''));
      return;
    }
    if (typeof n.text === 'string') out.push(n.text);
    if (typeof n.title === 'string') out.push(n.title);
    if (typeof n.value === 'string') out.push(n.value);
    for (const v of Object.values(n)) if (typeof v === 'object') walk(v);
  };
  walk(card);
  return out.join('\n');
}

/** The migration and step a step card is about (the data of its Refresh action), or null for another card. */
export function stepOfCard(card: any): { m: string; s: number } | null {
  let found: { m: string; s: number } | null = null;
  const walk = (n: any) => {
    if (found || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(walk);
    if (n.type === 'Action.Execute' && n.verb === 'card.refresh' && n.data?.m && n.data?.s !== undefined) found = { m: n.data.m, s: Number(n.data.s) };
    for (const v of Object.values(n)) if (typeof v === 'object') walk(v);
  };
  walk(card);
  return found;
}

export function buttons(card: any): string[] {
  const out: string[] = [];
  const walk = (n: any) => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(walk);
    if (n.type === 'Action.Execute') out.push(n.title);
    for (const v of Object.values(n)) if (typeof v === 'object') walk(v);
  };
  walk(card);
  return out;
}
