import type { MarketSession } from '../contracts/heartbeat.ts';
import type { PortfolioMinute, PositionState, TradeExecuted } from '../contracts/engine-events.ts';
import type { PriceEvent } from '../contracts/price-event.ts';
import { formatTsET, MINUTE_MS, minuteStart } from '../contracts/time-format.ts';
import { applyTrade, markClose, openBook, portfolioRecord, positionRecords, tradeIdOf, tradeRecord, type Book } from './accounting.ts';
import type { EngineBar, EngineTradeEvent } from './engine-files.ts';

/** What a replay needs of the session calendar. */
export interface ReplayCalendar {
  barIdOf(minuteStartMs: number): number | null;
  marketSessionOf(ms: number): MarketSession;
}

export interface DayInput {
  /** Bars per symbol, each list in time order. */
  bars: ReadonlyMap<string, readonly EngineBar[]>;
  /** The day's trade events in time order; null: a day of prices only (REPLAY_DATE). */
  trades: readonly EngineTradeEvent[] | null;
  initialCapital: number;
}

/** Everything one replayed minute publishes, in the order it is published. */
export interface PlannedMinute {
  minuteMs: number;
  prices: PriceEvent[];
  trades: TradeExecuted[];
  positions: PositionState[];
  /** null for a day of prices only. */
  portfolio: PortfolioMinute | null;
  marketSession: MarketSession;
  /** Price records published up to and including this minute. */
  pricesSoFar: number;
  /** Newest minute with a price record so far. */
  lastBarStartMs: number | null;
  /** Latest minute for which every symbol has a record, once each has one. */
  completeMinuteMs: number | null;
}

/**
 * The whole day, computed before anything is published (so a trade that does not add up
 * stops the replay first, and two replays of one input agree byte for byte). The timeline
 * is the union of every symbol's minutes (and the trades' minutes); a symbol without a bar
 * in a minute keeps its latest close.
 */
export function planDay(input: DayInput, runId: string, portfolioId: string, calendar: ReplayCalendar): PlannedMinute[] {
  const barsByMinute = new Map<number, [string, EngineBar][]>();
  for (const [symbol, bars] of input.bars) {
    for (const bar of bars) {
      const minute = minuteStart(bar.timestampMs);
      let list = barsByMinute.get(minute);
      if (list === undefined) barsByMinute.set(minute, (list = []));
      list.push([symbol, bar]);
    }
  }
  const tradesByMinute = new Map<number, EngineTradeEvent[]>();
  for (const trade of input.trades ?? []) {
    const minute = minuteStart(trade.timestampMs);
    let list = tradesByMinute.get(minute);
    if (list === undefined) tradesByMinute.set(minute, (list = []));
    list.push(trade);
  }
  const timeline = [...new Set([...barsByMinute.keys(), ...tradesByMinute.keys()])].sort((a, b) => a - b);

  let book: Book = openBook(input.initialCapital);
  const occurrences = new Map<string, number>();
  const latestMinute = new Map<string, number>();
  let pricesSoFar = 0;
  let lastBarStartMs: number | null = null;
  const plan: PlannedMinute[] = [];
  for (const minuteMs of timeline) {
    const prices: PriceEvent[] = [];
    for (const [symbol, bar] of barsByMinute.get(minuteMs) ?? []) {
      prices.push(priceEvent(symbol, minuteMs, bar, calendar));
      book = markClose(book, symbol, bar.close);
      latestMinute.set(symbol, minuteMs);
    }
    pricesSoFar += prices.length;
    if (prices.length > 0) lastBarStartMs = minuteMs;

    const trades: TradeExecuted[] = [];
    const closed: string[] = [];
    for (const trade of tradesByMinute.get(minuteMs) ?? []) {
      const key = [trade.symbol, trade.action, trade.timestampMs, trade.shares, trade.price].join('|');
      const occurrence = occurrences.get(key) ?? 0;
      occurrences.set(key, occurrence + 1);
      trades.push(tradeRecord(trade, tradeIdOf(runId, trade, occurrence)));
      const applied = applyTrade(book, trade);
      book = applied.book;
      if (applied.closed) closed.push(trade.symbol);
    }
    const withTrades = input.trades !== null;
    plan.push({
      minuteMs,
      prices,
      trades,
      positions: withTrades ? positionRecords(book, minuteMs, closed) : [],
      portfolio: withTrades ? portfolioRecord(book, portfolioId, minuteMs) : null,
      marketSession: calendar.marketSessionOf(minuteMs),
      pricesSoFar,
      lastBarStartMs,
      completeMinuteMs: latestMinute.size === input.bars.size ? Math.min(...latestMinute.values()) : null,
    });
  }
  return plan;
}

/** A recorded bar as the price contract has it: the calendar's barId, no VWAP, revision 0. */
function priceEvent(symbol: string, minuteMs: number, bar: EngineBar, calendar: ReplayCalendar): PriceEvent {
  return {
    symbol,
    tsET: formatTsET(minuteMs),
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: bar.volume,
    vwap: null,
    startMs: minuteMs,
    endMs: minuteMs + MINUTE_MS,
    barId: calendar.barIdOf(minuteMs),
    source: 'replay',
    revision: 0,
  };
}
