/**
 * Vendor bars -> price-event drafts (a PriceEvent without `revision` and `source`, which the
 * ledger assigns). Pure: no I/O, no clock.
 */

import type { AggregateEvent, RestAggregate } from '../contracts/polygon-wire.ts';
import type { PriceEvent } from '../contracts/price-event.ts';
import { MINUTE_MS, formatTsET, minuteStart } from '../contracts/time-format.ts';
import { defaultCalendar } from './calendar.ts';
import type { Calendar } from './calendar.ts';

export type PriceEventDraft = Omit<PriceEvent, 'revision' | 'source'>;

/** What normalisation needs of a calendar. */
export type BarIdCalendar = Pick<Calendar, 'barIdOf'>;

/**
 * The fields of a socket aggregate that normalisation reads. Every AggregateEvent fits; so
 * does a parsed one whose optional `vw` was absent.
 */
export type AggregateInput = Pick<AggregateEvent, 'sym' | 'o' | 'h' | 'l' | 'c' | 'v' | 's' | 'e'> & {
  vw?: number | null | undefined;
};

function vwapOf(vw: unknown): number | null {
  return typeof vw === 'number' && Number.isFinite(vw) ? vw : null;
}

/** A live `AM` aggregate as a draft: minute-bucketed start, vendor end, barId from `calendar`. */
export function normalizeAggregate(ev: AggregateInput, calendar: BarIdCalendar = defaultCalendar): PriceEventDraft {
  const startMs = minuteStart(ev.s);
  return {
    symbol: ev.sym.toUpperCase(),
    tsET: formatTsET(startMs),
    open: ev.o,
    high: ev.h,
    low: ev.l,
    close: ev.c,
    volume: ev.v,
    vwap: vwapOf(ev.vw),
    startMs,
    endMs: ev.e,
    barId: calendar.barIdOf(startMs),
  };
}

/** A REST (backfill) minute aggregate as a draft; REST bars carry no end, so it is start + 1 min. */
export function draftFromRest(symbol: string, agg: RestAggregate, calendar: BarIdCalendar = defaultCalendar): PriceEventDraft {
  const startMs = minuteStart(agg.t);
  return {
    symbol: symbol.toUpperCase(),
    tsET: formatTsET(startMs),
    open: agg.o,
    high: agg.h,
    low: agg.l,
    close: agg.c,
    volume: agg.v,
    vwap: vwapOf(agg.vw),
    startMs,
    endMs: startMs + MINUTE_MS,
    barId: calendar.barIdOf(startMs),
  };
}

/** An empty minute carried forward: every price is the previous close, volume 0, no VWAP. */
export function filledDraft(symbol: string, minuteStartMs: number, previousClose: number, calendar: BarIdCalendar = defaultCalendar): PriceEventDraft {
  const startMs = minuteStart(minuteStartMs);
  return {
    symbol: symbol.toUpperCase(),
    tsET: formatTsET(startMs),
    open: previousClose,
    high: previousClose,
    low: previousClose,
    close: previousClose,
    volume: 0,
    vwap: null,
    startMs,
    endMs: startMs + MINUTE_MS,
    barId: calendar.barIdOf(startMs),
  };
}
