import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
// Through the door, as the gateway does, so the fixes are installed the way they are in production.
import '../../src/kafka/kafkajs.ts';
import { moreKafkajsFixes, kafkajsCrc32c, kafkajsRecordBatch } from '../../src/kafka/kafkajs-fixes.ts';
import { encodeRecordBatch, type RecordBatchInput } from '../../src/kafka/record-batch-encoder.ts';
import { encodeRecord } from '../../src/kafka/record-encoder.ts';
import { seededRandom } from '../../harness/random.ts';

const require = createRequire(import.meta.url);
const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: number | string): { value: bigint } };
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => {
  writeInt8(v: number): unknown;
  writeInt32(v: number): unknown;
  writeString(v: string): unknown;
  writeBytes(v: Buffer): unknown;
  readonly buffer: Buffer;
};

test('record batches and encoder growth are fixed on the kafkajs version they were written for', () => {
  assert.deepEqual(moreKafkajsFixes(), { exactRecordBatch: true, uninitialisedGrowth: true, rememberedTransactionCoordinator: true });
  const batchModule = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { MAGIC_BYTE: number; RecordBatch: unknown };
  assert.equal(batchModule.MAGIC_BYTE, 2);
  assert.notEqual(batchModule.RecordBatch, kafkajsRecordBatch, 'the produce request builds batches with ours');
});

test('an uncompressed record batch is byte for byte what kafkajs builds, checksum included', async () => {
  assert.ok(kafkajsRecordBatch !== null && kafkajsCrc32c !== null);
  const random = seededRandom(23);
  const recordsOf = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      encodeRecord({
        offsetDelta: i,
        timestampDelta: Math.floor(random() * 1000),
        key: `K${i}`,
        value: 'v'.repeat(Math.floor(random() * 400)),
        headers: { h: String(i) },
      }),
    );
  const cases: RecordBatchInput[] = [
    {},
    { records: recordsOf(1) },
    { records: recordsOf(3), transactional: true, producerId: Long.fromValue(4711), producerEpoch: 3, firstSequence: 99 },
    { records: recordsOf(1300), firstTimestamp: 1_773_149_400_000, maxTimestamp: 1_773_149_401_234, lastOffsetDelta: 1299, producerId: Long.fromValue(-1) },
    { records: recordsOf(2), firstOffset: Long.fromValue(0), partitionLeaderEpoch: 7, producerId: Long.fromValue('9007199254740993') },
    // The producer id as kafkajs hands it over: the decimal string it decoded.
    { records: recordsOf(2), producerId: '1001', producerEpoch: 0, firstSequence: 12 },
    { records: recordsOf(1), producerId: '-1' },
  ];
  for (let i = 0; i < 50; i += 1) {
    const n = Math.floor(random() * 40);
    cases.push({
      records: recordsOf(n),
      transactional: random() < 0.5,
      producerId: Long.fromValue(Math.floor(random() * 1e6)),
      producerEpoch: Math.floor(random() * 100),
      firstSequence: Math.floor(random() * 1e5),
      lastOffsetDelta: n - 1,
      firstTimestamp: 1_700_000_000_000 + i,
      maxTimestamp: 1_700_000_000_500 + i,
    });
  }
  for (const [i, input] of cases.entries()) {
    // Fixed timestamps where a case leaves them to Date.now().
    const fixed = { firstTimestamp: 1_773_000_000_000, maxTimestamp: 1_773_000_000_000, ...input };
    const ours = encodeRecordBatch(fixed).buffer;
    const theirs = (await kafkajsRecordBatch(fixed)).buffer;
    assert.ok(ours.equals(theirs), `case ${i}`);
    // The checksum by kafkajs's own CRC-32C, over attributes to the end (after firstOffset,
    // size, partitionLeaderEpoch, magic and the crc itself).
    assert.equal(ours.readUInt32BE(17), kafkajsCrc32c(ours.subarray(21)), `case ${i} crc`);
    assert.equal(ours.readInt32BE(8), ours.length - 12, `case ${i} size`);
  }
});

test('an encoder grown past its first buffer holds exactly what was written', () => {
  const encoder = new Encoder();
  const want: Buffer[] = [];
  const random = seededRandom(5);
  for (let i = 0; i < 3000; i += 1) {
    const choice = Math.floor(random() * 3);
    if (choice === 0) {
      encoder.writeInt32(i);
      const b = Buffer.allocUnsafe(4);
      b.writeInt32BE(i);
      want.push(b);
    } else if (choice === 1) {
      const text = `s${i}`.repeat(Math.floor(random() * 20));
      encoder.writeString(text);
      const b = Buffer.allocUnsafe(2);
      b.writeInt16BE(Buffer.byteLength(text));
      want.push(b, Buffer.from(text));
    } else {
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 3000) }, (_, k) => (k * 31 + i) & 0xff));
      encoder.writeBytes(bytes);
      const b = Buffer.allocUnsafe(4);
      b.writeInt32BE(bytes.length);
      want.push(b, bytes);
    }
  }
  assert.ok(encoder.buffer.equals(Buffer.concat(want)));
});
