/**
 * Hostile vendor input against the whole gateway: the simulator's real bars flow while more
 * than ten thousand malformed frames (test/support/fuzz-frames.ts, seeded) go down the same
 * socket, some of them carrying valid bars of a symbol the simulator never sends.
 *
 * Reproduce a failure with the seed the test prints: FUZZ_SEED=<n> node --test test/integration/fuzz.test.ts
 *
 * The later tests pin down inputs that broke the gateway when the fuzzer was written; each
 * asserts the behaviour the design asks for ("malformed frame or event: drop that event, count
 * it, keep the rest of the frame"; unknown statuses "must be tolerated and logged").
 */

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { barIdOf } from '../../src/bars/calendar.ts';
import { DEFAULT_SYMBOLS } from '../../src/contracts/polygon-wire.ts';
import { MINUTE_MS, formatTsET, minuteStart } from '../../src/contracts/time-format.ts';
import { topicNames } from '../../src/contracts/topics.ts';
import { DEFAULT_MAX_FRAME_BYTES } from '../../src/feed/parse-frame.ts';
import { createSimClock, simMinuteBar, startSimulator, type RawFrame, type Simulator } from '../../src/sim/index.ts';
import { spawnGateway } from '../support/child-gateway.ts';
import { assertContractShape, assertMatchesBar, assertRevisionZeroOrder, priceRecords, type PriceRecord } from '../support/expect.ts';
import { REASONS, addExpectation, badEvents, createFuzzer, emptyExpectation, type FrameKind, type ValidBar } from '../support/fuzz-frames.ts';
import { eventually, startTestGateway, uniquePrefix, type TestGateway } from '../support/gateway.ts';
import { readTopic, useKafka, waitForRecords } from '../support/kafka.ts';

const kafka = useKafka();

const SEED = Number(process.env['FUZZ_SEED'] ?? 20260310);
const FRAMES = 10_000;
/** Simulated minutes the fuzz spans, each with its share of the frames. */
const MINUTES = 12;
const MS_PER_MINUTE = 250;
const TARGET = 'ZZZZ';
const SYMBOLS = [...DEFAULT_SYMBOLS, TARGET];
/** 14:30 New York on a Tuesday (EDT): regular session, with the morning behind it. */
const START = Date.parse('2026-03-10T18:30:00Z');
/** 09:30 New York that day: the valid ZZZZ bars start here (barId 1) and stay before START. */
const OPEN = Date.parse('2026-03-10T13:30:00Z');
/** Frames queued in the simulator's socket before the sender waits for the reader. */
const BREATHE_BYTES = 256 * 1024;
const HEAP_GROWTH_LIMIT = 32 * 1024 * 1024;
const MALFORMED = new Set<string>(REASONS);

/** A full collection: `--expose-gc` is switched on at run time, so plain `node --test` works. */
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

