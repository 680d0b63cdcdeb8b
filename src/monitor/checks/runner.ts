import type { MonitorCheck } from './check.js';

/** The on-premises runner a migration uses: down means on-premises steps and checks cannot run. */
export const runner: MonitorCheck = {
  key: 'runner',
  phase: 'main',
  schedule: 'health',
  async run(m, cx) {
    // A runner down affects the migrations bound to it (and those not bound yet, which would take the tenant's runner).
    const mine = (r: { name: string }) => !m.runnerName || m.runnerName.toLowerCase() === r.name.toLowerCase();
    const down = (await cx.once(`runners|${m.tenantId}`, () => cx.ports.runners(m.tenantId))).filter((r) => r.health === 'Down' && mine(r));
    for (const r of down) {
      await cx.raise(
        m,
        r.name,
        {
          severity: 'critical',
          title: `Runner ${r.name} is down`,
          summary: `No heartbeat or poll for more than 120 s (last seen ${r.lastSeenAt?.toISOString() ?? 'never'}). On-premises steps and checks cannot run.`,
          remedy: 'Check the cutover-runner service on the Connect server and its outbound HTTPS (443) to cutover.',
          facts: [
            { title: 'Runner', value: r.name },
            { title: 'Last seen', value: r.lastSeenAt?.toISOString() ?? 'never' },
          ],
        },
        true,
        `runner:${r.name.toLowerCase()}`,
      );
    }
    await cx.resolveExcept(
      m,
      down.map((r) => r.name),
    );
  },
};
