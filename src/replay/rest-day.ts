import type { RestAggregate } from '../contracts/polygon-wire.ts';
import { minuteStart } from '../contracts/time-format.ts';
import type { EngineBar } from './engine-files.ts';

/** REST minute aggregates (the vendor's, or the built-in simulator's). */
export interface DayAggregates {
  fetch(symbol: string, fromMs: number, toMs: number): Promise<RestAggregate[]>;
}

/** What a day of REST aggregates needs of the session calendar. */
export interface SessionCalendar {
  sessionDay(date: string): { isTradingDay: boolean; openMs: number; closeMs: number; holiday: string | null };
}

/** REPLAY_DATE cannot be replayed: not a trading day, or REST has nothing for it. */
export class ReplayDateError extends Error {
  override name = 'ReplayDateError';
  constructor(date: string, problem: string) {
    super(`REPLAY_DATE ${date}: ${problem}`);
  }
}

/** The regular-session minute bars of `date` for each symbol, from REST. */
export async function restDay(date: string, symbols: readonly string[], rest: DayAggregates, calendar: SessionCalendar): Promise<Map<string, EngineBar[]>> {
  const day = calendar.sessionDay(date);
  if (!day.isTradingDay) throw new ReplayDateError(date, `not a trading day (${day.holiday ?? 'a weekend'})`);
  const bars = new Map<string, EngineBar[]>();
  for (const symbol of symbols) {
    const aggregates = await rest.fetch(symbol, day.openMs, day.closeMs);
    bars.set(
      symbol,
      aggregates.map((a) => ({ timestampMs: minuteStart(a.t), open: a.o, high: a.h, low: a.l, close: a.c, volume: a.v })),
    );
  }
  if ([...bars.values()].every((list) => list.length === 0)) throw new ReplayDateError(date, 'REST has no bars for it (a day still to come?)');
  return bars;
}
