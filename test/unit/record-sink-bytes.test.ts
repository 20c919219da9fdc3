import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { SETTINGS } from '../../src/config/settings.ts';
import { heldBytes, RECORD_OVERHEAD_BYTES, RecordSink, type OutboundRecord } from '../../src/kafka/record-sink.ts';
import { createMetrics } from '../../src/ops/metrics.ts';
import { capturedLog } from '../support/fixtures.ts';

/**
 * MAX_BUFFERED_BYTES: the sink's buffer bounded in bytes as well as in bars. The cost of a
 * record is the contract `heldBytes` documents, worked out here from the lengths the test
 * chose: key + value + 32, each header's name + value + 4, plus RECORD_OVERHEAD_BYTES.
 */
type Batch = { topicMessages: { topic: string; messages: { key: string }[] }[] };

const HEADERS = { source: 'live' };
/** Held bytes of a record with this key and value and HEADERS. */
const cost = (key: string, value: string): number => key.length + value.length + 32 + ('source'.length + 'live'.length + 4) + RECORD_OVERHEAD_BYTES;

/** Keys of one width, so records of one value length cost the same. */
const key = (n: number): string => `k${String(n).padStart(3, '0')}`;
const record = (n: number, valueLength = 1000): OutboundRecord<number> => ({
  topic: 'prices',
  message: { key: key(n), value: 'v'.repeat(valueLength), headers: HEADERS },
  meta: n,
});
/** What one record of the default value length holds. */
const UNIT = cost(key(0), 'v'.repeat(1000));

