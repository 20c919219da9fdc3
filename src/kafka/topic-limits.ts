import kafkajs from './kafkajs.ts';
import type { Kafka as KafkaClient } from 'kafkajs';

const { ConfigResourceTypes } = kafkajs;

/**
 * The topic's effective `max.message.bytes` (its own setting, else the broker's), or null
 * when it cannot be read: a principal without DescribeConfigs on the topic, a topic not yet
 * there, a broker that does not answer. The caller then assumes Kafka's default.
 */
export async function readMaxMessageBytes(client: KafkaClient, topic: string): Promise<number | null> {
  const admin = client.admin();
  try {
    await admin.connect();
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
    });
    const value = described.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue;
    const bytes = value === undefined ? Number.NaN : Number(value);
    return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
  } catch {
    return null;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
