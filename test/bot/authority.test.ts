import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { Administrators } from '../../src/runbooks/admins.js';
import { SANDBOX_IDENTITY_OPS_GROUP, SANDBOX_PEOPLE } from '../../src/sandbox/tenant.js';
import { CHANNEL, Harness, PILOT_OU, USERS, buttons, cardText, type TestUser } from '../helpers/harness.js';

/**
 * Issue 15: who may start, own and power a migration is decided on the server, and no secret is ever posted to a
 * channel. Everything here goes through /api/messages with Teams-shaped activities; what the bot sends to channels is
 * what the recording connector saw.
 */

/** The Playground's people (the sandbox tenant's users, .m365agentsplayground.yml): Alex and Megan administer the sandbox. */
const PG = {
  alex: { id: '29:alex-wilber', name: 'Alex Wilber', aadObjectId: SANDBOX_PEOPLE[0].oid },
  megan: { id: '29:megan-bowen', name: 'Megan Bowen', aadObjectId: SANDBOX_PEOPLE[1].oid },
  lee: { id: '29:lee-gu', name: 'Lee Gu', aadObjectId: SANDBOX_PEOPLE[2].oid },
  pat: { id: '29:pat-jensen', name: 'Pat Jensen', aadObjectId: SANDBOX_PEOPLE[3].oid },
} satisfies Record<string, TestUser>;

const TOKEN = /cutover_[0-9a-f-]{36}_[A-Za-z0-9_-]{43}/;
/** Where a token's secret part starts (`cutover_<runner id>_<secret>`; the secret's base64url may itself hold "_"). */
const SECRET_AT = 'cutover_'.length + 36 + 1;
const SALES_OU = 'OU=Sales,DC=contoso,DC=com';

/** Everything the bot sent to any conversation (posts and updates), as one string. */
const channelTraffic = (h: Harness) => h.connector.sent.map((s) => JSON.stringify(s.activity)).join('\n');

/** The reply that matches, among what the bot sent since `from`. */
async function reply(h: Harness, from: number, match: string | RegExp): Promise<{ text: string; id: string; activity: any }> {
  const test = (t: string) => (typeof match === 'string' ? t.includes(match) : match.test(t));
  const r = await h.connector.waitFor(
    () => h.connector.sent.slice(from).find((s) => s.method === 'POST' && test(cardText(s.activity))),
    15_000,
    `a reply matching ${match}`,
  );
  return { text: cardText(r.activity), id: r.activityId, activity: r.activity };
}

async function say(
  h: Harness,
  who: TestUser,
  text: string,
  match: string | RegExp,
  conversation?: string,
): Promise<{ text: string; id: string; activity: any }> {
  const n = h.connector.sent.length;
  if (conversation)
    await h.post(
      h.activity(who, {
        type: 'message',
        text,
        conversation: { id: conversation, conversationType: 'channel', tenantId: h.app.tenant!.tenantId, isGroup: true },
      }),
    );
  else await h.say(who, text);
  return reply(h, n, match);
}

/** The data of a card's Action.Execute with this verb. */
function actionData(card: any, verb: string): Record<string, unknown> {
  const found: any[] = [];
  const walk = (n: any) => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(walk);
    if (n.type === 'Action.Execute' && n.verb === verb) found.push(n.data);
    for (const v of Object.values(n)) if (typeof v === 'object') walk(v);
  };
  walk(card);
  if (!found.length) throw new Error(`no ${verb} button on the card: ${buttons(card).join(', ')}`);
  return found[0];
}

const cardOf = (activity: any) => activity.attachments?.[0]?.content;

async function snapshot(h: Harness): Promise<string> {
  const q = async (sql: string) => JSON.stringify((await h.app.db.query(sql)).rows);
  return [
    await q('SELECT id, name, tenant_id, state, version FROM migrations ORDER BY id'),
    await q('SELECT migration_id, seq, state, version FROM steps ORDER BY migration_id, seq'),
    await q('SELECT id, name, revoked_at FROM runners ORDER BY id'),
    await q('SELECT id, state, version FROM runner_requests ORDER BY id'),
    await q('SELECT count(*)::int AS n FROM audit'),
  ].join('\n');
}

