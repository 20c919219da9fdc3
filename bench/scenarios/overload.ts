/**
 * Overload: the gateway as shipped (default MAX_BUFFERED_BARS and MAX_BUFFERED_BYTES),
 * 12,000 symbols, driven past what it can deliver, to show its memory stays bounded. A
 * vendor cannot be pushed back on (it cuts slow readers off), so the gateway must hold or
 * drop, never grow without bound.
 *
 * Steps, each followed by a drain:
 * - `kafkaThrottled`: the broker holds the gateway's client id to a produce quota of
 *   200 KB/s (Kafka's own client quotas, set with kafka-configs) while AM events arrive at
 *   20,000/s, several times more bars than the buffer may hold; then the quota is lifted.
 *   (Freezing the broker instead, SIGSTOP, left a single-node KRaft broker unable to take
 *   writes for well over a minute after SIGCONT: a broken broker, not an overload.)
 * - `pastTheCeiling`: AM events offered faster than the gateway can publish them.
 *
 * Per step: the highest RSS sampled every 50 ms (and VmHWM, the kernel's own peak), the
 * buffer's highest bar and byte counts (the gateway's gauges), and the bytes held per
 * buffered bar: RSS growth over the step's start / bars buffered at that moment, next to the
 * gateway's own estimate (buffered bytes / buffered bars).
 */

import { FULL_MARKET_SYMBOLS, TOPIC_MAX_MESSAGE_BYTES, summariseProblems } from './burst.ts';
import { amFrames, FIREHOSE_MARKET_MS } from './firehose.ts';
import { MINUTE_MS } from '../../src/contracts/time-format.ts';
import { hash32 } from '../../src/sim/bars.ts';
import { aggregateJson, syntheticSymbols } from '../lib/load-server.ts';
import { startRig, type BenchContext, type Rig } from '../lib/rig.ts';
import { r, sleep } from '../lib/stats.ts';
import { setProducerQuota } from '../lib/client-quota.ts';

export interface OverloadStep {
  name: 'kafkaThrottled' | 'pastTheCeiling';
  offeredPerSec: number;
  seconds: number;
  sent: number;
  published: number;
  dropped: number;
  /**
   * Bars neither published nor counted as dropped: the ones an overflow took back to replay
   * their symbol from REST (the load server's REST has no bars, so here they never return).
   */
  takenBackForReplay: number;
  rssMbBefore: number | null;
  /** Highest RSS sampled during the step and its drain. */
  peakRssMb: number | null;
  /** The process's VmHWM after the step: the peak since it started. */
  vmHwmMb: number | null;
  bufferedBarsMax: number;
  bufferedBytesMax: number;
  /** Most live bars held for a backfill at once (sentio_gateway_held_bars). */
  heldBarsMax: number;
  /** Most V8 heap committed (nodejs_heap_size_total_bytes) and external memory (Buffers) seen, MiB. */
  heapMbMax: number | null;
  externalMbMax: number | null;
  /** (RSS when the buffer was fullest - RSS before the step) / bars buffered and held then. */
  rssBytesPerBufferedBar: number | null;
  /** The gateway's estimate: buffered bytes / buffered bars, at the same moment. */
  accountedBytesPerBufferedBar: number | null;
  /** From the step's end until nothing was buffered or held (twice in a row); null if not within the drain's bound. */
  drainMs: number | null;
}

export interface OverloadResult {
  what: string;
  symbols: number;
  settings: string;
  rssMbAtRest: number | null;
  steps: OverloadStep[];
  /** Highest RSS over every step: the figure the 300 MB target applies to. */
  peakRssMb: number | null;
  gatewayProblems: string[];
  gatewayExit: string;
}

async function counts(
  rig: Rig,
): Promise<{ published: number; dropped: number; bars: number; bytes: number; held: number; heapMb: number; externalMb: number }> {
  const m = await rig.gw.metrics();
  return {
    // Live bars only: the drain's recovery also publishes filled minutes.
    published: m.sum('sentio_gateway_bars_published_total', { source: 'live' }),
    dropped:
      m.sum('sentio_gateway_events_dropped_total', { reason: 'buffer_overflow' }) + m.sum('sentio_gateway_events_dropped_total', { reason: 'held_let_go' }),
    bars: m.sum('sentio_gateway_buffered_bars'),
    bytes: m.sum('sentio_gateway_buffered_bytes'),
    held: m.sum('sentio_gateway_held_bars'),
    heapMb: m.sum('sentio_gateway_nodejs_heap_size_total_bytes') / 2 ** 20,
    externalMb: m.sum('sentio_gateway_nodejs_external_memory_bytes') / 2 ** 20,
  };
}

