import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Calendar } from '../bars/calendar.ts';
import type { GatewayConfig, GatewaySecrets } from '../config/config.ts';
import { createMinuteAggregatesClient } from '../feed/rest-aggregates.ts';
import type { Logger } from '../ops/logger.ts';
import type { DayInput } from '../replay/day-plan.ts';
import { parseResults, parseTradesJsonl, ReplayInputError } from '../replay/engine-files.ts';
import { restDay } from '../replay/rest-day.ts';
import type { CleanupStack } from './cleanup-stack.ts';
import { simulatorKey } from './feed-endpoint.ts';

/** What `npm run replay` plays when nothing is set: a day of the engine's output, in its formats. */
export const SAMPLE_RESULTS_PATH = fileURLToPath(new URL('../../config/replay/results.json', import.meta.url));

export interface ReplayInputs {
  day: DayInput;
  /** Where the day came from, for the log and for naming a problem. */
  source: { kind: 'files'; results: string; trades: string | null } | { kind: 'rest'; date: string; restUrl: string };
}

/**
 * The day to replay: the engine's results.json and trades.jsonl (when there is no
 * trades.jsonl, the trades of results.json), or with REPLAY_DATE the day's REST aggregates
 * (the vendor's with a key, the built-in simulator's, started for the purpose, without).
 */
export async function loadReplayInputs(
  config: GatewayConfig,
  secrets: GatewaySecrets,
  calendar: Calendar,
  log: Logger,
  cleanup: CleanupStack,
): Promise<ReplayInputs> {
  const { date } = config.replay;
  if (date !== null) {
    const rest = await restEndpoint(config, secrets, log, cleanup);
    const client = createMinuteAggregatesClient({ restUrl: rest.restUrl, apiKey: rest.apiKey, log });
    const bars = await restDay(date, config.symbols, client, calendar);
    return { day: { bars, trades: null, initialCapital: 1 }, source: { kind: 'rest', date, restUrl: rest.restUrl } };
  }
  const results = config.replay.resultsPath ?? SAMPLE_RESULTS_PATH;
  const parsed = parseResults(readInput('RESULTS_PATH', results), results);
  const trades = config.replay.tradesPath ?? join(dirname(results), 'trades.jsonl');
  if (existsSync(trades))
    return {
      day: { bars: parsed.bars, trades: parseTradesJsonl(readInput('TRADES_PATH', trades), trades), initialCapital: parsed.initialCapital },
      source: { kind: 'files', results, trades },
    };
  if (config.replay.tradesPath !== null) log.warn({ tradesPath: trades }, 'TRADES_PATH does not exist: replaying the trades of results.json');
  return { day: { bars: parsed.bars, trades: parsed.trades, initialCapital: parsed.initialCapital }, source: { kind: 'files', results, trades: null } };
}

function readInput(setting: 'RESULTS_PATH' | 'TRADES_PATH', path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ReplayInputError(setting, path, null, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

async function restEndpoint(config: GatewayConfig, secrets: GatewaySecrets, log: Logger, cleanup: CleanupStack): Promise<{ restUrl: string; apiKey: string }> {
  if (secrets.polygonApiKey !== null) return { restUrl: config.polygonRestUrl, apiKey: secrets.polygonApiKey };
  // No key: the simulator's bars, over the same REST the vendor serves.
  const { startSimulator } = await import('../sim/index.ts');
  const apiKey = simulatorKey(config);
  const simulator = await startSimulator({ apiKey, log: (line: string) => log.debug({ component: 'sim' }, line) });
  cleanup.push('simulator', () => simulator.close());
  return { restUrl: simulator.restUrl, apiKey };
}
