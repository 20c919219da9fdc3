import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BarLedger } from '../../src/bars/ledger.ts';
import type { PriceEvent } from '../../src/contracts/price-event.ts';
import { formatTsET, MINUTE_MS } from '../../src/contracts/time-format.ts';

const T0 = Date.parse('2026-03-10T14:30:00Z');

function draft(symbol: string, minute: number, close = 100 + minute) {
  const startMs = T0 + minute * MINUTE_MS;
  return {
    symbol,
    tsET: formatTsET(startMs),
    open: 100,
    high: 200,
    low: 50,
    close,
    volume: 1000 + minute,
    vwap: 101,
    startMs,
    endMs: startMs + MINUTE_MS,
    barId: minute + 1,
  };
}

test('first bar of a minute is revision 0; identical repeat is a duplicate', () => {
  const ledger = new BarLedger();
  const first = ledger.admit(draft('TQQQ', 0), 'live');
  assert.equal(first.verdict, 'publish');
  assert.equal(first.verdict === 'publish' && first.event.revision, 0);
  assert.equal(first.verdict === 'publish' && first.event.source, 'live');
  assert.deepEqual(ledger.admit(draft('TQQQ', 0), 'live'), { verdict: 'duplicate', of: 'live' });
  assert.deepEqual(ledger.admit(draft('TQQQ', 0), 'backfill'), { verdict: 'duplicate', of: 'live' }, 'same values from REST are still a repeat');
  ledger.admit(draft('TQQQ', 1), 'backfill');
  assert.deepEqual(ledger.admit(draft('TQQQ', 1), 'live'), { verdict: 'duplicate', of: 'backfill' }, 'a repeat names the source of the record it repeats');
});

test('a changed bar gets the next revision each time it changes', () => {
  const ledger = new BarLedger();
  ledger.admit(draft('TQQQ', 0), 'live');
  const r1 = ledger.admit(draft('TQQQ', 0, 111), 'live');
  const r2 = ledger.admit(draft('TQQQ', 0, 112), 'live');
  const again = ledger.admit(draft('TQQQ', 0, 112), 'live');
  assert.equal(r1.verdict === 'publish' && r1.event.revision, 1);
  assert.equal(r2.verdict === 'publish' && r2.event.revision, 2);
  assert.equal(again.verdict, 'duplicate');
  assert.equal(ledger.lastClose('TQQQ'), 112);
});

test('symbols are independent', () => {
  const ledger = new BarLedger();
  ledger.admit(draft('TQQQ', 0), 'live');
  const other = ledger.admit(draft('SQQQ', 0), 'live');
  assert.equal(other.verdict === 'publish' && other.event.revision, 0);
  assert.equal(ledger.lastMinute('SQQQ'), T0);
  assert.equal(ledger.lastMinute('UVXY'), null);
});

test('a late first bar for an earlier minute is published and flagged out of order', () => {
  const ledger = new BarLedger();
  ledger.admit(draft('TQQQ', 0), 'live');
  ledger.admit(draft('TQQQ', 2), 'live');
  const late = ledger.admit(draft('TQQQ', 1), 'live');
  assert.equal(late.verdict, 'publish');
  assert.equal(late.verdict === 'publish' && late.outOfOrder, true);
  assert.equal(late.verdict === 'publish' && late.event.revision, 0);
  assert.equal(ledger.lastMinute('TQQQ'), T0 + 2 * MINUTE_MS, 'a late bar does not move the newest minute back');
});

test('a bar older than the retained window is not republished', () => {
  const ledger = new BarLedger({ retainMinutes: 10 });
  ledger.admit(draft('TQQQ', 0), 'live');
  ledger.admit(draft('TQQQ', 30), 'live');
  assert.equal(ledger.entry('TQQQ', T0), undefined, 'pruned');
  assert.deepEqual(ledger.admit(draft('TQQQ', 0, 999), 'live'), { verdict: 'too_late' });
  assert.deepEqual(ledger.admit(draft('TQQQ', 19), 'live'), { verdict: 'too_late' }, 'one minute beyond the window');
  const edge = ledger.admit(draft('TQQQ', 20), 'live');
  assert.equal(edge.verdict === 'publish' && edge.event.revision, 0, 'the oldest minute of the window is still accepted');
});

test('minutes that share a ring slot never answer for each other', () => {
  // retainMinutes 10 -> 11 slots: minutes 0, 11 and 22 share one.
  const ledger = new BarLedger({ retainMinutes: 10 });
  ledger.admit(draft('TQQQ', 0), 'live');
  ledger.admit(draft('TQQQ', 11), 'live');
  assert.equal(ledger.entry('TQQQ', T0), undefined, 'minute 0 was displaced by minute 11');
  assert.equal(ledger.entry('TQQQ', T0 + 11 * MINUTE_MS)?.revision, 0);
  // Minute 5 is still in the window (11 - 10 = 1) and was never seen: a first bar, not a repeat.
  const late = ledger.admit(draft('TQQQ', 5), 'live');
  assert.equal(late.verdict === 'publish' && late.event.revision, 0);
  // Minute 22 moves the window to 12..22; its slot held minute 11, which must not make it a revision.
  const next = ledger.admit(draft('TQQQ', 22), 'live');
  assert.equal(next.verdict === 'publish' && next.event.revision, 0);
  assert.equal(ledger.entry('TQQQ', T0 + 11 * MINUTE_MS), undefined);
  assert.equal(ledger.entry('TQQQ', T0 + 5 * MINUTE_MS), undefined, 'beyond the window now, though its slot was not reused');
});

