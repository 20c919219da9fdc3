import type { GatewayConfig, GatewaySecrets } from '../config/config.ts';
import { followSimulatorClock, wallClock, type MarketClock } from '../clock/market-clock.ts';
import type { Logger } from '../ops/logger.ts';
import type { Simulator } from '../sim/index.ts';
import type { CleanupStack } from './cleanup-stack.ts';

/** Where the feed is, how to authenticate, and whose clock is market time. */
export interface FeedEndpoint {
  wsUrl: string;
  restUrl: string;
  apiKey: string;
  clock: MarketClock;
  /** The in-process simulator standing in for the vendor (no POLYGON_API_KEY), or null. */
  simulator: Simulator | null;
}

/**
 * The vendor, or the simulator standing in for it. The simulator is loaded only when it is
 * wanted, so a production gateway never loads its code. Market time is the wall clock, the
 * in-process simulator's clock, or (MARKET_CLOCK=simulator) an external simulator's.
 */
export async function openFeedEndpoint(
  config: GatewayConfig,
  secrets: GatewaySecrets,
  clock: MarketClock | undefined,
  log: Logger,
  cleanup: CleanupStack,
): Promise<FeedEndpoint> {
  if (config.simulated) {
    const { createSimClock, startSimulator } = await import('../sim/index.ts');
    // The gateway authenticates with a key only the in-process simulator knows.
    const apiKey = simulatorKey(config);
    const simClock = createSimClock({ startMarketMs: config.simStartMs ?? Date.now(), msPerMinute: config.replaySpeedMs });
    const simulator = await startSimulator({
      apiKey,
      clock: simClock,
      port: config.simPort,
      feedDelayMarketMs: config.simFeedDelayMs,
      log: (line: string) => log.debug({ component: 'sim' }, line),
    });
    cleanup.push('simulator', () => simulator.close());
    log.info({ wsUrl: simulator.wsUrl, restUrl: simulator.restUrl, msPerMinute: config.replaySpeedMs }, 'simulated feed started (no POLYGON_API_KEY)');
    return { wsUrl: simulator.wsUrl, restUrl: simulator.restUrl, apiKey, clock: clock ?? simClock, simulator };
  }
  const apiKey = secrets.polygonApiKey!;
  let marketClock = clock ?? wallClock;
  if (config.marketClock === 'simulator' && clock === undefined) {
    marketClock = await followSimulatorClock(config.polygonRestUrl, apiKey);
    log.info({ restUrl: config.polygonRestUrl }, 'market time follows the external simulator');
  }
  return { wsUrl: config.polygonWsUrl, restUrl: config.polygonRestUrl, apiKey, clock: marketClock, simulator: null };
}

/** The key of the in-process simulator: known to this run only, never a vendor key. */
export function simulatorKey(config: Pick<GatewayConfig, 'runId'>): string {
  return `sim-${config.runId}`;
}
