import { performance } from 'node:perf_hooks';
import type { GatewayConfig } from '../config/config.ts';
import type { DeliveryTracker } from '../kafka/delivery-tracker.ts';
import type { RecordMeta } from '../kafka/gateway-records.ts';
import type { HeartbeatPublisher } from '../kafka/heartbeat-publisher.ts';
import type { Leadership } from '../kafka/leadership.ts';
import type { RecordSink } from '../kafka/record-sink.ts';
import type { Logger } from '../ops/logger.ts';
import type { CleanupStack } from './cleanup-stack.ts';
import type { DataPath } from './data-path.ts';

export interface ShutdownResult {
  flushed: boolean;
  unsent: number;
}

export interface RunningGateway {
  config: Pick<GatewayConfig, 'shutdownTimeoutMs'>;
  log: Logger;
  dataPath: Pick<DataPath, 'drain'>;
  leadership: Pick<Leadership, 'stop'> | null;
  heartbeats: Pick<HeartbeatPublisher, 'stop' | 'beat'>;
  heartbeatSink: Pick<RecordSink<RecordMeta>, 'flush' | 'buffered'>;
  delivery: Pick<DeliveryTracker, 'barsPublished'>;
  cleanup: CleanupStack;
}

/**
 * SIGTERM: stop reading, let a backfill under way finish (its held bars were received), flush
 * every bar, then publish the `stopped` heartbeat last, so a consumer that sees it knows
 * nothing else is coming; then leave the HA group, so a standby takes over at once, with
 * nothing of ours left to write. All within SHUTDOWN_TIMEOUT_MS. Then release everything.
 */
export async function shutDown(g: RunningGateway): Promise<ShutdownResult> {
  const deadline = performance.now() + g.config.shutdownTimeoutMs;
  const left = (): number => Math.max(0, deadline - performance.now());
  g.log.info('shutting down: closing the feed, flushing Kafka');
  g.heartbeats.stop();
  // Past the bound the held bars are dropped, not published out of order: the next gateway
  // backfills them from REST.
  const { backfilled, flushed: barsFlushed, unsent: barsUnsent } = await g.dataPath.drain(deadline);
  if (!backfilled) g.log.error('shutdown bound reached during a backfill: held bars left to the next start');
  g.heartbeats.beat('stopped');
  const flushed = (await g.heartbeatSink.flush(left())) && barsFlushed;
  const unsent = g.heartbeatSink.buffered + barsUnsent;
  if (!flushed) g.log.error({ unsent }, 'shutdown bound reached with records still unsent');
  await g.leadership?.stop().catch((error: unknown) => g.log.warn({ error: (error as Error).message }, 'could not leave the HA group cleanly'));
  await g.cleanup.releaseAll();
  g.log.info({ flushed, barsPublished: g.delivery.barsPublished }, 'gateway stopped');
  return { flushed, unsent };
}

/** The first call runs `fn`; every call returns its promise (a second SIGTERM does not shut down twice). */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= fn());
}
