/**
 * How long to wait before the next connection attempt, as a pure function so the policy
 * can be tested without sockets or clocks.
 */

export type DisconnectReason = 'closed' | 'error' | 'stall' | 'handshake_timeout' | 'auth_failed' | 'auth_timeout' | 'max_connections' | 'disconnect';

export interface BackoffPolicy {
  /** Cap of the first ordinary retry. */
  minMs: number;
  /** Cap that ordinary retries grow to. */
  maxMs: number;
  /** After the vendor rejected the key: retrying soon cannot help, and hammering looks like abuse. */
  authRetryMs: number;
  /** After max_connections or disconnect: another client holds the one slot the account has. */
  maxConnectionsRetryMs: number;
}

/**
 * Capped exponential backoff with full jitter for ordinary failures (a random delay in
 * [0, min(max, min * 2^(attempt-1))]), so a fleet of clients does not reconnect in step;
 * fixed long waits where the vendor has told us retrying soon is pointless.
 * `attempt` counts failures since the last healthy session, from 1.
 */
export function reconnectDelayMs(reason: DisconnectReason, attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  switch (reason) {
    case 'auth_failed':
      return policy.authRetryMs;
    case 'max_connections':
    case 'disconnect':
      return policy.maxConnectionsRetryMs;
    default: {
      const cap = Math.min(policy.maxMs, policy.minMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
      return Math.round(random() * cap);
    }
  }
}
