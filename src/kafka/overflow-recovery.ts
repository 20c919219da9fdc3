import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';
import { throttle } from '../ops/throttle.ts';
import type { GatewayRecord, RecordMeta } from './gateway-records.ts';
import type { RecordSink } from './record-sink.ts';

/** What recovery asks of the transform stage for the symbols a full buffer hit. */
export interface OverflowTarget {
  /** A record that never reached Kafka: as if it had never been published. */
  forget(symbol: string, minuteMs: number, revision: number): void;
  /** Hold these symbols' live bars until their replay. */
  hold(symbols: readonly string[]): void;
  /** Bring these symbols' missing minutes back from REST, ahead of their held bars. */
  replay(symbols: readonly string[], reason: string): void;
}

export interface OverflowRecoveryOptions {
  sink: RecordSink<RecordMeta>;
  target: OverflowTarget;
  metrics: GatewayMetrics;
  log: Logger;
}

/**
 * What happens when Kafka cannot keep up and the bounded buffer pushes its oldest bars out.
 * A symbol's records must stay in minute order, so for every symbol hit the rest of its
 * queued records are taken back too and forgotten, its live bars are held, and once Kafka
 * takes writes again (or the buffer has drained to half, in bars and in bytes) the symbol is
 * replayed from REST.
 * Nothing is dropped silently: every bar pushed out is counted.
 */
export class OverflowRecovery {
  readonly #o: OverflowRecoveryOptions;
  /** Symbols waiting for their replay. */
  readonly #pending = new Set<string>();
  readonly #logOverflow: (dropped: number, withdrawn: number) => void;

  constructor(options: OverflowRecoveryOptions) {
    this.#o = options;
    this.#logOverflow = throttle(1000, (dropped: number, withdrawn: number) =>
      options.log.error(
        { dropped, withdrawn, max: options.sink.capacity, maxBytes: options.sink.byteCapacity },
        'bar buffer full: oldest bars dropped; their symbols will be replayed from REST',
      ),
    );
    options.sink.listen({
      onOverflow: (records) => this.#overflowed(records),
      // An overflow without an outage (a burst): replay once the buffer has drained.
      onDelivered: () => {
        const { sink } = options;
        if (this.#pending.size > 0 && sink.buffered <= sink.capacity / 2 && sink.bufferedBytes <= sink.byteCapacity / 2) this.#replay();
      },
      onWritableChange: (writable) => {
        if (writable && this.#pending.size > 0) this.#replay();
      },
    });
  }

  /** Symbols whose replay is still to come. */
  get pending(): ReadonlySet<string> {
    return this.#pending;
  }

  #overflowed(records: readonly GatewayRecord[]): void {
    const { sink, target, metrics } = this.#o;
    const dropped = records.filter((r) => r.meta.kind === 'bar');
    metrics.eventsDropped.inc({ reason: 'buffer_overflow' }, dropped.length);
    const hit = new Set(dropped.map((r) => (r.meta.kind === 'bar' ? r.meta.event.symbol : '')));
    // A price record's key is its symbol: only the hit symbols' records are looked at.
    const withdrawn = sink.withdrawByKey(hit, (r) => r.meta.kind === 'bar' && hit.has(r.meta.event.symbol));
    // Newest first, so each symbol's ledger steps back record by record.
    for (const { meta } of [...dropped, ...withdrawn].reverse()) {
      if (meta.kind === 'bar') target.forget(meta.event.symbol, meta.event.startMs, meta.event.revision);
    }
    for (const symbol of hit) this.#pending.add(symbol);
    target.hold([...hit]);
    this.#logOverflow(dropped.length, withdrawn.length);
  }

  #replay(): void {
    const symbols = [...this.#pending];
    this.#pending.clear();
    this.#o.target.replay(symbols, 'buffer_overflow');
  }
}
