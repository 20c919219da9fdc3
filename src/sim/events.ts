/** The events the simulator emits, which tests can await (`Simulator.waitFor`). */

import type { FaultLogEntry } from './faults.ts';
import type { AuthAttempt, SentBar } from './stats.ts';

/** Payload of each event the simulator emits. */
export interface SimEventPayloads {
  /** A WebSocket connection was accepted (before the `connected` status). */
  connection: { connId: number };
  auth: AuthAttempt;
  subscribed: { connId: number; channels: string[] };
  unsubscribed: { connId: number; channels: string[] };
  /**
   * A frame went out; `events` is null for raw (malformed) frames. A binary frame (`sendRaw`
   * with bytes) has `binary: true` and `text` is its bytes decoded as UTF-8 (invalid sequences
   * become U+FFFD), for display only.
   */
  frame: { connId: number; text: string; events: readonly object[] | null; binary?: true };
  bar: SentBar;
  /** Every connection has been offered the `AM` bars of `minuteMs` (at close + bar delay). */
  minute: { minuteMs: number; marketMs: number };
  ping: { connId: number; answered: boolean };
  /** A stall of this connection ended; buffered client messages have been handled. */
  stallEnd: { connId: number };
  close: { connId: number; code: number; reason: string };
  fault: FaultLogEntry;
}

export type SimEvents = { [K in keyof SimEventPayloads]: [SimEventPayloads[K]] };
