import type { AlertRecord } from '../monitor/alerts.js';
import { withoutSeedNumbers } from '../runbooks/sources.js';
import { renderCard, splitLongFacts, type Card } from './cards.js';
import { humanTimes } from './evidence.js';
import { formatTime } from './format.js';

const SEVERITY = {
  critical: { label: 'CRITICAL', style: 'attention', color: 'Attention' },
  warning: { label: 'WARNING', style: 'warning', color: 'Warning' },
  info: { label: 'INFO', style: 'emphasis', color: 'Default' },
} as const;

export function alertCard(a: AlertRecord, opts: { notice?: string; now: Date }): Card {
  const sev = SEVERITY[a.severity];
  const stateLabel =
    a.state === 'resolved'
      ? `✅ Resolved ${formatTime(a.resolvedAt, opts.now)}`
      : a.state === 'acknowledged'
        ? `👀 Acknowledged by ${a.ackedBy}`
        : a.state === 'snoozed'
          ? `💤 Snoozed by ${a.ackedBy} until ${formatTime(a.snoozedUntil, opts.now)}`
          : `🔔 Open since ${formatTime(a.openedAt, opts.now)}`;
  // The monitor writes times as ISO text: every card writes them one way.
  const facts = [...a.facts.map((f) => ({ title: f.title, value: humanTimes(f.value, opts.now) })), { title: 'Alert id', value: a.id }, { title: 'Last seen', value: formatTime(a.lastSeenAt, opts.now) }];
  return renderCard('alert', {
    id: a.id,
    version: a.version,
    migrationName: a.migrationName,
    severityLabel: sev.label,
    style: a.state === 'resolved' ? 'good' : sev.style,
    color: sev.color,
    title: a.title,
    stateLabel,
    summary: withoutSeedNumbers(humanTimes(a.summary, opts.now)),
    remedy: a.remedy ? withoutSeedNumbers(a.remedy) : null,
    facts: splitLongFacts(facts).short,
    longFacts: splitLongFacts(facts).long,
    objectsTitle: a.objects?.title ?? '',
    objects: (a.objects?.lines ?? []).slice(0, 20).map((line) => ({ line })),
    sections: (a.objects?.sections ?? []).map((s) => ({ title: s.title, lines: s.lines.slice(0, 20).map((line) => ({ line })) })),
    reportUrl: a.reportUrl ?? null,
    reportTitle: a.objects?.report ? `Full report (CSV, ${a.objects.report.rows} row${a.objects.report.rows === 1 ? '' : 's'})` : 'Full report (CSV)',
    notice: opts.notice ?? null,
    buttons: a.state !== 'resolved',
  });
}
