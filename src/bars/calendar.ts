/**
 * The NYSE session calendar in New York time: trading days, session bounds, barId.
 *
 * DST-correct through `Intl.DateTimeFormat` (`America/New_York`) and cheap on the hot
 * path: the New York date of an instant and each date's session are computed once per day
 * and cached, so after the first call of a day `barIdOf` and `marketSessionOf` are two Map
 * lookups and arithmetic (no Intl call, no allocation).
 *
 * Session (New York time): pre-market 04:00-09:30, regular 09:30-16:00 (13:00 on early-close
 * days), post-market until 20:00 (17:00 on early-close days, when the late trading sessions
 * close early too). The contract counts the closing minute: the bar starting at 16:00 has
 * barId 391 (211 at a 13:00 close) and belongs to the regular session.
 */

import { newYorkWall } from '../contracts/new-york-time.ts';
import type { MarketSession } from '../contracts/heartbeat.ts';
import type { CalendarOverrides } from '../contracts/market-calendar.ts';
import { MINUTE_MS, minuteStart } from '../contracts/time-format.ts';
import { NYSE_EARLY_CLOSES, NYSE_HOLIDAYS } from './holidays.ts';

/** One New York calendar day of the NYSE. All instants are epoch ms. */
export interface SessionDay {
  /** New York date, YYYY-MM-DD. */
  readonly date: string;
  readonly isTradingDay: boolean;
  /** 04:00 New York: pre-market starts. */
  readonly preOpenMs: number;
  /** 09:30 New York: regular session opens; start of bar 1. */
  readonly openMs: number;
  /** 16:00 (or the early close) New York: start of the last bar of the day (barId = lastBarId). */
  readonly closeMs: number;
  /** End (exclusive) of post-market: 20:00 New York, 17:00 on early-close days. */
  readonly postCloseMs: number;
  readonly earlyClose: boolean;
  /** Name of the holiday when the exchange is closed for one; null otherwise (also on weekends). */
  readonly holiday: string | null;
}

export interface Calendar {
  /** New York date (YYYY-MM-DD) of an instant. Throws RangeError on a non-finite instant. */
  nyDate(ms: number): string;
  /** The session of a New York date, or of the New York date of an instant. */
  sessionDay(at: number | string): SessionDay;
  /** 1-based regular-session minute of the minute containing `minuteStartMs`; null outside it. */
  barIdOf(minuteStartMs: number): number | null;
  /** barId of the closing minute (391, 211 on a 13:00 close), 0 when the exchange is closed. */
  lastBarId(at: number | string): number;
  /** Session of an instant; 'regular' exactly when its minute has a barId. */
  marketSessionOf(ms: number): MarketSession;
  /** Start instants of every minute with a barId, in order (empty when closed). */
  regularMinutes(at: number | string): number[];
  /** Add holidays / early closes (e.g. from `/v1/marketstatus/upcoming`); throws on bad input, changing nothing. */
  install(extra: CalendarOverrides): void;
}

const HOUR_MS = 3_600_000;
const PRE_OPEN = 4 * 60; // minutes after New York midnight
const OPEN = 9 * 60 + 30;
const CLOSE = 16 * 60;
const POST_AFTER_CLOSE = 4 * 60; // post-market lasts 4 h after the close (20:00, or 17:00)
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HHMM_RE = /^(\d{2}):(\d{2})$/;
const CACHE_LIMIT_DAYS = 5_000;

interface WallParts {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

function wallParts(ms: number): WallParts {
  const w = newYorkWall(ms);
  return { y: w.year, mo: w.month, d: w.day, h: w.hour, mi: w.minute, s: w.second };
}

/** New York offset from UTC at an instant, in ms (e.g. -4 h in summer). */
function nyOffsetMs(ms: number): number {
  const p = wallParts(ms);
  const wallAsUtc = Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s);
  return wallAsUtc - (ms - (((ms % 1000) + 1000) % 1000));
}

/**
 * New York date lookup, shared by every calendar (time-zone conversion does not depend on
 * holidays). Keyed by "EST day": the UTC interval [k days + 5 h, k+1 days + 5 h), which is one
 * New York day exactly in winter; in summer the New York date turns one hour before its end.
 * So one entry per day answers every instant of it, and building it costs one Intl call.
 */
interface EstDay {
  date: string;
  next: string;
  /** Instant the New York date becomes `next` (its local midnight). */
  nextStartMs: number;
}

const DAY_MS = 86_400_000;
const EST_MS = 5 * HOUR_MS;
const byEstDay = new Map<number, EstDay>();

function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function nyDateOf(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`not a finite instant: ${ms}`);
  const k = Math.floor((ms - EST_MS) / DAY_MS);
  let entry = byEstDay.get(k);
  if (entry === undefined) {
    const nextMidnightUtc = (k + 1) * DAY_MS;
    // 05:00 UTC is 00:00 EST or 01:00 EDT: local midnight's side of any 02:00 DST switch.
    const offset = nyOffsetMs(nextMidnightUtc + EST_MS);
    entry = { date: utcDate(k * DAY_MS), next: utcDate(nextMidnightUtc), nextStartMs: nextMidnightUtc - offset };
    if (byEstDay.size >= CACHE_LIMIT_DAYS) byEstDay.clear();
    byEstDay.set(k, entry);
  }
  return ms >= entry.nextStartMs ? entry.next : entry.date;
}

function parseDate(date: string): { y: number; mo: number; d: number } {
  const m = DATE_RE.exec(date);
  if (m === null) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date).slice(0, 40)}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    throw new RangeError(`no such date: ${date}`);
  }
  return { y, mo, d };
}

