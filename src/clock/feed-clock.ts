import { type MarketClock, wallMsUntil } from './market-clock.ts';

/**
 * Whether the feed's bars arrive as the delay setting says.
 * - `unknown`: no bar seen yet, so nothing says how far the feed runs behind;
 * - `on_time`: the newest bars trail the clock by the configured delay, give or take the grace;
 * - `lagging`: they trail it by more (or less): the delay setting is wrong, the feed is a
 *   replay, or the host's clock is off. Time proves nothing about the feed then.
 */
export type FeedTiming = 'unknown' | 'on_time' | 'lagging';

export function feedTiming(lagMs: number | null, delayMs: number, graceMs: number): FeedTiming {
  if (lagMs === null) return 'unknown';
  return Math.abs(lagMs - delayMs) <= graceMs ? 'on_time' : 'lagging';
}

export interface FeedClockOptions {
  clock: MarketClock;
  /** How far the feed is expected to run behind market time (POLYGON_FEED_DELAY_MS). */
  delayMs: number;
  /** How far the bars may stray from that before time stops counting as proof (FILL_GRACE_MS). */
  graceMs: number;
}

/**
 * The feed's own clock. What the gateway expects of the feed (when a minute may be filled,
 * how long REST needs to settle, which session the feed is in) runs on the feed's present,
 * not on ours: the market clock minus the delay while bars arrive on time, and no later
 * than the newest bar seen while they do not.
 */
export class FeedClock {
  readonly delayMs: number;
  readonly graceMs: number;
  readonly #clock: MarketClock;
  /** End of the newest bar seen: the feed has provably got this far. */
  #front: number | null = null;
  #lagMs: number | null = null;
  readonly #waiters = new Set<() => void>();

  constructor(options: FeedClockOptions) {
    this.#clock = options.clock;
    this.delayMs = options.delayMs;
    this.graceMs = options.graceMs;
  }

  /** Where a feed running `delayMs` behind is now. */
  expectedNow(): number {
    return this.#clock.now() - this.delayMs;
  }

  /** How far the newest bar trailed the market clock when it arrived; null before the first. */
  get lagMs(): number | null {
    return this.#lagMs;
  }

  get timing(): FeedTiming {
    return feedTiming(this.#lagMs, this.delayMs, this.graceMs);
  }

  /**
   * The latest instant the feed has provably reached: the expected one while on time, the
   * newest bar's end while lagging, null while unknown. Proofs by time use only this.
   */
  present(): number | null {
    switch (this.timing) {
      case 'on_time':
        return this.expectedNow();
      case 'lagging':
        return this.#front;
      case 'unknown':
        return null;
    }
  }

  /** The present, or the expected instant before any bar: where to look, never proof. */
  presentOrExpected(): number {
    return this.present() ?? this.expectedNow();
  }

  /**
   * A frame brought bars ending at most at `barEndMs`. Returns the lag it measured when it
   * moved the front; a re-sent or held-back bar of an older minute measures nothing.
   */
  observe(barEndMs: number): number | null {
    if (this.#front !== null && barEndMs <= this.#front) return null;
    this.#front = barEndMs;
    this.#lagMs = this.#clock.now() - barEndMs;
    for (const check of [...this.#waiters]) check();
    return this.#lagMs;
  }

  /**
   * Resolves true once `present()` reaches `feedMs`: by the market clock while the feed is on
   * time, by its bars while it lags (pass -Infinity to wait until the timing is known). False
   * when `signal` aborts or `timeoutMarketMs` of market time pass first.
   */
  until(feedMs: number, signal: AbortSignal, timeoutMarketMs: number): Promise<boolean> {
    if (this.#reached(feedMs)) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (reached: boolean): void => {
        clearTimeout(timer);
        clearTimeout(deadline);
        this.#waiters.delete(check);
        signal.removeEventListener('abort', abort);
        resolve(reached);
      };
      const abort = (): void => finish(false);
      const check = (): void => {
        if (this.#reached(feedMs)) return finish(true);
        clearTimeout(timer);
        // On time, the feed keeps pace with the market clock: wake when it should be there.
        // Otherwise only a bar (observe) moves the present.
        if (this.timing === 'on_time') timer = setTimeout(check, Math.max(1, wallMsUntil(this.#clock, feedMs + this.delayMs)));
      };
      const deadline = setTimeout(abort, Math.max(1, wallMsUntil(this.#clock, this.#clock.now() + timeoutMarketMs)));
      signal.addEventListener('abort', abort, { once: true });
      this.#waiters.add(check);
      check();
    });
  }

  #reached(feedMs: number): boolean {
    const present = this.present();
    return present !== null && present >= feedMs;
  }
}
