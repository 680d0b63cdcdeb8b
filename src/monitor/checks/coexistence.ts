import { batchOusWhere } from '../../runbooks/catalog.js';
import { describeConnectScope, ouInConnectScope } from '../../runbooks/connect-scope.js';
import type { MonitorCheck } from './check.js';

/** During coexistence: an OU whose no-flow rules are in place must stay in Connect Sync's scope until cutover. */
export const coexistence: MonitorCheck = {
  key: 'coexistence',
  phase: 'main',
  schedule: 'reconcile',
  async run(m, cx) {
    const steps = await cx.steps(m);
    const ous = batchOusWhere(m, steps, 'ouNoFlowRules');
    if (!ous.length) return;
    const scope = await cx.once(`connector-scope|${m.tenantId}`, () => cx.ports.connectorScope(m));
    // Inclusions, exclusions, partition selection and group filtering: in the usual "domain root included" shape an
    // OU that leaves scope shows up only as an exclusion.
    const verdicts = ous.map((ou) => ({ ou, v: ouInConnectScope(scope, ou) }));
    const out = verdicts.filter((x) => !x.v.inScope).map((x) => x.ou);
    for (const { ou, v } of verdicts) {
      if (v.inScope) continue;
      await cx.raise(m, ou, {
        severity: 'critical',
        title: `${ou} was removed from Connect Sync scope before cutover`,
        summary: `${v.detail}. Removing objects from Connect Sync scope during coexistence can drop references in the Entra connector space and export reference deletes (group membership removals) to Entra ID (seed 001).`,
        remedy:
          "Put the OU back in the AD connector's scope in the Connect wizard before the next sync cycle, and keep the scheduler stopped until it is back.",
        facts: [
          { title: 'OU', value: ou },
          { title: 'Connect scope', value: describeConnectScope(scope) || '(empty)' },
        ],
      });
    }
    await cx.resolveExcept(m, out);
  },
};
