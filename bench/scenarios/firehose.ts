/**
 * Scenario 3, firehose: a rising event rate until the gateway falls behind.
 *
 * Two measurements on one gateway subscribed to 12,000 symbols:
 *
 * - `firehose` (the headline): `AM` events, every one a new (symbol, minute) so each goes the
 *   whole way: parse, normalise, ledger, JSON, kafkajs produce (acks=all), ack. Progress is
 *   the gateway's own `sentio_gateway_bars_published_total` (acknowledged by Kafka). This is
 *   the figure comparable with Kafka's ProducerPerformance (scenario 4).
 * - `firehoseIngest`: `A` (second) events, which the gateway parses and counts but never
 *   publishes: the ceiling of the socket + parse path alone. Progress is
 *   `sentio_gateway_events_received_total{type="A"}`.
 *
 * Each step sends at a fixed rate for `stepSec` in frames of `frameEvents` events. A step is
 * sustained when the backlog (sent - completed) did not grow over its second half by more
 * than max(5% of that half's events, 6,000 = a bit more than one produce request of the
 * sink), and what was left at the end drained within max(500 ms, 10% of the step). (The
 * completion rate over half a step is also recorded, but it moves in whole produce requests
 * of up to 5,000 records, too coarse to judge a short step by.) The step's rate is then
 * events sent / (step + drain time). Between steps the backlog is drained. The rate rises x1.5 per step until a step is not sustained; in a full run one more
 * step halfway between the last sustained and the first failed rate refines the answer.
 */

import { MINUTE_MS } from '../../src/contracts/time-format.ts';
import { hash32 } from '../../src/sim/bars.ts';
import { aggregateJson, syntheticSymbols } from '../lib/load-server.ts';
import { cpuMeter } from '../lib/proc.ts';
import { monoUs, type Window } from '../lib/profile-window.ts';
import { startRig, type BenchContext } from '../lib/rig.ts';
import type { LoadServer } from '../lib/load-server.ts';
import type { ProcSample } from '../lib/proc.ts';
import { r, sleep } from '../lib/stats.ts';
import { FULL_MARKET_SYMBOLS, TOPIC_MAX_MESSAGE_BYTES, summariseProblems } from './burst.ts';

const FIRST_MINUTE = Date.parse('2026-03-10T13:30:00Z');
/** Bytes the gateway may leave unread on its socket before a step counts as failed. */
const MAX_SOCKET_BACKLOG_BYTES = 64 * 1024 * 1024;

export interface FirehoseStep {
  targetPerSec: number;
  sentPerSec: number;
  /** Completed (acked, or counted for A) per second over the second half of the step. */
  donePerSec: number;
  /** Events sent in the step / (step duration + time to drain what was left). */
  effectivePerSec: number;
  backlogMid: number;
  backlogEnd: number;
  sustained: boolean;
  /** The load server could not offer the target rate (the bench, not the gateway, was the limit). */
  benchLimited: boolean;
  gatewayCpuPct: number;
  brokerCpuPct: number;
  benchCpuPct: number;
  /** CPU other processes on the machine used meanwhile, % of one core. */
  othersCpuPct: number;
  gatewayCpuSecPerMillion: number | null;
  brokerCpuSecPerMillion: number | null;
  rssMb: number | null;
  drainMs: number | null;
}

export interface FirehoseResult {
  event: 'AM' | 'A';
  what: string;
  symbols: number;
  frameEvents: number;
  stepSec: number;
  /** Highest sustained rate (events/s); null if even the first step failed. */
  eventsPerSec: number | null;
  /** Gateway CPU seconds per million events at that rate. */
  cpuSecPerMillion: number | null;
  /** Broker CPU seconds per million events at that rate. */
  brokerCpuSecPerMillion: number | null;
  /** Peak RSS of the gateway process so far (VmHWM), MiB. */
  peakRssMb: number | null;
  /** Events completed over the whole scenario. */
  completed: number;
  steps: FirehoseStep[];
  limitedBy: string;
}

export interface FirehoseOutcome {
  am: FirehoseResult;
  a: FirehoseResult | null;
  windows: Window[];
  topic: string;
  gatewayExit: string;
  profilePath: string | null;
  gatewayProblems: string[];
  droppedOverflow: number;
}

/** The process a climb feeds: the gateway, or the benchmark's peer. */
export interface ClimbSubject {
  /** Names it in limitedBy. */
  name: 'gateway' | 'peer';
  ls: LoadServer;
  pid: number;
  proc(): ProcSample | null;
}

export interface Source {
  /** Next frame of `n` events. */
  frame(n: number): string;
  /** Events completed by the gateway so far. */
  done(): Promise<number>;
}

