import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';
import { throttle } from '../ops/throttle.ts';

/** What the record sink reports. */
export type SinkEvent =
  { kind: 'send_failed'; error: string; attempt: number } | { kind: 'writable'; writable: boolean } | { kind: 'buffered'; records: number };

/** The one place a sink event becomes its metric and its (rate-limited) log line. */
export function sinkEvents(metrics: GatewayMetrics, log: Logger): (event: SinkEvent) => void {
  const logSendError = throttle(1000, (error: string, attempt: number) => log.warn({ attempt, error }, 'Kafka send failed; retrying'));
  metrics.kafkaWritable.set(0);
  metrics.bufferedBars.set(0);
  return (event) => {
    switch (event.kind) {
      case 'send_failed':
        metrics.kafkaErrors.inc({ operation: 'produce' });
        logSendError(event.error, event.attempt);
        return;
      case 'writable':
        metrics.kafkaWritable.set(event.writable ? 1 : 0);
        if (event.writable) log.info({ writable: true }, 'Kafka is writable');
        else log.warn({ writable: false }, 'Kafka is not writable; buffering bars');
        return;
      case 'buffered':
        metrics.bufferedBars.set(event.records);
        return;
    }
  };
}
