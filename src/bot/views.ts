import { currentStep, isStepDone, plannedStepOf, stepContextOf, type Migration, type RunbookEngine, type StepPlan, type StepRow } from '../runbooks/engine.js';
import type { StepSnapshot } from '../runbooks/snapshot.js';
import { latestCheckpoint } from '../runbooks/audit.js';
import type { PolicyChange, PolicyChanges } from '../runbooks/policy-changes.js';
import type { ApprovalPolicy } from '../runbooks/policy.js';
import { runbookOf } from '../runbooks/catalog.js';
import { findingFact, findingsOf, isAssessment } from '../runbooks/assessment.js';
import { effectFacts } from '../runbooks/effects.js';
import { citations, withoutSeedNumbers } from '../runbooks/sources.js';
import { evaluate, isOwner, requiredQuorum } from '../runbooks/policy.js';
import type { StepState } from '../runbooks/types.js';
import { describeWindows } from '../runbooks/windows.js';
import { renderCard, splitLongFacts, type Card } from './cards.js';
import { evidenceView, humanTimes } from './evidence.js';
import { formatTime } from './format.js';
import { alertLine, openAlertsTitle } from './alert-views.js';
import type { AlertRecord } from '../monitor/alerts.js';

/** Turns engine state into card data: rendering never changes anything, and a step card reads nothing (a snapshot). */

/** Names of people cutover has seen (step cards take theirs from the step's snapshot). */
export interface People {
  nameOf(oid: string): Promise<string | undefined>;
}

/** Signed, expiring links to downloadable reports (the composition root builds them; see src/reports/links.ts). */
export interface ReportLinker {
  url(kind: 'assessments', id: string, now: Date, format?: 'csv' | 'json'): string;
}

/** Teams refreshes a user-specific view for at most 60 users. */
const MAX_REFRESH_USERS = 60;

const STATE: Record<StepState, { label: string; icon: string; color: string; style: string }> = {
  pending: { label: 'Not started', icon: '○', color: 'Default', style: 'default' },
  awaiting_approval: { label: 'Waiting for approval', icon: '⏳', color: 'Warning', style: 'warning' },
  approved: { label: 'Approved — starting', icon: '✔', color: 'Good', style: 'good' },
  running: { label: 'Running', icon: '▶', color: 'Accent', style: 'accent' },
  succeeded: { label: 'Done', icon: '✅', color: 'Good', style: 'good' },
  failed: { label: 'Failed', icon: '❌', color: 'Attention', style: 'attention' },
  rejected: { label: 'Rejected', icon: '⛔', color: 'Attention', style: 'attention' },
  skipped: { label: 'Skipped', icon: '⤼', color: 'Default', style: 'default' },
  lost: { label: 'Lost — a human must check', icon: '❓', color: 'Attention', style: 'attention' },
};

export function stateLabel(s: StepState): string {
  return STATE[s].label;
}

/** A step skipped because its migration was cancelled (issue 15): shown as such, not as an ordinary skip. */
const CANCELLED = { label: 'Cancelled', icon: '⊘', color: 'Default', style: 'default' };
type StepStateOnly = Pick<StepRow, 'state' | 'evidence'>;
const wasCancelled = (s: StepStateOnly) => s.state === 'skipped' && (s.evidence as any)?.cancelled === true;
const stateOf = (s: StepStateOnly) => (wasCancelled(s) ? CANCELLED : STATE[s.state]);
/** Steps done: succeeded, or skipped by the runbook (a step a cancellation skipped was not done). */
const isDone = (s: StepStateOnly) => s.state === 'succeeded' || (s.state === 'skipped' && !wasCancelled(s));

/** Every time on a card: "2026-12-05 04:37 UTC", with "(in 2 h)" / "(3 min ago)" when the clock is given. */
const fmtTime = (d: Date | string | null | undefined, now?: Date) => formatTime(d, now);

/** Long values go below the facts as their own blocks: identifiers (one long token) in small monospace, sentences as text. */
function withLong<T extends { value: string }>(facts: T[], maxToken = 40): { short: T[]; long: (T & { mono: boolean })[] } {
  const { short, long } = splitLongFacts(facts, maxToken);
  return { short, long: long.map((f) => ({ ...f, mono: !/\s/.test(f.value.trim()) })) };
}

