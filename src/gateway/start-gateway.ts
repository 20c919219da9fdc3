import { performance } from 'node:perf_hooks';
import { createCalendar } from '../bars/calendar.ts';
import { PriceTransform } from '../bars/price-transform.ts';
import { FeedClock } from '../clock/feed-clock.ts';
import type { GatewayConfig, GatewaySecrets } from '../config/config.ts';
import { minuteChannel } from '../contracts/polygon-wire.ts';
import { topicNames } from '../contracts/topics.ts';
import { FrameIntake } from '../feed/frame-intake.ts';
import { PolygonSession } from '../feed/polygon-session.ts';
import { createMinuteAggregatesClient } from '../feed/rest-aggregates.ts';
import { DeliveryTracker } from '../kafka/delivery-tracker.ts';
import type { RecordMeta } from '../kafka/gateway-records.ts';
import { OverflowRecovery } from '../kafka/overflow-recovery.ts';
import { priceMessage } from '../kafka/price-record.ts';
import { RecordSink } from '../kafka/record-sink.ts';
import { readPriceTail } from '../kafka/resume.ts';
import { createLogger } from '../ops/logger.ts';
import { createMetrics } from '../ops/metrics.ts';
import { GATEWAY_VERSION } from '../version.ts';
import { CleanupStack } from './cleanup-stack.ts';
import { openFeedEndpoint, simulatorKey } from './feed-endpoint.ts';
import { openKafka } from './kafka-endpoint.ts';
import { keepCalendarCurrent } from './market-calendar.ts';
import { startOperations } from './operations.ts';
import { once, shutDown } from './shutdown.ts';
import type { Gateway, GatewayOptions } from './gateway.ts';

export type { Gateway, GatewayOptions, MarketClock } from './gateway.ts';

/**
 * The composition root: source (vendor session -> frame intake) -> transform (normalise,
 * ledger, backfill, fills) -> sink (Kafka), with operations (delivery tracking, overflow
 * recovery, heartbeats, readiness, HTTP) watching. Each part owns its state and reports its
 * own events; this only wires them. What it acquired is released in reverse order if a
 * later step fails.
 */
export async function startGateway(config: GatewayConfig, secrets: GatewaySecrets, options: GatewayOptions = {}): Promise<Gateway> {
  const cleanup = new CleanupStack();
  const startedAt = performance.now();
  const { symbols } = config;
  const topics = topicNames(config.topicPrefix);
  const run = { strategy: config.strategy, env: config.env, runId: config.runId, version: GATEWAY_VERSION };
  const apiKey = secrets.polygonApiKey ?? simulatorKey(config);
  const log = options.log ?? createLogger({ level: config.logLevel, secrets: [apiKey, secrets.kafkaSaslPassword ?? '', secrets.kafkaTlsKey ?? ''] });
  const metrics = createMetrics({ symbols, version: GATEWAY_VERSION });
  // Each gateway its own calendar: holidays learned from the vendor must not leak across instances.
  const calendar = options.calendar ?? createCalendar();
  try {
    // --- resources ----------------------------------------------------------------------
    const feed = await openFeedEndpoint(config, secrets, options.clock, log, cleanup);
    await keepCalendarCurrent(calendar, feed, log, cleanup);
    const { bootstrap, kafka, producer } = await openKafka(config, secrets, log, cleanup);
    const clock = feed.clock;
    const feedClock = new FeedClock({ clock, delayMs: config.polygonFeedDelayMs, graceMs: config.fillGraceMs });

    // --- sink ---------------------------------------------------------------------------
    const sink = new RecordSink<RecordMeta>({ producer, maxBuffered: config.maxBufferedBars, metrics, log });
    sink.markConnected();
    cleanup.push('sink', () => sink.stop());
    const delivery = new DeliveryTracker({ symbols, now: () => clock.now(), metrics });
    sink.listen({ onDelivered: (records, ackedAt) => delivery.delivered(records, ackedAt) });

    // --- transform ----------------------------------------------------------------------
    const transform = new PriceTransform({
      symbols,
      calendar,
      fillMode: config.fillEmptyMinutes,
      graceMs: config.fillGraceMs,
      maxHeldPerSymbol: config.maxBufferedBars,
      maxBackfillMinutes: config.maxBackfillMinutes,
      publish: (event, receivedAt) => sink.enqueue({ topic: topics.prices, message: priceMessage(event, run), meta: { kind: 'bar', event, receivedAt } }),
      aggregates: createMinuteAggregatesClient({ restUrl: feed.restUrl, apiKey: feed.apiKey, metrics, log }),
      feed: feedClock,
      proofTimeoutMs: config.feedStaleMs,
      waitForRoom: (records, signal) => sink.waitForRoom(records, signal),
      metrics,
      log,
    });
    cleanup.push('transform', () => transform.stop());
    // It listens on the sink: a full buffer's symbols are taken back and replayed in order.
    new OverflowRecovery({ sink, target: transform, metrics, log });

    // The topic is the state: learn what consumers already have before adding to it.
    const tail = await readPriceTail(kafka, topics.prices, {
      perPartition: Math.max(1000, Math.ceil(symbols.length * (config.maxBackfillMinutes + 60) * 1.2)),
      timeoutMs: 60_000,
    });
    for (const event of tail.filter((e) => symbols.includes(e.symbol))) {
      transform.restore(event);
      delivery.restore(event);
    }
    log.info({ records: tail.length, symbols: delivery.symbolsSeen }, 'resumed from the topic');

    // --- source -------------------------------------------------------------------------
    const intake = new FrameIntake({ symbols, clock, feedClock, sink: transform, metrics, log });
    const session = new PolygonSession({
      url: feed.wsUrl,
      apiKey: feed.apiKey,
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
      random: options.random,
      listener: intake,
      now: () => clock.now(),
    });

    // --- operations ---------------------------------------------------------------------
    const { readiness, heartbeats, httpUrl } = await startOperations({
      config,
      clock,
      feedClock,
      calendar,
      session,
      intake,
      sink,
      delivery,
      topics,
      run,
      metrics,
      log,
      cleanup,
      startedAt,
    });

    session.start();
    cleanup.push('session', () => session.stop());
    // Empty minutes: checked every market second (bounded to [20 ms, 1 s] of wall time).
    transform.startFilling(Math.min(1000, Math.max(20, config.simulated ? config.replaySpeedMs / 60 : 1000)), {
      present: () => feedClock.present(),
      proof: () => intake.proof(),
    });
    heartbeats.start();
    log.info({ http: httpUrl, runId: config.runId, env: config.env, topics: [topics.prices, topics.heartbeat], bootstrap }, 'gateway started');

    const shutdown = once(() => shutDown({ config, log, session, transform, sink, heartbeats, delivery, cleanup }));
    return { config, topics, metrics, log, httpUrl, kafkaBootstrapServers: bootstrap, simulator: feed.simulator, readiness, shutdown };
  } catch (error) {
    await cleanup.releaseAll();
    throw error;
  }
}
