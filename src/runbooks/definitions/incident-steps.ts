import { normalizeResetScope } from '../../graph/index.js';
import type { IncidentStepKey, MigrationContext, StepDefinition } from '../types.js';

/**
 * Steps the monitor's incidents add to a running migration (any runbook), approved like any change: a quarantine alert
 * offers Restart, and the restart is this step, requested by whoever clicked and approved by the migration's owners.
 */

/** What a restart step is given: the incident, the job, and the reset scope its quarantine reason needs. */
export interface RestartJobParams {
  alertId: string;
  jobId: string;
  resetScope: string;
  reason: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** The reset scopes that lift a quarantine (QuarantineState, or Full which holds it; ForceDeletes for TooManyDeletes). */
const LIFTS = ['QuarantineState', 'Full', 'ForceDeletes'];

/** Checks a restart step's parameters: ids of the shape Graph and cutover use, a reset scope that lifts the quarantine. */
export function restartJobParams(raw: Record<string, unknown>): { ok: true; params: RestartJobParams } | { ok: false; reason: string } {
  const { alertId, jobId, resetScope, reason } = raw;
  if (typeof alertId !== 'string' || !ID.test(alertId)) return { ok: false, reason: 'The alert id is not valid.' };
  if (typeof jobId !== 'string' || !ID.test(jobId)) return { ok: false, reason: 'The Cloud Sync job id is not valid.' };
  if (typeof reason !== 'string' || !/^[A-Za-z]{1,60}$/.test(reason)) return { ok: false, reason: 'The quarantine reason is not valid.' };
  let scope: string;
  try {
    scope = normalizeResetScope(typeof resetScope === 'string' ? resetScope : '');
  } catch (e: any) {
    return { ok: false, reason: `The reset scope is not valid: ${e?.message ?? e}.` };
  }
  const flags = scope.split(', ');
  if (!flags.some((f) => LIFTS.includes(f)))
    return {
      ok: false,
      reason: `A restart with resetScope "${scope}" would leave the job in quarantine: it needs QuarantineState (or ForceDeletes for held deletes).`,
    };
  return { ok: true, params: { alertId, jobId, resetScope: scope, reason } };
}

/** What a restart does, in words, by its reset scope (Microsoft's synchronizationJobRestartScope flags). */
function restartEffect(c: MigrationContext): string {
  const p = restartJobParams(c.params ?? {});
  if (!p.ok) return `Nothing can run: ${p.reason}`;
  const { jobId, resetScope } = p.params;
  const flags = resetScope.split(', ');
  if (flags.includes('ForceDeletes')) {
    return `Cloud Sync's job ${jobId} for ${c.domain} restarts and lets through the deletes it held at the accidental-delete threshold (ForceDeletes): those objects are deleted from Entra ID at its next cycle.`;
  }
  const parts = [
    (flags.includes('QuarantineState') || flags.includes('Full')) && 'lifts the quarantine',
    (flags.includes('Watermark') || flags.includes('Full')) && 're-evaluates every object in its scope',
    (flags.includes('Escrows') || flags.includes('Full')) && 'retries the objects that failed',
  ].filter(Boolean) as string[];
  const said = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0];
  return `Cloud Sync's job ${jobId} for ${c.domain} restarts (resetScope "${resetScope}"): it ${said}. If the cause of the quarantine remains, the job goes back into quarantine.`;
}

export const INCIDENT_STEPS: (StepDefinition & { key: IncidentStepKey })[] = [
  {
    key: 'restart-quarantined-job',
    title: 'Restart the quarantined Cloud Sync job',
    purpose: 'Restart the Cloud Sync job the monitor found in quarantine, with the reset scope its quarantine reason needs, once its cause is dealt with.',
    warning:
      'Restarting lifts the quarantine; if its cause remains, the job is quarantined again at its next cycle. ForceDeletes lets held deletes through, for good (how-to-troubleshoot.md).',
    source: 'how-to-troubleshoot.md, "Provisioning quarantined problems" ("Restart provisioning"); Graph POST …/jobs/{id}/restart with criteria.resetScope',
    approval: 'change-owners',
    production: true,
    action: { kind: 'graph', operation: 'restart-quarantined-job' },
    evidence: 'The restart sent (job and reset scope), and the job after it: its status, and its quarantine if it has one.',
    effect: restartEffect,
    params: restartJobParams as StepDefinition['params'],
  },
];

export function incidentStep(key: string): StepDefinition | undefined {
  return INCIDENT_STEPS.find((s) => s.key === key);
}
