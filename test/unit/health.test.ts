import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assessReadiness, heartbeatStatus, type HealthInputs } from '../../src/ops/health.ts';

const good: HealthInputs = {
  kafkaWritable: true,
  feedState: 'subscribed',
  feedReason: null,
  inRegularSession: true,
  msSinceLastBar: 1000,
  msSinceSubscribed: 600_000,
  staleAfterMs: 180_000,
};

test('ready when Kafka is writable and the feed subscribed and fresh', () => {
  assert.deepEqual(assessReadiness(good), { ready: true, failing: [] });
});

test('names each failing part', () => {
  assert.deepEqual(assessReadiness({ ...good, kafkaWritable: false }).failing, [{ part: 'kafka', reason: 'not_writable' }]);
  assert.deepEqual(assessReadiness({ ...good, feedState: 'backoff', feedReason: 'auth_failed' }).failing, [{ part: 'feed', reason: 'auth_failed' }]);
  assert.deepEqual(assessReadiness({ ...good, feedState: 'connecting', feedReason: null }).failing, [{ part: 'feed', reason: 'connecting' }]);
});

test('stale only during the regular session, and not right after subscribing', () => {
  assert.deepEqual(assessReadiness({ ...good, msSinceLastBar: 200_000 }).failing, [{ part: 'feed', reason: 'stale' }]);
  assert.equal(assessReadiness({ ...good, msSinceLastBar: 200_000, inRegularSession: false }).ready, true);
  assert.equal(assessReadiness({ ...good, msSinceLastBar: 200_000, msSinceSubscribed: 10_000 }).ready, true);
  assert.equal(assessReadiness({ ...good, msSinceLastBar: null, msSinceSubscribed: 10_000 }).ready, true);
  assert.equal(assessReadiness({ ...good, msSinceLastBar: null, msSinceSubscribed: 200_000 }).ready, false);
});

test('heartbeat status: down when the vendor refuses us, degraded otherwise', () => {
  const refused = assessReadiness({ ...good, feedState: 'backoff', feedReason: 'auth_failed' });
  assert.equal(heartbeatStatus(refused, 'backoff', 'auth_failed'), 'down');
  const reconnecting = assessReadiness({ ...good, feedState: 'backoff', feedReason: 'closed' });
  assert.equal(heartbeatStatus(reconnecting, 'backoff', 'closed'), 'degraded');
  assert.equal(heartbeatStatus(assessReadiness(good), 'subscribed', null), 'ok');
});