/** The next `n` events as one frame; `lastMinute` is the newest minute sent so far (the one before the first while none was). */
export type AmFrames = ((n: number) => string) & { readonly lastMinute: number };

/** AM frames that walk the symbols, then the next minute: every event a new (symbol, minute). */
export function amFrames(symbols: readonly string[]): AmFrames {
  const hashes = symbols.map(hash32);
  let i = 0;
  let minute = FIRST_MINUTE;
  let lastMinute = FIRST_MINUTE - MINUTE_MS;
  const frame = (n: number): string => {
    const events: string[] = [];
    for (let k = 0; k < n; k++) {
      events.push(aggregateJson('AM', symbols[i]!, minute, hashes[i]!));
      lastMinute = minute;
      i += 1;
      if (i === symbols.length) {
        i = 0;
        minute += MINUTE_MS;
      }
    }
    return `[${events.join(',')}]`;
  };
  return Object.defineProperty(frame, 'lastMinute', { get: () => lastMinute }) as AmFrames;
}

/** The AM climb: from 5,000/s (8,000 quick), x1.5 (x1.6) per step of 8 s (2.5 s). */
export function amClimb(ctx: Pick<BenchContext, 'quick'>, frameEvents: number): ClimbOptions {
  return {
    start: ctx.quick ? 8_000 : 5_000,
    factor: ctx.quick ? 1.6 : 1.5,
    stepSec: ctx.quick ? 2.5 : 8,
    frameEvents,
    refine: !ctx.quick,
    maxSteps: ctx.quick ? 5 : 12,
  };
}

/** The firehose's market clock: days past every minute it will send (a few thousand at most). */
export const FIREHOSE_MARKET_MS = FIRST_MINUTE + 7 * 24 * 60 * MINUTE_MS;

export async function runFirehose(ctx: BenchContext, frameEvents: number): Promise<FirehoseOutcome> {
  const symbols = syntheticSymbols(FULL_MARKET_SYMBOLS);
  const hashes = symbols.map(hash32);
  const rig = await startRig(ctx, {
    name: 'firehose',
    symbols,
    // The gateway drops bars that start in its future, so its clock is set days past every
    // minute the firehose will send (a few thousand minutes at most).
    startMarketMs: FIREHOSE_MARKET_MS,
    msPerMinute: 60_000,
    topicMaxMessageBytes: TOPIC_MAX_MESSAGE_BYTES,
    // A failed step may queue far more than the default buffer holds; none may be dropped
    // (the overload scenario measures the defaults).
    env: { MAX_BUFFERED_BARS: '5000000', MAX_BUFFERED_BYTES: String(16 * 2 ** 30) },
    // ... and so its heap must grow past the image's bound (the later flag wins).
    nodeArgs: ['--max-old-space-size=4096'],
    profile: ctx.profile,
  });
  const windows: Window[] = [];
  try {
    const stepSec = ctx.quick ? 2.5 : 8;
    const am: Source = {
      frame: amFrames(symbols),
      done: async () => (await rig.gw.metrics()).sum('sentio_gateway_bars_published_total'),
    };
    const subject: ClimbSubject = { name: 'gateway', ls: rig.ls, pid: rig.gw.pid, proc: () => rig.gw.proc() };
    const amStart = monoUs();
    const amResult = await climb(ctx, subject, am, 'AM', amClimb(ctx, frameEvents));
    windows.push({ name: 'firehose-AM', startUs: amStart, endUs: monoUs() });

    // A: a pool of ready frames, sent round-robin (the gateway only parses and counts them).
    let aResult: FirehoseResult | null = null;
    {
      const pool: string[] = [];
      let k = 0;
      for (let f = 0; f < 240; f++) {
        const events: string[] = [];
        for (let e = 0; e < frameEvents; e++) {
          events.push(aggregateJson('A', symbols[k % symbols.length]!, FIRST_MINUTE + f * 1000, hashes[k % symbols.length]!));
          k += 1;
        }
        pool.push(`[${events.join(',')}]`);
      }
      let next = 0;
      const a: Source = {
        frame() {
          next = (next + 1) % pool.length;
          return pool[next]!;
        },
        done: async () => (await rig.gw.metrics()).sum('sentio_gateway_events_received_total', { type: 'A' }),
      };
      const aStart = monoUs();
      aResult = await climb(ctx, subject, a, 'A', {
        start: ctx.quick ? 20_000 : 20_000,
        factor: ctx.quick ? 1.8 : 1.5,
        stepSec: ctx.quick ? 2 : stepSec,
        frameEvents,
        refine: !ctx.quick,
        maxSteps: ctx.quick ? 4 : 12,
      });
      windows.push({ name: 'firehose-A', startUs: aStart, endUs: monoUs() });
    }
    const m = await rig.gw.metrics();
    const droppedOverflow = m.sum('sentio_gateway_events_dropped_total', { reason: 'buffer_overflow' });
    const gatewayProblems = summariseProblems(rig.gw.problems());
    const exit = await rig.close();
    return {
      am: amResult,
      a: aResult,
      windows,
      topic: rig.topic,
      gatewayExit: `code ${exit.code}${exit.signal ? ` signal ${exit.signal}` : ''} after ${Math.round(exit.ms)} ms`,
      profilePath: rig.profilePath,
      gatewayProblems,
      droppedOverflow,
    };
  } catch (error) {
    await rig.close().catch(() => undefined);
    throw error;
  }
}