function heapAfterGc(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Every series of a metric, by its labels rendered `k=v,...` ('' without labels). */
async function series(gw: TestGateway, name: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const metric = gw.gateway.metrics.registry.getSingleMetric(name);
  if (!metric) return out;
  const { values } = await metric.get();
  for (const v of values) {
    const labels = Object.entries(v.labels)
      .map(([k, l]) => `${k}=${String(l)}`)
      .join(',');
    out.set(labels, (out.get(labels) ?? 0) + v.value);
  }
  return out;
}

async function value(gw: TestGateway, name: string, labels = ''): Promise<number> {
  return (await series(gw, name)).get(labels) ?? 0;
}

interface Counts {
  frames: number;
  /** Frames the simulator had sent at that same moment (it goes on sending its own bars). */
  simFrames: number;
  /** What the simulator itself had sent at that moment (handshake statuses, bars). */
  sim: { status: number; am: number };
  dropped: Map<string, number>;
  received: Map<string, number>;
  reconnects: number;
}

/**
 * The gateway's counters at a moment when it has handled every frame the simulator sent:
 * frames received equals frames sent before and after the counters are read, and nothing
 * was sent meanwhile, so the counters (and the simulator's own counts, taken in the same
 * turn) all describe the same stream.
 */
async function caughtUp(gw: TestGateway, sim: Simulator, simEvents: { status: number; am: number }, timeoutMs = 15_000): Promise<Counts> {
  return eventually(
    'the gateway to handle every frame the simulator sent',
    async () => {
      const sent = sim.stats.framesSent;
      const framesBefore = await value(gw, 'sentio_gateway_frames_received_total');
      if (framesBefore !== sent) return undefined;
      const dropped = await series(gw, 'sentio_gateway_events_dropped_total');
      const received = await series(gw, 'sentio_gateway_events_received_total');
      const reconnects = [...(await series(gw, 'sentio_gateway_reconnects_total')).values()].reduce((a, b) => a + b, 0);
      const framesAfter = await value(gw, 'sentio_gateway_frames_received_total');
      if (framesAfter !== framesBefore || sim.stats.framesSent !== sent) return undefined;
      return { frames: framesAfter, simFrames: sent, sim: { ...simEvents }, dropped, received, reconnects };
    },
    timeoutMs,
    5,
  );
}

/** Lets the reader catch up: yields to the event loop until the socket has (almost) drained. */
async function breathe(sim: Simulator): Promise<void> {
  await nextTurn();
  const deadline = performance.now() + 15_000;
  while (sim.bufferedBytes() > 64 * 1024) {
    if (performance.now() > deadline) throw new Error(`the gateway stopped reading: ${sim.bufferedBytes()} bytes still queued after 15 s`);
    await nextTurn();
  }
}

/** Counts `status` and `AM` events the simulator itself sends (raw frames have no `events`). */
function countSimEvents(sim: Simulator): { status: number; am: number } {
  const counts = { status: 0, am: 0 };
  sim.events.on('frame', (frame) => {
    if (frame.events === null) return;
    for (const e of frame.events as { ev?: unknown }[]) {
      if (e.ev === 'status') counts.status += 1;
      else if (e.ev === 'AM') counts.am += 1;
    }
  });
  return counts;
}

async function startPair(
  t: TestContext,
  name: string,
  env: Record<string, string> = {},
): Promise<{ sim: Simulator; gw: TestGateway; prices: string; runId: string; simEvents: { status: number; am: number } }> {
  const key = `${name}-${randomUUID()}`;
  const clock = createSimClock({ startMarketMs: START, msPerMinute: MS_PER_MINUTE });
  const sim = await startSimulator({ apiKey: key, clock, symbolsUniverse: DEFAULT_SYMBOLS });
  t.after(() => sim.close());
  const simEvents = countSimEvents(sim);
  const prefix = uniquePrefix(name);
  const runId = randomUUID();
  const gw = await startTestGateway(
    {
      POLYGON_API_KEY: key,
      POLYGON_WS_URL: sim.wsUrl,
      POLYGON_REST_URL: sim.restUrl,
      KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
      TOPIC_PREFIX: prefix,
      RUN_ID: runId,
      ENV: 'MOCK',
      SYMBOLS: SYMBOLS.join(','),
      // Filling is beside the point here, and would turn the ZZZZ bars' minutes into fills.
      FILL_EMPTY_MINUTES: 'off',
      MAX_BACKFILL_MINUTES: '20',
      LOG_LEVEL: 'info',
      ...env,
    },
    { clock },
  );
  t.after(() => gw.stop());
  await eventually('the feed to subscribe', async () => ((await value(gw, 'sentio_gateway_feed_subscribed')) === 1 ? true : undefined), 20_000);
  return { sim, gw, prices: topicNames(prefix).prices, runId, simEvents };
}

/** A valid ZZZZ bar (as JSON text) for `minuteMs`, and the record it must become. */
function targetBar(minuteMs: number, i: number): { text: string; expected: ValidBar['expected'] } {
  const o = 20 + i;
  const expected = {
    symbol: TARGET,
    open: o,
    high: o + 0.5,
    low: o - 0.5,
    close: o + 0.25,
    volume: 1000 + i,
    vwap: o + 0.1,
    startMs: minuteMs,
    endMs: minuteMs + MINUTE_MS,
  };
  const text = JSON.stringify({
    ev: 'AM',
    sym: TARGET,
    v: expected.volume,
    av: 5000,
    op: 20,
    vw: expected.vwap,
    o,
    h: expected.high,
    l: expected.low,
    c: expected.close,
    a: 20.5,
    z: 10,
    s: minuteMs,
    e: minuteMs + MINUTE_MS,
  });
  return { text, expected };
}

function assertTargetRecord(p: PriceRecord, expected: ValidBar['expected'], what: string): void {
  const e = p.event;
  assert.deepEqual(
    {
      symbol: e.symbol,
      open: e.open,
      high: e.high,
      low: e.low,
      close: e.close,
      volume: e.volume,
      vwap: e.vwap,
      startMs: e.startMs,
      endMs: e.endMs,
      tsET: e.tsET,
      barId: e.barId,
      source: e.source,
      revision: e.revision,
    },
    { ...expected, tsET: formatTsET(expected.startMs), barId: barIdOf(expected.startMs), source: 'live', revision: 0 },
    what,
  );
}

test(`${FRAMES.toLocaleString('en')}+ hostile frames among the simulator's bars: the gateway keeps its session, publishes every valid bar once and counts every bad event`, async (t) => {
  const { sim, gw, prices, runId, simEvents } = await startPair(t, 'fuzz');
  const gatewayConn = sim.stats.authAttempts.find((a) => a.result === 'success')!.connId;
  // Minutes whose bars the simulator sends while the fuzz runs (after any subscription-time backfill).
  const first = minuteStart(sim.clock.now()) + 2 * MINUTE_MS;
  const window = Array.from({ length: MINUTES }, (_, i) => first + i * MINUTE_MS);
  const heapBefore = heapAfterGc();

  const fuzzer = createFuzzer({
    seed: SEED,
    subscribed: SYMBOLS,
    target: TARGET,
    firstValidMinuteMs: OPEN,
    validBars: (START - OPEN) / MINUTE_MS, // 09:30 to 14:29 New York, all before the simulator's clock
    badMinutes: { fromMs: OPEN, count: (START - OPEN) / MINUTE_MS },
    hiddenMinutes: { fromMs: Date.parse('2026-03-10T09:00:00Z'), count: 60 }, // 05:00 New York: never valid
    maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
    bigEvery: 1_000,
  });
  const expected = emptyExpectation();
  const validSent: ValidBar[] = [];
  const kinds = new Map<FrameKind, number>();
  let framesSent = 0;
  let bytesSent = 0;
  let biggest = 0;

  const started = performance.now();
  const perMinute = Math.ceil(FRAMES / MINUTES);
  for (const minute of window) {
    let thisMinute = 0;
    while (thisMinute < perMinute) {
      const batch: RawFrame[] = [];
      let batchBytes = 0;
      while (thisMinute < perMinute && batchBytes < BREATHE_BYTES) {
        const frame = fuzzer.next();
        batch.push(frame.data);
        batchBytes += frame.bytes;
        biggest = Math.max(biggest, frame.bytes);
        addExpectation(expected, frame.expect);
        validSent.push(...frame.valid);
        kinds.set(frame.kind, (kinds.get(frame.kind) ?? 0) + 1);
        thisMinute += 1;
      }
      const entry = sim.faults.sendRaw(batch);
      assert.deepEqual(entry.connIds, [gatewayConn], 'every batch reached the gateway');
      framesSent += batch.length;
      bytesSent += batchBytes;
      await breathe(sim);
    }
    // The simulator's own bars of this minute go out between the fuzz batches.
    await sim.waitForMinute(minute);
  }
  const fuzzMs = performance.now() - started;

  const counts = await caughtUp(gw, sim, simEvents);
  const caughtUpMs = performance.now() - started;
  const heapAfter = heapAfterGc();

  // Still the one session, never cut off, never reconnected.
  assert.equal(sim.stats.connectionsOpened, 1, 'one connection for the whole run');
  assert.equal(sim.stats.connectionsOpen, 1, 'and it is still open');
  assert.equal(sim.stats.slowConsumersCut, 0, 'never cut off as a slow consumer');
  assert.equal(counts.reconnects, 0, 'sentio_gateway_reconnects_total absent or 0');
  assert.equal(await value(gw, 'sentio_gateway_feed_subscribed'), 1);
  assert.equal((await fetch(`${gw.gateway.httpUrl}/healthz`)).status, 200);
  assert.ok(framesSent >= FRAMES);

  // Every event accounted for, by reason.
  const dropped = (reason: string): number => counts.dropped.get(`reason=${reason}`) ?? 0;
  const received = (type: string): number => counts.received.get(`type=${type}`) ?? 0;
  assert.deepEqual(Object.fromEntries(REASONS.map((r) => [r, dropped(r)])), expected.rejects, 'events_dropped_total by malformed reason');
  const malformed = [...counts.dropped].filter(([labels]) => MALFORMED.has(labels.replace('reason=', ''))).reduce((n, [, v]) => n + v, 0);
  assert.equal(malformed + received('unknown'), badEvents(expected), 'malformed drops + unknown events = bad events sent');
  assert.equal(received('unknown'), expected.unknown, 'unknown ev');
  assert.equal(dropped('unsubscribed_symbol'), expected.unsubscribed, 'well-formed bars of unsubscribed symbols');
  assert.equal(received('status'), counts.sim.status + expected.status, 'status events: the handshake plus the fuzz ones');
  assert.equal(received('AM'), counts.sim.am + expected.am, 'AM events: the simulator bars plus the valid fuzz ones');
  assert.equal(received('A'), expected.a, 'A events');
  assert.equal(counts.frames, counts.simFrames);
  // No other drop: Kafka stayed up and the fuzz repeats nothing. Backfill at subscription may
  // overlap the first live bars (`backfill_unchanged`, or `live_after_backfill` for a live bar it beat).
  const explained = new Set([...REASONS, 'unsubscribed_symbol', 'backfill_unchanged', 'live_after_backfill'].map((r) => `reason=${r}`));
  assert.deepEqual(
    [...counts.dropped].filter(([labels, n]) => !explained.has(labels) && n > 0),
    [],
    'no drop for any other reason',
  );

  // Memory: what the run retains after a full collection.
  const growth = heapAfter - heapBefore;
  assert.ok(growth < HEAP_GROWTH_LIMIT, `heap grew by ${mib(growth)} over the run (limit ${mib(HEAP_GROWTH_LIMIT)})`);

  // Kafka: the simulator's bars of the window and every valid ZZZZ bar, once each.
  const simKeys = new Set(DEFAULT_SYMBOLS.flatMap((s) => window.map((m) => `${s}@${m}`)));
  const targetKeys = new Set(validSent.map((b) => `${TARGET}@${b.minuteMs}`));
  await waitForRecords(
    kafka.bootstrapServers,
    prices,
    (records) => {
      const seen = new Set(records.map((r) => JSON.parse(r.value) as { symbol: string; startMs: number }).map((e) => `${e.symbol}@${e.startMs}`));
      return [...simKeys, ...targetKeys].every((k) => seen.has(k));
    },
    30_000,
  );
  await gw.stop();
  const records = priceRecords(await readTopic(kafka.bootstrapServers, prices));
  for (const p of records) assertContractShape(p, { strategy: 'SIGOR', env: 'MOCK', runId });
  assertRevisionZeroOrder(records);
  assert.deepEqual(
    [...new Set(records.map((p) => p.event.symbol))].filter((s) => !SYMBOLS.includes(s)),
    [],
    'only subscribed symbols',
  );

  for (const key of simKeys) {
    const [symbol, minute] = [key.split('@')[0]!, Number(key.split('@')[1])];
    const mine = records.filter((p) => p.event.symbol === symbol && p.event.startMs === minute);
    assert.deepEqual(
      mine.map((p) => p.event.revision),
      [0],
      `${symbol} ${formatTsET(minute)}: one record, revision 0`,
    );
    assertMatchesBar(mine[0]!.event, simMinuteBar(symbol, minute)!, key);
  }
  const target = records.filter((p) => p.event.symbol === TARGET);
  assert.deepEqual(
    target.map((p) => p.event.startMs),
    validSent.map((b) => b.minuteMs),
    'exactly the valid ZZZZ bars, in minute order, once each',
  );
  target.forEach((p, i) => assertTargetRecord(p, validSent[i]!.expected, `ZZZZ ${p.event.tsET}`));

  t.diagnostic(
    `seed ${SEED}: ${framesSent} fuzz frames (${mib(bytesSent)}, largest ${mib(biggest)}) over ${MINUTES} simulated minutes; ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`,
  );
  t.diagnostic(
    `bad events ${badEvents(expected)}: ${REASONS.map((r) => `${r} ${expected.rejects[r]}`).join(', ')}, unknown ${expected.unknown}; also ${expected.unsubscribed} unsubscribed, ${expected.a} A, ${expected.status} fuzz status`,
  );
  t.diagnostic(`drops by reason: ${[...counts.dropped].map(([l, n]) => `${l.replace('reason=', '')} ${n}`).join(', ')}`);
  t.diagnostic(`valid ZZZZ bars ${validSent.length} (left ${fuzzer.validLeft}); simulator bars checked ${simKeys.size}; ${records.length} records in Kafka`);
  t.diagnostic(
    `sent in ${(fuzzMs / 1000).toFixed(1)} s, handled in ${(caughtUpMs / 1000).toFixed(1)} s; heap ${mib(heapBefore)} -> ${mib(heapAfter)} after GC (${growth >= 0 ? '+' : ''}${mib(growth)}); most bytes queued at once ${mib(sim.stats.maxBufferedBytes)}`,
  );
});

test('a bar whose start the price record cannot represent is dropped and counted, and the process lives on', async (t) => {
  // A child process: a crash shows as an exit, a blocked event loop as /metrics not answering.
  const key = `future-${randomUUID()}`;
  const clock = createSimClock({ startMarketMs: START, msPerMinute: MS_PER_MINUTE });
  const sim = await startSimulator({ apiKey: key, clock, symbolsUniverse: DEFAULT_SYMBOLS });
  t.after(() => sim.close());
  const prefix = uniquePrefix('future');
  const runId = randomUUID();
  const child = spawnGateway(['run'], {
    POLYGON_API_KEY: key,
    POLYGON_WS_URL: sim.wsUrl,
    POLYGON_REST_URL: sim.restUrl,
    MARKET_CLOCK: 'simulator',
    KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
    TOPIC_PREFIX: prefix,
    RUN_ID: runId,
    ENV: 'MOCK',
    SYMBOLS: `TQQQ,${TARGET}`,
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    // The valid bars are dated hours before the simulator's clock: fills would put later
    // minutes ahead of them and the ledger would rightly refuse them as too late.
    FILL_EMPTY_MINUTES: 'off',
  });
  t.after(() => child.child.kill('SIGKILL'));
  const httpUrl = String((await child.waitForLine((l) => l['msg'] === 'gateway started', 30_000))['http']);
  const scrape = async (): Promise<string> => {
    const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return res.text();
  };
  const metric = (text: string, pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? 0);
  const malformed = (text: string): number =>
    REASONS.reduce((n, r) => n + metric(text, new RegExp(`sentio_gateway_events_dropped_total\\{reason="${r}"\\} (\\d+)`)), 0);
  await eventually('the child to subscribe', async () => (metric(await scrape(), /sentio_gateway_feed_subscribed (\d+)/) === 1 ? true : undefined), 30_000);

  const cases: { what: string; sym: string; s: number }[] = [
    { what: 'year 33658 (s = 1e15)', sym: TARGET, s: 1e15 },
    { what: 'the last instant a Date holds (s = 8.64e15)', sym: TARGET, s: 8.64e15 },
    { what: 'the largest safe integer minute', sym: TARGET, s: 9_007_199_254_680_000 },
    { what: 'an unsubscribed symbol in year 33658', sym: 'AAPL', s: 1e15 },
    { what: 'year 10000 (tsET would be "+010000-...")', sym: TARGET, s: Date.parse('+010000-01-01T00:00:00Z') },
    { what: 'year 9999 (representable, but eight millennia ahead)', sym: TARGET, s: Date.parse('9999-12-31T23:59:00Z') },
  ];
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  void child.exited.then((e) => (exit = e));
  /** /metrics once the child has handled `frames` frames; fails at once if it died, after 10 s if it stopped answering. */
  const handled = async (frames: number): Promise<string> => {
    const deadline = performance.now() + 10_000;
    let problem = 'no answer';
    while (performance.now() < deadline) {
      try {
        const body = await scrape();
        if (metric(body, /sentio_gateway_frames_received_total (\d+)/) >= frames) return body;
        problem = 'the frame was not handled';
      } catch (error) {
        problem = `/metrics did not answer (${(error as Error).message})`;
        await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 500))]);
      }
      if (exit) {
        const error = child.stderr.filter((l) => /Error/.test(l)).concat(child.stderr.filter((l) => /^\s+at /.test(l)).slice(0, 4));
        throw new Error(`the gateway process died (exit code ${exit.code}, signal ${exit.signal}): ${error.join(' | ').slice(0, 1500)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`for 10 s ${problem}: the gateway's event loop is blocked or its reader wedged`);
  };
  const good: ValidBar['expected'][] = [];
  let baseline = malformed(await scrape());
  for (const [i, c] of cases.entries()) {
    const bad = JSON.stringify({ ev: 'AM', sym: c.sym, v: 100, vw: 10, o: 10, h: 11, l: 9, c: 10.5, s: c.s, e: c.s + MINUTE_MS });
    const ok = targetBar(OPEN + i * MINUTE_MS, i);
    good.push(ok.expected);
    sim.faults.sendRaw(`[${bad},${ok.text}]`);
    let text: string;
    try {
      text = await handled(sim.stats.framesSent);
    } catch (error) {
      throw new Error(`after a frame [bar with ${c.what}, valid ZZZZ bar]: ${(error as Error).message}`, { cause: error });
    }
    assert.equal(malformed(text) - baseline, 1, `the bar with ${c.what} is counted as malformed`);
    baseline = malformed(text);
  }
  // A last valid bar after all of them: still published.
  const last = targetBar(OPEN + cases.length * MINUTE_MS, cases.length);
  good.push(last.expected);
  sim.faults.sendRaw(`[${last.text}]`);
  const records = priceRecords(
    await waitForRecords(
      kafka.bootstrapServers,
      topicNames(prefix).prices,
      (rs) => good.every((g) => rs.some((r) => r.key === TARGET && (JSON.parse(r.value) as { startMs: number }).startMs === g.startMs)),
      20_000,
    ),
  );
  // Minutes that closed without a bar may be filled (FILL_EMPTY_MINUTES=regular): only live records are the bars sent.
  const live = records.filter((p) => p.event.symbol === TARGET && p.event.source === 'live');
  assert.deepEqual(
    live.map((p) => p.event.startMs),
    good.map((g) => g.startMs),
    'the valid bars reach Kafka, the bad ones never',
  );
  live.forEach((p, i) => assertTargetRecord(p, good[i]!, `ZZZZ ${p.event.tsET}`));
  const now = sim.clock.now();
  for (const p of records) {
    assertContractShape(p, { strategy: 'SIGOR', env: 'MOCK', runId });
    assert.ok(p.event.startMs <= now, `no record from the future: ${p.event.symbol} ${p.event.tsET}`);
  }
  assert.equal(child.child.exitCode, null, 'still running');
  assert.equal(sim.stats.connectionsOpened, 1, 'never reconnected');
});

