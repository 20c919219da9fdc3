import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DEFAULT_SYMBOLS } from '../../src/contracts/polygon-wire.ts';
import type { Heartbeat } from '../../src/contracts/heartbeat.ts';
import { MINUTE_MS, minuteStart } from '../../src/contracts/time-format.ts';
import { topicNames } from '../../src/contracts/topics.ts';
import { startEmbeddedKafka } from '../../src/dev/embedded-kafka.ts';
import { createSimClock, simMinuteBar, startSimulator } from '../../src/sim/index.ts';
import { readTopic, waitForRecords } from '../support/kafka.ts';
import { eventually, startTestGateway, uniquePrefix } from '../support/gateway.ts';
import { assertMatchesBar, assertRevisionZeroOrder, priceRecords } from '../support/expect.ts';

const MAX_BUFFERED = 135; // about 11 minutes of the 12 symbols; one symbol's backfill (120 + 15) still fits

test('Kafka outage: the socket keeps being read, readiness says kafka, the full buffer drops its oldest and backfill recovers them in order', async (t) => {
  const broker = await startEmbeddedKafka();
  t.after(() => broker.dispose());
  const key = `outage-${randomUUID()}`;
  const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T14:00:00Z'), msPerMinute: 300 });
  const sim = await startSimulator({ apiKey: key, clock });
  t.after(() => sim.close());
  const prefix = uniquePrefix('outage');
  const topics = topicNames(prefix);
  const subscribed = sim.waitFor('subscribed');
  const gw = await startTestGateway(
    {
      POLYGON_API_KEY: key,
      POLYGON_WS_URL: sim.wsUrl,
      POLYGON_REST_URL: sim.restUrl,
      KAFKA_BOOTSTRAP_SERVERS: broker.bootstrapServers,
      TOPIC_PREFIX: prefix,
      MAX_BUFFERED_BARS: String(MAX_BUFFERED),
      HEARTBEAT_INTERVAL_MS: '200',
      FILL_GRACE_MS: '60000',
      ENV: 'MOCK',
    },
    { clock },
  );
  t.after(() => gw.stop());
  await subscribed;
  const first = minuteStart(clock.now());
  await waitForRecords(broker.bootstrapServers, topics.prices, (rs) => priceRecords(rs).filter((p) => p.event.startMs >= first).length >= 24, 30_000);
  const metric = async (re: RegExp) => Number(re.exec(await gw.gateway.metrics.registry.metrics())?.[1] ?? 0);

  await broker.stop();
  const outageStart = clock.now();
  const body = await eventually(
    'readiness names kafka',
    async () => {
      const r = await fetch(`${gw.gateway.httpUrl}/readyz`);
      const b = (await r.json()) as { failing?: { part: string; reason: string }[] };
      return r.status === 503 && b.failing?.some((f) => f.part === 'kafka') ? b : undefined;
    },
    30_000,
  );
  assert.deepEqual(body.failing, [{ part: 'kafka', reason: 'not_writable' }]);
  // Bars keep arriving and overflow the small buffer: the oldest are dropped and counted.
  await eventually(
    'overflow',
    async () => ((await metric(/sentio_gateway_events_dropped_total\{reason="buffer_overflow"\} (\d+)/)) > 0 ? true : undefined),
    30_000,
  );
  assert.ok((await metric(/sentio_gateway_buffered_bars (\d+)/)) <= MAX_BUFFERED + 8, 'the buffer stays bounded');
  const receivedDuringOutage = await metric(/sentio_gateway_events_received_total\{type="AM"\} (\d+)/);
  await sim.waitForMinute(minuteStart(clock.now()) + MINUTE_MS);
  assert.ok((await metric(/sentio_gateway_events_received_total\{type="AM"\} (\d+)/)) > receivedDuringOutage, 'the socket is still read');

  await broker.start();
  const recoveredAt = clock.now();
  await eventually('ready again', async () => ((await fetch(`${gw.gateway.httpUrl}/readyz`)).status === 200 ? true : undefined), 60_000);
  const through = minuteStart(clock.now()) - 2 * MINUTE_MS;
  await waitForRecords(
    broker.bootstrapServers,
    topics.prices,
    (rs) => {
      const zeros = priceRecords(rs).filter((p) => p.event.revision === 0 && p.event.startMs >= first && p.event.startMs <= through);
      return zeros.length >= DEFAULT_SYMBOLS.length * ((through - first) / MINUTE_MS + 1);
    },
    60_000,
  );
  await gw.stop();

  const records = priceRecords(await readTopic(broker.bootstrapServers, topics.prices));
  assertRevisionZeroOrder(records);
  const keys = records.map((p) => `${p.event.symbol}@${p.event.startMs}@${p.event.revision}`);
  assert.equal(new Set(keys).size, keys.length, 'nothing twice');
  for (const symbol of DEFAULT_SYMBOLS) {
    for (let minute = first; minute <= through; minute += MINUTE_MS) {
      const zero = records.filter((p) => p.event.symbol === symbol && p.event.startMs === minute && p.event.revision === 0);
      assert.equal(zero.length, 1, `${symbol} ${new Date(minute).toISOString()}`);
      assertMatchesBar(zero[0]!.event, simMinuteBar(symbol, minute)!, `${symbol} ${new Date(minute).toISOString()}`);
    }
  }
  assert.equal(sim.stats.connectionsOpened, 1, 'the vendor never cut us off');
  assert.equal(sim.stats.slowConsumersCut, 0);
  const beats = (await readTopic(broker.bootstrapServers, topics.heartbeat)).map((r) => JSON.parse(r.value) as Heartbeat);
  assert.ok(
    beats.some((b) => b.kafkaWritable && Date.parse(b.ts) >= recoveredAt),
    'a heartbeat says Kafka is writable again',
  );
  assert.ok(
    beats.some((b) => !b.kafkaWritable && Date.parse(b.ts) >= outageStart),
    'heartbeats made during the outage say so',
  );
  assert.ok(
    records.some((p) => p.event.source === 'backfill' && p.event.startMs > first),
    'overflowed bars came back from REST',
  );
  t.diagnostic(
    `${records.length} records; ${await metric(/sentio_gateway_events_dropped_total\{reason="buffer_overflow"\} (\d+)/)} bars overflowed and were recovered`,
  );
});
