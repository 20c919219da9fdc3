import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MINUTE_MS } from '../../src/contracts/time-format.ts';
import type { GatewayRecord, RecordMeta } from '../../src/kafka/gateway-records.ts';
import { OverflowRecovery } from '../../src/kafka/overflow-recovery.ts';
import { RecordSink } from '../../src/kafka/record-sink.ts';
import { capturedLog, priceEventAt } from '../support/fixtures.ts';
import { createMetrics } from '../../src/ops/metrics.ts';

const T0 = Date.parse('2026-03-10T14:00:00Z');

function record(symbol: string, i: number): GatewayRecord {
  const event = priceEventAt(symbol, T0 + i * MINUTE_MS);
  return { topic: 'prices', message: { key: symbol, value: `${symbol}${i}`, headers: {} }, meta: { kind: 'bar', event, receivedAt: null } };
}

/** A producer that refuses every request until `up()`, then records what it was sent. */
function fakeProducer() {
  let down = true;
  const sent: string[] = [];
  let wake: (() => void) | null = null;
  const sendBatch = async ({ topicMessages }: { topicMessages: { messages: { value: string }[] }[] }) => {
    if (down) throw new Error('broker unavailable');
    sent.push(...topicMessages.flatMap((t) => t.messages.map((m) => m.value)));
    wake?.();
    return [];
  };
  return {
    producer: { sendBatch: sendBatch as never },
    sent,
    up: () => void (down = false),
    nextSend: () => new Promise<void>((resolve) => (wake = resolve)),
  };
}

function setup(maxBuffered: number) {
  const kafka = fakeProducer();
  const metrics = createMetrics({ symbols: ['A', 'B'], version: 'test' });
  const { log, lines } = capturedLog();
  const sink = new RecordSink<RecordMeta>({ producer: kafka.producer, maxBuffered, retryMinMs: 1, retryMaxMs: 2, metrics, log });
  const calls: string[] = [];
  const replayed: Promise<void> = new Promise((resolve) => {
    new OverflowRecovery({
      sink,
      target: {
        forget: (symbol, minuteMs, revision) => calls.push(`forget ${symbol}${(minuteMs - T0) / MINUTE_MS} r${revision}`),
        hold: (symbols) => calls.push(`hold ${symbols.join(',')}`),
        replay: (symbols, reason) => {
          calls.push(`replay ${symbols.join(',')} (${reason})`);
          resolve();
        },
      },
      metrics,
      log,
    });
  });
  return { sink, kafka, metrics, calls, lines, replayed };
}

test('a full buffer: the symbol hit is taken back whole, forgotten newest first, held, and replayed once Kafka takes writes', async () => {
  const { sink, kafka, metrics, calls, lines, replayed } = setup(5);
  sink.markConnected();
  // Kafka is down; the sixth record pushes the oldest (A0) out of a buffer of five.
  for (let i = 0; i < 3; i += 1) {
    sink.enqueue(record('A', i));
    sink.enqueue(record('B', i));
  }
  assert.deepEqual(calls, ['forget A2 r0', 'forget A1 r0', 'forget A0 r0', 'hold A']);
  const dropped = (await metrics.eventsDropped.get()).values.find((v) => v.labels.reason === 'buffer_overflow');
  assert.equal(dropped?.value, 1, 'only the bar pushed out is counted as dropped; the ones taken back come back from REST');
  assert.equal(sink.buffered, 3, "B's records stay queued");
  assert.ok(lines.some((l) => l.msg === 'bar buffer full: oldest bars dropped; their symbols will be replayed from REST'));
  // Nothing is replayed while Kafka is down: the replay would only overflow again.
  const sent = kafka.nextSend();
  kafka.up();
  await sent;
  await replayed;
  assert.deepEqual(kafka.sent, ['B0', 'B1', 'B2']);
  assert.equal(calls.at(-1), 'replay A (buffer_overflow)');
  assert.equal(calls.filter((c) => c.startsWith('replay')).length, 1);
});

test('a burst that overflows while Kafka is up is replayed once the buffer has drained to half', async () => {
  const { sink, kafka, calls, replayed } = setup(4);
  kafka.up();
  sink.markConnected();
  // Five records in one turn: the first is pushed out before the pump sends anything.
  for (let i = 0; i < 5; i += 1) sink.enqueue(record(i === 0 ? 'A' : 'B', i));
  assert.deepEqual(calls, ['forget A0 r0', 'hold A']);
  await replayed;
  assert.deepEqual(kafka.sent, ['B1', 'B2', 'B3', 'B4']);
  assert.equal(calls.at(-1), 'replay A (buffer_overflow)');
});

test('waitForRoom resolves once the buffer has room for the records asked for', async () => {
  const { sink, kafka } = setup(3);
  sink.markConnected();
  for (let i = 0; i < 3; i += 1) sink.enqueue(record('B', i));
  let resolved = false;
  const room = sink.waitForRoom(2, new AbortController().signal).then(() => (resolved = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(resolved, false, 'three of three are taken');
  kafka.up();
  await room;
  assert.equal(sink.buffered + 2 <= 3, true);
  const aborted = new AbortController();
  for (let i = 0; i < 3; i += 1) sink.enqueue(record('B', 10 + i));
  const waiting = sink.waitForRoom(3, aborted.signal);
  aborted.abort();
  await waiting;
});
