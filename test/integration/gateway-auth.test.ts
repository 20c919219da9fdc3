import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Heartbeat } from '../../src/contracts/heartbeat.ts';
import { topicNames } from '../../src/contracts/topics.ts';
import { createSimClock, startSimulator } from '../../src/sim/index.ts';
import { readTopic, useKafka, waitForRecords } from '../support/kafka.ts';
import { eventually, startTestGateway, uniquePrefix } from '../support/gateway.ts';

const kafka = useKafka();
const AUTH_RETRY_MS = 400;

test('a rejected key: readiness names the feed, retries keep the bound, heartbeats say down, and the key leaks nowhere', async (t) => {
  const goodKey = `right-${randomUUID()}`;
  const wrongKey = `WRONG-${randomUUID()}`;
  const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T15:00:00Z'), msPerMinute: 200 });
  const sim = await startSimulator({ apiKey: goodKey, clock });
  t.after(() => sim.close());
  const prefix = uniquePrefix('auth');
  const topics = topicNames(prefix);
  const gw = await startTestGateway(
    {
      POLYGON_API_KEY: wrongKey,
      POLYGON_WS_URL: sim.wsUrl,
      POLYGON_REST_URL: sim.restUrl,
      KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
      TOPIC_PREFIX: prefix,
      HEARTBEAT_INTERVAL_MS: '150',
      AUTH_RETRY_MS: String(AUTH_RETRY_MS),
      RECONNECT_MIN_MS: '10',
    },
    { clock },
  );
  t.after(() => gw.stop());

  // The bound: after auth_failed the next attempt waits AUTH_RETRY_MS, never less.
  await eventually('four rejected attempts', () => (sim.stats.authAttempts.length >= 4 ? true : undefined), 10_000);
  const attempts = sim.stats.authAttempts.slice(0, 4);
  assert.ok(attempts.every((a) => a.result === 'failed'));
  for (let i = 1; i < attempts.length; i += 1) {
    const gap = attempts[i]!.monoMs - attempts[i - 1]!.monoMs;
    assert.ok(gap >= AUTH_RETRY_MS - 5, `attempt ${i + 1} came ${gap.toFixed(0)} ms after the previous one (bound ${AUTH_RETRY_MS} ms)`);
  }

  const ready = await fetch(`${gw.gateway.httpUrl}/readyz`);
  assert.equal(ready.status, 503);
  const readyBody = await ready.text();
  const body = JSON.parse(readyBody) as { status: string; failing: { part: string; reason: string }[] };
  assert.equal(body.status, 'not_ready');
  assert.deepEqual(
    body.failing.filter((f) => f.part === 'feed'),
    [{ part: 'feed', reason: 'auth_failed' }],
  );

  const metrics = await (await fetch(`${gw.gateway.httpUrl}/metrics`)).text();
  assert.match(metrics, /sentio_gateway_reconnects_total\{reason="auth_failed"\} [1-9]/);
  assert.match(metrics, /sentio_gateway_feed_subscribed 0/);
  const health = await fetch(`${gw.gateway.httpUrl}/healthz`);
  assert.equal(health.status, 200);
  const healthBody = await health.text();

  // Heartbeats keep coming while the feed is down, and say why.
  const beats = await waitForRecords(kafka.bootstrapServers, topics.heartbeat, (records) => records.length >= 3, 15_000);
  const decoded = beats.map((r) => JSON.parse(r.value) as Heartbeat);
  assert.ok(
    decoded.slice(1).every((b) => b.status === 'down' && b.feed !== 'subscribed' && b.feedReason === 'auth_failed'),
    JSON.stringify(decoded.at(-1)),
  );

  await gw.stop();
  const everything = [
    ...gw.logs,
    readyBody,
    healthBody,
    metrics,
    ...(await readTopic(kafka.bootstrapServers, topics.heartbeat)).map((r) => r.value + JSON.stringify(r.headers)),
  ].join('\n');
  assert.ok(gw.logs.length > 5, 'the gateway logged');
  assert.ok(!everything.includes(wrongKey), 'the key appears in no log line, metric, heartbeat or HTTP body');
  assert.ok(
    gw.logs.some((l) => l.includes('auth_failed')),
    'the reason is logged',
  );
});

