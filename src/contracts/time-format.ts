/** Time formats that are part of the wire contract. */

export const MINUTE_MS = 60_000;

/** Start of the UTC minute containing `ms`. */
export function minuteStart(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

/**
 * `tsET` as existing consumers parse it: the minute containing `ms`, in UTC, formatted
 * exactly `YYYY-MM-DDTHH:MM:00Z` (no milliseconds, literal `Z`). The name is historical:
 * the value is UTC, not New York time.
 */
export function formatTsET(ms: number): string {
  const minute = minuteStart(ms);
  // Bars arrive a minute at a time (12,000 of them at a full-market minute close), so the
  // last minute formatted is nearly always the one asked for next.
  if (minute !== lastFormatted.minute) lastFormatted = { minute, text: new Date(minute).toISOString().slice(0, 16) + ':00Z' };
  return lastFormatted.text;
}

let lastFormatted = { minute: Number.NaN, text: '' };
