import type { Migration } from '../../runbooks/engine.js';
import type { AlertContent } from '../alerts.js';
import { DnBucketCache, EntraOuView, hasFindings, LIST_KEYS, LIST_TITLES, reconcileOu, type ReconcileResult } from '../reconcile.js';
import { cardSections, reportRowCount } from '../reports.js';
import { errorText, scopedOus, type CheckContext, type MonitorCheck } from './check.js';

/**
 * Reconciliation per scoped OU (check key 'ou-count'): AD's users under the OU against Entra's synced users
 * placed under it. Alerts when any list is non-empty for `mismatchCycles` consecutive cycles, or
 * `steadyMismatchCycles` once the job reached steady state; resolves when every list is empty again.
 */
export const ouCount: MonitorCheck = {
  key: 'ou-count',
  phase: 'main',
  schedule: 'reconcile',
  async run(m, cx) {
    const ous = await scopedOus(m, cx);
    if (!ous.length) return;
    const jobs = await cx.jobs(m);
    const steady = jobs.some((j) => j.templateId.startsWith('AD2AADProvisioning') && j.steadyStateAchieved);
    const view = await entraView(m.tenantId, cx);
    const need = steady ? Math.max(1, cx.settings.steadyMismatchCycles ?? 1) : Math.max(1, cx.settings.mismatchCycles);
    const active: string[] = [];
    const cleared: string[] = [];
    for (const ou of ous) {
      let result: ReconcileResult;
      try {
        const onPrem = await cx.ports.onPremIdentities(m, ou);
        result = reconcileOu({ ou, onPrem, entra: view.under(ou), tenant: view });
      } catch (err: any) {
        // Unknown this cycle (runner down, export failed): neither count it nor resolve what is open.
        cx.error(m, `${ou}: ${errorText(err)}`);
        active.push(ou);
        continue;
      }
      const holds = hasFindings(result);
      const key = `${m.id}|ou-count|${ou.toLowerCase()}`;
      if (!holds) {
        if ((await cx.once('streaks', () => cx.alerts.streakKeys())).has(key)) cleared.push(key);
        continue;
      }
      const streak = await cx.alerts.streak(key, true);
      active.push(ou); // keep an already-open incident open while the difference persists
      const alert = streak >= need;
      const alertId = await cx.raise(m, ou, reconcileContent(result, { steady, need }), alert);
      if (alertId) {
        await cx.alerts.reports.save({ v: 1, alertId, migrationId: m.id, migrationName: m.name, ou, generatedAt: cx.clock.now().toISOString(), result });
      }
    }
    await cx.alerts.clearStreaks(cleared);
    await cx.resolveExcept(m, active);
  },
};

/**
 * The tenant's synced users bucketed by every OU reconciled in that tenant this cycle: one delta poll, one pass.
 * Kept between cycles (per tenant) while neither the users nor the OUs change.
 */
function entraView(tenantId: string, cx: CheckContext): Promise<EntraOuView> {
  return cx.once(`entra|${tenantId}`, async () => {
    const views = cx.kept as Map<string, { stamp: string; signature: string; view: EntraOuView }>;
    const lists = await Promise.all(cx.migrations.filter((x: Migration) => x.tenantId === tenantId).map((x) => scopedOus(x, cx)));
    const ous = [...new Map(lists.flat().map((o) => [DnBucketCache.signatureOf([o]), o])).entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => o);
    const signature = DnBucketCache.signatureOf(ous);
    const { stamp, users } = await cx.ports.entraUsers(tenantId);
    const cached = views.get(tenantId);
    if (cached && cached.stamp === stamp && cached.signature === signature) return cached.view;
    const view = new EntraOuView(users(), ous, cached?.signature === signature ? cached.view.dnCache : new DnBucketCache(ous));
    views.set(tenantId, { stamp, signature, view });
    return view;
  });
}

/** The alert for one OU's reconciliation: counts per list as facts, the first 20 of each list, the report's size. */
export function reconcileContent(r: ReconcileResult, o: { steady: boolean; need: number }): AlertContent {
  const k = r.counts;
  const diff = k.entra - k.onPrem;
  const lists = LIST_KEYS.filter((key) => r[key].length > 0);
  const remedies: string[] = [];
  if (k.missingInEntra) remedies.push('Missing: read the provisioning logs for those users and the job status; provision one on demand to see the reason.');
  if (k.notOnPrem) remedies.push('In Entra only: check for moves out of the OU and deletes held by the accidental-delete threshold.');
  if (k.duplicates)
    remedies.push(
      'Duplicates: make UPN and mail unique on-premises, or hard-match the existing cloud user (matching immutable id) before the next sync; otherwise a soft match or an AttributeValueMustBeUnique error follows.',
    );
  if (k.drift) remedies.push('Drift: look for export errors on those users in the provisioning logs and check the attribute mappings.');
  if (k.immutableIdMismatch)
    remedies.push(
      'Immutable id: set ms-DS-ConsistencyGuid to the GUID Entra holds (or fix the cloud user) before Cloud Sync takes these users over, or they will be duplicated.',
    );
  return {
    severity: 'warning',
    title: k.onPrem !== k.entra ? `User count mismatch in ${r.ou}` : `Reconciliation differences in ${r.ou}`,
    summary:
      `Active Directory has ${k.onPrem} users in the OU; Entra ID has ${k.entra} synced users whose on-premises DN is in it (${diff > 0 ? '+' : ''}${diff}). ` +
      `Differences: ${lists.map((key) => `${LIST_TITLES[key].replace(/ \(.*\)$/, '').toLowerCase()} ${r[key].length}`).join(', ')}.`,
    remedy: remedies.join(' '),
    facts: [
      { title: 'OU', value: r.ou },
      { title: 'On-premises', value: String(k.onPrem) },
      { title: 'Entra ID', value: String(k.entra) },
      { title: 'Matched', value: String(k.matched) },
      ...LIST_KEYS.map((key) => ({ title: LIST_TITLES[key], value: String(r[key].length) })),
      {
        title: 'Persisted',
        value: o.steady
          ? o.need > 1
            ? `${o.need}+ consecutive checks (job in steady state)`
            : 'job in steady state: alerting at once'
          : `${o.need}+ consecutive checks`,
      },
    ],
    objects: { title: '', lines: [], sections: cardSections(r), report: { rows: reportRowCount(r) } },
  };
}
