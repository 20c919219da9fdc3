import { performance } from 'node:perf_hooks';
import type { Calendar } from '../bars/calendar.ts';
import type { FeedClock } from '../clock/feed-clock.ts';
import type { MarketClock } from '../clock/market-clock.ts';
import type { GatewayConfig } from '../config/config.ts';
import type { TopicNames } from '../contracts/topics.ts';
import type { GatewayRole, HeartbeatStatus } from '../contracts/heartbeat.ts';
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
import type { DataPath } from './data-path.ts';

/** The stages operations watch. */
export interface WatchedStages {
  config: GatewayConfig;
  clock: MarketClock;
  feedClock: FeedClock;
  calendar: Calendar;
  /** Who writes, and the data path while this gateway does. */
  dataPath: Pick<DataPath, 'role' | 'pipeline'>;
  /** Where heartbeats go: their own sink, so a standby beats too. */
  heartbeatSink: RecordSink<RecordMeta>;
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
 * session, staleness) run on the feed's clock. A standby is ready: it can take over.
 */
export async function startOperations(s: WatchedStages): Promise<Operations> {
  const feedSession = (): ReturnType<Calendar['marketSessionOf']> => s.calendar.marketSessionOf(s.feedClock.presentOrExpected());
  const state = () => {
    const pipeline = s.dataPath.pipeline;
    return {
      role: s.dataPath.role,
      feedState: pipeline?.session.state ?? 'idle',
      feedReason: pipeline?.session.reason ?? null,
      kafkaWritable: pipeline?.sink.writable ?? s.heartbeatSink.writable,
      buffered: pipeline?.sink.buffered ?? 0,
      lastBar: pipeline?.intake.lastBarArrivedAt ?? null,
      subscribed: pipeline?.intake.subscribedSince ?? null,
    };
  };
  const readiness = readinessProbe(() => {
    const now = s.clock.now();
    const st = state();
    // No sink of bars while standing by: the gauges then speak for the heartbeats' producer.
    if (st.role === 'standby') {
      s.metrics.kafkaWritable.set(st.kafkaWritable ? 1 : 0);
      s.metrics.bufferedBars.set(0);
      s.metrics.bufferedBytes.set(0);
    }
    return {
      kafkaWritable: st.kafkaWritable,
      feedState: st.feedState,
      feedReason: st.feedReason,
      inRegularSession: feedSession() === 'regular',
      msSinceLastBar: st.lastBar === null ? null : now - st.lastBar,
      msSinceSubscribed: st.subscribed === null ? null : now - st.subscribed,
      staleAfterMs: s.config.feedStaleMs,
      standby: st.role === 'standby',
    };
  }, s.metrics.ready);
  const heartbeats = new HeartbeatPublisher({
    sink: s.heartbeatSink,
    topic: s.topics.heartbeat,
    run: s.run,
    intervalMs: s.config.heartbeatIntervalMs,
    snapshot: () => {
      const st = state();
      return {
        nowMs: s.clock.now(),
        status: heartbeatStatusOf(st.role, readiness(), st.feedState, st.feedReason),
        feedState: st.feedState,
        feedReason: st.feedReason,
        kafkaWritable: st.kafkaWritable,
        lastBarStartMs: s.delivery.lastBarStart,
        barsPublished: s.delivery.barsPublished,
        uptimeMs: performance.now() - s.startedAt,
        // The session the feed is in: a delayed feed opens 15 minutes after the exchange.
        marketSession: feedSession(),
        completeMinuteMs: s.delivery.completeMinute(),
        role: st.role,
      };
    },
  });
  const http = createHttpServer({
    log: s.log,
    registry: s.metrics.registry,
    beforeScrape: () => void readiness(),
    readiness: () => {
      const st = state();
      return { ...readiness(), detail: { role: st.role, feed: st.feedState, kafkaWritable: st.kafkaWritable, buffered: st.buffered, runId: s.config.runId } };
    },
  });
  const httpUrl = await http.listen({ host: s.config.httpHost, port: s.config.httpPort });
  s.cleanup.push('http', () => http.close());
  return { readiness, heartbeats, httpUrl };
}

/** A standby says so; a writer's status follows its readiness and its feed. */
function heartbeatStatusOf(role: GatewayRole, readiness: Readiness, feedState: string, feedReason: string | null): HeartbeatStatus {
  return role === 'standby' ? 'standby' : heartbeatStatus(readiness, feedState, feedReason);
}
