import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordSink, type OutboundRecord } from '../../src/kafka/record-sink.ts';

/**
 * A request the broker refuses as too large (MESSAGE_TOO_LARGE, as kafkajs reports it) is
 * sent again in parts, in order, and later requests are smaller. A scripted `sendBatch`
 * stands in for the broker: it takes at most `fits` records per request. The same on a real
 * broker is in test/integration/request-size.test.ts.
 */
type Batch = { topicMessages: { topic: string; messages: { key: string }[] }[] };

const tooLarge = (): Error =>
  Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { type: 'MESSAGE_TOO_LARGE' });

function harness(fits: number, script: { transientAfterParts?: number } = {}) {
  /** Every request the stand-in accepted, as the record numbers it carried. */
  const accepted: number[][] = [];
  let refused = 0;
  const delivered: number[][] = [];
  let transientAfterParts = script.transientAfterParts;
  const sink = new RecordSink<number>({
    producer: {
      sendBatch: (async (batch: Batch) => {
        const keys = batch.topicMessages.flatMap((t) => t.messages.map((m) => Number(m.key.slice(1))));
        if (keys.length > fits) {
          refused += 1;
          throw tooLarge();
        }
        if (transientAfterParts !== undefined && accepted.length === transientAfterParts) {
          transientAfterParts = undefined;
          throw new Error('broker unavailable');
        }
        accepted.push(keys);
        return [];
      }) as never,
    },
    maxBuffered: 1000,
    retryMinMs: 1,
    retryMaxMs: 2,
    hooks: { onDelivered: (records) => delivered.push(records.map((r) => r.meta)) },
  });
  const record = (n: number): OutboundRecord<number> => ({ topic: 'prices', message: { key: `k${n}`, value: 'v'.repeat(100), headers: {} }, meta: n });
  return { sink, accepted, delivered, record, refusedCount: () => refused };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

test('a refused request goes out in parts that each fit, every record once and in order', async () => {
  const h = harness(10);
  for (const n of range(0, 40)) h.sink.enqueue(h.record(n));
  assert.equal(await h.sink.flush(5000), true);
  assert.deepEqual(h.accepted.flat(), range(0, 40));
  for (const part of h.accepted) assert.ok(part.length <= 10, `a part of ${part.length}`);
  assert.ok(h.refusedCount() >= 1);
  // The batch counts as delivered once, whole, after its last part.
  assert.deepEqual(h.delivered, [range(0, 40)]);
});

test('once refused, later requests are formed small enough: no second refusal', async () => {
  const h = harness(10);
  for (const n of range(0, 40)) h.sink.enqueue(h.record(n));
  assert.equal(await h.sink.flush(5000), true);
  const refusedFirst = h.refusedCount();
  for (const n of range(40, 80)) h.sink.enqueue(h.record(n));
  assert.equal(await h.sink.flush(5000), true);
  assert.equal(h.refusedCount(), refusedFirst);
  assert.deepEqual(h.accepted.flat(), range(0, 80));
});

test('a failure between parts is retried from the first part not yet taken: nothing is sent twice', async () => {
  const h = harness(10, { transientAfterParts: 2 });
  for (const n of range(0, 40)) h.sink.enqueue(h.record(n));
  assert.equal(await h.sink.flush(5000), true);
  assert.deepEqual(h.accepted.flat(), range(0, 40));
});

test('stopped while retrying after some parts were taken: those are delivered, the rest stay buffered', { timeout: 10_000 }, async () => {
  let failing = false;
  const accepted: number[] = [];
  const delivered: number[] = [];
  let secondPartTried: () => void = () => undefined;
  const stuck = new Promise<void>((resolve) => (secondPartTried = resolve));
  let reported: () => void = () => undefined;
  const partlyDelivered = new Promise<void>((resolve) => (reported = resolve));
  const sink = new RecordSink<number>({
    producer: {
      sendBatch: (async (batch: Batch) => {
        const keys = batch.topicMessages.flatMap((t) => t.messages.map((m) => Number(m.key.slice(1))));
        if (keys.length > 10) throw tooLarge();
        if (failing) {
          secondPartTried();
          throw new Error('broker unavailable');
        }
        accepted.push(...keys);
        failing = true;
        return [];
      }) as never,
    },
    maxBuffered: 1000,
    retryMinMs: 1,
    retryMaxMs: 2,
    hooks: {
      onDelivered: (records) => {
        delivered.push(...records.map((r) => r.meta));
        reported();
      },
    },
  });
  for (const n of range(0, 40)) sink.enqueue({ topic: 'prices', message: { key: `k${n}`, value: 'v'.repeat(100), headers: {} }, meta: n });
  await stuck;
  sink.stop();
  // The pump reports the parts taken, then puts the rest back, in one turn.
  await partlyDelivered;
  assert.deepEqual(delivered, accepted);
  assert.ok(accepted.length > 0 && accepted.length < 40);
  assert.equal(sink.buffered, 40 - accepted.length);
});
