import type { BarRouter, BackfillRange } from './bars/bar-router.ts';
import type { BarLedger } from './bars/ledger.ts';
import { draftFromRest } from './bars/normalize.ts';
import type { Calendar } from './bars/calendar.ts';
import { MINUTE_MS, minuteStart } from './contracts/time-format.ts';
import type { MinuteAggregatesClient } from './feed/rest-aggregates.ts';
import type { Logger } from './ops/logger.ts';

/**
 * The vendor re-sends a bar when late trades change it, for up to about 15 minutes. A
 * backfill re-reads that many recent minutes even when they were published, so a correction
 * sent while the socket was down still reaches consumers (as the next revision).
 */
export const CORRECTION_WINDOW_MINUTES = 15;

export interface BackfillRunnerOptions {
  router: BarRouter;
  ledger: BarLedger;
  calendar: Calendar;
  client: MinuteAggregatesClient;
  /** Market time now. */
  now(): number;
  /** Resolves once market time reaches `marketMs` (or the runner is stopped). */
  sleepUntil(marketMs: number, signal: AbortSignal): Promise<void>;
  /** Resolves once the Kafka buffer has room for `bars` more records (so a replay cannot overflow it). */
  waitForRoom(bars: number, signal: AbortSignal): Promise<void>;
  /** How long after its end a minute's bar is surely in REST (FILL_GRACE_MS). */
  graceMs: number;
  maxBackfillMinutes: number;
  /** REST requests in flight at once (the vendor rate-limits per key). */
  concurrency: number;
  log: Logger;
  onBackfilled?(symbol: string, bars: number, range: BackfillRange): void;
  onFailed?(symbol: string, error: Error): void;
}

/**
 * Closes the gaps a reconnect, a restart or a Kafka overflow left: for each symbol, asks
 * REST for the minutes between its last record and the last closed minute (bounded by
 * MAX_BACKFILL_MINUTES) and hands them to the router, which publishes them ahead of the
 * live bars it held meanwhile. Requests for a symbol already queued are merged.
 */
export class BackfillRunner {
  readonly #o: BackfillRunnerOptions;
  readonly #queued = new Set<string>();
  readonly #running = new Set<string>();
  #stopped = false;
  readonly #abort = new AbortController();
  readonly #workers = new Set<Promise<void>>();

  constructor(options: BackfillRunnerOptions) {
    this.#o = options;
  }

  /** Holds these symbols' live bars at once, and backfills them as soon as a slot is free. */
  request(symbols: readonly string[], reason: string): void {
    if (this.#stopped) return;
    this.#o.router.hold(symbols);
    for (const symbol of symbols) this.#queued.add(symbol);
    this.#o.log.info({ reason, symbols: symbols.length }, 'backfill requested');
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
      // came meanwhile runs after, from where the first one left the ledger.
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

  /** Last minute whose bar REST surely had at `marketMs`. */
  #settledThrough(marketMs: number): number {
    return Math.floor((marketMs - this.#o.graceMs) / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
  }

  async #backfill(symbol: string): Promise<void> {
    const now = this.#o.now();
    const through = minuteStart(now) - MINUTE_MS;
    const floor = minuteStart(now) - this.#o.maxBackfillMinutes * MINUTE_MS;
    const last = this.#o.ledger.lastMinute(symbol);
    const wanted = last === null ? floor : last + MINUTE_MS;
    // Also look again at the minutes the vendor may still have corrected while we were away.
    const from = Math.max(Math.min(wanted, through - (CORRECTION_WINDOW_MINUTES - 1) * MINUTE_MS), floor);
    if (last !== null && wanted < floor) {
      this.#o.log.error({ symbol, missedMinutes: (floor - wanted) / MINUTE_MS, maxBackfillMinutes: this.#o.maxBackfillMinutes }, 'gap longer than MAX_BACKFILL_MINUTES: the oldest minutes stay missing');
    }
    if (from > through) {
      this.#o.router.release(symbol, [], null);
      return;
    }
    try {
      // The minutes the socket cannot vouch for (their bars were due before we subscribed)
      // must be settled in REST before REST's silence may be read as "no trades".
      const watchedFrom = this.#o.router.watchedFrom;
      const mustSettle = watchedFrom === null ? through : Math.min(through, watchedFrom - MINUTE_MS);
      let fetchedAt = this.#o.now();
      const bars = new Map((await this.#o.client.fetch(symbol, from, through)).map((a) => [a.t, a]));
      while (!this.#stopped) {
        const settled = this.#settledThrough(fetchedAt);
        let missing: number | null = null;
        for (let m = Math.max(from, settled + MINUTE_MS); m <= mustSettle; m += MINUTE_MS) {
          if (!bars.has(m)) {
            missing = m;
            break;
          }
        }
        if (missing === null) break;
        // REST may lag the socket by a few seconds: look again once those minutes settle.
        await this.#o.sleepUntil(mustSettle + MINUTE_MS + this.#o.graceMs, this.#abort.signal);
        fetchedAt = this.#o.now();
        for (const a of await this.#o.client.fetch(symbol, missing, through)) bars.set(a.t, a);
      }
      const drafts = [...bars.values()].map((a) => draftFromRest(symbol, a, this.#o.calendar));
      await this.#o.waitForRoom(drafts.length, this.#abort.signal);
      const range = { from, through, settledThrough: Math.min(through, this.#settledThrough(fetchedAt)) };
      this.#o.router.release(symbol, drafts, range);
      this.#o.onBackfilled?.(symbol, drafts.length, range);
    } catch (error) {
      // Give up on this gap rather than hold live bars for ever: consumers need the present.
      const failure = error instanceof Error ? error : new Error(String(error));
      this.#o.log.error({ symbol, error: failure.message, from: new Date(from).toISOString(), through: new Date(through).toISOString() }, 'backfill failed: these minutes stay missing');
      this.#o.onFailed?.(symbol, failure);
      this.#o.router.release(symbol, [], null);
    }
  }
}
