import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { openPglite, type Db } from '../../src/store/db.js';
import { AlertService } from '../../src/monitor/alerts.js';
import { Monitor, type MonitoredJob, type MonitorPorts } from '../../src/monitor/monitor.js';
import { sourceAnchor, type EntraIdentity, type OnPremIdentity } from '../../src/monitor/reconcile.js';
import type { Migration, RunbookEngine } from '../../src/runbooks/engine.js';

/**
 * The monitor's cycle on fake ports (no sandbox): what it reads per cycle, the K-cycle rule across a restart,
 * and what happens when the runner cannot answer. The HTTP-level behaviour is in reconcile-monitor.test.ts.
 */
const log = createLogger({ level: 'silent' });

function world(db: Db) {
  const clock = new ManualClock('2026-11-21T09:00:00Z');
  const ou = (t: string, i: number) => `OU=Unit ${i},DC=${t},DC=example`;
  const migrations = ['t1', 't1', 't1', 't2'].map(
    (t, i) =>
      ({
        id: `m${i}`,
        name: `M${i}`,
        kind: 'connect-to-cloud-sync',
        tenantId: t,
        domain: `${t}.example`,
        ous: [ou(t, i), ou(t, i + 10)],
        state: 'active',
        conversationId: null,
        policy: {},
        createdBy: {},
        createdAt: new Date(),
        overviewActivityId: null,
      }) as unknown as Migration,
  );
  const steps = (m: Migration) => m.ous.map((_, i) => ({ key: 'configure-cloud-sync', batch: i + 1, state: 'succeeded' }));
  const engine = {
    listMigrations: async () => migrations,
    getSteps: async (id: string) => steps(migrations.find((m) => m.id === id)!),
    sweepApprovals: async () => ({}),
    schedulerHold: async () => null,
    schedulerHeldInTenant: async () => null,
  } as unknown as RunbookEngine;
  const onPrem = new Map<string, OnPremIdentity[]>();
  const entra = new Map<string, EntraIdentity[]>();
  let n = 0;
  for (const m of migrations)
    for (const o of m.ous) {
      const users = Array.from({ length: 5 }, () => {
        const g = `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
        return {
          dn: `CN=U${n},${o}`,
          objectGUID: g,
          consistencyGuid: null,
          userPrincipalName: `u${n}@x.example`,
          mail: null,
          proxyAddresses: [],
          displayName: `U${n}`,
        };
      });
      onPrem.set(o, users);
      const t = m.tenantId;
      entra.set(t, [
        ...(entra.get(t) ?? []),
        ...users.map((u) => ({
          id: `e-${u.objectGUID}`,
          userPrincipalName: u.userPrincipalName,
          mail: null,
          displayName: u.displayName,
          proxyAddresses: [],
          onPremisesImmutableId: sourceAnchor(u),
          onPremisesSamAccountName: null,
          onPremisesDistinguishedName: u.dn,
        })),
      ]);
    }
  const calls = { jobs: 0, entraUsers: 0, onPrem: 0, agents: 0, scheduler: 0 };
  let runnerDown = false;
  const job: MonitoredJob = {
    id: 'AD2AADProvisioning.a.b',
    templateId: 'AD2AADProvisioning',
    code: 'Active',
    quarantine: null,
    countSuccessiveCompleteFailures: 0,
    steadyStateAchieved: false,
  };
  const ports: MonitorPorts = {
    jobs: async () => (calls.jobs++, [job]),
    entraUsers: async (t) => (calls.entraUsers++, { stamp: JSON.stringify(entra.get(t)!.map((u) => u.displayName)), users: () => entra.get(t)! }),
    onPremIdentities: async (_m, o) => {
      calls.onPrem++;
      if (runnerDown) throw new Error('no runner answered "ad-export-identities" within 10 s');
      return structuredClone(onPrem.get(o)!);
    },
    agents: async () => (calls.agents++, { verdict: 'healthy' as const, reasons: [], lastSuccessfulRun: null, source: 'job status and provisioning logs' }),
    runners: async () => [],
    scheduler: async () => (calls.scheduler++, { syncCycleEnabled: true, stagingModeEnabled: false }),
    connectorScope: async (m) => ({ includedContainers: [`DC=${m.tenantId},DC=example`] }),
  };
  const monitor = () =>
    new Monitor({ engine, alerts: new AlertService({ db, clock }), ports, clock, log, settings: { mismatchCycles: 3, schedulerDisabledMs: 4 * 3_600_000 } });
  return { migrations, onPrem, entra, calls, ports, monitor, clock, setRunnerDown: (v: boolean) => (runnerDown = v), job };
}

describe('a monitor cycle', () => {
  it('reads each thing once: jobs once per migration, users once per tenant, agents and the scheduler once per tenant', async () => {
    const db = await openPglite(null);
    const w = world(db);
    const r = await w.monitor().runCycle();
    expect(r.errors).toEqual([]);
    expect(r.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(w.calls).toEqual({ jobs: 4, entraUsers: 2, onPrem: 8, agents: 2, scheduler: 2 });
    expect(r.timings!.jobHealthMs).toBeGreaterThanOrEqual(0);
    await db.close();
  });

  it('counts consecutive cycles across a restart, alerts at the third, and keeps the incident open while the runner is down', async () => {
    const db = await openPglite(null);
    const w = world(db);
    const target = w.migrations[3].ous[1];
    w.onPrem.get(target)![2].displayName = 'Changed on-premises';
    const reconcileFindings = (r: any) => r.findings.filter((f: any) => f.check === 'ou-count');
    let m = w.monitor();
    expect(reconcileFindings(await m.runCycle())).toEqual([expect.objectContaining({ scope: target, alerted: false })]);
    expect(reconcileFindings(await m.runCycle())).toEqual([expect.objectContaining({ alerted: false })]);
    await m.stop();
    m = w.monitor(); // a restarted process: the streak is in the store
    expect(reconcileFindings(await m.runCycle())).toEqual([expect.objectContaining({ alerted: true })]);
    const alerts = new AlertService({ db, clock: w.clock });
    const open = (await db.query("SELECT id FROM alerts WHERE check_key = 'ou-count' AND state <> 'resolved'")).rows;
    expect(open).toHaveLength(1);
    const report = await alerts.reports.load(open[0].id);
    expect(report?.result.drift.map((d) => d.onPremValue)).toEqual(['Changed on-premises']);

    // The runner stops answering: the OU is unknown this cycle, so nothing is resolved (and nothing new raised).
    w.setRunnerDown(true);
    const down = await m.runCycle();
    expect(down.errors.filter((e) => e.check === 'ou-count')).toHaveLength(8);
    expect((await db.query('SELECT state FROM alerts WHERE id = $1', [open[0].id])).rows[0].state).toBe('open');

    // Back, and fixed: resolved, and the streak starts again from zero.
    w.setRunnerDown(false);
    w.onPrem.get(target)![2].displayName = w.entra.get('t2')!.find((u) => u.onPremisesDistinguishedName === w.onPrem.get(target)![2].dn)!.displayName;
    await m.runCycle();
    expect((await db.query('SELECT state FROM alerts WHERE id = $1', [open[0].id])).rows[0].state).toBe('resolved');
    expect((await db.query('SELECT count(*)::int AS n FROM monitor_streaks')).rows[0].n).toBe(0);
    await db.close();
  });

  it('alerts at once after steady state, and updates nothing when cycles repeat the same differences', async () => {
    const db = await openPglite(null);
    const w = world(db);
    w.job.steadyStateAchieved = true;
    w.entra.get('t1')!.push({
      id: 'ghost',
      userPrincipalName: 'ghost@x.example',
      mail: null,
      displayName: 'Ghost',
      proxyAddresses: [],
      onPremisesImmutableId: null,
      onPremisesSamAccountName: null,
      onPremisesDistinguishedName: `CN=Ghost,${w.migrations[0].ous[0]}`,
    });
    const m = w.monitor();
    const r = await m.runCycle();
    expect(r.findings.filter((f) => f.check === 'ou-count')).toEqual([
      expect.objectContaining({ scope: w.migrations[0].ous[0], alerted: true, title: `User count mismatch in ${w.migrations[0].ous[0]}` }),
    ]);
    const v0 = (await db.query("SELECT version, last_seen_at FROM alerts WHERE check_key = 'ou-count'")).rows[0];
    w.clock.advance(120_000);
    await m.runCycle();
    w.clock.advance(120_000);
    await m.runCycle();
    const v2 = (await db.query("SELECT version, last_seen_at FROM alerts WHERE check_key = 'ou-count'")).rows[0];
    expect(v2.version).toBe(v0.version);
    expect(new Date(v2.last_seen_at).getTime()).toBeGreaterThan(new Date(v0.last_seen_at).getTime());
    await db.close();
  });
});
