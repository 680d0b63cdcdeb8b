import type { Clock } from '../clock.js';
import type { Db } from '../store/db.js';
import { appendAudit } from './audit.js';
import { EngineError, type Migration, type RunbookEngine } from './engine.js';
import { isOwner } from './policy.js';
import type { Person } from './types.js';

/**
 * `cancel <migration>` (issue 15): a change owner ends a migration that will not go on. Nothing runs after it: every
 * step not done is skipped with the reason (so a click on any of its cards, old or new, changes nothing), pending
 * approval-policy changes expire, and the migration is `cancelled`, in one transaction with its audit row.
 *
 * Refused, with the reason, while something is under way that cancelling would strand:
 * - a step is approved or running (its action is on its way or under way: wait for it);
 * - a batch has stopped Connect Sync's scheduler and not started it again (cutover's records: engine.schedulerHold).
 *   Cancelling then would leave the server not synchronizing at all; roll back (or finish the batch) first.
 * Cancelling undoes nothing on the Connect server or in Entra ID: what was done stays done (rollback undoes).
 */

export type CancelEvent = { type: 'migration-cancelled'; migrationId: string; seqs: number[]; policyChanges: number[] };

export type CancelResult =
  | { cancelled: true; migration: Migration; skipped: number }
  /** offerRollback: a rollback is the way out (`rollback <migration> batch=all`). */
  | { cancelled: false; reason: string; offerRollback?: boolean };

const OPEN = ['pending', 'awaiting_approval', 'rejected', 'failed', 'lost'];

export class Cancellations {
  #listeners: ((e: CancelEvent) => void)[] = [];

  constructor(private readonly d: { db: Db; clock: Clock; engine: RunbookEngine; onCancelled?: (m: Migration, actor: Person) => Promise<void> }) {}

  on(l: (e: CancelEvent) => void): void {
    this.#listeners.push(l);
  }

  async cancel(migrationId: string, actor: Person): Promise<CancelResult> {
    const { engine } = this.d;
    const m = await engine.getMigration(migrationId);
    if (!m) throw new EngineError('not-found', 'That migration does not exist.');
    if (m.state !== 'active') return { cancelled: false, reason: `${m.name} is already ${m.state}: nothing was changed.` };
    if (!(await engine.isOwnerNow(m, actor.oid))) {
      return {
        cancelled: false,
        reason:
          m.policy.ownersGroup && !isOwner(m.policy, actor.oid)
            ? `Only a change owner of ${m.name} can cancel it (listed, or a member of its owners group; the group could not confirm you now). Nothing was changed.`
            : `Only a change owner of ${m.name} can cancel it. Nothing was changed.`,
      };
    }
    const steps = await engine.getSteps(m.id);
    const busy = steps.find((s) => s.state === 'running' || s.state === 'approved');
    if (busy)
      return {
        cancelled: false,
        reason: `Step ${busy.seq} (${engine.plannedStep(m, busy).def.title}) is ${busy.state === 'running' ? 'running' : 'approved and about to run'}: cancel when it has ended. Nothing was changed.`,
      };
    const hold = await engine.schedulerHold(m.id);
    if (hold) {
      return {
        cancelled: false,
        offerRollback: true,
        reason: hold.serviceStopped
          ? `${m.name} disabled Connect Sync ("${hold.stepTitle}", ${hold.since.toISOString()}): cancelling would leave it disabled with nothing to take its place. Roll back (\`rollback ${m.name} batch=all\` starts the ADSync service and its scheduler again), or finish the runbook. Nothing was changed.`
          : `${m.name} stopped Connect Sync's scheduler ("${hold.stepTitle}", ${hold.since.toISOString()}) and has not started it again: cancelling now would leave the Connect server not synchronizing at all. Roll back first (\`rollback ${m.name} batch=all\` starts the scheduler again and gives the OUs back to Connect Sync), or finish the batch to "Start the Connect Sync scheduler". Nothing was changed.`,
      };
    }
    const now = this.d.clock.now();
    const out = await this.d.db.transaction(async (tx) => {
      const row = (await tx.query('SELECT state FROM migrations WHERE id = $1 FOR UPDATE', [m.id])).rows[0];
      if (row.state !== 'active') return { ok: false as const, reason: `${m.name} is already ${row.state}: nothing was changed.` };
      // Under the lock, again: a click may have moved a step since the checks above.
      const moving = (await tx.query("SELECT seq FROM steps WHERE migration_id = $1 AND state IN ('running', 'approved') LIMIT 1", [m.id])).rows[0];
      if (moving) return { ok: false as const, reason: `Step ${moving.seq} has just started: cancel when it has ended. Nothing was changed.` };
      const why = `the migration was cancelled by ${actor.name} at ${now.toISOString()}`;
      const skipped = (
        await tx.query(
          `UPDATE steps SET state = 'skipped', evidence = $3, version = version + 1, updated_at = $4, run_after = NULL
            WHERE migration_id = $1 AND state = ANY($2::text[]) RETURNING seq, key`,
          [m.id, OPEN, JSON.stringify({ skipped: why, cancelled: true }), now.toISOString()],
        )
      ).rows as { seq: number; key: string }[];
      const changes = (
        await tx.query(
          "UPDATE policy_changes SET state = 'expired', decided_at = $2, version = version + 1 WHERE migration_id = $1 AND state = 'awaiting_approval' RETURNING id",
          [m.id, now.toISOString()],
        )
      ).rows.map((r: any) => Number(r.id));
      await tx.query("UPDATE migrations SET state = 'cancelled', version = version + 1 WHERE id = $1", [m.id]);
      for (const id of changes)
        await appendAudit(tx, {
          migrationId: m.id,
          at: now,
          actor: null,
          action: 'policy-change-expired',
          details: { changeId: id, reason: 'migration cancelled' },
        });
      await appendAudit(tx, {
        migrationId: m.id,
        at: now,
        actor,
        action: 'migration-cancelled',
        details: { skipped: skipped.map((s) => ({ seq: s.seq, key: s.key })), policyChangesExpired: changes },
      });
      return { ok: true as const, seqs: skipped.map((s) => s.seq).sort((a, b) => a - b), changes };
    });
    if (!out.ok) return { cancelled: false, reason: out.reason };
    const after = (await engine.getMigration(m.id))!;
    await this.d.onCancelled?.(after, actor).catch(() => undefined);
    for (const l of this.#listeners) {
      try {
        l({ type: 'migration-cancelled', migrationId: m.id, seqs: out.seqs, policyChanges: out.changes });
      } catch {
        /* a listener's failure is its own */
      }
    }
    return { cancelled: true, migration: after, skipped: out.seqs.length };
  }
}
