import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DEFAULT_SYMBOLS } from '../../src/contracts/polygon-wire.ts';
import { MINUTE_MS, minuteStart } from '../../src/contracts/time-format.ts';
import { topicNames } from '../../src/contracts/topics.ts';
import type { Heartbeat } from '../../src/contracts/heartbeat.ts';
import { startEmbeddedKafka } from '../../src/dev/embedded-kafka.ts';
import { createSimClock, simMinuteBar, startSimulator } from '../../src/sim/index.ts';
import { kafkaClient, readTopic, waitForRecords } from '../support/kafka.ts';
import { uniquePrefix } from '../support/gateway.ts';
import { simulatedGatewayEnv, spawnGateway, type ChildGateway } from '../support/child-gateway.ts';
import { assertMatchesBar, assertRevisionZeroOrder, priceRecords, type PriceRecord } from '../support/expect.ts';

const MS_PER_MINUTE = 2_000;
const SESSION_TIMEOUT_MS = 6_000;
/** The gateways in the order they lead; each one's RUN_ID is its name. */
const WRITERS = ['a1', 'b1', 'a2', 'b2'] as const;
type Writer = (typeof WRITERS)[number];

/** Every committed price record as a live reader sees it: who wrote it, and when it arrived. */
interface Arrival {
  runId: string;
  partition: number;
  offset: number;
  arrivedAt: number;
}

