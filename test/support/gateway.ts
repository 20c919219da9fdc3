import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { loadConfig, secretValues } from '../../src/config/load-config.ts';
import { startGateway, type Gateway, type MarketClock } from '../../src/gateway/start-gateway.ts';
import { createLogger } from '../../src/ops/logger.ts';

export interface TestGateway {
  gateway: Gateway;
  /** Every log line the gateway wrote, as text (JSON lines). */
  logs: string[];
  stop(): Promise<void>;
}

/** A topic prefix no other test uses, so tests can share one broker. */
export function uniquePrefix(name: string): string {
  return `t-${name}-${randomUUID().slice(0, 8)}.`;
}

/**
 * Starts a gateway in this process with settings given as environment variables (the
 * same loader as production), logging into memory so tests can inspect every line.
 */
export async function startTestGateway(env: Record<string, string>, options: { clock?: MarketClock; random?: () => number } = {}): Promise<TestGateway> {
  const { config, secrets } = loadConfig({
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    LOG_LEVEL: 'debug',
    ...env,
  });
  const logs: string[] = [];
  const stream = new PassThrough();
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    logs.push(...lines.filter((l) => l !== ''));
  });
  // The production logger, redaction included: tests prove nothing leaks through it.
  const log = createLogger({ level: config.logLevel, secrets: secretValues(secrets), destination: stream });
  const gateway = await startGateway(config, secrets, { log, clock: options.clock, random: options.random });
  let stopped = false;
  return {
    gateway,
    logs,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await gateway.shutdown();
    },
  };
}

export { eventually } from '../../harness/poll.ts';
