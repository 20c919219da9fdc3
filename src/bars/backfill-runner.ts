import type { RestAggregate } from '../contracts/polygon-wire.ts';
import { MINUTE_MS } from '../contracts/time-format.ts';
import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';
import { backfillEvents, type BackfillEvent } from './backfill-events.ts';
import type { BarRouter, BackfillRange } from './bar-router.ts';
import type { Calendar } from './calendar.ts';
import { CORRECTION_WINDOW_MINUTES } from './corrections.ts';
import type { BarLedger } from './ledger.ts';
import { draftFromRest } from './normalize.ts';
import { firstUnsettledMinute, lastClosedMinute, planBackfill, restSettledThrough } from './watermark.ts';

/** REST minute aggregates, as the backfill reads them (the vendor's, or the simulator's). */
export interface AggregatesSource {
  /** Minute bars of `symbol` starting in [fromMs, toMs], ascending. Rejects when REST cannot answer. */
  fetch(symbol: string, fromMs: number, toMs: number): Promise<RestAggregate[]>;
}

/** The feed's clock, as the backfill needs it (see FeedClock). */
export interface BackfillFeedClock {
  /** The instant the feed has provably reached; null while that is unknown. */
  present(): number | null;
  /** The present, or where the feed is expected to be before any bar. */
  presentOrExpected(): number;
  /** Resolves true once the present reaches `feedMs`, false on abort or timeout (market ms). */
  until(feedMs: number, signal: AbortSignal, timeoutMarketMs: number): Promise<boolean>;
}

export interface BackfillRunnerOptions {
  router: BarRouter;
  ledger: BarLedger;
  calendar: Calendar;
  client: AggregatesSource;
  feed: BackfillFeedClock;
  /**
   * Longest wait (market ms) for the feed to pass a minute REST has not settled. Past it the
   * backfill releases what is proven, and the router asks again for what is not.
   */
  proofTimeoutMs: number;
  /** Resolves once the Kafka buffer has room for `bars` more records (so a replay cannot overflow it). */
  waitForRoom(bars: number, signal: AbortSignal): Promise<void>;
  /** How long after its end a minute's bar is surely in REST (FILL_GRACE_MS). */
  graceMs: number;
  maxBackfillMinutes: number;
  /** REST requests in flight at once (the vendor rate-limits per key). */
  concurrency: number;
  metrics?: GatewayMetrics;
  log: Logger;
}

/**
 * Closes the gaps a reconnect, a restart or a Kafka overflow left: for each symbol, asks
 * REST for the minutes after its settled watermark up to the last minute closed in feed
 * time (bounded by MAX_BACKFILL_MINUTES) and hands them to the router, which publishes them
 * ahead of the live bars it held meanwhile. Requests for a symbol already queued are merged.
 */
export class BackfillRunner {
  readonly #o: BackfillRunnerOptions;
  readonly #queued = new Set<string>();
  readonly #running = new Set<string>();
  #stopped = false;
  readonly #abort = new AbortController();
  readonly #workers = new Set<Promise<void>>();
  readonly #report: (event: BackfillEvent) => void;

  constructor(options: BackfillRunnerOptions) {
    this.#o = options;
    this.#report = backfillEvents(options.metrics, options.log);
  }

