import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FillMode, GatewayConfig, GatewaySecrets, LogLevel } from './config.ts';
import { SETTINGS, type SettingName } from './settings.ts';

/** Thrown when settings are invalid: one line per problem, each naming its setting. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

const DEFAULTS = new Map<string, string | null>(SETTINGS.map((s) => [s.name, s.default]));

/**
 * Reads and validates every setting. Collects all problems before failing so an operator
 * fixes a bad deployment in one round, and never echoes a secret's value.
 */
export function loadConfig(env: Env = process.env): { config: GatewayConfig; secrets: GatewaySecrets } {
  const problems: string[] = [];
  const raw = (name: SettingName): string | undefined => {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') return value.trim();
    return DEFAULTS.get(name) ?? undefined;
  };
  const fail = (name: SettingName, why: string): void => {
    problems.push(`${name}: ${why}`);
  };

  const integer = (name: SettingName, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const text = raw(name) ?? '';
    const value = Number(text);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) {
      fail(name, `must be a whole number, got "${text}"`);
      return min;
    }
    if (value < min || value > max) {
      fail(name, `must be between ${min} and ${max}, got ${value}`);
      return min;
    }
    return value;
  };
  const oneOf = <T extends string>(name: SettingName, allowed: readonly T[]): T => {
    const text = (raw(name) ?? '').toLowerCase();
    if ((allowed as readonly string[]).includes(text)) return text as T;
    fail(name, `must be one of ${allowed.join(', ')}, got "${raw(name)}"`);
    return allowed[0] as T;
  };
  const url = (name: SettingName, protocols: string[]): string => {
    const text = raw(name) ?? '';
    try {
      const parsed = new URL(text);
      if (!protocols.includes(parsed.protocol)) {
        fail(name, `must use ${protocols.map((p) => p.replace(':', '://')).join(' or ')}, got "${parsed.protocol}//"`);
      }
    } catch {
      fail(name, `is not a URL: "${text}"`);
    }
    return text.replace(/\/+$/, '');
  };

  // The key: from the variable, else from a file (Kubernetes secrets are mounted as files).
  let polygonApiKey: string | null = env.POLYGON_API_KEY?.trim() || null;
  const keyFile = raw('POLYGON_API_KEY_FILE');
  if (polygonApiKey === null && keyFile !== undefined) {
    try {
      polygonApiKey = readFileSync(keyFile, 'utf8').trim() || null;
      if (polygonApiKey === null) fail('POLYGON_API_KEY_FILE', `file ${keyFile} is empty`);
    } catch (error) {
      fail('POLYGON_API_KEY_FILE', `cannot read ${keyFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const simulated = polygonApiKey === null;

  const symbols = (raw('SYMBOLS') ?? '')
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== '');
  const badSymbols = symbols.filter((s) => !/^[A-Z0-9.\-]{1,12}$/.test(s));
  if (symbols.length === 0) fail('SYMBOLS', 'must list at least one ticker');
  if (badSymbols.length > 0) fail('SYMBOLS', `not tickers: ${badSymbols.join(', ')}`);
  const uniqueSymbols = [...new Set(symbols)];

  let kafkaBootstrapServers: string[] | null = null;
  const bootstrap = raw('KAFKA_BOOTSTRAP_SERVERS');
  if (bootstrap !== undefined) {
    kafkaBootstrapServers = bootstrap.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const bad = kafkaBootstrapServers.filter((s) => !/^[A-Za-z0-9.\-_\[\]:]+:\d{1,5}$/.test(s));
    if (kafkaBootstrapServers.length === 0 || bad.length > 0) {
      fail('KAFKA_BOOTSTRAP_SERVERS', `must be host:port[,host:port...], got "${bootstrap}"`);
    }
  }

  const topicPrefix = raw('TOPIC_PREFIX') ?? '';
  if (!/^[A-Za-z0-9._\-]*$/.test(topicPrefix)) fail('TOPIC_PREFIX', `may hold only letters, digits, '.', '_' and '-', got "${topicPrefix}"`);

  const provision = (raw('PROVISION_TOPICS') ?? '').toLowerCase();
  if (!['true', 'false'].includes(provision)) fail('PROVISION_TOPICS', `must be true or false, got "${provision}"`);

  let env_: 'LIVE' | 'MOCK' = simulated ? 'MOCK' : 'LIVE';
  const envText = raw('ENV');
  if (envText !== undefined) {
    if (envText === 'LIVE' || envText === 'MOCK') env_ = envText;
    else fail('ENV', `must be LIVE or MOCK, got "${envText}"`);
  }

  let simStartMs: number | null = null;
  const simStart = raw('SIM_START');
  if (simStart !== undefined) {
    simStartMs = Date.parse(simStart);
    if (!Number.isFinite(simStartMs)) {
      fail('SIM_START', `must be an ISO 8601 instant such as 2026-03-09T13:30:00Z, got "${simStart}"`);
      simStartMs = null;
    }
  }

  const config: GatewayConfig = {
    polygonWsUrl: url('POLYGON_WS_URL', ['ws:', 'wss:']),
    polygonRestUrl: url('POLYGON_REST_URL', ['http:', 'https:']),
    symbols: uniqueSymbols,
    kafkaBootstrapServers,
    kafkaClientId: raw('KAFKA_CLIENT_ID') ?? 'sentio-gateway',
    embeddedKafkaPort: integer('EMBEDDED_KAFKA_PORT', 0, 65535),
    topicPrefix,
    provisionTopics: provision === 'true',
    topicPartitions: integer('TOPIC_PARTITIONS', 1, 10_000),
    topicReplicationFactor: integer('TOPIC_REPLICATION_FACTOR', -1, 100),
    tradesRetentionDays: integer('TRADES_RETENTION_DAYS', 7, 30),
    runId: raw('RUN_ID') ?? randomUUID(),
    strategy: raw('STRATEGY') ?? 'SIGOR',
    env: env_,
    simulated,
    httpHost: raw('HTTP_HOST') ?? '0.0.0.0',
    httpPort: integer('HTTP_PORT', 0, 65535),
    heartbeatIntervalMs: integer('HEARTBEAT_INTERVAL_MS', 100),
    fillEmptyMinutes: oneOf<FillMode>('FILL_EMPTY_MINUTES', ['regular', 'off', 'all']),
    fillGraceMs: integer('FILL_GRACE_MS', 0),
    pingIntervalMs: integer('PING_INTERVAL_MS', 50),
    stallTimeoutMs: integer('STALL_TIMEOUT_MS', 100),
    reconnectMinMs: integer('RECONNECT_MIN_MS', 10),
    reconnectMaxMs: integer('RECONNECT_MAX_MS', 10),
    authRetryMs: integer('AUTH_RETRY_MS', 100),
    maxConnectionsRetryMs: integer('MAX_CONNECTIONS_RETRY_MS', 100),
    feedStaleMs: integer('FEED_STALE_MS', 1000),
    maxBufferedBars: integer('MAX_BUFFERED_BARS', 1),
    maxBackfillMinutes: integer('MAX_BACKFILL_MINUTES', 0, 24 * 60),
    shutdownTimeoutMs: integer('SHUTDOWN_TIMEOUT_MS', 100),
    marketClock: oneOf<'wall' | 'simulator'>('MARKET_CLOCK', ['wall', 'simulator']),
    replaySpeedMs: integer('REPLAY_SPEED_MS', 10),
    simStartMs,
    simPort: integer('SIM_PORT', 0, 65535),
    logLevel: oneOf<LogLevel>('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  };
  if (config.reconnectMaxMs < config.reconnectMinMs) {
    fail('RECONNECT_MAX_MS', `must be at least RECONNECT_MIN_MS (${config.reconnectMinMs})`);
  }
  if (config.maxBufferedBars < config.maxBackfillMinutes + 15) {
    // One symbol's backfill must fit in the buffer, or replaying an overflow would overflow again.
    fail('MAX_BUFFERED_BARS', `must hold one symbol's backfill: MAX_BACKFILL_MINUTES + 15 = ${config.maxBackfillMinutes + 15}, got ${config.maxBufferedBars}`);
  }
  if (config.stallTimeoutMs <= config.pingIntervalMs) {
    fail('STALL_TIMEOUT_MS', `must be longer than PING_INTERVAL_MS (${config.pingIntervalMs}) or every ping would look like a stall`);
  }
  if (!simulated && keyLooksLikePlaceholder(polygonApiKey)) {
    fail('POLYGON_API_KEY', 'looks like a placeholder (it contains whitespace or is shorter than 8 characters)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, secrets: { polygonApiKey } };
}

function keyLooksLikePlaceholder(key: string | null): boolean {
  return key !== null && (key.length < 8 || /\s/.test(key));
}
