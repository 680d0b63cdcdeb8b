import { isGraphError, jobIsOfTemplate, type SyncJob } from '../graph/index.js';
import type { TenantGraphs } from '../runbooks/graph-actions.js';
import type { Migration } from '../runbooks/engine.js';
import type { MonitoredJob, MonitorPorts } from './monitor.js';
import type { OnPremIdentity } from './reconcile.js';
import type { ConnectScope } from '../runbooks/connect-scope.js';
import { runnerReads, type RunnerRead } from '../runbooks/runner-reads.js';

/**
 * The monitor's view of Graph and the runner, built by the composition root (and the benchmark) from the
 * same parts the runbooks use. Request budget per cycle: one jobs list per migration (the service principal
 * is looked up once and remembered), one users/delta poll per tenant (the monitor asks once per tenant per
 * cycle), one agents list per tenant.
 */
export interface MonitorPortDeps {
  tenants: TenantGraphs;
  /** An awaited, read-only runner action (RunnerGateway.read). */
  runnerRead(tenantId: string, action: string, params: Record<string, unknown>, runnerName?: string): Promise<any>;
  runners: MonitorPorts['runners'];
  /** Where the monitor keeps when it first saw a scheduler off that no migration stopped. */
  kv?: { get(key: string): Promise<string | undefined>; set(key: string, value: string): Promise<void> };
}

export function createMonitorPorts(d: MonitorPortDeps): MonitorPorts {
  // tenant|domain → service principal id: stable for the life of a Cloud Sync configuration.
  const spIds = new Map<string, string>();
  const spKey = (m: Migration) => `${m.tenantId}|${m.domain.toLowerCase()}`;

  async function listJobs(m: Migration): Promise<SyncJob[]> {
    const g = d.tenants.graph(m.tenantId);
    const known = spIds.get(spKey(m));
    if (known) {
      try {
        return await g.listJobs(known);
      } catch (err) {
        if (!(isGraphError(err) && err.status === 404)) throw err;
        spIds.delete(spKey(m)); // the configuration was deleted (or recreated): look it up again
      }
    }
    const sp = await g.findServicePrincipal(m.domain);
    if (!sp) return [];
    spIds.set(spKey(m), sp.id);
    return g.listJobs(sp.id);
  }

  /** A read on the migration's own runner (its Connect server). */
  const read = (m: Migration, r: RunnerRead) => d.runnerRead(m.tenantId, r.action, r.params, m.runnerName ?? undefined);

  return {
    async jobs(m) {
      return (await listJobs(m)).map((j): MonitoredJob => ({
        id: j.id,
        templateId: j.templateId ?? j.id.split('.')[0],
        code: j.status.code,
        quarantine: j.status.quarantine
          ? {
              reason: j.status.quarantine.reason,
              error: j.status.quarantine.error,
              currentBegan: j.status.quarantine.currentBegan?.toISOString(),
              nextAttempt: j.status.quarantine.nextAttempt?.toISOString(),
              seriesCount: j.status.quarantine.seriesCount,
            }
          : null,
        countSuccessiveCompleteFailures: j.status.countSuccessiveCompleteFailures,
        steadyStateAchieved: !!j.status.steadyStateFirstAchievedTime,
        lastExecutionState: j.status.lastExecution?.state ?? null,
        lastExecutionEnded: j.status.lastExecution?.timeEnded?.toISOString() ?? null,
      }));
    },
    async entraUsers(tenantId) {
      const index = d.tenants.index(tenantId);
      const r = await index.refresh();
      // The delta link moves whenever anything changed (also when someone else refreshed the same index).
      return { stamp: `${index.deltaLink ?? ''}|${r.total}|${r.mode === 'full' ? Date.now() : ''}`, users: () => index.all() };
    },
    async onPremIdentities(m, ou) {
      const r = await read(m, runnerReads.ouUsers(ou));
      return (r?.objects ?? []) as OnPremIdentity[];
    },
    async agents(m) {
      const job = (await listJobs(m)).find((j) => jobIsOfTemplate(j, 'AD2AADProvisioning'));
      const spId = spIds.get(spKey(m)); // remembered by listJobs
      return job && spId ? d.tenants.graph(m.tenantId).agentHealth({ servicePrincipalId: spId, jobId: job.id }) : null;
    },
    runners: (tenantId) => d.runners(tenantId),
    async scheduler(m) {
      const s = await read(m, runnerReads.scheduler());
      return { syncCycleEnabled: s.SyncCycleEnabled, stagingModeEnabled: s.StagingModeEnabled };
    },
    async connectorScope(m) {
      return (await read(m, runnerReads.connectorScope())) as ConnectScope;
    },
    async schedulerSeenOff(tenantId, off, now) {
      if (!d.kv) return null;
      const key = `monitor:scheduler-seen-off:${tenantId}`;
      const seen = await d.kv.get(key);
      if (!off) {
        if (seen) await d.kv.set(key, '');
        return null;
      }
      if (seen) return new Date(seen);
      await d.kv.set(key, now.toISOString());
      return now;
    },
  };
}
