import { performance } from 'node:perf_hooks';
import { createCalendar } from '../bars/calendar.ts';
import type { GatewayConfig, GatewaySecrets } from '../config/config.ts';
import type { HeartbeatStatus } from '../contracts/heartbeat.ts';
import { MINUTE_MS } from '../contracts/time-format.ts';
import { topicNames } from '../contracts/topics.ts';
import type { RecordMeta } from '../kafka/gateway-records.ts';
import { buildHeartbeat } from '../kafka/heartbeat.ts';
import { MinutePublisher } from '../kafka/minute-publisher.ts';
import { RecordSink } from '../kafka/record-sink.ts';
import { createLogger, type Logger } from '../ops/logger.ts';
import { BookError } from '../replay/accounting.ts';
import { planDay, type PlannedMinute } from '../replay/day-plan.ts';
import { ReplayInputError } from '../replay/engine-files.ts';
import { GATEWAY_VERSION } from '../version.ts';
import { CleanupStack } from './cleanup-stack.ts';
import { openKafka } from './kafka-endpoint.ts';
import { loadReplayInputs } from './replay-inputs.ts';

export interface ReplayOutcome {
  /** Minutes published. */
  minutes: number;
  /** Minutes of the day. */
  planned: number;
  /** `signal`: stopped early (SIGTERM), after flushing what it had started. */
  ended: 'finished' | 'signal';
}

/**
 * `sentio-gateway replay`, the second source: a recorded day is read, checked and planned
 * in full, and only then published, one market minute per REPLAY_SPEED_MS of wall time,
 * into all five topics through the same sink as live bars. Ends with a `stopped` heartbeat.
 * Its heartbeats run on the replayed clock, so two replays of one input with one RUN_ID
 * write the same bytes.
 */
export async function replayDay(config: GatewayConfig, secrets: GatewaySecrets, options: { log?: Logger; signal?: AbortSignal } = {}): Promise<ReplayOutcome> {
  const log =
    options.log ?? createLogger({ level: config.logLevel, secrets: [secrets.polygonApiKey ?? '', secrets.kafkaSaslPassword ?? '', secrets.kafkaTlsKey ?? ''] });
  const signal = options.signal ?? new AbortController().signal;
  const cleanup = new CleanupStack();
  const calendar = createCalendar();
  const { minuteMs, env, portfolioId } = config.replay;
  const run = { strategy: config.strategy, env, runId: config.runId, version: GATEWAY_VERSION };
  const topics = topicNames(config.topicPrefix);
  try {
    // --- source: everything read, checked and computed before anything is published -----
    const inputs = await loadReplayInputs(config, secrets, calendar, log, cleanup);
    let plan: PlannedMinute[];
    try {
      plan = planDay(inputs.day, run.runId, portfolioId, calendar);
    } catch (error) {
      if (!(error instanceof BookError) || inputs.source.kind !== 'files') throw error;
      const file = inputs.source.trades ?? inputs.source.results;
      throw new ReplayInputError(inputs.source.trades === null ? 'RESULTS_PATH' : 'TRADES_PATH', file, null, `the trades do not add up: ${error.message}`);
    }
    log.info(
      { source: inputs.source, minutes: plan.length, symbols: inputs.day.bars.size, trades: inputs.day.trades?.length ?? 0, msPerMinute: minuteMs },
      'replay planned',
    );

    // --- sink -------------------------------------------------------------------------------
    const { producer } = await openKafka(config, secrets, log, cleanup, 'all');
    const sink = new RecordSink<RecordMeta>({ producer, maxBuffered: config.maxBufferedBars, maxBufferedBytes: config.maxBufferedBytes, log });
    sink.markConnected();
    cleanup.push('sink', () => sink.stop());
    const publisher = new MinutePublisher({ sink, topics, run, portfolioId, flushTimeoutMs: 60_000 });
    // On the replayed clock: the last instant of the minute the heartbeat closes.
    const heartbeat = (minute: PlannedMinute, status: HeartbeatStatus) =>
      buildHeartbeat(run, {
        nowMs: minute.minuteMs + MINUTE_MS - 1,
        status,
        feedState: 'replay',
        feedReason: null,
        kafkaWritable: sink.writable,
        lastBarStartMs: minute.lastBarStartMs,
        barsPublished: minute.pricesSoFar,
        uptimeMs: minute.minuteMs + MINUTE_MS - plan[0]!.minuteMs,
        marketSession: minute.marketSession,
        completeMinuteMs: minute.completeMinuteMs,
        role: 'single',
      });

    // --- one market minute per REPLAY_SPEED_MS --------------------------------------------
    const startedAt = performance.now();
    let published = 0;
    for (const minute of plan) {
      if (!(await waitUntil(startedAt + published * minuteMs, signal))) break;
      await publisher.publish({ ...minute, heartbeat: heartbeat(minute, 'ok') });
      published += 1;
    }
    const last = plan[Math.max(0, published - 1)];
    if (last !== undefined) await publisher.heartbeat(heartbeat(last, 'stopped'));
    const outcome: ReplayOutcome = { minutes: published, planned: plan.length, ended: published === plan.length ? 'finished' : 'signal' };
    log.info(outcome, 'replay stopped');
    return outcome;
  } finally {
    await cleanup.releaseAll();
  }
}

/** Resolves true at performance.now() `at`, or false at once when `signal` aborts. */
function waitUntil(at: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (reached: boolean): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
      resolve(reached);
    };
    const abort = (): void => done(false);
    const timer = setTimeout(() => done(true), Math.max(0, at - performance.now()));
    signal.addEventListener('abort', abort, { once: true });
  });
}
