/**
 * The Sentio Lite engine's output, read and checked before anything is published: a bad
 * file stops the replay with one line naming the file and the place (the symbol and index of
 * a bar, the line of trades.jsonl). Formats as the engine writes them (see the design notes,
 * "Replay inputs").
 */

/** One bar of `price_data` (bar start in epoch ms UTC). */
export interface EngineBar {
  timestampMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** One trade event: an ENTRY or an EXIT (one of each per engine trade). */
export interface EngineTradeEvent {
  symbol: string;
  action: 'ENTRY' | 'EXIT';
  timestampMs: number;
  price: number;
  shares: number;
  /** Realised pnl of an exit; 0 on entries. */
  pnl: number;
  /** In percent, as the engine writes it (1.5 is 1.5 %). */
  pnlPercent: number;
  barsHeld: number;
  reason: string;
}

export interface EngineDay {
  initialCapital: number;
  /** Bars per symbol, in the order the file lists the symbols, each sorted by time. */
  bars: Map<string, EngineBar[]>;
  /** The results' own trades array as entry and exit events (used when there is no trades.jsonl). */
  trades: EngineTradeEvent[];
}

/** A file the replay cannot use. The message is the one line an operator reads. */
export class ReplayInputError extends Error {
  override name = 'ReplayInputError';
  constructor(setting: 'RESULTS_PATH' | 'TRADES_PATH', file: string, place: string | null, problem: string) {
    super(`${setting} ${file}${place === null ? '' : ` ${place}`}: ${problem}`);
  }
}

type Fail = (place: string | null, problem: string) => never;

const BAR_FIELDS = ['open', 'high', 'low', 'close', 'volume'] as const;

/** Reads `results.json` (the engine's ResultsExporter output). */
export function parseResults(text: string, file: string): EngineDay {
  const fail: Fail = (place, problem) => {
    throw new ReplayInputError('RESULTS_PATH', file, place, problem);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    fail(null, `not JSON (${(error as Error).message})`);
  }
  if (!isObject(doc)) fail(null, 'not a JSON object');
  const initialCapital = numberOf(doc['config'], 'initial_capital') ?? numberOf(doc['metadata'], 'initial_capital');
  if (initialCapital === undefined || !(initialCapital > 0)) fail(null, 'initial_capital (in config or metadata) must be a positive number');

  const priceData = doc['price_data'];
  if (!isObject(priceData)) fail('price_data', 'must be an object of bar arrays, one per symbol');
  const bars = new Map<string, EngineBar[]>();
  for (const [symbol, list] of Object.entries(priceData)) {
    if (!Array.isArray(list)) fail(`price_data.${symbol}`, 'must be an array of bars');
    const parsed = list.map((raw: unknown, i: number): EngineBar => {
      const place = `price_data.${symbol}[${i}]`;
      if (!isObject(raw)) fail(place, 'must be an object');
      const timestampMs = requireNumber(raw, 'timestamp_ms', place, fail);
      const values = Object.fromEntries(BAR_FIELDS.map((f) => [f, requireNumber(raw, f, place, fail)])) as Record<(typeof BAR_FIELDS)[number], number>;
      return { timestampMs, ...values };
    });
    const sorted = parsed.map((bar, index) => ({ bar, index })).sort((a, b) => a.bar.timestampMs - b.bar.timestampMs);
    for (let i = 1; i < sorted.length; i += 1) {
      if (Math.floor(sorted[i]!.bar.timestampMs / 60_000) === Math.floor(sorted[i - 1]!.bar.timestampMs / 60_000)) {
        fail(`price_data.${symbol}[${sorted[i]!.index}]`, `a second bar for the minute of [${sorted[i - 1]!.index}]`);
      }
    }
    bars.set(
      symbol.toUpperCase(),
      sorted.map((s) => s.bar),
    );
  }
  if (bars.size === 0) fail('price_data', 'has no symbols');

  const tradesRaw = doc['trades'] ?? [];
  if (!Array.isArray(tradesRaw)) fail('trades', 'must be an array');
  const trades: EngineTradeEvent[] = [];
  tradesRaw.forEach((raw: unknown, i: number) => {
    const place = `trades[${i}]`;
    if (!isObject(raw)) fail(place, 'must be an object');
    const symbol = requireString(raw, 'symbol', place, fail).toUpperCase();
    const shares = requireNumber(raw, 'shares', place, fail);
    const entryBar = numberOf(raw, 'entry_bar_id') ?? 0;
    const exitBar = numberOf(raw, 'exit_bar_id') ?? entryBar;
    trades.push(
      {
        symbol,
        action: 'ENTRY',
        timestampMs: requireNumber(raw, 'entry_time_ms', place, fail),
        price: requireNumber(raw, 'entry_price', place, fail),
        shares,
        pnl: 0,
        pnlPercent: 0,
        barsHeld: 0,
        reason: '',
      },
      {
        symbol,
        action: 'EXIT',
        timestampMs: requireNumber(raw, 'exit_time_ms', place, fail),
        price: requireNumber(raw, 'exit_price', place, fail),
        shares,
        pnl: requireNumber(raw, 'pnl', place, fail),
        pnlPercent: requireNumber(raw, 'pnl_pct', place, fail),
        barsHeld: exitBar - entryBar,
        reason: '',
      },
    );
  });
  return { initialCapital, bars, trades: sortByTime(trades) };
}

/** Reads `trades.jsonl`: one JSON object a line, an ENTRY and an EXIT line per trade. */
export function parseTradesJsonl(text: string, file: string): EngineTradeEvent[] {
  const events: EngineTradeEvent[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const place = `line ${i + 1}`;
    const fail: Fail = (at, problem) => {
      throw new ReplayInputError('TRADES_PATH', file, at, problem);
    };
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      fail(place, `not JSON (${(error as Error).message})`);
    }
    if (!isObject(raw)) fail(place, 'not a JSON object');
    const action = raw['action'];
    if (action !== 'ENTRY' && action !== 'EXIT') fail(place, `unknown action ${JSON.stringify(action)} (ENTRY or EXIT)`);
    events.push({
      symbol: requireString(raw, 'symbol', place, fail).toUpperCase(),
      action,
      timestampMs: requireNumber(raw, 'timestamp_ms', place, fail),
      price: requireNumber(raw, 'price', place, fail),
      shares: requireNumber(raw, 'shares', place, fail),
      pnl: numberOf(raw, 'pnl') ?? 0,
      pnlPercent: numberOf(raw, 'pnl_pct') ?? 0,
      barsHeld: numberOf(raw, 'bars_held') ?? 0,
      reason: typeof raw['reason'] === 'string' ? raw['reason'] : '',
    });
  });
  return sortByTime(events);
}

/** In time order; events of one instant keep the file's order (an entry before its exit). */
function sortByTime(events: EngineTradeEvent[]): EngineTradeEvent[] {
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.timestampMs - b.e.timestampMs || a.i - b.i)
    .map(({ e }) => e);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numberOf(value: unknown, field: string): number | undefined {
  if (!isObject(value)) return undefined;
  const n = value[field];
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function requireNumber(raw: Record<string, unknown>, field: string, place: string, fail: Fail): number {
  const value = raw[field];
  if (value === undefined || value === null) fail(place, `${field} is missing`);
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(place, `${field} is not a number (${JSON.stringify(value)})`);
  return value;
}

function requireString(raw: Record<string, unknown>, field: string, place: string, fail: Fail): string {
  const value = raw[field];
  if (typeof value !== 'string' || value.trim() === '') fail(place, `${field} is missing`);
  return value;
}
