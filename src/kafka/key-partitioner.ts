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
  const remembered = new Map<string, number>();
  return (args: PartitionerArgs): number => {
    const { topic, partitionMetadata, message } = args;
    if (typeof message.key !== 'string' || (message.partition !== undefined && message.partition !== null)) return pick(args);
    const id = `${topic}\u0000${partitionMetadata.length}\u0000${message.key}`;
    let partition = remembered.get(id);
    if (partition === undefined) {
      partition = pick(args);
      if (remembered.size >= MAX_REMEMBERED_KEYS) remembered.clear();
      remembered.set(id, partition);
    }
    return partition;
  };
};
