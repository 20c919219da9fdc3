import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Producer } from 'kafkajs';
import type { GatewayConfig, GatewaySecrets } from './config/config.ts';
import type { HeartbeatStatus } from './contracts/heartbeat.ts';
import { minuteChannel } from './contracts/polygon-wire.ts';
import { BAR_SOURCES, type BarSource, type PriceEvent } from './contracts/price-event.ts';
import { topicNames, type TopicNames } from './contracts/topics.ts';
import { BarLedger } from './bars/ledger.ts';
import { createCalendar, type Calendar } from './bars/calendar.ts';
import { fetchMarketCalendar } from './feed/market-status.ts';
import { normalizeAggregate, type PriceEventDraft } from './bars/normalize.ts';
import { BarRouter, repeatDropReason } from './bars/bar-router.ts';
import { FeedClock } from './clock/feed-clock.ts';
import { wallClock, type MarketClock } from './clock/market-clock.ts';
import { SocketWatch } from './feed/socket-watch.ts';
import { BackfillRunner, CORRECTION_WINDOW_MINUTES } from './backfill.ts';
import { createMinuteAggregatesClient } from './feed/rest-aggregates.ts';
import { readPriceTail } from './kafka/resume.ts';
import type { ParsedFrame } from './feed/parse-frame.ts';
import { PolygonSession, type FeedState } from './feed/polygon-session.ts';
import { createKafkaClient, kafkaSecurity } from './kafka/kafka-client.ts';
import { rememberingPartitioner } from './kafka/key-partitioner.ts';
import { buildHeartbeat } from './kafka/heartbeat.ts';
import { heartbeatMessage, priceMessage, type RunIdentity } from './kafka/price-record.ts';
import { provisionTopics } from './kafka/provision-topics.ts';
import { RecordSink, type OutboundRecord } from './kafka/record-sink.ts';
import { gatewayTopicSpecs } from './kafka/topic-specs.ts';
import { assessReadiness, heartbeatStatus, type Readiness } from './ops/health.ts';
import { createLogger, type Logger } from './ops/logger.ts';
import { createMetrics, setFeedState, type GatewayMetrics } from './ops/metrics.ts';
import { throttle } from './ops/throttle.ts';
import { createHttpServer } from './http/server.ts';
import { startEmbeddedKafka, type EmbeddedKafka } from './dev/embedded-kafka.ts';
import { startSimulator, createSimClock, type Simulator } from './sim/index.ts';
import { SIM_CLOCK_PATH } from './sim/rest.ts';
import { GATEWAY_VERSION } from './version.ts';

/** How far ahead of our clock a bar may start (clock skew between us and the vendor). */
const FUTURE_BAR_TOLERANCE_MS = 2 * 60_000;

export type { MarketClock } from './clock/market-clock.ts';

export interface GatewayOptions {
  /** Overrides the logger (tests capture lines through it). */
  log?: Logger;
  /** Overrides the market clock (tests share a simulator's clock). */
  clock?: MarketClock;
  calendar?: Calendar;
  /** Source of reconnect jitter (tests pass a fixed one to observe the backoff bound). */
  random?: () => number;
}

type RecordMeta =
  | { kind: 'bar'; event: PriceEvent; receivedAt: number | null }
  | { kind: 'heartbeat'; status: HeartbeatStatus };

export interface Gateway {
  readonly config: GatewayConfig;
  readonly topics: TopicNames;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  /** Bound HTTP address, e.g. http://127.0.0.1:8080. */
  readonly httpUrl: string;
  readonly kafkaBootstrapServers: string[];
  readonly simulator: Simulator | null;
  readiness(): Readiness;
  /** Stops reading, flushes Kafka, publishes a `stopped` heartbeat, releases everything. */
  shutdown(): Promise<{ flushed: boolean; unsent: number }>;
}

/**
 * Assembles source -> bars -> Kafka and the operations around them, and owns shutdown.
 * Resources started here are released in reverse order if a later step fails.
 */
