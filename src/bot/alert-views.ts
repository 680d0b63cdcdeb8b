import type { AlertHistoryEntry, AlertRecord } from '../monitor/alerts.js';
import type { RunbookEngine } from '../runbooks/engine.js';
import { RESTART_OPEN, restartMigration, restartView, type RestartView } from '../runbooks/incident-restarts.js';
import { withoutSeedNumbers } from '../runbooks/sources.js';
import { renderCard, splitLongFacts, type Card } from './cards.js';
import { humanTimes } from './evidence.js';
import { formatTime } from './format.js';

const SEVERITY = {
  critical: { label: 'CRITICAL', style: 'attention', color: 'Attention', icon: '🔴' },
  warning: { label: 'WARNING', style: 'warning', color: 'Warning', icon: '🟠' },
  info: { label: 'INFO', style: 'emphasis', color: 'Default', icon: '🔵' },
} as const;

/** An incident in one line, for `status`, the overview and lists: severity, title, since when (and who has it). */
export function alertLine(a: Pick<AlertRecord, 'severity' | 'title' | 'openedAt' | 'state' | 'ackedBy' | 'snoozedUntil'>, now: Date): string {
  const sev = SEVERITY[a.severity];
  const who =
    a.state === 'acknowledged'
      ? ` · acknowledged by ${a.ackedBy}`
      : a.state === 'snoozed'
        ? ` · snoozed by ${a.ackedBy} until ${formatTime(a.snoozedUntil, now)}`
        : '';
  return `${sev.icon} ${sev.label} · ${a.title} · since ${formatTime(a.openedAt, now)}${who}`;
}

/** "1 open alert", "3 open alerts": the heading of the alerts `status` and the overview start with. */
export function openAlertsTitle(n: number): string {
  return `${n} open alert${n === 1 ? '' : 's'}`;
}

/** Card data is a record of the store; cards built from older records (or tests) may lack what an incident added. */
export type AlertCardInput = Omit<AlertRecord, 'subject' | 'resolvedBy' | 'migrations' | 'posts' | 'history'> &
  Partial<Pick<AlertRecord, 'subject' | 'resolvedBy' | 'migrations' | 'posts' | 'history'>>;

/** "Pilot", "Pilot, Sales and Finance", "Pilot, Sales, Finance and 2 more". */
function namesOf(names: string[], max = 3): string {
  if (names.length <= 1) return names[0] ?? '';
  const shown = names.slice(0, max);
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}

function historyLine(h: AlertHistoryEntry, now: Date): string {
  const at = formatTime(h.at, now);
  switch (h.event) {
    case 'opened':
      return `Opened ${at}`;
    case 'joined':
      return `${h.migration} affected too, ${at}`;
    case 'acknowledged':
      return `Acknowledged by ${h.by}, ${at}`;
    case 'snoozed':
      return `Snoozed by ${h.by} until ${formatTime(h.until, now)}, ${at}`;
    case 'woke':
      return `Snooze ended, ${at}`;
    case 'resolved':
      return h.by ? `Resolved by ${h.by}, ${at}` : `Resolved automatically (the condition cleared), ${at}`;
    case 'left':
      return `${h.migration} no longer watched${h.note ? ` (${h.note})` : ''}, ${at}`;
  }
}

function restartText(r: RestartView, now: Date): { text: string; style: string } {
  const where = `step ${r.seq} of ${r.stepsTotal} of ${r.migrationName}`;
  const by = r.requestedBy ? `requested by ${r.requestedBy}` : null;
  const approved = r.approvedBy.length ? `approved by ${r.approvedBy.join(', ')}` : null;
  switch (r.state) {
    case 'pending':
      return { text: `Restart added as ${where}: its approval has not been asked yet (Request approval on the step's card).`, style: 'warning' };
    case 'awaiting_approval':
      return { text: `Restart ${by ?? 'requested'} — waiting for approval (${where}${approved ? `; ${approved} so far` : ''}).`, style: 'warning' };
    case 'approved':
      return {
        text: `Restart ${approved ?? 'approved'} — ${r.runAfter ? `runs at ${formatTime(r.runAfter, now)}, in the change window` : 'starting'} (${where}).`,
        style: 'accent',
      };
    case 'running':
      return { text: `Restarting (resetScope "${r.resetScope}") — ${[by, approved].filter(Boolean).join(', ')} (${where}).`, style: 'accent' };
    case 'succeeded':
      return r.evidence?.restarted === false
        ? { text: `Restart not sent: ${r.evidence.note ?? 'the job had left quarantine'} (${where}).`, style: 'default' }
        : {
            text: `Restarted (resetScope "${r.resetScope}")${r.evidence?.restartedAt ? ` ${formatTime(r.evidence.restartedAt, now)}` : ''}: ${[by, approved].filter(Boolean).join(', ')} (${where}).${r.evidence?.quarantineAfter ? ` The job is still quarantined: ${r.evidence.quarantineAfter}.` : ''}`,
            style: 'good',
          };
    case 'failed':
      return { text: `Restart failed (${where}): ${r.error ?? 'see the step card'}`, style: 'attention' };
    case 'rejected':
      return { text: `Restart rejected by ${r.rejectedBy.join(', ') || 'a change owner'} (${where}).`, style: 'attention' };
    case 'skipped':
      return { text: `Restart not run (${where}): ${r.evidence?.skipped ?? 'skipped'}`, style: 'default' };
    case 'lost':
      return { text: `Restart interrupted (${where}): check the job, then Retry or Mark done on the step's card.`, style: 'attention' };
  }
}

