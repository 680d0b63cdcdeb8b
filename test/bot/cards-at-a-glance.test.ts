import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, PILOT_OU, cardText } from '../helpers/harness.js';
import { facts, labels, lines, links, looksLikeJsonPath, runs } from '../helpers/card-reading.js';

/**
 * Issue 17, "Cards read at a glance", over HTTP against the sandbox: every step card of a full pilot batch, as the
 * people clicking them get it. Evidence as labelled facts (never a JSON path), the whole evidence behind Details, the
 * blast radius first, documents cited by title with links, one time format, text shown exactly (an OU whose name
 * needs escaping, end to end).
 */

const ESCAPED_OU = 'OU=Sales\\, EMEA,DC=contoso,DC=com';
/** A time anywhere on a card is "2026-12-05 04:37 UTC", never ISO 8601 or another format. */
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const OTHER_TIME = /\b\d{2}\/\d{2}\/\d{4}\b|\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d/;

describe('cards read at a glance: a full pilot batch', () => {
  let h: Harness;
  let m = '';
  /** Every step card as a person last saw it, by seq. */
  const seen = new Map<number, any>();

  const refresh = async (seq: number) => (await h.click(USERS.alex, 'card.refresh', await h.stepData(m, seq))).card;
  const seqOf = (key: string, batch: number | null = null) => h.seqOf(m, key, batch);

  beforeAll(async () => {
    h = await Harness.start();
    m = await h.newPilot('Glance');
  });
  afterAll(async () => {
    if (process.env.CUTOVER_CARDS_OUT) writeFileSync(process.env.CUTOVER_CARDS_OUT, JSON.stringify([...seen.values()]));
    await h?.stop();
  });

  it('says first what a production step affects, in words, before its approval is asked', async () => {
    await h.advanceTo(m, 'count-ou-users', 1);
    const assessment = (await h.app.engine.getStep(m, await seqOf('assessment')))!.evidence as any;
    const { users, groups, contacts } = assessment.counts;
    expect(users).toBeGreaterThan(5_000);
    const stop = await seqOf('stop-scheduler', 1);
    const start = await seqOf('start-scheduler', 1);
    for (const card of [await refresh(stop), (await h.click(USERS.alex, 'step.request', await h.stepData(m, stop))).card]) {
      const l = lines(card);
      expect(l[1]).toBe('Stop the Connect Sync scheduler');
      // right under the title and state: what it affects, the whole domain, until the step that ends it
      expect(l[3]).toBe('What it affects');
      expect(l[4]).toBe(
        `Connect Sync stops for every object of contoso.com it synchronizes (the domain holds ${users.toLocaleString('en-US')} users, ${groups} groups and ${contacts} contacts), not only for ${PILOT_OU}, until step ${start} (Start the Connect Sync scheduler): no sync cycle runs, so no change made in Active Directory reaches Entra ID meanwhile. Password hash sync and password writeback keep running. A delta sync is needed within 7 days.`,
      );
    }
    // the approved plan carries the same words: what the owners approve is what the card says
    expect((await h.app.engine.getStep(m, stop))!.plan!.effect).toContain(`until step ${start} (Start the Connect Sync scheduler)`);
    await h.click(USERS.megan, 'step.approve', await h.stepData(m, stop));
    await h.waitForStep(m, stop, ['succeeded']);
  });

  it('runs the rest of the batch', async () => {
    await h.runBatch(m, 1);
    for (const s of await h.app.engine.getSteps(m)) seen.set(s.seq, await refresh(s.seq));
  });

  it('labels every fact of every card in words: no JSON path, no field name', () => {
    const all = [...seen.values()].flatMap((c) => labels(c));
    expect(all.length).toBeGreaterThan(60);
    expect(all.filter(looksLikeJsonPath)).toEqual([]);
    // and what used to be there is not: create-noflow-rules.rules[1].precedence
    expect(JSON.stringify([...seen.values()])).not.toMatch(/"text":"[^"]*\w\.\w+\[\d+\]/);
  });

  it('renders each action’s evidence as a few facts a person understands, the whole evidence behind Details', async () => {
    const fact = async (key: string, title: string) => facts(seen.get(await seqOf(key, key === 'assessment' ? null : 1))).find((f) => f.title === title)?.value;
    expect(await fact('count-ou-users', 'In the OU')).toBe('40 users, 2 groups, 2 contacts');
    expect(await fact('stop-scheduler', 'Scheduler')).toMatch(/^off since \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \(.+\): no scheduled sync cycle runs \(was on\)$/);
    expect(await fact('stop-scheduler', 'Next cycle')).toBe('none while the scheduler is off');
    expect(await fact('start-scheduler', 'Scheduler')).toMatch(/^on since .* UTC .*: a sync cycle every 30 minutes \(was off\)$/);
    // rules created: name, direction, precedence
    expect(await fact('create-noflow-rules', 'User rules')).toMatch(
      /^In from AD - User cloudNoFlow \(cutover [\w-]+\): inbound, precedence \d+; Out to AAD - User JoinNoFlow \(cutover [\w-]+\): outbound, precedence \d+$/,
    );
    expect(await fact('create-noflow-rules', 'No-flow rules')).toBe('8 created; they take effect at the next full synchronization');
    expect(await fact('create-noflow-rules', 'cloudNoFlow in the metaverse')).toBe(
      '44 of 44 objects of the OU (users 38 of 38, inetOrgPersons 2 of 2, groups 2 of 2, contacts 2 of 2)',
    );
    expect(await fact('create-noflow-rules', 'Sync cycle')).toBe('full synchronization (Initial): Success');
    expect(await fact('verify-ou-users', 'Taken by Cloud Sync')).toBe('44 of 44 objects (user: 40 of 40, contact: 2 of 2, group: 2 of 2)');
    expect(await fact('provision-on-demand', 'Provisioning steps')).toBe('Import, Matching, Scoping, Export: all succeeded');
    // a few facts per step, and Details for everything
    for (const [seq, card] of seen) {
      const step = (await h.app.engine.getStep(m, seq))!;
      if (step.state !== 'succeeded' || !step.evidence) continue;
      expect(facts(card).length, `step ${seq}`).toBeLessThanOrEqual(25);
      const toggle = JSON.stringify(card).includes(`"title":"Details","targetElements":["details-${seq}"]`);
      expect(toggle, `step ${seq} has Details`).toBe(true);
    }
    // and every card stays well within Teams' message size (about 28 KB), Details included
    for (const [seq, card] of seen) expect(JSON.stringify(card).length, `step ${seq}`).toBeLessThan(24_000);
    const rules = seen.get(await seqOf('create-noflow-rules', 1));
    const details = runs(rules).find((t) => t.startsWith('results:'))!;
    expect(details).toMatch(/^ +precedence: 20$/m);
    expect(details).toMatch(/^ +(\d+\. )?policyType: Initial$/m);
  });

  it('leads the assessment with its recommendation, in normal text', async () => {
    const card = seen.get(await seqOf('assessment'));
    const l = lines(card);
    expect(l.slice(3, 5)).toEqual(['Recommendation', (await h.app.engine.getStep(m, await seqOf('assessment')))!.evidence!.recommendation]);
    expect(JSON.stringify(card)).not.toMatch(/"text":"partially[^"]*","size":"Small","fontType":"Monospace"/);
  });

  it('cites Microsoft’s documents by title, with links, never by seed number', () => {
    for (const [seq, card] of seen) {
      expect(cardText(card), `step ${seq}`).not.toMatch(/\bseeds? \d{3}/);
      expect(links(card).length, `step ${seq} cites its source`).toBeGreaterThan(0);
    }
    const all = [...seen.values()].flatMap(links);
    expect(all).toContainEqual({
      text: 'Migrate Microsoft Entra Connect to Microsoft Entra Cloud Sync',
      url: 'https://learn.microsoft.com/entra/identity/hybrid/cloud-sync/migrate-azure-ad-connect-to-cloud-sync',
    });
    for (const l of all.filter((x) => !x.url.includes('/api/reports/'))) expect(l.url).toMatch(/^https:\/\//);
  });

  it('writes every time one way, UTC with how long ago, and durations in words', async () => {
    const n = h.connector.sent.length;
    await h.say(USERS.alex, 'jobs');
    const jobs = await h.connector.waitFor(() => h.connector.sent.slice(n).find((s) => cardText(s.activity).includes('Cloud Sync jobs')));
    const texts = [...seen.values(), jobs.activity].flatMap(runs).filter((t) => !/^\w+:/.test(t)); // Details hold the record as it is
    for (const t of texts) {
      expect(t).not.toMatch(ISO);
      expect(t).not.toMatch(OTHER_TIME);
      expect(t).not.toMatch(/\bP(T\d+[HMS])+\b|\bPT\d/);
    }
    expect(texts.join('\n')).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \((just now|\d+ min ago)\)/);
    expect(facts(jobs.activity).find((f) => f.title === 'Schedule')?.value).toMatch(/^enabled: runs every \d+ (minutes|seconds)$/);
  });

  it('shows an OU whose name needs escaping exactly, backslash and all, on every card of its batch', async () => {
    const n = h.connector.sent.length;
    await h.say(USERS.alex, `batch add Glance ou="${ESCAPED_OU}"`);
    await h.connector.waitFor(() => h.connector.sent.slice(n).find((s) => cardText(s.activity).includes('Batch 2 added')));
    expect((await h.app.engine.getMigration(m))!.ous).toEqual([PILOT_OU, ESCAPED_OU]);
    await h.runBatch(m, 2);
    const batch = (await h.app.engine.getSteps(m)).filter((s) => s.batch === 2);
    expect(batch.every((s) => s.state === 'succeeded')).toBe(true);
    const cards = await Promise.all(batch.map((s) => refresh(s.seq)));
    batch.forEach((s, i) => seen.set(s.seq, cards[i]));
    expect(cards.flatMap(labels).filter(looksLikeJsonPath)).toEqual([]);
    for (const card of cards) {
      expect(facts(card).find((f) => f.title === 'OU')?.value).toBe(ESCAPED_OU);
      // wherever the OU is named, it is named exactly; never unescaped, never as an entity
      // (Graph request bodies under "What will run" are the JSON sent, where a backslash is written \\)
      for (const t of runs(card).filter((x) => x.includes('EMEA,DC=') && !/^(GET|POST|PUT|PATCH|DELETE) \//.test(x))) expect(t).toContain(ESCAPED_OU);
      expect(JSON.stringify(card)).not.toMatch(/OU=Sales, EMEA|&#\d+;|&lt;|&gt;|&amp;|"type":"(TextBlock|FactSet)"/);
    }
    const byKey = (key: string) => cards[batch.findIndex((s) => s.key === key)];
    expect(facts(byKey('count-ou-users')).find((f) => f.title === 'In the OU')?.value).toBe('4 users, 0 groups, 0 contacts');
    expect(facts(byKey('create-noflow-rules')).find((f) => f.title === 'OUs the rules cover')?.value).toBe(`${PILOT_OU}; ${ESCAPED_OU}`);
    expect(lines(byKey('enable-cloud-sync'))[4]).toContain(`takes the 4 users, 0 groups and 0 contacts in ${ESCAPED_OU}`);
    // the overview lists it exactly too
    const overview = h.connector
      .cards()
      .map((c) => c.card)
      .find((c) => cardText(c).includes('Migration id') && cardText(c).includes('Glance'));
    expect(facts(overview).find((f) => f.title === 'OU batches')?.value).toContain(`1. ${PILOT_OU}`);
  });
});
