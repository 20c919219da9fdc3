/**
 * The record published to `${TOPIC_PREFIX}prices.minute.v1`: the one definition every
 * producer, consumer and test of the gateway imports. Fields may be added within v1;
 * none may be renamed or removed.
 */

/** Where a record's values came from; `replay` is a recorded day (`sentio-gateway replay`). */
export const BAR_SOURCES = ['live', 'backfill', 'filled', 'replay'] as const;

export type BarSource = (typeof BAR_SOURCES)[number];

export interface PriceEvent {
  /** Ticker, upper case; also the record key. */
  symbol: string;
  /** Bar start, minute-bucketed, UTC, exactly `YYYY-MM-DDTHH:MM:00Z` (see formatTsET). */
  tsET: string;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Shares traded in the bar. */
  volume: number;
  /** Bar VWAP, or null when the source has none. */
  vwap: number | null;
  /** Bar start and end, epoch milliseconds. */
  startMs: number;
  endMs: number;
  /** 1-based minute of the NYSE regular session in New York time (09:30 is 1); null outside it. */
  barId: number | null;
  source: BarSource;
  /** 0 for the first record of a (symbol, minute), then 1, 2, ... for each changed re-publication. */
  revision: number;
}

/** The `version` header and the topic suffix of this payload. */
export const PAYLOAD_VERSION = 'v1';

/** Headers carried by every price record (values are strings on the wire). */
export interface PriceRecordHeaders {
  strategy: string;
  env: string;
  runId: string;
  version: string;
  timestampET: string;
  source: BarSource;
}

/** Environment tag: LIVE when the vendor feed is real, MOCK when it is the simulator. */
export type FeedEnv = 'LIVE' | 'MOCK';
