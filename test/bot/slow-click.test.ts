import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, cardText, buttons } from '../helpers/harness.js';
import { startAgent } from '../../src/agent/client.js';
import { SandboxExecutor } from '../../src/sandbox/onprem/executor.js';
import { createLogger } from '../../src/log.js';

/**
 * A Request that waits on the runner (a guard read, the plan's facts) is answered at once with a "checking" card and
 * finished in the background: Teams shows an error and retries an invoke left unanswered for 10–15 s. The card in the
 * channel is then updated in place with the outcome.
 */
describe('a click that waits on the runner', () => {
  let h: Harness;
  const agents: AbortController[] = [];
  const agent = async (name: string) => {
    const { token } = await h.app.hub.createRunner({ name, tenantId: h.app.tenant!.tenantId });
    const abort = new AbortController();
    agents.push(abort);
    const executor = new SandboxExecutor({ server: h.app.tenant!.forest.server, clock: h.clock });
    startAgent({
      serverUrl: h.app.url,
      token,
      executor,
      log: createLogger({ level: 'silent' }),
      signal: abort.signal,
      backoff: { initialMs: 50, maxMs: 200 },
    }).done.catch(() => {});
    return abort;
  };

  beforeAll(async () => {
    h = await Harness.start({ build: { sandboxAgent: false, answerClickWithinMs: 100, runnerReadTimeoutMs: 1_500, hub: { pollWaitMs: 200, recheckMs: 50 } } });
  });
  afterAll(async () => {
    for (const a of agents) a.abort();
    await h?.stop();
  });

  it('is answered at once, then its card says what happened: refused when no runner answers, done when one does', async () => {
    const first = await agent('runner-1');
    const id = await h.newPilot('Slow click');
    const count = await h.seqOf(id, 'count-ou-users'); // its guard reads Connect Sync's scope from the runner
    await h.advance(id, count - 1);
    first.abort(); // the migration's runner (runner-1) goes silent: nothing answers for its Connect server
    const activityId = await h.postedCard(id, count); // the current step's card, in the migration's thread

    // No runner: the click is answered with "checking", and the card later says the check could not be made.
    let before = h.connector.sent.length;
    const checking = await h.click(USERS.alex, 'step.request', await h.stepData(id, count), activityId!);
    expect(checking.status).toBe(200);
    expect(cardText(checking.card)).toContain('Checking with the on-premises runner');
    expect((await h.app.engine.getStep(id, count))!.state).toBe('pending');
    const refused = await h.connector.waitFor(() =>
      h.connector.sent.slice(before).find((x) => x.method === 'PUT' && x.activityId === activityId && cardText(x.activity).includes('could not be made')),
    );
    expect(cardText(refused.activity)).toContain('no runner answered "get-connector-scope"');
    expect(buttons(refused.activity)).toContain('Run'); // still offered: nothing ran
    expect((await h.app.engine.getStep(id, count))!.state).toBe('pending'); // nothing changed

    // Again, and a runner connects while the click is being checked: the step runs, and its card follows.
    before = h.connector.sent.length;
    const again = await h.click(USERS.alex, 'step.request', await h.stepData(id, count), activityId!);
    expect(cardText(again.card)).toContain('Checking with the on-premises runner');
    // runner-1 is rotated (revoked, registered again under its name): the migration is bound to the name, so it serves it
    await h.app.hub.revokeRunner('runner-1', h.app.tenant!.tenantId);
    await agent('runner-1');
    expect((await h.waitForStep(id, count, ['succeeded', 'failed'])).state).toBe('succeeded');
    const done = await h.connector.waitFor(() =>
      h.connector.sent.slice(before).find((x) => x.method === 'PUT' && x.activityId === activityId && cardText(x.activity).includes('Done')),
    );
    expect(cardText(done.activity)).not.toContain('Checking with the on-premises runner');
  });
});