async function runOverloadStep(
  ctx: BenchContext,
  rig: Rig,
  frame: (n: number) => string,
  o: {
    name: OverloadStep['name'];
    perSec: number;
    seconds: number;
    frameEvents: number;
    around?: { before(): Promise<void>; after(): Promise<void> };
    /** A frame that moves the feed's present past the step's bars (see feedMovesOnFrame). */
    feedMovesOn: () => string;
  },
): Promise<OverloadStep> {
  const start = await counts(rig);
  const rssBefore = rig.gw.proc()?.rssMb ?? null;
  let peakRss = rssBefore ?? 0;
  let fullest = { bars: 0, bytes: 0, held: 0, rssMb: rssBefore ?? 0 };
  let heldMax = 0;
  let bufferedBytesMax = 0;
  let heapMbMax = 0;
  let externalMbMax = 0;
  // Sample RSS often and the gauges less often (each /metrics scrape costs the gateway).
  let sampling = true;
  const sampler = (async () => {
    let k = 0;
    while (sampling) {
      const p = rig.gw.proc();
      if (p !== null) peakRss = Math.max(peakRss, p.rssMb);
      if (k++ % 10 === 0) {
        const c = await counts(rig).catch(() => null);
        const rss = rig.gw.proc()?.rssMb ?? 0;
        if (c !== null) {
          bufferedBytesMax = Math.max(bufferedBytesMax, c.bytes);
          heldMax = Math.max(heldMax, c.held);
          heapMbMax = Math.max(heapMbMax, c.heapMb);
          externalMbMax = Math.max(externalMbMax, c.externalMb);
          if (c.bars + c.held > fullest.bars + fullest.held) fullest = { bars: c.bars, bytes: c.bytes, held: c.held, rssMb: rss };
        }
      }
      await sleep(50);
    }
  })();
  let sent = 0;
  let drainMs: number | null = null;
  let end = start;
  try {
    // The gateway may have reconnected after the last step (it can fall silent long enough to
    // be judged stalled); wait for its subscription, and say so if it died instead.
    await rig.ls.subscribed(FULL_MARKET_SYMBOLS, 30_000).catch((error: Error) => {
      const alive = rig.gw.proc() !== null;
      throw new Error(
        `${error.message}; the gateway is ${alive ? 'alive' : 'gone'}; its stderr: ${rig.gw.stderr.slice(-5).join(' | ')}; last log lines: ${JSON.stringify(rig.gw.lines.slice(-3))}`,
      );
    });
    await o.around?.before();
    try {
      const t0 = performance.now();
      for (;;) {
        const elapsed = performance.now() - t0;
        if (elapsed >= o.seconds * 1000) break;
        const due = Math.floor((o.perSec * elapsed) / 1000) - sent;
        // Past 64 MiB unread on the gateway's socket the vendor would cut it off; so do we hold back.
        if (rig.ls.bufferedAmount() < 64 * 2 ** 20)
          for (let n = due; n >= o.frameEvents; n -= o.frameEvents) {
            rig.ls.send(frame(o.frameEvents));
            sent += o.frameEvents;
          }
        await sleep(5);
      }
    } finally {
      await o.around?.after();
    }
    const drainStart = performance.now();
    // Drained: nothing buffered or held, twice in a row (a replay may start between two looks).
    let emptyLooks = 0;
    while (performance.now() - drainStart < (ctx.quick ? 3_000 : 90_000)) {
      end = await counts(rig);
      emptyLooks = end.bars === 0 && end.held === 0 ? emptyLooks + 1 : 0;
      if (emptyLooks >= 2) {
        drainMs = performance.now() - drainStart;
        break;
      }
      rig.ls.send(o.feedMovesOn());
      await sleep(200);
    }
  } finally {
    sampling = false;
    await sampler;
  }
  const proc = rig.gw.proc();
  const published = end.published - start.published;
  const dropped = end.dropped - start.dropped;
  const step: OverloadStep = {
    name: o.name,
    offeredPerSec: o.perSec,
    seconds: o.seconds,
    sent,
    published,
    dropped,
    takenBackForReplay: Math.max(0, sent - published - dropped),
    rssMbBefore: r(rssBefore, 1),
    peakRssMb: r(peakRss, 1),
    vmHwmMb: r(proc?.peakRssMb, 1),
    bufferedBarsMax: fullest.bars,
    heldBarsMax: heldMax,
    bufferedBytesMax,
    heapMbMax: r(heapMbMax, 1),
    externalMbMax: r(externalMbMax, 1),
    rssBytesPerBufferedBar:
      fullest.bars + fullest.held > 0 && rssBefore !== null ? r(((fullest.rssMb - rssBefore) * 2 ** 20) / (fullest.bars + fullest.held), 0) : null,
    accountedBytesPerBufferedBar: fullest.bars > 0 ? r(fullest.bytes / fullest.bars, 0) : null,
    drainMs: drainMs === null ? null : r(drainMs, 0),
  };
  ctx.say(
    `overload ${o.name}: ${sent} bars at ${o.perSec}/s over ${o.seconds} s: published ${published}, dropped ${dropped}; buffer peaked at ${fullest.bars} bars / ${(bufferedBytesMax / 2 ** 20).toFixed(1)} MiB, ${heldMax} held; RSS ${step.rssMbBefore} -> peak ${step.peakRssMb} MiB (VmHWM ${step.vmHwmMb}; heap at most ${step.heapMbMax} MiB, external ${step.externalMbMax}); ${step.rssBytesPerBufferedBar} B of RSS per buffered bar (gateway's estimate ${step.accountedBytesPerBufferedBar})`,
  );
  return step;
}

