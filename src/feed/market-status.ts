/**
 * The NYSE holidays and early closes Polygon announces at `GET /v1/marketstatus/upcoming`,
 * turned into `CalendarOverrides` for `calendar.install(...)`.
 *
 * Polygon answers with a bare JSON array, one entry per (exchange, date):
 *
 *   { "exchange": "NYSE", "name": "Thanksgiving", "date": "2026-11-26", "status": "closed" }
 *   { "exchange": "NYSE", "name": "Thanksgiving", "date": "2026-11-27", "status": "early-close",
 *     "open": "2026-11-27T14:30:00.000Z", "close": "2026-11-27T18:00:00.000Z" }
 *
 * Only NYSE entries count (the 12 symbols are NYSE Arca ETFs, which keep NYSE's calendar).
 * The calendar models a 09:30 open only, so `open` is not used.
 *
 * `fetchMarketCalendar` goes through `@polygon.io/client-js` (`getMarketHolidays`). That
 * client puts the API key in the query string, where it can end up in error messages, so
 * errors are rebuilt here: message and fields come from us, the key is redacted, and the
 * client's error (which holds the request URL) is not kept as `cause`.
 */

import { newYorkWall, wallDate } from '../contracts/new-york-time.ts';
import { restClient } from '@polygon.io/client-js';
import type { CalendarOverrides } from '../contracts/market-calendar.ts';

/** One entry of `/v1/marketstatus/upcoming` as Polygon documents it; anything may be missing. */
export interface UpcomingEntry {
  exchange?: unknown;
  name?: unknown;
  /** New York date, YYYY-MM-DD. */
  date?: unknown;
  /** `closed` or `early-close`. */
  status?: unknown;
  /** ISO instant of the open on an early-close day. */
  open?: unknown;
  /** ISO instant of the regular close on an early-close day. */
  close?: unknown;
}

export interface FetchMarketCalendarOptions {
  /** Polygon REST base, e.g. `https://api.polygon.io` or the simulator's `restUrl`. */
  restUrl: string;
  apiKey: string;
  /** Whole-request deadline in ms (connect, headers, body); default 10000. */
  timeoutMs?: number;
}

/** A failed `/v1/marketstatus/upcoming` call. The message never contains the API key. */
export class MarketStatusError extends Error {
  /** HTTP status when the server answered, else undefined. */
  readonly status: number | undefined;
  /** `timeout`, `http`, `bad_body`, or the network error code (e.g. `ECONNREFUSED`). */
  readonly code: string;

  constructor(message: string, code: string, status?: number) {
    super(message);
    this.name = 'MarketStatusError';
    this.code = code;
    this.status = status;
  }
}

export const UPCOMING_PATH = '/v1/marketstatus/upcoming';
const DEFAULT_TIMEOUT_MS = 10_000;
const FALLBACK_HOLIDAY_NAME = 'Market holiday';
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** New York date and `HH:MM` of an instant, and whether it falls on a whole minute. */
function nyWall(ms: number): { date: string; hhmm: string; wholeMinute: boolean } {
  const w = newYorkWall(ms);
  return {
    date: wallDate(w),
    hhmm: `${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}`,
    wholeMinute: w.second === 0 && ms % 1000 === 0,
  };
}

function isRealDate(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  const m = DATE_RE.exec(text);
  if (m === null) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const check = new Date(Date.UTC(y, mo - 1, d));
  return check.getUTCFullYear() === y && check.getUTCMonth() === mo - 1 && check.getUTCDate() === d;
}

/** An early close the calendar accepts: after the 09:30 open, no later than 16:00. */
function isSessionClose(hhmm: string): boolean {
  return hhmm > '09:30' && hhmm <= '16:00';
}

/**
 * NYSE holidays and early closes from a `/v1/marketstatus/upcoming` body. Pure.
 *
 * - `closed` -> `holidays[date] = name` (a missing or empty name becomes "Market holiday":
 *   the closure is what matters).
 * - `early-close` -> `earlyCloses[date] = HH:MM`, the New York wall time of the `close`
 *   instant (DST-correct). The entry is ignored unless `close` parses, lies on `date` in New
 *   York, falls on a whole minute, and is within 09:31..16:00.
 * - Other exchanges, other statuses, non-objects and entries without a valid `date` are
 *   ignored; so is anything that is not an array (the result is then empty).
 * - Conflicts for one date: `closed` wins over `early-close`; of several early closes, the
 *   earliest wins.
 *
 * Every value it returns is accepted by `calendar.install`.
 */