function truncate(s: string, n = 300): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** A runner action's parameters as they are given: `ou: OU=Sales\, EMEA,…` (a DN exactly, where JSON doubles its backslashes). */
function paramText(params: Record<string, unknown>): string {
  const parts = Object.entries(params).map(
    ([k, v]) =>
      `${k}: ${Array.isArray(v) && v.every((x) => typeof x !== 'object') ? v.join('; ') : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v)}`,
  );
  return parts.length ? ` · ${parts.join(' · ')}` : '';
}

export function planLines(plan: StepPlan | null): { line: string }[] {
  if (!plan) return [];
  const lines: string[] = [];
  for (const r of plan.runner ?? []) {
    lines.push(`runner ${r.action}${r.mutation ? ' (changes the server)' : ' (read)'}${paramText(r.params)}`);
    if (r.script) lines.push(`  script: ${r.script}`);
  }
  for (const g of plan.graph ?? []) lines.push(`${g.method} ${g.path}${g.body !== undefined ? ` ${truncate(JSON.stringify(g.body), 600)}` : ''}`);
  for (const c of plan.manual ?? []) lines.push(`☐ ${c}`);
  return lines.map((line) => ({ line }));
}

/** "1 more approval", "2 more approvals". */
export function moreApprovals(n: number): string {
  return `${n} more approval${n === 1 ? '' : 's'}`;
}

export interface StepCardOptions {
  now: Date;
  /** A sentence for the person who clicked (why nothing changed, or what happens next). */
  notice?: string;
  /** Whose view this is: Approve / Reject for a change owner only. None: the channel's card. */
  viewerOid?: string;
  /** The channel's card of a client with user-specific views (Teams): read-only, each owner refreshes their own view. */
  userSpecific?: boolean;
  links?: ReportLinker;
}

/**
 * A step card, from a snapshot of the step (RunbookEngine.stepSnapshot, or what a click's transition handed back):
 * reads nothing, so the clicker's card and the channel's card of one click come from one read. With `userSpecific`
 * (Teams, Universal Actions), the shared card is read-only and names the owners in refresh.userIds: each owner's client
 * asks for its own view (card.refresh) with Approve / Reject. Without it (the Playground does not support refresh), the
 * shared card carries the buttons for everyone and the server refuses non-owners with the reason.
 */