test('the key from a good run appears in no log line, metric, heartbeat or HTTP body either', async (t) => {
  const key = `GOOD-${randomUUID()}`;
  const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T15:00:00Z'), msPerMinute: 200 });
  const sim = await startSimulator({ apiKey: key, clock });
  t.after(() => sim.close());
  const dir = mkdtempSync(join(tmpdir(), 'sg-key-'));
  writeFileSync(join(dir, 'key'), `${key}\n`);
  const prefix = uniquePrefix('key');
  const topics = topicNames(prefix);
  // The key comes from a mounted file, as in Kubernetes.
  const gw = await startTestGateway(
    {
      POLYGON_API_KEY_FILE: join(dir, 'key'),
      POLYGON_WS_URL: sim.wsUrl,
      POLYGON_REST_URL: sim.restUrl,
      KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
      TOPIC_PREFIX: prefix,
      HEARTBEAT_INTERVAL_MS: '150',
      LOG_LEVEL: 'trace',
    },
    { clock },
  );
  t.after(() => gw.stop());
  await waitForRecords(kafka.bootstrapServers, topics.prices, (records) => records.length >= 24, 20_000);
  const ready = await eventually('ready', async () => {
    const r = await fetch(`${gw.gateway.httpUrl}/readyz`);
    return r.status === 200 ? r.text() : undefined;
  });
  const metrics = await (await fetch(`${gw.gateway.httpUrl}/metrics`)).text();
  await gw.stop();
  const records = [...(await readTopic(kafka.bootstrapServers, topics.heartbeat)), ...(await readTopic(kafka.bootstrapServers, topics.prices))];
  const everything = [...gw.logs, ready, metrics, ...records.map((r) => r.value + JSON.stringify(r.headers))].join('\n');
  assert.ok(!everything.includes(key));
  assert.ok(
    sim.stats.authAttempts.some((a) => a.result === 'success'),
    'the key was used',
  );
});

test('/metrics passes promtool check metrics', async (t) => {
  const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T15:00:00Z'), msPerMinute: 200 });
  const key = `k-${randomUUID()}`;
  const sim = await startSimulator({ apiKey: key, clock });
  t.after(() => sim.close());
  const prefix = uniquePrefix('promtool');
  const gw = await startTestGateway(
    { POLYGON_API_KEY: key, POLYGON_WS_URL: sim.wsUrl, POLYGON_REST_URL: sim.restUrl, KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers, TOPIC_PREFIX: prefix },
    { clock },
  );
  t.after(() => gw.stop());
  await waitForRecords(kafka.bootstrapServers, topicNames(prefix).prices, (records) => records.length >= 12, 20_000);
  const text = await (await fetch(`${gw.gateway.httpUrl}/metrics`)).text();
  for (const name of [
    'feed_state',
    'frames_received_total',
    'events_received_total',
    'bars_published_total',
    'events_dropped_total',
    'reconnects_total',
    'kafka_errors_total',
    'publish_latency_seconds',
    'bar_delay_seconds',
    'buffered_bars',
    'heartbeats_total',
    'process_cpu_seconds_total',
  ]) {
    assert.match(text, new RegExp(`^# TYPE sentio_gateway_${name} `, 'm'), name);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sg-metrics-'));
  writeFileSync(join(dir, 'metrics.txt'), text);
  // promtool reads stdin; `.ci/run` installs it (Debian's prometheus package).
  const { stdout, stderr } = await promisify(execFile)('bash', ['-c', `promtool check metrics < ${join(dir, 'metrics.txt')}`]).catch(
    (error: { stdout: string; stderr: string; code: number }) => {
      assert.fail(`promtool check metrics failed (exit ${error.code}): ${error.stderr || error.stdout}`);
    },
  );
  assert.equal(`${stdout}${stderr}`.trim(), '', 'promtool reports no problem');
});
