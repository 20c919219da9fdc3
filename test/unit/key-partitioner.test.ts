import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PartitionerArgs } from 'kafkajs';
import kafkajs from '../../src/kafka/kafkajs.ts';
import { rememberingPartitioner } from '../../src/kafka/key-partitioner.ts';

const partitions = (n: number): PartitionerArgs['partitionMetadata'] =>
  Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1], offlineReplicas: [] }));

const args = (key: string | null, n: number, partition?: number): PartitionerArgs => ({
  topic: 'sentio.prices.minute.v1',
  partitionMetadata: partitions(n),
  message: { key, value: 'v', ...(partition === undefined ? {} : { partition }) },
});

test("keyed records land where kafkajs's default partitioner puts them, asked once or many times", () => {
  const ours = rememberingPartitioner();
  const theirs = kafkajs.Partitioners.DefaultPartitioner();
  const spread = new Set<number>();
  for (const n of [1, 3, 12, 50]) {
    for (let i = 0; i < 2_000; i += 1) {
      const key = `SYM${i}`;
      const expected = theirs(args(key, n));
      assert.equal(ours(args(key, n)), expected, `${key} over ${n} partitions`);
      assert.equal(ours(args(key, n)), expected, `${key} over ${n} partitions, remembered`);
      if (n === 12) spread.add(expected);
    }
  }
  assert.equal(spread.size, 12, 'keys spread over every partition');
});

test('a topic that gains partitions is partitioned by its new count', () => {
  const ours = rememberingPartitioner();
  const theirs = kafkajs.Partitioners.DefaultPartitioner();
  const moved = Array.from({ length: 200 }, (_, i) => `K${i}`).filter((key) => {
    const before = ours(args(key, 4));
    const after = ours(args(key, 7));
    assert.equal(after, theirs(args(key, 7)));
    return before !== after;
  });
  assert.ok(moved.length > 0, 'some keys change partition with the count');
});

test('an explicit partition wins, and records without a key still go round', () => {
  const ours = rememberingPartitioner();
  assert.equal(ours(args('AAPL', 12, 5)), 5);
  const seen = new Set(Array.from({ length: 24 }, () => ours(args(null, 3))));
  assert.deepEqual([...seen].sort(), [0, 1, 2]);
});
