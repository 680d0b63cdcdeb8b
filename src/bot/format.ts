/**
 * How every card writes a time and a duration: one format, in UTC ("2026-12-05 04:37 UTC"), with how far it is from
 * now where that helps ("in 2 h", "3 min ago"), relative to the injected clock; durations in words ("every 2 minutes",
 * never "PT2M"). Pure functions: cards stay pure functions of their data.
 */

const pad = (n: number) => String(n).padStart(2, '0');

/** "2026-12-05 04:37 UTC"; "—" for no time. */
export function formatUtc(d: Date | string | null | undefined): string {
  const t = toDate(d);
  if (!t) return '—';
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())} UTC`;
}

/** "in 2 h", "3 min ago", "just now": how far `d` is from `now`, rounded as a person would say it. */
export function relativeTo(d: Date | string, now: Date): string {
  const t = toDate(d);
  if (!t) return '';
  const ms = t.getTime() - now.getTime();
  const words = roughly(Math.abs(ms));
  if (!words) return 'just now';
  return ms > 0 ? `in ${words}` : `${words} ago`;
}

/** "2026-12-05 04:37 UTC (3 min ago)": the time, and how far it is from now when a clock is given. */
export function formatTime(d: Date | string | null | undefined, now?: Date): string {
  const t = toDate(d);
  if (!t) return '—';
  return now ? `${formatUtc(t)} (${relativeTo(t, now)})` : formatUtc(t);
}

/** From `a` to `b`, e.g. "2026-12-05 04:37–04:38 UTC (1 min)". */
export function formatSpan(a: Date | string | null | undefined, b: Date | string | null | undefined): string {
  const s = toDate(a);
  const e = toDate(b);
  if (!s || !e) return formatUtc(s ?? e);
  const sameDay = formatUtc(s).slice(0, 10) === formatUtc(e).slice(0, 10);
  const end = sameDay ? formatUtc(e).slice(11) : formatUtc(e);
  const took = formatDuration(e.getTime() - s.getTime());
  return `${formatUtc(s).replace(/ UTC$/, '')}–${end} (${took})`;
}

/** A length of time in words: "2 minutes", "1 hour 30 minutes", "3 days", "less than a minute". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return s <= 1 ? (s === 1 ? '1 second' : 'less than a second') : `${s} seconds`;
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [size, name] of units) {
    const n = Math.floor(rest / size);
    if (n) parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  return parts.join(' ') || 'less than a minute';
}

/**
 * An interval as Graph or PowerShell spell it — ISO 8601 ("PT2M", "P1DT2H", "PT40M") or .NET TimeSpan ("00:30:00",
 * "1.02:00:00") — in words: "2 minutes". Text it cannot read is returned as it is.
 */
export function intervalInWords(spec: string | null | undefined): string {
  if (!spec) return '—';
  const ms = intervalMs(spec);
  return ms === null ? spec : formatDuration(ms);
}

/** The interval in milliseconds, or null when it is neither ISO 8601 nor a TimeSpan. */
export function intervalMs(spec: string): number | null {
  const iso = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(spec.trim());
  if (iso && spec.trim().length > 1 && !/T$/i.test(spec.trim())) {
    const [, w, d, h, m, sec] = iso.map((x) => (x === undefined ? 0 : Number(x))) as number[];
    return ((((w * 7 + d) * 24 + h) * 60 + m) * 60 + sec) * 1000;
  }
  const ts = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.\d+)?$/.exec(spec.trim());
  if (ts) {
    const [, d, h, m, sec] = ts.map((x) => (x === undefined ? 0 : Number(x))) as number[];
    return (((d * 24 + h) * 60 + m) * 60 + sec) * 1000;
  }
  return null;
}

/** "every 2 minutes". */
export function everyInterval(spec: string | null | undefined): string {
  const words = intervalInWords(spec);
  return words === '—' ? words : `every ${words.replace(/^1 (minute|hour|day|second)$/, '$1')}`;
}

/** An age in words, for lists ("Waiting for 3 h"): minutes below an hour, hours below two days, then days. */
export function ageInWords(d: Date, now: Date): string {
  return roughly(Math.max(0, now.getTime() - d.getTime())) || 'less than a minute';
}

function roughly(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (min < 1) return '';
  if (min < 60) return `${min} min`;
  const h = Math.round(min / 60);
  if (min < 48 * 60) return `${h} h`;
  return `${Math.round(min / 1440)} days`;
}

function toDate(d: Date | string | null | undefined): Date | null {
  if (d === null || d === undefined || d === '') return null;
  const t = d instanceof Date ? d : new Date(d);
  return Number.isNaN(t.getTime()) ? null : t;
}

/** A Cloud Sync job's schedule (Graph synchronizationSchedule) in words: "enabled: runs every 2 minutes". */
export function scheduleInWords(state: string, interval?: string | null): string {
  const every = interval ? everyInterval(interval) : null;
  if (state === 'Active') return every ? `enabled: runs ${every}` : 'enabled';
  if (state === 'Disabled') return every ? `not enabled (it would run ${every})` : 'not enabled';
  if (state === 'Paused') return every ? `paused (it runs ${every} once resumed)` : 'paused';
  return every ? `${state}, ${every}` : state;
}
