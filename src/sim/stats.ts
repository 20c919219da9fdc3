/**
 * What the simulator observed and did, for tests to assert on (the events they can await are in events.ts).
 * Everything here is plain data updated in place while the simulator runs.
 */

import type { AggregateEvent } from '../contracts/polygon-wire.ts';

export type AuthResult = 'success' | 'failed' | 'max_connections';

export interface AuthAttempt {
  connId: number;
  result: AuthResult;
  /** Wall clock (Date.now) when the attempt was answered. */
  wallMs: number;
  /** Monotonic wall clock (performance.now), for measuring reconnect intervals. */
  monoMs: number;
  /** Simulated market instant. */
  marketMs: number;
}

/** How an `AM` event came to be sent. */
export type SentBarKind = 'bar' | 'delayed' | 'repeat' | 'correction';

export interface SentBar {
  connId: number;
  symbol: string;
  minuteMs: number;
  kind: SentBarKind;
  /** 0 for the original values, n for the n-th correction. */
  revision: number;
  bar: AggregateEvent;
  wallMs: number;
  marketMs: number;
}

export interface SimStats {
  connectionsOpened: number;
  connectionsOpen: number;
  authAttempts: AuthAttempt[];
  /** Live: channels of each open, authenticated connection. */
  subscriptions: Map<number, ReadonlySet<string>>;
  framesSent: number;
  eventsSent: number;
  /** Frames not sent because the connection was stalled. */
  framesLostToStall: number;
  secondBarsSent: number;
  /** `AM` events sent per `${symbol}@${minuteMs}` (all connections, all kinds). */
  barsSent: Map<string, number>;
  /** The most recent `AM` sends, oldest first (bounded to SENT_BARS_LIMIT). */
  sentBars: SentBar[];
  pingsReceived: number;
  pongsSent: number;
  /** Client messages that were not JSON or not a valid action. */
  badClientMessages: number;
  /** Connections cut off because they read too slowly. */
  slowConsumersCut: number;
  /** Connections terminated because they stopped answering the server's pings (a frozen client). */
  unresponsiveClientsDropped: number;
  /** Most bytes seen waiting in one connection's socket right after a frame was queued. */
  maxBufferedBytes: number;
}

export const SENT_BARS_LIMIT = 100_000;

export function barKey(symbol: string, minuteMs: number): string {
  return `${symbol}@${minuteMs}`;
}

export function createStats(): SimStats {
  return {
    connectionsOpened: 0,
    connectionsOpen: 0,
    authAttempts: [],
    subscriptions: new Map(),
    framesSent: 0,
    eventsSent: 0,
    framesLostToStall: 0,
    secondBarsSent: 0,
    barsSent: new Map(),
    sentBars: [],
    pingsReceived: 0,
    pongsSent: 0,
    badClientMessages: 0,
    slowConsumersCut: 0,
    unresponsiveClientsDropped: 0,
    maxBufferedBytes: 0,
  };
}

export function recordSentBar(stats: SimStats, sent: SentBar): void {
  const key = barKey(sent.symbol, sent.minuteMs);
  stats.barsSent.set(key, (stats.barsSent.get(key) ?? 0) + 1);
  stats.sentBars.push(sent);
  if (stats.sentBars.length > SENT_BARS_LIMIT) stats.sentBars.splice(0, stats.sentBars.length - SENT_BARS_LIMIT);
}
