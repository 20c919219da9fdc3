/**
 * Writes the sample engine day of config/replay/ (what `npm run replay` plays when nothing
 * is set): 12 symbols over the regular session of 2026-03-10, a few dozen trades, in the
 * Sentio Lite engine's own formats: results.json numbers with 4 decimals (ResultsExporter),
 * trades.jsonl with C++'s default 6 significant digits. Deterministic: run it again and the
 * files come out the same.
 *
 *   node scripts/make-replay-sample.ts
 */
import { writeFileSync } from 'node:fs';
import { DEFAULT_SYMBOLS } from '../src/contracts/polygon-wire.ts';
import { seededRandom } from '../harness/random.ts';

const SYMBOLS = [...DEFAULT_SYMBOLS];
const START_PRICES = [61.2, 18.4, 42.7, 22.1, 24.3, 35.8, 19.6, 28.9, 167.4, 8.15, 128.6, 10.9];
const OPEN_MS = Date.parse('2026-03-10T13:30:00Z'); // 09:30 New York (EDT)
const BARS = 391;
const INITIAL_CAPITAL = 100_000;
/** Minutes (bar index, 0-based) with no bar: the first symbol too, and a held one (UVXY). */
const MISSING: Record<string, number[]> = { TQQQ: [36, 149, 259], UVXY: [60, 61, 62, 200, 301], SVIX: [0, 390] };

const random = seededRandom(20260310);
const f4 = (n: number): string => n.toFixed(4);
/** As C++ iostreams print a double by default. */
const g6 = (n: number): string => String(Number(n.toPrecision(6)));

interface Bar {
  i: number;
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
}
const bars = new Map<string, Bar[]>();
SYMBOLS.forEach((symbol, s) => {
  let price = START_PRICES[s]!;
  const list: Bar[] = [];
  for (let i = 0; i < BARS; i += 1) {
    const open = price;
    const close = Math.max(1, open * (1 + (random() - 0.5) * 0.004));
    const high = Math.max(open, close) * (1 + random() * 0.001);
    const low = Math.min(open, close) * (1 - random() * 0.001);
    price = close;
    if (MISSING[symbol]?.includes(i)) continue;
    list.push({
      i,
      t: OPEN_MS + i * 60_000,
      o: Number(f4(open)),
      h: Number(f4(high)),
      l: Number(f4(low)),
      c: Number(f4(close)),
      v: 1000 + Math.floor(random() * 90_000),
    });
  }
  bars.set(symbol, list);
});

interface Trade {
  symbol: string;
  entry: Bar;
  exit: Bar | null;
  shares: number;
  reason: string;
}
const trades: Trade[] = [];
const busyUntil = new Map<string, number>();
for (let n = 0; n < 34; n += 1) {
  const symbol = SYMBOLS[Math.floor(random() * SYMBOLS.length)]!;
  const list = bars.get(symbol)!;
  const from = busyUntil.get(symbol) ?? 0;
  const candidates = list.filter((b) => b.i > from + 2 && b.i < 370);
  if (candidates.length < 10) continue;
  const entry = candidates[Math.floor(random() * (candidates.length - 9))]!;
  const later = list.filter((b) => b.i > entry.i + 4 && b.i < entry.i + 45);
  const exit = later[Math.floor(random() * later.length)] ?? list.at(-1)!;
  const price = Number(g6(entry.c));
  trades.push({ symbol, entry, exit, shares: Math.floor(8_000 / price), reason: random() < 0.5 ? 'signal_exit' : 'take_profit' });
  busyUntil.set(symbol, exit.i);
}
// UVXY held across its missing minutes 60-62, and one position still open at the close.
const uvxy = bars.get('UVXY')!;
trades.push({ symbol: 'UVXY', entry: uvxy.find((b) => b.i === 55)!, exit: uvxy.find((b) => b.i === 70)!, shares: 300, reason: 'signal_exit' });
const soxl = bars.get('SOXL')!;
trades.push({ symbol: 'SOXL', entry: soxl.find((b) => b.i === 385)!, exit: null, shares: 250, reason: '' });
trades.sort((a, b) => a.entry.t - b.entry.t);

