import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DEFAULT_SYMBOLS } from '../../src/contracts/polygon-wire.ts';
import { MINUTE_MS, minuteStart } from '../../src/contracts/time-format.ts';
import { topicNames } from '../../src/contracts/topics.ts';
import type { Heartbeat } from '../../src/contracts/heartbeat.ts';
import { createSimClock, simCorrectedBar, simMinuteBar, startSimulator } from '../../src/sim/index.ts';
import { readTopic, useKafka, waitForRecords } from '../support/kafka.ts';
import { startTestGateway, uniquePrefix } from '../support/gateway.ts';
import { assertContractShape, assertMatchesBar, assertRevisionZeroOrder, priceRecords } from '../support/expect.ts';

const kafka = useKafka();
const MINUTES = 30;

test('30 simulated minutes of the 12 symbols reach Kafka exactly once, in order, with repeats dropped and corrections revised', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const key = `e2e-${randomUUID()}`;
  // A regular-session morning (EDT), so barIds are real; 150 wall ms per market minute.
  const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T13:45:00Z'), msPerMinute: 150 });
  const sim = await startSimulator({ apiKey: key, clock });
  t.after(() => sim.close());
  const prefix = uniquePrefix('e2e');
  const topics = topicNames(prefix);
  const runId = randomUUID();
  const subscribed = sim.waitFor('subscribed');
  const gw = await startTestGateway(
    {
      POLYGON_API_KEY: key,
      POLYGON_WS_URL: sim.wsUrl,
      POLYGON_REST_URL: sim.restUrl,
      KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
      TOPIC_PREFIX: prefix,
      RUN_ID: runId,
      ENV: 'MOCK',
      HEARTBEAT_INTERVAL_MS: '300',
      FILL_GRACE_MS: '45000',
    },
    { clock },
  );
  t.after(() => gw.stop());
  await subscribed;

  // Every minute from the one in progress at subscription on is sent after we subscribed.
  const first = minuteStart(clock.now());
  const window = Array.from({ length: MINUTES }, (_, i) => first + i * MINUTE_MS);
  const at = (i: number) => first + i * MINUTE_MS;
  // Corrections: one, two in a row, and one that arrives after later minutes were published.
  const corrections = new Map<string, number>([
    [`SQQQ@${at(5)}`, 1],
    [`TNA@${at(6)}`, 2],
    [`FAS@${at(8)}`, 1],
  ]);
  sim.faults.plan([
    { atMinuteMs: at(3), offsetMarketMs: 5_000, kind: 'repeatBar', symbol: 'TQQQ' },
    { atMinuteMs: at(4), offsetMarketMs: 5_000, kind: 'repeatBar', symbol: 'SOXL' },
    { atMinuteMs: at(5), offsetMarketMs: 10_000, kind: 'correctBar', symbol: 'SQQQ' },
    { atMinuteMs: at(6), offsetMarketMs: 10_000, kind: 'correctBar', symbol: 'TNA' },
    { atMinuteMs: at(6), offsetMarketMs: 20_000, kind: 'correctBar', symbol: 'TNA' },
    { atMinuteMs: at(12), offsetMarketMs: 10_000, kind: 'correctBar', symbol: 'FAS', minuteMs: at(8) },
    { atMinuteMs: at(10), offsetMarketMs: 10_000, kind: 'sendMalformed', text: '[{"ev":"AM","sym":"TQQQ","o":"not a number"}' },
    // A repeat of the corrected bar later still: identical to the latest revision, so dropped.
    { atMinuteMs: at(14), offsetMarketMs: 10_000, kind: 'repeatBar', symbol: 'SQQQ', minuteMs: at(5) },
  ]);
  const inWindow = (ms: number) => ms >= first && ms < first + MINUTES * MINUTE_MS;
  const revisionsExpected = [...corrections.values()].reduce((a, b) => a + b, 0);

  await waitForRecords(
    kafka.bootstrapServers,
    topics.prices,
    (records) => {
      const events = priceRecords(records).map((p) => p.event);
      return (
        events.filter((e) => e.revision === 0 && inWindow(e.startMs)).length >= MINUTES * DEFAULT_SYMBOLS.length &&
        events.filter((e) => e.revision > 0).length >= revisionsExpected
      );
    },
    60_000,
  );
  // The late repeat comes after the window closed in Kafka: wait for the simulator to send it.
  await sim.waitForMinute(at(15));
  await gw.stop();

  const records = priceRecords(await readTopic(kafka.bootstrapServers, topics.prices));
  for (const p of records) assertContractShape(p, { strategy: 'SIGOR', env: 'MOCK', runId });
  const bySymbol = assertRevisionZeroOrder(records);

  let checked = 0;
  for (const symbol of DEFAULT_SYMBOLS) {
    const zeros = (bySymbol.get(symbol) ?? []).filter((p) => inWindow(p.event.startMs));
    assert.deepEqual(
      zeros.map((p) => p.event.startMs),
      window,
      `${symbol}: one revision-0 record per minute`,
    );
    for (const p of zeros) {
      assertMatchesBar(p.event, simMinuteBar(symbol, p.event.startMs)!, `${symbol} ${p.event.tsET}`);
      // Live from the socket, or from REST when the start-up backfill reached that minute first.
      assert.ok(p.event.source === 'live' || p.event.source === 'backfill', p.event.source);
      checked += 1;
    }
  }
  assert.equal(checked, MINUTES * DEFAULT_SYMBOLS.length);

  assert.equal(records.filter((p) => p.event.source === 'filled').length, 0, 'the simulator left no minute empty');
  assert.ok(records.filter((p) => inWindow(p.event.startMs)).some((p) => p.event.source === 'live'));
  const revised = records.filter((p) => p.event.revision > 0);
  assert.equal(revised.length, revisionsExpected, 'one record per correction, none for repeats');
  for (const [where, count] of corrections) {
    const [symbol, minute] = [where.split('@')[0]!, Number(where.split('@')[1])];
    const mine = revised.filter((p) => p.event.symbol === symbol && p.event.startMs === minute);
    assert.deepEqual(
      mine.map((p) => p.event.revision),
      Array.from({ length: count }, (_, i) => i + 1),
      where,
    );
    const original = simMinuteBar(symbol, minute)!;
    mine.forEach((p, i) => assertMatchesBar(p.event, simCorrectedBar(original, i + 1), `${where} revision ${i + 1}`));
  }
  // FAS's correction for minute 8 came after minutes 9..12 were published.
  const fas = records.filter((p) => p.event.symbol === 'FAS');
  const fasCorrection = fas.findIndex((p) => p.event.revision === 1);
  assert.ok(
    fas.slice(0, fasCorrection).some((p) => p.event.startMs > at(8)),
    'a correction may follow later minutes',
  );

  const metrics = await gw.gateway.metrics.registry.getSingleMetricAsString('sentio_gateway_events_dropped_total');
  const dropped = (reason: string) => Number(new RegExp(`reason="${reason}"} (\\d+)`).exec(metrics)?.[1] ?? 0);
  // Only the simulator's repeats: a live bar that lost the race with the start-up backfill
  // is counted as `live_after_backfill`, whichever way the race went in this run.
  assert.equal(dropped('duplicate'), 3, 'the three repeats were dropped and counted');
  assert.ok(dropped('bad_field') + dropped('missing_field') + dropped('not_json') >= 1, `malformed frame counted: ${metrics}`);

  const beats = (await readTopic(kafka.bootstrapServers, topics.heartbeat)).map((r) => ({ key: r.key, beat: JSON.parse(r.value) as Heartbeat }));
  assert.ok(beats.length >= 2);
  for (const { key: k, beat } of beats) {
    assert.equal(k, runId);
    assert.deepEqual(
      Object.keys(beat).sort(),
      [
        'barsPublished',
        'completeTsET',
        'env',
        'feed',
        'feedReason',
        'kafkaWritable',
        'lastBarTsET',
        'marketSession',
        'role',
        'runId',
        'status',
        'strategy',
        'ts',
        'tsET',
        'uptimeS',
        'version',
      ].sort(),
    );
    assert.match(beat.ts, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.equal(beat.role, 'single', 'HA_MODE off: the one writer');
  }
  const last = beats.at(-1)!.beat;
  assert.equal(last.status, 'stopped');
  assert.equal(last.barsPublished, records.length);
  assert.ok(beats.some(({ beat }) => beat.status === 'ok' && beat.feed === 'subscribed' && beat.marketSession === 'regular' && beat.completeTsET !== null));
  assert.deepEqual(
    warnings.filter((w) => !w.startsWith('ExperimentalWarning')),
    [],
    'no process warnings (kafkajs request-queue fix in place)',
  );
  t.diagnostic(
    `checked ${checked} revision-0 records and ${revised.length} revisions; ${records.length} records, ${beats.length} heartbeats in all; ${dropped('live_after_backfill')} live bars lost the race with the start-up backfill`,
  );
});