/** `HH:MM` -> minutes after midnight, for an early close (09:31..16:00). */
function parseClose(hhmm: string, date: string): number {
  const m = typeof hhmm === 'string' ? HHMM_RE.exec(hhmm) : null;
  const minutes = m === null ? Number.NaN : Number(m[1]) * 60 + Number(m[2]);
  if (m === null || Number(m[2]) > 59 || !(minutes > OPEN && minutes <= CLOSE)) {
    throw new RangeError(`early close for ${date} must be HH:MM between 09:31 and 16:00, got ${JSON.stringify(hhmm).slice(0, 40)}`);
  }
  return minutes;
}

function computeDay(date: string, holidays: Map<string, string>, earlyCloses: Map<string, number>): SessionDay {
  const { y, mo, d } = parseDate(date);
  const midnightUtc = Date.UTC(y, mo - 1, d);
  // 12:00 UTC is 07:00 or 08:00 in New York: after any 02:00 DST switch of that date, so this
  // offset holds from 04:00 to 20:00 New York time.
  const offset = nyOffsetMs(midnightUtc + 12 * HOUR_MS);
  const at = (minutes: number): number => midnightUtc + minutes * MINUTE_MS - offset;
  const weekday = new Date(midnightUtc).getUTCDay();
  const holiday = holidays.get(date) ?? null;
  const isTradingDay = weekday !== 0 && weekday !== 6 && holiday === null;
  const early = isTradingDay ? earlyCloses.get(date) : undefined;
  const close = early ?? CLOSE;
  return Object.freeze({
    date,
    isTradingDay,
    preOpenMs: at(PRE_OPEN),
    openMs: at(OPEN),
    closeMs: at(close),
    postCloseMs: at(close + POST_AFTER_CLOSE),
    earlyClose: early !== undefined && early < CLOSE,
    holiday,
  });
}

/**
 * A calendar with the built-in NYSE table (2025-2027, see holidays.ts) plus `extra`, which
 * wins over the table for the dates it names.
 */
export function createCalendar(extra?: CalendarOverrides): Calendar {
  const holidays = new Map<string, string>(Object.entries(NYSE_HOLIDAYS));
  const earlyCloses = new Map<string, number>();
  for (const [date, hhmm] of Object.entries(NYSE_EARLY_CLOSES)) earlyCloses.set(date, parseClose(hhmm, date));
  const days = new Map<string, SessionDay>();

  function dayOf(date: string): SessionDay {
    let day = days.get(date);
    if (day === undefined) {
      day = computeDay(date, holidays, earlyCloses);
      if (days.size >= CACHE_LIMIT_DAYS) days.clear();
      days.set(date, day);
    }
    return day;
  }

  function sessionDay(at: number | string): SessionDay {
    return dayOf(typeof at === 'number' ? nyDateOf(at) : at);
  }

  function barIdOf(minuteStartMs: number): number | null {
    if (!Number.isFinite(minuteStartMs)) return null;
    const start = minuteStart(minuteStartMs);
    const day = dayOf(nyDateOf(start));
    if (!day.isTradingDay || start < day.openMs || start > day.closeMs) return null;
    return (start - day.openMs) / MINUTE_MS + 1;
  }

  function lastBarId(at: number | string): number {
    const day = sessionDay(at);
    return day.isTradingDay ? (day.closeMs - day.openMs) / MINUTE_MS + 1 : 0;
  }

  function marketSessionOf(ms: number): MarketSession {
    if (!Number.isFinite(ms)) return 'closed';
    const day = dayOf(nyDateOf(ms));
    if (!day.isTradingDay) return 'closed';
    if (ms < day.preOpenMs) return 'closed';
    if (ms < day.openMs) return 'pre';
    if (ms < day.closeMs + MINUTE_MS) return 'regular';
    if (ms < day.postCloseMs) return 'post';
    return 'closed';
  }

  function regularMinutes(at: number | string): number[] {
    const day = sessionDay(at);
    const out: number[] = [];
    if (!day.isTradingDay) return out;
    for (let t = day.openMs; t <= day.closeMs; t += MINUTE_MS) out.push(t);
    return out;
  }

  function install(more: CalendarOverrides): void {
    const addHolidays: [string, string][] = [];
    const addCloses: [string, number][] = [];
    for (const [date, name] of Object.entries(more.holidays ?? {})) {
      parseDate(date);
      if (typeof name !== 'string') throw new RangeError(`holiday name for ${date} must be a string`);
      addHolidays.push([date, name]);
    }
    for (const [date, hhmm] of Object.entries(more.earlyCloses ?? {})) {
      parseDate(date);
      addCloses.push([date, parseClose(hhmm, date)]);
    }
    for (const [date, name] of addHolidays) {
      holidays.set(date, name);
      earlyCloses.delete(date);
    }
    for (const [date, minutes] of addCloses) {
      earlyCloses.set(date, minutes);
      holidays.delete(date);
    }
    days.clear();
  }

  if (extra !== undefined) install(extra);

  return { nyDate: nyDateOf, sessionDay, barIdOf, lastBarId, marketSessionOf, regularMinutes, install };
}

/** The process-wide calendar; `install` on it to teach every user of the functions below. */
export const defaultCalendar: Calendar = createCalendar();

export function nyDate(ms: number): string {
  return nyDateOf(ms);
}

export function sessionDay(at: number | string): SessionDay {
  return defaultCalendar.sessionDay(at);
}

export function barIdOf(minuteStartMs: number): number | null {
  return defaultCalendar.barIdOf(minuteStartMs);
}

export function lastBarId(at: number | string): number {
  return defaultCalendar.lastBarId(at);
}

export function marketSessionOf(ms: number): MarketSession {
  return defaultCalendar.marketSessionOf(ms);
}

export function regularMinutes(at: number | string): number[] {
  return defaultCalendar.regularMinutes(at);
}
