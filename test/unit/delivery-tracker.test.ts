import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BarSource, PriceEvent } from '../../src/contracts/price-event.ts';
import { MINUTE_MS } from '../../src/contracts/time-format.ts';
import { priceEventAt } from '../support/fixtures.ts';
import { DeliveryTracker } from '../../src/kafka/delivery-tracker.ts';
import type { GatewayRecord } from '../../src/kafka/gateway-records.ts';
import { createMetrics } from '../../src/ops/metrics.ts';

const T0 = Date.parse('2026-03-10T14:00:00Z');
const m = (i: number) => T0 + i * MINUTE_MS;

function event(symbol: string, i: number, source: BarSource = 'live', revision = 0): PriceEvent {
  return priceEventAt(symbol, m(i), source, revision);
}

function bar(e: PriceEvent, receivedAt: number | null = null): GatewayRecord {
  return { topic: 'p', message: { key: e.symbol, value: '', headers: {} }, meta: { kind: 'bar', event: e, receivedAt } };
}

function setup(now = m(10)) {
  const metrics = createMetrics({ symbols: ['A', 'B'], version: 'test' });
  const tracker = new DeliveryTracker({ symbols: ['A', 'B'], now: () => now, metrics });
  return { metrics, tracker };
}

test("the complete minute is the oldest of the symbols' newest revision-0 minutes, once every symbol has one", () => {
  const { tracker } = setup();
  tracker.delivered([bar(event('A', 3)), bar(event('A', 4))], 0);
  assert.equal(tracker.completeMinute(), null, 'B has nothing yet');
  tracker.delivered([bar(event('B', 2))], 0);
  assert.equal(tracker.completeMinute(), m(2));
  // A revision of an older minute says nothing new about completeness; a later one does.
  tracker.delivered([bar(event('B', 1, 'live', 1)), bar(event('B', 6))], 0);
  assert.equal(tracker.completeMinute(), m(4));
  assert.equal(tracker.lastBarStart, m(6));
  assert.equal(tracker.barsPublished, 5);
});

test("the topic's tail and acknowledged batches go through the same bookkeeping; only this run's records count as published", () => {
  const restored = setup().tracker;
  const delivered = setup().tracker;
  const history = [event('A', 1), event('B', 1), event('A', 2), event('B', 2, 'filled'), event('A', 1, 'live', 1)];
  for (const e of history) restored.restore(e);
  delivered.delivered(
    history.map((e) => bar(e)),
    0,
  );
  assert.equal(restored.completeMinute(), delivered.completeMinute());
  assert.equal(restored.lastBarStart, delivered.lastBarStart);
  assert.equal(restored.symbolsSeen, 2);
  assert.equal(restored.barsPublished, 0);
  assert.equal(delivered.barsPublished, history.length);
});

test('acknowledged records are counted by symbol and source, with latency, delay and heartbeats', async () => {
  const { tracker, metrics } = setup(m(5) + 3_000);
  tracker.delivered(
    [
      bar(event('A', 4), 100),
      bar(event('A', 3, 'backfill')),
      bar(event('B', 4, 'filled')),
      { topic: 'h', message: { key: 'r', value: '', headers: {} }, meta: { kind: 'heartbeat', status: 'ok' } },
    ],
    350,
  );
  const published = (await metrics.barsPublished.get()).values.map((v) => `${v.labels.symbol}/${v.labels.source}=${v.value}`).sort();
  assert.deepEqual(published, ['A/backfill=1', 'A/live=1', 'B/filled=1']);
  assert.deepEqual(
    (await metrics.heartbeats.get()).values.map((v) => [v.labels.status, v.value]),
    [['ok', 1]],
  );
  const latency = (await metrics.publishLatency.get()).values.find((v) => v.metricName?.endsWith('_sum'))!;
  assert.equal(latency.value, 0.25, 'only the live bar has a receipt time: 250 ms');
  const delay = (await metrics.barDelay.get()).values.find((v) => v.metricName?.endsWith('_count'))!;
  assert.equal(delay.value, 3);
  assert.equal((await metrics.lastBarTimestamp.get()).values[0]!.value, m(4) / 1000);
});
