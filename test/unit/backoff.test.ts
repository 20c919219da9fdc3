import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconnectDelayMs, type BackoffPolicy } from '../../src/feed/backoff.ts';

const policy: BackoffPolicy = { minMs: 500, maxMs: 30_000, authRetryMs: 300_000, maxConnectionsRetryMs: 60_000 };

test('ordinary failures: full jitter under a cap that doubles per attempt up to the maximum', () => {
  assert.equal(
    reconnectDelayMs('closed', 1, policy, () => 1),
    500,
  );
  assert.equal(
    reconnectDelayMs('closed', 2, policy, () => 1),
    1000,
  );
  assert.equal(
    reconnectDelayMs('stall', 4, policy, () => 1),
    4000,
  );
  assert.equal(
    reconnectDelayMs('error', 50, policy, () => 1),
    30_000,
  );
  assert.equal(
    reconnectDelayMs('closed', 3, policy, () => 0),
    0,
  );
  assert.equal(
    reconnectDelayMs('closed', 3, policy, () => 0.5),
    1000,
  );
});

test('every jittered delay stays within [0, cap]', () => {
  for (let attempt = 1; attempt < 40; attempt += 1) {
    const d = reconnectDelayMs('handshake_timeout', attempt, policy);
    assert.ok(d >= 0 && d <= Math.min(30_000, 500 * 2 ** (attempt - 1)), `attempt ${attempt}: ${d}`);
  }
});

test('vendor rejections wait long, whatever the attempt', () => {
  assert.equal(
    reconnectDelayMs('auth_failed', 1, policy, () => 0),
    300_000,
  );
  assert.equal(
    reconnectDelayMs('auth_failed', 9, policy, () => 0),
    300_000,
  );
  assert.equal(
    reconnectDelayMs('max_connections', 1, policy, () => 0),
    60_000,
  );
  assert.equal(
    reconnectDelayMs('disconnect', 3, policy, () => 0),
    60_000,
  );
});
