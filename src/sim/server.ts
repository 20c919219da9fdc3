/**
 * A Polygon-protocol simulator: one HTTP server on 127.0.0.1 serving the stocks WebSocket at
 * `/stocks` and the REST endpoints the gateway uses, driven by a (usually fast) SimClock.
 *
 * The parts, each in its own file:
 * - session.ts   one connection's control protocol (auth, subscriptions, pings, stalls)
 * - market.ts    which bars go to which connection, when
 * - ledger.ts    the vendor's record of each bar (published, held, skipped, corrected)
 * - faults.ts    fault injection and plans, with a log tests can reason from
 * - rest.ts      REST answers from the same ledger
 * - agenda.ts    one timer ordering everything by market time
 */

import { timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { MINUTE_MS, minuteStart } from '../contracts/time-format.ts';
import { createAgenda } from './agenda.ts';
import { createSimClock } from './clock.ts';
import type { SimClock } from './clock.ts';
import { createFaults } from './faults.ts';
import type { SimFaults } from './faults.ts';
import { createBarLedger } from './ledger.ts';
import { toSimLogger } from './log.ts';
import type { SimLogSink } from './log.ts';
import { createMarket } from './market.ts';
import { createRestHandler } from './rest.ts';
import { Session } from './session.ts';
import { createStats } from './stats.ts';
import { SubscriptionCensus, type MinuteCensus, type Overlap } from './subscription-census.ts';
import type { SimEventPayloads, SimEvents } from './events.ts';
import type { SimStats } from './stats.ts';

export const WS_PATH = '/stocks';

export interface SimulatorOptions {
  /**
   * The only API key accepted, on the socket and over REST. Omitted (or null): any non-empty
   * key is accepted, which suits a standalone simulator a developer points a client at.
   */
  apiKey?: string | null;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Market clock; default `createSimClock({ startMarketMs, msPerMinute })`. */
  clock?: SimClock;
  startMarketMs?: number;
  msPerMinute?: number;
  /** Symbols that have data; default any symbol. Others are acknowledged but stay silent. */
  symbolsUniverse?: readonly string[];
  /** Events per frame for batched aggregates; default 8. */
  eventsPerFrame?: number;
  /** Market ms between a minute's end and its `AM` bar going out; default 2000. */
  barDelayMarketMs?: number;
  /**
   * How far the whole feed runs behind the market clock, in market ms; default 0. The
   * vendor's delayed plans get 900000: every bar goes out that much later than
   * `barDelayMarketMs` says, and REST has a minute only that much after it closed.
   */
  feedDelayMarketMs?: number;
  /** Share of empty (bar-less) minutes, deterministic by hash; default 0. */
  emptyRate?: number;
  /** Wall ms a new connection has to authenticate; default 10000. */
  authTimeoutMs?: number;
  /** Authenticated connections allowed at once; default 1 (Polygon's default). */
  maxConnections?: number;
  /** Bytes waiting in a socket before its reader is cut off (1011); default 8 MiB. */
  slowConsumerBytes?: number;
  /**
   * Wall ms between the server's pings; a client that leaves one unanswered until the next is
   * terminated (a frozen process gives up the account's slot). Default 10000; 0: no pings.
   */
  keepAliveMs?: number;
  /** A pino-like logger, or a function receiving one JSON line per entry; default silent. */
  log?: SimLogSink;
}

export interface WaitForOptions {
  /** Wall ms before the promise rejects; default 10000. */
  timeoutMs?: number;
}

export interface Simulator {
  readonly port: number;
  /** `ws://127.0.0.1:PORT/stocks` */
  readonly wsUrl: string;
  /** `http://127.0.0.1:PORT` */
  readonly restUrl: string;
  readonly clock: SimClock;
  readonly stats: SimStats;
  readonly faults: SimFaults;
  readonly events: EventEmitter<SimEvents>;
  readonly barDelayMarketMs: number;
  readonly feedDelayMarketMs: number;
  readonly emptyRate: number;
  /** False when any non-empty key is accepted (no apiKey given). */
  readonly keyRequired: boolean;
  /** First minute whose bars this simulator sends on the socket (earlier ones are history). */
  readonly firstMinuteMs: number;
  /** Market instant at which the bars of `minuteMs` are normally sent. */
  dueAt(minuteMs: number): number;
  /** Latest minute whose bars have been sent. */
  lastEmittedMinute(): number;
  /**
   * Bytes waiting to be sent on the most backed-up open connection (0 when none): lets a test
   * that floods a client with `faults.sendRaw` pace itself well below `slowConsumerBytes`.
   */
  bufferedBytes(): number;
  /** Union of the channels of all authenticated connections, sorted. */
  subscriptions(): string[];
  /** REST aggregates answers held back by the `restLatency` fault right now. */
  restRequestsInFlight(): number;
  /** Per market minute from `firstMinuteMs` to now, the most connections subscribed at once. */
  subscribedAtOnce(): MinuteCensus[];
  /** Each stretch during which more than one connection was subscribed (a takeover's overlap). */
  subscriptionOverlaps(): Overlap[];
  /** Resolves with the first `event` payload that satisfies `predicate`. */
  waitFor<K extends keyof SimEventPayloads>(
    event: K,
    predicate?: (payload: SimEventPayloads[K]) => boolean,
    opts?: WaitForOptions,
  ): Promise<SimEventPayloads[K]>;
  /** Resolves once the bars of `minuteMs` have been sent (immediately if they have). */
  waitForMinute(minuteMs: number, opts?: WaitForOptions): Promise<void>;
  /** Terminates clients, stops timers, closes the server. Idempotent. */
  close(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  if (opts.apiKey !== undefined && opts.apiKey !== null && (typeof opts.apiKey !== 'string' || opts.apiKey === '')) {
    throw new TypeError('apiKey must be a non-empty string (or omitted to accept any key)');
  }
  const eventsPerFrame = positiveInt(opts.eventsPerFrame ?? 8, 'eventsPerFrame');
  const maxConnections = positiveInt(opts.maxConnections ?? 1, 'maxConnections');
  const authTimeoutMs = nonNegative(opts.authTimeoutMs ?? 10_000, 'authTimeoutMs');
  const barDelayMarketMs = nonNegative(opts.barDelayMarketMs ?? 2_000, 'barDelayMarketMs');
  const feedDelayMarketMs = nonNegative(opts.feedDelayMarketMs ?? 0, 'feedDelayMarketMs');
  const slowConsumerBytes = positiveInt(opts.slowConsumerBytes ?? 8 * 1024 * 1024, 'slowConsumerBytes');
  const keepAliveMs = nonNegative(opts.keepAliveMs ?? 10_000, 'keepAliveMs');
  const emptyRate = opts.emptyRate ?? 0;
  if (!(emptyRate >= 0 && emptyRate <= 1)) throw new RangeError('emptyRate must be within [0, 1]');
  const log = toSimLogger(opts.log);
  const clock =
    opts.clock ??
    createSimClock({
      ...(opts.startMarketMs !== undefined ? { startMarketMs: opts.startMarketMs } : {}),
      ...(opts.msPerMinute !== undefined ? { msPerMinute: opts.msPerMinute } : {}),
    });
  const universe = opts.symbolsUniverse ? new Set(opts.symbolsUniverse) : undefined;
  const keyBytes = opts.apiKey ? Buffer.from(opts.apiKey, 'utf8') : undefined;
  const checkKey = (candidate: string): boolean => {
    const b = Buffer.from(String(candidate), 'utf8');
    if (!keyBytes) return b.length > 0;
    return b.length === keyBytes.length && timingSafeEqual(b, keyBytes);
  };

  // The first minute whose due time is still ahead; earlier minutes are history (REST only).
  const firstMinuteMs = minuteStart(clock.now() - MINUTE_MS - feedDelayMarketMs - barDelayMarketMs) + MINUTE_MS;
  const ledger = createBarLedger({ emptyRate, barDelayMarketMs: feedDelayMarketMs + barDelayMarketMs, firstMinuteMs });
  let restLatencyWallMs = 0;
  let restInFlight = 0;
  const stats = createStats();
  const events = new EventEmitter<SimEvents>();
  events.setMaxListeners(1_000);
  const sessions = new Map<number, Session>();
  let nextConnId = 1;
  let closed = false;

  const market = createMarket(
    {
      clock,
      ledger,
      stats,
      events,
      eventsPerFrame,
      feedDelayMarketMs,
      universe,
      sessions: () => sessions.values(),
      runQueued: (symbol, minuteMs) => faults.runQueued(symbol, minuteMs),
      released: (symbol, minuteMs, connIds) => faults.logRelease(symbol, minuteMs, connIds),
    },
    firstMinuteMs,
  );

  const faults = createFaults({
    clock,
    ledger,
    dropConnections() {
      const ids = [...sessions.values()].filter((s) => s.open).map((s) => s.id);
      for (const s of sessions.values()) s.terminate();
      return ids;
    },
    stallConnections(durationWallMs) {
      const open = [...sessions.values()].filter((s) => s.open);
      for (const s of open) s.stall(durationWallMs);
      return open.map((s) => s.id);
    },
    sendRaw(frames) {
      const ids: number[] = [];
      for (const s of sessions.values()) {
        if (!s.authenticated) continue;
        let all = true;
        for (const frame of frames) all = s.sendRaw(frame) && all;
        if (all) ids.push(s.id);
      }
      return ids;
    },
    disconnectConnections(message) {
      const ids: number[] = [];
      for (const s of [...sessions.values()]) if (s.authenticated && s.disconnect(message)) ids.push(s.id);
      return ids;
    },
    setRestLatency(wallMs) {
      restLatencyWallMs = wallMs;
    },
    sendBar: (bar, kind, revision) => market.sendBar(bar, kind, revision),
    poke: () => agenda.poke(),
    emit: (entry) => {
      log.info({ fault: entry.kind, outcome: entry.outcome, symbol: entry.symbol, minuteMs: entry.minuteMs }, 'sim: fault');
      events.emit('fault', entry);
    },
  });

  const agenda = createAgenda(clock, [faults.planSource, market.releaseSource, market.minuteSource, market.secondSource], (source, err) =>
    log.warn({ source, err: err instanceof Error ? err.message : String(err) }, 'sim: agenda item failed'),
  );

  const census = new SubscriptionCensus();
  const recount = (): void => {
    let subscribed = 0;
    for (const channels of stats.subscriptions.values()) if (channels.size > 0) subscribed++;
    census.record(subscribed, clock.now(), performance.now());
  };

  const sessionHost = {
    clock,
    stats,
    events,
    log,
    authTimeoutMs,
    maxConnections,
    slowConsumerBytes,
    keepAliveMs,
    checkKey,
    authenticatedOthers(session: Session): number {
      let n = 0;
      for (const s of sessions.values()) if (s !== session && s.authenticated && s.open) n++;
      return n;
    },
    subscriptionsChanged(): void {
      recount();
      market.subscriptionsChanged();
      agenda.poke();
    },
    closed(session: Session): void {
      sessions.delete(session.id);
      recount();
      market.subscriptionsChanged();
      if (!closed) agenda.poke();
    },
  };

  let baseUrl = '';
  const server = createServer(
    createRestHandler({
      clock,
      ledger,
      feedDelayMarketMs,
      latencyWallMs: () => restLatencyWallMs,
      inFlight: (delta) => (restInFlight += delta),
      universe,
      log,
      checkKey,
      baseUrl: () => baseUrl,
    }),
  );
  server.on('clientError', (_err, socket) => socket.destroy());
  const wss = new WebSocketServer({ noServer: true, autoPong: false, clientTracking: false, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://sim.invalid').pathname;
    if (closed || path !== WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (closed) {
        ws.terminate();
        return;
      }
      const id = nextConnId++;
      log.info({ connId: id }, 'sim: connection');
      sessions.set(id, new Session(id, ws, sessionHost));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = !opts.host || opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  baseUrl = `http://${urlHost}:${port}`;

  /** Pending waitFor calls, rejected when the simulator closes so nothing waits on a dead one. */
  const waiters = new Set<(err: Error) => void>();
  const waitFor = <K extends keyof SimEventPayloads>(
    event: K,
    predicate?: (payload: SimEventPayloads[K]) => boolean,
    waitOpts: WaitForOptions = {},
  ): Promise<SimEventPayloads[K]> => {
    const timeoutMs = waitOpts.timeoutMs ?? 10_000;
    // The typed EventEmitter cannot relate a generic key to its listener type; the cast is
    // confined to these two calls.
    const emitter = events as unknown as EventEmitter;
    const promise = new Promise<SimEventPayloads[K]>((resolve, reject) => {
      if (closed) {
        reject(new Error(`simulator closed; cannot wait for '${event}'`));
        return;
      }
      const listener = (payload: SimEventPayloads[K]): void => {
        if (predicate && !predicate(payload)) return;
        cleanup();
        resolve(payload);
      };
      const fail = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`simulator: no '${event}' event within ${timeoutMs} ms`)), timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        emitter.off(event, listener);
        waiters.delete(fail);
      };
      emitter.on(event, listener);
      waiters.add(fail);
    });
    // A caller that stopped caring (never awaits) must not cause an unhandled rejection;
    // a caller that awaits still gets the error.
    promise.catch(() => {});
    return promise;
  };

  log.debug({ wsUrl: `ws://${urlHost}:${port}${WS_PATH}`, restUrl: baseUrl }, 'sim: listening');

  return {
    port,
    wsUrl: `ws://${urlHost}:${port}${WS_PATH}`,
    restUrl: baseUrl,
    clock,
    stats,
    faults,
    events,
    barDelayMarketMs,
    feedDelayMarketMs,
    emptyRate,
    keyRequired: keyBytes !== undefined,
    firstMinuteMs,
    dueAt: (minuteMs) => ledger.dueAt(minuteMs),
    lastEmittedMinute: () => ledger.lastEmittedMinute(),
    bufferedBytes() {
      let most = 0;
      for (const s of sessions.values()) if (s.open) most = Math.max(most, s.bufferedAmount);
      return most;
    },
    subscriptions() {
      const all = new Set<string>();
      for (const s of sessions.values()) if (s.authenticated) for (const c of s.channels) all.add(c);
      return [...all].sort();
    },
    restRequestsInFlight: () => restInFlight,
    subscribedAtOnce: () => census.perMinute(firstMinuteMs, minuteStart(clock.now())),
    subscriptionOverlaps: () => census.overlaps(performance.now()),
    waitFor,
    async waitForMinute(minuteMs, waitOpts = {}) {
      if (ledger.lastEmittedMinute() >= minuteMs) return;
      const timeoutMs = waitOpts.timeoutMs ?? clock.wallDelayUntil(ledger.dueAt(minuteMs)) + 10_000;
      await waitFor('minute', (e) => e.minuteMs >= minuteMs, { timeoutMs });
    },
    async close() {
      if (closed) return;
      closed = true;
      agenda.close();
      for (const fail of [...waiters]) fail(new Error('simulator closed while waiting'));
      for (const s of sessions.values()) {
        s.dispose();
        s.terminate();
      }
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      log.info({}, 'sim: closed');
    },
  };
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be >= 0, got ${value}`);
  return value;
}
