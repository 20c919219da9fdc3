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
