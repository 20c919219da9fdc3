import type { HeartbeatStatus } from '../contracts/heartbeat.ts';
import type { PriceEvent } from '../contracts/price-event.ts';
import type { OutboundRecord } from './record-sink.ts';

/** What the gateway wants back when one of its records is acknowledged. */
export type RecordMeta =
  /** `receivedAt`: performance.now() of the frame a live bar came in (null for REST and filled bars). */
  | { kind: 'bar'; event: PriceEvent; receivedAt: number | null }
  | { kind: 'heartbeat'; status: HeartbeatStatus }
  /** A record of an engine topic (trades, positions, portfolio), written by replay. */
  | { kind: 'engine' };

export type GatewayRecord = OutboundRecord<RecordMeta>;
