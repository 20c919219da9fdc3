/**
 * The simulator's own REST endpoint (not Polygon's): `{ marketMs, msPerMinute }`, so a
 * gateway in another process can follow the simulated market clock (MARKET_CLOCK=simulator).
 */
export const SIM_CLOCK_PATH = '/v1/sim/clock';

export interface SimClockReading {
  /** The simulator's market instant when it answered, epoch ms. */
  marketMs: number;
  /** Wall milliseconds per market minute. */
  msPerMinute: number;
}
