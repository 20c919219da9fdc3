import type { GatewayRole, Heartbeat, HeartbeatStatus, MarketSession } from '../contracts/heartbeat.ts';
import { formatTsET } from '../contracts/time-format.ts';
import type { RunIdentity } from './price-record.ts';

/** What the gateway knows at the moment a heartbeat is made. */
export interface HeartbeatSnapshot {
  /** Market time now (the simulator's clock in MOCK mode). */
  nowMs: number;
  status: HeartbeatStatus;
  feedState: string;
  feedReason: string | null;
  kafkaWritable: boolean;
  lastBarStartMs: number | null;
  barsPublished: number;
  uptimeMs: number;
  marketSession: MarketSession;
  completeMinuteMs: number | null;
  role: GatewayRole;
}

export function buildHeartbeat(run: RunIdentity & { version: string }, s: HeartbeatSnapshot): Heartbeat {
  return {
    runId: run.runId,
    tsET: formatTsET(s.nowMs),
    ts: new Date(s.nowMs).toISOString(),
    status: s.status,
    feed: s.feedState,
    feedReason: s.feedReason,
    kafkaWritable: s.kafkaWritable,
    lastBarTsET: s.lastBarStartMs === null ? null : formatTsET(s.lastBarStartMs),
    barsPublished: s.barsPublished,
    uptimeS: Math.floor(s.uptimeMs / 1000),
    version: run.version,
    strategy: run.strategy,
    env: run.env,
    marketSession: s.marketSession,
    completeTsET: s.completeMinuteMs === null ? null : formatTsET(s.completeMinuteMs),
    role: s.role,
  };
}
