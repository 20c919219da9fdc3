import type { GatewayConfig } from '../config/config.ts';
import { createKafkaClient, type KafkaSecurity } from '../kafka/kafka-client.ts';
import { provisionTopics } from '../kafka/provision-topics.ts';
import { leadershipTopicSpec, sentioTopicSpecs } from '../kafka/topic-specs.ts';
import type { Logger } from '../ops/logger.ts';

/** `sentio-gateway topics`: creates every sentio topic that is missing; safe to run again. */
export async function topicsCommand(config: GatewayConfig, log: Logger, security?: KafkaSecurity): Promise<number> {
  if (config.kafkaBootstrapServers === null) {
    log.error('KAFKA_BOOTSTRAP_SERVERS: must be set for `topics` (it provisions an existing cluster)');
    return 2;
  }
  const kafka = createKafkaClient({ brokers: config.kafkaBootstrapServers, clientId: `${config.kafkaClientId}-topics`, log, security });
  // The coordination topic too: where gateways may not create topics (PROVISION_TOPICS=false),
  // an HA group (HA_MODE=kafka) must find it made by whoever provisions the cluster.
  const specs = [...sentioTopicSpecs({ prefix: config.topicPrefix, tradesRetentionDays: config.tradesRetentionDays }), leadershipTopicSpec(config.topicPrefix)];
  const outcomes = await provisionTopics(kafka, specs, { partitions: config.topicPartitions, replicationFactor: config.topicReplicationFactor });
  for (const outcome of outcomes) {
    const spec = specs.find((s) => s.topic === outcome.topic)!;
    log.info(
      { topic: outcome.topic, created: outcome.created, configs: spec.configs, differences: outcome.differences },
      outcome.created ? 'created' : 'exists',
    );
  }
  return 0;
}
