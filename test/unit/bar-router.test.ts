import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BarRouter, repeatDropReason } from '../../src/bars/bar-router.ts';
import { HELD_BAR_BYTES, heldBarsBound } from '../../src/bars/price-transform.ts';
import { createCalendar } from '../../src/bars/calendar.ts';
import { BarLedger } from '../../src/bars/ledger.ts';
import type { PriceEventDraft } from '../../src/bars/normalize.ts';
import type { FillMode } from '../../src/config/config.ts';
import type { PriceEvent } from '../../src/contracts/price-event.ts';
import { formatTsET, MINUTE_MS } from '../../src/contracts/time-format.ts';
import { firstWatchedMinute } from '../../src/feed/socket-watch.ts';

const calendar = createCalendar();
/** 10:00 New York on a regular Tuesday (EDT). */
const T0 = Date.parse('2026-03-10T14:00:00Z');
const m = (i: number) => T0 + i * MINUTE_MS;

function bar(symbol: string, i: number, close = 100 + i): PriceEventDraft {
  const startMs = m(i);
  return {
    symbol,
    tsET: formatTsET(startMs),
    open: close,
    high: close + 1,
    low: close - 1,
    close,
    volume: 10 + i,
    vwap: close,
    startMs,
    endMs: startMs + MINUTE_MS,
    barId: calendar.barIdOf(startMs),
  };
}

function setup(fillMode: FillMode = 'regular') {
  const published: PriceEvent[] = [];
  const duplicates: string[] = [];
  const unproven: string[] = [];
  const ledger = new BarLedger();
  const router = new BarRouter({
    symbols: ['A', 'B'],
    ledger,
    calendar,
    fillMode,
    publish: (e) => published.push(e),
    report: (e) => {
      if (e.kind === 'repeat') duplicates.push(`${e.symbol}@${(e.minuteMs - T0) / MINUTE_MS}:${e.source}:${e.repeats}`);
    },
    onUnproven: (symbol, minute) => unproven.push(`${symbol}@${(minute - T0) / MINUTE_MS}`),
  });
  const summary = () => published.map((e) => `${e.symbol}${(e.startMs - T0) / MINUTE_MS}:${e.source}:${e.revision}`);
  return { router, ledger, published, duplicates, unproven, summary };
}

test('live bars pass through the ledger: new, repeated, corrected', () => {
  const { router, summary, duplicates } = setup();
  router.watch(firstWatchedMinute(m(0)));
  router.acceptLive(bar('A', 0), 1);
  router.acceptLive(bar('A', 0), 2);
  router.acceptLive(bar('A', 0, 99), 3);
  router.acceptLive(bar('A', 1), 4);
  assert.deepEqual(summary(), ['A0:live:0', 'A0:live:1', 'A1:live:0']);
  assert.deepEqual(duplicates, ['A@0:live:live']);
});

test('a later live bar fills the watched minutes before it that had none', () => {
  const { router, summary, published } = setup();
  router.watch(firstWatchedMinute(m(0)));
  router.acceptLive(bar('A', 0), 1);
  router.acceptLive(bar('A', 3), 2);
  assert.deepEqual(summary(), ['A0:live:0', 'A1:filled:0', 'A2:filled:0', 'A3:live:0']);
  const fill = published[1]!;
  assert.deepEqual([fill.open, fill.high, fill.low, fill.close, fill.volume, fill.vwap], [100, 100, 100, 100, 0, null]);
});

test('minutes before the subscription are not filled from the socket: a later bar waits for the backfill that settles them', () => {
  const { router, summary, unproven } = setup();
  router.watch(firstWatchedMinute(m(0)));
  router.acceptLive(bar('A', 0), 1);
  router.watch(null); // disconnected
  router.watch(firstWatchedMinute(m(5) + 30_000)); // resubscribed at 10:05:30: watched from 10:05
  router.acceptLive(bar('A', 6), 2);
  // Minutes 1..4 were nobody's to see: A6 may not go out before they are settled.
  assert.deepEqual(summary(), ['A0:live:0']);
  assert.deepEqual(unproven, ['A@1']);
  assert.equal(router.isHolding('A'), true);
  router.release('A', [bar('A', 2), bar('A', 3)], { from: m(1), through: m(5), settledThrough: m(4) });
  // REST settled 1..4 (1 and 4 had no trades); the socket watched 5.
  assert.deepEqual(summary(), ['A0:live:0', 'A1:filled:0', 'A2:backfill:0', 'A3:backfill:0', 'A4:filled:0', 'A5:filled:0', 'A6:live:0']);
  assert.equal(router.settledThrough('A'), m(6));
});

