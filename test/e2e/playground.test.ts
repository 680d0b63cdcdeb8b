import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import YAML from 'yaml';
import { findPowerShell } from '../../src/agent/executors/powershell.js';

/**
 * End to end in a real client: `npm start`'s entry (the bot, the sandbox tenant and the Microsoft 365 Agents
 * Playground it launches) driven through the Playground's web client in headless Chromium, in the team channel
 * configured by `.m365agentsplayground.yml`, as four personas: Alex Wilber (requester), Megan Bowen and Lee Gu
 * (change owners) and Pat Jensen (bystander).
 *
 * The Playground (0.2.28) has no user switcher in its UI: its account is config.currentUser. Its own API takes the
 * acting user as `from.id` (POST /_conversation/v1/invoke and …/messages, the user resolved from the config by id),
 * so a persona switch here rewrites `from.id` on the client's own requests: buttons are still clicked in the card
 * the client rendered, with the data and inputs the client gathered.
 *
 * Synchronisation is on what the page shows (Playwright's waitFor), never on sleeps. Screenshots of each card go to
 * a temporary directory, or to CUTOVER_SCREENSHOTS (e.g. CUTOVER_SCREENSHOTS=docs/screenshots to refresh the
 * README's images).
 *
 * Needs Debian's Chromium (`apt-get install -y chromium`; CHROMIUM_PATH overrides /usr/bin/chromium); without it
 * the suite is skipped with a message.
 *
 * With pwsh on the machine (scripts/install-engines.sh) `npm start`'s sandbox runner uses the PowerShell executor: the
 * pilot batch then runs the real action scripts against the simulated Connect server, which this checks.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
// What `npm start` will find (its environment is this one's, SANDBOX_* settings removed): pwsh on PATH or ~/.dotnet/tools.
const PWSH = findPowerShell(undefined, { core: true });
if (HAVE_CHROMIUM && !PWSH)
  process.stderr.write(
    'test/e2e/playground.test.ts: the pilot batch runs on the TypeScript sandbox executor: pwsh is not installed (run `bash scripts/install-engines.sh`)\n',
  );
if (!HAVE_CHROMIUM) {
  process.stderr.write(`test/e2e/playground.test.ts: skipped: no Chromium at ${CHROMIUM} (Debian: apt-get install -y chromium; or set CHROMIUM_PATH)\n`);
}

interface Persona {
  id: string;
  name: string;
  aadObjectId: string;
}
const config = YAML.parse(readFileSync(path.join(ROOT, '.m365agentsplayground.yml'), 'utf8'));
const persona = (name: string): Persona => {
  const u = [config.currentUser, ...config.users].find((x: Persona) => x.name === name);
  if (!u) throw new Error(`.m365agentsplayground.yml has no user "${name}"`);
  return u;
};
const ALEX = persona('Alex Wilber'); // requester, the Playground's current user
const MEGAN = persona('Megan Bowen'); // change owner
const LEE = persona('Lee Gu'); // change owner
const PAT = persona('Pat Jensen'); // bystander
const BOT_NAME: string = config.bot.name;
const CHANNEL_NAME: string = config.team.channels[0].name;

const PILOT_OU = 'OU=CloudSyncPilot,DC=contoso,DC=com';
const GWB_OU = 'OU=GWB,DC=contoso,DC=com';
// Generous: on a busy two-core machine the Playground's client shows a bot message up to a minute after it was sent.
const UI_TIMEOUT = 90_000;
const STEP_TIMEOUT = 420_000;
const VIEWPORT = { width: 1280, height: 900 };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.skipIf(!HAVE_CHROMIUM)('Agents Playground in headless Chromium, against npm start', () => {
  let child: ChildProcess | null = null;
  let output = '';
  let exited: number | null | undefined;
  let botUrl = '';
  let playgroundUrl = '';
  let dataDir = '';
  let profileDir = '';
  let shotsDir = '';
  let failuresDir = '';
  let browser: BrowserContext | null = null;
  let page: Page;
  /** The persona the next requests are sent as (null: the Playground's current user, Alex). */
  let actingAs: Persona | null = null;
  const shots: string[] = [];
  /** The latest card actions and the bot's answers, for a failure's report. */
  const invokes: string[] = [];

  // ------------------------------------------------------------------ helpers

  const cards = () => page.locator('.ac-adaptiveCard');
  /** A step card of a migration, by its header line "<name> · step N of M". */
  const stepCard = (migration: string, seq: number) => cards().filter({ hasText: new RegExp(`^${escapeRe(migration)} · step ${seq} of \\d+`) });
  const overviewCard = (migrationId: string) => cards().filter({ hasText: 'Audit checkpoint' }).filter({ hasText: migrationId });
  /** A card with a text block that reads exactly `text` (a title). */
  const cardTitled = (text: string) => cards().filter({ has: page.locator('.ac-richTextBlock', { hasText: new RegExp(`^${escapeRe(text)}$`) }) });

  async function api(pathname: string, body?: unknown): Promise<any> {
    const r = await fetch(
      `${botUrl}${pathname}`,
      body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    );
    expect(r.status, `${pathname}: ${r.status}`).toBeLessThan(300);
    return r.json();
  }

  /** Runs fn with the client's requests sent as another persona (see the header comment). */
  async function as<T>(who: Persona, fn: () => Promise<T>): Promise<T> {
    actingAs = who.id === ALEX.id ? null : who;
    try {
      return await fn();
    } finally {
      actingAs = null;
    }
  }

  /** Clicks a card button and waits until the Playground has applied the bot's invoke response to the card. */
  async function click(card: Locator, title: string): Promise<void> {
    const answered = page.waitForResponse((r) => r.url().includes('/_conversation/v1/invoke') && r.request().method() === 'POST', { timeout: UI_TIMEOUT });
    answered.catch(() => undefined); // awaited below unless the click itself fails
    await card.getByRole('button', { name: title, exact: true }).click();
    const r = await answered;
    expect(r.status(), `invoke "${title}" answered ${r.status()}: ${await r.text()}`).toBe(200);
  }

  /** Posts a new message in the channel, @mentioning the bot the way a person does: type @, pick the bot. */
  async function say(text: string): Promise<void> {
    const box = page.locator('[data-lexical-editor="true"]').first();
    await box.click();
    await page.keyboard.type('@');
    await page
      .getByRole('menuitem')
      .filter({ hasText: new RegExp(`^\\s*${escapeRe(BOT_NAME)}\\s*$`) })
      .click();
    await page.keyboard.type(` ${text}`);
    const sent = page.waitForResponse((r) => /\/_conversation\/v1\/conversations\/[^/]+\/messages$/.test(r.url()) && r.request().method() === 'POST', {
      timeout: UI_TIMEOUT,
    });
    sent.catch(() => undefined);
    await page.keyboard.press('Enter');
    expect((await sent).status()).toBeLessThan(300);
  }

  async function shoot(locator: Locator, name: string): Promise<string> {
    const file = path.join(shotsDir, name);
    // The channel is a scrolling pane inside the page: make the window tall enough for a whole card.
    await page.setViewportSize({ width: VIEWPORT.width, height: 2400 });
    try {
      await locator.scrollIntoViewIfNeeded();
      await locator.screenshot({ path: file, animations: 'disabled' });
    } finally {
      await page.setViewportSize(VIEWPORT);
    }
    shots.push(file);
    expect(statSync(file).size, `${name} is larger than 300 KB`).toBeLessThan(300 * 1024);
    return file;
  }

  /** The whole Playground window with this card in the middle of the channel (for the README). */
  async function windowShot(card: Locator, name: string, block: 'center' | 'start' = 'center'): Promise<void> {
    // The log panel is for debugging: hide it, so the channel has the room it has in Teams.
    if (await page.getByText('Click on a log item').isVisible()) await page.getByTitle('Toggle Log Panel').click();
    await page.getByText('Click on a log item').waitFor({ state: 'hidden' });
    await card.evaluate((el, b) => el.scrollIntoView({ block: b }), block);
    const file = path.join(shotsDir, name);
    await page.screenshot({ path: file });
    shots.push(file);
    expect(statSync(file).size, `${name} is larger than 300 KB`).toBeLessThan(300 * 1024);
  }

  async function buttonsOf(card: Locator): Promise<string[]> {
    return (await card.locator('button').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
  }

  /**
   * Creates a migration with the one-line command and waits for its overview (a new post in the channel, listing every
   * step) and the card of its first step (in the overview's thread; the others come as each step becomes current).
   */
  async function newMigration(name: string, ou: string, approvals: number, kind?: string): Promise<{ id: string; total: number; titles: string[] }> {
    await say(
      `new migration "${name}"${kind ? ` kind=${kind}` : ''} domain=contoso.com ou="${ou}" owners=${MEGAN.aadObjectId},${LEE.aadObjectId} approvals=${approvals}`,
    );
    const overview = cardTitled(name).filter({ hasText: 'Migration id' }).first();
    await overview.waitFor({ timeout: UI_TIMEOUT });
    const text = await overview.innerText();
    const id = text.match(/Migration id\s+(\S+)/)?.[1];
    const total = Number(text.match(/0 of (\d+) steps done/)?.[1]);
    expect(id, text).toBeTruthy();
    expect(total, text).toBeGreaterThanOrEqual(9);
    // the overview lists every step: "N. Title (batch B)" then its state
    const titles = [...text.slice(text.search(/^\s*Steps\s*$/m)).matchAll(/^\s*(\d+)\. (.+?)(?: \(batch \d+\))?\s*$/gm)].map((m) => m[2].trim());
    expect(titles.length, text).toBe(total);
    await stepCard(name, 1).waitFor({ timeout: UI_TIMEOUT });
    return { id: id!, total, titles };
  }

  /** The requester runs (or confirms) a step that needs no approval, and the card reaches Done. */
  async function runStep(migration: string, seq: number): Promise<void> {
    const card = stepCard(migration, seq);
    await card.waitFor(); // posted in the migration's thread when the step became current
    const buttons = await buttonsOf(card);
    const title = buttons.find((b) => b === 'Run' || b === 'Confirm done');
    expect(title, `step ${seq} of ${migration} has ${buttons.join(', ')}`).toBeTruthy();
    await click(card, title!);
    await card.filter({ hasText: '✅ Done' }).waitFor({ timeout: UI_TIMEOUT });
  }

  /** The requester asks for approval; the card says it is waiting. */
  async function requestApproval(migration: string, seq: number): Promise<Locator> {
    const card = stepCard(migration, seq);
    await card.waitFor(); // posted in the migration's thread when the step became current
    await click(card, 'Request approval');
    await card.filter({ hasText: 'Waiting for approval' }).waitFor({ timeout: UI_TIMEOUT });
    return card;
  }

  /** An owner opens the card (Refresh, as their client would) and approves it. */
  async function approve(migration: string, seq: number, owner: Persona): Promise<void> {
    const card = stepCard(migration, seq);
    await as(owner, async () => {
      await click(card, 'Refresh');
      await click(card, 'Approve');
    });
  }

  /** Drives a migration's steps in order until (not including) the first whose title matches `stop`. */
  async function driveUntil(migration: string, titles: string[], from: number, stop: RegExp, owners: Persona[]): Promise<number> {
    let n = from;
    for (; n <= titles.length && !stop.test(titles[n - 1]); n++) {
      await stepCard(migration, n).waitFor(); // posted when the step before it is done
      const buttons = await buttonsOf(stepCard(migration, n));
      if (buttons.includes('Request approval')) {
        await requestApproval(migration, n);
        await approve(migration, n, owners[n % owners.length]);
        await stepCard(migration, n).filter({ hasText: '✅ Done' }).waitFor({ timeout: UI_TIMEOUT });
      } else {
        await runStep(migration, n);
      }
    }
    return n;
  }

  // ------------------------------------------------------------------ setup

  beforeAll(async () => {
    const [port, playgroundPort] = [await freePort(), await freePort()];
    botUrl = `http://127.0.0.1:${port}`;
    playgroundUrl = `http://127.0.0.1:${playgroundPort}`;
    dataDir = mkdtempSync(path.join(tmpdir(), 'cutover-e2e-data-'));
    profileDir = mkdtempSync(path.join(tmpdir(), 'cutover-e2e-chromium-'));
    shotsDir = process.env.CUTOVER_SCREENSHOTS ? path.resolve(ROOT, process.env.CUTOVER_SCREENSHOTS) : mkdtempSync(path.join(tmpdir(), 'cutover-e2e-shots-'));
    mkdirSync(shotsDir, { recursive: true });
    failuresDir = process.env.CUTOVER_E2E_FAILURES ? path.resolve(ROOT, process.env.CUTOVER_E2E_FAILURES) : path.join(ROOT, 'test-results', 'playground');
    mkdirSync(failuresDir, { recursive: true });

    // `npm start`'s entry, in sandbox mode whatever the caller's environment says.
    const env: Record<string, string | undefined> = { ...process.env };
    for (const k of Object.keys(env)) if (/^(Microsoft|Certificate|GRAPH_|SANDBOX_|DATABASE_URL|USER_SPECIFIC_VIEWS|MONITOR)/.test(k)) delete env[k];
    Object.assign(env, {
      PORT: String(port),
      PLAYGROUND: '1',
      PLAYGROUND_PORT: String(playgroundPort),
      CUTOVER_DATA_DIR: dataDir,
      SANDBOX_TICK_MS: '500',
      MONITOR: '0',
      LOG_LEVEL: 'warn',
    });
    child = spawn('npx', ['tsx', 'src/index.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    child.on('exit', (code) => (exited = code));

    // Wait for both servers to come up (a bounded poll on their health endpoints).
    const deadline = Date.now() + 180_000;
    const up = async (url: string) =>
      fetch(url).then(
        (r) => r.ok,
        () => false,
      );
    while (!((await up(`${botUrl}/readyz`)) && (await up(`${playgroundUrl}/_debug/ping`)))) {
      if (exited !== undefined) throw new Error(`npm start exited (${exited}):\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm start did not come up in 180 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const pg = await (await fetch(`${playgroundUrl}/_internal/v1/config`)).json();
    expect(pg.config.currentUser.aadObjectId, 'the Playground did not load .m365agentsplayground.yml').toBe(ALEX.aadObjectId);

    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: VIEWPORT,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(UI_TIMEOUT);
    page.on('response', (r) => {
      if (!r.url().includes('/_conversation/v1/invoke')) return;
      void r.text().then(
        (body) => invokes.push(`${new Date().toISOString()} ${r.request().postData()}\n  → ${r.status()} ${body.slice(0, 1500)}`),
        () => undefined,
      );
    });
    // The persona switch: the client's own message and invoke requests, sent as another configured user.
    await page.route(/\/_conversation\/v1\/(invoke|conversations\/[^/]+\/messages)$/, async (route) => {
      if (!actingAs || route.request().method() !== 'POST') return route.continue();
      const body = JSON.parse(route.request().postData() ?? '{}');
      body.from = { ...body.from, id: actingAs.id };
      await route.continue({ postData: JSON.stringify(body) });
    });
    await page.goto(playgroundUrl);
    await page.getByText(CHANNEL_NAME, { exact: true }).click();
    await page.locator('[data-lexical-editor="true"]').first().waitFor();
  }, 300_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page) {
      const file = path.join(failuresDir, `${ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
      await page.screenshot({ path: file }).catch(() => undefined);
      const texts = await cards()
        .allInnerTexts()
        .catch(() => []);
      writeFileSync(file.replace(/\.png$/, '.txt'), `${texts.join('\n==========\n')}\n\n########## card actions\n${invokes.slice(-6).join('\n')}`);
      process.stderr.write(`playground e2e: failure screenshot ${file}\n--- npm start output ---\n${output.slice(-4000)}\n`);
    }
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    if (child?.pid && exited === undefined) {
      const gone = new Promise<void>((r) => child!.once('exit', () => r()));
      process.kill(-child.pid, 'SIGTERM'); // npx, tsx, cutover and the Playground: one process group, ours
      const timer = setTimeout(() => exited === undefined && process.kill(-child!.pid!, 'SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
    if (shots.length) process.stdout.write(`playground e2e screenshots:\n${shots.map((s) => `  ${path.relative(ROOT, s)}`).join('\n')}\n`);
  }, 60_000);

  // ------------------------------------------------------------------ the flow (issue 2, steps 1–5; issue 9)

  let pilot: { id: string; total: number; titles: string[] };
  let firstApproval = 0;

  it(
    '1. help: the bot answers an @mention in the channel with the command card',
    async () => {
      await say('help');
      const help = cardTitled('cutover').filter({ hasText: 'new migration' }).first();
      await help.waitFor();
      const text = await help.innerText();
      for (const c of ['status', 'jobs', 'pending', 'owners=OBJECTID']) expect(text).toContain(c);
      await shoot(help, 'help.png');
    },
    STEP_TIMEOUT,
  );

  it(
    '2–3. new migration in one line: its own post in the channel, listing every step, and the first step card in its thread',
    async () => {
      pilot = await newMigration('Pilot', PILOT_OU, 1);
      const all = pilot.titles.join('\n');
      for (const t of [
        'Back up the Connect Sync configuration',
        'Count the users in the OU',
        'Stop the Connect Sync scheduler',
        'Create the cloudNoFlow / JoinNoFlow rules',
        'provisioning agent',
        'Configure Cloud Sync scoped to the OU',
        'Verify the OU users',
        'Start the Connect Sync scheduler',
      ]) {
        expect(all, t).toContain(t);
      }
      const overview = overviewCard(pilot.id);
      const text = await overview.innerText();
      expect(text).toContain('Megan Bowen, Lee Gu');
      expect(text).toContain('Alex Wilber');
      await shoot(overview, 'new-migration-overview.png');
      // one step card so far: the others are posted in the thread as each step becomes current
      expect(await stepCard('Pilot', 2).count()).toBe(0);
      await windowShot(overview, 'migration-home-thread.png', 'start');
    },
    STEP_TIMEOUT,
  );

  it(
    '4a. the requester runs the read-only steps, each card appearing in the thread when its step is next',
    async () => {
      firstApproval = pilot.titles.findIndex((t) => /Stop the Connect Sync scheduler/.test(t)) + 1;
      const n = await driveUntil('Pilot', pilot.titles, 1, /Stop the Connect Sync scheduler/, [MEGAN]);
      expect(n).toBe(firstApproval);
      const count = stepCard('Pilot', pilot.titles.findIndex((t) => t.startsWith('Count the users')) + 1);
      expect(await count.innerText()).toContain('40 users, 2 groups, 2 contacts');
      await shoot(count, 'step-done-read-only.png');
      // the seed's warning is on the no-flow rules card, which is not posted before its step is next
      const rules = pilot.titles.findIndex((t) => t.includes('cloudNoFlow')) + 1;
      expect(await stepCard('Pilot', rules).count()).toBe(0);
    },
    STEP_TIMEOUT,
  );

  it(
    '4b. a production change waits for a change owner; a bystander sees no buttons; the owner approves and the card updates in place',
    async () => {
      const card = await requestApproval('Pilot', firstApproval);
      // the request is said in the migration's thread, mentioning the change owners who can decide
      const asked = page.getByText(new RegExp(`Alex Wilber asks approval for step ${firstApproval} of Pilot`)).first();
      await asked.waitFor();
      const mention = await asked.innerText();
      expect(mention).toContain('Megan Bowen');
      expect(mention).toContain('Lee Gu');
      await windowShot(asked, 'approval-requested-mentions.png');
      let text = await card.innerText();
      expect(text).toContain('Asked by');
      expect(text).toContain('Alex Wilber');
      expect(text).toMatch(/change owners only \(Megan Bowen, Lee Gu\)/);
      await card.getByRole('button', { name: 'What will run' }).click();
      await card.getByText(/Approval binds to plan hash/).waitFor();
      expect(await card.innerText()).toMatch(/runner set-scheduler|Set-ADSyncScheduler|SyncCycleEnabled/);

      // The bystander's view of the card (Refresh as Pat): read-only.
      await as(PAT, () => click(card, 'Refresh'));
      await card.filter({ hasText: 'Waiting for approval' }).waitFor();
      expect(await buttonsOf(card)).not.toContain('Approve');
      expect(await buttonsOf(card)).not.toContain('Reject');

      // Megan's view has Approve / Reject.
      await as(MEGAN, () => click(card, 'Refresh'));
      expect(await buttonsOf(card)).toEqual(expect.arrayContaining(['Approve', 'Reject']));
      await card.getByRole('button', { name: 'What will run' }).click();
      await card.getByText(/Approval binds to plan hash/).waitFor();
      await shoot(card, 'step-waiting-for-approval.png');
      await windowShot(card, 'playground-channel.png');
      expect((await api('/sandbox/v1/state')).scheduler.SyncCycleEnabled).toBe(true);

      await as(MEGAN, () => click(card, 'Approve'));
      // Running, then Done: the later states arrive as the bot's update of the same message (updateActivity).
      await card.filter({ hasText: '✅ Done' }).waitFor();
      text = await card.innerText();
      expect(text).toMatch(/Approved by\s*Megan Bowen/);
      expect(text).toContain('Alex Wilber');
      expect(await buttonsOf(card)).not.toContain('Approve');
      expect((await api('/sandbox/v1/state')).scheduler.SyncCycleEnabled).toBe(false);
      await shoot(card, 'step-approved-done.png');
      // the overview follows
      await overviewCard(pilot.id)
        .filter({ hasText: new RegExp(`${firstApproval} of ${pilot.total} steps done`) })
        .waitFor();
    },
    STEP_TIMEOUT,
  );

  it(
    'issue 9: quorum 2: one owner is not enough, a bystander cannot approve, the second owner completes it',
    async () => {
      // A second migration on the same Connect server: the group writeback one, whose first change writes to AD. (A
      // second Connect → Cloud Sync migration could not stop the scheduler now: the pilot holds it.)
      const two = await newMigration('Writeback', GWB_OU, 2, 'group-writeback-v2');
      const seq = await driveUntil('Writeback', two.titles, 1, /copy adminDescription .*\(apply\)/, [MEGAN, LEE]);
      const card = await requestApproval('Writeback', seq);
      expect(await card.innerText()).toMatch(/2 change owners/);

      // Pat clicks Approve on the shared card (Megan's view): refused, with the reason, and nothing changes.
      await as(MEGAN, () => click(card, 'Refresh'));
      await as(PAT, () => click(card, 'Approve'));
      await card.filter({ hasText: 'Only the change owners' }).waitFor();
      expect(await card.innerText()).toContain('Waiting for approval');

      await approve('Writeback', seq, MEGAN);
      await card.filter({ hasText: /Still needed\s*1 more approval/ }).waitFor();
      await card.filter({ hasText: /Approved by\s*Megan Bowen/ }).waitFor();
      await shoot(card, 'step-quorum-one-of-two.png');

      await approve('Writeback', seq, LEE);
      await card.filter({ hasText: '✅ Done' }).waitFor();
      const text = await card.innerText();
      expect(text).toContain('Megan Bowen');
      expect(text).toContain('Lee Gu');
    },
    STEP_TIMEOUT,
  );

  it(
    '4c. the pilot runs on to Cloud Sync scoped to the OU, approved by either owner',
    async () => {
      const stop = /Verify the OU users/;
      const n = await driveUntil('Pilot', pilot.titles, firstApproval + 1, stop, [MEGAN, LEE]);
      expect(pilot.titles[n - 1]).toMatch(stop);
      const st = await api('/sandbox/v1/state');
      const job = st.jobs.find((j: any) => j.templateId === 'AD2AADProvisioning');
      expect(job?.includedContainers).toEqual([PILOT_OU]);
      expect(st.rules.some((r: any) => r.linkType === 'JoinNoFlow')).toBe(true);
      // the seed's warning is on the no-flow rules card
      expect(await stepCard('Pilot', pilot.titles.findIndex((t) => t.includes('cloudNoFlow')) + 1).innerText()).toContain("don't remove OUs");
      const configured = stepCard('Pilot', pilot.titles.findIndex((t) => t.startsWith('Configure Cloud Sync')) + 1);
      expect(await configured.innerText()).toContain(job.jobId);
      await shoot(configured, 'step-cloud-sync-configured.png');
    },
    STEP_TIMEOUT,
  );

  it.skipIf(!PWSH)(
    "issue 18: the pilot batch ran on the PowerShell executor: `runners` says so, and the simulated Connect server got the scripts' cmdlets",
    async () => {
      await say('runners');
      const runners = cardTitled('Runners').first();
      await runners.waitFor();
      expect(await runners.innerText()).toMatch(/Executor\s*powershell/);
      const st = await api('/sandbox/v1/state');
      const { calls } = await api(`/sandbox/v1/onprem/${st.tenantId}/calls`);
      expect(calls['Add-ADSyncRule']).toBeGreaterThanOrEqual(8); // the cloudNoFlow / JoinNoFlow pair per object type
      expect(calls['Set-ADSyncScheduler']).toBeGreaterThanOrEqual(1); // the scheduler stopped
      expect(calls['Start-ADSyncSyncCycle']).toBeGreaterThanOrEqual(1); // the Full Synchronization after the rules
      expect(calls['Get-ADSyncMVObject']).toBeGreaterThan(0); // every object of the OU read back from the metaverse
      await shoot(runners, 'runners.png');
    },
    STEP_TIMEOUT,
  );

  it(
    '5. status and jobs answer in the channel',
    async () => {
      await say('status');
      const status = cardTitled('Status').first();
      await status.waitFor();
      const text = await status.innerText();
      expect(text).toContain('Pilot');
      expect(text).toMatch(/\d+ of \d+ steps done/);
      expect(text).toMatch(/on-premises 40/);
      await shoot(status, 'status.png');

      await say('jobs');
      const jobs = cardTitled('Cloud Sync jobs').first();
      await jobs.waitFor();
      expect(await jobs.innerText()).toMatch(/AD2AADProvisioning\./);
      await shoot(jobs, 'jobs.png');
    },
    STEP_TIMEOUT,
  );

  it(
    'issues 9 and 17: a quarantined job is one incident, its own post in the channel; an owner acknowledges it, Restart is approved and run, then it is resolved',
    async () => {
      await api('/sandbox/v1/faults', { kind: 'quarantine', reason: 'EncounteredBaseEscrowThreshold' });
      const report = await api('/sandbox/v1/monitor/run', {});
      expect(report.findings.some((f: any) => /quarantine/i.test(f.title) && f.alerted)).toBe(true);
      // One incident for the job, naming both migrations (both are in contoso.com, which has one Cloud Sync job).
      const pilotAlerts = () =>
        cards()
          .filter({ hasText: /^CRITICAL · Pilot and Writeback/ })
          .filter({ hasText: 'Cloud Sync job quarantined' });
      const alert = pilotAlerts().first();
      await alert.waitFor();
      expect(await alert.innerText()).toContain('EncounteredBaseEscrowThreshold');
      expect(await buttonsOf(alert)).toEqual(expect.arrayContaining(['Acknowledge', 'Resolve', 'Restart']));
      // a second cycle finds the same incident: no second card
      await api('/sandbox/v1/monitor/run', {});
      expect(await pilotAlerts().count()).toBe(1);
      await shoot(alert, 'alert-quarantine.png');

      await as(LEE, () => click(alert, 'Acknowledge'));
      await alert.filter({ hasText: 'Acknowledged by Lee Gu' }).waitFor();
      await shoot(alert, 'alert-acknowledged.png');

      await say('jobs');
      const jobs = cardTitled('Cloud Sync jobs').first();
      await jobs.filter({ hasText: /EncounteredBaseEscrowThreshold/ }).waitFor();
      await shoot(jobs, 'jobs-quarantined.png');

      // Restart is an approved change: Lee asks from the alert, Megan approves the step it adds to Pilot, and it runs.
      await as(LEE, () => click(alert, 'Restart'));
      await alert.filter({ hasText: /Restart requested by Lee Gu — waiting for approval/ }).waitFor();
      const seq = Number((await alert.innerText()).match(/waiting for approval \(step (\d+) of \d+ of Pilot\)/)?.[1]);
      expect(seq, await alert.innerText()).toBeGreaterThan(0);
      const restart = stepCard('Pilot', seq);
      await restart.waitFor(); // in Pilot's thread, as any step waiting for approval
      expect(await restart.innerText()).toContain('Restart the quarantined Cloud Sync job');
      await approve('Pilot', seq, MEGAN);
      await restart.filter({ hasText: '✅ Done' }).waitFor();
      await shoot(restart, 'alert-restart-done.png');
      await alert.filter({ hasText: /Restarted \(resetScope "Watermark, Escrows, QuarantineState"\)/ }).waitFor();
      expect(await alert.innerText()).toMatch(/requested by Lee Gu, approved by Megan Bowen/);

      // Resolve: the quarantine is lifted; an owner closes the incident (the next monitor cycle would too).
      await as(MEGAN, () => click(alert, 'Resolve'));
      await alert.filter({ hasText: /Resolved/ }).waitFor();
      expect(await buttonsOf(alert)).not.toContain('Restart');
      await shoot(alert, 'alert-resolved.png');
      await api('/sandbox/v1/faults', { kind: 'clear' });
    },
    STEP_TIMEOUT,
  );

  it(
    "issue 15: an administrator adds a runner, a second one approves, and the token appears only on the card answering the first one's own click",
    async () => {
      // Alex and Megan are the sandbox's administrators (its "Cutover Administrators" group); Pat is not one.
      const TOKEN = /cutover_[0-9a-f-]{36}_[A-Za-z0-9_-]{43}/;
      await say('runner add connect02');
      const card = cards().filter({ hasText: 'Runner registration · connect02' }).first();
      await card.waitFor();
      expect(await card.innerText()).toContain('Waiting for a second administrator');
      await shoot(card, 'runner-request.png');

      // The one who asked cannot approve it (four-eyes); a member who is no administrator cannot either.
      await click(card, 'Approve');
      await card.filter({ hasText: 'four-eyes' }).waitFor();
      await as(PAT, () => click(card, 'Approve'));
      await card.filter({ hasText: "Only cutover's administrators" }).waitFor();
      await as(MEGAN, () => click(card, 'Approve'));
      await card.filter({ hasText: 'Approved — Alex Wilber can take the token' }).waitFor();
      expect(await buttonsOf(card)).toContain('Show my token (only I see it)');

      // Megan approved it, but the token is Alex's to see.
      await as(MEGAN, () => click(card, 'Show my token (only I see it)'));
      await card.filter({ hasText: 'Only Alex Wilber, who asked for this runner, can see its token' }).waitFor();
      expect(await card.innerText()).not.toMatch(TOKEN);

      // Where the token appears: the card Alex's own click gets back (the invoke response, which Teams shows to the
      // clicker alone). The bot posts and updates nothing with it: the channel's shared card keeps no token.
      const answered = invokes.length;
      await click(card, 'Show my token (only I see it)');
      const tokenCard = cards().filter({ hasText: 'Your runner token' }).first();
      await tokenCard.waitFor();
      const token = (await tokenCard.innerText()).match(TOKEN)?.[0];
      expect(token, await tokenCard.innerText()).toBeTruthy();
      expect(await tokenCard.innerText()).toContain('only you see this');
      // The screenshot masks the token itself (a sandbox's, but a secret is a secret): the card around it is what shows.
      await page.setViewportSize({ width: VIEWPORT.width, height: 2400 });
      try {
        await tokenCard.scrollIntoViewIfNeeded();
        const file = path.join(shotsDir, 'runner-token-only-you.png');
        await tokenCard.screenshot({ path: file, animations: 'disabled', mask: [tokenCard.getByText(TOKEN)] });
        shots.push(file);
      } finally {
        await page.setViewportSize(VIEWPORT);
      }
      // Of every card action answered in this session, only Alex's "Show my token" answer holds it.
      await expect.poll(() => invokes.length).toBeGreaterThan(answered);
      const holding = invokes.filter((x) => x.includes(token!));
      expect(holding).toHaveLength(1);
      expect(holding[0]).toContain('runner.token');
      expect(holding[0]).toContain(ALEX.id);
      // The runner is registered, waiting for its first use; `runners` in the channel shows it, not its token.
      const shown = invokes.length;
      await say('runners');
      // The Playground lists the newest message first, and this session said `runners` before (issue 18's test): the
      // answer to this one is the Runners card that names connect02.
      const runners = cardTitled('Runners').filter({ hasText: 'connect02' }).first();
      await runners.waitFor();
      expect(await runners.innerText()).not.toMatch(TOKEN);
      expect(invokes.slice(shown).some((x) => x.includes(token!))).toBe(false);
    },
    STEP_TIMEOUT,
  );
});
