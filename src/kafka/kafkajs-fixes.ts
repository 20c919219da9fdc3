import { createRequire } from 'node:module';
import { crc32c } from './crc32c.ts';
import { encodeRecordBatch, type EncodedBatch, type RecordBatchInput } from './record-batch-encoder.ts';
import { encodeRecord, type EncodedRecord, type RecordInput } from './record-encoder.ts';
import { cacheTransactionCoordinators } from './transaction-coordinator-cache.ts';

/**
 * Fixes to kafkajs 2.2.4 (unmaintained since 2023), installed before kafkajs itself loads.
 * `kafkajs.ts` imports this module first: one fix replaces a module that kafkajs's producer
 * captures when it is first required, so it must be in the module cache before that.
 * Each fix applies only to the exact version it was written and measured against.
 *
 * 1. The request queue's idle timer (tulios/kafkajs#1751, #1704; fixes proposed in #1755 and
 *    #1768, never released). The queue re-arms a timer even when nothing is pending: the delay
 *    it computes is negative, Node 24 clamps it to 1 ms and warns (TimeoutNegativeWarning), and
 *    every idle broker connection then wakes the event loop a thousand times a second.
 *    Measured here: an idle gateway burned about 5% of a core. The replacement schedules a
 *    check only when a request is waiting or the connection is throttled; a new request or a
 *    response triggers the next check anyway.
 *
 * 2. Grouping a produce request's messages by partition is quadratic: every message copies
 *    the array of the messages before it, so a request of n messages makes n^2/2 copies and
 *    as many bytes of short-lived arrays times eight. The sink sends up to 5,000 records a
 *    request (fewer under its byte cap), so this grows with exactly the load the gateway must
 *    carry at full-market scale. The replacement groups in one pass and keeps each
 *    partition's messages in their order, as the original does.
 *
 * 3. Encoding one record allocates a zero-filled 512-byte buffer for the record, another for
 *    each header (the gateway's records carry six), and a throw-away buffer for every varint.
 *    Profiled under the benchmark's firehose, record encoding was 37% of the gateway's busy
 *    time, headers alone 22%. The replacement (`record-encoder.ts`) writes each record into
 *    one buffer of its exact size; a unit test checks it against kafkajs's own encoder byte
 *    for byte.
 *
 * 4. The record batch's CRC-32C is computed a byte a step (3.5% of the firehose profile once
 *    the above were fixed); `crc32c.ts` computes it eight bytes a step.
 *
 * 5. An uncompressed record batch is built in three nested encoders, each copying the
 *    records again (`record-batch-encoder.ts` writes it once, at its exact size; compressed
 *    batches keep kafkajs's own path).
 *
 * 6. Every encoder grows by allocating a zero-filled buffer twice the size it needs and
 *    copying into it; a produce request of 512 KiB passes through four of them. Nothing reads
 *    an encoder's bytes past what it wrote (its `buffer` is cut at `offset`), so it grows into
 *    an uninitialised buffer instead. Fixes 5 and 6 were 6.6% of the firehose profile
 *    (Buffer allocation and copies under kafkajs's encoders).
 *
 * 7. Before every AddPartitionsToTxn and EndTxn kafkajs looks the transaction coordinator up
 *    again: two extra round trips per transaction (`transaction-coordinator-cache.ts`).
 */

export const PATCHED_KAFKAJS_VERSION = '2.2.4';

/** Fields of kafkajs's RequestQueue the first fix reads. */
export interface RequestQueueState {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
}

/** How long kafkajs waits before re-checking a queue that has requests but no throttle. */
const RECHECK_MS = 10;

/** Fix 1: arm a timer only when there is something to wait for. */
export function scheduleCheckPendingRequests(this: RequestQueueState): void {
  if (this.throttleCheckTimeoutId) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  if (this.pending.length === 0 && untilUnthrottled <= 0) return;
  const delay = untilUnthrottled > 0 ? untilUnthrottled : RECHECK_MS;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
}

/** What kafkajs's producer passes to its partition grouping. */
export interface PartitionGroupingInput<M> {
  topic: string;
  partitionMetadata: unknown[];
  messages: M[];
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: M }) => number;
}

/** Fix 2: messages by the partition the partitioner picks, in one pass, order kept within a partition. */
export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: PartitionGroupingInput<M>): Record<number, M[]> {
  const grouped: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return grouped;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = grouped[partition];
    if (list === undefined) grouped[partition] = [message];
    else list.push(message);
  }
  return grouped;
}

export interface KafkajsFixes {
  requestQueueTimer: boolean;
  linearPartitionGrouping: boolean;
  singleBufferRecords: boolean;
  fastCrc32c: boolean;
}

/** kafkajs's own record encoder and checksum, kept so tests can compare ours with them. */
export let kafkajsRecordEncoder: ((input: RecordInput) => EncodedRecord) | null = null;
export let kafkajsCrc32c: ((bytes: Buffer) => number) | null = null;

