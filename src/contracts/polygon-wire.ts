/**
 * Polygon's stocks WebSocket protocol as it travels on the wire. Shared by the feed (which
 * parses it) and the simulator (which speaks it), so the two cannot drift apart.
 * Every server frame is a JSON array of these events.
 */

export const DEFAULT_SYMBOLS = ['TQQQ', 'SQQQ', 'TNA', 'TZA', 'UVXY', 'SVIX', 'SOXS', 'SOXL', 'SPXL', 'SPXS', 'FAS', 'FAZ'] as const;

/** Known `status` values of control events; others occur and must be tolerated. */
export type KnownStatus = 'connected' | 'auth_success' | 'auth_failed' | 'auth_timeout' | 'success' | 'max_connections' | 'disconnect';

export interface StatusEvent {
  ev: 'status';
  status: KnownStatus | (string & {});
  message?: string;
}

/** `AM` (minute) and `A` (second) aggregates share one shape. */
export interface AggregateEvent {
  ev: 'AM' | 'A';
  sym: string;
  /** Volume in the bar. */
  v: number;
  /** Day's accumulated volume. */
  av: number;
  /** Day's official open. */
  op: number;
  /** Bar VWAP. */
  vw: number;
  o: number;
  h: number;
  l: number;
  c: number;
  /** Day's VWAP. */
  a: number;
  /** Average trade size. */
  z: number;
  /** Bar start, epoch ms. */
  s: number;
  /** Bar end, epoch ms. */
  e: number;
  otc?: boolean;
}

/** Client -> server messages. */
export interface ClientAction {
  action: 'auth' | 'subscribe' | 'unsubscribe';
  params: string;
}

/** Channel name for minute aggregates of a ticker. */
export function minuteChannel(symbol: string): string {
  return `AM.${symbol}`;
}

/** REST aggregate as returned in `results` by `/v2/aggs/ticker/{T}/range/1/minute/{from}/{to}`. */
export interface RestAggregate {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  vw?: number;
  n?: number;
}
