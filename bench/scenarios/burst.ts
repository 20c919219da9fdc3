/**
 * Scenario 2, full-market burst, and scenario 5, memory over a trading day, on one gateway
 * subscribed to 12,000 symbols:
 *
 * - at rest: RSS once subscribed, before any bar;
 * - burst: at each minute close (+2 market s, as the vendor) the 12,000 bars of that minute
 *   go out within `windowMs` in frames of `frameEvents` events; repeated for >= 10 minutes
 *   (after one warm-up minute). Per minute: first frame sent -> last record received by a
 *   downstream consumer; per bar: its frame's send -> its receipt;
 * - day: the remaining minutes of a 390-minute session for all 12,000 symbols, as fast as
 *   the gateway acknowledges them (a minute goes out once at most one minute's bars are
 *   unacknowledged: 24,000 bars, ~16.7 MB counted, stay within the default MAX_BUFFERED_BYTES,
 *   so the gateway's buffer never overflows); then RSS again.
 *
 * The price topic is created beforehand with max.message.bytes = TOPIC_MAX_MESSAGE_BYTES:
 * with the broker's default (1 MB) the gateway's produce requests for a burst are refused
 * (see `runBurstBrokerDefaults`).
 */

import { MINUTE_MS, formatTsET, minuteStart } from '../../src/contracts/time-format.ts';
import { startConsumer } from '../lib/consumer.ts';
import { hash32 } from '../../src/sim/bars.ts';
import { aggregateJson, syntheticSymbols } from '../lib/load-server.ts';
import { histogramDelta, histogramQuantile } from '../lib/prom.ts';
import { cpuMeter, type CpuShares } from '../lib/proc.ts';
import { monoUs, perfToMonoUs, type Window } from '../lib/profile-window.ts';
import { startRig, type BenchContext, type Rig } from '../lib/rig.ts';
import { r, sleep, summary } from '../lib/stats.ts';

export const FULL_MARKET_SYMBOLS = 12_000;
export const SESSION_MINUTES = 390;
/** Topic limit used by the load scenarios; the broker default is 1048588. */
export const TOPIC_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
const FIRST_MINUTE = Date.parse('2026-03-10T13:30:00Z');
const BAR_DELAY_MARKET_MS = 2_000;

export interface BurstSettings {
  frameEvents: number;
  windowMs: number;
}

export interface BurstMinute {
  tsET: string;
  sendMs: number;
  allAckedMs: number | null;
  lastFrameToAckMs: number | null;
  received: number;
}

export interface BurstResult {
  symbols: number;
  minutes: number;
  warmupMinutes: number;
  msPerMinute: number;
  /** Market minutes from one burst to the next (the ones between carry no bars). */
  burstEveryMinutes: number;
  /** Wall ms from one burst to the next. */
  burstIntervalMs: number;
  frameEvents: number;
  framesPerMinute: number;
  windowMs: number;
  topicMaxMessageBytes: number;
  /** Median over the measured minutes of (first frame sent -> last record received). */
  allAckedMs: number | null;
  allAckedMsMax: number | null;
  /** Median over the measured minutes of (last frame sent -> last record received). */
  lastFrameToAckMs: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  bars: number;
  missing: number;
  gatewayFrameToAck: { p50Ms: number | null; p99Ms: number | null; meanMs: number | null; count: number };
  gatewayCpuSecPerMinute: number | null;
  brokerCpuSecPerMinute: number | null;
  benchCpuSecPerMinute: number | null;
  /** CPU over the measured bursts, % of one core: gateway, broker, bench, other processes. */
  cpuPct: Omit<CpuShares, 'wallSec' | 'gatewaySec' | 'brokerSec'>;
  perMinute: BurstMinute[];
  recordBytes: { value: number; keyAndHeaders: number };
}

