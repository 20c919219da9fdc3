import { crc32c } from './crc32c.ts';

/**
 * An uncompressed Kafka RecordBatch (message format v2), framed as kafkajs's produce request
 * v3 reads it (`firstOffset`, then the batch as int32-length-prefixed bytes), written into one
 * buffer of its exact size:
 *
 *   firstOffset int64 | size int32 | partitionLeaderEpoch int32 | magic int8 (2) | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | firstTimestamp int64 | maxTimestamp int64 |
 *   producerId int64 | producerEpoch int16 | firstSequence int32 | record count int32 | records
 *
 * The CRC-32C covers everything from `attributes` on. kafkajs 2.2.4 builds the same bytes in
 * three nested encoders, each grown from 512 zeroed bytes by doubling, and copies the records
 * once per level: for a request of 1,300 price records that is megabytes of zero-filling and
 * copying, which the firehose profile showed as Buffer allocation and copies inside kafkajs.
 * A unit test checks this encoder against kafkajs's byte for byte.
 */

/**
 * What kafkajs passes for an int64: a number, a decimal string (the producer id, as kafkajs
 * decodes it), or its Long (a wrapper around a bigint).
 */
type Int64 = number | string | bigint | { value: bigint };

export interface RecordBatchInput {
  firstOffset?: Int64;
  firstTimestamp?: number;
  maxTimestamp?: number;
  partitionLeaderEpoch?: number;
  lastOffsetDelta?: number;
  transactional?: boolean;
  producerId?: Int64;
  producerEpoch?: number;
  firstSequence?: number;
  /** Encoded records (record-encoder.ts, or kafkajs's own encoders). */
  records?: readonly { buffer: Buffer }[];
}

/** What kafkajs's produce request reads from an encoded batch (the shape of its Encoder). */
export interface EncodedBatch {
  buf: Buffer;
  readonly buffer: Buffer;
  size(): number;
}

const MAGIC = 2;
const TRANSACTIONAL = 0x10;
/** attributes .. firstSequence, then the record count. */
const BODY_HEADER = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
/** firstOffset, size, partitionLeaderEpoch, magic, crc. */
const FRAME = 8 + 4 + 4 + 1 + 4;

/** As kafkajs's Long.fromValue reads it (NaN is zero), cut to 64 bits as its encoder writes it. */
function int64(value: Int64): bigint {
  if (typeof value === 'number') return Number.isNaN(value) ? 0n : BigInt.asIntN(64, BigInt(value));
  if (typeof value === 'string' || typeof value === 'bigint') return BigInt.asIntN(64, BigInt(value));
  return BigInt.asIntN(64, value.value);
}

export function encodeRecordBatch({
  firstOffset = 0,
  firstTimestamp = Date.now(),
  maxTimestamp = Date.now(),
  partitionLeaderEpoch = 0,
  lastOffsetDelta = 0,
  transactional = false,
  producerId = -1,
  producerEpoch = 0,
  firstSequence = 0,
  records = [],
}: RecordBatchInput): EncodedBatch {
  let recordBytes = 0;
  for (const record of records) recordBytes += record.buffer.length;
  const buf = Buffer.allocUnsafe(FRAME + BODY_HEADER + recordBytes);
  buf.writeBigInt64BE(int64(firstOffset), 0);
  buf.writeInt32BE(buf.length - 12, 8);
  buf.writeInt32BE(partitionLeaderEpoch, 12);
  buf.writeInt8(MAGIC, 16);
  // crc at 17, once the body is written
  let at = FRAME;
  buf.writeInt16BE(transactional ? TRANSACTIONAL : 0, at);
  buf.writeInt32BE(lastOffsetDelta, at + 2);
  buf.writeBigInt64BE(int64(firstTimestamp), at + 6);
  buf.writeBigInt64BE(int64(maxTimestamp), at + 14);
  buf.writeBigInt64BE(int64(producerId), at + 22);
  buf.writeInt16BE(producerEpoch, at + 30);
  buf.writeInt32BE(firstSequence, at + 32);
  buf.writeInt32BE(records.length, at + 36);
  at += BODY_HEADER;
  for (const record of records) {
    buf.set(record.buffer, at);
    at += record.buffer.length;
  }
  buf.writeUInt32BE(crc32c(buf.subarray(FRAME)), 17);
  return { buf, buffer: buf, size: () => buf.length };
}
