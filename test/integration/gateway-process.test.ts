import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Heartbeat } from '../../src/contracts/heartbeat.ts';
import { DEFAULT_SYMBOLS } from '../../src/contracts/polygon-wire.ts';
import type { PriceEvent } from '../../src/contracts/price-event.ts';
import { MINUTE_MS, minuteStart } from '../../src/contracts/time-format.ts';
import { topicNames } from '../../src/contracts/topics.ts';
import { createSimClock, simMinuteBar, startSimulator } from '../../src/sim/index.ts';
import { readTopic, useKafka, waitForRecords } from '../support/kafka.ts';
import { eventually, uniquePrefix } from '../support/gateway.ts';
import { spawnGateway } from '../support/child-gateway.ts';
import { assertMatchesBar, assertRevisionZeroOrder, priceRecords } from '../support/expect.ts';

const kafka = useKafka();

test('SIGTERM: exit 0 with every received bar in Kafka and a stopped heartbeat last', async (t) => {
  const key = `sigterm-${randomUUID()}`;
  const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T14:00:00Z'), msPerMinute: 300 });
  const sim = await startSimulator({ apiKey: key, clock });
  t.after(() => sim.close());
  const prefix = uniquePrefix('sigterm');
  const topics = topicNames(prefix);
  const runId = randomUUID();
  const gw = spawnGateway(['run'], {
    POLYGON_API_KEY: key,
    POLYGON_WS_URL: sim.wsUrl,
    POLYGON_REST_URL: sim.restUrl,
    KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
    // Follow the simulator's accelerated clock. On the wall clock, a start in the first
    // FILL_GRACE_MS of a wall minute made the first backfill wait for REST to settle a minute
    // the simulator (in March 2026) never serves, past the 10 s shutdown bound.
    MARKET_CLOCK: 'simulator',
    TOPIC_PREFIX: prefix,
    RUN_ID: runId,
    ENV: 'MOCK',
    HTTP_PORT: '0',
    HEARTBEAT_INTERVAL_MS: '200',
  });
  t.after(() => gw.child.kill('SIGKILL'));
  await sim.waitFor('subscribed', undefined, { timeoutMs: 30_000 });
  const first = minuteStart(clock.now());
  // Signal the moment a minute's bars have gone out, before the gateway can have acknowledged them all.
  await sim.waitForMinute(first + 4 * MINUTE_MS, { timeoutMs: 30_000 });
  const sentBeforeSignal = sim.stats.sentBars.map((b) => `${b.symbol}@${b.minuteMs}`);
  gw.child.kill('SIGTERM');
  const { code, signal } = await gw.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, [...gw.stderr, ...gw.lines.slice(-20).map((l) => JSON.stringify(l))].join('\n'));

  const records = priceRecords(await readTopic(kafka.bootstrapServers, topics.prices));
  const published = new Set(records.map((p) => `${p.event.symbol}@${p.event.startMs}`));
  const missing = sentBeforeSignal.filter((k) => !published.has(k));
  assert.deepEqual(missing, [], 'every bar sent before SIGTERM is in Kafka');
  assert.ok(sentBeforeSignal.length >= 4 * DEFAULT_SYMBOLS.length);
  assertRevisionZeroOrder(records);
  assert.equal(new Set(records.map((p) => `${p.event.symbol}@${p.event.startMs}@${p.event.revision}`)).size, records.length, 'no duplicates');
  for (const p of records) assertMatchesBar(p.event, simMinuteBar(p.event.symbol, p.event.startMs)!, p.event.tsET);

  const beats = (await readTopic(kafka.bootstrapServers, topics.heartbeat)).map((r) => JSON.parse(r.value) as Heartbeat);
  const last = beats.at(-1)!;
  assert.equal(last.status, 'stopped');
  assert.equal(last.runId, runId);
  assert.equal(beats.filter((b) => b.status === 'stopped').length, 1);
  assert.equal(last.barsPublished, records.length, 'the last heartbeat counts every record');
  t.diagnostic(`${sentBeforeSignal.length} bars sent before SIGTERM, ${records.length} records in Kafka`);
});

test('the README command with nothing configured: simulator, embedded broker, ready, bars of all 12 symbols', async (t) => {
  const started = performance.now();
  const gw = spawnGateway(['run'], { HTTP_PORT: '0', EMBEDDED_KAFKA_PORT: '0', HEARTBEAT_INTERVAL_MS: '1000' });
  t.after(() => gw.child.kill('SIGKILL'));
  const line = await gw.waitForLine((l) => l.msg === 'gateway started', 120_000);
  const http = line.http as string;
  const bootstrap = (line.bootstrap as string[])[0]!;
  await eventually('/readyz 200', async () => ((await fetch(`${http}/readyz`)).status === 200 ? true : undefined), 60_000, 100);
  const readyAfter = performance.now() - started;
  // The simulator's recent history comes first as backfill; wait for the socket's bars of every symbol.
  const records = await waitForRecords(
    bootstrap,
    topicNames().prices,
    (rs) => new Set(rs.filter((r) => r.headers.source === 'live').map((r) => r.key)).size === DEFAULT_SYMBOLS.length,
    60_000,
  );
  const allAfter = performance.now() - started;
  const events = records.map((r) => JSON.parse(r.value) as PriceEvent);
  assert.ok(records.every((r) => r.headers.env === 'MOCK'));
  assert.ok(
    events.some((e) => e.source === 'backfill'),
    'recent history was backfilled from REST',
  );
  gw.child.kill('SIGTERM');
  assert.equal((await gw.exited).code, 0, gw.stderr.join('\n'));
  assert.ok(gw.lines.some((l) => l.msg === 'embedded Kafka broker ready'));
  t.diagnostic(
    `ready after ${(readyAfter / 1000).toFixed(1)} s; live bars of all 12 symbols after ${(allAfter / 1000).toFixed(1)} s (including the embedded broker's start)`,
  );
});

test('bad settings stop start-up with one line each, naming the setting', async () => {
  const gw = spawnGateway(['run'], { HTTP_PORT: 'eighty', FILL_EMPTY_MINUTES: 'sometimes', POLYGON_API_KEY: 'a-secret-key-value' });
  const { code } = await gw.exited;
  assert.equal(code, 2);
  assert.equal(gw.stderr.length, 2, gw.stderr.join('\n'));
  assert.match(gw.stderr.find((l) => l.includes('HTTP_PORT')) ?? '', /^sentio-gateway: bad setting HTTP_PORT: must be a whole number/);
  assert.match(gw.stderr.find((l) => l.includes('FILL_EMPTY_MINUTES')) ?? '', /regular, off, all/);
  assert.ok(!gw.stderr.join('').includes('a-secret-key-value'));
});

test('without Java or Maven and no broker configured, start-up fails with one line saying what to do', async () => {
  // A PATH with node but neither java nor mvn.
  const gw = spawnGateway(['run'], { HTTP_PORT: '0', EMBEDDED_KAFKA_PORT: '0' }, { path: dirname(process.execPath) });
  const { code } = await gw.exited;
  assert.equal(code, 2);
  const message = gw.stderr.join('\n');
  assert.equal(gw.stderr.length, 1, message);
  assert.match(message, /KAFKA_BOOTSTRAP_SERVERS/);
  assert.match(message, /java|Java/);
});
