import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, CHANNEL, cardText, type TestUser } from '../helpers/harness.js';
import { RESULTS_DIR, collectingLogger, envNumber, record, seqOf, snapshot, trackUnhandled } from './support.js';

/**
 * A fuzzer over HTTP: ≥ 10,000 malformed, oversized and adversarial activities and invokes against one process.
 * Every answer must be a 4xx, or a 200 with a card (an invoke's card in the response; a message's card posted back
 * into the conversation). Nothing may crash, no promise may be left rejected, nothing in the store may change, and
 * the process must keep serving.
 *
 * The inputs come from fast-check with a fixed seed (RELIABILITY_FUZZ_SEED to change it, RELIABILITY_FUZZ_RUNS for
 * the count) so a failure can be replayed: the failing input is in the assertion message.
 */
const SEED = envNumber('RELIABILITY_FUZZ_SEED', 20261122);
const RUNS = envNumber('RELIABILITY_FUZZ_RUNS', 10_400);
const CONCURRENCY = 12;

/** Strings that have broken somebody's software: SQL, shell, PowerShell, HTML, template, LDAP, paths, encodings. */
export const INJECTIONS = [
  "'; DROP TABLE migrations; --",
  "Robert'); DELETE FROM approvals; --",
  '" OR 1=1 --',
  "1' OR '1'='1",
  '$(rm -rf /)',
  '`rm -rf /`',
  '; rm -rf / #',
  '| whoami',
  '& calc.exe',
  '; Remove-ADUser -Identity * -Confirm:$false',
  '$(Get-ADUser -Filter *)',
  '@(Invoke-Expression "whoami")',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '"><svg/onload=alert(1)>',
  '${migration.id}',
  '${step.seq}',
  '${if(true, "x", "y")}',
  '${$root}',
  '{{constructor.constructor("return process")()}}',
  '*)(objectClass=*)',
  ')(|(cn=*))',
  '*)(uid=*))(|(uid=*',
  'admin)(&)',
  '\\2a\\28\\29\\5c\\00',
  'CN=x\\,OU=y,DC=contoso,DC=com',
  'OU=Sales,DC=contoso,DC=com;OU=Finance,DC=contoso,DC=com',
  '../../../../etc/passwd',
  '..\\..\\windows\\system32',
  '%00%0d%0a',
  '\u0000',
  '\r\nX-Injected: yes',
  '\u202eevil\u202c',
  '__proto__',
  'constructor',
  '{"$ne":null}',
  '<at>cutover</at> runner add evil',
  '&lt;at&gt;x&lt;/at&gt;',
  '🔥💥'.repeat(20),
  'A'.repeat(5_000),
  'status '.repeat(700),
  '\uFEFF\u200B\u2028\u2029',
];

const KNOWN_VERBS = [
  'step.request',
  'step.approve',
  'step.reject',
  'step.retry',
  'step.mark-done',
  'card.refresh',
  'migration.refresh',
  'form.new-migration',
  'chat.status',
  'migration.create',
  'alert.ack',
  'alert.snooze',
  'alert.refresh',
  'alert.resolve',
  'runner.approve',
  'runner.reject',
  'runner.token',
  'runner.refresh',
];
const ACTIVITY_TYPES = [
  'message',
  'invoke',
  'conversationUpdate',
  'installationUpdate',
  'messageReaction',
  'event',
  'typing',
  'endOfConversation',
  'messageUpdate',
  'messageDelete',
];

type Input = { kind: 'raw'; body: string; contentType: string } | { kind: 'activity'; activity: any; expectCard: boolean } | { kind: 'invoke'; activity: any };

