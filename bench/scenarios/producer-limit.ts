/**
 * Scenario 4: Kafka's own producer on the same broker in the same run. Apache Kafka's
 * `org.apache.kafka.tools.ProducerPerformance` (from the kafka-tools jar of the embedded
 * broker's classpath) writes the same number of records the gateway published in the
 * firehose, of the same size (the gateway's mean value + key + header bytes, since
 * ProducerPerformance sends values only), with acks=all and compression none, unthrottled.
 * That is what this broker on this machine takes from one well-tuned producer: the ceiling
 * the gateway's publishing path could approach.
 */

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolveKafkaClasspath } from '../../src/dev/kafka-artifacts.ts';
import { readProcStat } from '../lib/proc.ts';
import { createPlainTopic, type BenchContext } from '../lib/rig.ts';
import { r, sleep } from '../lib/stats.ts';
import { TOPIC_MAX_MESSAGE_BYTES } from './burst.ts';

export interface ProducerPerfRun {
  label: string;
  props: string[];
  records: number;
  recordSize: number;
  /** Over the whole run, as ProducerPerformance reports it (includes the JVM's warm-up). */
  eventsPerSec: number | null;
  /** Best 5-second window ProducerPerformance reported (steady state); null for short runs. */
  bestWindowEventsPerSec: number | null;
  mbPerSec: number | null;
  avgLatencyMs: number | null;
  p50LatencyMs: number | null;
  p99LatencyMs: number | null;
  maxLatencyMs: number | null;
  /** CPU seconds of the producer JVM per million records (includes JVM start-up). */
  cpuSecPerMillion: number | null;
  brokerCpuSecPerMillion: number | null;
  wallSec: number;
  error: string | null;
}

/** ProducerPerformance's 5-second progress lines. */
const INTERIM = /^(\d+) records sent, ([\d.]+) records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency\.?$/;
const SUMMARY =
  /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/;

/** `throughput`: records per second ProducerPerformance paces itself to; -1 (default) is unthrottled. */
export async function runProducerPerf(
  ctx: BenchContext,
  label: string,
  records: number,
  recordSize: number,
  extraProps: string[],
  throughput = -1,
): Promise<ProducerPerfRun> {
  const artifacts = await resolveKafkaClasspath();
  const topic = `bench.${ctx.runTag}.producer-perf.${label}`;
  await createPlainTopic(ctx.brokers, topic, TOPIC_MAX_MESSAGE_BYTES);
  const props = [`bootstrap.servers=${ctx.brokers.join(',')}`, 'acks=all', 'compression.type=none', ...extraProps];
  const args = [
    '-Xmx512m',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-cp',
    artifacts.classpath,
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--record-size',
    String(recordSize),
    '--throughput',
    String(throughput),
    '--producer-props',
    ...props,
  ];
  const began = performance.now();
  const broker0 = ctx.brokerCpuSec();
  const child = spawn(artifacts.java, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => out.push(line));
  createInterface({ input: child.stderr }).on('line', (line) => out.push(line));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  let cpu = 0;
  while (!done) {
    cpu = readProcStat(child.pid!)?.cpuSec ?? cpu;
    await Promise.race([sleep(100), exited]);
  }
  const code = await exited;
  const wallSec = (performance.now() - began) / 1000;
  const brokerCpu = ctx.brokerCpuSec() - broker0;
  const summary = out
    .map((l) => SUMMARY.exec(l))
    .filter((m) => m !== null)
    .pop();
  const windows = out
    .map((l) => INTERIM.exec(l))
    .filter((m) => m !== null)
    .map((m) => Number(m[2]));
  const bestWindowEventsPerSec = windows.length > 0 ? r(Math.max(...windows), 0) : null;
  const base = { label, props: props.slice(1), records, recordSize, wallSec: r(wallSec, 1)! };
  if (summary === undefined) {
    return {
      ...base,
      eventsPerSec: null,
      bestWindowEventsPerSec,
      mbPerSec: null,
      avgLatencyMs: null,
      p50LatencyMs: null,
      p99LatencyMs: null,
      maxLatencyMs: null,
      cpuSecPerMillion: null,
      brokerCpuSecPerMillion: null,
      error: `ProducerPerformance exited ${code} without a summary: ${out.slice(-5).join(' | ')}`,
    };
  }
  return {
    ...base,
    eventsPerSec: r(Number(summary[2]), 0),
    bestWindowEventsPerSec,
    mbPerSec: r(Number(summary[3]), 2),
    avgLatencyMs: r(Number(summary[4]), 1),
    maxLatencyMs: r(Number(summary[5]), 0),
    p50LatencyMs: r(Number(summary[6]), 0),
    p99LatencyMs: r(Number(summary[8]), 0),
    cpuSecPerMillion: r((cpu / records) * 1e6, 2),
    brokerCpuSecPerMillion: r((brokerCpu / records) * 1e6, 2),
    error: code === 0 ? null : `exit code ${code}`,
  };
}
