import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordSink, type OutboundRecord } from '../../src/kafka/record-sink.ts';

/**
 * The sink's queueing rules with a scripted stand-in for `sendBatch` (ordering, batching,
 * overflow, retry). Delivery to a real broker is covered by the integration tests.
 */
type Batch = { topicMessages: { topic: string; messages: { key: string }[] }[] };

function harness(options: { maxBuffered?: number; failures?: number } = {}) {
  const sent: string[][] = [];
  const delivered: number[] = [];
  const overflowed: number[] = [];
  const writable: boolean[] = [];
  let failures = options.failures ?? 0;
  let release: (() => void) | null = null;
  let gate: Promise<void> | null = null;
  const sink = new RecordSink<number>({
    producer: {
      sendBatch: (async (batch: Batch) => {
        if (gate) await gate;
        if (failures > 0) {
          failures -= 1;
          throw new Error('broker unavailable');
        }
        sent.push(batch.topicMessages.flatMap((t) => t.messages.map((m) => `${t.topic}:${m.key}`)));
        return [];
      }) as never,
    },
    maxBuffered: options.maxBuffered ?? 100,
    retryMinMs: 1,
    retryMaxMs: 2,
    hooks: {
      onDelivered: (records) => delivered.push(...records.map((r) => r.meta)),
      onOverflow: (records) => overflowed.push(...records.map((r) => r.meta)),
      onSendError: () => undefined,
      onWritableChange: (w) => writable.push(w),
      onBufferChange: () => undefined,
    },
  });
  const record = (n: number, topic = 'prices'): OutboundRecord<number> => ({ topic, message: { key: `k${n}`, value: String(n), headers: {} }, meta: n });
  const hold = () => {
    gate = new Promise(
      (resolve) =>
        (release = () => {
          gate = null;
          resolve();
        }),
    );
  };
  return { sink, sent, delivered, overflowed, writable, record, hold, release: () => release?.() };
}

test('records enqueued in one turn travel in one request, in order', async () => {
  const h = harness();
  h.sink.markConnected();
  for (let i = 0; i < 12; i += 1) h.sink.enqueue(h.record(i));
  assert.equal(await h.sink.flush(5000), true);
  assert.equal(h.sent.length, 1);
  assert.deepEqual(h.delivered, [...Array(12).keys()]);
  assert.equal(h.sink.buffered, 0);
});

test('control records share the request with data records', async () => {
  const h = harness();
  h.sink.enqueue(h.record(1));
  h.sink.enqueueControl(h.record(99, 'heartbeat'));
  assert.equal(await h.sink.flush(5000), true);
  assert.deepEqual(h.sent, [['heartbeat:k99', 'prices:k1']]);
});

test('failed sends are retried until acknowledged, order kept, writability reported', async () => {
  const h = harness({ failures: 3 });
  h.sink.markConnected();
  for (let i = 0; i < 5; i += 1) h.sink.enqueue(h.record(i));
  assert.equal(await h.sink.flush(5000), true);
  assert.deepEqual(h.delivered, [0, 1, 2, 3, 4]);
  assert.deepEqual(h.writable, [true, false, true]);
});

test('a full buffer drops the oldest queued records, never those in flight', async () => {
  const h = harness({ maxBuffered: 4 });
  h.hold();
  h.sink.enqueue(h.record(0));
  // Let the pump take record 0 into flight, then overfill the queue behind it.
  await new Promise((resolve) => setImmediate(resolve));
  for (let i = 1; i <= 6; i += 1) h.sink.enqueue(h.record(i));
  assert.deepEqual(h.overflowed, [1, 2, 3]);
  assert.equal(h.sink.buffered, 4);
  h.release();
  assert.equal(await h.sink.flush(5000), true);
  assert.deepEqual(h.delivered, [0, 4, 5, 6]);
});

test('flush gives up at its bound while Kafka refuses, and stop ends the retries', async () => {
  const h = harness({ failures: Number.POSITIVE_INFINITY });
  h.sink.enqueue(h.record(1));
  assert.equal(await h.sink.flush(50), false);
  h.sink.stop();
  assert.equal(h.sink.buffered, 1);
  assert.deepEqual(h.delivered, []);
});

test('a burst is split so no request exceeds the byte budget (the broker refuses oversized batches for good)', async () => {
  const sent: number[] = [];
  const sink = new RecordSink<number>({
    producer: {
      sendBatch: (async (batch: Batch) => {
        sent.push(batch.topicMessages.reduce((n, t) => n + t.messages.length, 0));
        return [];
      }) as never,
    },
    maxBuffered: 10_000,
    maxBatchBytes: 10_000,
    hooks: {
      onDelivered: () => undefined,
      onOverflow: () => undefined,
      onSendError: () => undefined,
      onWritableChange: () => undefined,
      onBufferChange: () => undefined,
    },
  });
  // 300 records of about 135 bytes each, about 40 KB in all.
  for (let i = 0; i < 300; i += 1) sink.enqueue({ topic: 'p', message: { key: `K${i}`, value: 'x'.repeat(100), headers: {} }, meta: i });
  assert.equal(await sink.flush(5000), true);
  assert.equal(
    sent.reduce((a, b) => a + b, 0),
    300,
  );
  assert.ok(sent.length >= 4, `split into ${sent.length} requests`);
  assert.ok(
    sent.every((n) => n * 130 <= 10_000 + 130),
    String(sent),
  );
});
