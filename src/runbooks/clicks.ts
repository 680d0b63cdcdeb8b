import { appendAudit, canonicalJson, sha256 } from './audit.js';
import { directOwners, evaluate, isOwner, mayDecide, requiredQuorum, type ApprovalRecord, type OwnerSet } from './policy.js';
import { OwnersGroupUnavailable } from './owners.js';
import type { PlannedStep, StepState } from './types.js';
import { effectEvidenceKeys } from './effects.js';
import { progressOf, stepSnapshot, type StepSnapshot } from './snapshot.js';
import { isStepDone, EngineError, STALE_NOTICE, type ActInput, type ActResult, type Migration, type StepPlan, type StepRow } from './engine-types.js';
import { awaitingOperator, type EngineContext } from './engine-context.js';
import { checkGuards } from './guards.js';
import { planFor } from './plans.js';
import { startAction, verifyOperatorStep } from './step-runs.js';

/**
 * The click state machine: request, approve, reject, retry, done and mark-done on a step card, each one transaction
 * with its audit row; a click on a stale card changes nothing and is answered with the step as it is. Also the
 * approval requests weighed again after the approval policy changed.
 */

/**
 * One click on a step card. Never throws for a user's mistake: the notice says what happened. `before`: the step as
 * the click's card was checked against, read just now (the bot reads one snapshot per click); read here otherwise.
 * The result carries the step as the click left it (the transaction returns what it read and wrote), and so does the
 * step-changed event, so neither the clicker's card nor the channel's needs another read.
 */