test('status values that name Object.prototype members are tolerated like any unknown status', async (t) => {
  const { sim, gw, prices, simEvents } = await startPair(t, 'protostatus');
  const closes: number[] = [];
  sim.events.on('close', (e) => closes.push(e.connId));
  const names = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf', 'toLocaleString', '__defineGetter__'];
  const bar = targetBar(OPEN, 0);
  sim.faults.sendRaw(`[${names.map((status) => JSON.stringify({ ev: 'status', status, message: 'fuzz' })).join(',')},${bar.text}]`);
  await caughtUp(gw, sim, simEvents);
  // Give a session the gateway ended time to show: the next minute's bars go out after its close would have.
  await sim.waitForMinute(sim.lastEmittedMinute() + MINUTE_MS);
  const counts = await caughtUp(gw, sim, simEvents);
  assert.equal(counts.received.get('type=status'), counts.sim.status + names.length, 'counted as status events');
  assert.deepEqual(
    { reconnects: counts.reconnects, opened: sim.stats.connectionsOpened, closed: closes, subscribed: await value(gw, 'sentio_gateway_feed_subscribed') },
    { reconnects: 0, opened: 1, closed: [], subscribed: 1 },
    `an unknown status must not end the session; reconnects_total: ${JSON.stringify([...(await series(gw, 'sentio_gateway_reconnects_total'))])}`,
  );
  const records = priceRecords(await waitForRecords(kafka.bootstrapServers, prices, (rs) => rs.some((r) => r.key === TARGET)));
  assertTargetRecord(
    records.find((p) => p.event.symbol === TARGET)!,
    bar.expected,
    'the bar in the same frame',
  );
});

