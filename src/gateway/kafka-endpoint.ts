import { createServer } from 'node:net';
import type { Kafka as KafkaClient, Producer } from 'kafkajs';
import type { GatewayConfig, GatewaySecrets } from '../config/config.ts';
import { createKafkaClient, kafkaSecurity } from '../kafka/kafka-client.ts';
import { rememberingPartitioner } from '../kafka/key-partitioner.ts';
import { provisionTopics } from '../kafka/provision-topics.ts';
import { produceRequestBytes } from '../kafka/request-size.ts';
import { readMaxMessageBytes } from '../kafka/topic-limits.ts';
import { gatewayTopicSpecs, leadershipTopicSpec, sentioTopicSpecs } from '../kafka/topic-specs.ts';
import type { Logger } from '../ops/logger.ts';
import type { CleanupStack } from './cleanup-stack.ts';
import { StartupProblem } from './startup-problem.ts';

export interface KafkaEndpoint {
  bootstrap: string[];
  kafka: KafkaClient;
  /** Connected, idempotent, one request in flight (records keep their order). */
  producer: Producer;
}

/**
 * The configured brokers, or an embedded one when none is configured (loaded only then, so
 * production never loads the development broker). Provisions the gateway's topics when
 * asked, and connects the producer.
 */
export async function openKafka(
  config: GatewayConfig,
  secrets: GatewaySecrets,
  log: Logger,
  cleanup: CleanupStack,
  writes: 'gateway' | 'all' = 'gateway',
): Promise<KafkaEndpoint> {
  const bootstrap = config.kafkaBootstrapServers ?? (await startEmbeddedBroker(config, log, cleanup));
  const kafka = createKafkaClient({ brokers: bootstrap, clientId: config.kafkaClientId, log, security: kafkaSecurity(config, secrets) });
  if (config.provisionTopics) {
    // `run` writes prices and heartbeats; `replay` writes the engine topics too.
    const settings = { prefix: config.topicPrefix, tradesRetentionDays: config.tradesRetentionDays };
    const specs = writes === 'all' ? sentioTopicSpecs(settings) : gatewayTopicSpecs(settings);
    // Active/standby elects its leader on a topic of its own (one partition).
    if (writes === 'gateway' && config.ha.mode === 'kafka') specs.push(leadershipTopicSpec(config.topicPrefix));
    for (const o of await provisionTopics(kafka, specs, { partitions: config.topicPartitions, replicationFactor: config.topicReplicationFactor })) {
      if (o.created) log.info({ topic: o.topic }, 'topic created');
      if (o.differences.length > 0) log.warn({ topic: o.topic, differences: o.differences }, 'topic settings differ from the spec (left unchanged)');
    }
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: rememberingPartitioner });
  await producer.connect();
  cleanup.push('producer', () => producer.disconnect());
  return { bootstrap, kafka, producer };
}

/**
 * Bytes one produce request of price records may carry: sized to what the prices topic
 * accepts (request-size.ts), read once at start. Unreadable (no DescribeConfigs on the topic),
 * Kafka's default is assumed and the log says so.
 */
export async function priceRequestBytes(kafka: KafkaClient, topic: string, log: Logger): Promise<number> {
  const maxMessageBytes = await readMaxMessageBytes(kafka, topic);
  const requestBytes = produceRequestBytes(maxMessageBytes);
  if (maxMessageBytes === null) log.warn({ topic, requestBytes }, "could not read the topic's max.message.bytes: produce requests sized to Kafka's default");
  else log.info({ topic, maxMessageBytes, requestBytes }, "produce requests sized to the topic's max.message.bytes");
  return requestBytes;
}

async function startEmbeddedBroker(config: GatewayConfig, log: Logger, cleanup: CleanupStack): Promise<string[]> {
  log.info('no KAFKA_BOOTSTRAP_SERVERS: starting the embedded broker');
  const [{ startEmbeddedKafka }, { EmbeddedKafkaUnavailableError }] = await Promise.all([
    import('../dev/embedded-kafka.ts'),
    import('../dev/kafka-artifacts.ts'),
  ]);
  const wanted = config.embeddedKafkaPort;
  const port = wanted === 0 || !(await portIsFree(wanted)) ? undefined : wanted;
  if (port === undefined && wanted !== 0) log.warn({ port: wanted }, 'EMBEDDED_KAFKA_PORT is taken; the embedded broker uses a free port');
  try {
    const embedded = await startEmbeddedKafka({ port, log: (line: string) => log.debug({ component: 'embedded-kafka' }, line) });
    cleanup.push('embedded broker', () => embedded.dispose());
    log.info({ bootstrap: embedded.bootstrapServers, version: embedded.version }, 'embedded Kafka broker ready');
    return [embedded.bootstrapServers];
  } catch (error) {
    // Java or Maven missing: one line saying what to do, not a stack trace.
    if (error instanceof EmbeddedKafkaUnavailableError) throw new StartupProblem(error.message);
    throw error;
  }
}

/** True when nothing listens on the loopback port. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
