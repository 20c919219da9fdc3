/**
 * Produce requests sized to the prices topic's max.message.bytes, on the real broker: the
 * limit is read from the topic, a sink sized by it delivers a burst many times the limit, and
 * a sink whose requests exceed it splits what the broker refuses (as Kafka's Java producer
 * splits a batch refused as too large).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Producer } from 'kafkajs';
import { RecordSink } from '../../src/kafka/record-sink.ts';
import { produceRequestBytes } from '../../src/kafka/request-size.ts';
import { readMaxMessageBytes } from '../../src/kafka/topic-limits.ts';
import { createMetrics } from '../../src/ops/metrics.ts';
import { capturedLog } from '../support/fixtures.ts';
import { createTopic, kafkaClient, readTopic, uniqueTopic, useKafka } from '../support/kafka.ts';

const kafka = useKafka();

/** A topic limit far below the records of one burst. */
const LIMIT = 64 * 1024;
const RECORDS = 1_500;
const VALUE_BYTES = 400;

async function idempotentProducer(): Promise<Producer> {
  const producer = kafkaClient(kafka.bootstrapServers, 'request-size').producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}

function burst(sink: RecordSink<number>, topic: string): void {
  for (let i = 0; i < RECORDS; i++) {
    sink.enqueue({ topic, message: { key: `K${i % 12}`, value: String(i).padStart(VALUE_BYTES, '0'), headers: { source: 'live' } }, meta: i });
  }
}

test("the topic's max.message.bytes is read: its own setting, the broker's default, nothing for a missing topic", async () => {
  const client = kafkaClient(kafka.bootstrapServers, 'request-size');
  const small = uniqueTopic('limit');
  const plain = uniqueTopic('limit');
  await createTopic(kafka.bootstrapServers, small, { configs: { 'max.message.bytes': String(LIMIT) } });
  await createTopic(kafka.bootstrapServers, plain);
  assert.equal(await readMaxMessageBytes(client, small), LIMIT);
  // Kafka's documented default for message.max.bytes, which the embedded broker leaves alone.
  assert.equal(await readMaxMessageBytes(client, plain), 1_048_588);
  assert.equal(await readMaxMessageBytes(client, uniqueTopic('missing')), null);
});

test('a sink sized to the topic delivers a burst of many times its limit, in order', async () => {
  const topic = uniqueTopic('sized');
  await createTopic(kafka.bootstrapServers, topic, { configs: { 'max.message.bytes': String(LIMIT) } });
  const producer = await idempotentProducer();
  const requests: number[] = [];
  const sink = new RecordSink<number>({
    producer,
    maxBuffered: RECORDS,
    maxBatchBytes: produceRequestBytes(await readMaxMessageBytes(kafkaClient(kafka.bootstrapServers, 'request-size'), topic)),
    hooks: { onDelivered: (records) => requests.push(records.length) },
  });
  try {
    burst(sink, topic);
    assert.equal(await sink.flush(30_000), true);
    assert.ok(requests.length >= Math.ceil((RECORDS * VALUE_BYTES) / LIMIT), `${requests.length} requests for ${RECORDS * VALUE_BYTES} bytes of values`);
    const records = await readTopic(kafka.bootstrapServers, topic, { expectedCount: RECORDS });
    assert.deepEqual(
      records.map((r) => Number(r.value)),
      Array.from({ length: RECORDS }, (_, i) => i),
    );
  } finally {
    sink.stop();
    await producer.disconnect();
  }
});

test('a request the broker refuses as too large is sent in parts: every record lands once, in order, and later requests are smaller', async () => {
  const topic = uniqueTopic('oversized');
  await createTopic(kafka.bootstrapServers, topic, { configs: { 'max.message.bytes': String(LIMIT) } });
  const producer = await idempotentProducer();
  const metrics = createMetrics({ symbols: ['TQQQ'], version: 'test' });
  const { log, lines } = capturedLog();
  const requests: number[] = [];
  const sink = new RecordSink<number>({
    producer,
    maxBuffered: RECORDS,
    // Eight times what the topic accepts: the broker refuses the first request.
    maxBatchBytes: 8 * LIMIT,
    hooks: { onDelivered: (records) => requests.push(records.length) },
    metrics,
    log,
  });
  try {
    burst(sink, topic);
    assert.equal(await sink.flush(30_000), true);
  } finally {
    sink.stop();
    await producer.disconnect();
  }
  const records = await readTopic(kafka.bootstrapServers, topic, { expectedCount: RECORDS });
  assert.deepEqual(
    records.map((r) => Number(r.value)),
    Array.from({ length: RECORDS }, (_, i) => i),
  );
  const refusals = lines.filter((l) => String(l['msg']).startsWith('Kafka refused a produce request as too large'));
  assert.ok(refusals.length >= 1, 'the refusal is logged');
  // Each refusal halves the requests: they end up within the limit.
  const last = refusals.at(-1)!;
  assert.ok(Number(last['nowAtMost']) <= LIMIT, `requests now at most ${String(last['nowAtMost'])} bytes`);
  assert.match(await metrics.registry.metrics(), new RegExp(`sentio_gateway_kafka_errors_total\\{operation="produce"\\} ${refusals.length}\\b`));
  assert.equal(
    requests.reduce((a, b) => a + b, 0),
    RECORDS,
  );
});

test('a single record larger than the topic accepts is retried, never split, and never lands', async () => {
  const topic = uniqueTopic('hopeless');
  await createTopic(kafka.bootstrapServers, topic, { configs: { 'max.message.bytes': String(LIMIT) } });
  const producer = await idempotentProducer();
  let failedAttempts = 0;
  let reached: () => void = () => undefined;
  const refusedTwice = new Promise<void>((resolve) => (reached = resolve));
  const sink = new RecordSink<number>({
    producer,
    maxBuffered: 10,
    retryMinMs: 10,
    retryMaxMs: 20,
    hooks: {
      onSendError: () => {
        failedAttempts += 1;
        if (failedAttempts === 2) reached();
      },
    },
  });
  try {
    sink.enqueue({ topic, message: { key: 'K', value: 'x'.repeat(2 * LIMIT), headers: {} }, meta: 0 });
    await refusedTwice;
    assert.equal(sink.buffered, 1);
  } finally {
    sink.stop();
    await producer.disconnect();
  }
  assert.deepEqual(await readTopic(kafka.bootstrapServers, topic), []);
});
