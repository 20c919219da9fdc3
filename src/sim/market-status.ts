/**
 * Answers for `/v1/marketstatus/now` and `/v1/marketstatus/upcoming`, computed from the
 * simulated clock in New York time (DST-correct via Intl).
 *
 * The holiday table is a small, plausible list of NYSE/Nasdaq closures and early closes for
 * 2025-2027. It is good enough for a simulator, not an authority: the gateway's own session
 * calendar must not be derived from it.
 *
 * Sessions: pre-market 04:00-09:30, regular 09:30-16:00 (13:00 on early-close days),
 * after-hours until 20:00 (17:00 on early-close days); weekends and holidays closed.
 */

import { newYorkOffsetMs, newYorkWall, wallDate } from '../contracts/new-york-time.ts';

interface Holiday {
  date: string;
  name: string;
  /** Early close (13:00 New York) instead of a full closure. */
  early?: boolean;
}

const HOLIDAYS: readonly Holiday[] = [
  { date: '2025-01-01', name: "New Year's Day" },
  { date: '2025-01-09', name: 'National Day of Mourning' },
  { date: '2025-01-20', name: 'Martin Luther King, Jr. Day' },
  { date: '2025-02-17', name: "Washington's Birthday" },
  { date: '2025-04-18', name: 'Good Friday' },
  { date: '2025-05-26', name: 'Memorial Day' },
  { date: '2025-06-19', name: 'Juneteenth' },
  { date: '2025-07-03', name: 'Independence Day', early: true },
  { date: '2025-07-04', name: 'Independence Day' },
  { date: '2025-09-01', name: 'Labor Day' },
  { date: '2025-11-27', name: 'Thanksgiving' },
  { date: '2025-11-28', name: 'Thanksgiving', early: true },
  { date: '2025-12-24', name: 'Christmas', early: true },
  { date: '2025-12-25', name: 'Christmas' },
  { date: '2026-01-01', name: "New Year's Day" },
  { date: '2026-01-19', name: 'Martin Luther King, Jr. Day' },
  { date: '2026-02-16', name: "Washington's Birthday" },
  { date: '2026-04-03', name: 'Good Friday' },
  { date: '2026-05-25', name: 'Memorial Day' },
  { date: '2026-06-19', name: 'Juneteenth' },
  { date: '2026-07-03', name: 'Independence Day' },
  { date: '2026-09-07', name: 'Labor Day' },
  { date: '2026-11-26', name: 'Thanksgiving' },
  { date: '2026-11-27', name: 'Thanksgiving', early: true },
  { date: '2026-12-24', name: 'Christmas', early: true },
  { date: '2026-12-25', name: 'Christmas' },
  { date: '2027-01-01', name: "New Year's Day" },
  { date: '2027-01-18', name: 'Martin Luther King, Jr. Day' },
  { date: '2027-02-15', name: "Washington's Birthday" },
  { date: '2027-03-26', name: 'Good Friday' },
  { date: '2027-05-31', name: 'Memorial Day' },
  { date: '2027-06-18', name: 'Juneteenth' },
  { date: '2027-07-05', name: 'Independence Day' },
  { date: '2027-09-06', name: 'Labor Day' },
  { date: '2027-11-25', name: 'Thanksgiving' },
  { date: '2027-11-26', name: 'Thanksgiving', early: true },
  { date: '2027-12-24', name: 'Christmas' },
];

interface NyTime {
  date: string;
  weekday: string;
  /** Minutes since New York midnight. */
  minuteOfDay: number;
  /** Offset from UTC in minutes (-300 or -240). */
  offsetMin: number;
  hms: string;
}

function nyTime(ms: number): NyTime {
  const w = newYorkWall(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    date: wallDate(w),
    weekday: w.weekday,
    minuteOfDay: w.hour * 60 + w.minute,
    offsetMin: Math.round(newYorkOffsetMs(ms) / 60_000),
    hms: `${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`,
  };
}

function formatOffset(offsetMin: number): string {
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export type SimSession = 'pre' | 'regular' | 'post' | 'closed';

/** The New York session at market instant `ms`, by the simulator's holiday table. */
export function simSessionAt(ms: number): SimSession {
  const t = nyTime(ms);
  if (t.weekday === 'Sat' || t.weekday === 'Sun') return 'closed';
  const holiday = HOLIDAYS.find((h) => h.date === t.date);
  if (holiday && !holiday.early) return 'closed';
  const close = holiday?.early ? 13 * 60 : 16 * 60;
  const postEnd = holiday?.early ? 17 * 60 : 20 * 60;
  const m = t.minuteOfDay;
  if (m >= 4 * 60 && m < 9 * 60 + 30) return 'pre';
  if (m >= 9 * 60 + 30 && m < close) return 'regular';
  if (m >= close && m < postEnd) return 'post';
  return 'closed';
}

/** Body of `/v1/marketstatus/now`, Polygon's shape. */
export function marketStatusNow(ms: number): object {
  const session = simSessionAt(ms);
  const t = nyTime(ms);
  const exchange = session === 'regular' ? 'open' : session === 'closed' ? 'closed' : 'extended-hours';
  return {
    afterHours: session === 'post',
    currencies: { crypto: 'open', fx: t.weekday === 'Sat' ? 'closed' : 'open' },
    earlyHours: session === 'pre',
    exchanges: { nasdaq: exchange, nyse: exchange, otc: exchange },
    market: exchange,
    serverTime: `${t.date}T${t.hms}${formatOffset(t.offsetMin)}`,
  };
}

/** UTC instant of a New York wall time on `date` (YYYY-MM-DD). */
function nyInstant(date: string, hour: number, minute: number): number {
  const guess = Date.parse(`${date}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00Z`);
  // New York is 4 or 5 hours behind UTC; the offset at noon of that day is the right one.
  const offset = nyTime(guess + 5 * 3_600_000).offsetMin;
  return guess - offset * 60_000;
}

/** Body of `/v1/marketstatus/upcoming`: closures and early closes from today on. */
export function marketStatusUpcoming(ms: number): object[] {
  const today = nyTime(ms).date;
  const out: object[] = [];
  for (const h of HOLIDAYS) {
    if (h.date < today) continue;
    for (const exchange of ['NYSE', 'NASDAQ']) {
      if (h.early) {
        out.push({
          date: h.date,
          exchange,
          name: h.name,
          status: 'early-close',
          open: new Date(nyInstant(h.date, 9, 30)).toISOString(),
          close: new Date(nyInstant(h.date, 13, 0)).toISOString(),
        });
      } else {
        out.push({ date: h.date, exchange, name: h.name, status: 'closed' });
      }
    }
  }
  return out;
}
