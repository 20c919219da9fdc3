import kafkajs from './kafkajs.ts';
import type { Kafka as KafkaClient, LogEntry } from 'kafkajs';
import type { Logger } from '../ops/logger.ts';

const { Kafka, logLevel } = kafkajs;

export interface KafkaClientSettings {
  brokers: string[];
  clientId: string;
  log: Logger;
}

/**
 * kafkajs warnings that describe a choice we made on purpose:
 * - the idempotent producer's retries are bounded so a send fails during an outage and the
 *   sink can report Kafka unwritable; the sink then re-sends the very same batch, so the
 *   broker sees the same producer sequence numbers and deduplicates (the guarantee the
 *   warning says could be lost is kept one level up);
 * - the v2 partitioner change does not concern a new topic.
 */
const EXPECTED_WARNINGS = ['Limiting retries for the idempotent producer', 'KafkaJS v2.0.0 switched default partitioner'];

/**
 * A kafkajs client whose own logging goes through our structured logger. kafkajs reports
 * transient broker states (a coordinator still loading, a leader moving) at ERROR level;
 * our sink retries those and reports real failures itself, so they are demoted to warn.
 */
export function createKafkaClient(settings: KafkaClientSettings): KafkaClient {
  const log = settings.log.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 100, retries: 3, maxRetryTime: 2000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...rest } = entry.log;
      const fields = { namespace: entry.namespace, ...rest };
      if (entry.level <= logLevel.WARN && !EXPECTED_WARNINGS.some((w) => message.startsWith(w))) log.warn(fields, message);
      else log.debug(fields, message);
    },
  });
}