/** A runner call authenticated with this token: 401 when the token does not work (heartbeat of an unknown job otherwise). */
async function runnerStatus(h: Harness, token: string): Promise<number> {
  const r = await fetch(`${h.app.url}/api/runner/v1/jobs/${randomUUID()}/heartbeat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ leaseId: randomUUID() }),
  });
  await r.text();
  return r.status;
}

describe('runners: administrators only, approved by a second one, the token only to the one who asked', () => {
  let h: Harness;
  const logs: string[] = [];
  let token = '';
  let requestId = '';

  beforeAll(async () => {
    const sink = new Writable({ write: (chunk, _enc, cb) => (logs.push(String(chunk)), cb()) });
    h = await Harness.start({
      env: { CUTOVER_ADMINS: `${USERS.alex.aadObjectId},${USERS.megan.aadObjectId}`, RUNNER_TOKEN_FIRST_USE_HOURS: '2' },
      build: { log: createLogger({ level: 'debug', destination: sink }) },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a member who is no administrator cannot add, rotate or revoke a runner, not even as the owner of a throwaway migration of her own', async () => {
    const before = await snapshot(h);
    // The path: a throwaway migration naming herself its only owner is refused now…
    expect(
      (await say(h, USERS.bystander, `new migration "Mine" domain=contoso.com ou="${SALES_OU}" owners=${USERS.bystander.aadObjectId}`, 'Migration not created'))
        .text,
    ).toContain('You cannot be the only change owner');
    // …and owning migrations gives no power over runners anyway: Lee owns nothing here, Pat neither.
    for (const [who, cmd] of [
      [USERS.bystander, 'runner add patrunner'],
      [USERS.lee, 'runner add leerunner'],
      [USERS.bystander, 'runner rotate sandbox-runner'],
      [USERS.bystander, 'runner revoke sandbox-runner'],
    ] as const) {
      const r = await say(h, who, cmd, /Runner not (registered|revoked)/);
      expect(r.text, cmd).toContain("Only cutover's administrators (CUTOVER_ADMINS) can register, rotate or revoke runners.");
    }
    // In a one-to-one chat with the bot nobody else would see the request card: asked in a channel or group chat only.
    const m = h.connector.sent.length;
    await h.post(
      h.activity(USERS.alex, {
        type: 'message',
        text: 'runner add private',
        conversation: { id: 'a:alex-personal', conversationType: 'personal', tenantId: h.app.tenant!.tenantId },
      }),
    );
    expect((await reply(h, m, 'Runner not registered')).text).toContain('nobody else sees a request made in this one-to-one chat');
    // An administrator in a channel of a tenant cutover does not manage: no runner there (it would never get a job).
    const other = h.in({ tenantId: randomUUID() });
    const n = h.connector.sent.length;
    await other.say(USERS.alex, 'runner add elsewhere');
    expect((await reply(h, n, 'Runner not registered')).text).toContain('cutover does not manage this Microsoft Entra tenant');
    expect(await snapshot(h)).toBe(before);
    expect(channelTraffic(h)).not.toMatch(TOKEN);
  });

  it('adding a runner is a change: a second administrator approves it, never the one who asked; the token is shown to the one who asked, once, in their own invoke response', async () => {
    const asked = await say(h, USERS.alex, 'runner add connect02', 'Runner registration');
    expect(asked.text).toContain('Waiting for a second administrator');
    expect(buttons(cardOf(asked.activity))).toEqual(expect.arrayContaining(['Approve', 'Reject']));
    expect(await h.app.hub.listRunners({ tenantId: h.app.tenant!.tenantId })).not.toContainEqual(expect.objectContaining({ name: 'connect02' }));
    const data = actionData(cardOf(asked.activity), 'runner.approve');
    requestId = String(data.r);

    // Four-eyes: Alex asked, so Alex cannot approve; Pat is no administrator; Megan cannot take Alex's token.
    expect(cardText((await h.click(USERS.alex, 'runner.approve', data, asked.id)).card)).toContain(
      'You asked for this runner, so you cannot approve it (four-eyes)',
    );
    expect(cardText((await h.click(USERS.bystander, 'runner.approve', data, asked.id)).card)).toContain("Only cutover's administrators");
    expect(cardText((await h.click(USERS.alex, 'runner.token', { r: requestId }, asked.id)).card)).toContain('waiting for approval: there is no token to show');
    expect((await h.app.registrations.get(requestId))!.state).toBe('awaiting_approval');

    const approved = await h.click(USERS.megan, 'runner.approve', data, asked.id);
    expect(cardText(approved.card)).toContain('Approved — Alex Wilber can take the token until');
    // The shared card follows for everyone (the connector saw the update), with "Show my token" and no token.
    await h.connector.waitFor(
      () => cardText(h.connector.messages.get(asked.id)).includes('Approved — Alex Wilber') || undefined,
      10_000,
      'the shared card update',
    );
    expect(buttons(h.connector.messages.get(asked.id).attachments[0].content)).toContain('Show my token (only I see it)');
    expect(cardText((await h.click(USERS.megan, 'runner.token', { r: requestId }, asked.id)).card)).toContain(
      'Only Alex Wilber, who asked for this runner, can see its token',
    );
    expect(cardText((await h.click(USERS.bystander, 'runner.token', { r: requestId }, asked.id)).card)).not.toMatch(TOKEN);

    const n = h.connector.sent.length;
    const shown = await h.click(USERS.alex, 'runner.token', { r: requestId }, asked.id);
    expect(shown.status).toBe(200);
    token = cardText(shown.card).match(TOKEN)?.[0] ?? '';
    expect(token, cardText(shown.card)).toMatch(TOKEN);
    expect(cardText(shown.card)).toContain('only you see this');
    expect(shown.card.refresh).toBeUndefined(); // no client fetches it again
    // Nothing was sent to any conversation for that click: the token left only in Alex's invoke response.
    expect(h.connector.sent.length).toBe(n);
    const again = await h.click(USERS.alex, 'runner.token', { r: requestId }, asked.id);
    expect(cardText(again.card)).toContain('is not shown again');
    expect(cardText(again.card)).not.toMatch(TOKEN);

    const runner = (await h.app.hub.listRunners({ tenantId: h.app.tenant!.tenantId })).find((r) => r.name === 'connect02' && !r.revokedAt)!;
    expect(runner.claimBy!.getTime()).toBe((await h.app.registrations.get(requestId))!.claimBy!.getTime());
    expect(runner.health).toBe('Unknown');
  });

  it('the token appears in no activity sent to a channel, no audit row, no log line and no stored row; the change is audited', async () => {
    expect(token).toMatch(TOKEN);
    // Every activity the bot sent (posts and updates), searched for the token.
    expect(h.connector.sent.length).toBeGreaterThan(5);
    expect(channelTraffic(h)).not.toContain(token);
    expect(channelTraffic(h)).not.toContain(token.slice(SECRET_AT));
    // The audit: who asked, who approved, what was registered, until when; never the token.
    const audit = await h.app.registrations.audit(h.app.tenant!.tenantId);
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['runner-add-requested', 'runner-request-approved', 'runner-registered']));
    const approvedRow = audit.find((a) => a.action === 'runner-request-approved')!;
    expect(approvedRow.actorOid).toBe(USERS.megan.aadObjectId);
    expect(audit.find((a) => a.action === 'runner-registered')!.actorOid).toBe(USERS.alex.aadObjectId);
    const everything =
      JSON.stringify((await h.app.db.query('SELECT * FROM audit')).rows) +
      JSON.stringify((await h.app.db.query('SELECT * FROM runner_requests')).rows) +
      JSON.stringify((await h.app.db.query('SELECT * FROM runners')).rows);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(token.slice(SECRET_AT));
    // Logs: the registration is logged, the token is not.
    const log = logs.join('');
    expect(log).toContain('runner token shown to the administrator who asked');
    expect(log).not.toContain(token.slice(SECRET_AT));
    // The runner chain is hash-chained and keyed like a migration's (npm run audit:verify checks it too).
    expect(await h.app.engine.verifyAudit(`runners:${h.app.tenant!.tenantId}`)).toMatchObject({ ok: true });
    // `audit runners` shows the chain in the channel.
    const listed = await say(h, USERS.lee, 'audit runners', 'Audit · runners of this tenant');
    expect(listed.text).toContain('runner-registered');
  });

  it('the token works once first used before its deadline; an unclaimed token expires and never works', async () => {
    expect(await runnerStatus(h, token)).not.toBe(401); // first use, within the 2 h deadline: claimed
    const claimed = (await h.app.hub.listRunners({ tenantId: h.app.tenant!.tenantId })).find((r) => r.name === 'connect02' && !r.revokedAt)!;
    expect(claimed.claimedAt).not.toBeNull();

    // A second runner, approved and shown, but never used before its deadline.
    const asked = await say(h, USERS.megan, 'runner add connect03', 'Runner registration');
    const data = actionData(cardOf(asked.activity), 'runner.approve');
    await h.click(USERS.alex, 'runner.approve', data, asked.id);
    const late = cardText((await h.click(USERS.megan, 'runner.token', { r: data.r }, asked.id)).card).match(TOKEN)![0];
    // A third, approved but never shown.
    const unshown = await say(h, USERS.megan, 'runner add connect04', 'Runner registration');
    const data4 = actionData(cardOf(unshown.activity), 'runner.approve');
    await h.click(USERS.alex, 'runner.approve', data4, unshown.id);

    h.clock.advance(2 * HOUR + 1);
    expect(await runnerStatus(h, late)).toBe(401);
    expect(await runnerStatus(h, token)).not.toBe(401); // claimed in time: the deadline no longer matters
    const runners = await h.app.hub.listRunners({ tenantId: h.app.tenant!.tenantId });
    expect(runners.find((r) => r.name === 'connect03' && !r.revokedAt)!.health).toBe('Expired');
    expect(cardText((await h.click(USERS.megan, 'runner.token', { r: data4.r }, unshown.id)).card)).toContain('expired: there is no token to show');
    expect(runners.some((r) => r.name === 'connect04')).toBe(false);
    const listed = await say(h, USERS.lee, 'runners', 'Runners');
    expect(listed.text).toMatch(/connect03[\s\S]*Expired/);
    // An expired runner serves no migration, and its name can be registered again; one open request per name.
    await say(h, USERS.alex, 'runner add connect03', 'Runner registration');
    expect((await say(h, USERS.megan, 'runner add connect03', 'Runner not registered')).text).toContain('A request for runner "connect03" is already open');
  });

  it('rotating gives a runner a new token under the same name (approved like an addition); revoking is immediate and audited', async () => {
    const asked = await say(h, USERS.megan, 'runner rotate connect02', 'Runner token rotation');
    const data = actionData(cardOf(asked.activity), 'runner.approve');
    expect(cardText((await h.click(USERS.megan, 'runner.approve', data, asked.id)).card)).toContain('four-eyes');
    await h.click(USERS.alex, 'runner.approve', data, asked.id);
    const fresh = cardText((await h.click(USERS.megan, 'runner.token', { r: data.r }, asked.id)).card).match(TOKEN)![0];
    expect(await runnerStatus(h, token)).toBe(401); // the old token is revoked with the rotation
    expect(await runnerStatus(h, fresh)).not.toBe(401);
    const live = (await h.app.hub.listRunners({ tenantId: h.app.tenant!.tenantId })).filter((r) => r.name === 'connect02' && !r.revokedAt);
    expect(live).toHaveLength(1);

    expect((await say(h, USERS.lee, 'runner revoke connect02', 'Runner not revoked')).text).toContain("Only cutover's administrators");
    expect(await runnerStatus(h, fresh)).not.toBe(401);
    expect((await say(h, USERS.alex, 'runner revoke connect02', 'Runner "connect02" revoked')).text).toContain('no longer works');
    expect(await runnerStatus(h, fresh)).toBe(401);
    const audit = await h.app.registrations.audit(h.app.tenant!.tenantId);
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['runner-rotate-requested', 'runner-rotated', 'runner-revoked']));
    expect(channelTraffic(h)).not.toContain(fresh.slice(SECRET_AT));
  });
});

describe('administrators: the sandbox names its own, a deployment with none has none', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
    h.connector.members = [...Object.values(USERS), ...Object.values(PG)];
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('with neither setting, the sandbox\'s administrators are its "Cutover Administrators" group (Alex and Megan of the Playground), read through Graph', async () => {
    const asked = await say(h, PG.alex, 'runner add connect02', /Runner (registration|not registered)/);
    expect(asked.text).toContain('Waiting for a second administrator');
    const data = actionData(cardOf(asked.activity), 'runner.approve');
    expect(cardText((await h.click(PG.lee, 'runner.approve', data, asked.id)).card)).toContain('members of the group Cutover Administrators');
    expect(cardText((await h.click(PG.megan, 'runner.approve', data, asked.id)).card)).toContain('Approved — Alex Wilber');
    expect((await say(h, PG.pat, 'runner add patrunner', 'Runner not registered')).text).toContain("Only cutover's administrators");
    // The harness's own people are in the team but not in that group.
    expect((await say(h, USERS.alex, 'runner add x1', 'Runner not registered')).text).toContain("Only cutover's administrators");
  });

  it('outside the sandbox, with neither setting, nobody is an administrator (fail closed), and one alone cannot add a runner', async () => {
    const none = new Administrators({ config: { oids: [], groupId: null } });
    expect(none.configured).toBe(false);
    expect(await none.check('t', USERS.alex.aadObjectId)).toEqual({
      admin: false,
      reason: expect.stringContaining('No cutover administrators are configured (CUTOVER_ADMINS / CUTOVER_ADMINS_GROUP)'),
    });
    const one = await Harness.start({ env: { CUTOVER_ADMINS: USERS.alex.aadObjectId } });
    try {
      const r = await say(one, USERS.alex, 'runner add solo', 'Runner not registered');
      expect(r.text).toContain('needs a second administrator to approve it (four-eyes), and this tenant has 1 administrator');
      expect((await one.app.db.query('SELECT count(*)::int AS n FROM runner_requests')).rows[0].n).toBe(0);
    } finally {
      await one.stop();
    }
  });
});

describe('a new migration is checked before anything is created; cancel; alerts', () => {
  let h: Harness;
  let pilot = '';
  const OTHER_POST = `${CHANNEL};messageid=1700000000001`;

  beforeAll(async () => {
    h = await Harness.start({ env: { CUTOVER_RESPONDERS_GROUP: SANDBOX_IDENTITY_OPS_GROUP.id } });
    pilot = await h.newPilot('Pilot');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("binds the migration to the tenant's only runner at creation; its reads (status counts too) go to that runner only", async () => {
    const m = (await h.app.engine.getMigration(pilot))!;
    expect(m.runnerName).toBe('sandbox-runner');
    const n = (await h.app.db.query('SELECT count(*)::int AS n FROM runner_jobs')).rows[0].n;
    expect((await say(h, USERS.lee, 'status', 'Status')).text).toMatch(/on-premises 40/);
    const reads = (await h.app.db.query('SELECT action, runner_name FROM runner_jobs ORDER BY created_at OFFSET $1', [n])).rows;
    expect(reads).toContainEqual({ action: 'ad-count', runner_name: 'sandbox-runner' });
    expect(reads.filter((r: any) => r.runner_name !== 'sandbox-runner')).toEqual([]);
  });

  it('refuses, each with a one-line reason and creating nothing: nobody owners, the requester alone, an unreachable quorum, foreign or unverified domains, a missing OU, a held OU, a reused name', async () => {
    const sim = h.app.tenant!.graph;
    sim.addDomain('unverified.example', { verified: false });
    sim.addDomain('litware.com', { verified: true }); // verified in Entra ID, but not the runner's forest
    const nobody = randomUUID();
    const before = await snapshot(h);
    const cases: [string, string][] = [
      [
        `new migration "A" domain=contoso.com ou="${SALES_OU}" owners=${USERS.megan.aadObjectId},${nobody}`,
        `The change owner ${nobody} is nobody in this tenant`,
      ],
      [`new migration "A" domain=contoso.com ou="${SALES_OU}" owners=${USERS.alex.aadObjectId}`, 'You cannot be the only change owner'],
      [
        `new migration "A" domain=contoso.com ou="${SALES_OU}" owners=${USERS.alex.aadObjectId},${USERS.megan.aadObjectId} approvals=2`,
        '2 approvals are required but only 1 change owner besides you is named: the quorum must be reachable without the requester',
      ],
      [
        `new migration "A" domain=fabrikam.com ou="OU=Sales,DC=fabrikam,DC=com" owners=${USERS.megan.aadObjectId}`,
        'fabrikam.com is not a domain of this tenant (its verified domains: contoso.onmicrosoft.com, contoso.com, litware.com)',
      ],
      [
        `new migration "A" domain=unverified.example ou="OU=Sales,DC=unverified,DC=example" owners=${USERS.megan.aadObjectId}`,
        "unverified.example is not verified in this tenant's Entra ID",
      ],
      [
        `new migration "A" domain=litware.com ou="OU=Sales,DC=litware,DC=com" owners=${USERS.megan.aadObjectId}`,
        'litware.com is not a domain of the forest the runner "sandbox-runner" sees (contoso.com)',
      ],
      [
        `new migration "A" domain=contoso.com ou="OU=Nowhere,DC=contoso,DC=com" owners=${USERS.megan.aadObjectId}`,
        'The OU OU=Nowhere,DC=contoso,DC=com does not exist in contoso.com',
      ],
      [
        `new migration "A" domain=contoso.com ou="${PILOT_OU}" owners=${USERS.megan.aadObjectId}`,
        `${PILOT_OU} is already in "Pilot" (the same OU): one active migration per OU.`,
      ],
      [`new migration "A" domain=contoso.com ou="OU=EMEA,OU=Sales,DC=contoso,DC=com;${PILOT_OU}" owners=${USERS.megan.aadObjectId}`, 'is already in "Pilot"'],
    ];
    for (const [cmd, expected] of cases) {
      const r = await say(h, USERS.alex, cmd, 'Migration not created');
      expect(r.text, cmd).toContain(expected);
      expect(r.text, cmd).toContain('Nothing was created.');
    }
    // The same name in another post of the same channel (a Teams channel thread is its own conversation id).
    const again = await say(
      h,
      USERS.alex,
      `new migration "pilot" domain=contoso.com ou="${SALES_OU}" owners=${USERS.megan.aadObjectId}`,
      'Migration not created',
      OTHER_POST,
    );
    expect(again.text).toContain('A migration named "pilot" already exists here.');
    expect(await snapshot(h)).toBe(before);
  });

  it('accepts an owner who is not in the team but is a user of the tenant (Graph), and refuses a disabled account', async () => {
    const sim = h.app.tenant!.graph;
    const disabled = sim.addCloudUser('gone@contoso.com', 'Gone Person', randomUUID(), { accountEnabled: false });
    const r = await say(
      h,
      USERS.alex,
      `new migration "B" domain=contoso.com ou="${SALES_OU}" owners=${USERS.megan.aadObjectId},${disabled}`,
      'Migration not created',
    );
    expect(r.text).toContain('Gone Person');
    expect(r.text).toContain('has a disabled account');
    // Megan of the Playground is not in this team's roster, but is a user of contoso.com.
    await say(h, USERS.alex, `new migration "Sales" domain=contoso.com ou="${SALES_OU}" owners=${PG.megan.aadObjectId}`, 'Migration id');
    expect((await h.app.engine.findMigration('Sales'))?.policy.owners).toEqual([PG.megan.aadObjectId]);
  });

  it('the form says the same before submit: verified domains to choose from, the runner, owners other than the requester', async () => {
    const form = cardOf((await say(h, USERS.alex, 'new migration', 'New migration')).activity);
    const find = (id: string) => JSON.stringify(form.body.filter((x: any) => x.id === id));
    expect(find('domain')).toContain('Input.ChoiceSet');
    expect(find('domain')).toContain('"value":"contoso.com"');
    expect(find('domain')).not.toContain('onmicrosoft.com');
    expect(find('domain')).not.toContain('unverified.example');
    expect(cardText(form)).toContain('Runs on the runner "sandbox-runner"');
    const owners = find('ownerChoices');
    expect(owners).toContain(USERS.megan.aadObjectId);
    expect(owners).not.toContain(USERS.alex.aadObjectId);
    expect(find('ou')).toContain('"regex"');
    // A tenant cutover does not manage gets the reason instead of a form.
    const other = h.in({ tenantId: randomUUID() });
    const n = h.connector.sent.length;
    await other.say(USERS.alex, 'new migration');
    expect((await reply(h, n, 'No migration can be started here')).text).toContain('cutover does not manage this Microsoft Entra tenant');
  });

  it('alerts: a bystander gets the reason and changes nothing; a change owner or the responders group acknowledges; an owner resolves', async () => {
    const { alertId } = await h.app.alerts.raise(
      { migrationId: pilot, tenantId: h.app.tenant!.tenantId, conversationId: CHANNEL, check: 'job-health', scope: 'authority-test' },
      { severity: 'critical', title: 'Cloud Sync job quarantined (test)', summary: 'EncounteredBaseEscrowThreshold', facts: [] },
    );
    const card = await h.connector.waitFor(
      () => h.connector.sent.find((s) => cardText(s.activity).includes('Cloud Sync job quarantined (test)')),
      10_000,
      'the alert card',
    );
    expect(buttons(cardOf(card.activity))).toEqual(expect.arrayContaining(['Acknowledge', 'Snooze 1 h', 'Resolve']));
    const v = (await h.app.alerts.get(alertId))!.version;
    for (const verb of ['alert.ack', 'alert.snooze', 'alert.resolve']) {
      const r = await h.click(USERS.bystander, verb, { alert: alertId, v, hours: 1 }, card.activityId);
      expect(cardText(r.card), verb).toContain(
        'Only the change owners of Pilot and the members of the responders group can acknowledge, snooze or resolve its alerts',
      );
    }
    const after = (await h.app.alerts.get(alertId))!;
    expect([after.state, after.version]).toEqual(['open', v]);
    // Lee of the Playground owns nothing here, but is in the responders group (Identity Operations).
    const byResponder = await h.click(PG.lee, 'alert.ack', { alert: alertId, v }, card.activityId);
    expect(cardText(byResponder.card)).toContain('Acknowledged by Lee Gu');
    // Megan owns the pilot: she resolves it by hand; the card loses its buttons for everyone; audited.
    const resolved = await h.click(USERS.megan, 'alert.resolve', { alert: alertId, v: (await h.app.alerts.get(alertId))!.version }, card.activityId);
    expect(cardText(resolved.card)).toContain('Resolved');
    await h.connector.waitFor(() => cardText(h.connector.messages.get(card.activityId)).includes('✅ Resolved') || undefined, 10_000, 'the shared card update');
    expect(buttons(h.connector.messages.get(card.activityId).attachments[0].content)).not.toContain('Acknowledge');
    const audit = await h.app.engine.auditTrail(pilot);
    expect(audit.find((a) => a.action === 'alert-resolved' && a.actorOid === USERS.megan.aadObjectId)).toBeDefined();
  });

  it("cancel: change owners only; refused while a batch holds the Connect scheduler off, offering rollback; then the cancelled migration's cards lose their buttons", async () => {
    expect((await say(h, USERS.bystander, 'cancel Pilot', 'Pilot was not cancelled')).text).toContain('Only a change owner of Pilot can cancel it');
    await h.advanceTo(pilot, 'stop-scheduler', 1);
    const before = await snapshot(h);
    const refused = await say(h, USERS.megan, 'cancel Pilot', 'Pilot was not cancelled');
    expect(refused.text).toContain("stopped Connect Sync's scheduler");
    expect(refused.text).toContain('Roll back first');
    expect(await snapshot(h)).toBe(before);
    expect((h.app.tenant!.state() as any).scheduler.SyncCycleEnabled).toBe(false);
    // The refusal offers the rollback; a bystander's click on it changes nothing, an owner's starts it.
    const offer = actionData(cardOf(refused.activity), 'migration.rollback');
    expect(cardText((await h.click(USERS.bystander, 'migration.rollback', offer)).card)).toContain('Only a change owner can start a rollback');
    expect(cardText((await h.click(USERS.megan, 'migration.rollback', offer)).card)).toContain('Rollback of every batch started');
    await h.advanceTo(pilot, 'rollback-verify', 1);
    expect((h.app.tenant!.state() as any).scheduler.SyncCycleEnabled).toBe(true);

    // The step now current has its card in the migration's thread (the later ones are posted when they become current).
    const current = (await h.app.engine.getSteps(pilot)).find((s) => s.state !== 'succeeded' && s.state !== 'skipped')!;
    const stepCards = [{ seq: current.seq, activityId: await h.postedCard(pilot, current.seq) }];
    const oldCard = stepCards[0];
    const oldData = await h.stepData(pilot, oldCard.seq);
    const done = await say(h, USERS.megan, 'cancel Pilot', 'Pilot cancelled');
    expect(done.text).toContain('Nothing on the Connect server or in Entra ID was undone');
    const m = (await h.app.engine.getMigration(pilot))!;
    expect(m.state).toBe('cancelled');
    expect((await h.app.engine.auditTrail(pilot)).some((a) => a.action === 'migration-cancelled' && a.actorOid === USERS.megan.aadObjectId)).toBe(true);
    // Every card of a step that will not run is updated in place without its buttons (Refresh only).
    for (const s of stepCards) {
      // Teams allows a bot 7 sends a second per thread: the rollback's own updates may still be queued ahead of these.
      await h.connector.waitFor(
        () => cardText(h.connector.messages.get(s.activityId!)).includes('Cancelled') || undefined,
        60_000,
        `step ${s.seq}'s card update`,
      );
      expect(buttons(h.connector.messages.get(s.activityId!).attachments[0].content)).toEqual(['Refresh']);
    }
    await h.connector.waitFor(
      () => cardText(h.connector.messages.get(m.overviewActivityId!)).includes('Cancelled') || undefined,
      60_000,
      'the overview update',
    );
    // A click on an old card changes nothing.
    const stale = await h.click(USERS.alex, 'step.request', oldData, oldCard.activityId!);
    expect(cardText(stale.card)).toMatch(/cancelled/i);
    expect(buttons(stale.card)).toEqual(['Refresh']);
    expect((await h.app.engine.getStep(pilot, oldCard.seq))!.state).toBe('skipped');
    expect((await say(h, USERS.megan, 'cancel Pilot', 'Pilot was not cancelled')).text).toContain('already cancelled');
    // Its OU is free again for a new migration.
    await say(h, USERS.alex, `new migration "Pilot 2" domain=contoso.com ou="${PILOT_OU}" owners=${USERS.megan.aadObjectId}`, 'Migration id');
  });
});