/**
 * The step's bars are dated a week behind the market clock (each event a new minute), so the
 * gateway judges the feed lagging, and only a newer bar moves its present. When a step ends
 * the bench's feed would fall silent, and every replay of a symbol would wait for the present
 * to pass the minutes REST must settle, up to FEED_STALE_MS: the drain would measure that
 * wait, not the recovery. A live feed brings the next minutes' bars; during a drain this
 * frame is sent every 200 ms, one bar of a symbol the steps never send, each a minute later
 * than the one before and at least three past the last minute the steps sent.
 */
function feedMovesOnFrame(clockSymbol: string, lastMinute: number, minutesOn: number): string {
  return `[${aggregateJson('AM', clockSymbol, lastMinute + (2 + minutesOn) * MINUTE_MS, hash32(clockSymbol))}]`;
}

/** The overload gateway's Kafka client id, so the quota slows it and nothing else. */
const OVERLOAD_CLIENT_ID = 'sentio-bench-overload';

export async function runOverload(ctx: BenchContext, frameEvents: number): Promise<OverloadResult> {
  const symbols = syntheticSymbols(FULL_MARKET_SYMBOLS);
  const rig = await startRig(ctx, {
    name: 'overload',
    symbols,
    startMarketMs: FIREHOSE_MARKET_MS,
    msPerMinute: 60_000,
    topicMaxMessageBytes: TOPIC_MAX_MESSAGE_BYTES,
    env: { KAFKA_CLIENT_ID: OVERLOAD_CLIENT_ID },
  });
  const quota = (bytesPerSec: number | null): Promise<void> => setProducerQuota(ctx.brokers, OVERLOAD_CLIENT_ID, bytesPerSec);
  try {
    // The first symbol is the feed's clock between steps (see feedMovesOnFrame); the rest carry the load.
    const [clockSymbol, ...loaded] = symbols as [string, ...string[]];
    const frame = amFrames(loaded);
    let minutesOn = 0;
    const feedMovesOn = (): string => feedMovesOnFrame(clockSymbol, frame.lastMinute, (minutesOn += 1));
    const rest = rig.gw.proc();
    const steps: OverloadStep[] = [];
    steps.push(
      await runOverloadStep(ctx, rig, frame, {
        name: 'kafkaThrottled',
        perSec: 20_000,
        seconds: ctx.quick ? 3 : 15,
        frameEvents,
        around: { before: () => quota(200_000), after: () => quota(null) },
        feedMovesOn,
      }),
    );
    // --quick only checks that the scenario runs: one short step.
    if (!ctx.quick) steps.push(await runOverloadStep(ctx, rig, frame, { name: 'pastTheCeiling', perSec: 250_000, seconds: 10, frameEvents, feedMovesOn }));
    const gatewayProblems = summariseProblems(rig.gw.problems());
    const exit = await rig.close();
    const peaks = steps.map((s) => s.peakRssMb ?? 0);
    return {
      what: 'the gateway at its default buffer settings, 12,000 symbols: Kafka throttled to 200 KB/s under 20,000 AM bars/s, then bars offered past its ceiling',
      symbols: FULL_MARKET_SYMBOLS,
      settings: 'MAX_BUFFERED_BARS and MAX_BUFFERED_BYTES at their defaults',
      rssMbAtRest: r(rest?.rssMb, 1),
      steps,
      peakRssMb: r(Math.max(...peaks, steps.at(-1)?.vmHwmMb ?? 0), 1),
      gatewayProblems,
      gatewayExit: `code ${exit.code}${exit.signal ? ` signal ${exit.signal}` : ''} after ${Math.round(exit.ms)} ms`,
    };
  } catch (error) {
    // Never leave the quota for anything after this scenario.
    await quota(null).catch(() => undefined);
    await rig.close().catch(() => undefined);
    throw error;
  }
}
