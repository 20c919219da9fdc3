import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BarLedger } from '../../src/bars/ledger.ts';
import type { PriceEvent } from '../../src/contracts/price-event.ts';
import { formatTsET, MINUTE_MS } from '../../src/contracts/time-format.ts';

const T0 = Date.parse('2026-03-10T14:30:00Z');

function draft(symbol: string, minute: number, close = 100 + minute) {
  const startMs = T0 + minute * MINUTE_MS;
  return { symbol, tsET: formatTsET(startMs), open: 100, high: 200, low: 50, close, volume: 1000 + minute, vwap: 101, startMs, endMs: startMs + MINUTE_MS, barId: minute + 1 };
}

test('first bar of a minute is revision 0; identical repeat is a duplicate', () => {
  const ledger = new BarLedger();
  const first = ledger.admit(draft('TQQQ', 0), 'live');
  assert.equal(first.verdict, 'publish');
  assert.equal(first.verdict === 'publish' && first.event.revision, 0);
  assert.equal(first.verdict === 'publish' && first.event.source, 'live');
  assert.deepEqual(ledger.admit(draft('TQQQ', 0), 'live'), { verdict: 'duplicate' });
  assert.deepEqual(ledger.admit(draft('TQQQ', 0), 'backfill'), { verdict: 'duplicate' }, 'same values from REST are still a repeat');
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
  assert.deepEqual(ledger.admit(draft('TQQQ', 0, 999), 'live'), { verdict: 'duplicate' });
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