/**
 * A restart step not done with (waiting, running, or rejected / failed / lost: its own card offers asking again or
 * Retry): the incident card offers no second one, and a click on an older card answers with this one.
 */
/**
 * An incident's card: the migrations it affects by name, severity, what happened and what to do, the restart it asked
 * for (a quarantine), who did what and when; Acknowledge, Snooze, Resolve while unresolved, and Restart for a
 * quarantined job (approved as a step of `restartIn`, the oldest active migration it affects).
 */
export function alertCard(a: AlertCardInput, opts: { notice?: string; now: Date; restart?: RestartView | null; restartIn?: string | null }): Card {
  const sev = SEVERITY[a.severity];
  const names = (a.migrations?.length ? a.migrations.map((m) => m.name) : [a.migrationName]).filter(Boolean);
  const resolvedBy = a.resolvedBy ?? null;
  const stateLabel =
    a.state === 'resolved'
      ? `✅ Resolved ${resolvedBy ? `by ${resolvedBy}` : 'automatically'} ${formatTime(a.resolvedAt, opts.now)}`
      : a.state === 'acknowledged'
        ? `👀 Acknowledged by ${a.ackedBy}`
        : a.state === 'snoozed'
          ? `💤 Snoozed by ${a.ackedBy} until ${formatTime(a.snoozedUntil, opts.now)}`
          : `🔔 Open since ${formatTime(a.openedAt, opts.now)}`;
  // The monitor writes times as ISO text: every card writes them one way.
  const facts = [
    { title: names.length > 1 ? `Affects ${names.length} migrations` : 'Migration', value: names.join(', ') },
    ...a.facts.map((f) => ({ title: f.title, value: humanTimes(f.value, opts.now) })),
    { title: 'Alert id', value: a.id },
    { title: 'Last seen', value: formatTime(a.lastSeenAt, opts.now) },
  ];
  const open = a.state !== 'resolved';
  const restartOffer =
    open && a.action?.kind === 'restart-job' && opts.restartIn && !(opts.restart && RESTART_OPEN.includes(opts.restart.state))
      ? `Restart asks the change owners of ${opts.restartIn}${names.length > 1 ? ' (the oldest migration it affects)' : ''} to approve restarting job ${a.action.jobId} with resetScope "${a.action.resetScope}" (what ${a.action.reason} needs): a step of ${opts.restartIn}, approved like any change.`
      : null;
  return renderCard('alert', {
    id: a.id,
    version: a.version,
    migrationsLabel: namesOf(names),
    severityLabel: sev.label,
    style: a.state === 'resolved' ? 'good' : sev.style,
    color: sev.color,
    title: a.title,
    stateLabel,
    summary: withoutSeedNumbers(humanTimes(a.summary, opts.now)),
    remedy: a.remedy ? withoutSeedNumbers(a.remedy) : null,
    restart: opts.restart ? restartText(opts.restart, opts.now) : null,
    facts: splitLongFacts(facts).short,
    longFacts: splitLongFacts(facts).long,
    objectsTitle: a.objects?.title ?? '',
    objects: (a.objects?.lines ?? []).slice(0, 20).map((line) => ({ line })),
    sections: (a.objects?.sections ?? []).map((s) => ({ title: s.title, lines: s.lines.slice(0, 20).map((line) => ({ line })) })),
    history: (a.history ?? []).slice(-8).map((h) => ({ line: historyLine(h, opts.now) })),
    reportUrl: a.reportUrl ?? null,
    reportTitle: a.objects?.report ? `Full report (CSV, ${a.objects.report.rows} row${a.objects.report.rows === 1 ? '' : 's'})` : 'Full report (CSV)',
    notice: opts.notice ?? null,
    restartOffer,
    whoMayAct: `Acknowledge, snooze${restartOffer ? ', restart' : ''} or resolve: the change owners of ${names.length > 1 ? `any of ${namesOf(names)}` : names[0]} (or the responders group) only; anyone else gets the reason and nothing changes. Resolved by hand while the condition still holds, it opens again at the next check.`,
    buttons: open,
  });
}

/** An incident's card as it is now: the restart it asked for, and where a new one would go, read from the engine. */
export async function incidentCard(engine: RunbookEngine, a: AlertRecord, opts: { notice?: string; now: Date }): Promise<Card> {
  if (a.action?.kind !== 'restart-job') return alertCard(a, opts);
  const [restart, target] = await Promise.all([restartView(engine, a.id), a.state === 'resolved' ? null : restartMigration(engine, a)]);
  return alertCard(a, { ...opts, restart, restartIn: target?.name ?? null });
}