export interface ClimbOptions {
  start: number;
  factor: number;
  stepSec: number;
  frameEvents: number;
  refine: boolean;
  maxSteps: number;
}

export async function climb(ctx: BenchContext, rig: ClimbSubject, source: Source, event: 'AM' | 'A', o: ClimbOptions): Promise<FirehoseResult> {
  const steps: FirehoseStep[] = [];
  const base = await source.done();
  const completedBase = base;
  let sentTotal = 0;
  let best: FirehoseStep | null = null;
  let failed: FirehoseStep | null = null;
  let rate = o.start;
  const run = async (target: number): Promise<FirehoseStep> => {
    const step = await runStep(
      ctx,
      rig,
      source,
      target,
      o.stepSec,
      o.frameEvents,
      () => sentTotal,
      (n) => (sentTotal += n),
      completedBase,
    );
    steps.push(step);
    ctx.say(
      `firehose ${event}: ${target}/s -> ${step.effectivePerSec}/s incl. drain of ${step.drainMs} ms, backlog ${step.backlogMid} -> ${step.backlogEnd}, CPU % of a core: ${rig.name} ${step.gatewayCpuPct}, broker ${step.brokerCpuPct}, bench ${step.benchCpuPct}, other processes ${step.othersCpuPct}: ${step.sustained ? 'sustained' : step.benchLimited ? 'bench-limited' : 'FELL BEHIND'}`,
    );
    return step;
  };
  for (let n = 0; n < o.maxSteps; n++) {
    const step = await run(Math.round(rate));
    if (step.drainMs === null) {
      failed = step;
      break;
    }
    if (step.sustained) best = step;
    else {
      failed = step;
      break;
    }
    rate *= o.factor;
  }
  // Two bisection steps between the last sustained and the first failed rate.
  let upper = failed;
  for (let k = 0; o.refine && k < 2 && best !== null && upper !== null && upper.drainMs !== null && !upper.benchLimited; k++) {
    const step = await run(Math.round((best.targetPerSec + upper.targetPerSec) / 2));
    if (step.sustained) best = step;
    else upper = step;
  }
  const peak = rig.proc()?.peakRssMb ?? null;
  let limitedBy: string;
  const f = failed;
  const shares =
    f === null ? '' : ` (CPU % of a core: ${rig.name} ${f.gatewayCpuPct}, broker ${f.brokerCpuPct}, bench ${f.benchCpuPct}, other processes ${f.othersCpuPct})`;
  if (f === null) limitedBy = `not reached: every step up to ${best?.targetPerSec ?? 0}/s was sustained`;
  else if (f.benchLimited) limitedBy = `the load generator (bench process) could not offer ${f.targetPerSec}/s${shares}`;
  else if (f.gatewayCpuPct >= 85) limitedBy = `${rig.name} CPU: its one event loop saturated at ${f.targetPerSec}/s${shares}`;
  else if (f.brokerCpuPct >= 85) limitedBy = `broker CPU at ${f.targetPerSec}/s${shares}`;
  else if (f.gatewayCpuPct + f.brokerCpuPct + f.benchCpuPct + f.othersCpuPct >= 170)
    limitedBy = `the machine's 2 cores were busy at ${f.targetPerSec}/s${shares}${f.othersCpuPct >= 30 ? ': other processes took a large share, so this ceiling understates the gateway' : ''}`;
  else limitedBy = `no CPU saturated at ${f.targetPerSec}/s${shares}: waiting on the broker (one produce request in flight)`;
  return {
    event,
    what:
      event === 'AM'
        ? 'AM events, each a new (symbol, minute), through the full path: parse, normalise, ledger, JSON, kafkajs produce (acks=all), ack'
        : 'A events: socket read, JSON parse, validation and counting only (the gateway never publishes them)',
    symbols: FULL_MARKET_SYMBOLS,
    frameEvents: o.frameEvents,
    stepSec: o.stepSec,
    eventsPerSec: best === null ? null : best.effectivePerSec,
    cpuSecPerMillion: best?.gatewayCpuSecPerMillion ?? null,
    brokerCpuSecPerMillion: best?.brokerCpuSecPerMillion ?? null,
    peakRssMb: r(peak, 1),
    completed: (await source.done()) - base,
    steps,
    limitedBy,
  };
}

