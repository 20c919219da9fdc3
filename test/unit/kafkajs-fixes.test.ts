import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
// Through the door, as the gateway does, so the fixes are installed the way they are in production.
import '../../src/kafka/kafkajs.ts';
import { crc32c } from '../../src/kafka/crc32c.ts';
import {
  applyKafkajsFixes,
  groupMessagesPerPartition,
  kafkajsCrc32c,
  kafkajsRecordEncoder,
  scheduleCheckPendingRequests,
  type RequestQueueState,
} from '../../src/kafka/kafkajs-fixes.ts';
import { priceMessage } from '../../src/kafka/price-record.ts';
import { encodeRecord, type RecordInput } from '../../src/kafka/record-encoder.ts';
import { PAYLOAD_VERSION, type BarSource, type PriceEvent } from '../../src/contracts/price-event.ts';
import { formatTsET } from '../../src/contracts/time-format.ts';
import { seededRandom } from '../../harness/random.ts';

function queue(pending: number, throttledUntil: number): RequestQueueState & { checks: number } {
  const q = {
    pending: Array.from({ length: pending }),
    throttledUntil,
    throttleCheckTimeoutId: null as NodeJS.Timeout | null,
    checks: 0,
    checkPendingRequests() {
      q.checks += 1;
    },
  };
  return q;
}

test('an idle, unthrottled queue arms no timer (kafkajs armed a 1 ms one forever)', () => {
  const q = queue(0, -1);
  scheduleCheckPendingRequests.call(q);
  assert.equal(q.throttleCheckTimeoutId, null);
});

test('a queue with waiting requests is re-checked soon', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const q = queue(2, -1);
  scheduleCheckPendingRequests.call(q);
  assert.notEqual(q.throttleCheckTimeoutId, null);
  t.mock.timers.tick(10);
  assert.equal(q.checks, 1);
  assert.equal(q.throttleCheckTimeoutId, null);
});

test('a throttled queue is re-checked when the throttle ends, not before', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const q = queue(1, 1_000_000 + 80);
  scheduleCheckPendingRequests.call(q);
  t.mock.timers.tick(79);
  assert.equal(q.checks, 0);
  t.mock.timers.tick(1);
  assert.equal(q.checks, 1);
});

test('both fixes are installed on the kafkajs version they were written for', () => {
  assert.deepEqual(applyKafkajsFixes(), { requestQueueTimer: true, linearPartitionGrouping: true, singleBufferRecords: true, fastCrc32c: true });
  const require = createRequire(import.meta.url);
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: { scheduleCheckPendingRequests: unknown } };
  assert.equal(RequestQueue.prototype.scheduleCheckPendingRequests, scheduleCheckPendingRequests);
  // kafkajs's producer was loaded after the replacement, so the function it captured is ours.
  assert.ok(require.resolve('kafkajs/src/producer/sendMessages.js') in require.cache, 'the producer module is loaded');
  assert.equal(require('kafkajs/src/producer/groupMessagesPerPartition.js'), groupMessagesPerPartition);
});

const byKey = ({ message }: { message: { key: string } }): number => Number(message.key) % 3;

test('messages are grouped by the partition the partitioner picks, in their order', () => {
  const messages = Array.from({ length: 10 }, (_, i) => ({ key: String(i) }));
  const grouped = groupMessagesPerPartition({ topic: 't', partitionMetadata: [{}, {}, {}], messages, partitioner: byKey });
  assert.deepEqual(grouped, {
    0: [{ key: '0' }, { key: '3' }, { key: '6' }, { key: '9' }],
    1: [{ key: '1' }, { key: '4' }, { key: '7' }],
    2: [{ key: '2' }, { key: '5' }, { key: '8' }],
  });
});

test('without partition metadata nothing is grouped (as kafkajs does)', () => {
  assert.deepEqual(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages: [{ key: '1' }], partitioner: byKey }), {});
});

test('a large request lands whole in one partition', () => {
  const messages = Array.from({ length: 100_000 }, (_, i) => ({ key: String(i * 3) }));
  const grouped = groupMessagesPerPartition({ topic: 't', partitionMetadata: [{}], messages, partitioner: byKey });
  assert.deepEqual(Object.keys(grouped), ['0']);
  assert.equal(grouped[0]!.length, 100_000);
  assert.equal(grouped[0]![99_999], messages[99_999]);
});

