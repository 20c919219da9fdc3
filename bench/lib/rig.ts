/**
 * One scenario's set-up: a load server, the gateway child pointed at it and at the shared
 * broker, and (optionally) the price topic created beforehand with a chosen
 * `max.message.bytes`. Everything a scenario starts is stopped by `close()`.
 */

import { join } from 'node:path';
import { topicNames } from '../../src/contracts/topics.ts';
import { gatewayTopicSpecs } from '../../src/kafka/topic-specs.ts';
import { startGatewayChild, type GatewayChild } from './gateway-child.ts';
import { startLoadServer, type LoadServer } from './load-server.ts';
import { sleep } from './stats.ts';
import { createTopics } from '../../harness/kafka-topics.ts';

export interface BenchContext {
  quick: boolean;
  profile: boolean;
  brokers: string[];
  runTag: string;
  profileDir: string;
  /** Extra node flags for every gateway child (`--node-arg=...`), e.g. a `--require` preload to A/B a fix. */
  gatewayNodeArgs: string[];
  /** CPU seconds the broker's JVM has used so far. */
  brokerCpuSec: () => number;
  /** Progress line on stderr. */
  say: (line: string) => void;
}

export interface RigOptions {
  name: string;
  symbols: string[];
  startMarketMs: number;
  msPerMinute: number;
  /** Extra or overriding gateway settings. */
  env?: Record<string, string>;
  /**
   * Create the price topic first with this `max.message.bytes` (and the gateway's own topic
   * settings). null: let the gateway create it, inheriting the broker default.
   */
  topicMaxMessageBytes: number | null;
  /** Run the child under `node --cpu-prof`. */
  profile?: boolean;
  /** Open the child's inspector (loopback) so memory can be read after a forced GC. */
  inspect?: boolean;
  /** More node flags for the child (e.g. --heapsnapshot-signal=SIGUSR2 when investigating). */
  nodeArgs?: string[];
}

export interface Rig {
  readonly ls: LoadServer;
  readonly gw: GatewayChild;
  readonly topic: string;
  readonly prefix: string;
  /** Path of the CPU profile the child writes on exit (when profiled). */
  readonly profilePath: string | null;
  /** Wall ms from spawning the gateway to its subscription covering every symbol. */
  readonly startMs: number;
  close(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

export const BENCH_API_KEY = 'bench-key-not-secret';

/** The gateway's topics, as `topics` would create them, with a per-topic record-size limit. */
async function createTopic(brokers: string[], prefix: string, maxMessageBytes: number): Promise<void> {
  const specs = gatewayTopicSpecs({ prefix, tradesRetentionDays: 7 });
  await createTopics(
    brokers,
    specs.map((s) => ({ topic: s.topic, configs: { ...s.configs, 'max.message.bytes': String(maxMessageBytes) } })),
  );
}

export async function createPlainTopic(brokers: string[], topic: string, maxMessageBytes: number): Promise<void> {
  await createTopics(brokers, [{ topic, configs: { 'max.message.bytes': String(maxMessageBytes) } }]);
}

export async function startRig(ctx: BenchContext, options: RigOptions): Promise<Rig> {
  const prefix = `bench.${ctx.runTag}.${options.name}.`;
  const topic = topicNames(prefix).prices;
  if (options.topicMaxMessageBytes !== null) await createTopic(ctx.brokers, prefix, options.topicMaxMessageBytes);
  const ls = await startLoadServer({ apiKey: BENCH_API_KEY, startMarketMs: options.startMarketMs, msPerMinute: options.msPerMinute });
  const profilePath = options.profile ? join(ctx.profileDir, `${options.name}.cpuprofile`) : null;
  const began = performance.now();
  let gw: GatewayChild;
  try {
    gw = await startGatewayChild({
      inspect: options.inspect ?? false,
      nodeArgs: [
        ...(profilePath === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`, `--cpu-prof-name=${options.name}.cpuprofile`]),
        ...ctx.gatewayNodeArgs,
        ...(options.nodeArgs ?? []),
      ],
      env: {
        POLYGON_API_KEY: BENCH_API_KEY,
        POLYGON_WS_URL: ls.wsUrl,
        POLYGON_REST_URL: ls.restUrl,
        MARKET_CLOCK: 'simulator',
        SYMBOLS: options.symbols.join(','),
        KAFKA_BOOTSTRAP_SERVERS: ctx.brokers.join(','),
        TOPIC_PREFIX: prefix,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        FILL_EMPTY_MINUTES: 'off',
        // No REST backfill at start: the load server has no history, and 12,000 empty
        // backfills would only delay the subscription the scenarios measure.
        MAX_BACKFILL_MINUTES: '0',
        LOG_LEVEL: 'info',
        ...options.env,
      },
    });
  } catch (error) {
    await ls.close();
    throw error;
  }
  try {
    await ls.subscribed(options.symbols.length, 60_000);
    // Subscribed on the socket; wait for the gateway to say so too.
    for (let i = 0; i < 200; i++) {
      if ((await gw.metrics()).sum('sentio_gateway_feed_subscribed') === 1) break;
      await sleep(50);
    }
  } catch (error) {
    await gw.stop();
    await ls.close();
    throw error;
  }
  const startMs = performance.now() - began;
  return {
    ls,
    gw,
    topic,
    prefix,
    profilePath,
    startMs,
    async close() {
      const exit = await gw.stop();
      await ls.close();
      return exit;
    },
  };
}