test('values are compared exactly, including a correction of the last decimal', () => {
  const ledger = new BarLedger();
  ledger.admit({ ...draft('TQQQ', 0), vwap: 101.12345678 }, 'live');
  const corrected = ledger.admit({ ...draft('TQQQ', 0), vwap: 101.12345679 }, 'live');
  assert.equal(corrected.verdict === 'publish' && corrected.event.revision, 1);
  assert.deepEqual(ledger.entry('TQQQ', T0), { revision: 1, source: 'live' });
});

test('a change to any one value is a correction, and changing it back is one too', () => {
  const ledger = new BarLedger();
  const base = draft('TQQQ', 0);
  ledger.admit(base, 'live');
  let revision = 0;
  for (const field of ['open', 'high', 'low', 'close', 'volume', 'vwap'] as const) {
    for (const value of [base[field] + 0.0001, base[field]]) {
      const next = ledger.admit({ ...base, [field]: value }, 'backfill');
      revision += 1;
      assert.equal(next.verdict === 'publish' && next.event.revision, revision, `${field} = ${value}`);
    }
  }
  assert.equal(ledger.admit(base, 'live').verdict, 'duplicate');
});

test('values that are equal as numbers are equal to the ledger, -0 included', () => {
  const ledger = new BarLedger();
  ledger.admit({ ...draft('TQQQ', 0), volume: 0 }, 'live');
  assert.equal(ledger.admit({ ...draft('TQQQ', 0), volume: -0 }, 'live').verdict, 'duplicate');
});

test('bars that differ only in how their values are arranged are not taken for repeats', () => {
  // Swapping values between fields keeps the same set of numbers: the fingerprint must still differ.
  const ledger = new BarLedger();
  const base = { ...draft('TQQQ', 0), open: 1, high: 2, low: 3, close: 4, volume: 5, vwap: 6 };
  ledger.admit(base, 'live');
  const swapped = ledger.admit({ ...base, open: 2, high: 1 }, 'live');
  assert.equal(swapped.verdict === 'publish' && swapped.event.revision, 1);
  // 20,000 successive corrections of one minute, each a small step: each must be told from the one before.
  for (let i = 1; i <= 20_000; i += 1) {
    const next = ledger.admit({ ...base, open: 2, high: 1, close: 4 + i / 10_000, volume: 5 + (i % 7) }, 'live');
    assert.equal(next.verdict === 'publish' && next.event.revision, 1 + i, `correction ${i}`);
  }
});

test('restore rebuilds revisions so the next change continues the count', () => {
  const ledger = new BarLedger();
  const seen: PriceEvent = { ...draft('TQQQ', 5), source: 'live', revision: 3 };
  ledger.restore({ ...seen, revision: 1 });
  ledger.restore(seen);
  ledger.restore({ ...seen, revision: 2 });
  assert.equal(ledger.entry('TQQQ', seen.startMs)?.revision, 3);
  assert.equal(ledger.admit(draft('TQQQ', 5), 'live').verdict, 'duplicate');
  const next = ledger.admit(draft('TQQQ', 5, 1), 'live');
  assert.equal(next.verdict === 'publish' && next.event.revision, 4);
});

test('forget undoes a record that never reached Kafka', () => {
  const ledger = new BarLedger();
  ledger.admit(draft('TQQQ', 0), 'live');
  ledger.admit(draft('TQQQ', 1), 'live');
  ledger.forget('TQQQ', T0 + MINUTE_MS, 0);
  assert.equal(ledger.lastMinute('TQQQ'), T0);
  assert.equal(ledger.lastClose('TQQQ'), 100);
  const again = ledger.admit(draft('TQQQ', 1), 'backfill');
  assert.equal(again.verdict === 'publish' && again.event.revision, 0);
});

test('a bar without a vwap repeats as a duplicate, and gaining one is a correction', () => {
  const ledger = new BarLedger();
  ledger.admit({ ...draft('TQQQ', 0), vwap: null }, 'live');
  assert.deepEqual(ledger.admit({ ...draft('TQQQ', 0), vwap: null }, 'live'), { verdict: 'duplicate', of: 'live' });
  const gained = ledger.admit(draft('TQQQ', 0), 'live');
  assert.equal(gained.verdict === 'publish' && gained.event.revision, 1);
});

test('forget of a later revision makes the next bar for the minute a revision again, whatever its values', () => {
  const ledger = new BarLedger();
  ledger.admit(draft('TQQQ', 0), 'live');
  ledger.admit(draft('TQQQ', 0, 111), 'live');
  ledger.forget('TQQQ', T0, 1);
  assert.equal(ledger.entry('TQQQ', T0)?.revision, 0);
  const resent = ledger.admit(draft('TQQQ', 0, 111), 'backfill');
  assert.equal(resent.verdict === 'publish' && resent.event.revision, 1, 'the lost revision 1 is published again');
});

test('a symbol holds a fixed ring: a whole day of minutes keeps only the window', () => {
  const ledger = new BarLedger({ retainMinutes: 30 });
  for (let minute = 0; minute < 390; minute += 1) ledger.admit(draft('TQQQ', minute), 'live');
  let held = 0;
  for (let minute = 0; minute < 390; minute += 1) if (ledger.entry('TQQQ', T0 + minute * MINUTE_MS) !== undefined) held += 1;
  assert.equal(held, 31);
  assert.equal(ledger.lastClose('TQQQ'), 100 + 389);
});
