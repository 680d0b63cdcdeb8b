import type { MonitorCheck } from './check.js';

/** The Connect Sync scheduler: off too long (the 7-day delta limit, or left off when no step expects it), or staging mode. */
export const scheduler: MonitorCheck = {
  key: 'scheduler',
  phase: 'main',
  schedule: 'health',
  async run(m, cx) {
    // How long the scheduler has been off comes from cutover's records of the step that stopped it: Connect keeps no
    // such time (Get-ADSyncScheduler has no "disabled since"). Off with no migration holding it: since first seen off.
    const held = await cx.once(`scheduler-held|${m.id}`, () => cx.engine.schedulerHold(m.id));
    const s = await cx.once(`scheduler|${m.tenantId}`, () => cx.ports.scheduler(m));
    const now = cx.clock.now();
    const scopes: string[] = [];
    const heldByAny = held ?? (await cx.once(`scheduler-held-tenant|${m.tenantId}`, () => cx.engine.schedulerHeldInTenant(m.tenantId)));
    const seenOff = await cx.once(
      `scheduler-seen-off|${m.tenantId}`,
      () => cx.ports.schedulerSeenOff?.(m.tenantId, !s.syncCycleEnabled && !heldByAny, now) ?? Promise.resolve(null),
    );
    const disabledSince = s.syncCycleEnabled ? null : (held?.since ?? heldByAny?.since ?? seenOff);
    if (!s.syncCycleEnabled && disabledSince) {
      const off = now.getTime() - disabledSince.getTime();
      const weekLimit = 7 * 24 * 3_600_000;
      const since = disabledSince.toISOString();
      const source = held || heldByAny ? `stopped by cutover ("${(held ?? heldByAny)!.stepTitle}")` : 'first seen off by the monitor (not stopped by cutover)';
      // Connect disabled on purpose (service stopped too) is the soak: a rollback then needs a full sync, said on its card.
      if (off >= weekLimit - 24 * 3_600_000 && !(held ?? heldByAny)?.serviceStopped) {
        scopes.push('seven-day');
        await cx.raise(m, 'seven-day', {
          severity: 'critical',
          title: 'Connect Sync scheduler off for nearly 7 days',
          summary: `The scheduler has been disabled since ${since} (${source}). A delta sync must happen within 7 days of the last one, or a full sync is needed.`,
          remedy: 'Finish the current step and start the scheduler, or run a delta cycle (Start-ADSyncSyncCycle -PolicyType Delta).',
          facts: [
            { title: 'Disabled since', value: since },
            { title: 'Source', value: source },
          ],
        });
      } else if (!heldByAny && off >= cx.settings.schedulerDisabledMs) {
        scopes.push('left-disabled');
        await cx.raise(m, 'left-disabled', {
          severity: 'warning',
          title: 'Connect Sync scheduler left disabled',
          summary: `The scheduler has been disabled since ${since} (${source}), but no step of this migration expects it off now.`,
          remedy: "Start it (Set-ADSyncScheduler -SyncCycleEnabled $true) or run the runbook's start-scheduler step.",
          facts: [
            { title: 'Disabled since', value: since },
            { title: 'Source', value: source },
          ],
        });
      }
    }
    if (s.stagingModeEnabled && m.kind === 'connect-to-cloud-sync') {
      scopes.push('staging');
      await cx.raise(m, 'staging', {
        severity: 'warning',
        title: 'Connect Sync server is in staging mode',
        summary: 'This runbook does not expect staging mode: Connect Sync exports nothing while it is on.',
        remedy: 'Check whether the wizard was used to enable staging mode by mistake.',
        facts: [{ title: 'StagingModeEnabled', value: 'True' }],
      });
    }
    await cx.resolveExcept(m, scopes);
  },
};
