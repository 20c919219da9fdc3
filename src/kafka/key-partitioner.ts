import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';
import kafkajs from './kafkajs.ts';

/** Bound on remembered keys; the gateway's keys are its symbols (12,000 at full market) and its run id. */
const MAX_REMEMBERED_KEYS = 100_000;

/**
 * kafkajs's default partitioner (Java-compatible murmur2 of the key, modulo the partition
 * count), remembering each key's answer. kafkajs hashes every record's key and filters the
 * partition list per record; the gateway writes the same few thousand symbols all day, and
 * at full-market rates that was about 3% of its CPU. A keyed record's partition depends only
 * on its key and the topic's partition count, so both are part of what is remembered; records
 * without a string key, or with a partition set, go to kafkajs's partitioner as they are.
 */
export const rememberingPartitioner: ICustomPartitioner = () => {
  const pick = kafkajs.Partitioners.DefaultPartitioner();
  // Per topic, for its current partition count. Nested Maps rather than one Map keyed by
  // topic + count + key: building and hashing that string per record cost as much as it saved.
  const topics = new Map<string, { count: number; byKey: Map<string, number> }>();
  return (args: PartitionerArgs): number => {
    const { topic, partitionMetadata, message } = args;
    if (typeof message.key !== 'string' || (message.partition !== undefined && message.partition !== null)) return pick(args);
    let known = topics.get(topic);
    if (known === undefined || known.count !== partitionMetadata.length) {
      // A topic that gains partitions maps its keys anew.
      known = { count: partitionMetadata.length, byKey: new Map() };
      topics.set(topic, known);
    }
    let partition = known.byKey.get(message.key);
    if (partition === undefined) {
      partition = pick(args);
      if (known.byKey.size >= MAX_REMEMBERED_KEYS) known.byKey.clear();
      known.byKey.set(message.key, partition);
    }
    return partition;
  };
};
