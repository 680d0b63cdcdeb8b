import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPowerShell } from '../../src/agent/executors/powershell.js';
import { Harness, USERS, cardText } from '../helpers/harness.js';

/**
 * The sandbox runner on the PowerShell executor (SANDBOX_EXECUTOR=powershell): the real action scripts of
 * src/agent/scripts run under pwsh, as on a Connect server, against the simulated Connect server and forest through
 * the sandbox's fake ADSync / ActiveDirectory modules (src/sandbox/powershell). The pilot batch of a Connect → Cloud
 * Sync migration is clicked through as a person would, and the simulated server shows the scripts' cmdlet calls.
 *
 * Needs pwsh (scripts/install-engines.sh installs it); without it the suite is skipped with that reason.
 */
const PWSH = findPowerShell(process.env.SANDBOX_POWERSHELL, { core: true });
if (!PWSH)
  process.stderr.write(
    'test/e2e/pilot-powershell.test.ts: skipped: PowerShell 7 (pwsh) is not installed on this machine: run `bash scripts/install-engines.sh`\n',
  );

describe.skipIf(!PWSH)('the sandbox runner on the PowerShell executor (real scripts, simulated Connect server)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start({ env: { SANDBOX_EXECUTOR: 'powershell', SANDBOX_POWERSHELL: PWSH! } });
    // Each runner action is a pwsh process (a second or more each, several at once on a busy two-core machine).
    h.stepTimeoutMs = 300_000;
  });
  afterAll(async () => {
    await h?.stop();
  });

  const calls = async () => (await (await fetch(`${h.app.url}/sandbox/v1/onprem/${h.app.tenant!.tenantId}/calls`)).json()).calls as Record<string, number>;

  it('runs the pilot batch through the scripts: rules made, a full sync run, the OU moved to Cloud Sync', async () => {
    const m = await h.newPilot('Pilot on pwsh');
    try {
      await h.runBatch(m, 1);
    } catch (e) {
      // What the people in the channel saw last: a refusal or a failure is written on the step's card.
      const cards = h.connector.sent.slice(-4).map((s) => cardText(s.activity).slice(0, 800));
      throw new Error(`${(e as Error).message}\nlast cards in the channel:\n${cards.join('\n---\n')}`, { cause: e });
    }
    const ou = (await h.state()).ous.find((o: any) => o.name === 'CloudSyncPilot');
    expect(ou.exportedBy).toEqual({ connect: 0, cloud: 40, missing: 0 });
    const c = await calls();
    expect(c['Add-ADSyncRule']).toBe(8); // the cloudNoFlow / JoinNoFlow pair for users, inetOrgPersons, groups, contacts
    expect(c['Set-ADSyncScheduler']).toBeGreaterThanOrEqual(2); // stopped, then started again
    expect(c['Start-ADSyncSyncCycle']).toBeGreaterThanOrEqual(2); // the Full Synchronization, then the delta cycle
    expect(c['Get-ADSyncMVObject']).toBeGreaterThan(0); // proof that every object carries cloudNoFlow
    expect(c.csexport).toBeGreaterThan(0); // and that Connect holds no export for them
    expect(h.app.tenant!.forest.server.rules().filter((r) => !r.IsStandardRule)).toHaveLength(8);
    expect(h.app.tenant!.forest.server.getScheduler().SyncCycleEnabled).toBe(true);
  }, 600_000);

  it('`runners` says which executor the sandbox runner uses: powershell', async () => {
    // (after the pilot batch: the runner has reported its executor with its polls)
    const n = h.connector.sent.length;
    await h.say(USERS.alex, 'runners');
    const reply = await h.connector.waitFor(
      () => h.connector.sent.slice(n).find((s) => cardText(s.activity).includes('sandbox-runner')),
      10_000,
      'the runners card',
    );
    expect(cardText(reply.activity)).toMatch(/Executor\s*powershell/);
  });
});
