/**
 * Judgements over what app-only Graph can read: agent health without the agents endpoint, whether a provision-on-demand
 * matched an existing Entra object, and which AD objects a Cloud Sync job has taken. Pure functions: the client reads,
 * these decide, so the runbook and the monitor share one reading.
 */
import type { ProvisionOnDemandResult, ProvisioningLogEntry, SyncJob } from './types.js';

export const AGENT_HEALTH_SOURCE = 'job status and provisioning logs (app-only: the agents endpoint needs delegated permissions)' as const;

export interface AgentHealth {
  verdict: 'healthy' | 'unhealthy' | 'unknown';
  reasons: string[];
  /** ISO time the job last completed a successful run, or null. */
  lastSuccessfulRun: string | null;
  source: typeof AGENT_HEALTH_SOURCE;
}

/**
 * Quarantine error codes that mean "no agent could do the work" (Entra reference-error-codes.md, how-to-troubleshoot.md:
 * HybridIdentityServiceNoActiveAgents, HybridIdentityServiceNoAgentsAssigned, HybridIdentityServiceAgentsUnreachable…).
 */
const AGENT_ERROR = /^HybridIdentityService(NoActiveAgents|NoAgentsAssigned|AgentsUnreachable|AgentDown|NoAgent)/i;

/** ISO 8601 duration (PT2M, PT40M, P1D…) in ms; null when unreadable. */
export function durationMs(v: string | null | undefined): number | null {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(v ?? '');
  if (!m || v === 'P' || v === 'PT') return null;
  const [, d, h, mi, s] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(mi ?? 0)) * 60_000 + Number(s ?? 0) * 1000;
}

/**
 * Infers whether the provisioning agents serving a job work, from what app-only credentials can read:
 * - a quarantine whose reason or error code names the agents → unhealthy;
 * - any other quarantine → unhealthy (the job does not run, so agents are not proven);
 * - a paused/disabled job or one that never ran → unknown (nothing exercised the agents);
 * - the last successful run older than `staleAfterMs` (default: 3 schedule intervals, at least 2 h) → unhealthy;
 * - agent errors in the recent provisioning logs → unhealthy; otherwise healthy.
 */
export function inferAgentHealth(job: SyncJob, recentLogs: ProvisioningLogEntry[], now: Date, opts: { staleAfterMs?: number } = {}): AgentHealth {
  const reasons: string[] = [];
  const s = job.status;
  const lastOk = s.lastSuccessfulExecution?.timeEnded ?? null;
  const out = (verdict: AgentHealth['verdict']): AgentHealth => ({
    verdict,
    reasons,
    lastSuccessfulRun: lastOk ? lastOk.toISOString() : null,
    source: AGENT_HEALTH_SOURCE,
  });
  const q = s.quarantine;
  if (q || s.code === 'Quarantine') {
    const code = q?.error?.code ?? '';
    const reason = q?.reason ?? 'Unknown';
    if (AGENT_ERROR.test(code) || AGENT_ERROR.test(reason))
      reasons.push(
        `The job is in quarantine because no provisioning agent could run it: ${code || reason}${q?.error?.message ? ` (${q.error.message})` : ''}.`,
      );
    else reasons.push(`The job is in quarantine (${reason}${code ? `, ${code}` : ''}); the agents cannot be judged until it runs.`);
    return out('unhealthy');
  }
  if (job.schedule.state !== 'Active') {
    reasons.push(`The job is ${job.schedule.state.toLowerCase()}: no cycle exercises the agents.`);
    return out('unknown');
  }
  if (!s.lastExecution) {
    reasons.push('The job has not completed a cycle yet.');
    return out('unknown');
  }
  const interval = durationMs(job.schedule.interval) ?? 40 * 60_000;
  const stale = opts.staleAfterMs ?? Math.max(3 * interval, 2 * 3_600_000);
  if (!lastOk) reasons.push('The job has never completed a successful cycle.');
  else if (now.getTime() - lastOk.getTime() > stale)
    reasons.push(`No successful cycle since ${lastOk.toISOString()} (more than ${Math.round(stale / 60_000)} minutes).`);
  const agentFailures = recentLogs.filter((l) => l.status === 'failure' && AGENT_ERROR.test(l.errorCode ?? ''));
  if (agentFailures.length) reasons.push(`${agentFailures.length} recent provisioning-log failure(s) name the agents (${agentFailures[0].errorCode}).`);
  if (reasons.length) return out('unhealthy');
  reasons.push(`The last cycle succeeded at ${lastOk!.toISOString()} (state ${s.lastExecution.state}).`);
  return out('healthy');
}

