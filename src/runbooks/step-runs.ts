import { appendAudit, canonicalJson, sha256 } from './audit.js';
import { evaluate } from './policy.js';
import type { PlannedStep } from './types.js';
import { describeWindows, inAnyWindow, nextWindowStart } from './windows.js';
import { noTracer } from '../telemetry/tracer.js';
import { isStepDone, type Migration, type SettledJob, type StepRow } from './engine-types.js';
import type { EngineContext } from './engine-context.js';
import { planFor } from './plans.js';

/**
 * Running a step's action once it may run: Graph operations, runner jobs (one per action of its sequence, each result
 * reported back by the hub), manual steps and their verification; then the result and its evidence, and the steps
 * that no longer apply skipped.
 */

/** Approved → running: re-checks the plan (what runs is exactly what was approved), then starts the action. */
export async function startAction(cx: EngineContext, migrationId: string, seq: number): Promise<void> {
  const { m, step } = await cx.persist(async () => ({ m: (await cx.store.migration(migrationId))!, step: (await cx.store.step(migrationId, seq))! }));
  const planned = cx.plannedStep(m, step);
  if (step.state === 'approved') {
    try {
      if (!(await checkApprovedAndStart(cx, m, step, planned))) return;
    } catch (err: any) {
      // Nothing ran (the re-check itself failed): say so on the card rather than leave "Approved — starting".
      await cx.persist(() =>
        cx.transition(
          migrationId,
          seq,
          ['approved'],
          {
            state: 'failed',
            runAfter: null,
            error: {
              code: err?.code ?? err?.name ?? 'Error',
              message: `Could not start: ${String(err?.message ?? err)} The action did not run; Retry asks for approval again.`,
            },
          },
          { action: 'step-failed', details: { reason: 'start-failed', error: String(err?.message ?? err) } },
          (s) => s.attempt === step.attempt,
        ),
      );
      return;
    }
  }
  await runStarted(cx, m, planned, migrationId, seq);
}

/** The approved phase of a start: true once the step is running; false if it waits, is re-asked or was refused. */
async function checkApprovedAndStart(cx: EngineContext, m: Migration, step: StepRow, planned: PlannedStep): Promise<boolean> {
  const { id: migrationId } = m;
  const { seq } = step;
  const plan = await planFor(cx, m, planned);
  const hash = sha256(canonicalJson(plan));
  if (hash !== step.planHash) {
    // Something changed between approval and run: the approval is void, ask again.
    const figures = plan.preview && step.plan?.preview && sha256(canonicalJson(plan.preview)) !== sha256(canonicalJson(step.plan.preview));
    const reason = figures
      ? `the go-live figures changed after approval (approved: ${step.plan!.preview!.lines.join('; ')}; now: ${plan.preview!.lines.join('; ')})`
      : 'what will run changed after approval';
    if (
      await cx.transition(
        migrationId,
        seq,
        ['approved'],
        {
          state: 'awaiting_approval',
          attempt: step.attempt + 1,
          plan,
          planHash: hash,
          requestedAt: cx.clock.now(),
          error: figures ? { code: 'ApprovalVoided', message: `The approval is void: ${reason}. Approve the new figures.` } : null,
        },
        { action: 'approval-voided', details: { reason, oldPlanHash: step.planHash, newPlanHash: hash } },
      )
    )
      cx.emit({ type: 'approval-requested', migrationId, seq, reason: 'voided' });
    return false;
  }
  const records = await cx.store.approvals(migrationId, seq, step.attempt);
  // Owners through the group are checked again now; an unreadable group throws, and the step fails without running.
  const owners = await cx.ownersFor(
    m,
    records.map((r) => r.approverOid),
  );
  const verdict = evaluate(
    m.policy,
    { requester: step.requestedBy!, requestedAt: step.requestedAt!, planHash: step.planHash!, kind: planned.def.approval },
    records,
    cx.clock.now(),
    owners,
  );
  if (verdict.status !== 'approved') {
    await cx.transition(
      migrationId,
      seq,
      ['approved'],
      { state: 'awaiting_approval', attempt: step.attempt + 1, requestedAt: cx.clock.now(), runAfter: null },
      { action: 'approval-voided', details: { reason: 'approvals older than the expiry window are void' } },
    );
    return false;
  }
  const windows = m.policy.changeWindows ?? [];
  const now = cx.clock.now();
  if (planned.def.production && !inAnyWindow(windows, now)) {
    // Wait for the next window, unless the approvals would be void by then: then refuse.
    const voidAt = Math.min(...records.filter((r) => r.decision === 'approve').map((r) => r.at.getTime() + m.policy.expiryMs));
    const next = nextWindowStart(windows, now, Math.max(0, voidAt - now.getTime()));
    if (!next) {
      await cx.transition(
        migrationId,
        seq,
        ['approved'],
        {
          state: 'rejected',
          runAfter: null,
          error: {
            code: 'OutsideChangeWindow',
            message: `No change window (${describeWindows(windows)}) opens before this approval expires at ${new Date(voidAt).toISOString()}; request it again nearer the window.`,
          },
        },
        { action: 'refused-outside-window', details: { windows } },
      );
      return false;
    }
    if (step.runAfter?.getTime() !== next.getTime()) {
      await cx.transition(
        migrationId,
        seq,
        ['approved'],
        { runAfter: next },
        { action: 'waiting-for-window', details: { runAfter: next.toISOString(), windows } },
      );
    }
    return false;
  }
  return cx.transition(migrationId, seq, ['approved'], { state: 'running' }, { action: 'step-started', details: {} }, (s) => s.attempt === step.attempt);
}

