import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCalendar } from '../../src/bars/calendar.ts';
import { MINUTE_MS } from '../../src/contracts/time-format.ts';
import { applyTrade, BookError, markClose, openBook, portfolioRecord, positionRecords, tradeIdOf, tradeRecord } from '../../src/replay/accounting.ts';
import { planDay } from '../../src/replay/day-plan.ts';
import type { EngineBar, EngineTradeEvent } from '../../src/replay/engine-files.ts';

const calendar = createCalendar();
/** 10:00 New York on a regular Tuesday. */
const T0 = Date.parse('2026-03-10T14:00:00Z');
const m = (i: number) => T0 + i * MINUTE_MS;

const bar = (i: number, close: number): EngineBar => ({ timestampMs: m(i), open: close, high: close, low: close, close, volume: 100 });
function trade(symbol: string, action: 'ENTRY' | 'EXIT', i: number, price: number, shares: number, extra: Partial<EngineTradeEvent> = {}): EngineTradeEvent {
  return { symbol, action, timestampMs: m(i) + 5_000, price, shares, pnl: 0, pnlPercent: 0, barsHeld: 0, reason: '', ...extra };
}

test('defect 1: an exit gives back shares x price once; a round trip leaves cash = initial + pnl, not + 2 x pnl', () => {
  let book = openBook(10_000);
  book = applyTrade(book, trade('A', 'ENTRY', 0, 50, 100)).book;
  assert.equal(book.cash, 5_000);
  const pnl = (55 - 50) * 100;
  book = applyTrade(book, trade('A', 'EXIT', 3, 55, 100, { pnl })).book;
  assert.equal(book.cash, 10_000 + pnl);
  assert.equal(portfolioRecord(book, 'p', m(3)).equity, 10_000 + pnl);
});

test('defect 2: a position that closes is published once more with hasPosition false and 0 shares, then never again', () => {
  let book = markClose(openBook(10_000), 'A', 50);
  book = applyTrade(book, trade('A', 'ENTRY', 0, 50, 10)).book;
  assert.deepEqual(
    positionRecords(book, m(0), []).map((p) => [p.symbol, p.hasPosition, p.shares]),
    [['A', true, 10]],
  );
  const exit = applyTrade(markClose(book, 'A', 52), trade('A', 'EXIT', 1, 52, 10, { pnl: 20 }));
  assert.equal(exit.closed, true);
  const closing = positionRecords(exit.book, m(1), ['A']);
  assert.deepEqual(
    closing.map((p) => [p.symbol, p.hasPosition, p.shares, p.marketPrice, p.unrealizedPnl]),
    [['A', false, 0, 52, 0]],
  );
  assert.deepEqual(positionRecords(exit.book, m(2), []), []);
});

test('a partial exit keeps the position open at its entry price; an exit of shares not held is refused', () => {
  let book = applyTrade(openBook(10_000), trade('A', 'ENTRY', 0, 40, 100)).book;
  book = applyTrade(book, trade('A', 'ENTRY', 1, 50, 100)).book;
  assert.equal(book.holdings.get('A')!.entryPrice, 45, 'share-weighted');
  const partial = applyTrade(book, trade('A', 'EXIT', 2, 60, 50));
  assert.equal(partial.closed, false);
  assert.deepEqual(partial.book.holdings.get('A'), { shares: 150, entryPrice: 45 });
  assert.throws(() => applyTrade(partial.book, trade('A', 'EXIT', 3, 60, 151)), BookError);
});

test("defect 3: the timeline is every symbol's minutes, so a minute the first symbol has no bar in is replayed for the others", () => {
  const plan = planDay(
    {
      bars: new Map([
        ['FIRST', [bar(0, 10), bar(2, 10)]],
        ['SECOND', [bar(0, 20), bar(1, 21), bar(2, 22)]],
      ]),
      trades: [],
      initialCapital: 1_000,
    },
    'run',
    'p',
    calendar,
  );
  assert.deepEqual(
    plan.map((p) => (p.minuteMs - T0) / MINUTE_MS),
    [0, 1, 2],
  );
  assert.deepEqual(
    plan[1]!.prices.map((p) => [p.symbol, p.close, p.source, p.revision]),
    [['SECOND', 21, 'replay', 0]],
  );
  assert.deepEqual(
    plan.map((p) => (p.completeMinuteMs === null ? null : (p.completeMinuteMs - T0) / MINUTE_MS)),
    [0, 0, 2],
  );
});