async function runStep(
  ctx: BenchContext,
  rig: ClimbSubject,
  source: Source,
  target: number,
  stepSec: number,
  frameEvents: number,
  sentSoFar: () => number,
  addSent: (n: number) => void,
  completedBase: number,
): Promise<FirehoseStep> {
  const sentAtStart = sentSoFar();
  const t0 = performance.now();
  const half = (stepSec * 1000) / 2;
  let mid: { at: number; sent: number; done: number; meter: ReturnType<typeof cpuMeter> } | null = null;
  let socketChoked = false;
  let offeredLate = 0;
  for (;;) {
    const now = performance.now();
    const elapsed = now - t0;
    if (elapsed >= stepSec * 1000) break;
    const due = Math.floor((target * elapsed) / 1000) - (sentSoFar() - sentAtStart);
    if (due > target * 0.25) offeredLate += 1; // more than 250 ms of events overdue: we cannot keep up
    if (rig.ls.bufferedAmount() > MAX_SOCKET_BACKLOG_BYTES) socketChoked = true;
    else {
      for (let n = due; n >= frameEvents; n -= frameEvents) {
        rig.ls.send(source.frame(frameEvents));
        addSent(frameEvents);
      }
    }
    if (mid === null && elapsed >= half) {
      const done = (await source.done()) - completedBase;
      mid = { at: performance.now(), sent: sentSoFar(), done, meter: cpuMeter(() => rig.pid, ctx.brokerCpuSec) };
    }
    await sleep(5);
  }
  const cpu = mid?.meter.stop() ?? null;
  const end = { at: performance.now(), sent: sentSoFar(), done: (await source.done()) - completedBase, proc: rig.proc() };
  const sentPerSec = (end.sent - sentAtStart) / ((end.at - t0) / 1000);
  const benchLimited = !socketChoked && (offeredLate > 3 || sentPerSec < target * 0.95);
  const m = mid ?? { at: t0, sent: sentAtStart, done: end.done };
  const halfSec = (end.at - m.at) / 1000;
  const doneHalf = end.done - m.done;
  const sentHalf = end.sent - m.sent;
  const backlogMid = m.sent - m.done;
  const backlogEnd = end.sent - end.done;
  const tolerance = Math.max(0.05 * sentHalf, 6_000);
  const donePerSec = doneHalf / halfSec;
  const stepMs = end.at - t0;

  // Drain before the next step (bounded: a badly failed step may never drain).
  const drainStart = performance.now();
  let drainMs: number | null = null;
  const drainLimit = ctx.quick ? 15_000 : 60_000;
  for (;;) {
    const done = (await source.done()) - completedBase;
    if (done >= sentSoFar()) {
      drainMs = performance.now() - drainStart;
      break;
    }
    if (performance.now() - drainStart > drainLimit) break;
    await sleep(100);
  }
  const sustained = !socketChoked && !benchLimited && backlogEnd - backlogMid <= tolerance && drainMs !== null && drainMs <= Math.max(500, 0.1 * stepMs);
  return {
    targetPerSec: target,
    sentPerSec: r(sentPerSec, 0)!,
    donePerSec: r(donePerSec, 0)!,
    effectivePerSec: drainMs === null ? r(donePerSec, 0)! : r((end.sent - sentAtStart) / ((stepMs + drainMs) / 1000), 0)!,
    backlogMid,
    backlogEnd,
    sustained,
    benchLimited,
    gatewayCpuPct: cpu?.gatewayPct ?? 0,
    brokerCpuPct: cpu?.brokerPct ?? 0,
    benchCpuPct: cpu?.benchPct ?? 0,
    othersCpuPct: cpu?.othersPct ?? 0,
    gatewayCpuSecPerMillion: cpu !== null && doneHalf > 0 ? r((cpu.gatewaySec / doneHalf) * 1e6, 2) : null,
    brokerCpuSecPerMillion: cpu !== null && doneHalf > 0 ? r((cpu.brokerSec / doneHalf) * 1e6, 2) : null,
    rssMb: r(end.proc?.rssMb, 1),
    drainMs: drainMs === null ? null : r(drainMs, 0),
  };
}
