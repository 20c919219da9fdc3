import kafkajs from './kafkajs.ts';
import type { Kafka as KafkaClient } from 'kafkajs';
import type { TopicSpec } from './topic-specs.ts';

const { ConfigResourceTypes } = kafkajs;

export interface TopicOutcome {
  topic: string;
  created: boolean;
  /** Settings of an existing topic that differ from the spec (left as they are). */
  differences: { name: string; expected: string; actual: string | null }[];
}

export interface ProvisionSettings {
  partitions: number;
  replicationFactor: number;
}

/**
 * Creates the missing topics and reports how existing ones differ from the spec. Existing
 * topics are never altered: their settings may have been tuned on purpose by an operator.
 */
export async function provisionTopics(client: KafkaClient, specs: TopicSpec[], settings: ProvisionSettings): Promise<TopicOutcome[]> {
  const admin = client.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions ?? settings.partitions,
          replicationFactor: settings.replicationFactor,
          configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: specs.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.topic, configNames: Object.keys(s.configs) })),
    });
    return specs.map((spec) => {
      const entries = described.resources.find((r) => r.resourceName === spec.topic)?.configEntries ?? [];
      const differences = Object.entries(spec.configs)
        .map(([name, expected]) => ({ name, expected, actual: entries.find((e) => e.configName === name)?.configValue ?? null }))
        .filter((d) => d.actual !== d.expected);
      return { topic: spec.topic, created: missing.includes(spec), differences };
    });
  } finally {
    await admin.disconnect();
  }
}
