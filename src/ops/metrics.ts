import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRIC_PREFIX = 'sentio_gateway_';

/** Above this many symbols, per-symbol series are folded into one so label sets stay bounded. */
export const MAX_SYMBOL_LABELS = 100;

/**
 * Every metric the gateway exports, created once. Names follow Prometheus rules:
 * counters end in _total, durations are _seconds, everything carries the sentio_gateway_ prefix.
 */
export function createMetrics(options: { symbols: readonly string[]; version: string; registry?: Registry }) {
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  removeMisnamedDefaults(registry);
  const symbolLabels = options.symbols.length <= MAX_SYMBOL_LABELS;

  const metrics = {
    registry,
    /** Label value for a symbol: itself, or `_all` when there are too many to label. */
    symbolLabel: (symbol: string): string => (symbolLabels ? symbol : '_all'),
    buildInfo: new Gauge({ name: `${METRIC_PREFIX}build_info`, help: 'Constant 1, labelled with the gateway version.', labelNames: ['version'], registers }),
    feedState: new Gauge({
      name: `${METRIC_PREFIX}feed_state`,
      help: 'Feed connection state: 1 for the current state, 0 for the others.',
      labelNames: ['state'],
      registers,
    }),
    feedSubscribed: new Gauge({ name: `${METRIC_PREFIX}feed_subscribed`, help: '1 while the vendor socket is authenticated and subscribed.', registers }),
    framesReceived: new Counter({ name: `${METRIC_PREFIX}frames_received_total`, help: 'WebSocket frames received from the vendor.', registers }),
    eventsReceived: new Counter({
      name: `${METRIC_PREFIX}events_received_total`,
      help: 'Events received from the vendor, by event type.',
      labelNames: ['type'],
      registers,
    }),
    eventsDropped: new Counter({
      name: `${METRIC_PREFIX}events_dropped_total`,
      help: 'Events not published, by reason (malformed input, duplicate bar, buffer overflow, ...).',
      labelNames: ['reason'],
      registers,
    }),
    barsPublished: new Counter({
      name: `${METRIC_PREFIX}bars_published_total`,
      help: 'Price records acknowledged by Kafka, by symbol and source.',
      labelNames: ['symbol', 'source'],
      registers,
    }),
    barRevisions: new Counter({ name: `${METRIC_PREFIX}bar_revisions_total`, help: 'Changed bars re-published with a later revision.', registers }),
    backfilledBars: new Counter({
      name: `${METRIC_PREFIX}backfilled_bars_total`,
      help: 'Bars fetched from REST to close gaps (before deduplication).',
      registers,
    }),
    backfillErrors: new Counter({ name: `${METRIC_PREFIX}backfill_errors_total`, help: 'Failed REST backfill requests (each retry counts).', registers }),
    reconnects: new Counter({
      name: `${METRIC_PREFIX}reconnects_total`,
      help: 'Vendor socket reconnects, by the reason the previous session ended.',
      labelNames: ['reason'],
      registers,
    }),
    kafkaErrors: new Counter({
      name: `${METRIC_PREFIX}kafka_errors_total`,
      help: 'Failed Kafka requests, by operation.',
      labelNames: ['operation'],
      registers,
    }),
    kafkaWritable: new Gauge({ name: `${METRIC_PREFIX}kafka_writable`, help: '1 while Kafka accepts writes (last send succeeded).', registers }),
    heldBars: new Gauge({
      name: `${METRIC_PREFIX}held_bars`,
      help: 'Live bars held until a backfill brings the minutes before them (after a reconnect or a buffer overflow); bounded by MAX_BUFFERED_BARS and MAX_BUFFERED_BYTES.',
      registers,
    }),
    bufferedBars: new Gauge({ name: `${METRIC_PREFIX}buffered_bars`, help: 'Price records waiting for Kafka.', registers }),
    bufferedBytes: new Gauge({
      name: `${METRIC_PREFIX}buffered_bytes`,
      help: 'Estimated bytes held by bars not yet acknowledged by Kafka (queued and in flight).',
      registers,
    }),
    publishLatency: new Histogram({
      name: `${METRIC_PREFIX}publish_latency_seconds`,
      help: 'From receipt of the vendor frame to Kafka acknowledgement of the record.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    barDelay: new Histogram({
      name: `${METRIC_PREFIX}bar_delay_seconds`,
      help: 'From the end of the bar (market time) to Kafka acknowledgement of its record.',
      buckets: [0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 900],
      registers,
    }),
    heartbeats: new Counter({
      name: `${METRIC_PREFIX}heartbeats_total`,
      help: 'Heartbeats acknowledged by Kafka, by status.',
      labelNames: ['status'],
      registers,
    }),
    feedLag: new Gauge({
      name: `${METRIC_PREFIX}feed_lag_seconds`,
      help: 'How far the newest bar trailed the clock on arrival: market time minus the bar end, from each frame that brought a newer bar.',
      registers,
    }),
    lastBarTimestamp: new Gauge({
      name: `${METRIC_PREFIX}last_bar_timestamp_seconds`,
      help: 'Start of the newest bar acknowledged by Kafka, epoch seconds.',
      registers,
    }),
    leader: new Gauge({
      name: `${METRIC_PREFIX}leader`,
      help: '1 while this gateway leads its HA group (HA_MODE=kafka), or runs alone (HA_MODE=off); 0 as a standby.',
      registers,
    }),
    leadershipChanges: new Counter({
      name: `${METRIC_PREFIX}leadership_changes_total`,
      help: 'Times this gateway took or lost the leadership of its HA group.',
      registers,
    }),
    ready: new Gauge({ name: `${METRIC_PREFIX}ready`, help: '1 while /readyz would answer 200.', registers }),
  };
  metrics.buildInfo.set({ version: options.version }, 1);
  return metrics;
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;

/**
 * prom-client's default collectors also export totals of active handles, requests and
 * resources as gauges named `*_total`, a suffix Prometheus reserves for counters
 * (`promtool check metrics` rejects them). The per-type gauges without the suffix carry
 * the same information, so the misnamed totals are removed.
 */
function removeMisnamedDefaults(registry: Registry): void {
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(`${METRIC_PREFIX}${name}`);
  }
}