test('a stray handshake status in the middle of a session leaves the feed subscribed', async (t) => {
  const { sim, gw, simEvents } = await startPair(t, 'straystatus');
  for (const status of [
    { ev: 'status', status: 'auth_success', message: 'authenticated' },
    { ev: 'status', status: 'connected', message: 'Connected Successfully' },
  ]) {
    sim.faults.sendRaw(JSON.stringify([status]));
    await caughtUp(gw, sim, simEvents);
    await sim.waitForMinute(sim.lastEmittedMinute() + MINUTE_MS);
    await caughtUp(gw, sim, simEvents);
    const state = await eventually(
      `the feed to be subscribed after a stray "${status.status}"`,
      async () => {
        const states = await series(gw, 'sentio_gateway_feed_state');
        return states.get('state=subscribed') === 1 ? 'subscribed' : undefined;
      },
      3_000,
    ).catch(async () => [...(await series(gw, 'sentio_gateway_feed_state'))].find(([, v]) => v === 1)?.[0] ?? 'none');
    assert.equal(state, 'subscribed', `feed state after a stray "${status.status}" status (readiness: ${JSON.stringify(gw.gateway.readiness().failing)})`);
  }
  assert.equal(sim.stats.connectionsOpened, 1);
  assert.equal(gw.gateway.readiness().ready, true);
});
