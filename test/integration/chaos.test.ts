import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DEFAULT_SYMBOLS } from '../../src/contracts/polygon-wire.ts';
import type { PriceEvent } from '../../src/contracts/price-event.ts';
import { MINUTE_MS, minuteStart } from '../../src/contracts/time-format.ts';
import { topicNames } from '../../src/contracts/topics.ts';
import { startEmbeddedKafka } from '../../src/dev/embedded-kafka.ts';
import { createSimClock, simMinuteBar, startSimulator } from '../../src/sim/index.ts';
import { readTopic, waitForRecords } from '../support/kafka.ts';
import { uniquePrefix } from '../support/gateway.ts';
import { simulatedGatewayEnv, spawnGateway, type ChildGateway } from '../support/child-gateway.ts';
import { assertMatchesBar, assertRevisionZeroOrder, priceRecords, type PriceRecord } from '../support/expect.ts';
import { seededRandom } from '../../harness/random.ts';

const MINUTES = 62;
const MS_PER_MINUTE = 400;

/** The same run with HA off, and as a one-gateway HA group (leadership and transactional writes). */
const MODES = [
  { name: 'HA_MODE=off', env: {} },
  { name: 'HA_MODE=kafka, one gateway', env: { HA_MODE: 'kafka', HA_SESSION_TIMEOUT_MS: '6000' } },
] as const;

