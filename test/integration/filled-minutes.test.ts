import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MINUTE_MS } from '../../src/contracts/time-format.ts';
import { topicNames } from '../../src/contracts/topics.ts';
import { createSimClock, simMinuteBar, startSimulator } from '../../src/sim/index.ts';
import { readTopic, useKafka, waitForRecords } from '../support/kafka.ts';
import { startTestGateway, uniquePrefix } from '../support/gateway.ts';
import { assertMatchesBar, assertRevisionZeroOrder, priceRecords } from '../support/expect.ts';

const kafka = useKafka();
const SYMBOLS = ['TQQQ', 'SQQQ'];
const EMPTY_RATE = 0.05;

test('a full regular session with empty minutes: 391 records per symbol, and a late real bar revises its filled minute', async (t) => {
  const key = `fill-${randomUUID()}`;
  // 09:28 New York (EDT) on a normal Tuesday; 50 wall ms per market minute.
  const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T13:28:00Z'), msPerMinute: 50 });
  const sim = await startSimulator({ apiKey: key, clock, emptyRate: EMPTY_RATE });
  t.after(() => sim.close());
  const prefix = uniquePrefix('fill');
  const prices = topicNames(prefix).prices;
  const open = Date.parse('2026-03-10T13:30:00Z');
  const closeMinute = Date.parse('2026-03-10T20:00:00Z'); // 16:00 New York: barId 391
  // Pick a minute of TQQQ that has a bar and hold that bar back for three market minutes.
  let late = open + 45 * MINUTE_MS;
  while (simMinuteBar('TQQQ', late, { emptyRate: EMPTY_RATE }) === null) late += MINUTE_MS;
  sim.faults.plan([{ atMinuteMs: late, kind: 'delayBar', symbol: 'TQQQ', marketMs: 3 * MINUTE_MS }]);

  const gw = await startTestGateway(
    {
      POLYGON_API_KEY: key,
      POLYGON_WS_URL: sim.wsUrl,
      POLYGON_REST_URL: sim.restUrl,
      KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
      TOPIC_PREFIX: prefix,
      SYMBOLS: SYMBOLS.join(','),
      FILL_EMPTY_MINUTES: 'regular',
      ENV: 'MOCK',
    },
    { clock },
  );
  t.after(() => gw.stop());
  await waitForRecords(
    kafka.bootstrapServers,
    prices,
    (records) => SYMBOLS.every((s) => priceRecords(records).some((p) => p.event.symbol === s && p.event.barId === 391)),
    90_000,
  );
  await gw.stop();

  const records = priceRecords(await readTopic(kafka.bootstrapServers, prices));
  assertRevisionZeroOrder(records);
  let filled = 0;
  for (const symbol of SYMBOLS) {
    const session = records.filter((p) => p.event.symbol === symbol && p.event.barId !== null && p.event.revision === 0);
    assert.deepEqual(
      session.map((p) => p.event.barId),
      Array.from({ length: 391 }, (_, i) => i + 1),
      `${symbol}: every minute from 1 to 391 once`,
    );
    assert.equal(session[0]!.event.startMs, open);
    assert.equal(session.at(-1)!.event.startMs, closeMinute);
    for (const { event } of session) {
      const bar = simMinuteBar(symbol, event.startMs, { emptyRate: EMPTY_RATE });
      if (bar === null || (symbol === 'TQQQ' && event.startMs === late)) {
        assert.equal(event.source, 'filled', `${symbol} ${event.tsET}`);
        assert.equal(event.volume, 0);
        assert.equal(event.vwap, null);
        assert.ok(event.open === event.close && event.high === event.close && event.low === event.close);
        const previous = records.find((p) => p.event.symbol === symbol && p.event.startMs === event.startMs - MINUTE_MS && p.event.revision === 0)!;
        assert.equal(event.close, previous.event.close, 'repeats the previous close');
        filled += 1;
      } else {
        assertMatchesBar(event, bar, `${symbol} ${event.tsET}`);
      }
    }
    // Outside the regular session nothing is filled.
    assert.ok(records.filter((p) => p.event.symbol === symbol && p.event.barId === null).every((p) => p.event.source !== 'filled'));
  }
  const revisions = records.filter((p) => p.event.revision > 0);
  assert.equal(revisions.length, 1, 'only the late bar revises');
  assert.equal(revisions[0]!.event.startMs, late);
  assert.equal(revisions[0]!.event.revision, 1);
  assert.equal(revisions[0]!.event.source, 'live');
  assertMatchesBar(revisions[0]!.event, simMinuteBar('TQQQ', late, { emptyRate: EMPTY_RATE })!, 'late bar');
  assert.ok(filled >= 10, `some minutes were empty (${filled})`);
  t.diagnostic(`${SYMBOLS.length} symbols x 391 minutes, ${filled} filled, late bar at ${new Date(late).toISOString()} became revision 1`);
});
