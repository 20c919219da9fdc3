/** The record published to `${TOPIC_PREFIX}heartbeat.v1` (key: runId). */

/** `standby`: an active/standby gateway (HA_MODE=kafka) that does not lead, ready to take over. */
export type HeartbeatStatus = 'ok' | 'degraded' | 'down' | 'stopped' | 'standby';

/** `single` when HA is off; with HA_MODE=kafka, whether this gateway leads its group. */
export type GatewayRole = 'single' | 'leader' | 'standby';

export type MarketSession = 'pre' | 'regular' | 'post' | 'closed';

export interface Heartbeat {
  runId: string;
  /** Current market minute, same format as PriceEvent.tsET. */
  tsET: string;
  /** ISO instant with milliseconds. */
  ts: string;
  status: HeartbeatStatus;
  /** The feed connection state (see FeedState). */
  feed: string;
  /** Why the feed is not subscribed, when it is not (for example `auth_failed`); null otherwise. */
  feedReason: string | null;
  /** Whether Kafka took the last write. */
  kafkaWritable: boolean;
  lastBarTsET: string | null;
  barsPublished: number;
  uptimeS: number;
  version: string;
  strategy: string;
  env: string;
  marketSession: MarketSession;
  /** Latest minute for which every symbol has a record; null until one has. */
  completeTsET: string | null;
  role: GatewayRole;
}
