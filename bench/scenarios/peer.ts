/**
 * The peer: the same live minute and the same AM firehose, fed by the same load server over
 * the same protocol, into a minimal librdkafka producer (bench/peer/peer.py, Python
 * confluent-kafka) instead of the gateway. One record per bar, acks=all, idempotent, the
 * gateway's key, value fields and headers. Run in the same sitting as the gateway's
 * scenarios, so the ratios gateway / peer compare like with like.
 */

import { topicNames } from '../../src/contracts/topics.ts';
import { DEFAULT_SYMBOLS } from '../../src/contracts/polygon-wire.ts';
import kafkajs from '../../src/kafka/kafkajs.ts';
import { startConsumer } from '../lib/consumer.ts';
import { startLoadServer } from '../lib/load-server.ts';
import { preparePeer, startPeer, type PeerChild } from '../lib/peer-child.ts';
import { BENCH_API_KEY, createPlainTopic, type BenchContext } from '../lib/rig.ts';
import { r } from '../lib/stats.ts';
import { syntheticSymbols } from '../lib/load-server.ts';
import { amClimb, amFrames, climb, FIREHOSE_MARKET_MS, type FirehoseResult } from './firehose.ts';
import { FULL_MARKET_SYMBOLS, TOPIC_MAX_MESSAGE_BYTES } from './burst.ts';
import { byFrameSummary, driveLiveMinutes, LIVE_START_MARKET_MS, liveFigures, liveMinutesPlan } from './live12.ts';

export interface PeerLiveResult {
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
  byFrame: ReturnType<typeof byFrameSummary>;
  cpuPct: { peerPct: number; brokerPct: number; benchPct: number; othersPct: number };
  rssMbAfter: number | null;
  peakRssMb: number | null;
  recordBytes: { value: number; keyAndHeaders: number };
}

export interface PeerResult {
  what: string;
  versions: { confluentKafka: string; librdkafka: string; python: string };
  live12: PeerLiveResult | null;
  firehose: (FirehoseResult & { delivered: number | null; failed: number | null }) | null;
}

/** A topic for the peer, like the gateway's price topic (one partition) with the load scenarios' record-size limit. */
async function peerTopic(ctx: BenchContext, name: string): Promise<string> {
  const topic = topicNames(`bench.${ctx.runTag}.${name}.`).prices;
  await createPlainTopic(ctx.brokers, topic, TOPIC_MAX_MESSAGE_BYTES);
  return topic;
}

async function withPeer<T>(
  ctx: BenchContext,
  name: string,
  symbols: readonly string[],
  startMarketMs: number,
  msPerMinute: number,
  run: (peer: PeerChild, topic: string, ls: Awaited<ReturnType<typeof startLoadServer>>) => Promise<T>,
): Promise<T> {
  const topic = await peerTopic(ctx, name);
  const ls = await startLoadServer({ apiKey: BENCH_API_KEY, startMarketMs, msPerMinute });
  try {
    const peer = await startPeer({ wsUrl: ls.wsUrl, apiKey: BENCH_API_KEY, symbols, brokers: ctx.brokers, topic });
    try {
      return await run(peer, topic, ls);
    } finally {
      await peer.stop();
    }
  } finally {
    await ls.close();
  }
}

async function peerLive12(ctx: BenchContext): Promise<PeerLiveResult> {
  const { minutes, msPerMinute } = liveMinutesPlan(ctx);
  const symbols = [...DEFAULT_SYMBOLS];
  return withPeer(ctx, 'peerLive12', symbols, LIVE_START_MARKET_MS, msPerMinute, async (peer, topic, ls) => {
    const consumer = await startConsumer(ctx.brokers, topic, `bench-${ctx.runTag}-peer-live12`);
    try {
      const drive = await driveLiveMinutes(ctx, { label: 'peer live12', ls, consumer, symbols, minutes, pid: () => peer.pid });
      const proc = peer.proc();
      const { shares } = drive;
      return {
        ...liveFigures(drive, { symbols: symbols.length, minutes, msPerMinute }),
        cpuPct: { peerPct: shares.gatewayPct, brokerPct: shares.brokerPct, benchPct: shares.benchPct, othersPct: shares.othersPct },
        rssMbAfter: r(proc?.rssMb, 1),
        peakRssMb: r(proc?.peakRssMb, 1),
        recordBytes: consumer.sizes(),
      };
    } finally {
      await consumer.stop();
    }
  });
}

async function peerFirehose(ctx: BenchContext, frameEvents: number): Promise<NonNullable<PeerResult['firehose']>> {
  const symbols = syntheticSymbols(FULL_MARKET_SYMBOLS);
  const admin = new kafkajs.Kafka({ clientId: 'sentio-bench-peer-progress', brokers: ctx.brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    let exit: Awaited<ReturnType<PeerChild['stop']>> | null = null;
    const result = await withPeer(ctx, 'peerFirehose', symbols, FIREHOSE_MARKET_MS, 60_000, async (peer, topic, ls) => {
      // Progress without asking the peer: the topic's end offset counts the records the
      // broker acknowledged (idempotent, not transactional: the high watermark).
      const done = async (): Promise<number> => (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
      const climbed = await climb(
        ctx,
        { name: 'peer', ls, pid: peer.pid, proc: () => peer.proc() },
        { frame: amFrames(symbols), done },
        'AM',
        amClimb(ctx, frameEvents),
      );
      exit = await peer.stop();
      return climbed;
    });
    return { ...result, delivered: exit?.['delivered'] ?? null, failed: exit?.['failed'] ?? null };
  } finally {
    await admin.disconnect();
  }
}

let prepared: Promise<PeerResult['versions']> | null = null;

/**
 * The peer's environment (built once per sitting) and what it runs. The benchmark calls it
 * first thing, so pip runs while the gateway compiles and the broker starts.
 */
export function peerVersions(ctx: Pick<BenchContext, 'say'>): Promise<PeerResult['versions']> {
  prepared ??= preparePeer(ctx.say).then((v) => {
    ctx.say(`peer: confluent-kafka ${v.confluentKafka} (librdkafka ${v.librdkafka}), Python ${v.python}`);
    return v;
  });
  return prepared;
}

export const PEER_WHAT =
  "bench/peer/peer.py: Python confluent-kafka (librdkafka), one record per AM bar, key = symbol, the gateway's value fields and headers, acks=all, idempotent, librdkafka's defaults otherwise (linger.ms 5)";

export async function runPeerLive12(ctx: BenchContext): Promise<PeerLiveResult> {
  await peerVersions(ctx);
  return peerLive12(ctx);
}

export async function runPeerFirehose(ctx: BenchContext, frameEvents: number): Promise<NonNullable<PeerResult['firehose']>> {
  await peerVersions(ctx);
  return peerFirehose(ctx, frameEvents);
}