export function stepCard(snapshot: StepSnapshot, opts: StepCardOptions): Card {
  const { migration: m, step, steps, owners: ownerView } = snapshot;
  const planned = plannedStepOf(m, step);
  const def = planned.def;
  const approvals = step.attempt ? snapshot.approvals : [];
  const graphNames = new Map((ownerView.group?.members ?? []).map((x) => [x.id, x.displayName]));
  const nameOf = (oid: string) => snapshot.people[oid.toLowerCase()]?.name ?? graphNames.get(oid.toLowerCase()) ?? oid;
  const needed = requiredQuorum(m.policy, def.approval);
  const facts: { title: string; value: string }[] = [];
  if (planned.batch) facts.push({ title: 'OU', value: m.ous[planned.batch - 1] });
  // A step an incident added: what it was asked for (the quarantine alert, its job and the reset scope its reason needs).
  if (typeof step.params?.jobId === 'string') {
    facts.push({ title: 'For the alert', value: `${String(step.params.reason ?? 'quarantine')} (alert ${String(step.params.alertId ?? '—')})` });
    facts.push({ title: 'Reset scope', value: String(step.params.resetScope ?? '—') });
    facts.push({ title: 'Cloud Sync job', value: step.params.jobId });
  }
  facts.push({
    title: 'Approval',
    value:
      def.approval === 'none'
        ? 'Not needed (no production change)'
        : `${needed} change owner${needed > 1 ? 's' : ''}${def.approval === 'sensitive' ? ' — sensitive, typed confirmation' : ''}${m.policy.fourEyes ? ', not the requester' : ''}`,
  });
  if (step.requestedBy) facts.push({ title: 'Asked by', value: `${step.requestedBy.name}, ${fmtTime(step.requestedAt, opts.now)}` });
  const approvedBy = approvals.filter((a) => a.decision === 'approve' && a.planHash === step.planHash);
  const rejectedBy = approvals.filter((a) => a.decision === 'reject');
  if (approvedBy.length)
    facts.push({ title: 'Approved by', value: approvedBy.map((a) => `${a.approverName ?? nameOf(a.approverOid)}, ${fmtTime(a.at, opts.now)}`).join('; ') });
  if (rejectedBy.length)
    facts.push({
      title: 'Rejected by',
      value: rejectedBy.map((a) => `${a.approverName ?? nameOf(a.approverOid)}${a.comment ? `: "${a.comment}"` : ''}`).join(', '),
    });
  let approverNote: string | null = null;
  if (step.state === 'awaiting_approval' && step.requestedAt && step.planHash) {
    const v = evaluate(
      m.policy,
      { requester: step.requestedBy!, requestedAt: step.requestedAt, planHash: step.planHash, kind: def.approval },
      approvals,
      opts.now,
      ownerView.owners,
    );
    if (v.status === 'pending') {
      facts.push({ title: 'Still needed', value: moreApprovals(v.needed - v.approvedBy.length) });
      facts.push({ title: 'Expires', value: fmtTime(v.expiresAt, opts.now) });
    }
    const owners = m.policy.owners.filter((o) => !(m.policy.fourEyes && o.toLowerCase() === step.requestedBy?.oid.toLowerCase())).map(nameOf);
    // Who can still decide, by name: the owners (listed and through the group) who are not the requester and have not decided.
    const decided = new Set(approvals.map((a) => a.approverOid.toLowerCase()));
    const waitingFor = [...ownerView.owners].filter((o) => !decided.has(o) && !(m.policy.fourEyes && o === step.requestedBy?.oid.toLowerCase()));
    if (v.status === 'pending' && waitingFor.length) facts.unshift({ title: 'Waiting for', value: waitingFor.map(nameOf).join(', ') });
    const group = m.policy.ownersGroup
      ? `members of ${ownerView.group?.name ?? `the group ${m.policy.ownersGroup}`}${ownerView.groupError ? ' (the group cannot be read from Graph now)' : ''}`
      : null;
    approverNote = `Approve / Reject: change owners only (${[...owners, ...(group ? [group] : [])].join(', ') || 'none'}). Anyone else who clicks gets the reason and nothing changes.`;
  }
  if (step.state === 'approved' && step.runAfter)
    facts.push({
      title: 'Waits for the change window',
      value: `runs at ${fmtTime(step.runAfter, opts.now)}, in the window ${describeWindows(m.policy.changeWindows ?? [])}`,
    });
  if (step.jobId && step.state === 'running')
    facts.push({ title: 'Runner job', value: `${step.jobId}${(step.evidence as any)?.progress ? ` (${(step.evidence as any).progress})` : ''}` });
  if (step.attempt > 1) facts.push({ title: 'Attempt', value: String(step.attempt) });

  // What the step proved: labelled facts, the whole of it behind Details. The assessment leads with its recommendation.
  const showEvidence = step.state === 'succeeded' || step.state === 'failed' || step.state === 'lost' || step.state === 'skipped';
  const assessment = showEvidence && findingsOf(step) ? assessmentView(step) : null;
  const ev = showEvidence ? evidenceView(def, step, opts.now) : { facts: [], details: null };
  const evidenceObj = (assessment ? assessment.findings : ev.facts).map((f) => ({ title: f.title, value: withoutSeedNumbers(humanTimes(f.value, opts.now)) }));
  // Its blast radius first: what a production step affects, in words (as approved once it has a plan).
  const effect =
    step.plan?.effect ??
    (def.production && def.effect
      ? def.effect(
          stepContextOf(m, step),
          effectFacts(steps, step.batch, (r) => plannedStepOf(m, r).def.title),
        )
      : null);
  const headline = assessment?.recommendation
    ? { label: 'Recommendation', text: assessment.recommendation, style: 'emphasis' }
    : effect && def.production
      ? { label: step.state === 'succeeded' ? 'What it affected' : 'What it affects', text: effect, style: step.state === 'succeeded' ? 'default' : 'warning' }
      : null;
  const baseOfUserSpecific = !!opts.userSpecific && !opts.viewerOid;
  const viewerIsOwner = opts.viewerOid ? isOwner(m.policy, opts.viewerOid, ownerView.owners) : !baseOfUserSpecific;
  let refreshUserIds: string[] | null = null;
  if (baseOfUserSpecific && step.state === 'awaiting_approval') {
    refreshUserIds = [...ownerView.owners]
      .map((o) => snapshot.people[o]?.teamsId)
      .filter((x): x is string => !!x)
      .slice(0, MAX_REFRESH_USERS);
  }
  // A cancelled migration's cards have no buttons (only Refresh): nothing of it runs any more.
  const live = m.state !== 'cancelled';
  const awaitingOperator = step.state === 'running' && (step.evidence as any)?.awaitingOperator === true;
  const blocker = step.plan?.preview?.blocker ?? null;
  const buttons = {
    request: live && (step.state === 'pending' || step.state === 'rejected'),
    approve: live && step.state === 'awaiting_approval' && viewerIsOwner,
    confirm: live && step.state === 'awaiting_approval' && (def.approval === 'sensitive' || !!blocker) && viewerIsOwner,
    done: live && awaitingOperator,
    retry: live && (step.state === 'failed' || step.state === 'lost'),
    markDone: live && step.state === 'lost',
  };
  const done = steps.filter(isDone).length;
  const shown = stateOf(step);
  const noticeText =
    opts.notice ?? (live ? null : `${m.name} was cancelled${wasCancelled(step) ? `: ${(step.evidence as any).skipped}` : ''}. Nothing of it runs any more.`);
  // The assessment's findings can be downloaded in full (CSV) once it has run.
  const report =
    opts.links && step.state === 'succeeded' && findingsOf(step) && isAssessment(m, step)
      ? { url: opts.links.url('assessments', m.id, opts.now, 'csv') }
      : null;
  return renderCard('step', {
    migration: { id: m.id, name: m.name, stepsTotal: steps.length, stepsDone: done },
    step: { seq: step.seq, title: def.title, purpose: withoutSeedNumbers(def.purpose), version: step.version, attempt: step.attempt },
    batchLabel: planned.batch ? ` · batch ${planned.batch}` : '',
    stateLabel: awaitingOperator ? 'Approved — waiting for the person doing it' : shown.label,
    stateIcon: shown.icon,
    stateColor: shown.color,
    stateStyle: shown.style,
    headline,
    warningRuns: def.warning ? citations(def.warning) : [],
    sourceRuns: citations(def.source),
    facts: withLong(facts).short,
    longFacts: withLong(facts).long,
    evidence: withLong(evidenceObj).short,
    evidenceLong: withLong(evidenceObj).long,
    details: ev.details,
    error: step.error ?? null,
    errorRuns: step.error ? citations(humanTimes(step.error.message, opts.now)) : [],
    notice: noticeText,
    noticeRuns: noticeText ? citations(humanTimes(noticeText, opts.now)) : [],
    plan: planLines(step.plan),
    planHash: step.planHash ? step.planHash.slice(0, 16) : null,
    buttons,
    requestTitle: def.approval !== 'none' ? 'Request approval' : def.action.kind === 'manual' ? 'Confirm done' : 'Run',
    goLive: goLiveView(step.plan?.preview ?? null, blocker),
    operatorNote: awaitingOperator
      ? `Approved: go ahead now${(step.evidence as any)?.goAt ? ` (since ${fmtTime((step.evidence as any).goAt, opts.now)})` : ''}. Do the checklist under "What will run", then press "Done — verify": the step is done only when the verification proves it.`
      : null,
    confirmLabel:
      blocker && def.approval !== 'sensitive'
        ? `${blocker} To approve anyway, type the migration's name:`
        : "This cannot be undone. Type the migration's name to approve:",
    approverNote,
    refreshUserIds,
    report,
  });
}