test('a hole between two sockets is backfilled before the later live bars go out, though they arrived first', () => {
  const { router, summary, unproven } = setup();
  router.watch(firstWatchedMinute(m(0)));
  for (let i = 0; i <= 3; i += 1) router.acceptLive(bar('A', i), i);
  // Session 2 subscribes during minute 5; its backfill starts and holds A's live bars.
  router.watch(firstWatchedMinute(m(5) + 10_000));
  router.hold(['A']);
  router.acceptLive(bar('A', 5), 10);
  router.acceptLive(bar('A', 6), 11);
  // Session 2 dies; session 3 subscribes during minute 9: minutes 7 and 8 were nobody's.
  router.watch(null);
  router.watch(firstWatchedMinute(m(9) + 10_000));
  router.acceptLive(bar('A', 9), 12);
  router.acceptLive(bar('A', 10), 13);
  // The first backfill only reached minute 5.
  router.release('A', [bar('A', 4), bar('A', 5)], { from: m(4), through: m(5), settledThrough: m(5) });
  assert.deepEqual(summary().slice(4), ['A4:backfill:0', 'A5:live:0', 'A6:live:0']);
  assert.equal(router.settledThrough('A'), m(6), 'the watermark stops before the hole');
  assert.deepEqual(unproven, ['A@7']);
  assert.equal(router.isHolding('A'), true, 'the bars after the hole wait');
  // The next backfill starts at the watermark + 1 and closes the hole.
  router.release('A', [bar('A', 7), bar('A', 8), bar('A', 9)], { from: m(7), through: m(9), settledThrough: m(9) });
  assert.deepEqual(summary().slice(7), ['A7:backfill:0', 'A8:backfill:0', 'A9:live:0', 'A10:live:0']);
  assert.equal(router.isHolding('A'), false);
});

test('a bar lost to a full buffer takes the watermark back before its minute', () => {
  const { router, summary } = setup();
  router.watch(firstWatchedMinute(m(0)));
  for (let i = 0; i <= 4; i += 1) router.acceptLive(bar('A', i), i);
  assert.equal(router.settledThrough('A'), m(4));
  router.forget('A', m(4), 0);
  router.forget('A', m(3), 0);
  assert.equal(router.settledThrough('A'), m(2));
  router.hold(['A']);
  router.release('A', [bar('A', 3), bar('A', 4)], { from: m(3), through: m(4), settledThrough: m(4) });
  assert.deepEqual(summary().slice(5), ['A3:backfill:0', 'A4:backfill:0'], 'they come back once, as first records');
});

test('records restored from the topic set the watermark', () => {
  const { router } = setup();
  const restored = { ...bar('A', 7), source: 'live' as const, revision: 0 };
  router.restore(restored);
  router.restore({ ...bar('A', 3), source: 'live' as const, revision: 0 });
  assert.equal(router.settledThrough('A'), m(7));
  assert.equal(router.settledThrough('B'), null);
});

test('fillDue does not fill over a gap before the watched minutes', () => {
  const { router, summary } = setup();
  router.watch(firstWatchedMinute(m(0)));
  router.acceptLive(bar('A', 0), 1);
  router.watch(firstWatchedMinute(m(5) + 10_000)); // a new session, minutes 1..4 unwatched
  router.fillDue(m(9), 0, { latestBarMinute: m(8), pingAnsweredAt: m(9) });
  assert.deepEqual(summary(), ['A0:live:0']);
});

test('backfill: REST bars go ahead of held live bars, in minute order; live wins a shared minute', () => {
  const { router, summary } = setup();
  router.watch(firstWatchedMinute(m(0)));
  router.acceptLive(bar('A', 0), 1);
  router.hold(['A']);
  router.acceptLive(bar('A', 4), 2);
  router.acceptLive(bar('A', 3), 3);
  assert.equal(router.isHolding('A'), true);
  assert.deepEqual(summary(), ['A0:live:0']);
  router.release('A', [bar('A', 1), bar('A', 2), bar('A', 3)], { from: m(1), through: m(3), settledThrough: m(3) });
  assert.deepEqual(summary(), ['A0:live:0', 'A1:backfill:0', 'A2:backfill:0', 'A3:live:0', 'A4:live:0']);
  assert.equal(router.isHolding('A'), false);
});

