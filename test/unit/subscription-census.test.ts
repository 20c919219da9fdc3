import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MINUTE_MS } from '../../src/contracts/time-format.ts';
import { SubscriptionCensus } from '../../src/sim/subscription-census.ts';

const T0 = Date.parse('2026-03-10T14:00:00Z');

test('per minute: the count in force as the minute began, raised by any peak within it', () => {
  const census = new SubscriptionCensus();
  census.record(1, T0 + 10_000, 100);
  // A takeover in the third minute: a second connection for 500 wall ms.
  census.record(2, T0 + 2 * MINUTE_MS + 5_000, 2_000);
  census.record(1, T0 + 2 * MINUTE_MS + 6_000, 2_500);
  census.record(0, T0 + 4 * MINUTE_MS, 4_000);
  const counts = census.perMinute(T0 - MINUTE_MS, T0 + 5 * MINUTE_MS).map((m) => m.connections);
  assert.deepEqual(counts, [0, 1, 1, 2, 1, 0, 0]);
});

test('overlaps: each stretch with more than one connection, how long in wall ms, and its peak', () => {
  const census = new SubscriptionCensus();
  census.record(1, T0, 0);
  census.record(2, T0 + 1_000, 1_000);
  census.record(3, T0 + 1_500, 1_200);
  census.record(1, T0 + 2_000, 1_700);
  census.record(2, T0 + 9_000, 9_000);
  assert.deepEqual(census.overlaps(9_400), [
    { fromMarketMs: T0 + 1_000, wallMs: 700, connections: 3 },
    { fromMarketMs: T0 + 9_000, wallMs: 400, connections: 2 },
  ]);
});

test('no change, no entry: repeating a count does not split a stretch', () => {
  const census = new SubscriptionCensus();
  census.record(2, T0, 0);
  census.record(2, T0 + 10, 10);
  census.record(1, T0 + 20, 20);
  assert.deepEqual(census.overlaps(100), [{ fromMarketMs: T0, wallMs: 20, connections: 2 }]);
});
