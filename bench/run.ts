/**
 * `npm run bench` (`node bench/run.ts [--quick] [--profile] [--only=a,b] [--out=path]`).
 *
 * Starts the embedded Kafka broker, then for each scenario a Polygon-protocol load server
 * (bench/lib/load-server.ts) and the gateway as its own process, compiled and started as the
 * image starts it (`node <the Dockerfile ENTRYPOINT's flags> dist/main.js run`),
 * runs the scenarios, prints a table and writes every figure to bench/results/latest.json.
 *
 *   live12          12 symbols, >= 200 accelerated minutes: send -> consumer latency
 *   burst           12,000 symbols' bars within 1 s at each minute close, >= 10 minutes
 *   burstDefaults   one such burst with the topic at the broker's default max.message.bytes
 *   memory          RSS at rest and after a 390 x 12,000-bar day (scaled down with --quick)
 *   firehose        rising AM rate until the gateway falls behind (+ A-event ingest ceiling)
 *   producerLimit   Kafka's ProducerPerformance, same records, size, acks=all, no compression
 *   overload        default buffer settings, Kafka throttled / feed past the ceiling: peak RSS
 *   peer            a librdkafka producer (Python confluent-kafka) on live12's and the firehose's load
 *
 * --quick finishes in under two minutes; it fails only when the benchmark itself breaks
 * (a scenario could not run), never on a figure. --profile runs the 12,000-symbol gateways
 * under `node --cpu-prof` and summarises the profiles over each scenario's time window
 * (profiling slows the gateway: figures of a profiled run are marked).
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { startEmbeddedKafka } from '../src/dev/embedded-kafka.ts';
import { cpuBudget, type BudgetTarget, type CpuBudget } from './lib/cpu-budget.ts';
import { summariseProfile, type ProfileSummary } from './lib/cpuprofile.ts';
import { startConsumer } from './lib/consumer.ts';
import { buildGateway, IMAGE_NODE_ARGS } from './lib/gateway-child.ts';
import { readMachineCpu, readProcStat } from './lib/proc.ts';
import type { BenchContext } from './lib/rig.ts';
import { r, sleep } from './lib/stats.ts';
import { runBurstAndDay, runBurstBrokerDefaults, type BrokerDefaultsResult, type BurstOutcome } from './scenarios/burst.ts';
import { runFirehose, type FirehoseOutcome, type FirehoseStep } from './scenarios/firehose.ts';
import { LIVE12_HA, LIVE12_NO_LINGER, runLive12 } from './scenarios/live12.ts';
import { runProducerPerf, type ProducerPerfRun } from './scenarios/producer-limit.ts';
import { runOverload, type OverloadStep } from './scenarios/overload.ts';
import { PEER_WHAT, peerVersions, runPeerFirehose, runPeerLive12 } from './scenarios/peer.ts';

const SCENARIOS = ['live12', 'peer', 'burstDefaults', 'burst', 'firehose', 'overload', 'producerLimit'] as const;
type Scenario = (typeof SCENARIOS)[number];

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
/** Events per frame for the 12,000-symbol scenarios (see bench/README.md). */
const FRAME_EVENTS = 100;
/** Size of a live price record (value + key + headers), for the broker-floor measurement. */
const LIVE_RECORD_BYTES = 600;
/** A full-market minute goes out within this many wall ms. */
const BURST_WINDOW_MS = 1_000;