/**
 * Makes a kafkajs module answer with `replacement` for the modules that load it later. Fails
 * (returns false) if its user is already loaded: that one keeps the original.
 */
function replaceModule(require: NodeJS.Require, path: string, usedBy: string, replacement: unknown): { original: unknown; replaced: boolean } {
  const resolved = require.resolve(path);
  const userLoaded = require.resolve(usedBy) in require.cache;
  const original: unknown = require(resolved);
  const cached = require.cache[resolved];
  if (cached === undefined || userLoaded) return { original, replaced: false };
  cached.exports = replacement;
  return { original, replaced: true };
}

/** Fixes 5 to 7, reported apart from the first four (whose test pins their shape). */
export interface MoreKafkajsFixes {
  exactRecordBatch: boolean;
  uninitialisedGrowth: boolean;
  rememberedTransactionCoordinator: boolean;
}

/** kafkajs's own record batch encoder, kept so tests can compare ours with it. */
export let kafkajsRecordBatch: ((input: RecordBatchInput & { compression?: number }) => Promise<EncodedBatch>) | null = null;

/** kafkajs's Encoder, as fix 6 reads it. */
interface KafkajsEncoder {
  prototype: { buf: Buffer; offset: number; ensureAvailable(length: number): void };
  nextPowerOfTwo(value: number): number;
}

/** Fix 6: grow an encoder without zero-filling what will be overwritten anyway. */
function growUninitialised(Encoder: KafkajsEncoder): void {
  Encoder.prototype.ensureAvailable = function ensureAvailable(this: { buf: Buffer; offset: number }, length: number): void {
    if (this.offset + length <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };
}

let applied: KafkajsFixes | null = null;
let appliedMore: MoreKafkajsFixes = { exactRecordBatch: false, uninitialisedGrowth: false, rememberedTransactionCoordinator: false };

/** Which of fixes 5 to 7 are in place (after applyKafkajsFixes). */
export function moreKafkajsFixes(): MoreKafkajsFixes {
  return appliedMore;
}

/** Installs the fixes (once); says which are in place. */
export function applyKafkajsFixes(): KafkajsFixes {
  if (applied !== null) return applied;
  const require = createRequire(import.meta.url);
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== PATCHED_KAFKAJS_VERSION) {
    applied = { requestQueueTimer: false, linearPartitionGrouping: false, singleBufferRecords: false, fastCrc32c: false };
    return applied;
  }
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: { scheduleCheckPendingRequests: unknown } };
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;

  // kafkajs's producer keeps the functions it required, so the cached modules must answer
  // with ours before the producer loads (kafkajs.ts imports this module first for that).
  const grouping = replaceModule(
    require,
    'kafkajs/src/producer/groupMessagesPerPartition.js',
    'kafkajs/src/producer/sendMessages.js',
    groupMessagesPerPartition,
  );
  const records = replaceModule(
    require,
    'kafkajs/src/protocol/recordBatch/record/v0/index.js',
    'kafkajs/src/protocol/requests/produce/v3/request.js',
    encodeRecord,
  );
  const checksum = replaceModule(require, 'kafkajs/src/protocol/recordBatch/crc32C/index.js', 'kafkajs/src/protocol/recordBatch/v0/index.js', crc32c);
  // After the checksum: kafkajs's batch module, loaded here, then captures our crc32c for
  // the compressed batches it still builds.
  const batchModule = require.resolve('kafkajs/src/protocol/recordBatch/v0/index.js');
  const theirBatch = require(batchModule) as { RecordBatch: (input: RecordBatchInput & { compression?: number }) => Promise<EncodedBatch>; MAGIC_BYTE: number };
  const batches = replaceModule(require, batchModule, 'kafkajs/src/protocol/requests/produce/v3/request.js', {
    MAGIC_BYTE: theirBatch.MAGIC_BYTE,
    RecordBatch: async (input: RecordBatchInput & { compression?: number }): Promise<EncodedBatch> =>
      (input.compression ?? 0) === 0 ? encodeRecordBatch(input) : theirBatch.RecordBatch(input),
  });
  growUninitialised(require('kafkajs/src/protocol/encoder.js') as KafkajsEncoder);
  kafkajsRecordBatch = theirBatch.RecordBatch;
  cacheTransactionCoordinators(
    require('kafkajs/src/cluster/index.js') as Parameters<typeof cacheTransactionCoordinators>[0],
    require('kafkajs/src/broker/index.js') as Parameters<typeof cacheTransactionCoordinators>[1],
  );
  appliedMore = { exactRecordBatch: batches.replaced, uninitialisedGrowth: true, rememberedTransactionCoordinator: true };
  kafkajsRecordEncoder = records.original as (input: RecordInput) => EncodedRecord;
  kafkajsCrc32c = checksum.original as (bytes: Buffer) => number;
  applied = { requestQueueTimer: true, linearPartitionGrouping: grouping.replaced, singleBufferRecords: records.replaced, fastCrc32c: checksum.replaced };
  return applied;
}

applyKafkajsFixes();
