import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';

/** What the backfill runner reports. */
export type BackfillEvent =
  | { kind: 'requested'; reason: string; symbols: number }
  | { kind: 'backfilled'; symbol: string; bars: number }
  | { kind: 'gap_too_long'; symbol: string; missedMinutes: number; maxBackfillMinutes: number }
  | { kind: 'failed'; symbol: string; error: string; from: number; through: number };

/** The one place a backfill event becomes its metric and its log line. */
export function backfillEvents(metrics: GatewayMetrics | undefined, log: Logger): (event: BackfillEvent) => void {
  return (event) => {
    switch (event.kind) {
      case 'requested':
        log.info({ reason: event.reason, symbols: event.symbols }, 'backfill requested');
        return;
      case 'backfilled':
        metrics?.backfilledBars.inc(event.bars);
        return;
      case 'gap_too_long':
        log.error(
          { symbol: event.symbol, missedMinutes: event.missedMinutes, maxBackfillMinutes: event.maxBackfillMinutes },
          'gap longer than MAX_BACKFILL_MINUTES: the oldest minutes stay missing',
        );
        return;
      case 'failed':
        metrics?.backfillErrors.inc();
        log.error(
          { symbol: event.symbol, error: event.error, from: new Date(event.from).toISOString(), through: new Date(event.through).toISOString() },
          'backfill failed: these minutes stay missing',
        );
        return;
    }
  };
}
