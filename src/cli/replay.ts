import type { GatewayConfig, GatewaySecrets } from '../config/config.ts';
import { replayDay } from '../gateway/start-replay.ts';
import type { Logger } from '../ops/logger.ts';
import { ReplayInputError } from '../replay/engine-files.ts';
import { ReplayDateError } from '../replay/rest-day.ts';

/**
 * `sentio-gateway replay`: publishes a recorded day, then exits 0 after its `stopped`
 * heartbeat; SIGTERM or SIGINT mid-day flushes and exits 0 the same way. A file or a date it
 * cannot use exits 2 with one line saying which and where, before anything is published.
 */
export async function replayCommand(config: GatewayConfig, secrets: GatewaySecrets, log: Logger): Promise<number> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await replayDay(config, secrets, { log, signal: stop.signal });
    return 0;
  } catch (error) {
    if (error instanceof ReplayInputError || error instanceof ReplayDateError) {
      process.stderr.write(`sentio-gateway: ${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