test('records are encoded by ours, byte for byte what kafkajs encodes', () => {
  assert.equal(applyKafkajsFixes().singleBufferRecords, true);
  const require = createRequire(import.meta.url);
  assert.equal(require('kafkajs/src/protocol/recordBatch/record/v0/index.js'), encodeRecord);
  assert.ok(kafkajsRecordEncoder !== null);
  const original = kafkajsRecordEncoder;
  const random = seededRandom(7);
  const text = (max: number): string => {
    const alphabet = ['a', 'Z', '0', ':', '-', 'é', '€', '😀', ' ', '"'];
    return Array.from({ length: Math.floor(random() * max) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  };
  const cases: RecordInput[] = [
    { key: 'AAPL', value: '{"a":1}', headers: { version: '1' } },
    { key: null, value: null },
    { key: Buffer.from([0, 255, 7]), value: '', headers: { many: ['x', 'y', Buffer.from('z')] } },
    { offsetDelta: 4999, timestampDelta: 0, key: 'k', value: 'v'.repeat(70_000) },
    { offsetDelta: 63, timestampDelta: -64, key: 'k', value: 'v' },
    { offsetDelta: 64, timestampDelta: 2 ** 31, key: 'k', value: 'v' },
    { offsetDelta: 2 ** 30, timestampDelta: -(2 ** 40), key: 'k', value: 'v' },
    { timestampDelta: 1_700_000_000_000, key: 'k', value: 'v', headers: {} },
  ];
  for (let i = 0; i < 2_000; i += 1) {
    const headers: Record<string, string | Buffer> = {};
    // Short values (the encoder writes short ASCII itself) and long ones (Buffer's own write).
    for (let h = Math.floor(random() * 8); h > 0; h -= 1) headers[text(12) || 'h'] = random() < 0.2 ? Buffer.from(text(30)) : text(random() < 0.5 ? 60 : 300);
    // Half the header objects frozen: those are encoded once and reused.
    if (random() < 0.5) Object.freeze(headers);
    cases.push({
      offsetDelta: Math.floor(random() * 20_000),
      timestampDelta: Math.floor(random() * 100_000) - 1000,
      key: random() < 0.1 ? null : text(random() < 0.5 ? 60 : 20),
      value: text(random() < 0.05 ? 5_000 : 400),
      headers,
    });
  }
  for (const [i, input] of cases.entries()) {
    const theirs = original(input).buffer;
    assert.ok(encodeRecord(input).buffer.equals(theirs), `case ${i}: ${JSON.stringify(input).slice(0, 200)}`);
    assert.ok(encodeRecord({ ...input, offsetDelta: 1 }).buffer.equals(original({ ...input, offsetDelta: 1 }).buffer), `case ${i} again`);
  }
});

test("the gateway's own records encode as kafkajs would encode them, their shared headers included", () => {
  assert.ok(kafkajsRecordEncoder !== null);
  const run = { strategy: 'SIGOR', env: 'MOCK', runId: 'r-1' };
  const startMs = Date.parse('2026-11-23T14:30:00Z');
  const event = (symbol: string, source: BarSource, close: number): PriceEvent => ({
    symbol,
    tsET: formatTsET(startMs),
    open: close,
    high: close,
    low: close,
    close,
    volume: 10,
    vwap: close,
    startMs,
    endMs: startMs + 60_000,
    barId: 1,
    source,
    revision: 0,
  });
  const messages = [event('TQQQ', 'live', 101.5), event('SQQQ', 'live', 20.25), event('TQQQ', 'backfill', 101.5), event('SOXL', 'live', 30)].map((e) =>
    priceMessage(e, run),
  );
  assert.equal(messages[0]!.headers, messages[1]!.headers, 'one minute, one source: one header object');
  assert.notEqual(messages[0]!.headers, messages[2]!.headers, 'another source: another');
  assert.ok(Object.isFrozen(messages[0]!.headers));
  assert.deepEqual(messages[2]!.headers, {
    strategy: 'SIGOR',
    env: 'MOCK',
    runId: 'r-1',
    version: PAYLOAD_VERSION,
    timestampET: formatTsET(startMs),
    source: 'backfill',
  });
  for (const [i, message] of messages.entries()) {
    const input = { offsetDelta: 17 + i, timestampDelta: 3, ...message };
    assert.ok(encodeRecord(input).buffer.equals(kafkajsRecordEncoder(input).buffer), message.key);
  }
});

test('a header object that may change is read afresh for every record', () => {
  assert.ok(kafkajsRecordEncoder !== null);
  const headers: Record<string, string> = { source: 'live' };
  const input = { key: 'TQQQ', value: 'v', headers };
  assert.ok(encodeRecord(input).buffer.equals(kafkajsRecordEncoder(input).buffer));
  headers.source = 'backfill';
  headers.extra = 'é';
  const changed = encodeRecord(input).buffer;
  assert.ok(changed.equals(kafkajsRecordEncoder(input).buffer));
  assert.ok(changed.includes(Buffer.from('backfill')) && changed.includes(Buffer.from('é')));
  // Freezing is shallow: a frozen object's array or Buffer may still change in place.
  const list = ['a'];
  const bytes = Buffer.from('x');
  for (const shallow of [Object.freeze({ list }), Object.freeze({ bytes })]) {
    const input = { key: 'k', value: 'v', headers: shallow };
    const before = encodeRecord(input).buffer;
    list.push(String(list.length));
    bytes.writeUInt8(bytes.readUInt8(0) + 1, 0);
    const after = encodeRecord(input).buffer;
    assert.ok(after.equals(kafkajsRecordEncoder(input).buffer) && !after.equals(before), `${Object.keys(shallow)[0]} read afresh`);
  }
});

test('the record batch checksum is CRC-32C, as kafkajs computes it', () => {
  const require = createRequire(import.meta.url);
  assert.equal(require('kafkajs/src/protocol/recordBatch/crc32C/index.js'), crc32c);
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283, 'the standard check value');
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  assert.ok(kafkajsCrc32c !== null);
  const random = seededRandom(11);
  for (let i = 0; i < 500; i += 1) {
    const bytes = Buffer.from(Array.from({ length: Math.floor(random() * (i < 50 ? 20 : 5000)) }, () => Math.floor(random() * 256)));
    const offset = Math.floor(random() * Math.min(7, bytes.length));
    const view = bytes.subarray(offset);
    assert.equal(crc32c(view), kafkajsCrc32c(view), `length ${view.length}, offset ${offset}`);
  }
});
