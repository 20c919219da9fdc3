import type { Kafka as KafkaClient } from 'kafkajs';
import kafkajs from '../src/kafka/kafkajs.ts';

const { Kafka, logLevel } = kafkajs;

/** A quiet kafkajs client for tests and the benchmark. */
export function kafkaClient(bootstrap: string | readonly string[], clientId = 'sentio-harness'): KafkaClient {
  const brokers = typeof bootstrap === 'string' ? bootstrap.split(',').map((s) => s.trim()) : [...bootstrap];
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3_000, retry: { initialRetryTime: 100, retries: 8 } });
}

export interface TopicToCreate {
  topic: string;
  partitions?: number;
  configs?: Record<string, string>;
}

/** Creates topics (those that exist are left as they are) and waits until their leaders are known. */
export async function createTopics(bootstrap: string | readonly string[], topics: readonly TopicToCreate[]): Promise<void> {
  const admin = kafkaClient(bootstrap, 'sentio-harness-admin').admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions ?? 1,
        replicationFactor: 1,
        configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  } finally {
    await admin.disconnect();
  }
}
