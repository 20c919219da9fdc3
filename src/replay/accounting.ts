import { createHash } from 'node:crypto';
import type { PortfolioMinute, PositionState, TradeExecuted } from '../contracts/engine-events.ts';
import { formatTsET } from '../contracts/time-format.ts';
import type { EngineTradeEvent } from './engine-files.ts';

/**
 * The replay's book-keeping, as plain functions over a plain state: cash, the open
 * positions and each symbol's latest close. An entry takes shares x price from cash; an exit
 * gives shares x price back (that amount already holds the trade's pnl). A symbol without a
 * bar in a minute keeps its latest close for valuation.
 */

export interface Holding {
  shares: number;
  /** Share-weighted entry price of the open shares. */
  entryPrice: number;
}

export interface Book {
  readonly initialCapital: number;
  readonly cash: number;
  readonly holdings: ReadonlyMap<string, Holding>;
  readonly latestClose: ReadonlyMap<string, number>;
  /** Trade events so far that day. */
  readonly tradesToday: number;
}

export function openBook(initialCapital: number): Book {
  return { initialCapital, cash: initialCapital, holdings: new Map(), latestClose: new Map(), tradesToday: 0 };
}

/** The symbol's close of a minute that had a bar. */
export function markClose(book: Book, symbol: string, close: number): Book {
  return { ...book, latestClose: new Map(book.latestClose).set(symbol, close) };
}

/** Thrown when the trades do not add up (an exit of shares that are not held). */
export class BookError extends Error {
  override name = 'BookError';
}

/** One trade event applied to the book; `closed` when an exit left no shares. */
export function applyTrade(book: Book, trade: EngineTradeEvent): { book: Book; closed: boolean } {
  const holdings = new Map(book.holdings);
  const held = holdings.get(trade.symbol) ?? { shares: 0, entryPrice: 0 };
  const amount = trade.shares * trade.price;
  let closed = false;
  if (trade.action === 'ENTRY') {
    const shares = held.shares + trade.shares;
    holdings.set(trade.symbol, { shares, entryPrice: (held.shares * held.entryPrice + amount) / shares });
  } else {
    if (trade.shares > held.shares)
      throw new BookError(`an exit of ${trade.shares} ${trade.symbol} at ${new Date(trade.timestampMs).toISOString()} with ${held.shares} held`);
    const shares = held.shares - trade.shares;
    if (shares === 0) {
      holdings.delete(trade.symbol);
      closed = true;
    } else {
      holdings.set(trade.symbol, { shares, entryPrice: held.entryPrice });
    }
  }
  // A position opened before the symbol's first bar is valued at its trade price until then.
  const latestClose = book.latestClose.has(trade.symbol) ? book.latestClose : new Map(book.latestClose).set(trade.symbol, trade.price);
  const cash = trade.action === 'ENTRY' ? book.cash - amount : book.cash + amount;
  return { book: { ...book, cash, holdings, latestClose, tradesToday: book.tradesToday + 1 }, closed };
}

/**
 * A trade id that two replays of the same input with the same runId agree on: a hash of
 * the run, the event's fields and how many identical events came before it.
 */
export function tradeIdOf(runId: string, trade: EngineTradeEvent, occurrence: number): string {
  const hex = createHash('sha256')
    .update([runId, trade.symbol, trade.action, trade.timestampMs, trade.shares, trade.price, occurrence].join('\n'))
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The trades.executed.v1 record of a trade event. */
export function tradeRecord(trade: EngineTradeEvent, tradeId: string): TradeExecuted {
  return {
    tradeId,
    symbol: trade.symbol,
    action: trade.action === 'ENTRY' ? 'BUY' : 'SELL',
    tsET: formatTsET(trade.timestampMs),
    timestampMs: trade.timestampMs,
    price: trade.price,
    shares: trade.shares,
    // The engine prints value with 6 significant digits: the amount is shares x price.
    value: trade.shares * trade.price,
    barsHeld: trade.barsHeld,
    pnl: trade.action === 'EXIT' ? trade.pnl : 0,
    // Always percent in the engine's files: 1.5 is 1.5 %, whatever its size.
    pnlPct: trade.action === 'EXIT' ? trade.pnlPercent / 100 : 0,
    reason: trade.reason,
  };
}

/** The positions.state.v1 records of a minute: every open position, then each one closed in it. */
export function positionRecords(book: Book, minuteMs: number, closedThisMinute: readonly string[]): PositionState[] {
  const tsET = formatTsET(minuteMs);
  const open = [...book.holdings].map(([symbol, h]): PositionState => {
    const marketPrice = book.latestClose.get(symbol) ?? h.entryPrice;
    return {
      symbol,
      tsET,
      hasPosition: true,
      shares: h.shares,
      entryPrice: h.entryPrice,
      marketPrice,
      unrealizedPnl: (marketPrice - h.entryPrice) * h.shares,
      unrealizedPnlPct: h.entryPrice > 0 ? (marketPrice - h.entryPrice) / h.entryPrice : 0,
    };
  });
  // Reopened in the same minute: the open record says so; no closing record after it.
  const closed = closedThisMinute.filter((symbol) => !book.holdings.has(symbol));
  return [
    ...open,
    ...closed.map((symbol): PositionState => ({
      symbol,
      tsET,
      hasPosition: false,
      shares: 0,
      entryPrice: 0,
      marketPrice: book.latestClose.get(symbol) ?? 0,
      unrealizedPnl: 0,
      unrealizedPnlPct: 0,
    })),
  ];
}

/** The portfolio.minute.v1 record of a minute. */
export function portfolioRecord(book: Book, portfolioId: string, minuteMs: number): PortfolioMinute {
  let equity = book.cash;
  for (const [symbol, h] of book.holdings) equity += h.shares * (book.latestClose.get(symbol) ?? h.entryPrice);
  const totalPnl = equity - book.initialCapital;
  return {
    portfolioId,
    tsET: formatTsET(minuteMs),
    initialCapital: book.initialCapital,
    equity,
    cash: book.cash,
    totalPnl,
    totalPnlPct: totalPnl / book.initialCapital,
    positions: book.holdings.size,
    tradesToday: book.tradesToday,
  };
}