export interface MemoryResult {
  symbols: number;
  /** RSS once subscribed to every symbol, before any bar, after a forced full GC. */
  rssMbAtRest: number | null;
  heapUsedMbAtRest: number | null;
  /** RSS after the day's bars are all acknowledged, after a forced full GC: what the gateway retains. */
  rssMbAfterDay: number | null;
  heapUsedMbAfterDay: number | null;
  /** RSS split into anonymous (the process's own) and file-backed (the node binary's pages, shared and reclaimable). */
  rssAnonMbAtRest?: number | null;
  rssFileMbAtRest?: number | null;
  rssAnonMbAfterDay: number | null;
  rssFileMbAfterDay: number | null;
  /** V8's committed heap after the forced GC (what it keeps for reuse), and memory outside the heap (Buffers). */
  heapTotalMbAfterDay: number | null;
  externalMbAfterDay: number | null;
  /** RSS after the day before the forced GC (what a container limit sees). */
  rssMbAfterDayNoGc: number | null;
  /** VmHWM: the highest RSS of the process. */
  peakRssMb: number | null;
  dayMinutes: number;
  dayBars: number;
  /** Bars of the day acknowledged by Kafka (burst minutes included). */
  dayBarsAcked: number;
  /** True when --quick ran a scaled-down day. */
  scaledDay: boolean;
  /** False when the day could not be pushed through (see stopReason). */
  completed: boolean;
  stopReason: string | null;
  label: string;
  /** (heap after the day - heap at rest) / bars acknowledged, both after a full GC. */
  heapBytesPerBar: number | null;
  /** (RSS after the day - RSS at rest) / bars acknowledged, both after a full GC. */
  bytesPerBar: number | null;
  /** Bars per second the gateway acknowledged while the rest of the day was pushed through. */
  dayBarsPerSec: number | null;
  dayWallSec: number | null;
  /** Wall seconds the push waited for the market clock (minutes not yet closed): the clock, not the gateway, was the limit then. */
  dayClockWaitSec: number | null;
  gatewayCpuSecPerMillion: number | null;
  dropped: number;
  /** CPU while the day was pushed, % of one core: gateway, broker, bench, other processes. */
  cpuPct: Omit<CpuShares, 'wallSec' | 'gatewaySec' | 'brokerSec'> | null;
}

export interface BurstOutcome {
  burst: BurstResult;
  memory: MemoryResult;
  windows: Window[];
  gatewayExit: string;
  profilePath: string | null;
  gatewayProblems: string[];
}

/** The minute's bars as frames of `frameEvents` events, and the keys of each frame. */
function buildMinute(symbols: readonly string[], hashes: readonly number[], startMs: number, frameEvents: number): string[] {
  const frames: string[] = [];
  for (let i = 0; i < symbols.length; i += frameEvents) {
    const events: string[] = [];
    for (let j = i; j < Math.min(symbols.length, i + frameEvents); j++) events.push(aggregateJson('AM', symbols[j]!, startMs, hashes[j]!));
    frames.push(`[${events.join(',')}]`);
  }
  return frames;
}

/** Sends `frames` spread evenly over `windowMs` (timer resolution ~1 ms); returns each frame's send time. */
async function sendSpread(rig: Rig, frames: string[], windowMs: number): Promise<number[]> {
  const at: number[] = [];
  const t0 = performance.now();
  const step = frames.length > 1 ? windowMs / (frames.length - 1) : 0;
  for (let k = 0; k < frames.length;) {
    const now = performance.now();
    while (k < frames.length && now - t0 >= k * step - 0.5) {
      at.push(rig.ls.send(frames[k]!));
      k += 1;
    }
    if (k < frames.length) await sleep(Math.max(1, t0 + k * step - performance.now()));
  }
  return at;
}

