/**
 * Change windows: when production-changing steps may run, in the change owners' time zone.
 * An approved step outside its window waits for the next window start, or is refused when its
 * approval would expire first.
 */
export interface ChangeWindow {
  /** Days the window opens: 0 = Sunday … 6 = Saturday (local to timeZone). */
  days: number[];
  /** Local opening and closing time, HH:MM; a window may cross midnight (22:00–06:00). */
  start: string;
  end: string;
  timeZone: string;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const STEP_MS = 60_000;

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

/** Local weekday and minute of the day of an instant in a time zone. */
function local(at: Date, timeZone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return { day: DAY_NAMES.indexOf(get('weekday').toLowerCase().slice(0, 3)), minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

export function inWindow(w: ChangeWindow, at: Date): boolean {
  const { day, minute } = local(at, w.timeZone);
  const s = minutes(w.start);
  const e = minutes(w.end);
  if (s < e) return w.days.includes(day) && minute >= s && minute < e;
  // crosses midnight: opens on a listed day at start, closes the next day at end
  return (w.days.includes(day) && minute >= s) || (w.days.includes((day + 6) % 7) && minute < e);
}

export function inAnyWindow(ws: ChangeWindow[], at: Date): boolean {
  return !ws.length || ws.some((w) => inWindow(w, at));
}

/** The first minute at or after `from` that is inside a window, within `horizonMs`; null when none. */
export function nextWindowStart(ws: ChangeWindow[], from: Date, horizonMs = 8 * 86_400_000): Date | null {
  if (inAnyWindow(ws, from)) return from;
  const t0 = Math.ceil(from.getTime() / STEP_MS) * STEP_MS;
  for (let t = t0; t <= from.getTime() + horizonMs; t += STEP_MS) if (inAnyWindow(ws, new Date(t))) return new Date(t);
  return null;
}

/** Parses "Mon-Fri 22:00-06:00 Europe/Paris" (days as a range or a comma list; a valid IANA time zone). */
export function parseWindow(text: string): ChangeWindow {
  const m = /^\s*([A-Za-z]{3}(?:-[A-Za-z]{3})?(?:,[A-Za-z]{3}(?:-[A-Za-z]{3})?)*)\s+(\d{2}:\d{2})-(\d{2}:\d{2})\s+([A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)*)\s*$/.exec(
    text,
  );
  if (!m) throw new Error(`"${text}" is not a change window: write it like "Mon-Fri 22:00-06:00 Europe/Paris"`);
  const days = new Set<number>();
  for (const part of m[1].toLowerCase().split(',')) {
    const [a, b] = part.split('-').map((d) => DAY_NAMES.indexOf(d));
    if (a < 0 || (b !== undefined && b < 0)) throw new Error(`unknown day in "${part}"`);
    if (b === undefined) days.add(a);
    else
      for (let d = a; ; d = (d + 1) % 7) {
        days.add(d);
        if (d === b) break;
      }
  }
  for (const t of [m[2], m[3]]) {
    const [h, mi] = t.split(':').map(Number);
    if (h > 23 || mi > 59) throw new Error(`${t} is not a time of day`);
  }
  if (m[2] === m[3]) throw new Error('a window must open and close at different times');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: m[4] });
  } catch {
    throw new Error(`${m[4]} is not a time zone (use an IANA name like Europe/Paris)`);
  }
  return { days: [...days].sort(), start: m[2], end: m[3], timeZone: m[4] };
}

export function describeWindows(ws: ChangeWindow[]): string {
  return ws.map((w) => `${w.days.map((d) => DAY_NAMES[d]).join(',')} ${w.start}–${w.end} ${w.timeZone}`).join('; ');
}
