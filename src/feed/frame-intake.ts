import type { FeedClock } from '../clock/feed-clock.ts';
import type { MarketClock } from '../clock/market-clock.ts';
import { formatTsET, minuteStart } from '../contracts/time-format.ts';
import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';
import type { DisconnectReason } from './backoff.ts';
import { intakeEvents, type IntakeEvent } from './intake-events.ts';
import type { ParsedAggregate, ParsedFrame } from './parse-frame.ts';
import type { FeedState } from './session-events.ts';
import type { SessionListener } from './polygon-session.ts';
import { SocketWatch, type SessionProof } from './socket-watch.ts';

/** How far ahead of our clock a bar may start (clock skew between us and the vendor). */
export const FUTURE_BAR_TOLERANCE_MS = 2 * 60_000;

/** Where the market events go: the transform stage. */
export interface MarketEventSink {
  /** The current session delivers every minute from `firstMinute` on (null: it vouches for none). */
  watch(firstMinute: number | null): void;
  /** A new session is subscribed: whatever it missed must be caught up before its bars. */
  resubscribed(): void;
  /** A minute bar of a subscribed symbol, in arrival order. */
  live(event: ParsedAggregate, receivedAt: number): void;
}

export interface FrameIntakeOptions {
  symbols: readonly string[];
  /** Market time (the bar-from-the-future check and arrival times use it). */
  clock: MarketClock;
  /** Learns from every frame how far the feed runs behind. */
  feedClock: FeedClock;
  sink: MarketEventSink;
  metrics: GatewayMetrics;
  log: Logger;
}

/**
 * The source's last step: every frame the vendor session reads comes here. It counts the
 * frame's events, drops what is malformed, unsubscribed or dated in the future, lets the feed
 * clock and the session's proof learn from the frame's bars, and hands the bars on. A frame
 * it cannot handle costs that frame, never the session.
 */
export class FrameIntake implements SessionListener {
  readonly #o: FrameIntakeOptions;
  readonly #symbols: ReadonlySet<string>;
  readonly #report: (event: IntakeEvent) => void;
  readonly #watch = new SocketWatch();
  /** The frame's bars that passed the checks; reused from frame to frame. */
  readonly #accepted: ParsedAggregate[] = [];
  #lastBarArrivedAt: number | null = null;
  #subscribedSince: number | null = null;

  constructor(options: FrameIntakeOptions) {
    this.#o = options;
    this.#symbols = new Set(options.symbols);
    this.#report = intakeEvents(options.metrics, options.log);
  }

  /** Market time the last minute bar arrived, null before the first. */
  get lastBarArrivedAt(): number | null {
    return this.#lastBarArrivedAt;
  }

  /** Market time the current session subscribed, null while there is none. */
  get subscribedSince(): number | null {
    return this.#subscribedSince;
  }

  /** First minute the current session vouches for (see SocketWatch). */
  watchedFrom(): number | null {
    return this.#watch.watchedFrom(this.#o.feedClock.timing);
  }

  /** What the current session proved it delivered, for filling empty minutes. */
  proof(): SessionProof {
    return this.#watch.proof(this.#o.feedClock.timing, this.#o.feedClock.delayMs);
  }

  frame(frame: ParsedFrame, receivedAt: number): void {
    try {
      this.#take(frame, receivedAt);
    } catch (error) {
      // Whatever slipped past the parser costs that frame, never the process or the session.
      this.#report({ kind: 'internal_error', message: (error as Error).message });
    }
  }

  pong(sentAt: number): void {
    this.#watch.answered(sentAt);
  }

  stateChanged(state: FeedState, _reason: DisconnectReason | null): void {
    if (state === 'subscribed') {
      this.#subscribedSince = this.#o.clock.now();
      this.#watch.subscribed(this.#o.feedClock.expectedNow());
      // Before the first bar of this session is handled: whatever was missed comes first.
      this.#o.sink.watch(this.watchedFrom());
      this.#o.sink.resubscribed();
    } else if (state !== 'stopped') {
      this.#subscribedSince = null;
      this.#watch.ended();
      this.#o.sink.watch(null);
    }
  }

  #take(frame: ParsedFrame, receivedAt: number): void {
    for (const reject of frame.rejects) this.#report({ kind: 'rejected', reason: reject.reason, detail: reject.detail });
    let minutes = 0;
    let seconds = 0;
    let statuses = 0;
    let unknown = 0;
    let newestBarEnd = Number.NEGATIVE_INFINITY;
    const accepted = this.#accepted;
    accepted.length = 0;
    const now = this.#o.clock.now();
    try {
      for (const parsed of frame.events) {
        switch (parsed.kind) {
          case 'minute': {
            minutes += 1;
            this.#lastBarArrivedAt = now;
            const bar = parsed.event;
            if (!this.#symbols.has(bar.sym.toUpperCase())) {
              this.#report({ kind: 'unsubscribed_symbol' });
              break;
            }
            // A bar cannot start in the future; one that claims to would also fake the proof
            // that earlier minutes are complete (and so fill them early).
            if (minuteStart(bar.s) > now + FUTURE_BAR_TOLERANCE_MS) {
              this.#report({ kind: 'future_bar', symbol: bar.sym.toUpperCase(), tsET: formatTsET(bar.s) });
              break;
            }
            if (bar.e > newestBarEnd) newestBarEnd = bar.e;
            accepted.push(bar);
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
            this.#report({ kind: 'unknown_event', ev: parsed.ev });
            break;
        }
      }
      if (accepted.length > 0) {
        // The feed's clock and the session's proof learn from the frame before its bars are
        // passed on, so that the bars are judged by what they themselves show.
        const lagMs = this.#o.feedClock.observe(newestBarEnd);
        if (lagMs !== null) this.#report({ kind: 'lag', lagMs });
        for (const bar of accepted) this.#watch.sawBar(minuteStart(bar.s));
        this.#o.sink.watch(this.watchedFrom());
        for (const bar of accepted) this.#o.sink.live(bar, receivedAt);
      }
    } finally {
      this.#report({ kind: 'frame', minutes, seconds, statuses, unknown });
    }
  }
}
