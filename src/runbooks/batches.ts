import { appendAudit } from './audit.js';
import { establishedBy, planBatch, planRollback, runbookOf } from './catalog.js';
import { incidentStep } from './definitions/incident-steps.js';
import { isOwner } from './policy.js';
import type { IncidentStepKey, Person, RollbackNeed, StepState } from './types.js';
import { DnError, domainOfDn, isUnder, normalizeDn, parseDn } from '../dn.js';
import { isStepDone, EngineError, type Migration, type StepRow } from './engine-types.js';
import type { EngineContext } from './engine-context.js';
import { cloudHeldReason, holdOf } from './guards.js';
import { act } from './clicks.js';

/**
 * Steps added to a running migration: an OU batch, a rollback of batches to Connect Sync (with its rollback steps), and
 * a step an incident calls for; and the rule that keeps a migrating OU in Connect Sync's scope.
 */

/** Adds an OU batch to a running migration: its steps go after the last batch's. */
export async function addBatch(cx: EngineContext, migrationId: string, ou: string, actor: Person): Promise<{ batch: number }> {
  const m = await cx.store.migration(migrationId);
  if (!m) throw new EngineError('not-found', 'That migration does not exist.');
  const rb = runbookOf(m.kind);
  if (rb.ous !== 'batches') throw new EngineError('invalid', `A ${rb.title} migration has no OU batches.`);
  if (m.state !== 'active') throw new EngineError('invalid', `${m.name} is ${m.state}.`);
  try {
    if (parseDn(ou)[0].type !== 'ou') throw new EngineError('invalid', `${ou} is not an OU.`);
  } catch (e) {
    if (e instanceof DnError) throw new EngineError('invalid', `"${ou}" is not a valid distinguished name: ${e.message}.`);
    throw e;
  }
  if (domainOfDn(ou) !== m.domain) throw new EngineError('invalid', `${ou} is not in the domain ${m.domain}.`);
  if (m.ous.some((o) => normalizeDn(o) === normalizeDn(ou)))
    throw new EngineError('invalid', `${ou} is already batch ${m.ous.findIndex((o) => normalizeDn(o) === normalizeDn(ou)) + 1}.`);
  const steps = await cx.store.steps(m.id);
  if (steps.some((s) => s.state !== 'pending' && establishedBy(m.kind, s.key).connectDisabled))
    throw new EngineError('invalid', 'Connect Sync is being disabled: no batch can be added now.');
  if (m.cloudHeldOus.length) throw new EngineError('invalid', `${cloudHeldReason(m)} No batch can be added to this migration.`);
  const batch = m.ous.length + 1;
  const nextSeq = Math.max(0, ...steps.map((s) => s.seq)) + 1;
  const rows = planBatch(rb, batch, nextSeq);
  const now = cx.clock.now();
  await cx.store.transaction(async (tx) => {
    await cx.store.lockMigration(tx, m.id);
    await cx.store.setOus(tx, m.id, [...m.ous, ou.trim()]);
    for (const r of rows) await cx.store.insertStep(tx, m.id, { ...r, state: 'pending' }, now);
    await appendAudit(tx, { migrationId: m.id, at: now, actor, action: 'batch-added', details: { batch, ou, steps: rows.map((r) => r.key) } });
  });
  for (const r of rows) cx.emit({ type: 'step-changed', migrationId: m.id, seq: r.seq });
  return { batch };
}

/**
 * Rolls batches back to Connect Sync (seed 002's rollback), from any state: their remaining steps are skipped and
 * the runbook's rollback steps (approved and audited like any change) are added after them. `batch` is one batch,
 * or 'all' for every batch not rolled back yet. Rolling back one batch while another stays on Cloud Sync is refused:
 * pausing the configuration would stop the others too, and taking only this OU out of Cloud Sync's scope deletes its
 * objects (Microsoft documents no way that does not).
 */