export async function runBurstAndDay(ctx: BenchContext, settings: BurstSettings): Promise<BurstOutcome> {
  const symbols = syntheticSymbols(FULL_MARKET_SYMBOLS);
  const hashes = symbols.map(hash32);
  const warmup = 1;
  const minutes = ctx.quick ? 3 : 12;
  // The market clock runs at 2 minutes per wall second, so the rest of the day can be pushed
  // through at up to 24,000 bars/s without a bar ever starting in the gateway's future (it
  // drops such bars). Bursts are one every `burstEvery` minutes (2.5-3 s of wall time apart);
  // the minutes between them have no bars (as if nothing traded): fills are off.
  const msPerMinute = 500;
  const burstEvery = ctx.quick ? 5 : 6;
  const dayMinutes = ctx.quick ? 20 : SESSION_MINUTES;
  const rig = await startRig(ctx, {
    name: 'burst-day',
    symbols,
    startMarketMs: FIRST_MINUTE - 2 * MINUTE_MS,
    msPerMinute,
    topicMaxMessageBytes: TOPIC_MAX_MESSAGE_BYTES,
    profile: ctx.profile,
    inspect: true,
  });
  const windows: Window[] = [];
  try {
    // --- at rest ---------------------------------------------------------------------
    await sleep(2_000);
    const restGc = await rig.gw.collectGarbage();
    const restHeap = restGc?.heapUsedMb ?? null;
    await sleep(500);
    const rest = rig.gw.proc();
    ctx.say(
      `burst: gateway subscribed to ${symbols.length} symbols in ${Math.round(rig.startMs)} ms; RSS at rest ${rest?.rssMb.toFixed(0)} MiB (heap used ${restHeap?.toFixed(0)} of ${restGc?.heapTotalMb?.toFixed(0)} MiB committed, external ${restGc?.externalMb?.toFixed(0)} MiB)`,
    );

    // --- burst -----------------------------------------------------------------------
    const consumer = await startConsumer(ctx.brokers, rig.topic, `bench-${ctx.runTag}-burst`);
    const firstBar = minuteStart(rig.ls.clock.now());
    const sentAt = new Map<string, number>();
    const perMinuteSends: { tsET: string; first: number; last: number; measured: boolean }[] = [];
    let before = await rig.gw.metrics();
    let cpuBefore = { gw: rig.gw.proc()?.cpuSec ?? 0, broker: ctx.brokerCpuSec(), bench: process.cpuUsage() };
    let meter = cpuMeter(() => rig.gw.pid, ctx.brokerCpuSec);
    ctx.say(
      `burst: ${minutes} minutes (+${warmup} warm-up) of ${symbols.length} bars in ${Math.ceil(symbols.length / settings.frameEvents)} frames over ${settings.windowMs} ms, one burst every ${(burstEvery * msPerMinute) / 1000} s (every ${burstEvery} market minutes)`,
    );
    let burstStartUs = 0;
    for (let m = 0; m < warmup + minutes; m++) {
      const startMs = firstBar + m * burstEvery * MINUTE_MS;
      const tsET = formatTsET(startMs);
      const frames = buildMinute(symbols, hashes, startMs, settings.frameEvents);
      if (m === warmup) {
        await consumer.waitForCount(warmup * symbols.length, 30_000).catch(() => undefined);
        consumer.drain();
        before = await rig.gw.metrics();
        cpuBefore = { gw: rig.gw.proc()?.cpuSec ?? 0, broker: ctx.brokerCpuSec(), bench: process.cpuUsage() };
        meter = cpuMeter(() => rig.gw.pid, ctx.brokerCpuSec);
      }
      const delay = rig.ls.clock.wallDelayUntil(startMs + MINUTE_MS + BAR_DELAY_MARKET_MS);
      if (delay > 0) await sleep(delay);
      if (m === warmup) burstStartUs = monoUs();
      const at = await sendSpread(rig, frames, settings.windowMs);
      perMinuteSends.push({ tsET, first: at[0]!, last: at[at.length - 1]!, measured: m >= warmup });
      if (m >= warmup) {
        for (let f = 0; f < frames.length; f++) {
          for (let j = f * settings.frameEvents; j < Math.min(symbols.length, (f + 1) * settings.frameEvents); j++) sentAt.set(`${symbols[j]}|${tsET}`, at[f]!);
        }
      }
    }
    const expected = (warmup + minutes) * symbols.length;
    await consumer.waitForCount(expected, 60_000).catch((error: Error) => ctx.say(`burst: ${error.message}`));
    const receipts = consumer.drain();
    const shares = meter.stop();
    const after = await rig.gw.metrics();
    const cpuAfter = { gw: rig.gw.proc()?.cpuSec ?? 0, broker: ctx.brokerCpuSec(), bench: process.cpuUsage(cpuBefore.bench) };
    const recordBytes = consumer.sizes();
    await consumer.stop();

    const lastReceipt = new Map<string, number>();
    const receivedPerMinute = new Map<string, number>();
    const latencies: number[] = [];
    for (const { key, tsET, at } of receipts) {
      const k = `${key}|${tsET}`;
      const sent = sentAt.get(k);
      if (sent === undefined) continue;
      sentAt.delete(k);
      latencies.push(at - sent);
      lastReceipt.set(tsET, Math.max(lastReceipt.get(tsET) ?? 0, at));
      receivedPerMinute.set(tsET, (receivedPerMinute.get(tsET) ?? 0) + 1);
    }
    const perMinute: BurstMinute[] = perMinuteSends
      .filter((p) => p.measured)
      .map((p) => {
        const received = receivedPerMinute.get(p.tsET) ?? 0;
        const last = received === symbols.length ? lastReceipt.get(p.tsET)! : null;
        return {
          tsET: p.tsET,
          sendMs: r(p.last - p.first, 1)!,
          allAckedMs: last === null ? null : r(last - p.first, 1),
          lastFrameToAckMs: last === null ? null : r(last - p.last, 1),
          received,
        };
      });
    if (lastReceipt.size > 0) windows.push({ name: 'burst', startUs: burstStartUs, endUs: perfToMonoUs(Math.max(...lastReceipt.values())) });
    const complete = perMinute.filter((p) => p.allAckedMs !== null);
    const allAcked = summary(complete.map((p) => p.allAckedMs!));
    const lastFrame = summary(complete.map((p) => p.lastFrameToAckMs!));
    const lat = summary(latencies);
    const h = histogramDelta(before.histogram('sentio_gateway_publish_latency_seconds'), after.histogram('sentio_gateway_publish_latency_seconds'));
    const q = (p: number): number | null => {
      const v = histogramQuantile(h, p);
      return v === null ? null : v * 1000;
    };
    const burst: BurstResult = {
      symbols: symbols.length,
      minutes,
      warmupMinutes: warmup,
      msPerMinute,
      burstEveryMinutes: burstEvery,
      burstIntervalMs: burstEvery * msPerMinute,
      frameEvents: settings.frameEvents,
      framesPerMinute: Math.ceil(symbols.length / settings.frameEvents),
      windowMs: settings.windowMs,
      topicMaxMessageBytes: TOPIC_MAX_MESSAGE_BYTES,
      allAckedMs: r(allAcked.p50, 1),
      allAckedMsMax: r(allAcked.max, 1),
      lastFrameToAckMs: r(lastFrame.p50, 1),
      p50Ms: r(lat.p50, 1),
      p99Ms: r(lat.p99, 1),
      maxMs: r(lat.max, 1),
      bars: latencies.length,
      missing: sentAt.size,
      gatewayFrameToAck: { p50Ms: r(q(0.5), 1), p99Ms: r(q(0.99), 1), meanMs: h.count > 0 ? r((h.sum / h.count) * 1000, 1) : null, count: h.count },
      gatewayCpuSecPerMinute: r((cpuAfter.gw - cpuBefore.gw) / minutes, 3),
      brokerCpuSecPerMinute: r((cpuAfter.broker - cpuBefore.broker) / minutes, 3),
      benchCpuSecPerMinute: r((cpuAfter.bench.user + cpuAfter.bench.system) / 1e6 / minutes, 3),
      cpuPct: { gatewayPct: shares.gatewayPct, brokerPct: shares.brokerPct, benchPct: shares.benchPct, othersPct: shares.othersPct },
      perMinute,
      recordBytes: { value: r(recordBytes.value, 1)!, keyAndHeaders: r(recordBytes.keyAndHeaders, 1)! },
    };
    ctx.say(`burst: all acked in ${burst.allAckedMs} ms (median), p99 per bar ${burst.p99Ms} ms, missing ${burst.missing}`);

    // --- the rest of the day ----------------------------------------------------------
    const memory = await pushRestOfDay(
      ctx,
      rig,
      symbols,
      hashes,
      firstBar + ((warmup + minutes - 1) * burstEvery + 1) * MINUTE_MS,
      dayMinutes - warmup - minutes,
      settings.frameEvents,
      windows,
    );
    const burstBars = (warmup + minutes) * symbols.length;
    memory.dayBarsAcked += burstBars;
    memory.rssMbAtRest = r(rest?.rssMb, 1);
    memory.rssAnonMbAtRest = r(rest?.rssAnonMb, 1);
    memory.rssFileMbAtRest = r(rest?.rssFileMb, 1);
    memory.heapUsedMbAtRest = r(restHeap, 1);
    memory.dayMinutes = dayMinutes;
    memory.dayBars = dayMinutes * symbols.length;
    memory.scaledDay = dayMinutes < SESSION_MINUTES;
    memory.label = memory.scaledDay
      ? `SCALED-DOWN DAY (--quick): ${dayMinutes} of ${SESSION_MINUTES} minutes x ${symbols.length} symbols = ${memory.dayBars} bars`
      : `full day: ${SESSION_MINUTES} minutes x ${symbols.length} symbols = ${memory.dayBars} bars`;
    if (!memory.completed) memory.label += ` (NOT COMPLETED: ${memory.dayBarsAcked} acked; ${memory.stopReason})`;
    const bars = memory.dayBarsAcked;
    memory.bytesPerBar = memory.rssMbAfterDay !== null && rest !== null && bars > 0 ? r(((memory.rssMbAfterDay - rest.rssMb) * 2 ** 20) / bars, 0) : null;
    memory.heapBytesPerBar =
      memory.heapUsedMbAfterDay !== null && restHeap !== null && bars > 0 ? r(((memory.heapUsedMbAfterDay - restHeap) * 2 ** 20) / bars, 0) : null;
    const gatewayProblems = summariseProblems(rig.gw.problems());
    const exit = await rig.close();
    return {
      burst,
      memory,
      windows,
      gatewayExit: `code ${exit.code}${exit.signal ? ` signal ${exit.signal}` : ''} after ${Math.round(exit.ms)} ms`,
      profilePath: rig.profilePath,
      gatewayProblems,
    };
  } catch (error) {
    await rig.close().catch(() => undefined);
    throw error;
  }
}

