/**
 * Scenario 1, live minute: the 12 live symbols, bars sent 2 market seconds after each
 * minute closes (as the vendor and src/sim do), 8 events per frame, for >= 200 market
 * minutes on an accelerated clock. Measures, per bar, the added latency from the load
 * server's send of its frame to a downstream consumer's receipt, and the gateway's own
 * frame-receipt-to-ack histogram over the same minutes.
 */

import { DEFAULT_SYMBOLS } from '../../src/contracts/polygon-wire.ts';
import { MINUTE_MS, formatTsET, minuteStart } from '../../src/contracts/time-format.ts';
import { startConsumer, type BenchConsumer } from '../lib/consumer.ts';
import { hash32 } from '../../src/sim/bars.ts';
import { aggregateJson, type LoadServer } from '../lib/load-server.ts';
import { cpuMeter, type CpuShares } from '../lib/proc.ts';
import { histogramDelta, histogramQuantile } from '../lib/prom.ts';
import { startRig, type BenchContext } from '../lib/rig.ts';
import { r, sleep, summary } from '../lib/stats.ts';

const FIRST_MINUTE = Date.parse('2026-03-10T13:30:00Z'); // 09:30 New York (EDT)
const WARMUP_MINUTES = 2;
const BAR_DELAY_MARKET_MS = 2_000;
const EVENTS_PER_FRAME = 8;

export interface Live12Result {
  symbols: number;
  minutes: number;
  msPerMinute: number;
  bars: number;
  missing: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  meanMs: number | null;
  /** The same per frame of the minute (8 + 4 events): a later frame's bars wait for the earlier frame's produce request. */
  byFrame: { frame: number; bars: number; p50Ms: number | null; p99Ms: number | null }[];
  gatewayFrameToAck: { p50Ms: number | null; p99Ms: number | null; meanMs: number | null; count: number; note: string };
  gatewayStartMs: number;
  gatewayCpuSec: number | null;
  /** CPU over the measured minutes, % of one core: gateway, broker, bench, other processes. */
  cpuPct: Omit<CpuShares, 'wallSec' | 'gatewaySec' | 'brokerSec'> | null;
  rssMbAtRest: number | null;
  rssMbAfter: number | null;
  gatewayExit: string;
}

/** A run of the scenario: plain, or as a one-gateway HA group (transactional writes). */
export interface Live12Variant {
  /** Names the rig, the consumer group and the progress lines. */
  label: string;
  env?: Record<string, string>;
}

/** The same minutes with every frame sent as it comes (MINUTE_LINGER_MS=0): what the linger changes. */
export const LIVE12_NO_LINGER: Live12Variant = { label: 'live12NoLinger', env: { MINUTE_LINGER_MS: '0' } };

/** The same minutes with `HA_MODE=kafka`: the latency cost of one transaction per batch. */
export const LIVE12_HA: Live12Variant = { label: 'live12Ha', env: { HA_MODE: 'kafka', HA_SESSION_TIMEOUT_MS: '6000' } };

/** Latencies of the measured minutes, per bar and by frame of the minute. */
export interface LiveMinutes {
  latencies: number[];
  byFrame: number[][];
  /** Bars sent in the measured minutes that never reached the consumer. */
  missing: number;
  /** CPU over the measured minutes (the subject is the process under test). */
  shares: CpuShares;
}

export interface LiveMinutesOptions {
  label: string;
  ls: LoadServer;
  consumer: BenchConsumer;
  symbols: readonly string[];
  minutes: number;
  /** The process under test, for its CPU share. */
  pid: () => number | null;
  /** Called once the warm-up minutes are through, before the measured ones. */
  onMeasureStart?: () => Promise<void>;
}

/**
 * The live minute's traffic, the same for the gateway and for the peer: from the minute in
 * progress, every minute's bars 2 market s after it closes, 8 events a frame; warm-up minutes
 * first, then the measured ones, each bar timed from its frame's send to the consumer's receipt.
 */
export async function driveLiveMinutes(ctx: BenchContext, o: LiveMinutesOptions): Promise<LiveMinutes> {
  const { ls, consumer, symbols } = o;
  const hashes = symbols.map(hash32);
  const firstBar = minuteStart(ls.clock.now());
  const sent = new Map<string, number>();
  let meter = cpuMeter(o.pid, ctx.brokerCpuSec);
  const total = WARMUP_MINUTES + o.minutes;
  ctx.say(`${o.label}: ${o.minutes} minutes at ${ls.clock.msPerMinute} ms per market minute (+${WARMUP_MINUTES} warm-up)`);
  for (let m = 0; m < total; m++) {
    const startMs = firstBar + m * MINUTE_MS;
    if (m === WARMUP_MINUTES) {
      // Measurement starts once the warm-up minutes are through.
      await consumer.waitForCount(WARMUP_MINUTES * symbols.length, 15_000).catch((error: Error) => ctx.say(`${o.label}: warm-up: ${error.message}`));
      consumer.drain();
      await o.onMeasureStart?.();
      meter = cpuMeter(o.pid, ctx.brokerCpuSec);
    }
    const delay = ls.clock.wallDelayUntil(startMs + MINUTE_MS + BAR_DELAY_MARKET_MS);
    if (delay > 0) await sleep(delay);
    const tsET = formatTsET(startMs);
    for (let i = 0; i < symbols.length; i += EVENTS_PER_FRAME) {
      const events: string[] = [];
      for (let j = i; j < Math.min(symbols.length, i + EVENTS_PER_FRAME); j++) events.push(aggregateJson('AM', symbols[j]!, startMs, hashes[j]!));
      const at = ls.send(`[${events.join(',')}]`);
      if (m >= WARMUP_MINUTES) for (let j = i; j < Math.min(symbols.length, i + EVENTS_PER_FRAME); j++) sent.set(`${symbols[j]}|${tsET}`, at);
    }
  }
  await consumer.waitForCount(total * symbols.length, 15_000).catch(() => undefined);
  const receipts = consumer.drain();
  const shares = meter.stop();

  const latencies: number[] = [];
  const frameOf = new Map<string, number>(symbols.map((sym, i) => [sym, Math.floor(i / EVENTS_PER_FRAME)]));
  const byFrame: number[][] = [];
  for (const { key, tsET, at } of receipts) {
    const sentAt = sent.get(`${key}|${tsET}`);
    if (sentAt === undefined) continue;
    latencies.push(at - sentAt);
    (byFrame[frameOf.get(key) ?? 0] ??= []).push(at - sentAt);
    sent.delete(`${key}|${tsET}`);
  }
  return { latencies, byFrame, missing: sent.size, shares };
}

