import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES, MAX_PRODUCE_REQUEST_BYTES, produceRequestBytes } from '../../src/kafka/request-size.ts';

// The rule under test: fill 15/16 of the smaller of the topic's limit and 1 MiB.
const fill = (bytes: number): number => Math.floor((bytes * 15) / 16);

test("a request fills most of a small topic's max.message.bytes, never all of it", () => {
  for (const limit of [1_000, 65_536, 500_000]) {
    const bytes = produceRequestBytes(limit);
    assert.equal(bytes, fill(limit));
    assert.ok(bytes < limit, `${bytes} < ${limit}`);
  }
});

test("Kafka's default limit is assumed when the topic's cannot be read", () => {
  assert.equal(KAFKA_DEFAULT_MAX_MESSAGE_BYTES, 1024 * 1024 + 12);
  assert.equal(produceRequestBytes(null), fill(Math.min(1_048_588, 1024 * 1024)));
  assert.equal(produceRequestBytes(null), produceRequestBytes(KAFKA_DEFAULT_MAX_MESSAGE_BYTES));
});

test('a topic that accepts more than 1 MiB still gets requests of at most 1 MiB', () => {
  assert.equal(MAX_PRODUCE_REQUEST_BYTES, 1_048_576);
  for (const limit of [2 * 1_048_576, 16 * 1_048_576, 100_000_000]) assert.equal(produceRequestBytes(limit), fill(1_048_576));
});