test('defect 4: a position whose symbol has no bar in a minute is valued at its latest close, not left out of equity', () => {
  const plan = planDay(
    {
      bars: new Map([
        ['A', [bar(0, 10), bar(2, 12)]],
        ['B', [bar(0, 1), bar(1, 1), bar(2, 1)]],
      ]),
      trades: [trade('A', 'ENTRY', 0, 10, 100)],
      initialCapital: 10_000,
    },
    'run',
    'p',
    calendar,
  );
  // Minute 1: A has no bar; its 100 shares are still worth its latest close, 10.
  assert.equal(plan[1]!.portfolio!.equity, 10_000);
  assert.deepEqual(
    plan[1]!.positions.map((p) => [p.symbol, p.marketPrice]),
    [['A', 10]],
  );
  assert.equal(plan[2]!.portfolio!.equity, 10_000 - 1_000 + 1_200);
});

test('defect 5: tradesToday counts the trade events so far, minute by minute', () => {
  const plan = planDay(
    {
      bars: new Map([['A', [bar(0, 10), bar(1, 10), bar(2, 11), bar(3, 11)]]]),
      trades: [trade('A', 'ENTRY', 1, 10, 10), trade('A', 'EXIT', 3, 11, 10, { pnl: 10 })],
      initialCapital: 1_000,
    },
    'run',
    'p',
    calendar,
  );
  assert.deepEqual(
    plan.map((p) => p.portfolio!.tradesToday),
    [0, 1, 1, 2],
  );
});

test("defect 6: pnlPct is the engine's percent as a fraction whatever its size: 1.5 % is 0.015, 3 % is 0.03", () => {
  assert.equal(tradeRecord(trade('A', 'EXIT', 0, 10, 1, { pnlPercent: 1.5 }), 'id').pnlPct, 0.015);
  assert.equal(tradeRecord(trade('A', 'EXIT', 0, 10, 1, { pnlPercent: 3 }), 'id').pnlPct, 0.03);
  const entry = tradeRecord(trade('A', 'ENTRY', 0, 10, 7), 'id');
  assert.deepEqual([entry.action, entry.pnl, entry.pnlPct, entry.value], ['BUY', 0, 0, 70]);
});

test('defect 7: tradeId is the same for the same input and runId, another for another runId or another occurrence', () => {
  const t = trade('A', 'ENTRY', 0, 10, 5);
  assert.equal(tradeIdOf('run-1', t, 0), tradeIdOf('run-1', { ...t }, 0));
  assert.notEqual(tradeIdOf('run-1', t, 0), tradeIdOf('run-2', t, 0));
  assert.notEqual(tradeIdOf('run-1', t, 0), tradeIdOf('run-1', t, 1));
  assert.match(tradeIdOf('run-1', t, 0), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const twice = planDay({ bars: new Map([['A', [bar(0, 10)]]]), trades: [t, { ...t, action: 'EXIT' }], initialCapital: 1_000 }, 'run-1', 'p', calendar);
  const again = planDay({ bars: new Map([['A', [bar(0, 10)]]]), trades: [t, { ...t, action: 'EXIT' }], initialCapital: 1_000 }, 'run-1', 'p', calendar);
  assert.deepEqual(JSON.stringify(twice), JSON.stringify(again));
});

test('a day of prices only (REPLAY_DATE) has no trades, positions or portfolio', () => {
  const plan = planDay({ bars: new Map([['A', [bar(0, 10), bar(1, 11)]]]), trades: null, initialCapital: 1 }, 'run', 'p', calendar);
  assert.deepEqual(
    plan.map((p) => [p.prices.length, p.trades.length, p.positions.length, p.portfolio]),
    [
      [1, 0, 0, null],
      [1, 0, 0, null],
    ],
  );
  assert.deepEqual(
    plan.map((p) => p.pricesSoFar),
    [1, 2],
  );
  assert.equal(plan[0]!.prices[0]!.barId, calendar.barIdOf(m(0)));
});
