import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { applyKafkajsRequestQueueFix, scheduleCheckPendingRequests, type RequestQueueState } from '../../src/kafka/kafkajs.ts';

function queue(pending: number, throttledUntil: number): RequestQueueState & { checks: number } {
  const q = {
    pending: Array.from({ length: pending }),
    throttledUntil,
    throttleCheckTimeoutId: null as NodeJS.Timeout | null,
    checks: 0,
    checkPendingRequests() {
      q.checks += 1;
    },
  };
  return q;
}

test('an idle, unthrottled queue arms no timer (kafkajs armed a 1 ms one forever)', () => {
  const q = queue(0, -1);
  scheduleCheckPendingRequests.call(q);
  assert.equal(q.throttleCheckTimeoutId, null);
});

test('a queue with waiting requests is re-checked soon', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const q = queue(2, -1);
  scheduleCheckPendingRequests.call(q);
  assert.notEqual(q.throttleCheckTimeoutId, null);
  t.mock.timers.tick(10);
  assert.equal(q.checks, 1);
  assert.equal(q.throttleCheckTimeoutId, null);
});

test('a throttled queue is re-checked when the throttle ends, not before', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const q = queue(1, 1_000_000 + 80);
  scheduleCheckPendingRequests.call(q);
  t.mock.timers.tick(79);
  assert.equal(q.checks, 0);
  t.mock.timers.tick(1);
  assert.equal(q.checks, 1);
});

test('the fix is installed on the kafkajs version it was written for', () => {
  assert.equal(applyKafkajsRequestQueueFix(), true);
  const require = createRequire(import.meta.url);
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: { scheduleCheckPendingRequests: unknown } };
  assert.equal(RequestQueue.prototype.scheduleCheckPendingRequests, scheduleCheckPendingRequests);
});
