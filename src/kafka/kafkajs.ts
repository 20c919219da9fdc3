import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';

/**
 * The one door to kafkajs: every module of ours imports kafkajs from here, so the fix below
 * is in place before any client exists.
 *
 * kafkajs 2.2.4 (unmaintained since 2023) re-arms a timer in its per-connection request
 * queue even when nothing is pending: the delay it computes is negative, Node 24 clamps it
 * to 1 ms and warns (TimeoutNegativeWarning), and every idle broker connection then wakes
 * the event loop a thousand times a second (tulios/kafkajs#1751, #1704; fixes proposed in
 * #1755 and #1768, never released). Measured here: an idle gateway burned about 5% of a
 * core. We replace that one method with a version that schedules a check only when a
 * request is waiting or the connection is throttled; a new request or a response triggers
 * the next check anyway. Applied once, only to the exact version it was written against.
 */

export const PATCHED_KAFKAJS_VERSION = '2.2.4';

/** Fields of kafkajs's RequestQueue this fix reads. */
export interface RequestQueueState {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
}

/** How long kafkajs waits before re-checking a queue that has requests but no throttle. */
const RECHECK_MS = 10;

/** The replacement: arm a timer only when there is something to wait for. */
export function scheduleCheckPendingRequests(this: RequestQueueState): void {
  if (this.throttleCheckTimeoutId) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  if (this.pending.length === 0 && untilUnthrottled <= 0) return;
  const delay = untilUnthrottled > 0 ? untilUnthrottled : RECHECK_MS;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
}

let applied: boolean | null = null;

/** Installs the replacement on kafkajs's RequestQueue; returns whether it did. */
export function applyKafkajsRequestQueueFix(): boolean {
  if (applied !== null) return applied;
  const require = createRequire(import.meta.url);
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== PATCHED_KAFKAJS_VERSION) {
    applied = false;
    return applied;
  }
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: { scheduleCheckPendingRequests: unknown } };
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  applied = true;
  return applied;
}

applyKafkajsRequestQueueFix();

export default kafkajs;