export interface OnDemandJudgement {
  /** Only true when Cloud Sync matched an existing Entra object and did not create one. */
  ok: boolean;
  matched: boolean;
  action: string | null;
  message: string;
}

/**
 * A provision-on-demand counts as success only when it matched an existing Entra object: a Success or a RedundantExport
 * Skipped whose action is Update/Other. A Create means Cloud Sync found no Entra object with the source anchor and made
 * a new one: for a migration that is a duplicate of the user Connect Sync synced, so it fails.
 */
export function judgeProvisionOnDemand(r: ProvisionOnDemandResult): OnDemandJudgement {
  const action = r.action;
  const exportStep = r.steps.find((s) => s.type.toLowerCase() === 'export');
  const created = (action ?? '').toLowerCase() === 'create' || exportStep?.name === 'EntryExportAdd';
  const redundant = r.result === 'Skipped' && (r.details as any)?.errorCode === 'RedundantExport';
  if (created) {
    return {
      ok: false,
      matched: false,
      action,
      message:
        `Cloud Sync found no Microsoft Entra object with this object's source anchor and CREATED one (${r.targetId ?? 'new object'}): ` +
        'a duplicate of the object Connect Sync synced. Check the source anchor (ms-DS-ConsistencyGuid) before enabling Cloud Sync.',
    };
  }
  if (r.result === 'Success' || redundant) {
    return {
      ok: true,
      matched: true,
      action,
      message: `Matched the existing Microsoft Entra object ${r.targetId ?? ''}`.trim() + (redundant ? ' (nothing to change).' : ` (${action ?? 'Update'}).`),
    };
  }
  const d = r.details as any;
  return {
    ok: false,
    matched: false,
    action,
    message: `Provision on demand: ${r.result}${d?.errorCode ? ` (${d.errorCode}${d.reason ? `: ${d.reason}` : ''})` : ''}.`,
  };
}

export type CloudSyncOutcome =
  | { objectGUID: string; outcome: 'taken'; action: string; at: string }
  | { objectGUID: string; outcome: 'failed'; action: string | null; at: string; errorCode: string | null; reason: string | null }
  | { objectGUID: string; outcome: 'skipped'; action: string | null; at: string; reason: string | null }
  | { objectGUID: string; outcome: 'deleted'; action: string; at: string }
  | { objectGUID: string; outcome: 'not-seen' };

/** The latest outcome per objectGUID from log entries read newest first (the first entry seen for a GUID wins). */
export function outcomesFromLogs(objectGUIDs: string[], newestFirst: ProvisioningLogEntry[]): CloudSyncOutcome[] {
  const wanted = new Map(objectGUIDs.map((g) => [g.toLowerCase(), g]));
  const found = new Map<string, CloudSyncOutcome>();
  for (const e of newestFirst) {
    const key = e.sourceId?.toLowerCase();
    if (!key || !wanted.has(key) || found.has(key)) continue;
    const objectGUID = wanted.get(key)!;
    const at = e.activityDateTime?.toISOString() ?? '';
    const action = e.action;
    if (e.status === 'failure') found.set(key, { objectGUID, outcome: 'failed', action, at, errorCode: e.errorCode, reason: e.errorReason });
    else if (e.status === 'skipped') found.set(key, { objectGUID, outcome: 'skipped', action, at, reason: e.errorReason });
    else if (e.status === 'success' && (action === 'delete' || action === 'stagedDelete' || action === 'disable'))
      found.set(key, { objectGUID, outcome: 'deleted', action, at });
    else if (e.status === 'success' || e.status === 'warning') found.set(key, { objectGUID, outcome: 'taken', action: action ?? 'other', at });
  }
  return objectGUIDs.map((g) => found.get(g.toLowerCase()) ?? { objectGUID: g, outcome: 'not-seen' as const });
}
