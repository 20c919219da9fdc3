import type { BarSource, PriceEvent } from '../contracts/price-event.ts';
import { BAR_SOURCES } from '../contracts/price-event.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';
import type { GatewayRecord } from './gateway-records.ts';

export interface DeliveryTrackerOptions {
  symbols: readonly string[];
  /** Market time now (a bar's delay is measured from its end). */
  now(): number;
  metrics: GatewayMetrics;
}

/**
 * What consumers can already read: per symbol the newest acknowledged revision-0 minute,
 * the newest acknowledged bar, the records published, and from those the latest minute
 * whose cross-section is whole (`completeTsET`). Acknowledged batches and the topic's tail
 * at start go through the same bookkeeping. Reports the published records, their latency
 * and delay, and the heartbeats acknowledged.
 */
export class DeliveryTracker {
  readonly #o: DeliveryTrackerOptions;
  readonly #ackedMinute = new Map<string, number>();
  #lastBarStart: number | null = null;
  #barsPublished = 0;

  constructor(options: DeliveryTrackerOptions) {
    this.#o = options;
  }

  /** Records published by this run and acknowledged. */
  get barsPublished(): number {
    return this.#barsPublished;
  }

  /** Start of the newest bar consumers can read, null before the first. */
  get lastBarStart(): number | null {
    return this.#lastBarStart;
  }

  /** How many symbols have a revision-0 record in Kafka. */
  get symbolsSeen(): number {
    return this.#ackedMinute.size;
  }

  /** A record consumers already have (the topic's tail at start). */
  restore(event: PriceEvent): void {
    this.#learn(event);
  }

  /** A batch Kafka acknowledged (RecordSink's onDelivered), in send order. */
  delivered(records: readonly GatewayRecord[], ackedAt: number): void {
    const { metrics } = this.#o;
    const marketNow = this.#o.now();
    // Tallied per batch: a labelled increment hashes its labels, and a batch holds
    // thousands of records of a few label sets. Counts per symbol label, by source.
    const published = new Map<string, Record<BarSource, number>>();
    for (const { meta } of records) {
      if (meta.kind === 'heartbeat') {
        metrics.heartbeats.inc({ status: meta.status });
        continue;
      }
      if (meta.kind === 'engine') continue;
      const { event, receivedAt } = meta;
      this.#barsPublished += 1;
      const symbol = metrics.symbolLabel(event.symbol);
      let tally = published.get(symbol);
      if (tally === undefined) published.set(symbol, (tally = { live: 0, backfill: 0, filled: 0, replay: 0 }));
      tally[event.source] += 1;
      if (receivedAt !== null) metrics.publishLatency.observe((ackedAt - receivedAt) / 1000);
      metrics.barDelay.observe(Math.max(0, marketNow - event.endMs) / 1000);
      this.#learn(event);
    }
    for (const [symbol, tally] of published) {
      for (const source of BAR_SOURCES) if (tally[source] > 0) metrics.barsPublished.inc({ symbol, source }, tally[source]);
    }
    if (this.#lastBarStart !== null) metrics.lastBarTimestamp.set(this.#lastBarStart / 1000);
  }

  /** Latest minute every symbol has reached in Kafka; null until each has one. */
  completeMinute(): number | null {
    let complete: number | null = null;
    for (const symbol of this.#o.symbols) {
      const minute = this.#ackedMinute.get(symbol);
      if (minute === undefined) return null;
      complete = complete === null ? minute : Math.min(complete, minute);
    }
    return complete;
  }

  #learn(event: PriceEvent): void {
    if (event.revision === 0 && event.startMs > (this.#ackedMinute.get(event.symbol) ?? -Infinity)) this.#ackedMinute.set(event.symbol, event.startMs);
    if (this.#lastBarStart === null || event.startMs > this.#lastBarStart) this.#lastBarStart = event.startMs;
  }
}
