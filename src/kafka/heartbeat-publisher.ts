import type { HeartbeatStatus } from '../contracts/heartbeat.ts';
import { buildHeartbeat, type HeartbeatSnapshot } from './heartbeat.ts';
import type { RecordMeta } from './gateway-records.ts';
import { heartbeatMessage, type RunIdentity } from './price-record.ts';
import type { RecordSink } from './record-sink.ts';

export interface HeartbeatPublisherOptions {
  sink: RecordSink<RecordMeta>;
  topic: string;
  run: RunIdentity & { version: string };
  intervalMs: number;
  /** What the gateway knows now: its status and every stage's state. */
  snapshot(): HeartbeatSnapshot;
}

/**
 * Heartbeats on a timer, whatever the feed is doing, and one at once when Kafka becomes
 * writable again (so an outage's end shows at once, not at the next tick). They travel as
 * control records, ahead of the bars queued at the time.
 */
export class HeartbeatPublisher {
  readonly #o: HeartbeatPublisherOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: HeartbeatPublisherOptions) {
    this.#o = options;
    options.sink.listen({
      onWritableChange: (writable) => {
        if (writable && this.#timer !== undefined) setImmediate(() => this.beat());
      },
    });
  }

  /** Publishes one heartbeat now, then every interval. */
  start(): void {
    this.beat();
    this.#timer = setInterval(() => this.beat(), this.#o.intervalMs);
  }

  /** One heartbeat; `status` overrides the snapshot's (the `stopped` one at shutdown). */
  beat(status?: HeartbeatStatus): void {
    const snapshot = this.#o.snapshot();
    const beat = buildHeartbeat(this.#o.run, status === undefined ? snapshot : { ...snapshot, status });
    this.#o.sink.enqueueControl({ topic: this.#o.topic, message: heartbeatMessage(beat), meta: { kind: 'heartbeat', status: beat.status } });
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