export async function startRollback(cx: EngineContext, migrationId: string, batch: number | 'all', actor: Person): Promise<{ steps: number[]; ous: string[] }> {
  const m = await cx.store.migration(migrationId);
  if (!m) throw new EngineError('not-found', 'That migration does not exist.');
  const rb = runbookOf(m.kind);
  if (!rb.rollbackSteps?.length) throw new EngineError('invalid', `A ${rb.title} migration has no rollback runbook.`);
  if (m.state !== 'active') throw new EngineError('invalid', `${m.name} is ${m.state}.`);
  if (batch !== 'all' && (!Number.isInteger(batch) || batch < 1 || batch > m.ous.length)) throw new EngineError('invalid', `${m.name} has no batch ${batch}.`);
  if (!(await cx.isOwnerNow(m, actor.oid)))
    throw new EngineError(
      'invalid',
      m.policy.ownersGroup && !isOwner(m.policy, actor.oid)
        ? 'Only a change owner can start a rollback (listed, or a member of the owners group; the group could not be confirmed for you now).'
        : 'Only a change owner can start a rollback.',
    );
  const steps = await cx.store.steps(m.id);
  const rolledBack = new Set(m.rolledBackOus.map(normalizeDn));
  const active = m.ous.map((ou, i) => ({ ou, batch: i + 1 })).filter((b) => !rolledBack.has(normalizeDn(b.ou)));
  const chosen = batch === 'all' ? active : active.filter((b) => b.batch === batch);
  if (!chosen.length)
    throw new EngineError('conflict', batch === 'all' ? `${m.name} has no batch left to roll back.` : `Batch ${batch} was already rolled back.`);
  const chosenBatches = new Set(chosen.map((b) => b.batch));
  // An OU is on Cloud Sync once its configure step added it to the configuration's scope.
  const onCloud = active.filter((b) => steps.some((s) => s.batch === b.batch && s.state === 'succeeded' && establishedBy(m.kind, s.key).ouOnCloudSync));
  const staying = onCloud.filter((b) => !chosenBatches.has(b.batch));
  if (staying.length) {
    throw new EngineError(
      'conflict',
      `Batch ${batch} cannot be rolled back alone: ${staying.map((b) => `batch ${b.batch} (${b.ou})`).join(', ')} ${staying.length > 1 ? 'are' : 'is'} on Cloud Sync too. ` +
        "Disabling the Cloud Sync configuration stops every batch on it, and taking only this OU out of Cloud Sync's scope deletes its objects from Entra ID (security groups for good): Microsoft documents no way that does not. " +
        `Roll back every batch with \`rollback ${m.name} batch=all\`, or fix forward.`,
    );
  }
  const busy = steps.find((s) => s.batch !== null && chosenBatches.has(s.batch) && (s.state === 'running' || s.state === 'approved'));
  if (busy) throw new EngineError('conflict', `A step of batch ${busy.batch} is running (${cx.plannedStep(m, busy).def.title}); roll back when it has ended.`);
  const last = Math.max(...chosen.map((b) => b.batch));
  const nextSeq = Math.max(0, ...steps.map((s) => s.seq)) + 1;
  const rows = planRollback(rb, last, nextSeq);
  const now = cx.clock.now();
  const cancelled = steps.filter((s) => s.batch !== null && chosenBatches.has(s.batch) && !isStepDone(s));
  const held = onCloud.filter((b) => chosenBatches.has(b.batch)).map((b) => b.ou);
  // Steps that have nothing to do: no OU on Cloud Sync to pause; a scheduler this migration never stopped.
  const schedulerOff = holdOf(cx, m, steps);
  const nothingToDo: Record<RollbackNeed, string | null> = {
    'ou-on-cloud-sync': held.length ? null : "None of the rolled-back OUs is in Cloud Sync's configuration yet: nothing to disable.",
    'scheduler-held': schedulerOff ? null : 'This migration left the Connect Sync scheduler running: nothing to start.',
  };
  const skip = new Map<string, string>();
  for (const r of rows) {
    const why = r.def.rollbackNeeds && nothingToDo[r.def.rollbackNeeds];
    if (why) skip.set(r.key, why);
  }
  await cx.store.transaction(async (tx) => {
    await cx.store.lockMigration(tx, m.id);
    for (const s of cancelled) await cx.store.skipStep(tx, m.id, s.seq, { skipped: `batch ${s.batch} is being rolled back` }, now);
    for (const r of rows) {
      const why = skip.get(r.key);
      await cx.store.insertStep(tx, m.id, { ...r, state: why ? 'skipped' : 'pending', evidence: why ? { skipped: why } : null }, now);
    }
    await cx.store.mergeParams(tx, m.id, { rolledBackOus: [...m.rolledBackOus, ...chosen.map((b) => b.ou)], cloudHeldOus: [...m.cloudHeldOus, ...held] });
    await appendAudit(tx, {
      migrationId: m.id,
      at: now,
      actor,
      action: 'rollback-started',
      details: {
        batches: [...chosenBatches],
        ous: chosen.map((b) => b.ou),
        heldByCloudSync: held,
        skipped: cancelled.map((s) => s.key),
        steps: rows.map((r) => r.key),
        skippedRollbackSteps: Object.fromEntries(skip),
      },
    });
  });
  for (const s of cancelled) cx.emit({ type: 'step-changed', migrationId: m.id, seq: s.seq });
  for (const r of rows) cx.emit({ type: 'step-changed', migrationId: m.id, seq: r.seq });
  return { steps: rows.map((r) => r.seq), ous: chosen.map((b) => b.ou) };
}

// ---------------------------------------------------------------- steps an incident adds

/**
 * Adds a step an incident calls for (a quarantined job's restart) to a running migration, and asks its approval on
 * behalf of `actor` (who clicked). It goes before the first step not done yet: the runbook waits for it (it is the
 * migration's next thing to do), and nothing before it holds it up. One at a time per incident: while one is not done
 * (or skipped), asking again answers with it and changes nothing.
 */
