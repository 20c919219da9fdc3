import { createPrivateKey, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FillMode, GatewayConfig, GatewaySecrets, KafkaSaslConfig, KafkaSaslMechanism, KafkaTlsConfig, LogLevel } from './config.ts';
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
  /** A whole number of at least `min`, where `why` says what the bound is for. */
  const atLeast = (name: SettingName, min: number, why: string): number => {
    const before = problems.length;
    const value = integer(name, Number.MIN_SAFE_INTEGER);
    if (problems.length > before) return min;
    if (value < min) {
      fail(name, `must be at least ${min} (${why}), got ${value}`);
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
  const badSymbols = symbols.filter((s) => !/^[A-Z0-9.-]{1,12}$/.test(s));
  if (symbols.length === 0) fail('SYMBOLS', 'must list at least one ticker');
  if (badSymbols.length > 0) fail('SYMBOLS', `not tickers: ${badSymbols.join(', ')}`);
  const uniqueSymbols = [...new Set(symbols)];

  let kafkaBootstrapServers: string[] | null = null;
  const bootstrap = raw('KAFKA_BOOTSTRAP_SERVERS');
  if (bootstrap !== undefined) {
    kafkaBootstrapServers = bootstrap
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const bad = kafkaBootstrapServers.filter((s) => !/^[A-Za-z0-9._[\]:-]+:\d{1,5}$/.test(s));
    if (kafkaBootstrapServers.length === 0 || bad.length > 0) {
      fail('KAFKA_BOOTSTRAP_SERVERS', `must be host:port[,host:port...], got "${bootstrap}"`);
    }
  }

  const security = loadKafkaSecurity(env, raw, fail, kafkaBootstrapServers !== null);

  const topicPrefix = raw('TOPIC_PREFIX') ?? '';
  if (!/^[A-Za-z0-9._-]*$/.test(topicPrefix)) fail('TOPIC_PREFIX', `may hold only letters, digits, '.', '_' and '-', got "${topicPrefix}"`);

  const provision = (raw('PROVISION_TOPICS') ?? '').toLowerCase();
  if (!['true', 'false'].includes(provision)) fail('PROVISION_TOPICS', `must be true or false, got "${provision}"`);

  let env_: 'LIVE' | 'MOCK' = simulated ? 'MOCK' : 'LIVE';
  let replayEnv: 'LIVE' | 'MOCK' = 'MOCK';
  const envText = raw('ENV');
  if (envText !== undefined) {
    if (envText === 'LIVE' || envText === 'MOCK') env_ = replayEnv = envText;
    else fail('ENV', `must be LIVE or MOCK, got "${envText}"`);
  }
  const speedSet = raw('REPLAY_SPEED_MS') !== undefined;
  const speed = speedSet ? integer('REPLAY_SPEED_MS', 10) : null;
  const replayDate = raw('REPLAY_DATE') ?? null;
  if (replayDate !== null && !isCalendarDate(replayDate)) fail('REPLAY_DATE', `must be a date such as 2026-03-10, got "${replayDate}"`);
  const resultsPath = raw('RESULTS_PATH') ?? null;
  if (replayDate !== null && resultsPath !== null)
    fail('REPLAY_DATE', 'cannot be combined with RESULTS_PATH: replay either a results file or a day of REST aggregates');

  let simStartMs: number | null = null;
  const simStart = raw('SIM_START');
  if (simStart !== undefined) {
    simStartMs = Date.parse(simStart);
    if (!Number.isFinite(simStartMs)) {
      fail('SIM_START', `must be an ISO 8601 instant such as 2026-03-09T13:30:00Z, got "${simStart}"`);
      simStartMs = null;
    }
  }

  const polygonWsUrl = url('POLYGON_WS_URL', ['ws:', 'wss:']);
  const simFeedDelayMs = integer('SIM_FEED_DELAY_MS', 0, DAY_MS);
  // The vendor's delayed plans run 15 minutes late; the built-in simulator as late as it is told.
  const feedDelayDefault = simulated ? simFeedDelayMs : isDelayedHost(polygonWsUrl) ? DELAYED_FEED_MS : 0;
  const polygonFeedDelayMs = raw('POLYGON_FEED_DELAY_MS') === undefined ? feedDelayDefault : integer('POLYGON_FEED_DELAY_MS', 0, DAY_MS);

  const config: GatewayConfig = {
    polygonWsUrl,
    polygonFeedDelayMs,
    polygonRestUrl: url('POLYGON_REST_URL', ['http:', 'https:']),
    symbols: uniqueSymbols,
    kafkaBootstrapServers,
    kafkaClientId: raw('KAFKA_CLIENT_ID') ?? 'sentio-gateway',
    kafkaTls: security.tls,
    kafkaSasl: security.sasl,
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
    maxBufferedBytes: atLeast(
      'MAX_BUFFERED_BYTES',
      MIN_BUFFERED_BYTES,
      '1 MiB: room for a whole produce request of up to 512 KiB, with bars queueing behind it',
    ),
    minuteLingerMs: integer('MINUTE_LINGER_MS', 0, 1000),
    maxBackfillMinutes: integer('MAX_BACKFILL_MINUTES', 0, 24 * 60),
    shutdownTimeoutMs: integer('SHUTDOWN_TIMEOUT_MS', 100),
    marketClock: oneOf<'wall' | 'simulator'>('MARKET_CLOCK', ['wall', 'simulator']),
    replaySpeedMs: speed ?? 1000,
    ha: {
      mode: oneOf<'off' | 'kafka'>('HA_MODE', ['off', 'kafka']),
      groupId: raw('HA_GROUP_ID') ?? `${topicPrefix}gateway`,
      sessionTimeoutMs: integer('HA_SESSION_TIMEOUT_MS', 6_000, 300_000),
    },
    replay: {
      resultsPath,
      tradesPath: raw('TRADES_PATH') ?? null,
      date: replayDate,
      minuteMs: speed ?? 60,
      env: replayEnv,
      portfolioId: raw('PORTFOLIO_ID') ?? 'default',
    },
    simStartMs,
    simFeedDelayMs,
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
  return { config, secrets: { polygonApiKey, kafkaSaslPassword: security.saslPassword, kafkaTlsKey: security.tlsKey } };
}

/** Every secret value loaded, for the logger's redaction list. */
export function secretValues(secrets: GatewaySecrets): string[] {
  return [secrets.polygonApiKey, secrets.kafkaSaslPassword, secrets.kafkaTlsKey].filter((s): s is string => s !== null && s !== '');
}

const SASL_MECHANISMS: readonly KafkaSaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

interface KafkaSecurity {
  tls: KafkaTlsConfig | null;
  sasl: KafkaSaslConfig | null;
  saslPassword: string | null;
  tlsKey: string | null;
}

/**
 * KAFKA_SSL* and KAFKA_SASL*: TLS material is read and checked here, at start, so a wrong
 * path, a key that does not belong to its certificate or an expired certificate is one
 * line naming its setting rather than a handshake failure later. No line echoes a password
 * or key.
 */
function loadKafkaSecurity(
  env: Env,
  raw: (name: SettingName) => string | undefined,
  fail: (name: SettingName, why: string) => void,
  bootstrapSet: boolean,
): KafkaSecurity {
  const given = (name: SettingName): boolean => env[name] !== undefined && env[name].trim() !== '';
  const bool = (name: SettingName): boolean => {
    const text = (raw(name) ?? '').toLowerCase();
    if (text === 'true' || text === 'false') return text === 'true';
    fail(name, `must be true or false, got "${raw(name)}"`);
    return false;
  };
  const readFile = (name: SettingName, path: string): string | null => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      fail(name, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return null;
    }
  };
  const certificates = (name: SettingName, path: string, text: string): X509Certificate[] | null => {
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) {
      fail(name, `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
      return null;
    }
    try {
      return blocks.map((block) => new X509Certificate(block));
    } catch (error) {
      fail(name, `${path} holds a certificate that does not parse (${(error as Error).message})`);
      return null;
    }
  };

  // --- TLS -------------------------------------------------------------------------------
  const sslText = (raw('KAFKA_SSL') ?? '').toLowerCase();
  const ssl = bool('KAFKA_SSL');
  const rejectText = (raw('KAFKA_SSL_REJECT_UNAUTHORIZED') ?? '').toLowerCase();
  const rejectUnauthorized = bool('KAFKA_SSL_REJECT_UNAUTHORIZED');
  const caFile = raw('KAFKA_SSL_CA_FILE') ?? null;
  const certFile = raw('KAFKA_SSL_CERT_FILE') ?? null;
  const keyFile = raw('KAFKA_SSL_KEY_FILE') ?? null;
  let tls: KafkaTlsConfig | null = null;
  let tlsKey: string | null = null;
  if (sslText === 'false') {
    // A TLS setting without TLS would be silently ignored: say so instead. (A bad KAFKA_SSL
    // is reported above; the other TLS settings are not judged against it.)
    for (const name of ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE', 'KAFKA_SSL_REJECT_UNAUTHORIZED'] as const) {
      const alreadyBad = name === 'KAFKA_SSL_REJECT_UNAUTHORIZED' && rejectText !== 'true' && rejectText !== 'false';
      if (given(name) && !alreadyBad) fail(name, 'is set but KAFKA_SSL is not true; set KAFKA_SSL=true to use TLS');
    }
  } else if (ssl) {
    if (!bootstrapSet) fail('KAFKA_SSL', 'applies to KAFKA_BOOTSTRAP_SERVERS, which is unset (the embedded broker speaks plaintext)');
    let ca: string | null = null;
    if (caFile !== null) {
      ca = readFile('KAFKA_SSL_CA_FILE', caFile);
      if (ca !== null && certificates('KAFKA_SSL_CA_FILE', caFile, ca) === null) ca = null;
    }
    if (certFile !== null && keyFile === null) fail('KAFKA_SSL_KEY_FILE', 'must be set with KAFKA_SSL_CERT_FILE (a client certificate needs its private key)');
    if (keyFile !== null && certFile === null) fail('KAFKA_SSL_CERT_FILE', 'must be set with KAFKA_SSL_KEY_FILE (a private key needs its client certificate)');
    let cert: string | null = null;
    if (certFile !== null && keyFile !== null) {
      cert = readFile('KAFKA_SSL_CERT_FILE', certFile);
      const leaf = cert === null ? null : (certificates('KAFKA_SSL_CERT_FILE', certFile, cert)?.[0] ?? null);
      if (leaf !== null && Date.parse(leaf.validTo) < Date.now())
        fail('KAFKA_SSL_CERT_FILE', `the certificate in ${certFile} expired on ${new Date(leaf.validTo).toISOString()}`);
      tlsKey = readFile('KAFKA_SSL_KEY_FILE', keyFile);
      let key: KeyObject | null = null;
      if (tlsKey !== null && /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: *4,ENCRYPTED/.test(tlsKey)) {
        fail('KAFKA_SSL_KEY_FILE', `${keyFile} holds an encrypted key; give the unencrypted PEM key`);
      } else if (tlsKey !== null) {
        try {
          key = createPrivateKey(tlsKey);
        } catch {
          fail('KAFKA_SSL_KEY_FILE', `${keyFile} holds no PEM private key`);
        }
      }
      if (leaf !== null && key !== null && !leaf.checkPrivateKey(key)) {
        fail('KAFKA_SSL_KEY_FILE', `the key in ${keyFile} does not belong to the certificate in KAFKA_SSL_CERT_FILE`);
      }
    }
    tls = { ca, caFile, cert, certFile, keyFile, rejectUnauthorized };
  }

  // --- SASL ------------------------------------------------------------------------------
  const mechanismText = raw('KAFKA_SASL_MECHANISM');
  const username = raw('KAFKA_SASL_USERNAME') ?? null;
  // A password is taken as written (spaces may belong to it); only an empty or blank value is unset.
  let saslPassword: string | null = given('KAFKA_SASL_PASSWORD') ? env.KAFKA_SASL_PASSWORD! : null;
  const passwordFile = raw('KAFKA_SASL_PASSWORD_FILE') ?? null;
  let sasl: KafkaSaslConfig | null = null;
  if (mechanismText === undefined) {
    const stray = (['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE'] as const).filter(given);
    if (stray.length > 0) fail('KAFKA_SASL_MECHANISM', `must be set (${SASL_MECHANISMS.join(', ')}) when ${stray.join(' or ')} is`);
    saslPassword = null;
  } else {
    const mechanism = mechanismText.toLowerCase() as KafkaSaslMechanism;
    if (!SASL_MECHANISMS.includes(mechanism)) fail('KAFKA_SASL_MECHANISM', `must be one of ${SASL_MECHANISMS.join(', ')}, got "${mechanismText}"`);
    if (!bootstrapSet) fail('KAFKA_SASL_MECHANISM', 'applies to KAFKA_BOOTSTRAP_SERVERS, which is unset (the embedded broker has no SASL users)');
    if (username === null) fail('KAFKA_SASL_USERNAME', `must be set with KAFKA_SASL_MECHANISM=${mechanismText}`);
    if (saslPassword === null && passwordFile !== null) {
      const text = readFile('KAFKA_SASL_PASSWORD_FILE', passwordFile);
      if (text !== null) {
        saslPassword = text.replace(/[\r\n]+$/, '');
        if (saslPassword === '') {
          fail('KAFKA_SASL_PASSWORD_FILE', `file ${passwordFile} is empty`);
          saslPassword = null;
        }
      }
    } else if (saslPassword === null) {
      fail('KAFKA_SASL_PASSWORD', `must be set with KAFKA_SASL_MECHANISM=${mechanismText} (or KAFKA_SASL_PASSWORD_FILE)`);
    }
    if (username !== null) sasl = { mechanism, username };
  }
  return { tls, sasl, saslPassword, tlsKey };
}

const DAY_MS = 86_400_000;
/** MAX_BUFFERED_BYTES must hold a whole produce request and more: a request takes at most half of it (512 KiB here). */
const MIN_BUFFERED_BYTES = 1024 * 1024;

/** YYYY-MM-DD naming a day that exists. */
function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const day = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === text;
}
/** The vendor's delayed feed (wss://delayed.polygon.io) runs this far behind. */
const DELAYED_FEED_MS = 900_000;

function isDelayedHost(wsUrl: string): boolean {
  try {
    return new URL(wsUrl).hostname.startsWith('delayed.');
  } catch {
    return false; // reported as a bad POLYGON_WS_URL
  }
}

function keyLooksLikePlaceholder(key: string | null): boolean {
  return key !== null && (key.length < 8 || /\s/.test(key));
}