async function runStarted(cx: EngineContext, m: Migration, planned: PlannedStep, migrationId: string, seq: number): Promise<void> {
  // Exactly one process runs it: the one taking the owner lease for this attempt (renewed while a Graph action runs).
  const running = await cx.persist(() => cx.leases.claim(migrationId, seq));
  if (!running) return; // not running (any more), or another cutover instance runs it
  if (!m.runnerName) await cx.runnerOf(m).catch(() => null); // bound at request time; a migration from before binding is bound now
  const ctx = cx.stepContext(m, planned);
  const action = planned.def.action;
  // Runner steps are owned by the runner hub once their job is queued (job leases); Graph and manual ones by this process.
  const release = action.kind === 'runner' ? () => {} : cx.leases.hold(migrationId, seq, running.attempt);
  const attrs = {
    'cutover.migration.id': migrationId,
    'cutover.tenant.id': m.tenantId,
    'cutover.step.key': running.key,
    'cutover.step.seq': seq,
    'cutover.step.batch': running.batch ?? undefined,
    'cutover.step.attempt': running.attempt,
    'cutover.step.action': action.kind === 'graph' ? `graph:${action.operation}` : action.kind,
  };
  await (cx.tracer ?? noTracer).inSpan('runbook.step.run', attrs, async (span) => {
    try {
      if (action.kind === 'manual' && action.verify) {
        // Approved: the person goes ahead now. The step waits for them (no lease: nothing of ours runs) and is proved by its verification.
        await cx.transition(
          migrationId,
          seq,
          ['running'],
          { evidence: { awaitingOperator: true, goAt: cx.clock.now().toISOString(), checklist: action.checklist } },
          { action: 'operator-go', details: {} },
          (s) => s.attempt === running.attempt,
        );
      } else if (action.kind === 'manual') {
        await finish(cx, migrationId, seq, running.attempt, {
          ok: true,
          evidence: { confirmedBy: running.requestedBy?.name, confirmedAt: running.requestedAt?.toISOString(), checklist: action.checklist },
        });
      } else if (action.kind === 'runner') {
        await enqueueNext(cx, m, running, 0);
      } else {
        const out = await cx.ports.graph.run(action.operation, ctx, await cx.facts(m.id));
        await finish(cx, migrationId, seq, running.attempt, {
          ok: out.ok,
          evidence: out.evidence,
          error: out.ok ? undefined : { code: 'VerificationFailed', message: out.error ?? 'failed' },
        });
      }
    } catch (err: any) {
      const out = { ok: false, error: { code: err?.code ?? err?.name ?? 'Error', message: String(err?.message ?? err) } };
      // The store may be what failed, and then it cannot record the failure either until it is back.
      span.fail(err);
      await cx.persist(() => finish(cx, migrationId, seq, running.attempt, out));
    } finally {
      release();
    }
    const after = cx.tracer ? await cx.store.step(migrationId, seq).catch(() => null) : null;
    if (after) span.set({ 'cutover.step.state': after.state });
    if (after?.state === 'failed') span.fail({ code: after.error?.code });
  });
}

