/** Time is injected everywhere so that a 7-day soak or a 2-hour expiry is tested in milliseconds. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  #t: number;
  constructor(start: Date | string = '2026-11-21T09:00:00Z') {
    this.#t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#t);
  }
  advance(ms: number): Date {
    this.#t += ms;
    return this.now();
  }
  set(t: Date | string): void {
    this.#t = new Date(t).getTime();
  }
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
