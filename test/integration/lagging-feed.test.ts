import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createCalendar } from '../../src/bars/calendar.ts';
import { DEFAULT_SYMBOLS } from '../../src/contracts/polygon-wire.ts';
import { MINUTE_MS, minuteStart } from '../../src/contracts/time-format.ts';
import { topicNames } from '../../src/contracts/topics.ts';
import { createSimClock, simMinuteBar, startSimulator, type FaultLogEntry } from '../../src/sim/index.ts';
import { readTopic, useKafka, waitForRecords } from '../support/kafka.ts';
import { startTestGateway, uniquePrefix } from '../support/gateway.ts';
import { assertMatchesBar, assertRevisionZeroOrder, priceRecords } from '../support/expect.ts';

const kafka = useKafka();
const MINUTES = 90;
const MS_PER_MINUTE = 200;
const HOURS_BACK = 4;

/**
 * The latest instant at least `hoursBack` hours ago from which the regular session runs on
 * for `minutes` more minutes, so that filling is possible throughout (a bar invented for a
 * minute that had one would show), whenever the test runs.
 */
function regularSessionHoursBack(nowMs: number, hoursBack: number, minutes: number): number {
  const calendar = createCalendar();
  for (let t = minuteStart(nowMs - hoursBack * 3_600_000); ; t -= MINUTE_MS) {
    if (calendar.marketSessionOf(t) === 'regular' && calendar.marketSessionOf(t + (minutes + 10) * MINUTE_MS) === 'regular') return t;
  }
}

test("bars dated hours behind the gateway's clock, six socket kills (two within one backfill): no hole, no duplicate, in order, nothing invented", async (t) => {
  const key = `lag-${randomUUID()}`;
  // The simulator's market runs hours behind the wall clock the gateway keeps (a replayed
  // stream, a badly synced host, a delayed feed with no delay set), and 300 times as fast.
  const clock = createSimClock({ startMarketMs: regularSessionHoursBack(Date.now(), HOURS_BACK, MINUTES), msPerMinute: MS_PER_MINUTE });
  const sim = await startSimulator({ apiKey: key, clock });
  t.after(() => sim.close());
  const prefix = uniquePrefix('lag');
  const prices = topicNames(prefix).prices;
  const kills: { entry: FaultLogEntry; restInFlight: number }[] = [];
  sim.events.on('fault', (entry) => {
    if (entry.kind === 'dropConnections') kills.push({ entry, restInFlight: sim.restRequestsInFlight() });
  });
  const subscribed = sim.waitFor('subscribed');
  // No clock option: the gateway runs on the wall clock, as in production.
  const gw = await startTestGateway({
    POLYGON_API_KEY: key,
    POLYGON_WS_URL: sim.wsUrl,
    POLYGON_REST_URL: sim.restUrl,
    KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
    TOPIC_PREFIX: prefix,
    ENV: 'MOCK',
    PING_INTERVAL_MS: '100',
    STALL_TIMEOUT_MS: '1000',
    RECONNECT_MIN_MS: '50',
    RECONNECT_MAX_MS: '400',
  });
  t.after(() => gw.stop());
  await subscribed;
  const first = minuteStart(clock.now());
  const at = (i: number) => first + i * MINUTE_MS;
  // Six kills; around the third and fourth, REST answers take 600 wall ms (three market
  // minutes), so the backfill started after the third is still waiting on REST at the fourth.
  sim.faults.plan([
    ...[8, 20, 32, 50, 65].map((i) => ({ atMinuteMs: at(i), offsetMarketMs: 10_000, kind: 'dropConnections' as const })),
    { atMinuteMs: at(31), kind: 'restLatency', wallMs: 600 },
    { atMinuteMs: at(33), offsetMarketMs: 30_000, kind: 'dropConnections' },
    { atMinuteMs: at(40), kind: 'restLatency', wallMs: 0 },
  ]);

  const last = at(MINUTES - 1);
  await sim.waitForMinute(last, { timeoutMs: 120_000 });
  await waitForRecords(
    kafka.bootstrapServers,
    prices,
    (raw) => {
      const zeros = priceRecords(raw).filter((p) => p.event.revision === 0 && p.event.startMs >= first && p.event.startMs <= last);
      return zeros.length >= DEFAULT_SYMBOLS.length * MINUTES;
    },
    60_000,
  );
  const metrics = await gw.gateway.metrics.registry.metrics();
  const behind = (Date.now() - clock.now()) / 1000;
  await gw.stop();

  const records = priceRecords(await readTopic(kafka.bootstrapServers, prices));
  const bySymbol = assertRevisionZeroOrder(records);
  const keys = records.map((p) => `${p.event.symbol}@${p.event.startMs}@${p.event.revision}`);
  assert.equal(new Set(keys).size, keys.length, 'no (symbol, minute, revision) twice');
  for (const symbol of DEFAULT_SYMBOLS) {
    const zeros = (bySymbol.get(symbol) ?? []).filter((p) => p.event.startMs >= first && p.event.startMs <= last);
    assert.deepEqual(
      zeros.map((p) => p.event.startMs),
      Array.from({ length: MINUTES }, (_, i) => at(i)),
      `${symbol}: every minute once`,
    );
    for (const { event } of zeros) assertMatchesBar(event, simMinuteBar(symbol, event.startMs)!, `${symbol} ${event.tsET}`);
  }
  assert.deepEqual(
    records.filter((p) => p.event.source === 'filled').map((p) => `${p.event.symbol} ${p.event.tsET}`),
    [],
    'every minute had a bar: nothing filled',
  );
  assert.deepEqual(
    records.filter((p) => p.event.revision > 0).map((p) => `${p.event.symbol} ${p.event.tsET}`),
    [],
    'nothing revised',
  );

  assert.equal(kills.length, 6, 'six kills ran');
  assert.ok(
    kills.some((k) => k.restInFlight > 0),
    `a kill came while a backfill waited on REST (in flight at each kill: ${kills.map((k) => k.restInFlight).join(', ')})`,
  );
  assert.ok(sim.stats.connectionsOpened >= 7, `the gateway reconnected after each kill (${sim.stats.connectionsOpened} connections)`);
  const lag = Number(/^sentio_gateway_feed_lag_seconds (\S+)$/m.exec(metrics)?.[1]);
  // Measured at the last frame that brought a newer minute: at most a market minute or two
  // before the metrics were read, while the simulator kept gaining on the wall clock.
  assert.ok(lag >= behind - 1 && lag <= behind + 120, `the gateway measured the feed ${lag} s behind; it was ${behind} s behind`);
  t.diagnostic(
    `${records.length} records; feed ${(lag / 3600).toFixed(2)} h behind at the end; REST requests in flight at each kill: ${kills.map((k) => k.restInFlight).join(', ')}`,
  );
});