test('backfill: minutes REST settled without a bar are filled; unsettled ones are not', () => {
  const { router, summary } = setup();
  router.watch(firstWatchedMinute(m(10)));
  router.acceptLive(bar('A', 0), 1);
  router.hold(['A']);
  router.release('A', [bar('A', 2)], { from: m(1), through: m(6), settledThrough: m(4) });
  assert.deepEqual(summary(), ['A0:live:0', 'A1:filled:0', 'A2:backfill:0', 'A3:filled:0', 'A4:filled:0']);
});

test('a failed backfill leaves the hole: held bars go out, nothing is invented before the watched minutes', () => {
  const { router, summary } = setup();
  router.watch(firstWatchedMinute(m(0)));
  router.acceptLive(bar('A', 0), 1);
  router.watch(firstWatchedMinute(m(5) + 1));
  router.hold(['A']);
  router.acceptLive(bar('A', 7), 2);
  router.release('A', [], null);
  assert.deepEqual(summary(), ['A0:live:0', 'A5:filled:0', 'A6:filled:0', 'A7:live:0']);
});

test('REST re-reading recent minutes confirms or corrects them, and adds no first record behind the last one', () => {
  const { router, summary, duplicates, ledger } = setup();
  router.watch(firstWatchedMinute(m(0)));
  router.acceptLive(bar('A', 0), 1);
  router.acceptLive(bar('A', 2), 2); // fills 1
  router.acceptLive(bar('A', 3), 3);
  ledger.forget('A', m(1), 0); // a hole behind the last record
  router.hold(['A']);
  router.release('A', [bar('A', 0), bar('A', 1), bar('A', 2, 55)], { from: m(0), through: m(3), settledThrough: m(3) });
  assert.deepEqual(summary(), ['A0:live:0', 'A1:filled:0', 'A2:live:0', 'A3:live:0', 'A2:backfill:1']);
  assert.deepEqual(duplicates, ['A@0:backfill:live']);
});

test('a live bar arriving after REST delivered its minute is dropped as overlap, not as a vendor repeat', () => {
  const { router, summary, duplicates } = setup();
  router.watch(firstWatchedMinute(m(2)));
  // Subscribed during minute 2; the start-up backfill reads minutes 0..2 and REST already
  // has minute 2's bar when the socket's copy of it is still on its way.
  router.hold(['A']);
  router.release('A', [bar('A', 0), bar('A', 1), bar('A', 2)], { from: m(0), through: m(2), settledThrough: m(1) });
  router.acceptLive(bar('A', 2), 1);
  router.acceptLive(bar('A', 3), 2);
  router.acceptLive(bar('A', 3), 3); // the vendor re-sends
  assert.deepEqual(summary(), ['A0:backfill:0', 'A1:backfill:0', 'A2:backfill:0', 'A3:live:0']);
  assert.deepEqual(duplicates, ['A@2:live:backfill', 'A@3:live:live']);
  assert.deepEqual(
    duplicates.map((d) => {
      const [, source, repeats] = d.split(':') as [string, 'live' | 'backfill', 'live' | 'backfill'];
      return repeatDropReason(source, repeats);
    }),
    ['live_after_backfill', 'duplicate'],
  );
});

test("drop reasons for identical bars: only a live repeat of a live record is the vendor's duplicate", () => {
  assert.equal(repeatDropReason('live', 'live'), 'duplicate');
  assert.equal(repeatDropReason('live', 'filled'), 'duplicate');
  assert.equal(repeatDropReason('live', 'backfill'), 'live_after_backfill');
  for (const repeats of ['live', 'backfill', 'filled'] as const) assert.equal(repeatDropReason('backfill', repeats), 'backfill_unchanged');
});

