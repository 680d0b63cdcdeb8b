import { describe, expect, it } from 'vitest';
import { inAnyWindow, nextWindowStart, parseWindow } from '../../src/runbooks/windows.js';

describe('change windows', () => {
  const night = parseWindow('Mon-Fri 22:00-06:00 Europe/Paris');

  it('parses days, times and the time zone, and refuses nonsense with a reason', () => {
    expect(night).toEqual({ days: [1, 2, 3, 4, 5], start: '22:00', end: '06:00', timeZone: 'Europe/Paris' });
    expect(parseWindow('Sat,Sun 08:00-12:00 UTC').days).toEqual([0, 6]);
    expect(() => parseWindow('Someday 22:00-06:00 Europe/Paris')).toThrow(/not a change window|unknown day/);
    expect(() => parseWindow('Mon 25:00-06:00 UTC')).toThrow(/time of day/);
    expect(() => parseWindow('Mon 22:00-06:00 Mars/Olympus')).toThrow(/time zone/);
  });

  it('knows when a window crossing midnight is open, in its own time zone', () => {
    // Paris is UTC+1 in November
    expect(inAnyWindow([night], new Date('2026-11-23T21:30:00Z'))).toBe(true); // Mon 22:30 Paris
    expect(inAnyWindow([night], new Date('2026-11-24T04:59:00Z'))).toBe(true); // Tue 05:59 Paris
    expect(inAnyWindow([night], new Date('2026-11-24T05:00:00Z'))).toBe(false); // Tue 06:00 Paris
    expect(inAnyWindow([night], new Date('2026-11-28T21:30:00Z'))).toBe(false); // Sat 22:30 Paris
    expect(inAnyWindow([night], new Date('2026-11-29T02:00:00Z'))).toBe(false); // Sun 03:00 Paris (Sat night not listed)
    expect(inAnyWindow([], new Date())).toBe(true); // no windows: always allowed
  });

  it('finds the next window start, or none within the horizon', () => {
    expect(nextWindowStart([night], new Date('2026-11-23T12:00:00Z'))!.toISOString()).toBe('2026-11-23T21:00:00.000Z');
    expect(nextWindowStart([night], new Date('2026-11-28T12:00:00Z'))!.toISOString()).toBe('2026-11-30T21:00:00.000Z'); // Saturday → Monday night
    expect(nextWindowStart([night], new Date('2026-11-28T12:00:00Z'), 86_400_000)).toBeNull();
  });
});