export async function act(cx: EngineContext, input: ActInput, opts: { before?: StepSnapshot } = {}): Promise<ActResult> {
  const before = opts.before ?? (await stepSnapshot(cx, input.migrationId, input.seq));
  if (!before) {
    const m = await cx.store.migration(input.migrationId);
    throw new EngineError('not-found', m ? `Step ${input.seq} does not exist in ${m.name}.` : 'That migration does not exist (any more).');
  }
  const m = before.migration;
  if (m.state === 'cancelled')
    return { changed: false, notice: `${m.name} was cancelled: none of its steps runs any more, and nothing was changed.`, snapshot: before };
  const planned = cx.plannedStep(m, before.step);
  // A decision from a card whose request has ended (decided, expired, or a later attempt) stays stale whatever
  // happens next: attempts only grow, and an attempt waits for approval once. Answer it without the owner lookup
  // and the transaction (under load most clicks are on old cards). The transaction re-checks everything else.
  if (
    (input.verb === 'approve' || input.verb === 'reject') &&
    (before.step.attempt > (input.attempt ?? before.step.attempt) || (before.step.attempt === input.attempt && before.step.state !== 'awaiting_approval'))
  ) {
    return { changed: false, notice: STALE_NOTICE, snapshot: before };
  }

  // Precondition checks that talk to other systems run before the transaction (never hold it across I/O).
  let plan: StepPlan | null = null;
  if ((input.verb === 'request' || input.verb === 'retry') && input.version === before.step.version) {
    // A refusal after these reads (the runner's answers take time) shows the step as it is by then.
    const refuse = async (notice: string): Promise<ActResult> => ({ changed: false, notice, snapshot: (await stepSnapshot(cx, m.id, input.seq)) ?? before });
    const gate = await sequenceGate(cx, m, planned);
    if (gate) return refuse(gate);
    try {
      await cx.runnerOf(m); // plans and guards read the migration's own Connect server
    } catch (e) {
      if (e instanceof EngineError) return refuse(`${e.message} Nothing was changed.`);
      throw e;
    }
    const guard = await checkGuards(cx, m, planned);
    if (guard) return refuse(guard);
    try {
      plan = await planFor(cx, m, planned);
    } catch (err: any) {
      // The plan shows facts read now (e.g. the OU's identities, from the runner): without them nothing is asked.
      cx.log.warn({ migrationId: m.id, step: before.step.seq, err: err?.message ?? String(err) }, 'could not prepare the plan of a step');
      return refuse(`The plan for this step could not be prepared: ${err?.message ?? err}. Nothing was changed; try again.`);
    }
  }
  // Who owns the migration now (its owners group read through Graph, cached briefly) is settled before the
  // transaction too. Graph unreachable: only the listed owners can decide (fail closed), and nothing changes.
  let owners: OwnerSet = directOwners(m.policy);
  if (input.verb === 'approve' || input.verb === 'reject' || input.verb === 'mark-done' || input.verb === 'done') {
    const decided = input.verb === 'mark-done' || input.verb === 'done' ? [] : before.approvals.map((r) => r.approverOid);
    try {
      owners = await cx.ownersFor(m, [input.actor.oid, ...decided]);
    } catch (e) {
      if (!(e instanceof OwnersGroupUnavailable)) throw e;
      cx.log.warn({ migrationId: m.id, group: e.groupId, reason: e.reason }, 'owners group unreadable: only listed owners can decide');
      if (!isOwner(m.policy, input.actor.oid)) {
        return {
          changed: false,
          notice: `${e.message} You are not listed as a change owner by object id, and membership of the owners group cannot be checked now, so your decision was refused and nothing changed. Try again in a few minutes.`,
          snapshot: before,
        };
      }
    }
  }

  const now = cx.clock.now();
  let launch = false;
  let verifyNow = false;
  let asked = false;
  /** What the transaction decided, the step's state it found, and the step and its decisions as it left them. */
  type Outcome = { changed: boolean; notice?: string; from: StepState; step: StepRow; approvals: ApprovalRecord[]; completed?: boolean };
  const out = await cx.store.transaction(async (tx): Promise<Outcome> => {
    await cx.store.lockMigration(tx, m.id);
    const { step, approvals: records, auditHead } = await cx.store.lockedStep(tx, m.id, input.seq, true);
    const known = { head: auditHead };
    const def = planned.def;
    const from = step.state;
    const stale: Outcome = { changed: false, notice: STALE_NOTICE, from, step, approvals: records };
    const unchanged = (notice: string): Outcome => ({ changed: false, notice, from, step, approvals: records });

    switch (input.verb) {
      case 'request':
      case 'retry': {
        if (input.version !== step.version || !plan) return stale;
        const allowed: StepState[] = input.verb === 'request' ? ['pending', 'rejected'] : ['failed', 'lost'];
        if (!allowed.includes(step.state)) return stale;
        const planHash = sha256(canonicalJson(plan));
        const attempt = step.attempt + 1;
        if (def.approval === 'none') {
          const next = await cx.update(
            tx,
            step,
            { state: 'running', attempt, requestedBy: input.actor, requestedAt: now, plan, planHash, error: null, evidence: null, jobId: null },
            now,
          );
          await appendAudit(
            tx,
            {
              migrationId: m.id,
              at: now,
              actor: input.actor,
              action: input.verb === 'retry' ? 'step-retried' : 'step-run',
              stepSeq: step.seq,
              details: { key: step.key, attempt, plan },
            },
            known,
          );
          launch = true;
          return { changed: true, from, step: next, approvals: [] };
        }
        const next = await cx.update(
          tx,
          step,
          {
            state: 'awaiting_approval',
            attempt,
            requestedBy: input.actor,
            requestedAt: now,
            plan,
            planHash,
            error: null,
            evidence: null,
            jobId: null,
            remindedAt: null,
            escalatedAt: null,
          },
          now,
        );
        await appendAudit(
          tx,
          {
            migrationId: m.id,
            at: now,
            actor: input.actor,
            action: input.verb === 'retry' ? 'retry-requested' : 'approval-requested',
            stepSeq: step.seq,
            details: { key: step.key, attempt, planHash, plan, quorum: requiredQuorum(m.policy, def.approval) },
          },
          known,
        );
        asked = true;
        return { changed: true, from, step: next, approvals: [] }; // a new request: no decision on it yet
      }
      case 'approve':
      case 'reject': {
        if (step.state !== 'awaiting_approval' || input.attempt !== step.attempt) return stale;
        if (def.approval === 'sensitive' && input.verb === 'approve' && (input.confirmText ?? '').trim() !== m.name) {
          return unchanged(`This step cannot be undone. Type the migration's name (${m.name}) in the confirmation box to approve it.`);
        }
        const blocker = step.plan?.preview?.blocker;
        if (blocker && input.verb === 'approve' && (input.confirmText ?? '').trim() !== m.name) {
          return unchanged(`${blocker} To approve anyway, type the migration's name (${m.name}) in the confirmation box; or reject, fix it, and ask again.`);
        }
        const req = { requester: step.requestedBy!, requestedAt: step.requestedAt!, planHash: step.planHash!, kind: def.approval };
        const may = mayDecide(m.policy, req, records, input.actor, now, input.verb, owners);
        if (!may.ok) return unchanged(may.reason);
        const decision: ApprovalRecord = {
          approverOid: input.actor.oid.toLowerCase(),
          approverName: input.actor.name,
          decision: input.verb,
          at: now,
          planHash: step.planHash!,
          comment: input.comment ?? null,
        };
        await cx.store.insertApproval(tx, m.id, step.seq, step.attempt, decision);
        const all = [...records, decision];
        const verdict = evaluate(m.policy, req, all, now, owners);
        await appendAudit(
          tx,
          {
            migrationId: m.id,
            at: now,
            actor: input.actor,
            action: input.verb === 'approve' ? 'approved' : 'rejected',
            stepSeq: step.seq,
            details: { key: step.key, attempt: step.attempt, planHash: step.planHash, comment: input.comment ?? null, verdict: verdict.status },
          },
          known,
        );
        let next: StepRow;
        if (verdict.status === 'rejected') {
          next = await cx.update(tx, step, { state: 'rejected' }, now);
        } else if (verdict.status === 'approved') {
          next = await cx.update(tx, step, { state: 'approved' }, now);
          launch = true;
        } else {
          next = await cx.update(tx, step, {}, now); // version bump: every viewer's card shows the new approval
        }
        return { changed: true, from, step: next, approvals: all };
      }
      case 'done': {
        // The person did the manual change: its verification runs now (a runner job, or a Graph check).
        if (input.version !== step.version) return stale;
        if (!awaitingOperator(step, def)) return stale;
        if (!isOwner(m.policy, input.actor.oid, owners) && input.actor.oid.toLowerCase() !== step.requestedBy?.oid.toLowerCase()) {
          return unchanged('Only the person who asked for this step or a change owner can say it is done.');
        }
        const evidence = { ...(step.evidence ?? {}), awaitingOperator: false, doneBy: input.actor.name, doneAt: now.toISOString() };
        const next = await cx.update(tx, step, { evidence, error: null }, now);
        await appendAudit(
          tx,
          { migrationId: m.id, at: now, actor: input.actor, action: 'operator-done', stepSeq: step.seq, details: { key: step.key, attempt: step.attempt } },
          known,
        );
        verifyNow = true;
        return { changed: true, from, step: next, approvals: records };
      }
      case 'mark-done': {
        if (input.version !== step.version) return stale;
        if (step.state !== 'lost' && !(step.state === 'failed' && def.action.kind === 'manual')) return stale;
        if (!isOwner(m.policy, input.actor.oid, owners)) return unchanged('Only a change owner can mark a step done after checking it by hand.');
        const next = await cx.update(
          tx,
          step,
          {
            state: 'succeeded',
            evidence: {
              ...(step.evidence ?? {}),
              markedDoneBy: input.actor.name,
              markedDoneAt: now.toISOString(),
              note: 'Checked by hand after the runner went silent.',
            },
          },
          now,
        );
        await appendAudit(
          tx,
          { migrationId: m.id, at: now, actor: input.actor, action: 'marked-done', stepSeq: step.seq, details: { key: step.key, from: step.state } },
          known,
        );
        const completed = await cx.completeIfDone(tx, m.id, now);
        return { changed: true, from, step: next, approvals: records, completed };
      }
    }
  });
  const snapshot: StepSnapshot = {
    ...before,
    migration: out.completed ? { ...m, state: 'completed' } : m,
    step: out.step,
    steps: before.steps.map((s) => (s.seq === out.step.seq ? progressOf(out.step, effectEvidenceKeys()) : s)),
    approvals: out.approvals,
  };
  if (out.changed) cx.emit({ type: 'step-changed', migrationId: m.id, seq: input.seq, snapshot, previousState: out.from });
  if (launch) cx.track(startAction(cx, m.id, input.seq));
  if (verifyNow) cx.track(verifyOperatorStep(cx, m.id, input.seq));
  if (asked) cx.emit({ type: 'approval-requested', migrationId: m.id, seq: input.seq, reason: input.verb === 'retry' ? 'retry' : 'requested' });
  return { changed: out.changed, ...(out.notice ? { notice: out.notice } : {}), snapshot };
}