/** The go-live figures on a card: one line per connector, the objects on request, styled by what they hold. */
function goLiveView(p: StepPlan['preview'] | null, blocker: string | null) {
  if (!p) return null;
  const deletes = Object.entries(p.counts).some(([k, n]) => k.endsWith('.delete') && n > 0);
  return {
    total: p.total,
    lines: p.lines.map((line) => ({ line })),
    objects: p.objects.map((o) => ({ line: `${o.operation.padEnd(6)} ${o.connector.padEnd(5)} ${o.objectType.padEnd(8)} ${o.dn}` })),
    more: Math.max(0, p.total - p.objects.length),
    blocker,
    style: blocker ? 'attention' : deletes ? 'warning' : 'emphasis',
  };
}

/** The assessment: its recommendation first, then one fact per finding, as the downloadable report has one row per finding. */
function assessmentView(step: StepRow): { recommendation: string | null; findings: { title: string; value: string }[] } {
  const findings = findingsOf(step) ?? [];
  const recommendation =
    (step.evidence as { recommendation?: string } | null)?.recommendation ?? findings.find((f) => f.area === 'Recommendation')?.result ?? null;
  return {
    recommendation: recommendation ? withoutSeedNumbers(recommendation) : null,
    findings: findings.filter((f) => f.area !== 'Recommendation').map(findingFact),
  };
}

function auditCheckpointText(migrationId: string): string {
  const c = latestCheckpoint(migrationId);
  return c ? `row ${c.rowId} · ${c.hash.slice(0, 16)}… · ${fmtTime(c.at)}` : 'none yet';
}