/** A person said a manual change is done: its verification runs (a runner sequence, or a Graph check) and decides. */
export async function verifyOperatorStep(cx: EngineContext, migrationId: string, seq: number): Promise<void> {
  const m = await cx.store.migration(migrationId);
  const step = await cx.store.step(migrationId, seq);
  if (!m || !step || step.state !== 'running') return;
  const def = cx.plannedStep(m, step).def;
  if (def.action.kind !== 'manual' || !def.action.verify) return;
  const verify = def.action.verify;
  try {
    if (verify.kind === 'runner') {
      await enqueueNext(cx, m, step, 0);
      return;
    }
    const running = await cx.persist(() => cx.leases.claim(migrationId, seq));
    if (!running) return;
    const release = cx.leases.hold(migrationId, seq, running.attempt);
    try {
      // `$step`: this step's own evidence (when the person went ahead), for checks that look for a change since then.
      const out = await cx.ports.graph.run(verify.operation, cx.stepContext(m, step), { ...(await cx.facts(m.id)), $step: step.evidence });
      await finish(cx, migrationId, seq, running.attempt, {
        ok: out.ok,
        evidence: { ...(step.evidence ?? {}), ...out.evidence },
        error: out.ok ? undefined : { code: 'NotYetTrue', message: out.error ?? 'the verification failed' },
      });
    } finally {
      release();
    }
  } catch (err: any) {
    await cx.persist(() =>
      finish(cx, migrationId, seq, step.attempt, {
        ok: false,
        evidence: step.evidence ?? undefined,
        error: { code: err?.code ?? err?.name ?? 'Error', message: `The verification could not run: ${String(err?.message ?? err)}` },
      }),
    );
  }
}

async function enqueueNext(cx: EngineContext, m: Migration, step: StepRow, index: number): Promise<void> {
  const plan = step.plan?.runner ?? [];
  const item = plan[index];
  const { jobId } = await cx.ports.runner.enqueue({
    migrationId: m.id,
    stepSeq: step.seq,
    attempt: step.attempt,
    position: index,
    action: item.action,
    params: item.params,
    tenantId: m.tenantId,
    runnerName: await cx.runnerOf(m),
  });
  const now = cx.clock.now();
  // The job is queued: from here the step must point at it, so its result lands (never "failed" with a job running).
  await cx.persist(() =>
    cx.store.transaction(async (tx) => {
      await cx.store.pointAtJob(
        tx,
        m.id,
        step.seq,
        jobId,
        { ...(step.evidence ?? {}), progress: `${index + 1}/${plan.length}`, results: (step.evidence as any)?.results ?? [] },
        now,
      );
      await appendAudit(tx, {
        migrationId: m.id,
        at: now,
        actor: null,
        action: 'runner-job-queued',
        stepSeq: step.seq,
        details: { jobId, action: item.action, params: item.params },
      });
    }),
  );
  cx.emit({ type: 'step-changed', migrationId: m.id, seq: step.seq });
  // A runner polling another process may have run the job before the step pointed at it: the hub's report then found
  // the step pointing elsewhere and changed nothing. Its result is taken now (settling twice changes the step once);
  // if the store cannot say, the housekeeping sweep takes it (settleOrphanedSteps).
  const ended = await cx.ports.runner.settledJob(jobId).catch((err) => {
    cx.log.warn({ err, jobId }, 'could not check whether a runner job ended before its step pointed at it');
    return null;
  });
  if (ended) await onRunnerJobSettled(cx, ended);
}

/** The runner hub reports a job's end (result, failure, or a lease that expired: lost). */
export async function onRunnerJobSettled(cx: EngineContext, job: SettledJob): Promise<void> {
  // A store outage (a PostgreSQL restart) while a result lands must not leave the step running with its job settled:
  // the hub has already recorded the result, so this is retried until the step reflects it (every path is idempotent).
  await cx.persist(() => settle(cx, job));
}

