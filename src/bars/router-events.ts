import type { BarSource } from '../contracts/price-event.ts';
import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';

/** What the bar router reports. */
export type RouterEvent =
  /** A bar identical to what consumers already have (`repeats` is where that record came from): dropped. */
  | { kind: 'repeat'; symbol: string; minuteMs: number; source: BarSource; repeats: BarSource }
  /** A first bar for a minute older than the ledger's window: dropped (see BarLedger). */
  | { kind: 'too_late'; symbol: string; minuteMs: number; source: BarSource }
  /** A first bar for a minute older than the symbol's newest record: published out of order. */
  | { kind: 'out_of_order'; symbol: string; tsET: string }
  /** A changed bar published as a later revision. */
  | { kind: 'revised'; symbol: string; minuteMs: number; revision: number }
  /** A held live bar let go because all symbols together held MAX_BUFFERED_BARS (its backfill brings the minute back from REST). */
  | { kind: 'held_let_go'; symbol: string; minuteMs: number };

/**
 * Why an identical bar was dropped, as the `events_dropped_total` reason. Only a live bar
 * repeating a live record is the vendor re-sending (`duplicate`). REST confirming a minute
 * (`backfill_unchanged`) and a live bar arriving after REST already delivered its minute
 * (`live_after_backfill`: REST and the socket race at every subscription) are the gateway's
 * own overlap, and counting them as vendor repeats would hide or fake a feed problem.
 */
export function repeatDropReason(source: BarSource, repeats: BarSource): 'duplicate' | 'backfill_unchanged' | 'live_after_backfill' {
  if (source === 'backfill') return 'backfill_unchanged';
  return repeats === 'backfill' ? 'live_after_backfill' : 'duplicate';
}

/** The one place a router event becomes its metric and its log line. */
export function routerEvents(metrics: GatewayMetrics, log: Logger): (event: RouterEvent) => void {
  return (event) => {
    switch (event.kind) {
      case 'repeat':
        metrics.eventsDropped.inc({ reason: repeatDropReason(event.source, event.repeats) });
        return;
      case 'too_late':
        metrics.eventsDropped.inc({ reason: 'too_late' });
        return;
      case 'out_of_order':
        log.warn({ symbol: event.symbol, tsET: event.tsET }, 'late first bar for an earlier minute published out of order');
        return;
      case 'revised':
        metrics.barRevisions.inc();
        return;
      case 'held_let_go':
        // Not lost (REST has the minute), but not from the socket either; the overflow that
        // started the holding was logged already, so one line per let-go would only repeat it.
        metrics.eventsDropped.inc({ reason: 'held_let_go' });
        return;
    }
  };
}
