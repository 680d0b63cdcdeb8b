import { scopedOus, type MonitorCheck } from './check.js';

/** Cloud Sync agent health, inferred (app-only Graph cannot list agents) for migrations whose Cloud Sync scope is configured. */
export const agents: MonitorCheck = {
  key: 'agents',
  phase: 'main',
  schedule: 'health',
  async run(m, cx) {
    if (!(await scopedOus(m, cx)).length) return;
    const h = await cx.once(`agents|${m.tenantId}|${m.domain.toLowerCase()}`, () => cx.ports.agents(m));
    const scopes: string[] = [];
    if (h?.verdict === 'unhealthy') {
      scopes.push('unhealthy');
      await cx.raise(
        m,
        'unhealthy',
        {
          severity: 'critical',
          title: `Cloud Sync agents for ${m.domain} look unhealthy`,
          summary: `${h.reasons.join(' ')} (inferred from ${h.source}).`,
          remedy:
            'Check the provisioning agent service (Microsoft Azure AD Connect Provisioning Agent) on the agent servers, its outbound connectivity, and the agents page in the Entra admin center.',
          facts: [
            { title: 'Last successful run', value: h.lastSuccessfulRun ?? 'never' },
            { title: 'How this is known', value: 'app-only Graph cannot list agents: job status, quarantine reasons and provisioning logs' },
          ],
        },
        true,
        `configuration:${m.domain.toLowerCase()}`,
      );
    }
    await cx.resolveExcept(m, scopes);
  },
};
