import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';
import type { DisconnectReason } from './backoff.ts';

/** The connection states of the vendor session, in the order a session goes through them. */
export const FEED_STATES = ['idle', 'connecting', 'authenticating', 'subscribing', 'subscribed', 'backoff', 'stopped'] as const;

export type FeedState = (typeof FEED_STATES)[number];

/** What the vendor session reports. */
export type SessionEvent =
  | { kind: 'state'; state: FeedState; reason: DisconnectReason | null; symbols: number }
  | { kind: 'reconnect'; reason: DisconnectReason; attempt: number; delayMs: number; detail: string; takeover: boolean };

/**
 * The one place a session event becomes its metric and its log line. Without metrics (a
 * session used on its own, as tests do) only the log lines remain.
 */
export function sessionEvents(metrics: GatewayMetrics | undefined, log: Logger): (event: SessionEvent) => void {
  if (metrics !== undefined) setFeedState(metrics, 'idle');
  return (event) => {
    switch (event.kind) {
      case 'state':
        if (metrics !== undefined) setFeedState(metrics, event.state);
        if (event.state === 'subscribed') log.info({ symbols: event.symbols }, 'feed subscribed');
        else if (event.reason !== null) log.debug({ state: event.state, reason: event.reason }, 'feed state');
        return;
      case 'reconnect': {
        metrics?.reconnects.inc({ reason: event.reason });
        if (event.takeover) {
          log.warn(
            { reason: event.reason, attempt: event.attempt, delayMs: event.delayMs },
            `vendor slot still held, by the previous leader as a rule (takeover); next attempt in ${event.delayMs} ms`,
          );
          return;
        }
        const level = event.reason === 'auth_failed' || event.reason === 'max_connections' ? 'error' : 'warn';
        log[level](
          { reason: event.reason, attempt: event.attempt, delayMs: event.delayMs, detail: event.detail },
          `feed disconnected (${event.reason}); next attempt in ${event.delayMs} ms`,
        );
        return;
      }
    }
  };
}

function setFeedState(metrics: GatewayMetrics, state: FeedState): void {
  for (const s of FEED_STATES) metrics.feedState.set({ state: s }, s === state ? 1 : 0);
  metrics.feedSubscribed.set(state === 'subscribed' ? 1 : 0);
}
