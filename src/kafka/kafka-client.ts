import kafkajs from 'kafkajs';
import type { Kafka as KafkaClient, LogEntry } from 'kafkajs';
import type { Logger } from '../ops/logger.ts';

const { Kafka, logLevel } = kafkajs;

export interface KafkaClientSettings {
  brokers: string[];
  clientId: string;
  log: Logger;
}

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
      if (entry.level <= logLevel.WARN) log.warn(fields, message);
      else log.debug(fields, message);
    },
  });
}