interface Args {
  quick: boolean;
  profile: boolean;
  only: Set<Scenario>;
  out: string;
  nodeArgs: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, profile: false, only: new Set(SCENARIOS), out: `${RESULTS_DIR}latest.json`, nodeArgs: [] };
  for (const arg of argv) {
    if (arg === '--quick') args.quick = true;
    else if (arg === '--profile') args.profile = true;
    else if (arg.startsWith('--only=')) {
      const wanted = arg
        .slice(7)
        .split(',')
        .filter((s) => s !== '');
      for (const w of wanted) if (!(SCENARIOS as readonly string[]).includes(w)) throw new Error(`unknown scenario ${w}; known: ${SCENARIOS.join(', ')}`);
      args.only = new Set(wanted as Scenario[]);
    } else if (arg.startsWith('--out=')) args.out = arg.slice(6);
    else if (arg.startsWith('--node-arg=')) args.nodeArgs.push(arg.slice(11));
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        'usage: node bench/run.ts [--quick] [--profile] [--only=live12,peer,burstDefaults,burst,firehose,overload,producerLimit] [--out=path] [--node-arg=<flag for the gateway child>]...\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Share of the machine's CPU busy over `ms` (before and after the run: other load on the box). */
async function machineBusyPct(ms: number): Promise<number> {
  const a = readMachineCpu();
  await sleep(ms);
  const b = readMachineCpu();
  return r(((b.busySec - a.busySec) / Math.max(1e-9, b.totalSec - a.totalSec)) * 100, 0)!;
}

function javaVersion(): string | null {
  // `java -version` prints to standard error and exits 0.
  const run = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (run.error) return null;
  return `${run.stderr}${run.stdout}`.split('\n')[0]?.trim() || null;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const began = performance.now();
  const say = (line: string): void => void process.stderr.write(`[bench +${((performance.now() - began) / 1000).toFixed(1)}s] ${line}\n`);
  const runTag = `${Date.now().toString(36)}`;
  const profileDir = `${RESULTS_DIR}profiles-${runTag}`;
  mkdirSync(RESULTS_DIR, { recursive: true });
  if (args.profile) mkdirSync(profileDir, { recursive: true });

  const require = createRequire(import.meta.url);
  const commit = git(['rev-parse', 'HEAD']);
  const dirty = (git(['status', '--porcelain', '--', 'src', 'package.json', 'package-lock.json']) ?? '') !== '';
  const results: Record<string, unknown> = {
    schema: 1,
    quick: args.quick,
    profiled: args.profile,
    gatewayNodeArgs: args.nodeArgs,
    gatewayCommand: ['node', ...IMAGE_NODE_ARGS, 'dist/main.js', 'run'].join(' '),
    startedAt: new Date().toISOString(),
    git: { commit, srcDirty: dirty },
    machine: {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memGb: r(totalmem() / 2 ** 30, 1),
      loadAvgAtStart: loadavg().map((x) => r(x, 2)),
      otherCpuPctBeforeRun: await machineBusyPct(1_000),
    },
    node: process.version,
    kafkajs: (require('kafkajs/package.json') as { version: string }).version,
    ws: (require('ws/package.json') as { version: string }).version,
    java: javaVersion(),
    settings: { frameEvents: FRAME_EVENTS, burstWindowMs: BURST_WINDOW_MS },
    errors: {},
  };
  const errors = results['errors'] as Record<string, string>;
  say(`sentio-gateway bench (${args.quick ? 'quick' : 'full'}${args.profile ? ', profiled' : ''}); scenarios: ${[...args.only].join(', ')}`);

  // The peer's virtual environment builds (pip) while the gateway compiles and the broker starts.
  const peerReady = args.only.has('peer') ? peerVersions({ say }).catch((error: Error) => error) : null;
  say('compiling the gateway (tsc -p tsconfig.build.json), which runs from dist/ as in the image');
  buildGateway();
  say('starting the embedded Kafka broker');
  const kafka = await startEmbeddedKafka({});
  results['kafka'] = { version: kafka.version, broker: 'embedded single node (KRaft), src/dev/embedded-kafka.ts defaults, -Xmx512m' };
  say(`Kafka ${kafka.version} at ${kafka.bootstrapServers}`);
  const ctx: BenchContext = {
    quick: args.quick,
    profile: args.profile,
    brokers: [kafka.bootstrapServers],
    runTag,
    profileDir,
    gatewayNodeArgs: args.nodeArgs,
    brokerCpuSec: () => (kafka.pid === undefined ? 0 : (readProcStat(kafka.pid)?.cpuSec ?? 0)),
    say,
  };

  /** Runs one measurement of a selected scenario (`name` may be a part of one: `live12BrokerFloor`). */
  const attempt = async <T>(name: string, run: () => Promise<T>): Promise<T | null> => {
    const scenario = SCENARIOS.find((s) => s === name) ?? SCENARIOS.find((s) => name.startsWith(s));
    if (scenario === undefined || !args.only.has(scenario)) return null;
    const t0 = performance.now();
    try {
      const value = await run();
      say(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return value;
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      errors[name] = message;
      say(`${name}: BENCHMARK ERROR: ${message}`);
      return null;
    }
  };

  let burstOutcome: BurstOutcome | null = null;
  let firehose: FirehoseOutcome | null = null;
  try {
    // First, so its 15 s of acks=all writes also warm the broker up: the first live scenario
    // of a sitting measured 2.3-2.7 ms slower at p50 than the same one run next (two sittings,
    // each variant first once), which made the order, not the setting, decide.
    let brokerFloor: Record<string, unknown> | null = null;
    {
      // The floor under live12's latency: Kafka's own Java producer, one record at a time
      // (linger.ms=0) at a live-like rate, acks=all, on the same broker. Its send -> ack
      // latency is what any client pays before a consumer can read the record.
      const floor = await attempt('live12BrokerFloor', () => {
        // Enough records that the JVM's first ones (metadata, class loading) stay out of p99
        // (--quick only checks that it runs, in 2 s).
        const records = args.quick ? 2_000 : 15_000;
        say(`live12: Kafka's producer alone, ${records} records at 1,000/s, linger.ms=0, acks=all (the broker's round trip)`);
        return runProducerPerf(ctx, 'latency-floor', records, LIVE_RECORD_BYTES, ['linger.ms=0'], 1_000);
      });
      brokerFloor = floor && {
        p50Ms: floor.p50LatencyMs,
        p99Ms: floor.p99LatencyMs,
        maxMs: floor.maxLatencyMs,
        avgMs: floor.avgLatencyMs,
        records: floor.records,
        note: 'ProducerPerformance at 1,000 records/s, linger.ms=0, acks=all: send -> ack per record, whole ms (JVM warm-up included)',
      };
    }

    const live12 = await attempt('live12', () => runLive12(ctx));
    if (live12) results['live12'] = brokerFloor === null ? live12 : { ...live12, brokerFloor };
    // The linger's effect, in the same sitting (full runs only).
    const live12NoLinger = args.quick ? null : await attempt('live12NoLinger', () => runLive12(ctx, LIVE12_NO_LINGER));
    if (live12NoLinger) results['live12NoLinger'] = live12NoLinger;
    // Beside it, in the same sitting: the same minutes with transactional writes (HA_MODE=kafka).
    const live12Ha = await attempt('live12Ha', () => runLive12(ctx, LIVE12_HA));
    if (live12Ha) results['live12Ha'] = live12Ha;
    // The peer on the same minutes, in the same sitting.
    const peer: Record<string, unknown> = {};
    const peerLive = await attempt('peerLive12', async () => {
      const ready = await peerReady;
      if (ready instanceof Error) throw ready;
      return runPeerLive12(ctx);
    });
    if (peerLive) peer['live12'] = peerLive;
    const defaults: BrokerDefaultsResult | null = await attempt('burstDefaults', () =>
      runBurstBrokerDefaults(ctx, { frameEvents: FRAME_EVENTS, windowMs: BURST_WINDOW_MS }),
    );
    if (defaults) results['burstBrokerDefaults'] = defaults;

    burstOutcome = await attempt('burst', () => runBurstAndDay(ctx, { frameEvents: FRAME_EVENTS, windowMs: BURST_WINDOW_MS }));
    if (burstOutcome) {
      results['burst'] = { ...burstOutcome.burst, gatewayExit: burstOutcome.gatewayExit, gatewayProblems: burstOutcome.gatewayProblems };
      results['memory'] = { ...burstOutcome.memory, rssMbAtRest12Symbols: live12?.rssMbAtRest ?? null };
    }

    firehose = await attempt('firehose', () => runFirehose(ctx, FRAME_EVENTS));
    if (firehose) {
      results['firehose'] = {
        ...firehose.am,
        gatewayExit: firehose.gatewayExit,
        gatewayProblems: firehose.gatewayProblems,
        droppedOverflow: firehose.droppedOverflow,
      };
      if (firehose.a) results['firehoseIngest'] = firehose.a;
    }
    const overload = await attempt('overload', () => runOverload(ctx, FRAME_EVENTS));
    if (overload) results['overload'] = overload;
    // --quick runs the peer on the live minute only (its firehose climb would take the time
    // the quick run does not have).
    const peerFirehose = args.quick ? null : await attempt('peerFirehose', () => runPeerFirehose(ctx, FRAME_EVENTS));
    if (peerFirehose) peer['firehose'] = peerFirehose;
    if (Object.keys(peer).length > 0) results['peer'] = { what: PEER_WHAT, versions: await peerVersions(ctx), ...peer };

    const producer = await attempt('producerLimit', async () => {
      const fromFirehose = firehose?.am.completed ?? 0;
      // The same count as the firehose, but at least a million: below that ProducerPerformance
      // measures mostly its JVM's warm-up (200,000 records ran at a quarter of the rate of 2 M here).
      // --quick only checks that it runs (its figure is not quoted): 150,000 records.
      const records = args.quick ? 150_000 : Math.max(1_000_000, Math.min(fromFirehose, 5_000_000));
      let sizes = burstOutcome?.burst.recordBytes ?? null;
      if ((sizes === null || sizes.value === 0) && firehose !== null) {
        const consumer = await startConsumer(ctx.brokers, firehose.topic, `bench-${runTag}-sizes`);
        await consumer.waitForCount(2_000, 30_000);
        sizes = consumer.sizes();
        await consumer.stop();
      }
      const recordSize = sizes === null || sizes.value === 0 ? 400 : Math.round(sizes.value + sizes.keyAndHeaders);
      say(`producerLimit: ProducerPerformance, ${records} records of ${recordSize} bytes, acks=all, compression none`);
      const runs: ProducerPerfRun[] = [await runProducerPerf(ctx, 'defaults', records, recordSize, [])];
      if (!args.quick) {
        // The gateway keeps one produce request in flight (ordering); so does this variant.
        runs.push(await runProducerPerf(ctx, 'inflight1', records, recordSize, ['max.in.flight.requests.per.connection=1']));
      }
      return {
        ...runs[0]!,
        recordsFrom:
          fromFirehose >= 1_000_000
            ? 'records the gateway published in the firehose (at most 5 M)'
            : `1 M (the gateway published ${fromFirehose} in the firehose; fewer would measure JVM warm-up)`,
        recordSizeFrom: sizes === null ? 'assumed' : `gateway records: value ${sizes.value.toFixed(0)} B + key and headers ${sizes.keyAndHeaders.toFixed(0)} B`,
        variants: runs.slice(1),
      };
    });
    if (producer) results['producerLimit'] = producer;
    results['ratios'] = ratios(results);
  } finally {
    say('stopping the broker');
    await kafka.dispose();
  }

  // --- profiles ----------------------------------------------------------------------------
  if (args.profile) {
    const profiles: Record<string, ProfileSummary[]> = {};
    const windows: Record<string, unknown> = {};
    for (const [name, outcome] of [
      ['burst-day', burstOutcome],
      ['firehose', firehose],
    ] as const) {
      if (outcome?.profilePath) {
        windows[name] = outcome.windows;
        try {
          profiles[name] = summariseProfile(outcome.profilePath, outcome.windows);
        } catch (error) {
          errors[`profile ${name}`] = (error as Error).message;
        }
      }
    }
    results['profile'] = { dir: profileDir, windows, summaries: profiles };
  }

  const machine = results['machine'] as Record<string, unknown>;
  machine['loadAvgAtEnd'] = loadavg().map((x) => r(x, 2));
  machine['otherCpuPctAfterRun'] = await machineBusyPct(1_000);
  results['durationSec'] = r((performance.now() - began) / 1000, 1);
  writeFileSync(args.out, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(renderTable(results));
  if (args.profile) process.stdout.write(renderProfiles(results));
  process.stdout.write(`\nwritten: ${args.out} (${fmt(results['durationSec'])} s)\n`);
  return Object.keys(errors).length === 0 ? 0 : 1;
}

// --- ratios ------------------------------------------------------------------------------

/** a / b, or null when either is missing. */
function ratio(a: unknown, b: unknown): number | null {
  return typeof a === 'number' && typeof b === 'number' && b > 0 ? r(a / b, 3) : null;
}

/**
 * The gateway against its peer and against the broker's own producer, from the figures of
 * this sitting (never from another run's). Targets are stated, not enforced: the exit code
 * says only whether the benchmark ran.
 */
function ratios(res: Record<string, unknown>): Record<string, unknown> {
  const n = (path: string): number | null => {
    const v = get(res, path);
    return typeof v === 'number' ? v : null;
  };
  const haP50 = n('live12Ha.p50Ms');
  const p50 = n('live12.p50Ms');
  const best = (get(res, 'firehose.steps') as FirehoseStep[] | undefined)?.find((st) => st.sustained && st.effectivePerSec === n('firehose.eventsPerSec'));
  const gatewayUs = n('firehose.cpuSecPerMillion');
  const ingestUs = n('firehoseIngest.cpuSecPerMillion');
  const pp = n('producerLimit.eventsPerSec');
  const peer = n('peer.firehose.eventsPerSec');
  const targets: BudgetTarget[] = [];
  if (pp !== null) targets.push({ name: '0.8 x ProducerPerformance', eventsPerSec: 0.8 * pp });
  if (peer !== null) targets.push({ name: '3 x the peer', eventsPerSec: 3 * peer });
  const budget =
    best !== undefined && gatewayUs !== null && ingestUs !== null && targets.length > 0
      ? cpuBudget({ cores: cpus().length, step: best, gatewayUsPerEvent: gatewayUs, ingestUsPerEvent: ingestUs, targets })
      : null;
  return {
    live12P50GatewayOverPeer: ratio(n('live12.p50Ms'), n('peer.live12.p50Ms')),
    live12P99GatewayOverPeer: ratio(n('live12.p99Ms'), n('peer.live12.p99Ms')),
    firehoseGatewayOverPeer: ratio(n('firehose.eventsPerSec'), n('peer.firehose.eventsPerSec')),
    firehoseOverProducerPerformance: ratio(n('firehose.eventsPerSec'), n('producerLimit.eventsPerSec')),
    live12HaP50MinusPlainMs: haP50 !== null && p50 !== null ? r(haP50 - p50, 2) : null,
    firehoseCpuBudget: budget,
    targets: 'live12 p50 and p99 ratios <= 1; firehoseGatewayOverPeer >= 3; firehoseOverProducerPerformance >= 0.8; live12HaP50MinusPlainMs <= 3',
  };
}

// --- the table ---------------------------------------------------------------------------

type Row = [string, string, string, string];

function get(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function fmt(value: unknown): string {
  if (value === undefined) return '-';
  if (value === null) return 'n/a';
  if (typeof value === 'number') return value >= 10_000 ? Math.round(value).toLocaleString('en-US') : String(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function renderTable(res: Record<string, unknown>): string {
  const rows: Row[] = [];
  const add = (scenario: string, figure: string, path: string, unit: string): void => {
    if (get(res, path.split('.')[0]!) === undefined) return;
    rows.push([scenario, figure, fmt(get(res, path)), unit]);
  };
  const shareRow = (scenario: string, path: string): void => {
    const c = get(res, path) as { gatewayPct: number; brokerPct: number; benchPct: number; othersPct: number } | null | undefined;
    if (c) rows.push([scenario, 'CPU gateway/broker/bench/other procs', `${c.gatewayPct}/${c.brokerPct}/${c.benchPct}/${c.othersPct}`, '% of a core']);
  };
  add('live12', 'send -> consumer p50 / p99 / max', 'live12.p50Ms', 'ms');
  if (rows.length > 0) rows[rows.length - 1]![2] = `${fmt(get(res, 'live12.p50Ms'))} / ${fmt(get(res, 'live12.p99Ms'))} / ${fmt(get(res, 'live12.maxMs'))}`;
  add('live12', 'gateway frame -> ack p50 / p99 (histogram)', 'live12.gatewayFrameToAck.p50Ms', 'ms');
  if (get(res, 'live12') !== undefined)
    rows[rows.length - 1]![2] = `${fmt(get(res, 'live12.gatewayFrameToAck.p50Ms'))} / ${fmt(get(res, 'live12.gatewayFrameToAck.p99Ms'))}`;
  const byFrame = get(res, 'live12.byFrame');
  if (Array.isArray(byFrame) && byFrame.length > 1) {
    const frames = byFrame as { bars: number; p50Ms: number | null }[];
    rows.push(['live12', 'p50 by frame of the minute (8 / 4 bars)', frames.map((f) => fmt(f.p50Ms)).join(' / '), 'ms']);
  }
  add('live12', 'bars measured (missing)', 'live12.bars', '');
  if (get(res, 'live12') !== undefined)
    rows[rows.length - 1]![2] = `${fmt(get(res, 'live12.bars'))} (${fmt(get(res, 'live12.missing'))}) over ${fmt(get(res, 'live12.minutes'))} min`;
  if (get(res, 'live12.brokerFloor') !== undefined)
    rows.push([
      'live12',
      "floor: Kafka's producer send -> ack p50 / p99 / max",
      `${fmt(get(res, 'live12.brokerFloor.p50Ms'))} / ${fmt(get(res, 'live12.brokerFloor.p99Ms'))} / ${fmt(get(res, 'live12.brokerFloor.maxMs'))}`,
      'ms',
    ]);
  shareRow('live12', 'live12.cpuPct');
  add('live12NoLinger', 'MINUTE_LINGER_MS=0: send -> consumer p50 / p99 / max', 'live12NoLinger.p50Ms', 'ms');
  if (get(res, 'live12NoLinger') !== undefined)
    rows[rows.length - 1]![2] =
      `${fmt(get(res, 'live12NoLinger.p50Ms'))} / ${fmt(get(res, 'live12NoLinger.p99Ms'))} / ${fmt(get(res, 'live12NoLinger.maxMs'))}`;
  add('live12Ha', 'HA_MODE=kafka: send -> consumer p50 / p99 / max', 'live12Ha.p50Ms', 'ms');
  if (get(res, 'live12Ha') !== undefined)
    rows[rows.length - 1]![2] = `${fmt(get(res, 'live12Ha.p50Ms'))} / ${fmt(get(res, 'live12Ha.p99Ms'))} / ${fmt(get(res, 'live12Ha.maxMs'))}`;
  add('live12Ha', 'HA_MODE=kafka: gateway frame -> ack p50 / p99', 'live12Ha.gatewayFrameToAck.p50Ms', 'ms');
  if (get(res, 'live12Ha') !== undefined)
    rows[rows.length - 1]![2] = `${fmt(get(res, 'live12Ha.gatewayFrameToAck.p50Ms'))} / ${fmt(get(res, 'live12Ha.gatewayFrameToAck.p99Ms'))}`;
  add('burst', 'first frame -> last record, median / max', 'burst.allAckedMs', 'ms');
  if (get(res, 'burst') !== undefined) rows[rows.length - 1]![2] = `${fmt(get(res, 'burst.allAckedMs'))} / ${fmt(get(res, 'burst.allAckedMsMax'))}`;
  add('burst', 'last frame -> last record (median)', 'burst.lastFrameToAckMs', 'ms');
  add('burst', 'per bar send -> consumer p50 / p99', 'burst.p99Ms', 'ms');
  if (get(res, 'burst') !== undefined) rows[rows.length - 1]![2] = `${fmt(get(res, 'burst.p50Ms'))} / ${fmt(get(res, 'burst.p99Ms'))}`;
  add('burst', 'gateway frame -> ack p50 / p99 (histogram)', 'burst.gatewayFrameToAck.p99Ms', 'ms');
  if (get(res, 'burst') !== undefined)
    rows[rows.length - 1]![2] = `${fmt(get(res, 'burst.gatewayFrameToAck.p50Ms'))} / ${fmt(get(res, 'burst.gatewayFrameToAck.p99Ms'))}`;
  add('burst', 'minutes x bars (missing)', 'burst.minutes', '');
  if (get(res, 'burst') !== undefined)
    rows[rows.length - 1]![2] = `${fmt(get(res, 'burst.minutes'))} x ${fmt(get(res, 'burst.symbols'))} (${fmt(get(res, 'burst.missing'))})`;
  add('burst', 'gateway / broker CPU per burst', 'burst.gatewayCpuSecPerMinute', 's');
  if (get(res, 'burst') !== undefined)
    rows[rows.length - 1]![2] = `${fmt(get(res, 'burst.gatewayCpuSecPerMinute'))} / ${fmt(get(res, 'burst.brokerCpuSecPerMinute'))}`;
  shareRow('burst', 'burst.cpuPct');
  add('burst@1MB', '12,000 bars back to back, topic at 1 MB default', 'burstBrokerDefaults.ok', '');
  if (get(res, 'burstBrokerDefaults') !== undefined) {
    rows[rows.length - 1]![2] =
      get(res, 'burstBrokerDefaults.ok') === true
        ? 'ok'
        : `FAILED: ${fmt(get(res, 'burstBrokerDefaults.acked'))} of ${fmt(get(res, 'burstBrokerDefaults.symbols'))} acked in ${fmt(get(res, 'burstBrokerDefaults.waitedMs'))} ms; ${fmt(get(res, 'burstBrokerDefaults.firstError'))}`;
  }
  add('firehose', 'AM, full path: highest sustained', 'firehose.eventsPerSec', 'events/s');
  add('firehose', 'gateway CPU per million AM events', 'firehose.cpuSecPerMillion', 'CPU s');
  add('firehose', 'peak RSS (VmHWM)', 'firehose.peakRssMb', 'MiB');
  add('firehose', 'limited by', 'firehose.limitedBy', '');
  add('firehose', 'A events, ingest only: highest sustained', 'firehoseIngest.eventsPerSec', 'events/s');
  add('firehose', 'gateway CPU per million A events', 'firehoseIngest.cpuSecPerMillion', 'CPU s');
  add('firehose', 'A events limited by', 'firehoseIngest.limitedBy', '');
  add('producer', 'ProducerPerformance (acks=all, none)', 'producerLimit.eventsPerSec', 'records/s');
  if (get(res, 'producerLimit') !== undefined)
    rows[rows.length - 1]![3] = `records/s (${fmt(get(res, 'producerLimit.records'))} x ${fmt(get(res, 'producerLimit.recordSize'))} B)`;
  const variants = get(res, 'producerLimit.variants');
  if (Array.isArray(variants))
    for (const v of variants as ProducerPerfRun[]) rows.push(['producer', `ProducerPerformance ${v.label}`, fmt(v.eventsPerSec), 'records/s']);
  add('producer', 'producer JVM CPU per million records', 'producerLimit.cpuSecPerMillion', 'CPU s');
  add('producer', 'broker CPU per million records: PP / gateway', 'producerLimit.brokerCpuSecPerMillion', 'CPU s');
  if (get(res, 'producerLimit') !== undefined)
    rows[rows.length - 1]![2] = `${fmt(get(res, 'producerLimit.brokerCpuSecPerMillion'))} / ${fmt(get(res, 'firehose.brokerCpuSecPerMillion'))}`;
  add('peer', 'librdkafka peer live12: send -> consumer p50 / p99 / max', 'peer.live12.p50Ms', 'ms');
  if (get(res, 'peer.live12') !== undefined)
    rows[rows.length - 1]![2] = `${fmt(get(res, 'peer.live12.p50Ms'))} / ${fmt(get(res, 'peer.live12.p99Ms'))} / ${fmt(get(res, 'peer.live12.maxMs'))}`;
  add('peer', 'librdkafka peer firehose: highest sustained', 'peer.firehose.eventsPerSec', 'events/s');
  add('peer', 'librdkafka peer CPU per million AM events', 'peer.firehose.cpuSecPerMillion', 'CPU s');
  add('peer', 'librdkafka peer peak RSS (firehose)', 'peer.firehose.peakRssMb', 'MiB');
  add('ratios', 'live12 p50 / p99: gateway over peer', 'ratios.live12P50GatewayOverPeer', 'x');
  if (get(res, 'ratios') !== undefined)
    rows[rows.length - 1]![2] = `${fmt(get(res, 'ratios.live12P50GatewayOverPeer'))} / ${fmt(get(res, 'ratios.live12P99GatewayOverPeer'))}`;
  add('ratios', 'firehose: gateway over peer', 'ratios.firehoseGatewayOverPeer', 'x');
  add('ratios', 'firehose: gateway over ProducerPerformance', 'ratios.firehoseOverProducerPerformance', 'x');
  add('ratios', 'live12 p50: HA_MODE=kafka minus plain', 'ratios.live12HaP50MinusPlainMs', 'ms');
  const budget = get(res, 'ratios.firehoseCpuBudget') as CpuBudget | null | undefined;
  for (const t of budget?.targets ?? [])
    rows.push([
      'ratios',
      `CPU budget at ${t.name} (${fmt(t.eventsPerSec)}/s): gateway may use / uses / parse alone`,
      `${fmt(t.gatewayUsAllowed)} / ${fmt(budget!.gatewayUsPerEvent)} / ${fmt(budget!.ingestUsPerEvent)}`,
      'CPU µs per event',
    ]);
  const overloadSteps = get(res, 'overload.steps');
  if (Array.isArray(overloadSteps))
    for (const st of overloadSteps as OverloadStep[])
      rows.push([
        'overload',
        `${st.name} (${fmt(st.offeredPerSec)}/s): peak RSS / buffered bars / B per bar`,
        `${fmt(st.peakRssMb)} / ${fmt(st.bufferedBarsMax)} / ${fmt(st.rssBytesPerBufferedBar)}`,
        'MiB / bars / B',
      ]);
  add('memory', 'RSS at rest, 12,000 symbols (12 symbols)', 'memory.rssMbAtRest', 'MiB');
  if (get(res, 'memory') !== undefined) rows[rows.length - 1]![2] = `${fmt(get(res, 'memory.rssMbAtRest'))} (${fmt(get(res, 'memory.rssMbAtRest12Symbols'))})`;
  add('memory', 'RSS after the day, after full GC (before GC)', 'memory.rssMbAfterDay', 'MiB');
  if (get(res, 'memory') !== undefined) rows[rows.length - 1]![2] = `${fmt(get(res, 'memory.rssMbAfterDay'))} (${fmt(get(res, 'memory.rssMbAfterDayNoGc'))})`;
  add('memory', 'after the day: RSS anonymous / file-backed', 'memory.rssAnonMbAfterDay', 'MiB');
  if (get(res, 'memory') !== undefined)
    rows[rows.length - 1]![2] = `${fmt(get(res, 'memory.rssAnonMbAfterDay'))} / ${fmt(get(res, 'memory.rssFileMbAfterDay'))}`;
  add('memory', 'JS heap at rest -> after the day (after GC)', 'memory.heapUsedMbAfterDay', 'MiB');
  if (get(res, 'memory') !== undefined)
    rows[rows.length - 1]![2] = `${fmt(get(res, 'memory.heapUsedMbAtRest'))} -> ${fmt(get(res, 'memory.heapUsedMbAfterDay'))}`;
  add('memory', 'day', 'memory.label', '');
  add('memory', 'retained per bar: RSS / JS heap', 'memory.bytesPerBar', 'bytes');
  if (get(res, 'memory') !== undefined) rows[rows.length - 1]![2] = `${fmt(get(res, 'memory.bytesPerBar'))} / ${fmt(get(res, 'memory.heapBytesPerBar'))}`;
  add('memory', 'peak RSS (VmHWM)', 'memory.peakRssMb', 'MiB');
  add('memory', 'day pushed through at', 'memory.dayBarsPerSec', 'bars/s');
  shareRow('memory', 'memory.cpuPct');
  // Long texts go below the table as numbered notes, so the value column stays narrow.
  const notes: string[] = [];
  for (const row of rows) {
    if (row[2].length > 28) {
      notes.push(row[2]);
      row[2] = `(note ${notes.length})`;
    }
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length), ['scenario', 'figure', 'value', 'unit'][i]!.length));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const m = res['machine'] as Record<string, unknown>;
  const head = [
    '',
    `sentio-gateway bench ${res['quick'] ? '(QUICK: short scenarios, scaled-down day)' : '(full)'}${res['profiled'] ? ' (PROFILED: figures slowed by --cpu-prof)' : ''}`,
    `${fmt(m['cpuModel'])} x ${fmt(m['cores'])} cores, ${fmt(m['memGb'])} GiB; Node ${fmt(res['node'])}; Kafka ${fmt(get(res, 'kafka.version'))}; kafkajs ${fmt(res['kafkajs'])}; commit ${fmt(get(res, 'git.commit') ?? '?').slice(0, 12)}${get(res, 'git.srcDirty') ? ' (src modified)' : ''}`,
    `other load on the machine: ${fmt(m['otherCpuPctBeforeRun'])}% busy before, ${fmt(m['otherCpuPctAfterRun'])}% after`,
    ...((res['gatewayNodeArgs'] as string[]).length > 0 ? [`gateway child node flags: ${(res['gatewayNodeArgs'] as string[]).join(' ')}`] : []),
    '',
    line(['scenario', 'figure', 'value', 'unit']),
    line(widths.map((w) => '-'.repeat(w))),
  ];
  const noteLines = notes.length > 0 ? ['', ...notes.map((n, i) => `note ${i + 1}: ${n}`)] : [];
  const errs = res['errors'] as Record<string, string>;
  const tail = Object.keys(errs).length > 0 ? ['', 'BENCHMARK ERRORS:', ...Object.entries(errs).map(([k, v]) => `  ${k}: ${v.split('\n')[0]}`)] : [];
  return [...head, ...rows.map(line), ...noteLines, ...tail, ''].join('\n');
}

function renderProfiles(res: Record<string, unknown>): string {
  const summaries = get(res, 'profile.summaries') as Record<string, ProfileSummary[]> | undefined;
  if (summaries === undefined) return '';
  const out: string[] = ['', 'CPU profiles of the gateway child (node --cpu-prof), % of busy samples in each window:'];
  for (const [child, list] of Object.entries(summaries)) {
    for (const s of list) {
      if (s.window === 'whole process') continue;
      out.push('', `[${child} / ${s.window}] ${s.seconds} s, ${s.samples} samples, idle ${s.idlePct}%`);
      out.push(`  by component (leaf): ${s.byComponent.map((c) => `${c.component} ${c.pct}%`).join(', ')}`);
      out.push(`  by owner (nearest JS caller): ${s.byOwner.map((c) => `${c.component} ${c.pct}%`).join(', ')}`);
      out.push('  top self:');
      for (const f of s.topSelf.slice(0, 12)) out.push(`    ${String(f.pct).padStart(5)}%  ${f.frame}`);
      out.push('  top inclusive:');
      for (const f of s.topInclusive.slice(0, 12)) out.push(`    ${String(f.pct).padStart(5)}%  ${f.frame}`);
      out.push('  hot-path stages (inclusive):');
      for (const f of s.focus.filter((x) => x.pct > 0)) out.push(`    ${String(f.pct).padStart(5)}%  ${f.stage}`);
    }
  }
  return out.join('\n') + '\n';
}

process.exitCode = await main();
