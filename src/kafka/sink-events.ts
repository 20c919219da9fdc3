import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';
import { throttle } from '../ops/throttle.ts';

/** What the record sink reports. */
export type SinkEvent =
  | { kind: 'send_failed'; error: string; attempt: number }
  | { kind: 'writable'; writable: boolean }
  /** Records not yet acknowledged, and the held bytes of the data records among them. */
  | { kind: 'buffered'; records: number; bytes: number }
  /** A transactional producer was fenced by a newer one with its transactional id. */
  | { kind: 'fenced'; error: string }
  /** The broker refused a request as too large: it is split, and requests carry at most `nowAtMost` bytes from now on. */
  | { kind: 'request_too_large'; error: string; bytes: number; records: number; nowAtMost: number };

/** What a sink carries: the data path's records, or the heartbeats beside them. */
export type SinkCargo = 'bars' | 'heartbeats';

/**
 * The one place a sink event becomes its metric and its (rate-limited) log line. The gauges
 * of writability and the buffer belong to the sink of bars; a heartbeat sink beside it only
 * counts its failures and logs, so the two never overwrite each other's gauges.
 */
export function sinkEvents(metrics: GatewayMetrics, log: Logger, carries: SinkCargo = 'bars'): (event: SinkEvent) => void {
  const bars = carries === 'bars';
  const logSendError = throttle(1000, (error: string, attempt: number) => log.warn({ attempt, error, carries }, 'Kafka send failed; retrying'));
  if (bars) {
    metrics.kafkaWritable.set(0);
    metrics.bufferedBars.set(0);
    metrics.bufferedBytes.set(0);
  }
  return (event) => {
    switch (event.kind) {
      case 'send_failed':
        metrics.kafkaErrors.inc({ operation: 'produce' });
        logSendError(event.error, event.attempt);
        return;
      case 'writable':
        if (bars) metrics.kafkaWritable.set(event.writable ? 1 : 0);
        if (event.writable) log.info({ writable: true, carries }, 'Kafka is writable');
        else log.warn({ writable: false, carries }, bars ? 'Kafka is not writable; buffering bars' : 'Kafka is not writable; holding heartbeats');
        return;
      case 'buffered':
        if (bars) {
          metrics.bufferedBars.set(event.records);
          metrics.bufferedBytes.set(event.bytes);
        }
        return;
      case 'request_too_large':
        // Each halves the requests, so there are only ever a few: every one is logged.
        metrics.kafkaErrors.inc({ operation: 'produce' });
        log.warn(
          { error: event.error, bytes: event.bytes, records: event.records, nowAtMost: event.nowAtMost, carries },
          'Kafka refused a produce request as too large; sending it in parts, and smaller requests from now on',
        );
        return;
      case 'fenced':
        metrics.kafkaErrors.inc({ operation: 'fenced' });
        log.error({ error: event.error }, 'fenced: another gateway of the HA group took over; this one writes nothing more');
        return;
    }
  };
}
