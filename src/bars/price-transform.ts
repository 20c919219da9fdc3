import type { FillMode } from '../config/config.ts';
import type { PriceEvent } from '../contracts/price-event.ts';
import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';
import { BackfillRunner, type AggregatesSource, type BackfillFeedClock } from './backfill-runner.ts';
import { BarRouter, type SocketProof } from './bar-router.ts';
import type { Calendar } from './calendar.ts';
import { BarLedger } from './ledger.ts';
import { normalizeAggregate, type AggregateInput } from './normalize.ts';
import { routerEvents } from './router-events.ts';

/**
 * What one held live bar costs in memory (its draft, the object holding it, the array slot),
 * measured by the benchmark's overload steps; MAX_BUFFERED_BYTES / this bounds the bars held.
 */
export const HELD_BAR_BYTES = 400;

/**
 * Most live bars held over all symbols: MAX_BUFFERED_BARS, and no more than half of
 * MAX_BUFFERED_BYTES of them. An overload fills the sink's buffer and holds bars at the same
 * time, so together they stay within 1.5 x MAX_BUFFERED_BYTES.
 */
export function heldBarsBound(maxBufferedBars: number, maxBufferedBytes: number): number {
  return Math.max(1, Math.min(maxBufferedBars, Math.floor(maxBufferedBytes / 2 / HELD_BAR_BYTES)));
}

export interface PriceTransformOptions {
  symbols: readonly string[];
  calendar: Calendar;
  fillMode: FillMode;
  graceMs: number;
  /** Live bars held per symbol while it backfills (MAX_BUFFERED_BARS). */
  maxHeldPerSymbol: number;
  /** Live bars held over all symbols (from MAX_BUFFERED_BARS and MAX_BUFFERED_BYTES: see heldBarsBound). */
  maxHeldTotal: number;
  maxBackfillMinutes: number;
  /** The price records consumers must get, in this order: the sink. */
  publish: (event: PriceEvent, receivedAt: number | null) => void;
  /** REST minute aggregates, for backfill. */
  aggregates: AggregatesSource;
  feed: BackfillFeedClock;
  /** Longest wait (market ms) for the feed to prove a minute (FEED_STALE_MS). */
  proofTimeoutMs: number;
  /** Resolves once the sink has room for that many more records. */
  waitForRoom: (records: number, signal: AbortSignal) => Promise<void>;
  metrics: GatewayMetrics;
  log: Logger;
}

/** What filling empty minutes reads of the feed side. */
export interface FillInputs {
  /** The feed's present (null while unknown). */
  present(): number | null;
  /** What the current socket session proved it delivered. */
  proof(): SocketProof;
}

/**
 * The transform stage: vendor aggregates become price events. Live bars are normalised and
 * routed through the ledger; gaps are closed from REST by the backfill runner; empty minutes
 * are filled on a timer once proven. It receives the intake's market events and hands each
 * price record to `publish` in the order consumers must see them.
 */
export class PriceTransform {
  readonly #o: PriceTransformOptions;
  readonly #router: BarRouter;
  readonly #backfill: BackfillRunner;
  #fillTimer: NodeJS.Timeout | undefined;

  constructor(options: PriceTransformOptions) {
    this.#o = options;
    const ledger = new BarLedger();
    this.#router = new BarRouter({
      symbols: options.symbols,
      ledger,
      calendar: options.calendar,
      fillMode: options.fillMode,
      maxHeldPerSymbol: options.maxHeldPerSymbol,
      maxHeldTotal: options.maxHeldTotal,
      publish: options.publish,
      report: routerEvents(options.metrics, options.log),
      onUnproven: (symbol) => this.#backfill.request([symbol], 'unproven_gap'),
    });
    this.#backfill = new BackfillRunner({
      router: this.#router,
      ledger,
      calendar: options.calendar,
      client: options.aggregates,
      feed: options.feed,
      proofTimeoutMs: options.proofTimeoutMs,
      waitForRoom: options.waitForRoom,
      graceMs: options.graceMs,
      maxBackfillMinutes: options.maxBackfillMinutes,
      concurrency: 2,
      metrics: options.metrics,
      log: options.log.child({ component: 'backfill' }),
    });
  }

  // --- from the source ---------------------------------------------------------------------

  watch(firstMinute: number | null): void {
    this.#router.watch(firstMinute);
  }

  /** After every (re)subscription each symbol's live bars wait while REST closes the gap. */
  resubscribed(): void {
    this.#backfill.request(this.#o.symbols, 'subscribed');
  }

  live(event: AggregateInput, receivedAt: number): void {
    this.#router.acceptLive(normalizeAggregate(event, this.#o.calendar), receivedAt);
    this.#reportHeld();
  }

  #reportedHeld = 0;

  /** Sets `sentio_gateway_held_bars` when it changed; live bars arrive every minute, so it never stays stale for long. */
  #reportHeld(): void {
    const held = this.#router.heldBars;
    if (held !== this.#reportedHeld) this.#o.metrics.heldBars.set((this.#reportedHeld = held));
  }

  // --- from the sink -----------------------------------------------------------------------

  /** A record consumers already have (the topic's tail at start). */
  restore(event: PriceEvent): void {
    this.#router.restore(event);
  }

  /** A record that never reached Kafka: it is as if it had never been published. */
  forget(symbol: string, minuteMs: number, revision: number): void {
    this.#router.forget(symbol, minuteMs, revision);
  }

  /** Holds these symbols' live bars until `replay` has brought their missing minutes back. */
  hold(symbols: readonly string[]): void {
    this.#router.hold(symbols);
  }

  replay(symbols: readonly string[], reason: string): void {
    this.#backfill.request(symbols, reason);
  }

  // --- running -----------------------------------------------------------------------------

  /** Checks for empty minutes to fill every `everyMs` wall ms, until `stop`. */
  startFilling(everyMs: number, inputs: FillInputs): void {
    clearInterval(this.#fillTimer);
    this.#fillTimer = setInterval(() => this.#router.fillDue(inputs.present(), this.#o.graceMs, inputs.proof()), everyMs);
  }

  stopFilling(): void {
    clearInterval(this.#fillTimer);
  }

  /** Resolves when no backfill is queued or running (the bars it holds have gone out). */
  settled(): Promise<void> {
    return this.#backfill.settled();
  }

  stop(): void {
    clearInterval(this.#fillTimer);
    this.#backfill.stop();
  }
}
