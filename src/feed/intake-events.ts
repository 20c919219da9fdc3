import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';
import { throttle } from '../ops/throttle.ts';
import type { RejectReason } from './parse-frame.ts';

/** What frame intake reports. */
export type IntakeEvent =
  /** One frame, with its events counted by type (once per frame: a labelled increment hashes its labels). */
  | { kind: 'frame'; minutes: number; seconds: number; statuses: number; unknown: number }
  | { kind: 'rejected'; reason: RejectReason; detail: string }
  | { kind: 'unknown_event'; ev: string }
  | { kind: 'unsubscribed_symbol' }
  | { kind: 'future_bar'; symbol: string; tsET: string }
  /** The newest bar of a frame moved the feed's front: how far it trailed the clock. */
  | { kind: 'lag'; lagMs: number }
  | { kind: 'internal_error'; message: string };

/** The one place an intake event becomes its metric and its (rate-limited) log line. */
export function intakeEvents(metrics: GatewayMetrics, log: Logger): (event: IntakeEvent) => void {
  const logReject = throttle(1000, (reason: string, detail: string) => log.warn({ reason, detail }, 'malformed vendor event dropped'));
  const logUnknown = throttle(10_000, (ev: string) => log.info({ ev }, 'unknown vendor event ignored'));
  const logInternal = throttle(1000, (message: string) => log.error({ error: message }, 'frame handling failed; frame dropped'));
  return (event) => {
    switch (event.kind) {
      case 'frame':
        metrics.framesReceived.inc();
        if (event.minutes > 0) metrics.eventsReceived.inc({ type: 'AM' }, event.minutes);
        if (event.seconds > 0) metrics.eventsReceived.inc({ type: 'A' }, event.seconds);
        if (event.statuses > 0) metrics.eventsReceived.inc({ type: 'status' }, event.statuses);
        if (event.unknown > 0) metrics.eventsReceived.inc({ type: 'unknown' }, event.unknown);
        return;
      case 'rejected':
        metrics.eventsDropped.inc({ reason: event.reason });
        logReject(event.reason, event.detail);
        return;
      case 'unknown_event':
        logUnknown(event.ev);
        return;
      case 'unsubscribed_symbol':
        metrics.eventsDropped.inc({ reason: 'unsubscribed_symbol' });
        return;
      case 'future_bar':
        metrics.eventsDropped.inc({ reason: 'future_bar' });
        logReject('future_bar', `${event.symbol} ${event.tsET}`);
        return;
      case 'lag':
        metrics.feedLag.set(event.lagMs / 1000);
        return;
      case 'internal_error':
        metrics.eventsDropped.inc({ reason: 'internal_error' });
        logInternal(event.message);
        return;
    }
  };
}