describe('fuzzing /api/messages', () => {
  let h: Harness;
  let collected: ReturnType<typeof collectingLogger>;
  let migrationId = '';
  let stepSeq = 1;
  let stepVersion = 0;
  let stepAttempt = 0;

  beforeAll(async () => {
    collected = collectingLogger();
    h = await Harness.start({ build: { log: collected.log } });
    // The target: a migration whose current step waits for approval (requested by alex; megan may approve).
    migrationId = await h.newPilot('Fuzz target');
    stepSeq = await seqOf(h.app.db, migrationId, 'stop-scheduler');
    await h.advance(migrationId, stepSeq - 1);
    await h.click(USERS.alex, 'step.request', await h.stepData(migrationId, stepSeq));
    const s = (await h.app.engine.getStep(migrationId, stepSeq))!;
    expect(s.state).toBe('awaiting_approval');
    stepVersion = s.version;
    stepAttempt = s.attempt;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it(`answers ${RUNS.toLocaleString('en')} adversarial inputs with a 4xx or a clear card, changing nothing`, async () => {
    const inj = fc.constantFrom(...INJECTIONS);
    const text = fc.oneof(
      { weight: 4, arbitrary: inj },
      { weight: 3, arbitrary: fc.string({ maxLength: 60 }) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
      { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), inj, fc.string({ maxLength: 10 })).map(([a, b, c]) => a + b + c) },
    );
    const weird = fc.oneof(
      text,
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.jsonValue({ maxDepth: 2 }),
      fc.constant(undefined),
      fc.constant(-1),
      fc.constant(1e308),
      fc.constant('1e400'),
      fc.constant('NaN'),
    );
    const strangers: TestUser[] = [USERS.bystander, { id: '29:mallory', name: "Mallory'); DROP TABLE people; --", aadObjectId: randomUUID() }];
    const stranger = fc.oneof(
      fc.constantFrom(...strangers),
      fc.record({ id: text, name: text, aadObjectId: fc.oneof(fc.uuid(), text) }).map((u) => u as unknown as TestUser),
    );
    // Owners only ever carry a version and an attempt that are not the step's: their clicks must be stale.
    const staleNumber = (current: number) => fc.integer({ min: 1, max: 1_000 }).map((k) => current + k);

    const command = fc.oneof(
      fc
        .tuple(fc.constantFrom('status', 'jobs', 'audit', 'runbook', 'runner add', 'runner revoke', 'help', 'pending', 'alerts', 'runners', ''), text)
        .map(([c, a]) => `${c} ${a}`),
      fc.tuple(fc.constantFrom('<at>cutover</at> ', '@cutover ', '', '  '), text).map(([m, t]) => m + t),
      // new migration with injections in every argument, always with one argument that must be refused
      fc
        .record({
          name: text,
          domain: fc.oneof(text, fc.constant('contoso.com')),
          ou: fc.oneof(
            text,
            inj.map((i) => `OU=${i.replace(/[",;=+<>#\\]/g, '')},DC=contoso,DC=com`),
          ),
          owners: fc.oneof(text, fc.constant(USERS.megan.aadObjectId)),
          approvals: fc.oneof(text, fc.constantFrom('1', '2', '0', '11', '-1', '1.5')),
          broken: fc.constantFrom('owners', 'approvals', 'domain', 'ou', 'name'),
        })
        .map((r) => {
          const v = { ...r } as Record<string, string>;
          if (r.broken === 'owners') v.owners = `not-a-guid-${r.owners}`;
          if (r.broken === 'approvals') v.approvals = '11';
          if (r.broken === 'domain') v.domain = 'fabrikam.com';
          if (r.broken === 'ou') v.ou = `CN=${r.name.replace(/[",;=+<>#\\]/g, '')},DC=contoso,DC=com`;
          if (r.broken === 'name') v.name = `<${r.name}>`;
          return `new migration "${v.name}" domain=${v.domain} ou="${v.ou}" owners=${v.owners} approvals=${v.approvals}`;
        }),
      text,
    );

    const messageFrom = (from: TestUser, conversationId: string, t: unknown, extra: Record<string, unknown> = {}) => ({
      ...h.activity(from, { type: 'message', text: t, ...extra }),
      conversation: { id: conversationId, conversationType: 'channel', tenantId: h.app.tenant?.tenantId, isGroup: true },
    });

    const messages: fc.Arbitrary<Input> = fc.oneof(
      // strangers in the migration's channel
      fc.tuple(stranger, command).map(([u, c]) => ({ kind: 'activity' as const, activity: messageFrom(u, CHANNEL, c), expectCard: true })),
      // owners, but in a channel with no migration (so runner add/revoke is refused)
      fc
        .tuple(fc.constantFrom(USERS.alex, USERS.megan), command)
        .map(([u, c]) => ({ kind: 'activity' as const, activity: messageFrom(u, `19:other-${SEED}@thread.tacv2`, c), expectCard: true })),
    );

    const cardData = fc.record(
      {
        m: fc.oneof(fc.constant(migrationId), text, weird),
        s: fc.oneof(fc.constant(stepSeq), fc.constant(String(stepSeq)), weird),
        v: fc.oneof(weird, staleNumber(stepVersion)),
        a: fc.oneof(weird, staleNumber(stepAttempt)),
        comment: text,
        confirm: text,
        alert: fc.oneof(text, fc.uuid()),
        hours: weird,
        kind: fc.oneof(text, fc.constant('connect-to-cloud-sync')),
        name: text,
        domain: text,
        ou: text,
        owners: text,
        ownerChoices: text,
        approvals: weird,
      },
      { requiredKeys: [] },
    );
    const ownerData = cardData.chain((d) =>
      fc.tuple(staleNumber(stepVersion), staleNumber(stepAttempt)).map(([v, a]) => ({ ...d, m: migrationId, s: stepSeq, v, a, owners: 'x', ownerChoices: '' })),
    );
    const actionValue = (data: fc.Arbitrary<unknown>) =>
      fc.oneof(
        {
          weight: 8,
          arbitrary: fc
            .tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KNOWN_VERBS) }, { weight: 1, arbitrary: text }), data)
            .map(([verb, d]) => ({ action: { type: 'Action.Execute', verb, data: d }, trigger: 'manual' })),
        },
        {
          weight: 1,
          arbitrary: fc.record(
            {
              action: fc.record(
                { type: fc.oneof(fc.constantFrom('Action.Submit', 'Action.Execute', 'Action.OpenUrl'), weird), verb: weird, data: weird },
                { requiredKeys: [] },
              ),
            },
            { requiredKeys: [] },
          ),
        },
        { weight: 1, arbitrary: fc.oneof(fc.constant({}), fc.constant({ action: null }), fc.dictionary(fc.string({ maxLength: 8 }), weird, { maxKeys: 4 })) },
      );
    const invokes: fc.Arbitrary<Input> = fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .tuple(stranger, actionValue(cardData))
          .map(([u, value]) => ({ kind: 'invoke' as const, activity: h.activity(u, { type: 'invoke', name: 'adaptiveCard/action', value }) })),
      },
      {
        weight: 3,
        arbitrary: fc
          .tuple(fc.constantFrom(USERS.alex, USERS.megan), actionValue(ownerData))
          .map(([u, value]) => ({ kind: 'invoke' as const, activity: h.activity(u, { type: 'invoke', name: 'adaptiveCard/action', value }) })),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            stranger,
            fc.oneof(
              fc.constantFrom(
                'task/fetch',
                'task/submit',
                'composeExtension/query',
                'signin/verifyState',
                'healthCheck',
                'config/fetch',
                'fileConsent/invoke',
                'actionableMessage/executeAction',
                'application/search',
                '',
              ),
              text,
            ),
            weird,
          )
          .map(([u, name, value]) => ({
            kind: 'invoke' as const,
            activity: h.activity(u, { type: 'invoke', name, value: value && typeof value === 'object' ? value : {} }),
          })),
      },
    );

    // Activity-shaped bodies with one to three fields replaced by something else.
    const FIELDS = [
      'type',
      'name',
      'from',
      'conversation',
      'serviceUrl',
      'channelId',
      'text',
      'value',
      'entities',
      'attachments',
      'recipient',
      'channelData',
      'replyToId',
      'locale',
      'id',
      'timestamp',
      'textFormat',
      'membersAdded',
      'reactionsAdded',
    ];
    const mutated: fc.Arbitrary<Input> = fc
      .tuple(
        stranger,
        fc.constantFrom(...ACTIVITY_TYPES),
        fc.array(fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(weird, fc.record({ id: weird, name: weird, aadObjectId: weird }, { requiredKeys: [] }))), {
          minLength: 1,
          maxLength: 3,
        }),
        text,
      )
      .map(([u, type, edits, t]) => {
        const a: any = h.activity(u, {
          type,
          text: t,
          name: type === 'invoke' ? 'adaptiveCard/action' : undefined,
          value: type === 'invoke' ? { action: { type: 'Action.Execute', verb: 'card.refresh', data: {} } } : undefined,
        });
        for (const [k, v] of edits) {
          if (k === 'serviceUrl' && typeof v === 'string' && /^https?:/.test(v)) continue; // never point the bot at a host that is not the recorder
          if (k === 'conversation' && v && typeof v === 'object' && typeof (v as any).id === 'string' && (v as any).id === CHANNEL) continue;
          a[k] = v;
        }
        return { kind: 'activity' as const, activity: a, expectCard: false };
      });

    const raw: fc.Arbitrary<Input> = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => ({ kind: 'raw' as const, body: JSON.stringify(v) ?? 'null', contentType: 'application/json' })),
      fc.string({ unit: 'binary', maxLength: 300 }).map((s) => ({ kind: 'raw' as const, body: s, contentType: 'application/json' })),
      fc
        .tuple(
          fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/xml', 'application/octet-stream', ''),
          fc.string({ maxLength: 100 }),
        )
        .map(([ct, s]) => ({ kind: 'raw' as const, body: s, contentType: ct })),
      fc.integer({ min: 1, max: 40_000 }).map((n) => ({ kind: 'raw' as const, body: '['.repeat(n) + ']'.repeat(n), contentType: 'application/json' })),
      fc.integer({ min: 1, max: 200 }).map((n) => ({
        kind: 'raw' as const,
        body: JSON.stringify(h.activity(USERS.bystander, { type: 'message', text: 'help' })).slice(0, n),
        contentType: 'application/json',
      })),
    );

    const oversized: Input[] = [
      ...Array.from({ length: 20 }, (_, i) => ({
        kind: 'raw' as const,
        body: JSON.stringify(h.activity(USERS.bystander, { type: 'message', text: 'x'.repeat(300_000 + i) })),
        contentType: 'application/json',
      })),
      ...Array.from({ length: 20 }, (_, i) => ({
        kind: 'activity' as const,
        activity: messageFrom(USERS.bystander, CHANNEL, `status ${'y'.repeat(200_000 + i)}`),
        expectCard: true,
      })),
      ...[10, 1_000, 30_000].map((depth) => ({
        kind: 'raw' as const,
        body: JSON.stringify(
          h.activity(USERS.bystander, {
            type: 'invoke',
            name: 'adaptiveCard/action',
            value: { action: { type: 'Action.Execute', verb: 'card.refresh', data: 'DEEP' } },
          }),
        ).replace('"DEEP"', '['.repeat(depth) + ']'.repeat(depth)),
        contentType: 'application/json',
      })),
      ...[10, 1_000, 30_000].map((depth) => ({
        kind: 'raw' as const,
        body: JSON.stringify(h.activity(USERS.bystander, { type: 'message', text: 'help', channelData: 'DEEP' })).replace(
          '"DEEP"',
          '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
        ),
        contentType: 'application/json',
      })),
      ...Array.from({ length: 20 }, () => ({
        kind: 'invoke' as const,
        activity: h.activity(USERS.bystander, {
          type: 'invoke',
          name: 'adaptiveCard/action',
          value: { action: { type: 'Action.Execute', verb: 'migration.create', data: { name: 'z'.repeat(100_000), owners: 'q'.repeat(100_000) } } },
        }),
      })),
    ];

    const all = fc.oneof(
      { weight: 2, arbitrary: messages },
      { weight: 3, arbitrary: invokes },
      { weight: 3, arbitrary: mutated },
      { weight: 2, arbitrary: raw },
    );
    const inputs: Input[] = [...oversized, ...fc.sample(all, { numRuns: Math.max(0, RUNS - oversized.length), seed: SEED })];

    rmSync(path.join(RESULTS_DIR, 'fuzz-failures.txt'), { force: true });
    const before = await snapshot(h.app.db);
    const unhandled = trackUnhandled();
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const expectReply = new Map<string, string>();
    const timeByLabel = new Map<string, { n: number; ms: number }>();
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < inputs.length) {
        const input = inputs[next++];
        const show = () => {
          if (input.kind === 'raw') return JSON.stringify({ raw: input.body.slice(0, 200), contentType: input.contentType, length: input.body.length });
          const a = input.activity ?? {};
          return JSON.stringify({
            kind: input.kind,
            type: a.type,
            name: a.name,
            value: a.value,
            text: typeof a.text === 'string' ? a.text.slice(0, 120) : a.text,
            from: a.from,
            conversation: a.conversation?.id,
            entities: a.entities,
            attachments: a.attachments,
            id: a.id,
          }).slice(0, 600);
        };
        const started = performance.now();
        const str = (x: unknown) => (typeof x === 'string' ? x : typeof x);
        const label =
          input.kind === 'raw'
            ? 'raw'
            : `${input.kind}:${str(input.activity?.type)}:${input.kind === 'invoke' ? str(input.activity?.value?.action?.verb ?? input.activity?.name).slice(0, 24) : str(input.activity?.text).split(' ')[0].slice(0, 12)}`;
        try {
          let status: number;
          let body: any;
          if (input.kind === 'raw') {
            const r = await fetch(`${h.app.url}/api/messages`, {
              method: 'POST',
              headers: input.contentType ? { 'content-type': input.contentType } : {},
              body: input.body,
            });
            status = r.status;
            body = await r.text();
          } else {
            const r = await h.post(input.activity);
            status = r.status;
            body = r.body;
          }
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status >= 500) failures.push(`${status} for ${show()}: ${JSON.stringify(body).slice(0, 200)}`);
          else if (status !== 200 && (status < 400 || status >= 500)) failures.push(`unexpected ${status} for ${show()}`);
          else if (status === 200 && input.kind === 'invoke') {
            const card = body?.value;
            const isCard = body?.type === 'application/vnd.microsoft.card.adaptive' && card?.type === 'AdaptiveCard';
            const isError = body?.type === 'application/vnd.microsoft.error' && body?.statusCode >= 400 && body?.statusCode < 500;
            if (!isCard && !isError) failures.push(`invoke answered 200 without a card or an error: ${show()} → ${JSON.stringify(body).slice(0, 200)}`);
            else if (isCard && /hit an error/i.test(cardText(card))) failures.push(`invoke answered with an internal-error card: ${show()}`);
          } else if (status === 200 && input.kind === 'activity' && input.expectCard && typeof input.activity.id === 'string') {
            expectReply.set(input.activity.id, show());
          }
        } catch (err) {
          failures.push(`request failed (${String(err)}) for ${show()}`);
        }
        const t = timeByLabel.get(label) ?? { n: 0, ms: 0 };
        timeByLabel.set(label, { n: t.n + 1, ms: t.ms + performance.now() - started });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await h.app.engine.idle();
    const seconds = (performance.now() - t0) / 1000;

    // Every message that reached the bot was answered with a card in its conversation, never with the error text.
    const replies = new Map<string, any>();
    for (const s of h.connector.sent) if (s.activity?.replyToId) replies.set(s.activity.replyToId, s.activity);
    for (const [id, shown] of expectReply) {
      const reply = replies.get(id);
      if (!reply) failures.push(`no reply to message ${shown}`);
      else if (!(reply.attachments ?? []).some((x: any) => x.contentType === 'application/vnd.microsoft.card.adaptive'))
        failures.push(`reply without a card (${JSON.stringify(reply.text ?? '').slice(0, 120)}) to ${shown}`);
    }
    unhandled.dispose();
    const after = await snapshot(h.app.db);
    const healthy = (await fetch(`${h.app.url}/healthz`)).status === 200 && (await h.say(USERS.bystander, 'help')).status === 200;
    // Error lines name their activity: show the input that caused each.
    const byId = new Map(inputs.filter((i) => i.kind !== 'raw').map((i) => [(i as any).activity?.id, i]));
    const errors = collected.errors.map((e) => {
      const a = (byId.get(e.activityId) as any)?.activity;
      const at = String(e.err?.stack ?? '')
        .split('\n')
        .slice(1, 4)
        .map((l) =>
          l
            .trim()
            .replace(/^at /, '')
            .replace(/\(.*\/(src|node_modules)\//, '($1/'),
        )
        .join(' < ');
      return `${e.msg}: ${e.err?.message ?? ''} [${at}]${a ? ` ← ${JSON.stringify({ type: a.type, name: a.name, text: typeof a.text === 'string' ? a.text.slice(0, 80) : a.text, value: a.value, channelData: a.channelData, entities: a.entities, attachments: a.attachments, from: a.from }).slice(0, 400)}` : ''}`;
    });

    record({
      area: 'Bad input',
      check: `fast-check fuzzer (seed ${SEED}): raw bodies, mutated activities, commands, card invokes, oversized`,
      figure: `${inputs.length.toLocaleString('en')} inputs in ${seconds.toFixed(0)} s; status ${[...statuses]
        .sort()
        .map(([s, n]) => `${s}×${n}`)
        .join(
          ' ',
        )}; ${failures.length} bad answers, ${unhandled.rejections.length + unhandled.exceptions.length} unhandled, ${errors.length} error logs, state ${after === before ? 'unchanged' : 'CHANGED'}`,
      outcome: failures.length || unhandled.rejections.length || unhandled.exceptions.length || errors.length || after !== before || !healthy ? 'FAILED' : 'ok',
      counts: { badInputs: inputs.length, fiveHundreds: [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0) },
      detail: {
        slowest: [...timeByLabel]
          .sort((x, y) => y[1].ms - x[1].ms)
          .slice(0, 12)
          .map(([k, v]) => `${k} n=${v.n} total=${Math.round(v.ms)}ms mean=${Math.round(v.ms / v.n)}ms`),
        seed: SEED,
        statuses: Object.fromEntries(statuses),
        failures: failures.slice(0, 20),
        errors: [...new Set(errors)].slice(0, 10),
      },
    });
    mkdirSync(RESULTS_DIR, { recursive: true });
    if (failures.length) writeFileSync(path.join(RESULTS_DIR, 'fuzz-failures.txt'), failures.join('\n'));
    expect(failures.slice(0, 10), `${failures.length} bad answers (all in test-results/reliability/fuzz-failures.txt)`).toEqual([]);
    expect(unhandled.rejections).toEqual([]);
    expect(unhandled.exceptions).toEqual([]);
    expect([...new Set(errors)], 'error-level log lines').toEqual([]);
    expect(after).toBe(before);
    expect(healthy).toBe(true);
    expect(inputs.length).toBeGreaterThanOrEqual(10_000);
  });

  it('stores injection strings verbatim where they are valid values, and cards show them literally', async () => {
    const names = [
      "'; DROP TABLE migrations; --",
      '${migration.id}',
      '$(rm -rf /)',
      '*)(objectClass=*)',
      "Robert'); DELETE FROM approvals; --",
      '{{7*7}} ${1+1}',
    ];
    const created: string[] = [];
    for (const [i, name] of names.entries()) {
      const n = h.connector.sent.length;
      // One active migration per OU: each its own.
      await h.say(USERS.alex, `new migration "${name}" domain=contoso.com ou="${h.ou(`Injection ${i + 1}`)}" owners=${USERS.megan.aadObjectId}`);
      const m = (await h.app.engine.listMigrations()).find((x) => x.name === name);
      expect(m, name).toBeDefined();
      created.push(m!.id);
      const texts = h.connector.sent
        .slice(n)
        .map((s) => cardText(s.activity))
        .join('\n');
      expect(texts, `${name} is shown literally (not evaluated as a template)`).toContain(`${name} · step 1 of`);
    }
    // the tables are all still there and intact
    const tables = (await h.app.db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).rows.map(
      (r: any) => r.table_name,
    );
    for (const t of ['migrations', 'steps', 'approvals', 'audit', 'runner_jobs', 'people']) expect(tables).toContain(t);
    for (const id of created) expect((await h.app.engine.verifyAudit(id)).ok).toBe(true);
    // a card click whose data names a migration by one of these strings finds nothing and changes nothing
    const before = await snapshot(h.app.db);
    for (const name of names) {
      const r = await h.click(USERS.megan, 'step.approve', { m: name, s: 1, v: 0, a: 1 });
      expect(r.status).toBe(200);
      expect(cardText(r.card)).toMatch(/does not exist|not valid/);
    }
    expect(await snapshot(h.app.db)).toBe(before);
  });
});