export async function startGateway(config: GatewayConfig, secrets: GatewaySecrets, options: GatewayOptions = {}): Promise<Gateway> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const release = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  };
  const startedAt = performance.now();
  // Each gateway its own calendar: holidays learned from the vendor must not leak across instances.
  const calendar = options.calendar ?? createCalendar();
  const topics = topicNames(config.topicPrefix);
  const run: RunIdentity & { version: string } = { strategy: config.strategy, env: config.env, runId: config.runId, version: GATEWAY_VERSION };

  // In simulator mode the gateway authenticates with a key only the in-process simulator knows.
  const simKey = config.simulated ? `sim-${config.runId}` : null;
  const apiKey = secrets.polygonApiKey ?? simKey!;
  const log = options.log ?? createLogger({ level: config.logLevel, secrets: [apiKey, secrets.kafkaSaslPassword ?? '', secrets.kafkaTlsKey ?? ''] });
  const metrics = createMetrics({ symbols: config.symbols, version: GATEWAY_VERSION });

  try {
    // --- source: the vendor, or the simulator standing in for it --------------------------
    let simulator: Simulator | null = null;
    let wsUrl = config.polygonWsUrl;
    let restUrl = config.polygonRestUrl;
    let clock: MarketClock = options.clock ?? wallClock;
    if (config.simulated) {
      const simClock = createSimClock({ startMarketMs: config.simStartMs ?? Date.now(), msPerMinute: config.replaySpeedMs });
      simulator = await startSimulator({
        apiKey: simKey!,
        clock: simClock,
        port: config.simPort,
        feedDelayMarketMs: config.simFeedDelayMs,
        log: (line: string) => log.debug({ component: 'sim' }, line),
      });
      cleanups.push(() => simulator!.close());
      wsUrl = simulator.wsUrl;
      restUrl = simulator.restUrl;
      clock = options.clock ?? simClock;
      log.info({ wsUrl, restUrl: simulator.restUrl, msPerMinute: config.replaySpeedMs }, 'simulated feed started (no POLYGON_API_KEY)');
    } else if (config.marketClock === 'simulator' && options.clock === undefined) {
      clock = await followSimulatorClock(restUrl, apiKey);
      log.info({ restUrl }, 'market time follows the external simulator');
    }

    // Holidays and early closes from the vendor; the built-in table stands in when unreachable.
    const learnCalendar = async (): Promise<void> => {
      try {
        const overrides = await fetchMarketCalendar({ restUrl, apiKey, timeoutMs: 5000 });
        calendar.install(overrides);
        log.info({ holidays: Object.keys(overrides.holidays ?? {}).length, earlyCloses: Object.keys(overrides.earlyCloses ?? {}).length }, 'market calendar learned from /v1/marketstatus/upcoming');
      } catch (error) {
        log.warn({ error: (error as Error).message }, 'market calendar unavailable; using the built-in holiday table');
      }
    };
    await learnCalendar();
    const calendarTimer = setInterval(() => void learnCalendar(), 6 * 60 * 60 * 1000);
    calendarTimer.unref();
    cleanups.push(async () => clearInterval(calendarTimer));

    // --- sink: Kafka, or an embedded broker when none is configured ----------------------
    let bootstrap = config.kafkaBootstrapServers;
    if (bootstrap === null) {
      log.info('no KAFKA_BOOTSTRAP_SERVERS: starting the embedded broker');
      const port = config.embeddedKafkaPort === 0 || !(await portIsFree(config.embeddedKafkaPort)) ? undefined : config.embeddedKafkaPort;
      if (port === undefined && config.embeddedKafkaPort !== 0) log.warn({ port: config.embeddedKafkaPort }, 'EMBEDDED_KAFKA_PORT is taken; the embedded broker uses a free port');
      const embedded: EmbeddedKafka = await startEmbeddedKafka({ port, log: (line: string) => log.debug({ component: 'embedded-kafka' }, line) });
      cleanups.push(() => embedded.dispose());
      bootstrap = [embedded.bootstrapServers];
      log.info({ bootstrap: embedded.bootstrapServers, version: embedded.version }, 'embedded Kafka broker ready');
    }
    const kafka = createKafkaClient({ brokers: bootstrap, clientId: config.kafkaClientId, log, security: kafkaSecurity(config, secrets) });
    if (config.provisionTopics) {
      const outcomes = await provisionTopics(kafka, gatewayTopicSpecs({ prefix: config.topicPrefix, tradesRetentionDays: config.tradesRetentionDays }), {
        partitions: config.topicPartitions,
        replicationFactor: config.topicReplicationFactor,
      });
      for (const o of outcomes) {
        if (o.created) log.info({ topic: o.topic }, 'topic created');
        if (o.differences.length > 0) log.warn({ topic: o.topic, differences: o.differences }, 'topic settings differ from the spec (left unchanged)');
      }
    }
    const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: rememberingPartitioner });
    await producer.connect();
    cleanups.push(() => producer.disconnect());

    // --- state the operations read -------------------------------------------------------
    // The vendor corrects bars for about 15 minutes and backfill re-reads as many: twice that
    // is all the history the ledger needs, which keeps a full-market day's memory flat.
    const ledger = new BarLedger({ retainMinutes: 2 * CORRECTION_WINDOW_MINUTES });
    const symbols = new Set(config.symbols);
    /** Newest acknowledged revision-0 minute per symbol: what consumers can already read. */
    const ackedMinute = new Map<string, number>();
    let barsPublished = 0;
    let lastAckedBarStart: number | null = null;
    let lastBarArrivedAt: number | null = null; // market time
    let subscribedSince: number | null = null; // market time
    /** The feed's own clock: expectations of the feed run on it, not on ours. */
    const feedClock = new FeedClock({ clock, delayMs: config.polygonFeedDelayMs, graceMs: config.fillGraceMs });
    /** What the current socket session proved it delivered; see BarRouter.fillDue. */
    const socketWatch = new SocketWatch();
    const watchedFrom = (): number | null => socketWatch.watchedFrom(feedClock.timing);
    /** Symbols whose queued records a full buffer pushed out: replayed from REST once Kafka is back. */
    const resync = new Set<string>();
    let started = false;

    const sink = new RecordSink<RecordMeta>({
      producer,
      maxBuffered: config.maxBufferedBars,
      hooks: {
        onDelivered: (records, ackedAt) => {
          const marketNow = clock.now();
          // Tallied per batch: a labelled increment hashes its labels, and a batch holds
          // thousands of records of a few label sets. Counts per symbol label, by source.
          const published = new Map<string, Record<BarSource, number>>();
          for (const { meta } of records) {
            if (meta.kind === 'heartbeat') {
              metrics.heartbeats.inc({ status: meta.status });
              continue;
            }
            const { event, receivedAt } = meta;
            barsPublished += 1;
            const symbol = metrics.symbolLabel(event.symbol);
            let tally = published.get(symbol);
            if (tally === undefined) published.set(symbol, (tally = { live: 0, backfill: 0, filled: 0 }));
            tally[event.source] += 1;
            if (receivedAt !== null) metrics.publishLatency.observe((ackedAt - receivedAt) / 1000);
            metrics.barDelay.observe(Math.max(0, marketNow - event.endMs) / 1000);
            if (event.revision === 0 && event.startMs > (ackedMinute.get(event.symbol) ?? -Infinity)) ackedMinute.set(event.symbol, event.startMs);
            if (lastAckedBarStart === null || event.startMs > lastAckedBarStart) lastAckedBarStart = event.startMs;
          }
          for (const [symbol, tally] of published) {
            for (const source of BAR_SOURCES) if (tally[source] > 0) metrics.barsPublished.inc({ symbol, source }, tally[source]);
          }
          if (lastAckedBarStart !== null) metrics.lastBarTimestamp.set(lastAckedBarStart / 1000);
          // An overflow without an outage (a burst): replay once the buffer has drained.
          if (resync.size > 0 && sink.buffered <= config.maxBufferedBars / 2) replayOverflowed();
        },
        onOverflow: (records) => {
          const dropped = records.filter((r) => r.meta.kind === 'bar');
          metrics.eventsDropped.inc({ reason: 'buffer_overflow' }, dropped.length);
          // Keep each symbol's records in minute order: take back everything of that symbol
          // still queued, forget it, and replay it from REST once Kafka takes writes again.
          const hit = new Set(dropped.map((r) => (r.meta as { event: PriceEvent }).event.symbol));
          const withdrawn = sink.withdraw((r) => r.meta.kind === 'bar' && hit.has(r.meta.event.symbol));
          for (const { meta } of [...dropped, ...withdrawn].reverse()) {
            if (meta.kind === 'bar') router.forget(meta.event.symbol, meta.event.startMs, meta.event.revision);
          }
          for (const symbol of hit) resync.add(symbol);
          router.hold([...hit]);
          logOverflow(dropped.length, withdrawn.length);
        },
        onSendError: (error, attempt) => {
          metrics.kafkaErrors.inc({ operation: 'produce' });
          logKafkaError(error.message, attempt);
        },
        onWritableChange: (writable) => {
          metrics.kafkaWritable.set(writable ? 1 : 0);
          log[writable ? 'info' : 'warn']({ writable }, writable ? 'Kafka is writable' : 'Kafka is not writable; buffering bars');
          if (!writable) return;
          // After an outage, say so at once rather than at the next tick, and recover what overflowed.
          if (started) setImmediate(() => heartbeat());
          if (resync.size > 0) replayOverflowed();
        },
        onBufferChange: (buffered) => metrics.bufferedBars.set(buffered),
      },
    });
    sink.markConnected();
    cleanups.push(async () => sink.stop());
    const replayOverflowed = (): void => {
      const symbolsToReplay = [...resync];
      resync.clear();
      backfill.request(symbolsToReplay, 'buffer_overflow');
    };
    const logOverflow = throttle(1000, (dropped: number, withdrawn: number) => log.error({ dropped, withdrawn, max: config.maxBufferedBars }, 'bar buffer full: oldest bars dropped; their symbols will be replayed from REST'));
    const logKafkaError = throttle(1000, (message: string, attempt: number) => log.warn({ attempt, error: message }, 'Kafka send failed; retrying'));
    const logReject = throttle(1000, (reason: string, detail: string) => log.warn({ reason, detail }, 'malformed vendor event dropped'));
    const logUnknown = throttle(10_000, (ev: string) => log.info({ ev }, 'unknown vendor event ignored'));

    // --- transform: vendor events -> price records ---------------------------------------
    const router = new BarRouter({
      symbols: config.symbols,
      ledger,
      calendar,
      fillMode: config.fillEmptyMinutes,
      maxHeldPerSymbol: config.maxBufferedBars,
      publish: (event, receivedAt) => {
        if (event.revision > 0) metrics.barRevisions.inc();
        sink.enqueue({ topic: topics.prices, message: priceMessage(event, run), meta: { kind: 'bar', event, receivedAt } });
      },
      onDuplicate: (_draft, source, repeats) => metrics.eventsDropped.inc({ reason: repeatDropReason(source, repeats) }),
      onTooLate: () => metrics.eventsDropped.inc({ reason: 'too_late' }),
      onOutOfOrder: (event) => log.warn({ symbol: event.symbol, tsET: event.tsET }, 'late first bar for an earlier minute published out of order'),
      onUnproven: (symbol) => backfill.request([symbol], 'unproven_gap'),
    });
    const backfill = new BackfillRunner({
      router,
      ledger,
      calendar,
      client: createMinuteAggregatesClient({
        restUrl,
        apiKey,
        onRetry: (error, attempt) => {
          metrics.backfillErrors.inc();
          log.warn({ error: error.message, attempt }, 'REST backfill request failed; retrying');
        },
      }),
      feed: feedClock,
      proofTimeoutMs: config.feedStaleMs,
      waitForRoom: async (bars, signal) => {
        while (sink.buffered + bars > config.maxBufferedBars && !signal.aborted) await new Promise((resolve) => setTimeout(resolve, 20));
      },
      graceMs: config.fillGraceMs,
      maxBackfillMinutes: config.maxBackfillMinutes,
      concurrency: 2,
      log: log.child({ component: 'backfill' }),
      onBackfilled: (_symbol, bars) => metrics.backfilledBars.inc(bars),
      onFailed: () => metrics.backfillErrors.inc(),
    });
    cleanups.push(async () => backfill.stop());

    // The topic is the state: learn what consumers already have before adding to it.
    const tail = await readPriceTail(kafka, topics.prices, {
      perPartition: Math.max(1000, Math.ceil(config.symbols.length * (config.maxBackfillMinutes + 60) * 1.2)),
      timeoutMs: 60_000,
    });
    for (const event of tail) {
      if (!symbols.has(event.symbol)) continue;
      router.restore(event);
      if (event.revision === 0 && event.startMs > (ackedMinute.get(event.symbol) ?? -Infinity)) ackedMinute.set(event.symbol, event.startMs);
      if (lastAckedBarStart === null || event.startMs > lastAckedBarStart) lastAckedBarStart = event.startMs;
    }
    log.info({ records: tail.length, symbols: ackedMinute.size }, 'resumed from the topic');

    const onFrame = (frame: ParsedFrame, receivedAt: number): void => {
      try {
        handleFrame(frame, receivedAt);
      } catch (error) {
        // Whatever slipped past the parser costs that frame, never the process or the session.
        metrics.eventsDropped.inc({ reason: 'internal_error' });
        logInternal((error as Error).message);
      }
    };
    const logInternal = throttle(1000, (message: string) => log.error({ error: message }, 'frame handling failed; frame dropped'));
    /** The frame's bars that passed the checks; reused from frame to frame. */
    const accepted: PriceEventDraft[] = [];
    const handleFrame = (frame: ParsedFrame, receivedAt: number): void => {
      metrics.framesReceived.inc();
      for (const reject of frame.rejects) {
        metrics.eventsDropped.inc({ reason: reject.reason });
        logReject(reject.reason, reject.detail);
      }
      // Counted per frame, not per event: a labelled increment costs a hash of its labels.
      let minutes = 0;
      let seconds = 0;
      let statuses = 0;
      let unknown = 0;
      let newestBarEnd = Number.NEGATIVE_INFINITY;
      const now = clock.now();
      accepted.length = 0;
      try {
        for (const parsed of frame.events) {
          switch (parsed.kind) {
            case 'minute': {
              minutes += 1;
              lastBarArrivedAt = now;
              if (!symbols.has(parsed.event.sym.toUpperCase())) {
                metrics.eventsDropped.inc({ reason: 'unsubscribed_symbol' });
                break;
              }
              const draft = normalizeAggregate(parsed.event, calendar);
              // A bar cannot start in the future; one that claims to would also fake the proof
              // that earlier minutes are complete (and so fill them early).
              if (draft.startMs > now + FUTURE_BAR_TOLERANCE_MS) {
                metrics.eventsDropped.inc({ reason: 'future_bar' });
                logReject('future_bar', `${draft.symbol} ${draft.tsET}`);
                break;
              }
              if (draft.endMs > newestBarEnd) newestBarEnd = draft.endMs;
              accepted.push(draft);
              break;
            }
            case 'second':
              // Second bars are not minute bars: counted, never published.
              seconds += 1;
              break;
            case 'status':
              statuses += 1;
              break;
            case 'unknown':
              unknown += 1;
              logUnknown(parsed.ev);
              break;
          }
        }
        if (accepted.length > 0) {
          // The feed's clock and the session's proof learn from the frame before its bars are
          // routed, so that the bars are judged by what they themselves show.
          const lag = feedClock.observe(newestBarEnd);
          if (lag !== null) metrics.feedLag.set(lag / 1000);
          for (const draft of accepted) socketWatch.sawBar(draft.startMs);
          router.watch(watchedFrom());
          for (const draft of accepted) router.acceptLive(draft, receivedAt);
        }
      } finally {
        if (minutes > 0) metrics.eventsReceived.inc({ type: 'AM' }, minutes);
        if (seconds > 0) metrics.eventsReceived.inc({ type: 'A' }, seconds);
        if (statuses > 0) metrics.eventsReceived.inc({ type: 'status' }, statuses);
        if (unknown > 0) metrics.eventsReceived.inc({ type: 'unknown' }, unknown);
      }
    };

    // --- the vendor session ----------------------------------------------------------------
    const session = new PolygonSession({
      url: wsUrl,
      apiKey,
      channels: config.symbols.map(minuteChannel),
      pingIntervalMs: config.pingIntervalMs,
      stallTimeoutMs: config.stallTimeoutMs,
      backoff: {
        minMs: config.reconnectMinMs,
        maxMs: config.reconnectMaxMs,
        authRetryMs: config.authRetryMs,
        maxConnectionsRetryMs: config.maxConnectionsRetryMs,
      },
      log: log.child({ component: 'feed' }),
      random: options.random,
      onFrame,
      now: () => clock.now(),
      onPong: (sentAt) => socketWatch.answered(sentAt),
      onStateChange: (state: FeedState, reason) => {
        setFeedState(metrics, state);
        if (state === 'subscribed') {
          subscribedSince = clock.now();
          socketWatch.subscribed(feedClock.expectedNow());
          log.info({ symbols: config.symbols.length }, 'feed subscribed');
          // Before the first bar of this session is handled: whatever was missed comes first.
          router.watch(watchedFrom());
          backfill.request(config.symbols, 'subscribed');
        } else if (state !== 'stopped') {
          subscribedSince = null;
          socketWatch.ended();
          router.watch(null);
        }
        if (reason !== null) log.debug({ state, reason }, 'feed state');
      },
      onReconnect: (reason) => metrics.reconnects.inc({ reason }),
    });

    // --- operations ------------------------------------------------------------------------
    const readiness = (): Readiness => {
      const now = clock.now();
      const result = assessReadiness({
        kafkaWritable: sink.writable,
        feedState: session.state,
        feedReason: session.reason,
        inRegularSession: calendar.marketSessionOf(feedClock.presentOrExpected()) === 'regular',
        msSinceLastBar: lastBarArrivedAt === null ? null : now - lastBarArrivedAt,
        msSinceSubscribed: subscribedSince === null ? null : now - subscribedSince,
        staleAfterMs: config.feedStaleMs,
      });
      metrics.ready.set(result.ready ? 1 : 0);
      return result;
    };

    const heartbeat = (status?: HeartbeatStatus): void => {
      const now = clock.now();
      const ready = readiness();
      const beat = buildHeartbeat(run, {
        nowMs: now,
        status: status ?? heartbeatStatus(ready, session.state, session.reason),
        feedState: session.state,
        feedReason: session.reason,
        kafkaWritable: sink.writable,
        lastBarStartMs: lastAckedBarStart,
        barsPublished,
        uptimeMs: performance.now() - startedAt,
        // The session the feed is in: a delayed feed opens 15 minutes after the exchange.
        marketSession: calendar.marketSessionOf(feedClock.presentOrExpected()),
        completeMinuteMs: completeMinute(config.symbols, ackedMinute),
      });
      sink.enqueueControl({ topic: topics.heartbeat, message: heartbeatMessage(beat), meta: { kind: 'heartbeat', status: beat.status } });
    };

    const http = createHttpServer({
      log,
      registry: metrics.registry,
      readiness: () => ({ ...readiness(), detail: { feed: session.state, kafkaWritable: sink.writable, buffered: sink.buffered, runId: config.runId } }),
    });
    const httpUrl = await http.listen({ host: config.httpHost, port: config.httpPort });
    cleanups.push(() => http.close());

    session.start();
    cleanups.push(() => session.stop());
    // Empty minutes: checked every market second (bounded to [20 ms, 1 s] of wall time).
    const fillEveryMs = Math.min(1000, Math.max(20, config.simulated ? config.replaySpeedMs / 60 : 1000));
    const fillTimer = setInterval(() => router.fillDue(feedClock.present(), config.fillGraceMs, socketWatch.proof(feedClock.timing, feedClock.delayMs)), fillEveryMs);
    cleanups.push(async () => clearInterval(fillTimer));
    heartbeat();
    started = true;
    const heartbeatTimer = setInterval(() => heartbeat(), config.heartbeatIntervalMs);
    cleanups.push(async () => clearInterval(heartbeatTimer));
    log.info({ http: httpUrl, runId: config.runId, env: config.env, topics: [topics.prices, topics.heartbeat], bootstrap }, 'gateway started');

    let shuttingDown: Promise<{ flushed: boolean; unsent: number }> | null = null;
    const shutdown = async (): Promise<{ flushed: boolean; unsent: number }> => {
      const deadline = performance.now() + config.shutdownTimeoutMs;
      log.info('shutting down: closing the feed, flushing Kafka');
      clearInterval(heartbeatTimer);
      clearInterval(fillTimer);
      await session.stop();
      // A backfill under way holds live bars that were received: finish it within the bound,
      // so they reach Kafka in order. Past the bound they are dropped, not published out of
      // order; the next gateway backfills them from REST.
      const backfilled = await Promise.race([backfill.settled().then(() => true), delay(Math.max(0, deadline - performance.now())).then(() => false)]);
      backfill.stop();
      if (!backfilled) log.error('shutdown bound reached during a backfill: held bars left to the next start');
      // Every bar first, then the `stopped` heartbeat: when a consumer sees it, nothing else is coming.
      let flushed = await sink.flush(Math.max(0, deadline - performance.now()));
      heartbeat('stopped');
      flushed = (await sink.flush(Math.max(0, deadline - performance.now()))) && flushed;
      const unsent = sink.buffered;
      if (!flushed) log.error({ unsent }, 'shutdown bound reached with records still unsent');
      await release();
      log.info({ flushed, barsPublished }, 'gateway stopped');
      return { flushed, unsent };
    };

    return {
      config,
      topics,
      metrics,
      log,
      httpUrl,
      kafkaBootstrapServers: bootstrap,
      simulator,
      readiness,
      shutdown: () => (shuttingDown ??= shutdown()),
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/** Reads an external simulator's clock once and runs a local copy of it (same start, same speed). */
async function followSimulatorClock(restUrl: string, apiKey: string): Promise<MarketClock> {
  const response = await fetch(`${restUrl}${SIM_CLOCK_PATH}`, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!response.ok) throw new Error(`MARKET_CLOCK=simulator: ${restUrl}${SIM_CLOCK_PATH} answered HTTP ${response.status}`);
  const { marketMs, msPerMinute } = (await response.json()) as { marketMs: number; msPerMinute: number };
  return createSimClock({ startMarketMs: marketMs, msPerMinute });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** True when nothing listens on the loopback port. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Latest minute every symbol has reached in Kafka; null until each has one. */
function completeMinute(symbols: readonly string[], acked: ReadonlyMap<string, number>): number | null {
  let complete: number | null = null;
  for (const symbol of symbols) {
    const minute = acked.get(symbol);
    if (minute === undefined) return null;
    complete = complete === null ? minute : Math.min(complete, minute);
  }
  return complete;
}
