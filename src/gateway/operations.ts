import { performance } from 'node:perf_hooks';
import type { Calendar } from '../bars/calendar.ts';
import type { FeedClock } from '../clock/feed-clock.ts';
import type { MarketClock } from '../clock/market-clock.ts';
import type { GatewayConfig } from '../config/config.ts';
import type { TopicNames } from '../contracts/topics.ts';
import type { FrameIntake } from '../feed/frame-intake.ts';
import type { PolygonSession } from '../feed/polygon-session.ts';
import { createHttpServer } from '../http/server.ts';
import type { DeliveryTracker } from '../kafka/delivery-tracker.ts';
import type { RecordMeta } from '../kafka/gateway-records.ts';
import { HeartbeatPublisher } from '../kafka/heartbeat-publisher.ts';
import type { RunIdentity } from '../kafka/price-record.ts';
import type { RecordSink } from '../kafka/record-sink.ts';
import { heartbeatStatus, readinessProbe, type Readiness } from '../ops/health.ts';
import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';
import type { CleanupStack } from './cleanup-stack.ts';

/** The stages operations watch. */
export interface WatchedStages {
  config: GatewayConfig;
  clock: MarketClock;
  feedClock: FeedClock;
  calendar: Calendar;
  session: Pick<PolygonSession, 'state' | 'reason'>;
  intake: Pick<FrameIntake, 'lastBarArrivedAt' | 'subscribedSince'>;
  sink: RecordSink<RecordMeta>;
  delivery: DeliveryTracker;
  topics: TopicNames;
  run: RunIdentity & { version: string };
  metrics: GatewayMetrics;
  log: Logger;
  cleanup: CleanupStack;
  /** performance.now() when the gateway began to start (heartbeat uptime). */
  startedAt: number;
}

export interface Operations {
  readiness: () => Readiness;
  heartbeats: HeartbeatPublisher;
  httpUrl: string;
}

/**
 * Readiness, heartbeats and the HTTP endpoints, all reading the same state of the stages so
 * /readyz, the heartbeat and the metrics tell one story. Expectations of the feed (its
 * session, staleness) run on the feed's clock.
 */
export async function startOperations(s: WatchedStages): Promise<Operations> {
  const feedSession = (): ReturnType<Calendar['marketSessionOf']> => s.calendar.marketSessionOf(s.feedClock.presentOrExpected());
  const readiness = readinessProbe(() => {
    const now = s.clock.now();
    const { lastBarArrivedAt: lastBar, subscribedSince: subscribed } = s.intake;
    return {
      kafkaWritable: s.sink.writable,
      feedState: s.session.state,
      feedReason: s.session.reason,
      inRegularSession: feedSession() === 'regular',
      msSinceLastBar: lastBar === null ? null : now - lastBar,
      msSinceSubscribed: subscribed === null ? null : now - subscribed,
      staleAfterMs: s.config.feedStaleMs,
    };
  }, s.metrics.ready);
  const heartbeats = new HeartbeatPublisher({
    sink: s.sink,
    topic: s.topics.heartbeat,
    run: s.run,
    intervalMs: s.config.heartbeatIntervalMs,
    snapshot: () => ({
      nowMs: s.clock.now(),
      status: heartbeatStatus(readiness(), s.session.state, s.session.reason),
      feedState: s.session.state,
      feedReason: s.session.reason,
      kafkaWritable: s.sink.writable,
      lastBarStartMs: s.delivery.lastBarStart,
      barsPublished: s.delivery.barsPublished,
      uptimeMs: performance.now() - s.startedAt,
      // The session the feed is in: a delayed feed opens 15 minutes after the exchange.
      marketSession: feedSession(),
      completeMinuteMs: s.delivery.completeMinute(),
    }),
  });
  const http = createHttpServer({
    log: s.log,
    registry: s.metrics.registry,
    readiness: () => ({ ...readiness(), detail: { feed: s.session.state, kafkaWritable: s.sink.writable, buffered: s.sink.buffered, runId: s.config.runId } }),
  });
  const httpUrl = await http.listen({ host: s.config.httpHost, port: s.config.httpPort });
  s.cleanup.push('http', () => http.close());
  return { readiness, heartbeats, httpUrl };
}