/** Steps run in order: the first step before this one that is not done holds it. */
async function sequenceGate(cx: EngineContext, m: Migration, planned: PlannedStep): Promise<string | null> {
  const steps = await cx.store.steps(m.id);
  const blocker = steps.find((s) => s.ord < planned.ord && !isStepDone(s));
  if (!blocker) return null;
  const def = cx.plannedStep(m, blocker).def;
  // Named by the number its card shows (its seq: a batch added later has higher numbers than the steps after it).
  return `Step ${blocker.seq} (${def.title}) must be done first.`;
}

/**
 * After an approved change of the approval policy (owners, owners group, quorum, expiry): every step still waiting
 * for approval is weighed again under the new policy. Approvals already given count while their author is still an
 * owner. A step they now suffice for is approved and starts (its start re-checks plan, approvals and window like any
 * other); the others are asked again of the owners as they are now, with reminders counted afresh.
 */
export async function reweighPendingApprovals(
  cx: EngineContext,
  migrationId: string,
  policyChangeId: number,
): Promise<{ approved: number[]; reasked: number[] }> {
  const out = { approved: [] as number[], reasked: [] as number[] };
  const m = await cx.store.migration(migrationId);
  if (!m || m.state !== 'active') return out;
  for (const s of (await cx.store.steps(m.id)).filter((x) => x.state === 'awaiting_approval')) {
    const records = await cx.store.approvals(m.id, s.seq, s.attempt);
    let owners = directOwners(m.policy);
    try {
      owners = await cx.ownersFor(
        m,
        records.map((r) => r.approverOid),
      );
    } catch (e) {
      if (!(e instanceof OwnersGroupUnavailable)) throw e; // unreadable group: only listed owners count (fail closed)
    }
    const req = { requester: s.requestedBy!, requestedAt: s.requestedAt!, planHash: s.planHash!, kind: cx.plannedStep(m, s).def.approval };
    const verdict = evaluate(m.policy, req, records, cx.clock.now(), owners);
    const sameAttempt = (x: StepRow) => x.attempt === s.attempt;
    if (verdict.status === 'approved') {
      if (
        await cx.transition(
          m.id,
          s.seq,
          ['awaiting_approval'],
          { state: 'approved' },
          { action: 'approved-under-new-policy', details: { policyChangeId, approvedBy: verdict.approvedBy, needed: verdict.needed } },
          sameAttempt,
        )
      ) {
        out.approved.push(s.seq);
        cx.track(startAction(cx, m.id, s.seq));
      }
    } else if (verdict.status === 'pending') {
      if (
        await cx.transition(
          m.id,
          s.seq,
          ['awaiting_approval'],
          { remindedAt: null, escalatedAt: null },
          { action: 'approval-reasked', details: { policyChangeId, approvedBy: verdict.approvedBy, needed: verdict.needed } },
          sameAttempt,
        )
      ) {
        out.reasked.push(s.seq);
        cx.emit({ type: 'approval-reasked', migrationId: m.id, seq: s.seq, policyChangeId, stillNeeded: verdict.needed - verdict.approvedBy.length });
      }
    } // expired under the new expiry: the approval sweep settles it
  }
  return out;
}