/**
 * A migration's overview: its open incidents first (severity, title, since when), then its progress, facts and every
 * step. `openAlerts`: the unresolved incidents affecting it (shared ones included).
 */
export async function overviewCard(engine: RunbookEngine, m: Migration, people: People, opts: { openAlerts?: AlertRecord[]; now?: Date } = {}): Promise<Card> {
  const steps = await engine.getSteps(m.id);
  const done = steps.filter(isDone).length;
  const current = currentStep(steps);
  const owners = await Promise.all(m.policy.owners.map(async (o) => (await people.nameOf(o)) ?? o));
  const cancelledBy = m.state === 'cancelled' ? steps.map((s) => (wasCancelled(s) ? String((s.evidence as any).skipped) : '')).find(Boolean) : undefined;
  const view = m.policy.ownersGroup ? await engine.ownerView(m) : null;
  const groupFact = !m.policy.ownersGroup
    ? []
    : view?.group
      ? [
          {
            title: 'Owners group',
            value: `${view.group.name ?? m.policy.ownersGroup} (${view.group.members.length} member${view.group.members.length === 1 ? '' : 's'}: ${truncate(view.group.members.map((x) => x.displayName ?? x.id).join(', ') || 'none', 200)})`,
          },
        ]
      : [{ title: 'Owners group', value: `${m.policy.ownersGroup} (${view?.groupError ?? 'not readable now'})` }];
  const now = opts.now ?? new Date();
  return renderCard('migration-overview', {
    id: m.id,
    name: m.name,
    alerts: (opts.openAlerts ?? []).map((a) => ({ line: alertLine(a, now) })),
    alertsTitle: openAlertsTitle((opts.openAlerts ?? []).length),
    kindTitle: runbookOf(m.kind).title,
    progress:
      m.state === 'completed'
        ? `Completed: ${done} of ${steps.length} steps done.`
        : m.state === 'cancelled'
          ? `Cancelled${cancelledBy ? ` (${cancelledBy.replace(/^the migration was /, '')})` : ''}: ${done} of ${steps.length} steps had been done; nothing more runs.`
          : `${done} of ${steps.length} steps done${current ? ` · now: ${engine.plannedStep(m, current).def.title} (${STATE[current.state].label})` : ''}`,
    facts: [
      { title: 'Migration id', value: m.id },
      { title: 'Domain', value: m.domain },
      { title: 'OU batches', value: m.ous.map((o, i) => `${i + 1}. ${o}`).join('; ') },
      { title: 'Change owners', value: owners.join(', ') || (m.policy.ownersGroup ? 'the owners group' : '—') },
      ...groupFact,
      {
        title: 'Approvals',
        value: `${m.policy.quorum} owner${m.policy.quorum > 1 ? 's' : ''} per step${m.policy.fourEyes ? '; a requester never approves their own step' : ''}; requests expire after ${Math.round(m.policy.expiryMs / 3_600_000)} h`,
      },
      { title: 'Change windows', value: m.policy.changeWindows?.length ? describeWindows(m.policy.changeWindows) : 'any time' },
      { title: 'Started by', value: `${m.createdBy.name}, ${fmtTime(m.createdAt)}` },
      // The chain's head as signed outside the database: a rewritten or truncated audit no longer matches it.
      { title: 'Audit checkpoint', value: auditCheckpointText(m.id) },
    ],
    steps: stepLines(engine, m, steps),
  });
}

/** Every step of a migration, one line each, in order: as the overview and `status <migration>` list them. */
export function stepLines(
  engine: RunbookEngine,
  m: Migration,
  steps: StepRow[],
): { icon: string; seq: number; title: string; batchLabel: string; stateLabel: string }[] {
  return steps.map((s) => {
    const p = engine.plannedStep(m, s);
    return { icon: stateOf(s).icon, seq: s.seq, title: p.def.title, batchLabel: p.batch ? ` (batch ${p.batch})` : '', stateLabel: stateOf(s).label };
  });
}

