import { MinuteAssembly } from '../kafka/minute-assembly.ts';
import { performance } from 'node:perf_hooks';
import type { Calendar } from '../bars/calendar.ts';
import { heldBarsBound, PriceTransform } from '../bars/price-transform.ts';
import type { FeedClock } from '../clock/feed-clock.ts';
import type { MarketClock } from '../clock/market-clock.ts';
import type { GatewayConfig } from '../config/config.ts';
import { minuteChannel } from '../contracts/polygon-wire.ts';
import type { TopicNames } from '../contracts/topics.ts';
import { FrameIntake } from '../feed/frame-intake.ts';
import { PolygonSession } from '../feed/polygon-session.ts';
import { createMinuteAggregatesClient } from '../feed/rest-aggregates.ts';
import type { DeliveryTracker } from '../kafka/delivery-tracker.ts';
import type { RecordMeta } from '../kafka/gateway-records.ts';
import { OverflowRecovery } from '../kafka/overflow-recovery.ts';
import { priceMessage, type RunIdentity } from '../kafka/price-record.ts';
import { RecordSink } from '../kafka/record-sink.ts';
import { readPriceTail } from '../kafka/resume.ts';
import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';
import type { Kafka as KafkaClient, Producer } from 'kafkajs';
import type { FeedEndpoint } from './feed-endpoint.ts';

export interface PipelineDeps {
  config: GatewayConfig;
  feed: FeedEndpoint;
  clock: MarketClock;
  feedClock: FeedClock;
  calendar: Calendar;
  kafka: KafkaClient;
  /** Connected; with `transactional`, its transactional id already initialised (the old leader fenced). */
  producer: Producer;
  transactional: boolean;
  /** Most bytes of price records in one produce request (priceRequestBytes). */
  requestBytes: number;
  delivery: DeliveryTracker;
  topics: TopicNames;
  run: RunIdentity;
  metrics: GatewayMetrics;
  log: Logger;
  random?: () => number;
  /** A takeover: `max_connections` is retried quickly until this performance.now(). */
  takeoverUntil?: number;
  /** The sink was fenced: another gateway of the HA group writes now. */
  onFenced?(): void;
}

export interface DrainResult {
  /** False when a backfill under way was cut off by the deadline (its held bars left to the next start). */
  backfilled: boolean;
  flushed: boolean;
  /** Records still unsent at the deadline. */
  unsent: number;
}

/** The data path while this gateway writes: the vendor session, the transform and the sink. */
export interface Pipeline {
  readonly session: PolygonSession;
  readonly intake: FrameIntake;
  readonly sink: RecordSink<RecordMeta>;
  /** SIGTERM: stop reading, let a backfill under way finish by `deadline`, flush by it. */
  drain(deadline: number): Promise<DrainResult>;
  /** Lost the leadership or fenced: close the vendor socket at once, drop what is held and queued. */
  abandon(): Promise<void>;
}

/**
 * Starts the data path: learns from the topic's tail (read_committed) what consumers already
 * have, then opens the vendor session. Source (session -> intake) -> transform (normalise,
 * ledger, backfill, fills) -> sink; overflow recovery listens on the sink.
 */
export async function startPipeline(d: PipelineDeps): Promise<Pipeline> {
  const { config, metrics, log, topics, run, delivery } = d;
  const { symbols } = config;
  const sink = new RecordSink<RecordMeta>({
    producer: d.producer,
    transactional: d.transactional,
    maxBuffered: config.maxBufferedBars,
    maxBufferedBytes: config.maxBufferedBytes,
    maxBatchBytes: d.requestBytes,
    linger: { ms: config.minuteLingerMs, group: new MinuteAssembly(symbols.length) },
    metrics,
    log,
  });
  sink.markConnected();
  sink.listen({ onDelivered: (records, ackedAt) => delivery.delivered(records, ackedAt), onFenced: () => d.onFenced?.() });
  const transform = new PriceTransform({
    symbols,
    calendar: d.calendar,
    fillMode: config.fillEmptyMinutes,
    graceMs: config.fillGraceMs,
    maxHeldPerSymbol: config.maxBufferedBars,
    maxHeldTotal: heldBarsBound(config.maxBufferedBars, config.maxBufferedBytes),
    maxBackfillMinutes: config.maxBackfillMinutes,
    publish: (event, receivedAt) => sink.enqueue({ topic: topics.prices, message: priceMessage(event, run), meta: { kind: 'bar', event, receivedAt } }),
    aggregates: createMinuteAggregatesClient({ restUrl: d.feed.restUrl, apiKey: d.feed.apiKey, metrics, log }),
    feed: d.feedClock,
    proofTimeoutMs: config.feedStaleMs,
    waitForRoom: (records, signal) => sink.waitForRoom(records, signal),
    metrics,
    log,
  });
  // It listens on the sink: a full buffer's symbols are taken back and replayed in order.
  new OverflowRecovery({ sink, target: transform, metrics, log });

  // The topic is the state: learn what consumers already have before adding to it. Read
  // committed, so a new leader starts exactly where the fenced one's last batch ended.
  const tail = await readPriceTail(d.kafka, topics.prices, {
    perPartition: Math.max(1000, Math.ceil(symbols.length * (config.maxBackfillMinutes + 60) * 1.2)),
    timeoutMs: 60_000,
  });
  // A Set: every takeover reads up to symbols x (backfill window + 1 h) records here.
  const subscribed = new Set(symbols);
  for (const event of tail.filter((e) => subscribed.has(e.symbol))) {
    transform.restore(event);
    delivery.restore(event);
  }
  log.info({ records: tail.length, symbols: delivery.symbolsSeen }, 'resumed from the topic');

  const intake = new FrameIntake({ symbols, clock: d.clock, feedClock: d.feedClock, sink: transform, metrics, log });
  const session = new PolygonSession({
    url: d.feed.wsUrl,
    apiKey: d.feed.apiKey,
    channels: symbols.map(minuteChannel),
    pingIntervalMs: config.pingIntervalMs,
    stallTimeoutMs: config.stallTimeoutMs,
    backoff: {
      minMs: config.reconnectMinMs,
      maxMs: config.reconnectMaxMs,
      authRetryMs: config.authRetryMs,
      maxConnectionsRetryMs: config.maxConnectionsRetryMs,
    },
    log: log.child({ component: 'feed' }),
    metrics,
    random: d.random,
    listener: intake,
    now: () => d.clock.now(),
    takeoverUntil: d.takeoverUntil,
  });
  session.start();
  // Empty minutes: checked every market second (bounded to [20 ms, 1 s] of wall time).
  transform.startFilling(Math.min(1000, Math.max(20, config.simulated ? config.replaySpeedMs / 60 : 1000)), {
    present: () => d.feedClock.present(),
    proof: () => intake.proof(),
  });

  return {
    session,
    intake,
    sink,
    async drain(deadline) {
      const left = (): number => Math.max(0, deadline - performance.now());
      transform.stopFilling();
      await session.stop();
      // A backfill under way holds live bars that were received: let it finish within the
      // bound, so they reach Kafka in order; past it they are left to the next start.
      const backfilled = await Promise.race([transform.settled().then(() => true), delay(left()).then(() => false)]);
      transform.stop();
      const flushed = await sink.flush(left());
      const unsent = sink.buffered;
      sink.stop();
      return { backfilled, flushed, unsent };
    },
    async abandon() {
      transform.stop();
      sink.stop();
      await session.stop();
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