  /** Holds these symbols' live bars at once, and backfills them as soon as a slot is free. */
  request(symbols: readonly string[], reason: string): void {
    if (this.#stopped) return;
    this.#o.router.hold(symbols);
    for (const symbol of symbols) this.#queued.add(symbol);
    this.#report({ kind: 'requested', reason, symbols: symbols.length });
    this.#pump();
  }

  /** Resolves when no backfill is queued or running. */
  async settled(): Promise<void> {
    while (this.#workers.size > 0) await Promise.all(this.#workers);
  }

  stop(): void {
    this.#stopped = true;
    this.#queued.clear();
    this.#abort.abort();
  }

  #pump(): void {
    while (this.#workers.size < this.#o.concurrency && this.#queued.size > 0 && !this.#stopped) {
      const worker: Promise<void> = this.#worker().finally(() => this.#workers.delete(worker));
      this.#workers.add(worker);
    }
  }

  async #worker(): Promise<void> {
    for (;;) {
      // A symbol being backfilled is not picked again until it is done; a request that
      // came meanwhile runs after, from where the first one left the watermark.
      const symbol = this.#nextQueued();
      if (symbol === undefined || this.#stopped) return;
      this.#queued.delete(symbol);
      this.#running.add(symbol);
      try {
        await this.#backfill(symbol);
      } finally {
        this.#running.delete(symbol);
      }
    }
  }

  /**
   * The first queued symbol not being backfilled. Walks the set instead of copying it: at
   * subscription all 12,000 symbols of a full market are queued at once, and a copy per pick
   * made that quadratic. At most `concurrency` symbols run, so the walk stops early.
   */
  #nextQueued(): string | undefined {
    for (const symbol of this.#queued) if (!this.#running.has(symbol)) return symbol;
    return undefined;
  }

  async #backfill(symbol: string): Promise<void> {
    const { router, ledger, feed } = this.#o;
    const signal = this.#abort.signal;
    // Before any bar has shown how far the feed runs behind, where to look is only a guess.
    if (feed.present() === null) await feed.until(Number.NEGATIVE_INFINITY, signal, this.#o.proofTimeoutMs);
    const plan = planBackfill({
      watermark: router.settledThrough(symbol),
      newestBar: ledger.lastMinute(symbol),
      presentMs: feed.presentOrExpected(),
      maxBackfillMinutes: this.#o.maxBackfillMinutes,
      correctionWindowMinutes: CORRECTION_WINDOW_MINUTES,
    });
    if (plan.lost !== null) {
      this.#report({
        kind: 'gap_too_long',
        symbol,
        missedMinutes: (plan.lost.through - plan.lost.from) / MINUTE_MS + 1,
        maxBackfillMinutes: this.#o.maxBackfillMinutes,
      });
    }
    let through = plan.through;
    if (plan.from > through) {
      router.release(symbol, [], { from: plan.from, through, settledThrough: through });
      return;
    }
    try {
      const bars = new Map<number, RestAggregate>();
      let fetchFrom = plan.from;
      let settled = Number.NEGATIVE_INFINITY;
      for (;;) {
        // The present before asking: REST's answer holds at least what it had then.
        const askedAt = feed.present();
        for (const a of await this.#o.client.fetch(symbol, fetchFrom, through)) bars.set(a.t, a);
        settled = Math.max(settled, restSettledThrough(askedAt, this.#o.graceMs, newestKey(bars)));
        // The minutes the socket cannot vouch for (their bars were due before the session
        // watched) must be settled in REST before REST's silence may be read as "no trades".
        const watchedFrom = router.watchedFrom;
        const mustSettle = watchedFrom === null ? through : Math.min(through, watchedFrom - MINUTE_MS);
        const missing = firstUnsettledMinute(plan.from, mustSettle, settled, bars);
        if (missing === null || this.#stopped) break;
        // REST lags the socket: look again once the feed has surely passed that minute.
        if (!(await feed.until(missing + MINUTE_MS + this.#o.graceMs, signal, this.#o.proofTimeoutMs))) break;
        through = Math.max(through, lastClosedMinute(feed.presentOrExpected()));
        fetchFrom = missing;
      }
      const drafts = [...bars.values()].map((a) => draftFromRest(symbol, a, this.#o.calendar));
      await this.#o.waitForRoom(drafts.length, signal);
      const range: BackfillRange = { from: plan.from, through, settledThrough: Math.min(through, settled) };
      router.release(symbol, drafts, range);
      this.#report({ kind: 'backfilled', symbol, bars: drafts.length });
    } catch (error) {
      // Give up on this gap rather than hold live bars for ever: consumers need the present.
      this.#report({ kind: 'failed', symbol, error: error instanceof Error ? error.message : String(error), from: plan.from, through });
      router.release(symbol, [], null);
    }
  }
}

function newestKey(bars: ReadonlyMap<number, unknown>): number | null {
  let newest: number | null = null;
  for (const t of bars.keys()) if (newest === null || t > newest) newest = t;
  return newest;
}
