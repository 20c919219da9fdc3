import { performance } from 'node:perf_hooks';
import { createCalendar } from '../bars/calendar.ts';
import { FeedClock } from '../clock/feed-clock.ts';
import type { GatewayConfig, GatewaySecrets } from '../config/config.ts';
import { leadershipTopic, topicNames } from '../contracts/topics.ts';
import { DeliveryTracker } from '../kafka/delivery-tracker.ts';
import type { RecordMeta } from '../kafka/gateway-records.ts';
import { Leadership } from '../kafka/leadership.ts';
import { RecordSink } from '../kafka/record-sink.ts';
import { createLogger } from '../ops/logger.ts';
import { createMetrics } from '../ops/metrics.ts';
import { GATEWAY_VERSION } from '../version.ts';
import { CleanupStack } from './cleanup-stack.ts';
import { DataPath } from './data-path.ts';
import { openFeedEndpoint, simulatorKey } from './feed-endpoint.ts';
import { openKafka, priceRequestBytes } from './kafka-endpoint.ts';
import { keepCalendarCurrent } from './market-calendar.ts';
import { startOperations } from './operations.ts';
import { once, shutDown } from './shutdown.ts';
import type { Gateway, GatewayOptions } from './gateway.ts';

export type { Gateway, GatewayOptions, MarketClock } from './gateway.ts';

/**
 * The composition root. The data path (source: vendor session -> frame intake; transform:
 * normalise, ledger, backfill, fills; sink: Kafka) runs while this gateway writes: from the
 * start when it runs alone, while it leads its group with HA_MODE=kafka. Operations
 * (heartbeats, readiness, HTTP) run throughout, so a standby is seen too. Each part owns its
 * state and reports its own events; this only wires them. What it acquired is released in
 * reverse order if a later step fails.
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
    const requestBytes = await priceRequestBytes(kafka, topics.prices, log);
    const clock = feed.clock;
    const feedClock = new FeedClock({ clock, delayMs: config.polygonFeedDelayMs, graceMs: config.fillGraceMs });

    // Heartbeats have their own sink on the idempotent producer: a standby beats too, and a
    // fenced transactional producer never silences them.
    const heartbeatSink = new RecordSink<RecordMeta>({
      producer,
      maxBuffered: config.maxBufferedBars,
      maxBufferedBytes: config.maxBufferedBytes,
      metrics,
      log,
      carries: 'heartbeats',
    });
    heartbeatSink.markConnected();
    cleanup.push('heartbeat sink', () => heartbeatSink.stop());
    const delivery = new DeliveryTracker({ symbols, now: () => clock.now(), metrics });
    heartbeatSink.listen({ onDelivered: (records, ackedAt) => delivery.delivered(records, ackedAt) });

    // --- source -> transform -> sink, while this gateway writes --------------------------
    const dataPath = new DataPath({
      config,
      feed,
      clock,
      feedClock,
      calendar,
      kafka,
      producer,
      requestBytes,
      delivery,
      topics,
      run,
      metrics,
      log,
      random: options.random,
    });

    // --- operations ---------------------------------------------------------------------
    const { readiness, heartbeats, httpUrl } = await startOperations({
      config,
      clock,
      feedClock,
      calendar,
      dataPath,
      heartbeatSink,
      delivery,
      topics,
      run,
      metrics,
      log,
      cleanup,
      startedAt,
    });

    // --- who writes ---------------------------------------------------------------------
    let leadership: Leadership | null = null;
    if (config.ha.mode === 'kafka') {
      leadership = new Leadership({
        kafka,
        topic: leadershipTopic(config.topicPrefix),
        groupId: config.ha.groupId,
        sessionTimeoutMs: config.ha.sessionTimeoutMs,
        metrics,
        log,
      });
      await leadership.start(dataPath);
      cleanup.push('leadership', () => leadership?.stop());
    } else {
      await dataPath.startAlone();
    }
    // The first heartbeat already knows who writes (and, alone, the feed's session).
    heartbeats.start();
    log.info(
      {
        http: httpUrl,
        runId: config.runId,
        env: config.env,
        topics: [topics.prices, topics.heartbeat],
        bootstrap,
        ha: config.ha.mode === 'kafka' ? config.ha.groupId : 'off',
      },
      'gateway started',
    );

    const shutdown = once(() => shutDown({ config, log, dataPath, leadership, heartbeats, heartbeatSink, delivery, cleanup }));
    return {
      config,
      topics,
      metrics,
      log,
      httpUrl,
      kafkaBootstrapServers: bootstrap,
      simulator: feed.simulator,
      readiness,
      role: () => dataPath.role,
      shutdown,
    };
  } catch (error) {
    await cleanup.releaseAll();
    throw error;
  }
}
