import { SIM_CLOCK_PATH, type SimClockReading } from '../contracts/sim-clock.ts';
import { MINUTE_MS } from '../contracts/time-format.ts';

/**
 * Market time: the wall clock live, the simulator's clock in MOCK mode (it runs faster than
 * the wall). Everything that waits for a market instant asks the clock how long that is in
 * wall time, so a timer can be armed instead of polling.
 */
export interface MarketClock {
  now(): number;
  /** Wall ms until market time reaches `marketMs` (0 once it has). Absent: market time runs at wall speed. */
  wallDelayUntil?(marketMs: number): number;
}

export const wallClock: MarketClock = { now: () => Date.now() };

/** Wall milliseconds until `clock` reads `marketMs`; 0 when it already does. */
export function wallMsUntil(clock: MarketClock, marketMs: number): number {
  if (clock.wallDelayUntil !== undefined) return clock.wallDelayUntil(marketMs);
  return Math.max(0, Math.ceil(marketMs - clock.now()));
}

/** A market clock that runs `MINUTE_MS / msPerMinute` times faster than the wall, from a start. */
export interface SpeedClock extends Required<MarketClock> {
  readonly startMarketMs: number;
  readonly msPerMinute: number;
  /** Market time over wall time. */
  readonly speed: number;
}

/**
 * Market time from `startMarketMs` on, at `msPerMinute` wall ms per market minute. It reads
 * a monotonic wall source (performance.now by default), not Date.now, so a system clock
 * step cannot make market time jump or run backwards.
 */
export function speedClock(startMarketMs: number, msPerMinute: number, wallNow: () => number = () => performance.now()): SpeedClock {
  const wall0 = wallNow();
  const speed = MINUTE_MS / msPerMinute;
  const now = (): number => startMarketMs + (wallNow() - wall0) * speed;
  return {
    startMarketMs,
    msPerMinute,
    speed,
    now,
    wallDelayUntil(marketMs: number): number {
      const ahead = marketMs - now();
      // Round up so that a timer armed with this delay finds the instant reached.
      return ahead <= 0 ? 0 : Math.ceil(ahead / speed);
    },
  };
}

/** Reads an external simulator's clock once and runs a local copy of it (same instant, same speed). */
export async function followSimulatorClock(restUrl: string, apiKey: string): Promise<MarketClock> {
  const response = await fetch(`${restUrl}${SIM_CLOCK_PATH}`, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!response.ok) throw new Error(`MARKET_CLOCK=simulator: ${restUrl}${SIM_CLOCK_PATH} answered HTTP ${response.status}`);
  const { marketMs, msPerMinute } = (await response.json()) as SimClockReading;
  return speedClock(marketMs, msPerMinute);
}