test('failover: SIGKILL, SIGTERM and SIGSTOP of the leader lose no bar and write none twice; a frozen ex-leader is fenced', async (t) => {
  // Torn down last-in first-out, even when an assertion fails midway: the gateways and the
  // reader go before the broker, or the reader would retry against a dead broker for ever.
  const teardown: (() => unknown)[] = [];
  t.after(async () => {
    for (const step of teardown.reverse()) await step();
  });
  const broker = await startEmbeddedKafka();
  teardown.push(() => broker.dispose());
  const key = `failover-${randomUUID()}`;
  const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T14:02:00Z'), msPerMinute: MS_PER_MINUTE });
  const sim = await startSimulator({ apiKey: key, clock, emptyRate: 0 });
  teardown.push(() => sim.close());
  const closed = new Map<number, number>();
  sim.events.on('close', ({ connId }) => closed.set(connId, performance.now()));
  const subscribed: number[] = [];
  sim.events.on('subscribed', ({ connId }) => subscribed.push(connId));

  const prefix = uniquePrefix('failover');
  const topics = topicNames(prefix);
  const env = simulatedGatewayEnv({ apiKey: key, wsUrl: sim.wsUrl, restUrl: sim.restUrl }, broker.bootstrapServers, prefix, {
    TOPIC_PARTITIONS: '3',
    PING_INTERVAL_MS: '500',
    STALL_TIMEOUT_MS: '3000',
    FILL_GRACE_MS: '60000',
    HEARTBEAT_INTERVAL_MS: '1000',
    HA_MODE: 'kafka',
    HA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
  });
  const gateways = new Map<Writer, ChildGateway>();
  const start = async (name: Writer, role: 'leader' | 'standby'): Promise<ChildGateway> => {
    const gw = spawnGateway(['run'], { ...env, RUN_ID: name });
    gateways.set(name, gw);
    teardown.push(() => {
      gw.child.kill('SIGCONT');
      gw.child.kill('SIGKILL');
    });
    await gw.waitForLine((l) => l.msg === 'joined the HA group' && l.role === role, 60_000);
    return gw;
  };
  const leading = (gw: ChildGateway, timeoutMs: number) => gw.waitForLine((l) => l.msg === 'leadership acquired', timeoutMs);

  // A live reader of what is committed, as a consumer with isolation.level=read_committed.
  const arrivals: Arrival[] = [];
  const arrivalWaiters: (() => void)[] = [];
  const reader = kafkaClient(broker.bootstrapServers, 'failover-reader').consumer({ groupId: `failover-${randomUUID()}`, maxWaitTimeInMs: 50 });
  const firstArrival = (runId: string, timeoutMs: number) =>
    new Promise<Arrival>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no committed record of ${runId} within ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        const hit = arrivals.find((a) => a.runId === runId);
        if (hit === undefined) return false;
        clearTimeout(timer);
        resolve(hit);
        return true;
      };
      if (!check()) arrivalWaiters.push(() => void check());
    });

  const a1 = await start('a1', 'leader');
  await sim.waitFor('subscribed', undefined, { timeoutMs: 60_000 });
  const first = minuteStart(clock.now()) + MINUTE_MS;
  const at = (i: number) => first + i * MINUTE_MS;
  await start('b1', 'standby');

  // A standby is healthy and ready to take over; who leads shows in /readyz and the metrics.
  const httpOf = async (gw: ChildGateway) => (await gw.waitForLine((l) => l.msg === 'gateway started')).http as string;
  const leaderGauge = async (gw: ChildGateway) => {
    const text = await (await fetch(`${await httpOf(gw)}/metrics`)).text();
    return Number(/^sentio_gateway_leader (\d+)$/m.exec(text)?.[1]);
  };
  const b1Http = await httpOf(gateways.get('b1')!);
  const b1Ready = await fetch(`${b1Http}/readyz`);
  assert.equal(b1Ready.status, 200, 'a standby answers /readyz 200');
  assert.equal(((await b1Ready.json()) as { role: string }).role, 'standby');
  assert.equal((await fetch(`${b1Http}/healthz`)).status, 200);
  assert.deepEqual([await leaderGauge(a1), await leaderGauge(gateways.get('b1')!)], [1, 0], 'sentio_gateway_leader: a1 leads, b1 stands by');
  await reader.connect();
  await reader.subscribe({ topic: topics.prices, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ partition, message }) => {
      arrivals.push({ runId: message.headers?.runId?.toString() ?? '?', partition, offset: Number(message.offset), arrivedAt: performance.now() });
      for (const w of arrivalWaiters) w();
    },
  });
  // Stopped by hand once the gateways have: after the broker is gone, it would retry for ever.
  let readerStopped: Promise<void> | null = null;
  const stopReader = () => (readerStopped ??= reader.disconnect());
  teardown.push(stopReader);
  await firstArrival('a1', 60_000);

  // 1. The leader dies without a word: the standby holds the partition once the session times out.
  await sim.waitForMinute(at(4), { timeoutMs: 60_000 });
  const killedAt = performance.now();
  a1.child.kill('SIGKILL');
  await a1.exited;
  const b1 = gateways.get('b1')!;
  await leading(b1, SESSION_TIMEOUT_MS + 10_000);
  const b1Publishing = (await firstArrival('b1', SESSION_TIMEOUT_MS + 10_000)).arrivedAt - killedAt;
  assert.ok(b1Publishing <= SESSION_TIMEOUT_MS + 5_000, `SIGKILL: the standby published ${Math.round(b1Publishing)} ms after the kill`);
  assert.equal(await leaderGauge(b1), 1);
  assert.equal(((await (await fetch(`${b1Http}/readyz`)).json()) as { role: string }).role, 'leader');

  // 2. A clean stop (a rolling update) hands over at once: the leader leaves the group.
  const a2 = await start('a2', 'standby');
  await sim.waitForMinute(at(11), { timeoutMs: 60_000 });
  const terminatedAt = performance.now();
  b1.child.kill('SIGTERM');
  await leading(a2, 3_000);
  const a2Leading = performance.now() - terminatedAt;
  const a2Publishing = (await firstArrival('a2', 15_000)).arrivedAt - terminatedAt;
  assert.equal((await b1.exited).code, 0, b1.stderr.join('\n'));

  // 3. The leader freezes; the standby takes over and fences it; thawed, it writes nothing.
  const b2 = await start('b2', 'standby');
  await sim.waitForMinute(at(18), { timeoutMs: 60_000 });
  const a2Connection = subscribed.at(-1)!;
  const frozenAt = performance.now();
  a2.child.kill('SIGSTOP');
  await leading(b2, SESSION_TIMEOUT_MS + 10_000);
  const b2Leading = performance.now() - frozenAt;
  await b2.waitForLine((l) => l.msg === 'leading: vendor session opened, writing transactionally', 10_000);
  // The frozen leader still holds the vendor slot (the simulator's keep-alive frees it only 10
  // to 20 s after a freeze): b2 finds it held, says so, and retries within a second rather
  // than after MAX_CONNECTIONS_RETRY_MS.
  const slotHeld = await b2.waitForLine((l) => typeof l.msg === 'string' && l.msg.startsWith('vendor slot still held'), 10_000);
  assert.ok((slotHeld.delayMs as number) <= 1_000, `a takeover retries quickly (${String(slotHeld.delayMs)} ms)`);
  const thawedAt = performance.now();
  a2.child.kill('SIGCONT');
  const stoodBy = await a2.waitForLine((l) => l.msg === 'standing by: vendor session closed, nothing more written', 10_000);
  const a2StoodBy = performance.now() - thawedAt;
  const b2Published = await firstArrival('b2', 60_000);
  const b2Publishing = b2Published.arrivedAt - frozenAt;
  const slotRetries = b2.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('vendor slot still held'));
  assert.ok(
    slotRetries.every((l) => (l.delayMs as number) <= 1_000),
    `takeover retries are quick: ${slotRetries.map((l) => l.delayMs as number).join(', ')} ms`,
  );
  assert.ok(b2Published.arrivedAt - thawedAt < 10_000, 'b2 published within seconds of the slot coming free');
  // The ex-leader's vendor socket is gone (closed by it, or by the vendor's keep-alive while it was frozen).
  if (!closed.has(a2Connection)) await sim.waitFor('close', (e) => e.connId === a2Connection, { timeoutMs: 10_000 });
  await a2.waitForLine((l) => l.msg === 'leadership lost', 20_000);

  // Run past 30 minutes of the 12 symbols, then stop both cleanly.
  const last = at(31);
  await sim.waitForMinute(last + MINUTE_MS, { timeoutMs: 120_000 });
  const covered = (records: PriceRecord[], symbol: string) => records.some((p) => p.event.symbol === symbol && p.event.startMs >= last);
  await waitForRecords(broker.bootstrapServers, topics.prices, (raw) => DEFAULT_SYMBOLS.every((s) => covered(priceRecords(raw), s)), 60_000);
  b2.child.kill('SIGTERM');
  a2.child.kill('SIGTERM');
  assert.equal((await b2.exited).code, 0, b2.stderr.join('\n'));
  assert.equal((await a2.exited).code, 0, a2.stderr.join('\n'));
  await stopReader();

  // Read back with read_committed: exactly one revision 0 per (symbol, minute), in minute order.
  const raw = await readTopic(broker.bootstrapServers, topics.prices);
  const records = priceRecords(raw);
  assertRevisionZeroOrder(records);
  let bars = 0;
  for (const symbol of DEFAULT_SYMBOLS) {
    for (let minute = first; minute <= last; minute += MINUTE_MS) {
      const versions = records.filter((p) => p.event.symbol === symbol && p.event.startMs === minute).map((p) => p.event);
      const what = `${symbol} ${new Date(minute).toISOString()}`;
      assert.equal(versions.length, 1, `${what}: exactly one record (got ${JSON.stringify(versions)})`);
      assert.equal(versions[0]!.revision, 0, what);
      assertMatchesBar(versions[0]!, simMinuteBar(symbol, minute, { emptyRate: 0 })!, what);
      bars += 1;
    }
  }

  // Per partition, the writers follow one another: nothing of a fenced leader after its successor.
  const order = (runId: string) => WRITERS.indexOf(runId as Writer);
  for (const partition of new Set(raw.map((r) => r.partition))) {
    const writers = raw.filter((r) => r.partition === partition).map((r) => r.headers.runId ?? '?');
    assert.ok(
      writers.every((w) => order(w) >= 0),
      `partition ${partition}: only the four gateways wrote`,
    );
    for (let i = 1; i < writers.length; i++)
      assert.ok(order(writers[i]!) >= order(writers[i - 1]!), `partition ${partition}: ${writers[i]} after ${writers[i - 1]} at ${i}`);
  }
  assert.deepEqual(
    WRITERS.filter((w) => raw.some((r) => r.headers.runId === w)),
    [...WRITERS],
    'each leader wrote in its turn',
  );

  // The vendor's one slot: never two subscribed connections at once.
  const crowded = sim.subscribedAtOnce().filter((m) => m.minuteMs >= first && m.connections > 1);
  assert.deepEqual(crowded, [], 'never more than one subscribed connection in a minute');
  assert.deepEqual(sim.subscriptionOverlaps(), [], 'no overlap of subscribed connections');

  // The standbys said so in their heartbeats; the frozen one went back to standby.
  const beats = (await readTopic(broker.bootstrapServers, topics.heartbeat)).map((r) => JSON.parse(r.value) as Heartbeat);
  const rolesOf = (runId: string) => new Set(beats.filter((b) => b.runId === runId && b.status !== 'stopped').map((b) => b.role));
  assert.deepEqual([...rolesOf('a2')].sort(), ['leader', 'standby'], 'a2 stood by, led, and stood by again');
  assert.ok(
    beats.some((b) => b.runId === 'b2' && b.role === 'standby' && b.status === 'standby'),
    'a standby beats with status standby',
  );
  const a2Final = beats.filter((b) => b.runId === 'a2' && b.status !== 'stopped').at(-1)!;
  assert.equal(a2Final.role, 'standby', 'after the thaw, a2 stands by');

  t.diagnostic(
    `takeover times: SIGKILL → standby publishing ${Math.round(b1Publishing)} ms (bound ${SESSION_TIMEOUT_MS + 5_000}); ` +
      `SIGTERM → leadership ${Math.round(a2Leading)} ms, publishing ${Math.round(a2Publishing)} ms; ` +
      `SIGSTOP → leadership ${Math.round(b2Leading)} ms, publishing ${Math.round(b2Publishing)} ms; ` +
      `SIGCONT → ex-leader standing by ${Math.round(a2StoodBy)} ms (${String(stoodBy.reason)}); the successor retried the vendor slot ${slotRetries.length} times`,
  );
  t.diagnostic(
    `checked ${bars} bars (${DEFAULT_SYMBOLS.length} symbols x ${(last - first) / MINUTE_MS + 1} minutes); ${raw.length} records; ${sim.stats.connectionsOpened} connections`,
  );
});
