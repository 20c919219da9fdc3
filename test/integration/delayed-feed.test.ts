import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createCalendar } from '../../src/bars/calendar.ts';
import { DEFAULT_SYMBOLS } from '../../src/contracts/polygon-wire.ts';
import type { Heartbeat } from '../../src/contracts/heartbeat.ts';
import { MINUTE_MS, minuteStart } from '../../src/contracts/time-format.ts';
import { topicNames } from '../../src/contracts/topics.ts';
import { createSimClock, simMinuteBar, startSimulator, type SentBar } from '../../src/sim/index.ts';
import { readTopic, useKafka, waitForRecords } from '../support/kafka.ts';
import { startTestGateway, uniquePrefix } from '../support/gateway.ts';
import { spawnGateway } from '../support/child-gateway.ts';
import { assertMatchesBar, assertRevisionZeroOrder, priceRecords, type PriceRecord } from '../support/expect.ts';

const kafka = useKafka();
/** The vendor's delayed plans: every bar, and REST, 15 minutes late. */
const DELAY_MS = 15 * MINUTE_MS;
const MINUTES = 42;
const MS_PER_MINUTE = 250;
const calendar = createCalendar();

interface DelayedRun {
  records: PriceRecord[];
  beats: Heartbeat[];
  /** Start of the first minute of the checked window (feed time). */
  first: number;
  at(i: number): number;
  sentBars: readonly SentBar[];
  connections: number;
  lagSeconds: number;
}

/**
 * The 12 symbols on a simulator that runs its whole feed 15 market minutes late, a gateway
 * told so, two socket kills, and a bar in every minute unless `silent` says otherwise.
 */
async function runDelayedFeed(t: TestContext, silent?: { symbol: string; minuteIndex: number }): Promise<DelayedRun> {
  const key = `delayed-${randomUUID()}`;
  // 09:40 New York by the exchange's clock, so the delayed feed starts in the pre-market (09:25).
  const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T13:40:00Z'), msPerMinute: MS_PER_MINUTE });
  const sim = await startSimulator({ apiKey: key, clock, feedDelayMarketMs: DELAY_MS });
  t.after(() => sim.close());
  const prefix = uniquePrefix('delayed');
  const topics = topicNames(prefix);
  const subscribed = sim.waitFor('subscribed');
  const gw = await startTestGateway(
    {
      POLYGON_API_KEY: key,
      POLYGON_WS_URL: sim.wsUrl,
      POLYGON_REST_URL: sim.restUrl,
      KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
      TOPIC_PREFIX: prefix,
      ENV: 'MOCK',
      POLYGON_FEED_DELAY_MS: String(DELAY_MS),
      HEARTBEAT_INTERVAL_MS: '300',
      PING_INTERVAL_MS: '100',
      STALL_TIMEOUT_MS: '1000',
      RECONNECT_MIN_MS: '50',
      RECONNECT_MAX_MS: '400',
    },
    { clock },
  );
  t.after(() => gw.stop());
  await subscribed;
  // The minute the delayed feed was in when the gateway subscribed: the window starts there.
  const first = minuteStart(clock.now() - DELAY_MS);
  const at = (i: number) => first + i * MINUTE_MS;
  if (silent !== undefined) {
    const entry = sim.faults.skipMinute(silent.symbol, at(silent.minuteIndex));
    assert.equal(entry.outcome, 'applied', 'the silent minute is still ahead of the feed');
  }
  // Two kills, in the feed's minutes 12 and 27 (the market clock is 15 minutes ahead of it).
  sim.faults.plan([12, 27].map((i) => ({ atMinuteMs: at(i) + DELAY_MS, offsetMarketMs: 20_000, kind: 'dropConnections' as const })));

  const last = at(MINUTES - 1);
  await sim.waitForMinute(last, { timeoutMs: 120_000 });
  await waitForRecords(
    kafka.bootstrapServers,
    topics.prices,
    (raw) => {
      const zeros = priceRecords(raw).filter((p) => p.event.revision === 0 && p.event.startMs >= first && p.event.startMs <= last);
      return zeros.length >= DEFAULT_SYMBOLS.length * MINUTES;
    },
    60_000,
  );
  const metrics = await gw.gateway.metrics.registry.metrics();
  await gw.stop();
  return {
    records: priceRecords(await readTopic(kafka.bootstrapServers, topics.prices)),
    beats: (await readTopic(kafka.bootstrapServers, topics.heartbeat)).map((r) => JSON.parse(r.value) as Heartbeat),
    first,
    at,
    sentBars: sim.stats.sentBars,
    connections: sim.stats.connectionsOpened,
    lagSeconds: Number(/^sentio_gateway_feed_lag_seconds (\S+)$/m.exec(metrics)?.[1]),
  };
}

