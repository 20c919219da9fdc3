import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { topicNames } from '../../src/contracts/topics.ts';
import { createSimClock, startSimulator, type Simulator } from '../../src/sim/index.ts';
import { useKafka, waitForRecords } from '../support/kafka.ts';
import { eventually, startTestGateway, uniquePrefix, type TestGateway } from '../support/gateway.ts';

const kafka = useKafka();

async function setup(
  t: import('node:test').TestContext,
  extraEnv: Record<string, string> = {},
  random?: () => number,
): Promise<{ sim: Simulator; gw: TestGateway; key: string; prices: string }> {
  const key = `feed-${randomUUID()}`;
  const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T15:00:00Z'), msPerMinute: 200 });
  const sim = await startSimulator({ apiKey: key, clock });
  t.after(() => sim.close());
  const prefix = uniquePrefix('feed');
  const subscribed = sim.waitFor('subscribed');
  const gw = await startTestGateway(
    {
      POLYGON_API_KEY: key,
      POLYGON_WS_URL: sim.wsUrl,
      POLYGON_REST_URL: sim.restUrl,
      KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
      TOPIC_PREFIX: prefix,
      RECONNECT_MIN_MS: '50',
      RECONNECT_MAX_MS: '200',
      ...extraEnv,
    },
    { clock, random },
  );
  t.after(() => gw.stop());
  await subscribed;
  return { sim, gw, key, prices: topicNames(prefix).prices };
}

async function metric(gw: TestGateway, pattern: RegExp): Promise<number> {
  const text = await gw.gateway.metrics.registry.metrics();
  return Number(pattern.exec(text)?.[1] ?? 0);
}

test('a dropped socket is reconnected and resubscribed, and bars keep flowing', async (t) => {
  const { sim, gw, prices } = await setup(t);
  const resubscribed = sim.waitFor('subscribed', (s) => s.connId !== sim.stats.authAttempts[0]!.connId, { timeoutMs: 10_000 });
  sim.faults.dropConnections();
  const again = await resubscribed;
  assert.deepEqual([...again.channels].sort(), [
    'AM.FAS',
    'AM.FAZ',
    'AM.SOXL',
    'AM.SOXS',
    'AM.SPXL',
    'AM.SPXS',
    'AM.SQQQ',
    'AM.SVIX',
    'AM.TNA',
    'AM.TQQQ',
    'AM.TZA',
    'AM.UVXY',
  ]);
  const after = sim.clock.now();
  await waitForRecords(kafka.bootstrapServers, prices, (records) => records.some((r) => (JSON.parse(r.value) as { endMs: number }).endMs > after), 15_000);
  assert.equal(await metric(gw, /sentio_gateway_reconnects_total\{reason="closed"\} (\d+)/), 1);
});

test('a silent stall is detected by ping/pong, readiness names it, and the reconnect waits within its bound', async (t) => {
  const minMs = 800;
  // Jitter pinned to its top so the first retry waits exactly the cap: RECONNECT_MIN_MS.
  const { sim, gw } = await setup(t, { PING_INTERVAL_MS: '100', STALL_TIMEOUT_MS: '600', RECONNECT_MIN_MS: String(minMs), RECONNECT_MAX_MS: '5000' }, () => 1);
  const firstConn = sim.stats.authAttempts[0]!.connId;
  const resubscribed = sim.waitFor('subscribed', (s) => s.connId !== firstConn, { timeoutMs: 15_000 });
  const stalledAt = performance.now();
  sim.faults.stall(5_000);
  const body = await eventually(
    'readiness names the stall',
    async () => {
      const r = await fetch(`${gw.gateway.httpUrl}/readyz`);
      const b = (await r.json()) as { failing?: { part: string; reason: string }[] };
      return r.status === 503 && b.failing?.some((f) => f.reason === 'stall') ? b : undefined;
    },
    10_000,
    10,
  );
  const detectedAt = performance.now();
  assert.deepEqual(body.failing, [{ part: 'feed', reason: 'stall' }]);
  assert.ok(detectedAt - stalledAt >= 600 - 150, `not declared dead before STALL_TIMEOUT_MS (${(detectedAt - stalledAt).toFixed(0)} ms)`);
  await resubscribed;
  const reconnectedAfter = performance.now() - detectedAt;
  assert.ok(reconnectedAfter >= minMs - 100, `waited ${reconnectedAfter.toFixed(0)} ms before reconnecting (cap ${minMs} ms)`);
  assert.ok(reconnectedAfter < minMs + 2_000, 'and not much longer');
  assert.equal(await metric(gw, /sentio_gateway_reconnects_total\{reason="stall"\} (\d+)/), 1);
  const line = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.reason === 'stall' && typeof l.delayMs === 'number');
  assert.equal(line?.delayMs, minMs);
});