async function settle(cx: EngineContext, job: SettledJob): Promise<void> {
  const step = await cx.store.step(job.migrationId, job.stepSeq);
  if (!step || step.state !== 'running' || step.jobId !== job.id || step.attempt !== job.attempt) return; // replay or stale: nothing changes
  const m = (await cx.store.migration(job.migrationId))!;
  if (job.state === 'lost') {
    await cx.transition(
      m.id,
      step.seq,
      ['running'],
      {
        state: 'lost',
        error: {
          code: 'RunnerLost',
          message: 'The runner stopped reporting while it held this job. Check on the Connect server what happened, then choose Retry or Mark done.',
        },
      },
      { action: 'step-lost', details: { jobId: job.id } },
      (s) => s.jobId === job.id,
    );
    return;
  }
  const results = [...(((step.evidence as any)?.results as unknown[]) ?? []), job.result ?? null];
  const transcript = [((step.evidence as any)?.transcript as string) ?? '', job.transcript ?? ''].filter(Boolean).join('\n');
  if (job.state === 'failed') {
    await finish(
      cx,
      m.id,
      step.seq,
      step.attempt,
      {
        ok: false,
        evidence: { ...(step.evidence ?? {}), results, transcript },
        error: job.error ?? { code: 'RunnerActionFailed', message: 'The runner reported a failure.' },
      },
      job.id,
    );
    return;
  }
  const next = results.length;
  if (next < (step.plan?.runner?.length ?? 0)) {
    const evidence = { ...(step.evidence ?? {}), results, transcript };
    const advanced = await cx.store.transaction((tx) => cx.store.keepJobResults(tx, m.id, step.seq, job.id, next - 1, evidence));
    if (advanced) await enqueueNext(cx, m, { ...step, evidence }, next);
    return;
  }
  const def = cx.plannedStep(m, step).def;
  const ctx = cx.stepContext(m, step);
  const unmet = def.expect?.(results as any[], ctx, await cx.facts(m.id)) ?? null;
  const summary = def.summarize?.(results as any[], ctx) ?? {};
  await finish(
    cx,
    m.id,
    step.seq,
    step.attempt,
    {
      ok: !unmet,
      evidence: { ...(step.evidence ?? {}), results, transcript, progress: undefined, ...summary },
      error: unmet ? { code: 'NotYetTrue', message: unmet } : undefined,
    },
    job.id,
  );
}

async function finish(
  cx: EngineContext,
  migrationId: string,
  seq: number,
  attempt: number,
  out: { ok: boolean; evidence?: Record<string, unknown>; error?: { code: string; message: string } },
  jobId?: string,
): Promise<void> {
  await cx.transition(
    migrationId,
    seq,
    ['running'],
    { state: out.ok ? 'succeeded' : 'failed', evidence: out.evidence ?? null, error: out.ok ? null : (out.error ?? { code: 'Failed', message: 'failed' }) },
    { action: out.ok ? 'step-succeeded' : 'step-failed', details: { evidence: out.evidence ?? null, error: out.error ?? null, jobId: jobId ?? null } },
    (s) => s.attempt === attempt && (!jobId || s.jobId === jobId),
  );
  if (out.ok) await skipInapplicable(cx, migrationId);
}

/** Steps that do not apply given what earlier steps found (e.g. the other DirSync upgrade path) are skipped, with the reason. */
async function skipInapplicable(cx: EngineContext, migrationId: string): Promise<void> {
  const m = (await cx.store.migration(migrationId))!;
  const facts = await cx.facts(migrationId);
  for (const s of await cx.store.steps(migrationId)) {
    if (isStepDone(s)) continue;
    const planned = cx.plannedStep(m, s);
    const reason = s.state === 'pending' ? (planned.def.skipIf?.(facts, cx.stepContext(m, s)) ?? null) : null;
    if (!reason) return;
    await cx.transition(m.id, s.seq, ['pending'], { state: 'skipped', evidence: { skipped: reason } }, { action: 'step-skipped', details: { reason } });
  }
}