/** Exactly one revision-0 record per (symbol, minute) of the window, each the simulator's bar unless `filled` names it. */
function assertWindow(run: DelayedRun, filled: (symbol: string, minute: number) => boolean): void {
  const bySymbol = assertRevisionZeroOrder(run.records);
  for (const symbol of DEFAULT_SYMBOLS) {
    const zeros = (bySymbol.get(symbol) ?? []).filter((p) => p.event.startMs >= run.first && p.event.startMs <= run.at(MINUTES - 1));
    assert.deepEqual(
      zeros.map((p) => p.event.startMs),
      Array.from({ length: MINUTES }, (_, i) => run.at(i)),
      `${symbol}: one revision-0 record per minute`,
    );
    for (const { event } of zeros) {
      if (filled(symbol, event.startMs)) assert.equal(event.source, 'filled', `${symbol} ${event.tsET}`);
      else assertMatchesBar(event, simMinuteBar(symbol, event.startMs)!, `${symbol} ${event.tsET}`);
    }
  }
}

test('a 15-minute delayed feed: every minute once at revision 0, nothing filled, nothing revised, through two socket kills', async (t) => {
  const run = await runDelayedFeed(t);
  assertWindow(run, () => false);
  assert.deepEqual(
    run.records.filter((p) => p.event.source === 'filled').map((p) => `${p.event.symbol} ${p.event.tsET}`),
    [],
    'no invented bars',
  );
  assert.deepEqual(
    run.records.filter((p) => p.event.revision > 0).map((p) => `${p.event.symbol} ${p.event.tsET} r${p.event.revision}`),
    [],
    'no revisions',
  );
  assert.ok(run.connections >= 3, `two kills, two reconnects (${run.connections} connections)`);
  // The gateway measured the feed as 15 minutes (and the simulator's 2 s) behind the market.
  assert.ok(run.lagSeconds >= DELAY_MS / 1000 && run.lagSeconds < DELAY_MS / 1000 + 120, `feed lag ${run.lagSeconds} s`);
  // marketSession is the feed's: at the exchange's 09:40-09:45 the delayed feed is still pre-market.
  const early = run.beats.filter(
    (b) =>
      b.status !== 'stopped' && calendar.marketSessionOf(Date.parse(b.ts)) === 'regular' && calendar.marketSessionOf(Date.parse(b.ts) - DELAY_MS) === 'pre',
  );
  assert.ok(early.length > 0, 'heartbeats were sent while only the exchange had opened');
  assert.deepEqual([...new Set(early.map((b) => b.marketSession))], ['pre']);
  t.diagnostic(`${run.records.length} records, ${run.connections} connections, feed lag ${run.lagSeconds.toFixed(1)} s`);
});

test('a 15-minute delayed feed with one symbol silent for a minute: that minute is filled once, only after a later bar proved it', async (t) => {
  const silent = { symbol: 'SOXL', minuteIndex: 20 };
  const run = await runDelayedFeed(t, silent);
  const silentMinute = run.at(silent.minuteIndex);
  assertWindow(run, (symbol, minute) => symbol === silent.symbol && minute === silentMinute);
  const fills = run.records.filter((p) => p.event.source === 'filled');
  assert.deepEqual(
    fills.map((p) => [p.event.symbol, p.event.startMs, p.event.revision]),
    [[silent.symbol, silentMinute, 0]],
    'exactly one filled record',
  );
  assert.deepEqual(
    run.records.filter((p) => p.event.revision > 0).map((p) => `${p.event.symbol} ${p.event.tsET}`),
    [],
    'no revisions',
  );
  const fill = fills[0]!;
  const previous = run.records.find((p) => p.event.symbol === silent.symbol && p.event.startMs === silentMinute - MINUTE_MS && p.event.revision === 0)!;
  assert.equal(fill.event.close, previous.event.close, 'it repeats the previous close');
  // The proof: the simulator had sent a bar of a later minute before the record was written.
  const proofSentAt = Math.min(...run.sentBars.filter((b) => b.kind === 'bar' && b.minuteMs > silentMinute).map((b) => b.wallMs));
  assert.ok(
    fill.record.timestamp >= proofSentAt,
    `filled at ${new Date(fill.record.timestamp).toISOString()}, first later bar sent at ${new Date(proofSentAt).toISOString()}`,
  );
  t.diagnostic(`${silent.symbol} ${fill.event.tsET} filled ${fill.record.timestamp - proofSentAt} ms after the first later bar was sent`);
});

test('a bad POLYGON_FEED_DELAY_MS stops start-up with one line naming it', async () => {
  const gw = spawnGateway(['run'], { POLYGON_FEED_DELAY_MS: 'fifteen minutes', HTTP_PORT: '0' });
  const { code } = await gw.exited;
  assert.equal(code, 2);
  assert.deepEqual(gw.stderr, ['sentio-gateway: bad setting POLYGON_FEED_DELAY_MS: must be a whole number, got "fifteen minutes"']);
});
