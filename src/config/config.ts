import type { FeedEnv } from '../contracts/price-event.ts';

export type FillMode = 'regular' | 'off' | 'all';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** TLS to the brokers (KAFKA_SSL=true). Certificates are public; the client key is in secrets. */
export interface KafkaTlsConfig {
  /** PEM of the CA(s) to trust, read from caFile at start; null: Node's built-in public CAs. */
  ca: string | null;
  caFile: string | null;
  /** PEM client certificate for mutual TLS, read from certFile at start; null: none. */
  cert: string | null;
  certFile: string | null;
  /** Where the client key came from (its PEM is `GatewaySecrets.kafkaTlsKey`). */
  keyFile: string | null;
  /** false: do not verify the broker's certificate or host name (tests only). */
  rejectUnauthorized: boolean;
}

/** SASL authentication to the brokers; the password is in secrets. */
export interface KafkaSaslConfig {
  mechanism: KafkaSaslMechanism;
  username: string;
}

/** The validated configuration. The API key lives in `secrets`, never beside the rest. */
export interface GatewayConfig {
  polygonWsUrl: string;
  /** How far the feed runs behind real time (market ms); what the gateway expects of it runs that late. */
  polygonFeedDelayMs: number;
  polygonRestUrl: string;
  symbols: string[];
  /** null: start the embedded broker. */
  kafkaBootstrapServers: string[] | null;
  kafkaClientId: string;
  /** null: plaintext connections. */
  kafkaTls: KafkaTlsConfig | null;
  /** null: no SASL. */
  kafkaSasl: KafkaSaslConfig | null;
  embeddedKafkaPort: number;
  topicPrefix: string;
  provisionTopics: boolean;
  topicPartitions: number;
  topicReplicationFactor: number;
  tradesRetentionDays: number;
  runId: string;
  strategy: string;
  env: FeedEnv;
  /** true when no key is configured: the built-in simulator is the feed. */
  simulated: boolean;
  httpHost: string;
  httpPort: number;
  heartbeatIntervalMs: number;
  fillEmptyMinutes: FillMode;
  fillGraceMs: number;
  pingIntervalMs: number;
  stallTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  authRetryMs: number;
  maxConnectionsRetryMs: number;
  feedStaleMs: number;
  maxBufferedBars: number;
  /** MAX_BUFFERED_BYTES: bound on the held bytes of the bars waiting for Kafka. */
  maxBufferedBytes: number;
  /** MINUTE_LINGER_MS: longest wait for the rest of a minute's live bars (0: none). */
  minuteLingerMs: number;
  maxBackfillMinutes: number;
  shutdownTimeoutMs: number;
  /** `simulator`: market time follows an external simulator's clock. */
  marketClock: 'wall' | 'simulator';
  /** The simulator's wall ms per market minute (REPLAY_SPEED_MS, 1000 when unset). */
  replaySpeedMs: number;
  replay: ReplayConfig;
  ha: HaConfig;
  /** null: the simulator starts at the current instant. */
  simStartMs: number | null;
  /** Simulator: how far its feed (socket and REST) runs behind its clock, market ms. */
  simFeedDelayMs: number;
  simPort: number;
  logLevel: LogLevel;
}

/** `sentio-gateway replay`: a recorded engine day, or a day of REST aggregates. */
export interface ReplayConfig {
  /** RESULTS_PATH; null, with `date` null too: the sample day in config/replay/. */
  resultsPath: string | null;
  /** TRADES_PATH; null: trades.jsonl beside the results, else the results' own trades. */
  tradesPath: string | null;
  /** REPLAY_DATE (YYYY-MM-DD): replay that day's REST aggregates instead of a results file. */
  date: string | null;
  /** Wall ms per replayed market minute (REPLAY_SPEED_MS, 60 when unset). */
  minuteMs: number;
  /** ENV, MOCK when unset: a replay is not the live market. */
  env: FeedEnv;
  portfolioId: string;
}

/** Active/standby through Kafka (HA_MODE=kafka). */
export interface HaConfig {
  mode: 'off' | 'kafka';
  /** Consumer group of the coordination topic, and the transactional id of every gateway of the group. */
  groupId: string;
  sessionTimeoutMs: number;
}

export interface GatewaySecrets {
  /** null in simulator mode (the gateway then uses the simulator's own key). */
  polygonApiKey: string | null;
  /** Set exactly when `GatewayConfig.kafkaSasl` is. */
  kafkaSaslPassword: string | null;
  /** PEM private key of the mutual-TLS client certificate; set exactly when `kafkaTls.cert` is. */
  kafkaTlsKey: string | null;
}
