import type { MonitorCheck } from './check.js';

/** Each documented quarantine reason: a plain cause and Microsoft's remedy. */
export const QUARANTINE_REASONS: Record<string, { cause: string; remedy: string; resetScope: string }> = {
  EncounteredBaseEscrowThreshold: {
    cause: 'Too many objects failed to provision (the escrow count passed its base threshold).',
    remedy: 'Read the provisioning logs for the failing objects, fix them, then restart the job clearing the quarantine (Watermark, Escrows, QuarantineState).',
    resetScope: 'Watermark, Escrows, QuarantineState',
  },
  EncounteredTotalEscrowThreshold: {
    cause: 'The total number of failed objects passed the threshold (over 40,000).',
    remedy: 'Fix the failing objects shown in the provisioning logs, then restart clearing escrows and quarantine.',
    resetScope: 'Watermark, Escrows, QuarantineState',
  },
  EncounteredEscrowProportionThreshold: {
    cause: 'More than 40% of the objects in scope failed to provision.',
    remedy: 'Usually a systemic cause (credentials, agent, mappings): fix it, then restart clearing escrows and quarantine.',
    resetScope: 'Watermark, Escrows, QuarantineState',
  },
  EncounteredQuarantineException: {
    cause: 'A critical error stopped the job (for example invalid credentials or no active agent).',
    remedy: 'Check the quarantine error code: repair the sync account (Repair-AADCloudSyncToolsAccount) or the agent, then restart.',
    resetScope: 'Watermark, Escrows, QuarantineState',
  },
  QuarantinedOnDemand: {
    cause: 'An administrator quarantined the job on purpose.',
    remedy: 'Restart the job when the reason is resolved.',
    resetScope: 'QuarantineState',
  },
  TooManyDeletes: {
    cause: 'The job would delete more objects than the accidental-delete threshold allows, so it holds the deletes.',
    remedy:
      'Check whether the deletes are intended (scope changes, OU moves). If they are, allow them (restart with ForceDeletes, approval-gated); if not, fix the scope and restart.',
    resetScope: 'ForceDeletes',
  },
  IngestionInterrupted: {
    cause: 'Import from Active Directory was interrupted.',
    remedy: 'Check agent connectivity to the domain controllers, then restart.',
    resetScope: 'Watermark, Escrows, QuarantineState',
  },
  Unknown: {
    cause: 'The service did not give a reason.',
    remedy: 'Read the provisioning logs and agent trace (Export-AADCloudSyncToolsLogs), then restart.',
    resetScope: 'Watermark, Escrows, QuarantineState',
  },
};

/** The subject of a Cloud Sync job's incidents: every migration whose configuration runs the job shares them. */
export function jobSubject(jobId: string): string {
  return `job:${jobId}`;
}

/** Cloud Sync job health: quarantine (with the restart its reason needs) and repeated complete failures. */
export const jobHealth: MonitorCheck = {
  key: 'job-health',
  phase: 'first',
  schedule: 'jobs',
  async run(m, cx) {
    const jobs = await cx.jobs(m);
    const active: string[] = [];
    for (const j of jobs) {
      if (j.code === 'Quarantine' && j.quarantine) {
        const info = QUARANTINE_REASONS[j.quarantine.reason] ?? QUARANTINE_REASONS.Unknown;
        active.push(j.id);
        const reason = QUARANTINE_REASONS[j.quarantine.reason] ? j.quarantine.reason : 'Unknown';
        await cx.raise(
          m,
          j.id,
          {
            severity: 'critical',
            title: `Cloud Sync job quarantined: ${j.quarantine.reason}`,
            summary: info.cause,
            remedy: info.remedy,
            facts: [
              { title: 'Job', value: j.id },
              { title: 'Reason', value: j.quarantine.reason },
              ...(j.quarantine.error ? [{ title: 'Error', value: `${j.quarantine.error.code}: ${j.quarantine.error.message}` }] : []),
              { title: 'Since', value: j.quarantine.currentBegan ?? '—' },
              { title: 'Next attempt', value: j.quarantine.nextAttempt ?? '—' },
              { title: 'Times in this series', value: String(j.quarantine.seriesCount ?? 1) },
              { title: 'Restart with', value: `resetScope "${info.resetScope}" (approval required)` },
            ],
            // The card offers the restart its reason needs, as a step the change owners approve.
            action: { kind: 'restart-job', jobId: j.id, resetScope: info.resetScope, reason },
          },
          true,
          jobSubject(j.id),
        );
      } else if (j.countSuccessiveCompleteFailures >= 3) {
        active.push(j.id);
        await cx.raise(
          m,
          j.id,
          {
            severity: 'warning',
            title: `Cloud Sync job failing: ${j.countSuccessiveCompleteFailures} complete failures in a row`,
            summary: 'The job is not in quarantine yet, but its last cycles all failed.',
            remedy: 'Read the provisioning logs (failures first) and the agent trace.',
            facts: [
              { title: 'Job', value: j.id },
              { title: 'Last execution', value: `${j.lastExecutionState ?? '—'} at ${j.lastExecutionEnded ?? '—'}` },
            ],
          },
          true,
          jobSubject(j.id),
        );
      }
    }
    await cx.resolveExcept(m, active);
  },
};
