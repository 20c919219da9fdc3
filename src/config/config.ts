import type { FeedEnv } from '../contracts/price-event.ts';

export type FillMode = 'regular' | 'off' | 'all';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** The validated configuration. The API key lives in `secrets`, never beside the rest. */
export interface GatewayConfig {
  polygonWsUrl: string;
  polygonRestUrl: string;
  symbols: string[];
  /** null: start the embedded broker. */
  kafkaBootstrapServers: string[] | null;
  kafkaClientId: string;
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
  maxBackfillMinutes: number;
  shutdownTimeoutMs: number;
  /** `simulator`: market time follows an external simulator's clock. */
  marketClock: 'wall' | 'simulator';
  replaySpeedMs: number;
  /** null: the simulator starts at the current instant. */
  simStartMs: number | null;
  simPort: number;
  logLevel: LogLevel;
}

export interface GatewaySecrets {
  /** null in simulator mode (the gateway then uses the simulator's own key). */
  polygonApiKey: string | null;
}