export function overridesFromUpcoming(entries: unknown): CalendarOverrides {
  const holidays: Record<string, string> = {};
  const earlyCloses: Record<string, string> = {};
  if (!Array.isArray(entries)) return { holidays, earlyCloses };
  for (const raw of entries as unknown[]) {
    if (typeof raw !== 'object' || raw === null) continue;
    const e = raw as UpcomingEntry;
    if (typeof e.exchange !== 'string' || e.exchange.trim().toUpperCase() !== 'NYSE') continue;
    if (!isRealDate(e.date)) continue;
    const date = e.date;
    if (e.status === 'closed') {
      const name = typeof e.name === 'string' && e.name.trim() !== '' ? e.name.trim() : FALLBACK_HOLIDAY_NAME;
      if (!Object.hasOwn(holidays, date)) holidays[date] = name;
    } else if (e.status === 'early-close') {
      if (typeof e.close !== 'string') continue;
      const closeMs = Date.parse(e.close);
      if (!Number.isFinite(closeMs)) continue;
      const wall = nyWall(closeMs);
      if (wall.date !== date || !wall.wholeMinute || !isSessionClose(wall.hhmm)) continue;
      const seen = earlyCloses[date];
      if (seen === undefined || wall.hhmm < seen) earlyCloses[date] = wall.hhmm;
    }
  }
  for (const date of Object.keys(holidays)) delete earlyCloses[date];
  return { holidays, earlyCloses };
}

/** Replaces the key (raw and URL-encoded) and any `apiKey=` query value with `***`. */
function redact(text: string, apiKey: string): string {
  let out = text.replace(/(apiKey=)[^&\s"']*/gi, '$1***');
  for (const form of new Set([apiKey, encodeURIComponent(apiKey)])) {
    if (form !== '') out = out.split(form).join('***');
  }
  return out;
}

interface ClientErrorLike {
  code?: unknown;
  message?: unknown;
  response?: { status?: unknown; data?: unknown };
}

function describeBody(data: unknown): string {
  if (typeof data === 'object' && data !== null) {
    const d = data as Record<string, unknown>;
    const text = d['error'] ?? d['message'] ?? d['status'];
    if (typeof text === 'string') return text;
  }
  return typeof data === 'string' ? data : '';
}

/**
 * Fetches `/v1/marketstatus/upcoming` and returns its NYSE overrides
 * (`overridesFromUpcoming`). Rejects with a `MarketStatusError` on a network error, a non-2xx
 * answer, a body that is not an array, or after `timeoutMs`; the error's message, stack and
 * fields never contain the API key.
 */
export async function fetchMarketCalendar(opts: FetchMarketCalendarOptions): Promise<CalendarOverrides> {
  const { apiKey } = opts;
  if (typeof apiKey !== 'string' || apiKey === '') throw new TypeError('fetchMarketCalendar: apiKey must be a non-empty string');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`fetchMarketCalendar: timeoutMs must be positive, got ${timeoutMs}`);
  let base: URL;
  try {
    base = new URL(opts.restUrl);
  } catch {
    throw new TypeError('fetchMarketCalendar: restUrl is not a URL');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError('fetchMarketCalendar: restUrl must be http(s)');
  base.search = '';
  base.hash = '';
  const baseText = base.toString().replace(/\/+$/, '');
  const where = redact(`GET ${baseText}${UPCOMING_PATH}`, apiKey);

  const rest = restClient(apiKey, baseText);
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new MarketStatusError(`${where}: no answer within ${timeoutMs} ms`, 'timeout'));
    }, timeoutMs);
  });

  let body: unknown;
  try {
    body = await Promise.race([rest.getMarketHolidays({ timeout: timeoutMs, signal: abort.signal }), deadline]);
  } catch (err) {
    if (err instanceof MarketStatusError) throw err;
    const e = (typeof err === 'object' && err !== null ? err : {}) as ClientErrorLike;
    const status = typeof e.response?.status === 'number' ? e.response.status : undefined;
    if (status !== undefined) {
      const detail = describeBody(e.response?.data).slice(0, 200);
      throw new MarketStatusError(redact(`${where}: HTTP ${status}${detail ? ` (${detail})` : ''}`, apiKey), 'http', status);
    }
    const code = typeof e.code === 'string' && /^[A-Z_]{2,40}$/.test(e.code) ? e.code : 'network';
    const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED';
    const message = typeof e.message === 'string' ? e.message.slice(0, 200) : String(err).slice(0, 200);
    throw new MarketStatusError(redact(timedOut ? `${where}: no answer within ${timeoutMs} ms` : `${where}: ${message}`, apiKey), timedOut ? 'timeout' : code);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }

  // The client's response interceptor unwraps axios' response, so `body` is the JSON array;
  // accept an axios-style `{ data: [...] }` too in case a client version stops unwrapping.
  const entries = Array.isArray(body)
    ? body
    : typeof body === 'object' && body !== null && Array.isArray((body as { data?: unknown }).data)
      ? (body as { data: unknown[] }).data
      : undefined;
  if (entries === undefined) throw new MarketStatusError(`${where}: the answer is not an array`, 'bad_body');
  return overridesFromUpcoming(entries);
}
