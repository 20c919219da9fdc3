/**
 * The engine topics (written by `sentio-gateway replay`, by the engine's live mode later).
 * Field names are those the old Python sidecar used, so existing consumers keep working.
 * Values are UTF-8 JSON; every record carries the headers of EngineRecordHeaders.
 */

/** `${TOPIC_PREFIX}trades.executed.v1`, key: symbol. One record per trade event. */
export interface TradeExecuted {
  /** Deterministic: the same input and runId give the same id. */
  tradeId: string;
  symbol: string;
  /** BUY for an engine ENTRY, SELL for an EXIT. */
  action: 'BUY' | 'SELL';
  /** The trade's minute, formatted as PriceEvent.tsET. */
  tsET: string;
  /** The exact instant, epoch ms. */
  timestampMs: number;
  price: number;
  shares: number;
  /** shares x price. */
  value: number;
  barsHeld: number;
  /** Realised pnl of an exit; 0 for an entry. */
  pnl: number;
  /** A fraction: 0.0123 is 1.23 %. */
  pnlPct: number;
  reason: string;
}

/**
 * `${TOPIC_PREFIX}positions.state.v1` (compacted), key: symbol. Every minute for each open
 * position, and once with `hasPosition: false`, `shares: 0` when it closes, so the topic's
 * last record per symbol is the truth.
 */
export interface PositionState {
  symbol: string;
  tsET: string;
  hasPosition: boolean;
  shares: number;
  /** Share-weighted entry price of the open shares (0 once closed). */
  entryPrice: number;
  /** The symbol's latest close. */
  marketPrice: number;
  unrealizedPnl: number;
  /** A fraction. */
  unrealizedPnlPct: number;
}

/** `${TOPIC_PREFIX}portfolio.minute.v1` (compacted), key: portfolioId. Every minute. */
export interface PortfolioMinute {
  portfolioId: string;
  tsET: string;
  initialCapital: number;
  /** cash + the sum of shares x latest close over the open positions. */
  equity: number;
  cash: number;
  /** equity - initialCapital. */
  totalPnl: number;
  /** A fraction of initialCapital. */
  totalPnlPct: number;
  /** Open positions. */
  positions: number;
  /** Trade events so far that day. */
  tradesToday: number;
}

/** Headers on every engine-topic record (values are strings on the wire). */
export interface EngineRecordHeaders {
  strategy: string;
  env: string;
  runId: string;
  version: string;
  /** = tsET of the value. */
  timestampET: string;
}