/** The live minute's length: 210 market minutes (40 with --quick), wall ms per market minute. */
export function liveMinutesPlan(ctx: Pick<BenchContext, 'quick'>): { minutes: number; msPerMinute: number } {
  return { minutes: ctx.quick ? 40 : 210, msPerMinute: ctx.quick ? 150 : 250 };
}

/** The market opens while the subject starts; the first bar sent is that of the minute in progress once it is subscribed. */
export const LIVE_START_MARKET_MS = FIRST_MINUTE - 10 * MINUTE_MS;

/** The per-bar latency figures of a live run, the same for the gateway and the peer. */
export function liveFigures(drive: LiveMinutes, run: { symbols: number; minutes: number; msPerMinute: number }) {
  const s = summary(drive.latencies);
  return {
    ...run,
    bars: drive.latencies.length,
    missing: drive.missing,
    p50Ms: r(s.p50, 2),
    p90Ms: r(s.p90, 2),
    p99Ms: r(s.p99, 2),
    maxMs: r(s.max, 2),
    meanMs: r(s.mean, 2),
    byFrame: byFrameSummary(drive.byFrame),
  };
}

export function byFrameSummary(byFrame: number[][]): { frame: number; bars: number; p50Ms: number | null; p99Ms: number | null }[] {
  return byFrame.map((values, i) => {
    const f = summary(values);
    return { frame: i + 1, bars: f.n, p50Ms: r(f.p50, 2), p99Ms: r(f.p99, 2) };
  });
}

export async function runLive12(ctx: BenchContext, variant: Live12Variant = { label: 'live12' }): Promise<Live12Result> {
  const { label } = variant;
  const { minutes, msPerMinute } = liveMinutesPlan(ctx);
  const symbols: string[] = [...DEFAULT_SYMBOLS];
  const rig = await startRig(ctx, {
    name: label,
    symbols,
    ...(variant.env === undefined ? {} : { env: variant.env }),
    startMarketMs: LIVE_START_MARKET_MS,
    msPerMinute,
    topicMaxMessageBytes: null,
  });
  try {
    const rest = rig.gw.proc();
    const consumer = await startConsumer(ctx.brokers, rig.topic, `bench-${ctx.runTag}-${label}`);
    let before = await rig.gw.metrics();
    let cpuBefore = rig.gw.proc()?.cpuSec ?? null;
    const drive = await driveLiveMinutes(ctx, {
      label,
      ls: rig.ls,
      consumer,
      symbols,
      minutes,
      pid: () => rig.gw.pid,
      onMeasureStart: async () => {
        before = await rig.gw.metrics();
        cpuBefore = rig.gw.proc()?.cpuSec ?? null;
      },
    });
    const after = await rig.gw.metrics();
    const cpuAfter = rig.gw.proc();
    await consumer.stop();

    const shares = drive.shares;
    const h = histogramDelta(before.histogram('sentio_gateway_publish_latency_seconds'), after.histogram('sentio_gateway_publish_latency_seconds'));
    const q = (p: number): number | null => {
      const v = histogramQuantile(h, p);
      return v === null ? null : v * 1000;
    };
    const exit = await rig.close();
    return {
      ...liveFigures(drive, { symbols: symbols.length, minutes, msPerMinute }),
      gatewayFrameToAck: {
        p50Ms: r(q(0.5), 2),
        p99Ms: r(q(0.99), 2),
        meanMs: h.count > 0 ? r((h.sum / h.count) * 1000, 2) : null,
        count: h.count,
        note: 'sentio_gateway_publish_latency_seconds over the measured minutes; quantiles interpolated inside histogram buckets',
      },
      gatewayStartMs: r(rig.startMs, 0) ?? 0,
      gatewayCpuSec: cpuAfter && cpuBefore !== null ? r(cpuAfter.cpuSec - cpuBefore, 2) : null,
      cpuPct: { gatewayPct: shares.gatewayPct, brokerPct: shares.brokerPct, benchPct: shares.benchPct, othersPct: shares.othersPct },
      rssMbAtRest: r(rest?.rssMb, 1),
      rssMbAfter: r(cpuAfter?.rssMb, 1),
      gatewayExit: `code ${exit.code}${exit.signal ? ` signal ${exit.signal}` : ''} after ${Math.round(exit.ms)} ms`,
    };
  } catch (error) {
    await rig.close().catch(() => undefined);
    throw error;
  }
}
