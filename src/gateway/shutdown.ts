import { performance } from 'node:perf_hooks';
import type { PriceTransform } from '../bars/price-transform.ts';
import type { GatewayConfig } from '../config/config.ts';
import type { PolygonSession } from '../feed/polygon-session.ts';
import type { DeliveryTracker } from '../kafka/delivery-tracker.ts';
import type { RecordMeta } from '../kafka/gateway-records.ts';
import type { HeartbeatPublisher } from '../kafka/heartbeat-publisher.ts';
import type { RecordSink } from '../kafka/record-sink.ts';
import type { Logger } from '../ops/logger.ts';
import type { CleanupStack } from './cleanup-stack.ts';

export interface ShutdownResult {
  flushed: boolean;
  unsent: number;
}

export interface RunningGateway {
  config: Pick<GatewayConfig, 'shutdownTimeoutMs'>;
  log: Logger;
  session: Pick<PolygonSession, 'stop'>;
  transform: Pick<PriceTransform, 'stopFilling' | 'settled' | 'stop'>;
  sink: Pick<RecordSink<RecordMeta>, 'flush' | 'buffered'>;
  heartbeats: Pick<HeartbeatPublisher, 'stop' | 'beat'>;
  delivery: Pick<DeliveryTracker, 'barsPublished'>;
  cleanup: CleanupStack;
}

/**
 * SIGTERM: stop reading, let a backfill under way finish (its held bars were received), flush
 * every bar, then publish the `stopped` heartbeat last, so a consumer that sees it knows
 * nothing else is coming; all within SHUTDOWN_TIMEOUT_MS. Then release everything.
 */
export async function shutDown(g: RunningGateway): Promise<ShutdownResult> {
  const deadline = performance.now() + g.config.shutdownTimeoutMs;
  const left = (): number => Math.max(0, deadline - performance.now());
  g.log.info('shutting down: closing the feed, flushing Kafka');
  g.heartbeats.stop();
  g.transform.stopFilling();
  await g.session.stop();
  // Past the bound the held bars are dropped, not published out of order: the next gateway
  // backfills them from REST.
  const backfilled = await Promise.race([g.transform.settled().then(() => true), delay(left()).then(() => false)]);
  g.transform.stop();
  if (!backfilled) g.log.error('shutdown bound reached during a backfill: held bars left to the next start');
  let flushed = await g.sink.flush(left());
  g.heartbeats.beat('stopped');
  flushed = (await g.sink.flush(left())) && flushed;
  const unsent = g.sink.buffered;
  if (!flushed) g.log.error({ unsent }, 'shutdown bound reached with records still unsent');
  await g.cleanup.releaseAll();
  g.log.info({ flushed, barsPublished: g.delivery.barsPublished }, 'gateway stopped');
  return { flushed, unsent };
}

/** The first call runs `fn`; every call returns its promise (a second SIGTERM does not shut down twice). */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= fn());
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