async function pushRestOfDay(
  ctx: BenchContext,
  rig: Rig,
  symbols: readonly string[],
  hashes: readonly number[],
  fromMinute: number,
  minutes: number,
  frameEvents: number,
  windows: Window[],
): Promise<MemoryResult> {
  const window = symbols.length;
  const budgetMs = ctx.quick ? 40_000 : 20 * 60_000;
  const m0 = await rig.gw.metrics();
  const published0 = m0.sum('sentio_gateway_bars_published_total');
  const dropped0 = m0.sum('sentio_gateway_events_dropped_total');
  const cpu0 = rig.gw.proc()?.cpuSec ?? 0;
  const meter = cpuMeter(() => rig.gw.pid, ctx.brokerCpuSec);
  const t0 = performance.now();
  const startUs = monoUs();
  ctx.say(`day: pushing ${minutes} more minutes x ${symbols.length} symbols (${minutes * symbols.length} bars), at most ${window} unacknowledged`);
  let sent = 0;
  let acked = 0;
  let stopReason: string | null = null;
  let clockWaitMs = 0;
  let nextReport = performance.now() + 15_000;
  let lastRss = rig.gw.proc()?.rssMb ?? null;
  const refresh = async (): Promise<void> => {
    acked = (await rig.gw.metrics()).sum('sentio_gateway_bars_published_total') - published0;
    lastRss = rig.gw.proc()?.rssMb ?? lastRss;
  };
  try {
    for (let m = 0; m < minutes && stopReason === null; m++) {
      const startMs = fromMinute + m * MINUTE_MS;
      // As the vendor: a minute's bars go out once it has closed (+2 market s).
      const wait = rig.ls.clock.wallDelayUntil(startMs + MINUTE_MS + BAR_DELAY_MARKET_MS);
      if (wait > 0) {
        clockWaitMs += wait;
        await sleep(wait);
      }
      for (const frame of buildMinute(symbols, hashes, startMs, frameEvents)) rig.ls.send(frame);
      sent += symbols.length;
      let stalledSince = performance.now();
      let lastAcked = acked;
      while (sent - acked > window) {
        await sleep(50);
        await refresh();
        if (acked > lastAcked) {
          lastAcked = acked;
          stalledSince = performance.now();
        } else if (performance.now() - stalledSince > 30_000) {
          stopReason = `the gateway acknowledged nothing for 30 s (${acked} of ${sent} bars)`;
          break;
        }
      }
      if (performance.now() - t0 > budgetMs) stopReason = `time budget of ${budgetMs / 1000} s reached after ${m + 1} of ${minutes} minutes`;
      if (performance.now() > nextReport) {
        ctx.say(`day: ${m + 1}/${minutes} minutes sent, ${acked} bars acked, gateway RSS ${lastRss?.toFixed(0)} MiB`);
        nextReport = performance.now() + 15_000;
      }
    }
    const deadline = performance.now() + 60_000;
    while (acked < sent && performance.now() < deadline) {
      await sleep(100);
      await refresh();
    }
  } catch (error) {
    stopReason = `gateway gone: ${(error as Error).message}${rig.gw.proc() === null ? ` (process exited; stderr: ${rig.gw.stderr.slice(-3).join(' | ')})` : ''}; last RSS seen ${lastRss?.toFixed(0)} MiB`;
  }
  if (stopReason === null && acked < sent) stopReason = `${sent - acked} bars still unacknowledged 60 s after the last was sent`;
  const wallSec = (performance.now() - t0) / 1000;
  windows.push({ name: 'day', startUs, endUs: monoUs() });
  const cpu1 = rig.gw.proc()?.cpuSec ?? null;
  const shares = cpu1 === null ? null : meter.stop();
  const beforeGc = rig.gw.proc();
  let heapAfter: number | null = null;
  let gcAfter: Awaited<ReturnType<Rig['gw']['collectGarbage']>> = null;
  let m1: Awaited<ReturnType<Rig['gw']['metrics']>> | null = null;
  try {
    gcAfter = await rig.gw.collectGarbage();
    heapAfter = gcAfter?.heapUsedMb ?? null;
    await sleep(500);
    m1 = await rig.gw.metrics();
  } catch {
    // the gateway is gone
  }
  const end = rig.gw.proc();
  ctx.say(
    `day: ${acked} of ${sent} bars acked in ${wallSec.toFixed(1)} s; RSS ${beforeGc?.rssMb.toFixed(0)} MiB, ${end?.rssMb.toFixed(0)} MiB after a full GC (heap used ${heapAfter?.toFixed(0)} of ${gcAfter?.heapTotalMb?.toFixed(0)} MiB committed, external ${gcAfter?.externalMb?.toFixed(0)} MiB of which ArrayBuffers ${gcAfter?.arrayBuffersMb?.toFixed(0)} MiB)`,
  );
  return {
    symbols: symbols.length,
    rssMbAtRest: null,
    heapUsedMbAtRest: null,
    rssMbAfterDay: r(end?.rssMb, 1),
    rssAnonMbAfterDay: r(end?.rssAnonMb, 1),
    rssFileMbAfterDay: r(end?.rssFileMb, 1),
    heapUsedMbAfterDay: r(heapAfter, 1),
    heapTotalMbAfterDay: r(gcAfter?.heapTotalMb, 1),
    externalMbAfterDay: r(gcAfter?.externalMb, 1),
    rssMbAfterDayNoGc: r(beforeGc?.rssMb ?? lastRss, 1),
    peakRssMb: r(end?.peakRssMb, 1),
    dayMinutes: 0,
    dayBars: 0,
    dayBarsAcked: acked,
    scaledDay: false,
    completed: stopReason === null,
    stopReason,
    label: '',
    heapBytesPerBar: null,
    bytesPerBar: null,
    dayBarsPerSec: r(acked / wallSec, 0),
    dayWallSec: r(wallSec, 1),
    dayClockWaitSec: r(clockWaitMs / 1000, 1),
    gatewayCpuSecPerMillion: acked > 0 && cpu1 !== null ? r(((cpu1 - cpu0) / acked) * 1e6, 2) : null,
    dropped: m1 === null ? 0 : m1.sum('sentio_gateway_events_dropped_total') - dropped0,
    cpuPct: shares === null ? null : { gatewayPct: shares.gatewayPct, brokerPct: shares.brokerPct, benchPct: shares.benchPct, othersPct: shares.othersPct },
  };
}