/** One fact per OU batch: its OU, its steps done, where it is (or that it was rolled back). */
export function batchFacts(engine: RunbookEngine, m: Migration, steps: StepRow[]): { title: string; value: string }[] {
  if (!steps.some((s) => s.batch)) return [];
  return m.ous.map((ou, i) => {
    const mine = steps.filter((s) => s.batch === i + 1);
    const done = mine.filter(isStepDone).length;
    const current = currentStep(mine);
    const rollback = mine.some((s) => s.key.startsWith('rollback-'));
    const where = current
      ? `${rollback ? 'rolling back · ' : ''}now: ${engine.plannedStep(m, current).def.title} (${STATE[current.state].label})`
      : rollback
        ? 'rolled back to Connect Sync'
        : mine.length
          ? 'done'
          : 'no steps';
    return { title: `Batch ${i + 1}`, value: `${ou} · ${done} of ${mine.length} steps done · ${where}` };
  });
}

/** One policy, in words, field by field (for old → new). */
async function describePolicy(engine: RunbookEngine, people: People, m: Migration, p: ApprovalPolicy): Promise<Record<string, string>> {
  const names = await Promise.all(p.owners.map(async (o) => (await people.nameOf(o)) ?? o));
  let group = '—';
  if (p.ownersGroup) {
    const g = await engine.ownersGroup({ tenantId: m.tenantId, policy: p }).catch(() => null);
    group = g ? `${g.name ?? p.ownersGroup} (${g.members.length} member${g.members.length === 1 ? '' : 's'})` : p.ownersGroup;
  }
  return {
    'Approvals per step': `${p.quorum} (sensitive steps: at least ${Math.max(2, p.quorum)})`,
    'Change owners': names.join(', ') || '—',
    'Owners group': group,
    'Change windows': p.changeWindows?.length ? describeWindows(p.changeWindows) : 'any time',
    'Requests expire after': `${Math.round(p.expiryMs / 3_600_000)} h`,
  };
}

const POLICY_STATE: Record<PolicyChange['state'], { label: string; color: string; style: string }> = {
  awaiting_approval: { label: 'Waiting for approval', color: 'Warning', style: 'warning' },
  applied: { label: 'Approved — the new policy applies', color: 'Good', style: 'good' },
  rejected: { label: 'Rejected — the policy is unchanged', color: 'Attention', style: 'attention' },
  expired: { label: 'Expired — the policy is unchanged', color: 'Attention', style: 'attention' },
};

/** A policy-change card: old → new, who asked, who decided, what is still needed. */
export async function policyChangeCard(
  engine: RunbookEngine,
  changes: PolicyChanges,
  people: People,
  m: Migration,
  c: PolicyChange,
  opts: { notice?: string; now: Date; viewerOid?: string },
): Promise<Card> {
  const before = await describePolicy(engine, people, m, c.oldPolicy);
  const after = await describePolicy(engine, people, m, c.newPolicy);
  const rows = Object.keys(after).map((k) => ({ title: k, value: before[k] === after[k] ? `${after[k]} (unchanged)` : `${before[k]} → ${after[k]}` }));
  const { verdict, records } = await changes.verdict(c);
  const facts: { title: string; value: string }[] = [
    { title: 'Asked by', value: `${c.requestedBy.name}, ${fmtTime(c.requestedAt, opts.now)}` },
    { title: 'Approval', value: `${c.oldPolicy.quorum} current change owner${c.oldPolicy.quorum > 1 ? 's' : ''}, not the requester` },
  ];
  const approved = records.filter((r) => r.decision === 'approve');
  const rejected = records.filter((r) => r.decision === 'reject');
  if (approved.length)
    facts.push({ title: 'Approved by', value: approved.map((r) => `${r.approverName ?? r.approverOid}, ${fmtTime(r.at, opts.now)}`).join('; ') });
  if (rejected.length)
    facts.push({ title: 'Rejected by', value: rejected.map((r) => `${r.approverName ?? r.approverOid}${r.comment ? `: "${r.comment}"` : ''}`).join(', ') });
  if (c.state === 'awaiting_approval' && verdict.status === 'pending') {
    facts.push({ title: 'Still needed', value: moreApprovals(verdict.needed - verdict.approvedBy.length) });
    facts.push({ title: 'Expires', value: fmtTime(verdict.expiresAt, opts.now) });
  }
  if (c.decidedAt) facts.push({ title: 'Decided', value: fmtTime(c.decidedAt, opts.now) });
  const s = POLICY_STATE[c.state];
  return renderCard('policy-change', {
    migrationId: m.id,
    migrationName: m.name,
    changeId: c.id,
    version: c.version,
    stateLabel: `${s.label} · change ${c.id}`,
    stateColor: s.color,
    stateStyle: s.style,
    notice: opts.notice ?? null,
    changes: rows,
    facts,
    buttons: { decide: c.state === 'awaiting_approval' },
  });
}
