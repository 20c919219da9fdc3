/**
 * Simulated market time.
 *
 * The simulator replays the market faster than the wall clock so that tests can see many
 * minutes close in a few seconds. `msPerMinute` wall milliseconds make one market minute,
 * so market time runs `60000 / msPerMinute` times faster than the wall.
 *
 * The clock reads a monotonic wall source (performance.now by default), not Date.now, so a
 * system clock step cannot make market time jump or run backwards. The gateway may share
 * this very object in-process so its idea of "now" follows the simulator.
 */

import { speedClock } from '../clock/market-clock.ts';
import { MINUTE_MS } from '../contracts/time-format.ts';

export interface SimClock {
  /** Market instant at which the clock started (epoch ms). */
  readonly startMarketMs: number;
  /** Wall milliseconds per market minute (60000 = real time). */
  readonly msPerMinute: number;
  /** Market time over wall time, `60000 / msPerMinute`. */
  readonly speed: number;
  /** Current market instant, epoch ms (fractional). */
  now(): number;
  /** Wall milliseconds until the market reaches `marketMs`; 0 when it already has. */
  wallDelayUntil(marketMs: number): number;
  /** Wall milliseconds that `marketMs` of market time take (no rounding). */
  toWallMs(marketMs: number): number;
}

export interface SimClockOptions {
  /** Market instant at creation; default the current wall time. */
  startMarketMs?: number;
  /** Wall milliseconds per market minute; default 60000 (real time). */
  msPerMinute?: number;
  /**
   * Monotonic wall source in milliseconds; default `performance.now`. Injected by unit tests
   * to check the arithmetic without waiting.
   */
  wallNow?: () => number;
}

export function createSimClock(opts: SimClockOptions = {}): SimClock {
  const msPerMinute = opts.msPerMinute ?? MINUTE_MS;
  if (!Number.isFinite(msPerMinute) || msPerMinute <= 0) {
    throw new RangeError(`msPerMinute must be a positive number, got ${String(msPerMinute)}`);
  }
  const startMarketMs = opts.startMarketMs ?? Date.now();
  if (!Number.isFinite(startMarketMs)) {
    throw new RangeError(`startMarketMs must be a finite epoch ms, got ${String(startMarketMs)}`);
  }
  const clock = speedClock(startMarketMs, msPerMinute, opts.wallNow);
  return {
    ...clock,
    toWallMs(marketMs: number): number {
      return marketMs / clock.speed;
    },
  };
}