export async function addIncidentStep(
  cx: EngineContext,
  migrationId: string,
  key: IncidentStepKey,
  raw: Record<string, unknown>,
  actor: Person,
): Promise<{ step: StepRow; added: boolean; notice?: string }> {
  const m = await cx.store.migration(migrationId);
  if (!m) throw new EngineError('not-found', 'That migration does not exist.');
  if (m.state !== 'active') throw new EngineError('invalid', `${m.name} is ${m.state}: no step can be added to it. Nothing was changed.`);
  const def = incidentStep(key);
  if (!def?.params) throw new EngineError('invalid', `There is no incident step "${key}".`);
  const checked = def.params(raw);
  if (!checked.ok) throw new EngineError('invalid', `${checked.reason} Nothing was changed.`);
  const alertId = String(checked.params.alertId ?? '');
  const now = cx.clock.now();
  const out = await cx.store.transaction(async (tx): Promise<{ added: false; step: StepRow } | { added: true; seq: number }> => {
    await cx.store.lockMigration(tx, m.id);
    const live = await cx.store.liveIncidentStep(tx, m.id, key, alertId);
    if (live) return { added: false, step: live };
    const steps = await cx.store.stepOrder(tx, m.id);
    const next = steps.find((x) => !isStepDone(x));
    const earlier = next ? steps.filter((x) => x.ord < next.ord).map((x) => x.ord) : [];
    const ord = next ? ((earlier.length ? Math.max(...earlier) : 0) + next.ord) / 2 : Math.max(0, ...steps.map((x) => x.ord)) + 1;
    const seq = Math.max(0, ...steps.map((x) => x.seq)) + 1;
    await cx.store.insertStep(tx, m.id, { seq, ord, key, batch: null, state: 'pending', params: checked.params }, now);
    await appendAudit(tx, { migrationId: m.id, at: now, actor, action: 'incident-step-added', stepSeq: seq, details: { key, params: checked.params } });
    return { added: true, seq };
  });
  if (!out.added) return { step: out.step, added: false };
  cx.emit({ type: 'step-changed', migrationId: m.id, seq: out.seq });
  // A new row is at version 0; the request is the clicker's, approved by the owners like any change.
  const asked = await act(cx, { verb: 'request', migrationId: m.id, seq: out.seq, version: 0, actor });
  return { step: (await cx.store.step(m.id, out.seq))!, added: true, ...(asked.changed ? {} : { notice: asked.notice }) };
}

/** The steps added for an incident (by its alert id), in every migration, the latest last. */
export async function incidentSteps(cx: EngineContext, alertId: string): Promise<{ migration: Migration; step: StepRow }[]> {
  const rows = await cx.store.incidentSteps(alertId);
  const out: { migration: Migration; step: StepRow }[] = [];
  for (const step of rows) {
    const migration = await cx.store.migration(step.migrationId);
    if (migration) out.push({ migration, step });
  }
  return out;
}

/**
 * The incident resolved: the steps added for it that have not run (waiting, rejected, or failed) are skipped with the
 * reason, so the runbook does not wait for a remedy nobody needs any more. A step approved or running is left to end.
 */
export async function settleIncidentSteps(cx: EngineContext, alertId: string, reason: string): Promise<number[]> {
  const settled: number[] = [];
  const open: StepState[] = ['pending', 'awaiting_approval', 'rejected', 'failed'];
  for (const { migration, step } of await incidentSteps(cx, alertId)) {
    if (migration.state !== 'active' || !open.includes(step.state)) continue;
    if (
      await cx.transition(
        migration.id,
        step.seq,
        open,
        { state: 'skipped', evidence: { ...(step.evidence ?? {}), skipped: reason } },
        { action: 'step-skipped', details: { reason, alertId } },
      )
    )
      settled.push(step.seq);
  }
  return settled;
}

/**
 * Taking an OU out of Connect Sync's scope during coexistence exports deletes (seed 001): refused with the
 * reason while any active migration is moving that OU and has not decommissioned Connect.
 */
export async function connectScopeRemovalBlocker(cx: EngineContext, ou: string, tenantId?: string): Promise<string | null> {
  for (const m of await cx.store.listMigrations(null, 'active')) {
    if (tenantId && m.tenantId !== tenantId) continue; // another customer's forest, even if its domain name is the same
    if (runbookOf(m.kind).ous !== 'batches') continue;
    const hit = m.ous.find((o) => isUnder(o, ou) || isUnder(ou, o));
    if (!hit) continue;
    const steps = await cx.store.steps(m.id);
    if (steps.some((s) => s.state === 'succeeded' && establishedBy(m.kind, s.key).connectDecommissioned)) continue;
    return `${ou} is being migrated by "${m.name}" (batch ${m.ous.indexOf(hit) + 1}: ${hit}). During the pilot or coexistence phase, don't remove OUs from Connect Sync scope: removing objects from scope before final cutover can drop references in the Entra connector space and export reference deletes (such as group membership removals) to Entra ID (seed 001). Keep it in scope until the migration is complete.`;
  }
  return null;
}
