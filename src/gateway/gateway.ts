import type { Calendar } from '../bars/calendar.ts';
import type { MarketClock } from '../clock/market-clock.ts';
import type { GatewayConfig } from '../config/config.ts';
import type { GatewayRole } from '../contracts/heartbeat.ts';
import type { TopicNames } from '../contracts/topics.ts';
import type { Readiness } from '../ops/health.ts';
import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';
import type { Simulator } from '../sim/index.ts';
import type { ShutdownResult } from './shutdown.ts';

export type { MarketClock } from '../clock/market-clock.ts';

export interface GatewayOptions {
  /** Overrides the logger (tests capture lines through it). */
  log?: Logger;
  /** Overrides the market clock (tests share a simulator's clock). */
  clock?: MarketClock;
  calendar?: Calendar;
  /** Source of reconnect jitter (tests pass a fixed one to observe the backoff bound). */
  random?: () => number;
}

export interface Gateway {
  readonly config: GatewayConfig;
  readonly topics: TopicNames;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  /** Bound HTTP address, e.g. http://127.0.0.1:8080. */
  readonly httpUrl: string;
  readonly kafkaBootstrapServers: string[];
  readonly simulator: Simulator | null;
  readiness(): Readiness;
  /** `single` (HA_MODE=off), or whether it leads its HA group now. */
  role(): GatewayRole;
  /** Stops reading, flushes Kafka, publishes a `stopped` heartbeat, releases everything. */
  shutdown(): Promise<ShutdownResult>;
}
