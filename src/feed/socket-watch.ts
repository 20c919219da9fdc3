import type { FeedTiming } from '../clock/feed-clock.ts';
import { MINUTE_MS } from '../contracts/time-format.ts';

/**
 * The first minute whose bars are all sent after a subscription made at `subscribedAtFeedMs`
 * (feed time): a minute's bars go out after it ends, so the one in progress is the first.
 */
export function firstWatchedMinute(subscribedAtFeedMs: number): number {
  return Math.ceil((subscribedAtFeedMs - MINUTE_MS) / MINUTE_MS) * MINUTE_MS;
}

/** What the current socket session has shown it delivered, in feed time. */
export interface SessionProof {
  /** Start of the newest minute any bar arrived for. */
  latestBarMinute: number | null;
  /** Feed time at which the newest answered ping was sent; null when pongs prove nothing. */
  pingAnsweredAt: number | null;
}

/**
 * One subscription's account of what it can vouch for. The vendor sends minutes in order,
 * so a bar of a later minute, or a pong (TCP keeps order), proves that every minute the
 * session watched before it was delivered whole. Which minutes it watched depends on whether
 * the feed's clock can be trusted: on time, every minute that ended after the subscription;
 * otherwise only those from the second minute it saw bars of on (the first may be a bar the
 * vendor held back and sent late, or only the tail of a minute's bars; the vendor sends a
 * minute's bars together, so the next minute it starts is whole).
 */
export class SocketWatch {
  #subscribedAt: number | null = null;
  #firstMinute: number | null = null;
  #secondMinute: number | null = null;
  #latestBarMinute: number | null = null;
  /** Market time (as the ping carried it) of the newest answered ping. */
  #pingAnsweredAt: number | null = null;

  /** The socket subscribed when the feed was expected at `expectedFeedMs`. */
  subscribed(expectedFeedMs: number): void {
    this.#subscribedAt = expectedFeedMs;
    this.#firstMinute = null;
    this.#secondMinute = null;
    this.#latestBarMinute = null;
    this.#pingAnsweredAt = null;
  }

  ended(): void {
    this.#subscribedAt = null;
  }

  /** A bar of the minute starting at `minuteMs` arrived on this session. */
  sawBar(minuteMs: number): void {
    if (this.#subscribedAt === null) return;
    if (this.#firstMinute === null) this.#firstMinute = minuteMs;
    else if (this.#secondMinute === null && minuteMs > this.#firstMinute) this.#secondMinute = minuteMs;
    if (this.#latestBarMinute === null || minuteMs > this.#latestBarMinute) this.#latestBarMinute = minuteMs;
  }

  /** The server answered a ping stamped with market time `sentAtMs`. */
  answered(sentAtMs: number): void {
    if (this.#subscribedAt === null) return;
    if (this.#pingAnsweredAt === null || sentAtMs > this.#pingAnsweredAt) this.#pingAnsweredAt = sentAtMs;
  }

  /** First minute this session is sure to deliver, or null while it cannot vouch for any. */
  watchedFrom(timing: FeedTiming): number | null {
    if (this.#subscribedAt === null) return null;
    return timing === 'on_time' ? firstWatchedMinute(this.#subscribedAt) : this.#secondMinute;
  }

  /**
   * The proof for filling minutes. A pong says when the server was current only if the
   * feed's clock is known: while the feed is late or its lag unknown, only bars prove.
   */
  proof(timing: FeedTiming, delayMs: number): SessionProof {
    const pong = timing === 'on_time' && this.#pingAnsweredAt !== null ? this.#pingAnsweredAt - delayMs : null;
    return { latestBarMinute: this.#latestBarMinute, pingAnsweredAt: pong };
  }
}
