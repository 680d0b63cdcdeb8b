import { EngineError, type Migration, type RunbookEngine } from './engine.js';
import type { Person, StepState } from './types.js';

/**
 * Restart from a quarantine incident, decided here rather than in the bot: the restart is an approved change, a step
 * added to the oldest active migration the incident affects and asked of that migration's owners like any step; while
 * one is not done with, another ask answers with it and changes nothing. The bot words the outcome.
 */

/** A restart step in these states is not done with: it is where to act (approve, ask again, retry), not a new one. */
export const RESTART_OPEN: StepState[] = ['pending', 'awaiting_approval', 'approved', 'running', 'rejected', 'failed', 'lost'];

/** The restart a quarantine incident asked for (the step it added to a migration), as its card tells it. */
export interface RestartView {
  migrationName: string;
  seq: number;
  stepsTotal: number;
  state: StepState;
  resetScope: string;
  requestedBy: string | null;
  approvedBy: string[];
  rejectedBy: string[];
  runAfter: Date | null;
  evidence: { restarted?: boolean; restartedAt?: string; quarantineAfter?: string | null; note?: string; skipped?: string } | null;
  error: string | null;
}

/** What an incident offers to restart: the job, the reset scope its quarantine reason needs, and why. */
export interface RestartAction {
  kind: string;
  jobId: string;
  resetScope: string;
  reason: string;
}

/** An incident as a restart needs it (the monitor's alert record satisfies it). */
export interface RestartIncident {
  id: string;
  state: string;
  action?: RestartAction | null;
  migrations: { id: string }[];
}

export type RestartOutcome =
  | { kind: 'resolved' }
  | { kind: 'not-offered' }
  | { kind: 'no-active-migration' }
  /** The incident's last restart is not done with (RESTART_OPEN): act on its step card. */
  | { kind: 'open'; seq: number; migrationName: string; state: StepState }
  /** Another ask added the restart step just before this one. */
  | { kind: 'already-asked'; seq: number; migrationName: string; state: StepState }
  | { kind: 'requested'; seq: number; migrationName: string; state: StepState; notice?: string }
  | { kind: 'refused'; message: string };

const RESTART_STEP = 'restart-quarantined-job';

/** The oldest active migration an incident affects: a restart it asks for is a step of that migration. */
export async function restartMigration(engine: RunbookEngine, a: Pick<RestartIncident, 'migrations'>): Promise<Migration | null> {
  const ms = (await Promise.all(a.migrations.map((x) => engine.getMigration(x.id)))).filter((m): m is Migration => !!m && m.state === 'active');
  ms.sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime() || (x.id < y.id ? -1 : 1));
  return ms[0] ?? null;
}

/** The latest restart step an incident added, as its card shows it; null when it asked for none. */
export async function restartView(engine: RunbookEngine, alertId: string): Promise<RestartView | null> {
  const last = (await engine.incidentSteps(alertId)).at(-1);
  if (!last) return null;
  const { migration: m, step } = last;
  const approvals = step.attempt ? await engine.getApprovals(m.id, step.seq, step.attempt) : [];
  const name = (x: { approverName?: string | null; approverOid: string }) => x.approverName ?? x.approverOid;
  return {
    migrationName: m.name,
    seq: step.seq,
    stepsTotal: (await engine.getSteps(m.id)).length,
    state: step.state,
    resetScope: String(step.params?.resetScope ?? ''),
    requestedBy: step.requestedBy?.name ?? null,
    approvedBy: approvals.filter((x) => x.decision === 'approve' && x.planHash === step.planHash).map(name),
    rejectedBy: approvals.filter((x) => x.decision === 'reject').map(name),
    runAfter: step.runAfter,
    evidence: (step.evidence as RestartView['evidence']) ?? null,
    error: step.error?.message ?? null,
  };
}

/**
 * Asks for a restart of the incident's job by `actor`. `refusal` says why the actor may not act on the incident (its
 * responders' rule lives with the alerts), or null.
 */
export async function requestRestart(engine: RunbookEngine, a: RestartIncident, actor: Person, refusal: () => Promise<string | null>): Promise<RestartOutcome> {
  if (a.state === 'resolved') return { kind: 'resolved' };
  if (a.action?.kind !== 'restart-job') return { kind: 'not-offered' };
  const refused = await refusal();
  if (refused) return { kind: 'refused', message: refused };
  const current = await restartView(engine, a.id);
  if (current && RESTART_OPEN.includes(current.state)) return { kind: 'open', seq: current.seq, migrationName: current.migrationName, state: current.state };
  const m = await restartMigration(engine, a);
  if (!m) return { kind: 'no-active-migration' };
  try {
    const { jobId, resetScope, reason } = a.action;
    const out = await engine.addIncidentStep(m.id, RESTART_STEP, { alertId: a.id, jobId, resetScope, reason }, actor);
    const { seq, state } = out.step;
    if (!out.added) return { kind: 'already-asked', seq, migrationName: m.name, state };
    return { kind: 'requested', seq, migrationName: m.name, state, ...(out.notice ? { notice: out.notice } : {}) };
  } catch (e) {
    if (e instanceof EngineError) return { kind: 'refused', message: e.message };
    throw e;
  }
}
