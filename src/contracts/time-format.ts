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
  return new Date(minuteStart(ms)).toISOString().slice(0, 16) + ':00Z';
}

/** Inverse of formatTsET; NaN when the text is not in the contract format. */
export function parseTsET(text: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/.test(text)) return Number.NaN;
  return Date.parse(text);
}
