import { describe, expect, it } from 'vitest';
import {
  ageInWords,
  everyInterval,
  formatDuration,
  formatSpan,
  formatTime,
  formatUtc,
  intervalInWords,
  relativeTo,
  scheduleInWords,
} from '../../src/bot/format.js';
import { humanTimes } from '../../src/bot/evidence.js';

const now = new Date('2026-12-05T04:40:00Z');

describe('one time format, durations in words', () => {
  it('writes a time in UTC to the minute, with how far it is from now', () => {
    expect(formatUtc(new Date('2026-12-05T04:37:59.999Z'))).toBe('2026-12-05 04:37 UTC');
    expect(formatUtc('2026-01-02T03:04:05+02:00')).toBe('2026-01-02 01:04 UTC');
    expect(formatUtc(null)).toBe('—');
    expect(formatTime('2026-12-05T04:37:00Z', now)).toBe('2026-12-05 04:37 UTC (3 min ago)');
    expect(formatTime('2026-12-05T06:40:00Z', now)).toBe('2026-12-05 06:40 UTC (in 2 h)');
    expect(formatTime('2026-12-08T04:40:00Z', now)).toBe('2026-12-08 04:40 UTC (in 3 days)');
    expect(relativeTo(now, now)).toBe('just now');
    expect(formatSpan('2026-12-05T04:37:00Z', '2026-12-05T04:38:30Z')).toBe('2026-12-05 04:37–04:38 UTC (1 minute)');
    expect(ageInWords(new Date('2026-12-05T01:40:00Z'), now)).toBe('3 h');
  });

  it('words ISO 8601 and TimeSpan intervals: never "PT2M"', () => {
    expect(everyInterval('PT2M')).toBe('every 2 minutes');
    expect(everyInterval('PT1M')).toBe('every minute');
    expect(everyInterval('00:30:00')).toBe('every 30 minutes');
    expect(intervalInWords('P1DT2H')).toBe('1 day 2 hours');
    expect(intervalInWords('PT40M')).toBe('40 minutes');
    expect(intervalInWords('1.02:00:00')).toBe('1 day 2 hours');
    expect(intervalInWords('fortnightly')).toBe('fortnightly');
    expect(formatDuration(90_000)).toBe('1 minute');
    expect(formatDuration(3_600_000 * 3 + 60_000 * 5)).toBe('3 hours 5 minutes');
    expect(scheduleInWords('Disabled', 'PT2M')).toBe('not enabled (it would run every 2 minutes)');
    expect(scheduleInWords('Active', 'PT40M')).toBe('enabled: runs every 40 minutes');
  });

  it('rewrites the ISO times inside a text', () => {
    expect(humanTimes('The last cycle succeeded at 2026-12-05T04:37:12.549Z (state Succeeded).', now)).toBe(
      'The last cycle succeeded at 2026-12-05 04:37 UTC (3 min ago) (state Succeeded).',
    );
  });
});