test('fillDue needs the grace and proof that the socket delivered the minute', () => {
  const { router, summary } = setup();
  router.watch(firstWatchedMinute(m(0)));
  router.acceptLive(bar('A', 0), 1);
  router.acceptLive(bar('B', 0), 1);
  const grace = 20_000;
  // Grace passed for minute 1 (ends 10:02:00), but nothing proves its bars were all delivered.
  router.fillDue(m(2) + 25_000, grace, { latestBarMinute: m(1), pingAnsweredAt: null });
  assert.deepEqual(summary(), ['A0:live:0', 'B0:live:0']);
  // A bar of minute 2 arrived: minute 1 is complete; A had no bar there.
  router.acceptLive(bar('B', 1), 2);
  router.fillDue(m(2) + 25_000, grace, { latestBarMinute: m(2), pingAnsweredAt: null });
  assert.deepEqual(summary(), ['A0:live:0', 'B0:live:0', 'B1:live:0', 'A1:filled:0']);
  // A pong for a ping sent after minute 2's grace proves minute 2 too.
  router.fillDue(m(3) + 25_000, grace, { latestBarMinute: m(2), pingAnsweredAt: m(3) + 21_000 });
  assert.deepEqual(summary().slice(4), ['A2:filled:0', 'B2:filled:0']);
  // But never before the grace has passed, whatever the proof.
  router.fillDue(m(4) + 5_000, grace, { latestBarMinute: m(9), pingAnsweredAt: m(9) });
  assert.equal(summary().length, 6);
});

test('fill modes: regular fills only the regular session, all also pre/post-market, off nothing', () => {
  const preOpen = Date.parse('2026-03-10T13:25:00Z'); // 09:25 New York
  const run = (mode: FillMode) => {
    const { router, published } = setup(mode);
    router.watch(firstWatchedMinute(preOpen));
    const at = (i: number) => ({
      ...bar('A', 0),
      startMs: preOpen + i * MINUTE_MS,
      endMs: preOpen + (i + 1) * MINUTE_MS,
      tsET: formatTsET(preOpen + i * MINUTE_MS),
      barId: calendar.barIdOf(preOpen + i * MINUTE_MS),
    });
    router.acceptLive(at(0), 1);
    router.acceptLive(at(8), 2); // 09:33
    return published.filter((e) => e.source === 'filled').map((e) => e.tsET.slice(11, 16));
  };
  assert.deepEqual(run('regular'), ['13:30', '13:31', '13:32']);
  assert.deepEqual(run('all'), ['13:26', '13:27', '13:28', '13:29', '13:30', '13:31', '13:32']);
  assert.deepEqual(run('off'), []);
});

test('nothing is filled before the first price is known', () => {
  const { router, summary } = setup();
  router.watch(firstWatchedMinute(m(0)));
  router.fillDue(m(5), 0, { latestBarMinute: m(5), pingAnsweredAt: m(5) });
  router.acceptLive(bar('A', 5), 1);
  assert.deepEqual(summary(), ['A5:live:0']);
});

test('bars held over all symbols stay within maxHeldTotal: each symbol past it lets its oldest go, and the release counts them off', () => {
  const symbols = ['A', 'B', 'C'];
  const maxHeldTotal = 5;
  const perSymbol = 4;
  const letGo: string[] = [];
  const published: PriceEvent[] = [];
  const router = new BarRouter({
    symbols,
    ledger: new BarLedger(),
    calendar,
    fillMode: 'off',
    maxHeldTotal,
    publish: (e) => published.push(e),
    report: (e) => {
      if (e.kind === 'held_let_go') letGo.push(`${e.symbol}@${(e.minuteMs - T0) / MINUTE_MS}`);
    },
  });
  router.watch(firstWatchedMinute(m(0)));
  router.hold(symbols);
  let pushed = 0;
  for (let i = 0; i < perSymbol; i += 1) {
    for (const symbol of symbols) {
      router.acceptLive(bar(symbol, i), i);
      pushed += 1;
      assert.equal(router.heldBars, Math.min(pushed, maxHeldTotal));
    }
  }
  assert.equal(letGo.length, symbols.length * perSymbol - maxHeldTotal);
  // Each let-go is the holding symbol's oldest bar, never one of another symbol.
  assert.deepEqual(letGo.slice(0, 2), ['C@0', 'A@0']);
  // Releasing A (nothing from REST) publishes what A still holds and takes it off the total.
  const heldBefore = router.heldBars;
  router.release('A', [], { from: m(0), through: m(perSymbol - 1), settledThrough: m(perSymbol - 1) });
  assert.equal(router.heldBars, heldBefore - published.length);
  assert.ok(published.length > 0 && published.every((e) => e.symbol === 'A'));
});

test('heldBarsBound: MAX_BUFFERED_BARS, and no more held bars than half of MAX_BUFFERED_BYTES buys', () => {
  const bytes = 32 * 1024 * 1024;
  assert.equal(heldBarsBound(100_000, bytes), Math.floor(bytes / 2 / HELD_BAR_BYTES));
  assert.equal(heldBarsBound(1_000, bytes), 1_000);
  assert.equal(heldBarsBound(1_000, 1), 1, 'always room for one');
});
