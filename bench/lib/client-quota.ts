/**
 * Kafka's client quotas, set with Kafka's own `kafka.admin.ConfigCommand` (kafka-configs.sh)
 * from the embedded broker's classpath: the broker then throttles one client id's produce
 * bytes, the way a loaded or quota-limited production cluster slows a producer down, while
 * every other client of the same broker goes at full speed.
 */

import { execFile } from 'node:child_process';
import { resolveKafkaClasspath } from '../../src/dev/kafka-artifacts.ts';

/** Limits `clientId` to `bytesPerSec` of produce traffic; null removes the limit. */
export async function setProducerQuota(brokers: string[], clientId: string, bytesPerSec: number | null): Promise<void> {
  const { java, classpath } = await resolveKafkaClasspath();
  const change = bytesPerSec === null ? ['--delete-config', 'producer_byte_rate'] : ['--add-config', `producer_byte_rate=${bytesPerSec}`];
  const args = [
    // A short-lived JVM: C1 only and the serial GC start faster.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-cp',
    classpath,
    'kafka.admin.ConfigCommand',
    '--bootstrap-server',
    brokers.join(','),
    '--alter',
    ...change,
    '--entity-type',
    'clients',
    '--entity-name',
    clientId,
  ];
  await new Promise<void>((resolve, reject) =>
    execFile(java, args, { timeout: 60_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`kafka-configs (${change.join(' ')}) for client ${clientId} failed: ${stderr || stdout || error.message}`)) : resolve(),
    ),
  );
}
