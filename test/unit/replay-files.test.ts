import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseResults, parseTradesJsonl, ReplayInputError } from '../../src/replay/engine-files.ts';

const sampleResults = readFileSync(new URL('../../config/replay/results.json', import.meta.url), 'utf8');
const sampleTrades = readFileSync(new URL('../../config/replay/trades.jsonl', import.meta.url), 'utf8');

function results(patch: (doc: Record<string, unknown>) => void): string {
  const doc = {
    config: { initial_capital: 1000 },
    price_data: { TQQQ: [{ timestamp_ms: 1773149400000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, bar_id: 1 }] },
    trades: [],
  } as Record<string, unknown>;
  patch(doc);
  return JSON.stringify(doc);
}

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ReplayInputError, String(error));
    assert.ok(!error.message.includes('\n'), 'one line');
    return error.message;
  }
  assert.fail('expected a ReplayInputError');
}

test("the sample day reads: 12 symbols of regular-session bars, and trades.jsonl agrees with the results' own trades", () => {
  const day = parseResults(sampleResults, 'results.json');
  assert.equal(day.bars.size, 12);
  assert.equal(day.initialCapital, 100_000);
  const events = parseTradesJsonl(sampleTrades, 'trades.jsonl');
  assert.ok(events.length >= 40, `a few dozen trade events (${events.length})`);
  // The results hold the closed trades; trades.jsonl also has the position still open at the close.
  const exits = events.filter((e) => e.action === 'EXIT');
  assert.equal(day.trades.filter((e) => e.action === 'EXIT').length, exits.length);
  for (let i = 1; i < events.length; i += 1) assert.ok(events[i]!.timestampMs >= events[i - 1]!.timestampMs, 'in time order');
});

test('a results file that is not JSON, or whose price_data is not an object of bar arrays, names the file and the place', () => {
  assert.match(
    problem(() => parseResults('{"price_data": ', 'r.json')),
    /^RESULTS_PATH r\.json: not JSON \(/,
  );
  assert.equal(
    problem(() =>
      parseResults(
        results((d) => (d['price_data'] = [1, 2])),
        'r.json',
      ),
    ),
    'RESULTS_PATH r.json price_data: must be an object of bar arrays, one per symbol',
  );
  assert.equal(
    problem(() =>
      parseResults(
        results((d) => (d['price_data'] = { TQQQ: 'bars' })),
        'r.json',
      ),
    ),
    'RESULTS_PATH r.json price_data.TQQQ: must be an array of bars',
  );
  assert.equal(
    problem(() =>
      parseResults(
        results((d) => (d['config'] = {})),
        'r.json',
      ),
    ),
    'RESULTS_PATH r.json: initial_capital (in config or metadata) must be a positive number',
  );
});

test('a bar with a missing or non-numeric field names the symbol and the index', () => {
  const bars = (list: unknown[]) =>
    results((d) => (d['price_data'] = { TQQQ: [{ timestamp_ms: 1773149400000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 }], SQQQ: list }));
  assert.equal(
    problem(() => parseResults(bars([{ timestamp_ms: 1773149400000, open: 1, high: 1, low: 1, volume: 1 }]), 'r.json')),
    'RESULTS_PATH r.json price_data.SQQQ[0]: close is missing',
  );
  assert.equal(
    problem(() =>
      parseResults(
        bars([
          { timestamp_ms: 1773149400000, open: 1, high: 1, low: 1, close: 1, volume: 1 },
          { timestamp_ms: 1773149460000, open: 1, high: '2', low: 1, close: 1, volume: 1 },
        ]),
        'r.json',
      ),
    ),
    'RESULTS_PATH r.json price_data.SQQQ[1]: high is not a number ("2")',
  );
  assert.equal(
    problem(() =>
      parseResults(
        bars([
          { timestamp_ms: 1773149400000, open: 1, high: 1, low: 1, close: 1, volume: 1 },
          { timestamp_ms: 1773149410000, open: 1, high: 1, low: 1, close: 1, volume: 1 },
        ]),
        'r.json',
      ),
    ),
    'RESULTS_PATH r.json price_data.SQQQ[1]: a second bar for the minute of [0]',
  );
});

test('a trades.jsonl line that does not parse, or names an unknown action, names the line', () => {
  const good = '{"symbol":"TQQQ","action":"ENTRY","timestamp_ms":1773149400000,"price":61,"shares":10}';
  assert.match(
    problem(() => parseTradesJsonl(`${good}\n\n{"symbol":`, 't.jsonl')),
    /^TRADES_PATH t\.jsonl line 3: not JSON \(/,
  );
  assert.equal(
    problem(() => parseTradesJsonl(`${good}\n${good.replace('ENTRY', 'HOLD')}`, 't.jsonl')),
    'TRADES_PATH t.jsonl line 2: unknown action "HOLD" (ENTRY or EXIT)',
  );
  assert.equal(
    problem(() => parseTradesJsonl(good.replace('"price":61,', ''), 't.jsonl')),
    'TRADES_PATH t.jsonl line 1: price is missing',
  );
});

test("the results' own trades become an entry and an exit each, the exit with its pnl and bars held", () => {
  const doc = results(
    (d) =>
      (d['trades'] = [
        {
          symbol: 'tqqq',
          entry_time_ms: 1773149400000,
          exit_time_ms: 1773149700000,
          entry_bar_id: 1,
          exit_bar_id: 6,
          entry_price: 10,
          exit_price: 11,
          shares: 5,
          pnl: 5,
          pnl_pct: 10,
        },
      ]),
  );
  const { trades } = parseResults(doc, 'r.json');
  assert.deepEqual(
    trades.map((t) => [t.symbol, t.action, t.price, t.pnl, t.pnlPercent, t.barsHeld]),
    [
      ['TQQQ', 'ENTRY', 10, 0, 0, 0],
      ['TQQQ', 'EXIT', 11, 5, 10, 5],
    ],
  );
});