// results.json, as ResultsExporter writes it.
const priceData = SYMBOLS.map(
  (symbol) =>
    `    "${symbol}": [\n${bars
      .get(symbol)!
      .map(
        (b) =>
          `      {"timestamp_ms": ${b.t}, "open": ${f4(b.o)}, "high": ${f4(b.h)}, "low": ${f4(b.l)}, "close": ${f4(b.c)}, "volume": ${b.v}, "bar_id": ${b.i + 1}}`,
      )
      .join(',\n')}\n    ]`,
).join(',\n');
const closed = trades.filter((t) => t.exit !== null);
const pnlOf = (t: Trade): number => (Number(g6(t.exit!.c)) - Number(g6(t.entry.c))) * t.shares;
const tradeRows = closed
  .map((t) => {
    const entryPrice = Number(g6(t.entry.c));
    const exitPrice = Number(g6(t.exit!.c));
    return `    {"symbol": "${t.symbol}", "entry_time_ms": ${t.entry.t}, "exit_time_ms": ${t.exit!.t}, "entry_bar_id": ${t.entry.i + 1}, "exit_bar_id": ${t.exit!.i + 1}, "entry_price": ${f4(entryPrice)}, "exit_price": ${f4(exitPrice)}, "shares": ${t.shares}, "pnl": ${f4(pnlOf(t))}, "pnl_pct": ${f4((exitPrice / entryPrice - 1) * 100)}}`;
  })
  .join(',\n');
const totalPnl = closed.reduce((n, t) => n + pnlOf(t), 0);
const wins = closed.filter((t) => pnlOf(t) > 0).length;
const results = `{
  "metadata": {"timestamp": "2026-03-10T21:05:12Z", "mode": "mock", "symbols": "${SYMBOLS.join(',')}", "start_date": "2026-03-10", "end_date": "2026-03-10", "initial_capital": ${f4(INITIAL_CAPITAL)}},
  "performance": {"total_return": ${f4((totalPnl / INITIAL_CAPITAL) * 100)}, "total_pnl": ${f4(totalPnl)}, "total_trades": ${closed.length}, "win_rate": ${f4((wins / closed.length) * 100)}},
  "config": {"strategy_name": "SIGOR", "initial_capital": ${f4(INITIAL_CAPITAL)}, "max_positions": 3},
  "trades": [
${tradeRows}
  ],
  "price_data": {
${priceData}
  }
}
`;
writeFileSync(new URL('../config/replay/results.json', import.meta.url), results);

// trades.jsonl: sorted by entry time, an ENTRY and an EXIT line per trade.
const lines: string[] = [];
for (const t of trades) {
  const entryPrice = Number(g6(t.entry.c));
  lines.push(
    `{"symbol":"${t.symbol}","action":"ENTRY","timestamp_ms":${t.entry.t},"bar_id":${t.entry.i + 1},"price":${g6(entryPrice)},"shares":${t.shares},"value":${g6(t.shares * entryPrice)},"pnl":0,"pnl_pct":0,"bars_held":0,"reason":"signal_entry"}`,
  );
  if (t.exit === null) continue;
  const exitPrice = Number(g6(t.exit.c));
  lines.push(
    `{"symbol":"${t.symbol}","action":"EXIT","timestamp_ms":${t.exit.t},"bar_id":${t.exit.i + 1},"price":${g6(exitPrice)},"shares":${t.shares},"value":${g6(t.shares * exitPrice)},"pnl":${g6(pnlOf(t))},"pnl_pct":${g6((exitPrice / entryPrice - 1) * 100)},"bars_held":${t.exit.i - t.entry.i},"reason":"${t.reason}"}`,
  );
}
writeFileSync(new URL('../config/replay/trades.jsonl', import.meta.url), lines.join('\n') + '\n');
process.stdout.write(
  `wrote ${SYMBOLS.length} symbols, ${[...bars.values()].reduce((n, l) => n + l.length, 0)} bars, ${trades.length} trades (${lines.length} events)\n`,
);