/**
 * The gateway as shipped against a broker as shipped: the gateway creates its own topic, so
 * it inherits the broker's default max.message.bytes (1 MB). 12,000 bars arrive back to back
 * (as when the gateway catches up after a stall, or its buffer refills during a Kafka outage),
 * so the sink's next produce request holds up to its 5,000-record batch. Did they reach Kafka?
 */
export interface BrokerDefaultsResult {
  mode: string;
  topicMaxMessageBytes: number;
  symbols: number;
  ok: boolean;
  acked: number;
  waitedMs: number;
  kafkaErrors: number;
  firstError: string | null;
  gatewayExit: string;
}

export async function runBurstBrokerDefaults(ctx: BenchContext, settings: BurstSettings): Promise<BrokerDefaultsResult> {
  const symbols = syntheticSymbols(FULL_MARKET_SYMBOLS);
  const hashes = symbols.map(hash32);
  const rig = await startRig(ctx, {
    name: 'burst-defaults',
    symbols,
    startMarketMs: FIRST_MINUTE,
    msPerMinute: 60_000,
    topicMaxMessageBytes: null,
    // Shut down quickly when records cannot be delivered.
    env: { SHUTDOWN_TIMEOUT_MS: '2000' },
  });
  try {
    const waitMs = ctx.quick ? 5_000 : 10_000;
    const startMs = minuteStart(rig.ls.clock.now()) - MINUTE_MS;
    const t0 = performance.now();
    for (const frame of buildMinute(symbols, hashes, startMs, settings.frameEvents)) rig.ls.send(frame);
    let acked = 0;
    let m = await rig.gw.metrics();
    while (performance.now() - t0 < waitMs) {
      await sleep(250);
      m = await rig.gw.metrics();
      acked = m.sum('sentio_gateway_bars_published_total');
      if (acked >= symbols.length) break;
    }
    const waitedMs = performance.now() - t0;
    const errorLine = rig.gw.problems().find((l) => l['msg'] === 'Kafka send failed; retrying');
    const exit = await rig.close();
    return {
      mode: `${symbols.length} bars in ${Math.ceil(symbols.length / settings.frameEvents)} frames of ${settings.frameEvents}, back to back`,
      topicMaxMessageBytes: BROKER_DEFAULT_MAX_MESSAGE_BYTES,
      symbols: symbols.length,
      ok: acked >= symbols.length,
      acked,
      waitedMs: r(waitedMs, 0)!,
      kafkaErrors: m.sum('sentio_gateway_kafka_errors_total'),
      firstError: errorLine === undefined ? null : String(errorLine['error']),
      gatewayExit: `code ${exit.code}${exit.signal ? ` signal ${exit.signal}` : ''} after ${Math.round(exit.ms)} ms`,
    };
  } catch (error) {
    await rig.close().catch(() => undefined);
    throw error;
  }
}

/** Distinct warning and error messages the gateway logged, with counts. */
export function summariseProblems(lines: Record<string, unknown>[]): string[] {
  const counts = new Map<string, number>();
  for (const l of lines) {
    const text = `${String(l['level'])}: ${String(l['msg'])}${l['error'] !== undefined ? ` (${JSON.stringify(l['error']).slice(0, 120)})` : ''}`;
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return [...counts].map(([text, n]) => (n > 1 ? `${text} x${n}` : text));
}