function harness(options: { maxBufferedBytes: number; maxBuffered?: number; metrics?: ReturnType<typeof createMetrics> }) {
  const sent: number[][] = [];
  const delivered: number[] = [];
  const overflowCalls: number[][] = [];
  let release: (() => void) | null = null;
  let gate: Promise<void> | null = null;
  const sink = new RecordSink<number>({
    producer: {
      sendBatch: (async (batch: Batch) => {
        if (gate) await gate;
        sent.push(batch.topicMessages.flatMap((t) => t.messages.map((m) => Number(m.key.slice(1)))));
        return [];
      }) as never,
    },
    maxBuffered: options.maxBuffered ?? 100_000,
    maxBufferedBytes: options.maxBufferedBytes,
    retryMinMs: 1,
    retryMaxMs: 2,
    hooks: {
      onDelivered: (records) => delivered.push(...records.map((r) => r.meta)),
      onOverflow: (records) => overflowCalls.push(records.map((r) => r.meta)),
    },
    ...(options.metrics ? { metrics: options.metrics, log: capturedLog().log } : {}),
  });
  const hold = (): void => {
    gate = new Promise((resolve) => {
      release = () => {
        gate = null;
        resolve();
      };
    });
  };
  return { sink, sent, delivered, overflowCalls, hold, release: () => release?.() };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('heldBytes is the wire size of key, value and headers plus the per-record overhead', () => {
  assert.equal(heldBytes(record(7)), UNIT);
  assert.equal(heldBytes(record(7, 10)), cost(key(7), 'v'.repeat(10)));
  assert.equal(heldBytes({ topic: 't', message: { key: 'ab', value: 'cde', headers: {} }, meta: 0 }), 2 + 3 + 32 + RECORD_OVERHEAD_BYTES);
});

test('the byte bound drops the oldest queued records though the bar bound is far away', async () => {
  const h = harness({ maxBufferedBytes: 10 * UNIT });
  assert.equal(h.sink.byteCapacity, 10 * UNIT);
  // In one turn: nothing goes into flight before the 25 are queued.
  for (let i = 0; i < 25; i += 1) h.sink.enqueue(record(i));
  // Ten fit exactly (the bound is not passed); each of the other 15 pushes out the oldest.
  assert.deepEqual(h.overflowCalls.flat(), [...Array(15).keys()]);
  assert.equal(h.overflowCalls.length, 15);
  assert.equal(h.sink.buffered, 10);
  assert.equal(h.sink.bufferedBytes, 10 * UNIT);
  assert.equal(await h.sink.flush(5000), true);
  assert.deepEqual(h.delivered, [15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
  assert.equal(h.sink.bufferedBytes, 0);
});

test('one byte under a whole number of records holds one record fewer', () => {
  const h = harness({ maxBufferedBytes: 10 * UNIT - 1 });
  for (let i = 0; i < 25; i += 1) h.sink.enqueue(record(i));
  assert.equal(h.overflowCalls.flat().length, 16);
  assert.equal(h.sink.buffered, 9);
  assert.equal(h.sink.bufferedBytes, 9 * UNIT);
  h.sink.stop();
});

test('a large record pushes out as many small ones as its bytes need, in one overflow call', () => {
  const small = cost(key(0), 'v'.repeat(100));
  const big = cost(key(99), 'v'.repeat(2000));
  const h = harness({ maxBufferedBytes: 10 * small });
  for (let i = 0; i < 10; i += 1) h.sink.enqueue(record(i, 100));
  assert.deepEqual(h.overflowCalls, []);
  h.sink.enqueue(record(99, 2000));
  // The oldest small records go until `big` more bytes are freed.
  const dropped = Math.ceil(big / small);
  assert.deepEqual(h.overflowCalls, [[...Array(dropped).keys()]]);
  assert.equal(h.sink.bufferedBytes, (10 - dropped) * small + big);
  h.sink.stop();
});

test('a record alone above the byte bound is kept (the newest is never pushed out)', () => {
  const h = harness({ maxBufferedBytes: UNIT - 1 });
  h.sink.enqueue(record(0));
  assert.deepEqual(h.overflowCalls, []);
  h.sink.enqueue(record(1));
  assert.deepEqual(h.overflowCalls, [[0]]);
  assert.equal(h.sink.bufferedBytes, UNIT);
  h.sink.stop();
});

test('records in flight count but are never dropped; the count returns to 0 once they are acknowledged', async () => {
  const h = harness({ maxBufferedBytes: 10 * UNIT });
  h.hold();
  h.sink.enqueue(record(0));
  await turn();
  assert.equal(h.sink.bufferedBytes, UNIT, 'the record in flight is held');
  for (let i = 1; i <= 20; i += 1) h.sink.enqueue(record(i));
  // One in flight leaves room for nine queued: 20 - 9 = 11 pushed out, the oldest queued.
  assert.deepEqual(
    h.overflowCalls.flat(),
    [...Array(11).keys()].map((i) => i + 1),
  );
  assert.equal(h.sink.bufferedBytes, 10 * UNIT);
  h.release();
  assert.equal(await h.sink.flush(5000), true);
  assert.deepEqual(h.delivered, [0, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
  assert.equal(h.sink.bufferedBytes, 0);
  assert.equal(h.sink.buffered, 0);
});

test('a request takes at most half the byte bound into flight, so bars can queue behind it', async () => {
  const h = harness({ maxBufferedBytes: 10 * UNIT });
  for (let i = 0; i < 8; i += 1) h.sink.enqueue(record(i));
  assert.equal(await h.sink.flush(5000), true);
  assert.deepEqual(h.sent, [
    [0, 1, 2, 3, 4],
    [5, 6, 7],
  ]);
  assert.deepEqual(h.overflowCalls, []);
});

test('withdraw takes exactly the withdrawn records out of the byte count', () => {
  const h = harness({ maxBufferedBytes: 1_000_000 });
  for (let i = 0; i < 5; i += 1) h.sink.enqueue(record(i, 100 * (i + 1)));
  const all = [1, 2, 3, 4, 5].reduce((n, k) => n + cost(key(0), 'v'.repeat(100 * k)), 0);
  assert.equal(h.sink.bufferedBytes, all);
  const withdrawn = h.sink.withdraw((r) => r.meta % 2 === 1);
  assert.deepEqual(
    withdrawn.map((r) => r.meta),
    [1, 3],
  );
  assert.equal(h.sink.bufferedBytes, all - cost(key(1), 'v'.repeat(200)) - cost(key(3), 'v'.repeat(400)));
  h.sink.withdraw(() => true);
  assert.equal(h.sink.bufferedBytes, 0);
  h.sink.stop();
});

test('waitForRoom waits for room in bytes too', async () => {
  const h = harness({ maxBufferedBytes: 10 * UNIT });
  h.hold();
  for (let i = 0; i < 8; i += 1) h.sink.enqueue(record(i));
  let resolved = false;
  // Eight of ten held: two more records fit, three do not (in bars there is room for thousands).
  await h.sink.waitForRoom(2, new AbortController().signal, 2 * UNIT);
  const room = h.sink.waitForRoom(3, new AbortController().signal, 3 * UNIT).then(() => (resolved = true));
  // Unset bytes: as much each as the average record held.
  const estimated = h.sink.waitForRoom(3, new AbortController().signal).then(() => true);
  await turn();
  assert.equal(resolved, false);
  h.release();
  await room;
  assert.equal(await estimated, true);
  assert.ok(h.sink.bufferedBytes + 3 * UNIT <= 10 * UNIT);
  assert.equal(await h.sink.flush(5000), true);
});

test('the buffered_bytes gauge follows the sink of bars', async () => {
  const metrics = createMetrics({ symbols: ['TQQQ'], version: 'test' });
  const h = harness({ maxBufferedBytes: 10 * UNIT, metrics });
  const gauge = async (): Promise<number> => (await metrics.bufferedBytes.get()).values[0]!.value;
  assert.equal(await gauge(), 0);
  h.hold();
  for (let i = 0; i < 3; i += 1) h.sink.enqueue(record(i));
  assert.equal(await gauge(), 3 * UNIT);
  h.release();
  assert.equal(await h.sink.flush(5000), true);
  assert.equal(await gauge(), 0);
});

test('without a byte bound the sink is bounded in bars only', () => {
  const sink = new RecordSink<number>({ producer: { sendBatch: async () => [] }, maxBuffered: 3 });
  assert.equal(sink.byteCapacity, Number.POSITIVE_INFINITY);
  for (let i = 0; i < 5; i += 1) sink.enqueue(record(i, 100_000));
  assert.equal(sink.buffered, 3);
  sink.stop();
});

test('MAX_BUFFERED_BYTES: the settings table default, at least 1 MiB, a bad value is one line naming it', () => {
  const row = SETTINGS.find((s) => s.name === 'MAX_BUFFERED_BYTES');
  assert.ok(row !== undefined);
  assert.equal(loadConfig({}).config.maxBufferedBytes, Number(row.default));
  assert.equal(loadConfig({ MAX_BUFFERED_BYTES: '1048576' }).config.maxBufferedBytes, 1048576);
  for (const [value, why] of [
    ['100', /^MAX_BUFFERED_BYTES: must be at least 1048576 \(1 MiB: room for a whole produce request of up to 512 KiB.*\), got 100$/],
    ['lots', /^MAX_BUFFERED_BYTES: must be a whole number, got "lots"$/],
    ['-5', /^MAX_BUFFERED_BYTES: must be at least 1048576 \(1 MiB.*\), got -5$/],
  ] as const) {
    assert.throws(
      () => loadConfig({ MAX_BUFFERED_BYTES: value }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 1, error.message);
        assert.match(error.problems[0]!, why);
        return true;
      },
    );
  }
});