for (const mode of MODES)
  test(`chaos (${mode.name}): socket kills, a stall, a broker restart and a SIGKILLed gateway leave exactly one record per bar, in order`, async (t) => {
    const seed = Number(process.env.CHAOS_SEED ?? 20261123);
    const random = seededRandom(seed);
    const broker = await startEmbeddedKafka();
    t.after(() => broker.dispose());
    const key = `chaos-${randomUUID()}`;
    // A regular-session morning in New York (EDT): every minute has a barId and can be filled.
    const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T13:58:00Z'), msPerMinute: MS_PER_MINUTE });
    const sim = await startSimulator({ apiKey: key, clock, emptyRate: 0.03 });
    t.after(() => sim.close());
    const prefix = uniquePrefix('chaos');
    const topics = topicNames(prefix);
    const env = simulatedGatewayEnv({ apiKey: key, wsUrl: sim.wsUrl, restUrl: sim.restUrl }, broker.bootstrapServers, prefix, {
      PING_INTERVAL_MS: '200',
      STALL_TIMEOUT_MS: '1000',
      FILL_GRACE_MS: '60000',
      HEARTBEAT_INTERVAL_MS: '500',
      ...mode.env,
    });
    const gateways: ChildGateway[] = [];
    const start = (): ChildGateway => {
      const gw = spawnGateway(['run'], env);
      gateways.push(gw);
      t.after(() => gw.child.kill('SIGKILL'));
      return gw;
    };

    start();
    await sim.waitFor('subscribed', undefined, { timeoutMs: 60_000 });
    const first = minuteStart(clock.now());
    const at = (i: number) => first + i * MINUTE_MS;
    const moment = () => Math.floor(random() * 55_000);

    // Five socket kills at seeded random moments, one silent stall, two corrections.
    const kills = [4, 11, 21, 33, 47].map((m) => ({ atMinuteMs: at(m), offsetMarketMs: moment(), kind: 'dropConnections' as const }));
    sim.faults.plan([
      ...kills,
      { atMinuteMs: at(16), offsetMarketMs: moment(), kind: 'stall', durationWallMs: 2_500 },
      { atMinuteMs: at(8), offsetMarketMs: 10_000, kind: 'correctBar', symbol: 'TQQQ' },
      { atMinuteMs: at(52), offsetMarketMs: 10_000, kind: 'correctBar', symbol: 'SOXL' },
    ]);

    // The broker goes away for a few market minutes, then comes back.
    await sim.waitForMinute(at(25), { timeoutMs: 120_000 });
    await broker.stop();
    await sim.waitForMinute(at(30), { timeoutMs: 120_000 });
    await broker.start();

    // The gateway is killed without warning and a new one takes over.
    await sim.waitForMinute(at(37), { timeoutMs: 120_000 });
    gateways[0]!.child.kill('SIGKILL');
    await gateways[0]!.exited;
    const second = start();

    // Run past the window, then let the second gateway finish cleanly.
    const last = at(MINUTES - 1);
    await sim.waitForMinute(last + 2 * MINUTE_MS, { timeoutMs: 180_000 });
    const covered = (records: PriceRecord[], symbol: string) => records.some((p) => p.event.symbol === symbol && p.event.startMs >= last);
    await waitForRecords(
      broker.bootstrapServers,
      topics.prices,
      (raw) => {
        const records = priceRecords(raw);
        return DEFAULT_SYMBOLS.every((s) => covered(records, s));
      },
      120_000,
    );
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, second.stderr.join('\n'));

    const records = priceRecords(await readTopic(broker.bootstrapServers, topics.prices));
    assertRevisionZeroOrder(records);
    const keys = records.map((p) => `${p.event.symbol}@${p.event.startMs}@${p.event.revision}`);
    assert.equal(new Set(keys).size, keys.length, 'no (symbol, minute, revision) twice');

    let bars = 0;
    let filled = 0;
    let corrections = 0;
    for (const symbol of DEFAULT_SYMBOLS) {
      const mine = records.filter((p) => p.event.symbol === symbol);
      for (let minute = first; minute <= last; minute += MINUTE_MS) {
        const versions = mine.filter((p) => p.event.startMs === minute).map((p) => p.event);
        const original = simMinuteBar(symbol, minute, { emptyRate: sim.emptyRate });
        const final = sim.faults.expectedFinalBar(symbol, minute);
        assert.equal(
          versions.filter((e) => e.revision === 0).length,
          1,
          `${symbol} ${new Date(minute).toISOString()}: exactly one revision 0 (got ${versions.length} records)`,
        );
        if (original === null) {
          // The simulator had no bar: the gateway says so with a filled record, once.
          assert.deepEqual(
            versions.map((e) => [e.source, e.revision, e.volume]),
            [['filled', 0, 0]],
            `${symbol} ${new Date(minute).toISOString()} empty minute`,
          );
          const previous = mine.filter((p) => p.event.startMs === minute - MINUTE_MS).map((p) => p.event.close);
          assert.ok(previous.includes(versions[0]!.close), 'a filled minute repeats the previous close');
          filled += 1;
          continue;
        }
        const latest = versions.reduce((a, b) => (b.revision > a.revision ? b : a));
        assertMatchesBar(latest, final!, `${symbol} ${new Date(minute).toISOString()} final values`);
        const zero = versions.find((e) => e.revision === 0)!;
        // Revision 0 is the bar as first sent, or, when the socket was down then, as REST had it.
        try {
          assertMatchesBar(zero, original, 'original');
        } catch {
          assertMatchesBar(zero, final!, `${symbol} ${new Date(minute).toISOString()} revision 0`);
        }
        assert.ok(
          versions.every((e) => e.source === 'live' || e.source === 'backfill'),
          'only real sources for a real bar',
        );
        bars += 1;
        corrections += versions.length - 1;
      }
    }
    assert.equal(corrections <= 2, true, `only the simulator's corrections are revisions (${corrections})`);
    const extra = records.filter((p) => p.event.revision > 0 && !(['TQQQ', 'SOXL'] as string[]).includes(p.event.symbol));
    assert.deepEqual(
      extra.map((p) => p.event),
      [] as PriceEvent[],
    );

    const faults = sim.faults.faultLog.map((f) => f.kind);
    assert.ok(faults.filter((k) => k === 'dropConnections').length >= 5);
    assert.ok(faults.includes('stall'));
    // Each connection a kill found was replaced by a new one, and the second gateway opened its
    // own. (With HA, the second gateway waits out the dead one's session, so a late kill may find no one.)
    const killed = sim.faults.faultLog.filter((f) => f.kind === 'dropConnections').reduce((n, f) => n + f.connIds.length, 0);
    assert.ok(killed > 0, 'the kills found a connection to kill');
    assert.ok(sim.stats.connectionsOpened >= 2 + killed, `the gateway reconnected (${sim.stats.connectionsOpened} connections)`);
    assert.ok(
      // (with HA, the group's consumer may notice first: the gateway then stands by, and its
      // heartbeats' sink is the one left to hold records)
      gateways[0]!.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('Kafka is not writable;')),
      'the broker outage was felt',
    );
    assert.ok(
      gateways[0]!.lines.some((l) => l.msg === 'Kafka is writable' && gateways[0]!.lines.indexOf(l) > 0),
      'and recovered from',
    );
    const resumed = second.lines.find((l) => l.msg === 'resumed from the topic');
    assert.ok(resumed !== undefined && (resumed.records as number) > 0, 'the second gateway learned from the topic');
    const backfilled = records.filter((p) => p.event.source === 'backfill' && p.event.startMs >= first).length;
    assert.ok(backfilled > 0, 'gaps were closed from REST');
    t.diagnostic(
      `seed ${seed}: checked ${DEFAULT_SYMBOLS.length} symbols x ${MINUTES} minutes = ${bars} bars + ${filled} filled minutes, ${corrections} corrections; ${backfilled} records came from backfill; ${records.length} records in all; ${sim.stats.connectionsOpened} connections, ${killed} of them killed; ${gateways.map((g) => g.lines.filter((l) => l.msg === 'leadership acquired').length).join('+')} times leading`,
    );
  });