test('max_connections: the gateway backs off for MAX_CONNECTIONS_RETRY_MS and says why', async (t) => {
  const retryMs = 700;
  const { sim, gw, key } = await setup(t, { MAX_CONNECTIONS_RETRY_MS: String(retryMs) });
  const gatewayConn = sim.stats.authAttempts[0]!.connId;
  sim.faults.dropConnections();
  // Another client takes the account's only slot before the gateway is back.
  const other = new WebSocket(sim.wsUrl);
  t.after(() => other.terminate());
  await new Promise<void>((resolve) =>
    other.on('message', (data: Buffer) => {
      const events = JSON.parse(data.toString()) as { status?: string }[];
      if (events.some((e) => e.status === 'connected')) other.send(JSON.stringify({ action: 'auth', params: key }));
      if (events.some((e) => e.status === 'auth_success')) resolve();
    }),
  );
  const rejected = await eventually(
    'two max_connections answers',
    () => {
      const refused = sim.stats.authAttempts.filter((a) => a.result === 'max_connections');
      return refused.length >= 2 ? refused : undefined;
    },
    15_000,
  );
  assert.ok(rejected[1]!.monoMs - rejected[0]!.monoMs >= retryMs - 5, `retried after ${(rejected[1]!.monoMs - rejected[0]!.monoMs).toFixed(0)} ms`);
  const ready = await fetch(`${gw.gateway.httpUrl}/readyz`);
  assert.equal(ready.status, 503);
  const body = (await ready.json()) as { failing: { part: string; reason: string }[] };
  assert.deepEqual(body.failing, [{ part: 'feed', reason: 'max_connections' }]);
  assert.ok((await metric(gw, /sentio_gateway_reconnects_total\{reason="max_connections"\} (\d+)/)) >= 1);
  // The slot frees up: the gateway gets back in on its next try.
  other.close();
  await sim.waitFor('subscribed', (s) => s.connId !== gatewayConn, { timeoutMs: 10_000 });
  assert.equal((await fetch(`${gw.gateway.httpUrl}/readyz`)).status, 200);
});

test('disconnect (another client took the slot): the gateway waits MAX_CONNECTIONS_RETRY_MS, says why, then returns', async (t) => {
  const retryMs = 700;
  const { sim, gw } = await setup(t, { MAX_CONNECTIONS_RETRY_MS: String(retryMs) });
  const gatewayConn = sim.stats.authAttempts[0]!.connId;
  const back = sim.waitFor('subscribed', (s) => s.connId !== gatewayConn, { timeoutMs: 10_000 });
  const kickedAt = performance.now();
  sim.faults.disconnect();
  const body = await eventually(
    'readiness names disconnect',
    async () => {
      const r = await fetch(`${gw.gateway.httpUrl}/readyz`);
      const b = (await r.json()) as { failing?: { part: string; reason: string }[] };
      return r.status === 503 && b.failing?.length ? b : undefined;
    },
    5_000,
    10,
  );
  assert.deepEqual(body.failing, [{ part: 'feed', reason: 'disconnect' }]);
  assert.equal(await metric(gw, /sentio_gateway_reconnects_total\{reason="disconnect"\} (\d+)/), 1);
  await back;
  assert.ok(performance.now() - kickedAt >= retryMs - 50, `came back after ${(performance.now() - kickedAt).toFixed(0)} ms (bound ${retryMs} ms)`);
});
