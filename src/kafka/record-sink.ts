import { performance } from 'node:perf_hooks';
import pRetry, { AbortError } from 'p-retry';
import type { Producer } from 'kafkajs';
import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';
import type { KafkaMessage } from './price-record.ts';
import { KeyedFifo } from './keyed-fifo.ts';
import { sinkEvents, type SinkCargo, type SinkEvent } from './sink-events.ts';

/** A record on its way to Kafka, with whatever the caller wants back when it is acknowledged. */
export interface OutboundRecord<M> {
  topic: string;
  message: KafkaMessage;
  meta: M;
}

/** Who listens to the sink (all optional). */
export interface RecordSinkHooks<M> {
  /** Called once per acknowledged batch, in send order. */
  onDelivered?(records: OutboundRecord<M>[], ackedAt: number): void;
  /** Called for records pushed out of a full buffer (they never reached Kafka). */
  onOverflow?(records: OutboundRecord<M>[]): void;
  /** Called on every failed send attempt. */
  onSendError?(error: Error, attempt: number): void;
  /** A transactional producer was fenced (another took its transactional id): the sink has stopped for good. */
  onFenced?(error: Error): void;
  onWritableChange?(writable: boolean): void;
  onBufferChange?(buffered: number): void;
}

export interface RecordSinkOptions<M> {
  /** With `transactional`, a producer with a transactional id (and `transaction`). */
  producer: Pick<Producer, 'sendBatch'> & Partial<Pick<Producer, 'transaction'>>;
  /**
   * Each request as one transaction (HA_MODE=kafka): a producer fenced by a newer one with
   * the same transactional id can then not write a single record.
   */
  transactional?: boolean;
  /** Data records (bars) held while Kafka is slow or down; beyond it the oldest are dropped. */
  maxBuffered: number;
  /**
   * Estimated bytes (`heldBytes`) of the data records held, queued and in flight; beyond it
   * the oldest queued are dropped as beyond `maxBuffered`. Unbounded when unset.
   */
  maxBufferedBytes?: number;
  /** Control records (heartbeats) are few and only the newest matter. */
  maxControl?: number;
  /** Most records in one produce request. */
  maxBatch?: number;
  /**
   * Wait up to `ms` after the first record joins an idle queue for the group it belongs to,
   * until `group.complete` (see MinuteAssembly), then send it as one request. Unset: every
   * turn of the event loop's records go out at once.
   */
  linger?: { ms: number; group: LingerGroup<M> };
  /**
   * Most bytes (keys, values, headers) in one produce request. The broker refuses a batch
   * above its max.message.bytes (1 MiB by default) for good, so a burst of thousands of bars
   * must go out in several requests. A request the broker still refuses as too large is
   * split, and the sink's requests stay at most half its size from then on.
   */
  maxBatchBytes?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  hooks?: RecordSinkHooks<M>;
  /** Where the sink reports failed sends, writability and its buffer (with `log`). */
  metrics?: GatewayMetrics;
  log?: Logger;
  /**
   * What it carries: `bars` (default) own `sentio_gateway_kafka_writable`,
   * `sentio_gateway_buffered_bars` and `sentio_gateway_buffered_bytes`; a `heartbeats` sink
   * beside them reports its failed sends and logs its writability, but leaves those gauges
   * to the bars.
   */
  carries?: SinkCargo;
}

/** What a lingering sink waits to see complete. */
export interface LingerGroup<M> {
  joined(record: OutboundRecord<M>): void;
  readonly complete: boolean;
}

/** Approximate wire size of a record: what counts against the broker's batch limit. */
function recordBytes(record: OutboundRecord<unknown>): number {
  let bytes = record.message.key.length + record.message.value.length + 32;
  for (const name in record.message.headers) bytes += name.length + record.message.headers[name]!.length + 4;
  return bytes;
}

/**
 * What the gateway holds for a record beyond its key, value and headers: the objects around
 * it (the OutboundRecord, its message and meta, the price event the delivery tracker needs).
 * Measured: 100,000 price records queued in a sink hold 683 B each of live JS heap after a
 * full GC (`node --expose-gc`), against 397 B of key, value and headers as counted here; the
 * shared header object is counted per record, so the estimate errs high.
 */
export const RECORD_OVERHEAD_BYTES = 300;

/**
 * The memory a queued record costs, as MAX_BUFFERED_BYTES counts it: its wire size (key,
 * value, each header's name and value, 4 bytes a header and 32 a record, as a produce
 * request frames them) plus RECORD_OVERHEAD_BYTES. Lengths are UTF-16 code units, which is
 * bytes for the ASCII the gateway writes.
 */
export function heldBytes(record: OutboundRecord<unknown>): number {
  return recordBytes(record) + RECORD_OVERHEAD_BYTES;
}

/**
 * The one writer to Kafka. `enqueue` never waits, so the socket reader is never held up by
 * the broker; a single pump sends whatever has queued as one produce request (all bars of a
 * frame travel together), one request in flight at a time so records keep their order, and
 * retries a failed request until it is acknowledged or the sink is stopped.
 */
export class RecordSink<M> {
  readonly #options: Required<Omit<RecordSinkOptions<M>, 'hooks' | 'producer' | 'metrics' | 'log' | 'transactional' | 'carries' | 'linger'>>;
  readonly #linger: RecordSinkOptions<M>['linger'];
  /** Set while the queue waits for its group to complete (see `linger`). */
  #lingerTimer: NodeJS.Timeout | undefined;
  /** Held bytes one request may take into flight: half the byte bound, so bars can queue behind it. */
  readonly #maxBatchHeld: number;
  /** Most bytes in one request: `maxBatchBytes`, halved each time the broker refuses a request as too large. */
  #requestBytes: number;
  readonly #producer: RecordSinkOptions<M>['producer'];
  readonly #transactional: boolean;
  #fenced = false;
  readonly #listeners: RecordSinkHooks<M>[];
  /** Queued data records, findable by their message key (a price record's is its symbol). */
  readonly #data = new KeyedFifo<OutboundRecord<M>>(RECORD_OVERHEAD_BYTES, (record) => record.message.key);
  #control: OutboundRecord<M>[] = [];
  #inFlight = 0;
  /** Data records in flight and their held bytes (control records are not counted). */
  #inFlightData = 0;
  #inFlightBytes = 0;
  #pumping = false;
  #writable = false;
  #abort = new AbortController();
  #idleWaiters: (() => void)[] = [];
  /** Callers of waitForRoom, woken whenever the buffer shrinks. */
  readonly #roomWaiters = new Set<() => void>();
  readonly #report: (event: SinkEvent) => void;

  constructor(options: RecordSinkOptions<M>) {
    this.#producer = options.producer;
    this.#linger = options.linger !== undefined && options.linger.ms > 0 ? options.linger : undefined;
    this.#transactional = options.transactional ?? false;
    if (this.#transactional && options.producer.transaction === undefined) throw new TypeError('a transactional sink needs a producer with transaction()');
    this.#listeners = options.hooks === undefined ? [] : [options.hooks];
    this.#report = options.metrics !== undefined && options.log !== undefined ? sinkEvents(options.metrics, options.log, options.carries) : () => undefined;
    this.#options = {
      maxBuffered: options.maxBuffered,
      maxBufferedBytes: options.maxBufferedBytes ?? Number.POSITIVE_INFINITY,
      maxControl: options.maxControl ?? 8,
      maxBatch: Math.max(1, Math.min(options.maxBatch ?? 5000, options.maxBuffered)),
      maxBatchBytes: options.maxBatchBytes ?? 512 * 1024,
      retryMinMs: options.retryMinMs ?? 100,
      retryMaxMs: options.retryMaxMs ?? 5000,
    };
    this.#maxBatchHeld = this.#options.maxBufferedBytes / 2;
    this.#requestBytes = this.#options.maxBatchBytes;
  }

  get writable(): boolean {
    return this.#writable;
  }

  /** True once a newer producer with the same transactional id took over: nothing more is written. */
  get fenced(): boolean {
    return this.#fenced;
  }

  /** Most data records held (MAX_BUFFERED_BARS). */
  get capacity(): number {
    return this.#options.maxBuffered;
  }

  /** Most held bytes of data records (MAX_BUFFERED_BYTES; Infinity when unbounded). */
  get byteCapacity(): number {
    return this.#options.maxBufferedBytes;
  }

  /** Adds a listener; each is called in the order added. */
  listen(hooks: RecordSinkHooks<M>): void {
    this.#listeners.push(hooks);
  }

  #overflowed(records: OutboundRecord<M>[]): void {
    for (const l of this.#listeners) l.onOverflow?.(records);
  }

  /** Records not yet acknowledged (queued and in flight). */
  get buffered(): number {
    return this.#data.length + this.#control.length + this.#inFlight;
  }

  /** Estimated bytes held by data records not yet acknowledged (queued and in flight): see `heldBytes`. */
  get bufferedBytes(): number {
    return this.#data.bytes + this.#inFlightBytes;
  }

  enqueue(record: OutboundRecord<M>): void {
    this.#data.push(record, recordBytes(record));
    const excess = this.#data.length + this.#inFlight - this.#options.maxBuffered;
    const excessBytes = this.bufferedBytes - this.#options.maxBufferedBytes;
    // The oldest queued go, never those in flight, and never the record just taken.
    if (excess > 0 || excessBytes > 0) {
      const dropped = this.#data.shiftUntil(excess, excessBytes);
      if (dropped.length > 0) this.#overflowed(dropped);
    }
    this.#linger?.group.joined(record);
    this.#changed();
  }

  enqueueControl(record: OutboundRecord<M>): void {
    this.#control.push(record);
    if (this.#control.length > this.#options.maxControl) this.#control.shift();
    this.#changed();
  }

  /** Takes queued (not in-flight) data records out of the buffer, e.g. to replay a symbol in order later. */
  withdraw(predicate: (record: OutboundRecord<M>) => boolean): OutboundRecord<M>[] {
    const removed = this.#data.removeWhere(predicate);
    if (removed.length > 0) this.#shrank();
    return removed;
  }

  /**
   * As `withdraw`, for records whose message key is one of `keys`: only those are looked at,
   * so taking back a few symbols costs their records, not a scan of the whole buffer.
   */
  withdrawByKey(keys: Iterable<string>, predicate: (record: OutboundRecord<M>) => boolean): OutboundRecord<M>[] {
    const removed = this.#data.removeByKey(keys, predicate);
    if (removed.length > 0) this.#shrank();
    return removed;
  }

  /**
   * Resolves once `records` more data records fit in the buffer without pushing any out (so
   * a replay cannot overflow it), or when `signal` aborts. `bytes` is their held bytes
   * (`heldBytes`); unset, each is taken to hold as much as the average record buffered. An
   * empty buffer always has room for their bytes.
   */
  waitForRoom(records: number, signal: AbortSignal, bytes?: number): Promise<void> {
    const fits = (): boolean => this.buffered + records <= this.#options.maxBuffered && this.#bytesFit(records, bytes);
    if (fits() || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#roomWaiters.delete(check);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const check = (): void => {
        if (fits()) done();
      };
      this.#roomWaiters.add(check);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  #bytesFit(records: number, bytes: number | undefined): boolean {
    const held = this.bufferedBytes;
    if (held === 0) return true;
    const wanted = bytes ?? (records * held) / (this.#data.length + this.#inFlightData);
    return held + wanted <= this.#options.maxBufferedBytes;
  }

  /** Resolves once everything queued so far is acknowledged, or false when `timeoutMs` passes first. */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.buffered === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.#idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([idle, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops retrying; records still queued stay unsent (the caller reports them). */
  stop(): void {
    this.#abort.abort(new Error('sink stopped'));
  }

  /** The buffer got smaller: say so, and wake whoever waits for room. */
  #shrank(): void {
    this.#bufferChanged();
    for (const check of [...this.#roomWaiters]) check();
  }

  #bufferChanged(): void {
    this.#report({ kind: 'buffered', records: this.buffered, bytes: this.bufferedBytes });
    for (const l of this.#listeners) l.onBufferChange?.(this.buffered);
  }

  #changed(): void {
    this.#bufferChanged();
    if (this.#pumping) {
      // Lingering, and the group is now whole: no reason to wait any longer.
      if (this.#lingerTimer !== undefined && this.#linger!.group.complete) {
        clearTimeout(this.#lingerTimer);
        this.#lingerTimer = undefined;
        setImmediate(() => void this.#pump());
      }
      return;
    }
    if (this.#abort.signal.aborted) return;
    this.#pumping = true;
    if (this.#linger !== undefined && !this.#linger.group.complete) {
      this.#lingerTimer = setTimeout(() => {
        this.#lingerTimer = undefined;
        void this.#pump();
      }, this.#linger.ms);
    } else {
      // Defer one turn so every bar of the frame being handled joins the same request.
      setImmediate(() => void this.#pump());
    }
  }

  async #pump(): Promise<void> {
    try {
      while (!this.#abort.signal.aborted && this.#data.length + this.#control.length > 0) {
        const control = this.#control;
        const controlBytes = control.reduce((n, r) => n + recordBytes(r), 0);
        const queuedBytes = this.#data.bytes;
        const data = this.#data.shiftWithin(this.#options.maxBatch - control.length, this.#requestBytes - controlBytes, this.#maxBatchHeld);
        const batch = [...control, ...data];
        this.#control = [];
        this.#inFlight = batch.length;
        this.#inFlightData = data.length;
        this.#inFlightBytes = queuedBytes - this.#data.bytes;
        const acked = await this.#sendWithRetry(batch);
        this.#inFlight = 0;
        this.#inFlightData = 0;
        this.#inFlightBytes = 0;
        if (acked > 0) {
          const ackedAt = performance.now();
          const delivered = acked === batch.length ? batch : batch.slice(0, acked);
          for (const l of this.#listeners) l.onDelivered?.(delivered, ackedAt);
        }
        if (acked < batch.length) {
          // Stopped while retrying: put the rest back so `buffered` stays honest.
          for (const record of batch.slice(acked)) this.#data.push(record, recordBytes(record));
          break;
        }
        this.#shrank();
      }
    } finally {
      this.#pumping = false;
      if (this.buffered === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const wake of waiters) wake();
      }
    }
  }

  /**
   * Sends `batch` until Kafka has taken all of it, or the sink stops; returns how many of its
   * records (from the front) Kafka took. A request refused as too large is sent again in
   * parts, in order; a retry resumes after the parts already taken, so none is sent twice.
   */
  async #sendWithRetry(batch: OutboundRecord<M>[]): Promise<number> {
    const formedUnder = this.#requestBytes;
    let acked = 0;
    try {
      await pRetry(
        async () => {
          while (acked < batch.length) {
            if (this.#abort.signal.aborted) throw new AbortError('sink stopped');
            // Parts only after a refusal: until then the batch was formed within the budget in force.
            const part = acked === 0 && this.#requestBytes >= formedUnder ? batch : this.#partFrom(batch, acked);
            try {
              await this.#write(byTopic(part));
            } catch (error) {
              // Fenced: retrying can only fail again, and must not succeed by some other path.
              if (this.#transactional && isFencing(error)) throw new AbortError(error as Error);
              if (isTooLarge(error) && part.length > 1) {
                this.#shrinkRequests(part, error as Error);
                continue;
              }
              throw error;
            }
            acked += part.length;
          }
        },
        {
          retries: Number.POSITIVE_INFINITY,
          minTimeout: this.#options.retryMinMs,
          maxTimeout: this.#options.retryMaxMs,
          randomize: true,
          signal: this.#abort.signal,
          onFailedAttempt: ({ error, attemptNumber }) => {
            this.#setWritable(false);
            this.#report({ kind: 'send_failed', error: error.message, attempt: attemptNumber });
            for (const l of this.#listeners) l.onSendError?.(error, attemptNumber);
          },
        },
      );
      this.#setWritable(true);
    } catch (error) {
      if (this.#transactional && !this.#abort.signal.aborted && isFencing(error)) this.#fence(error as Error);
    }
    return acked;
  }

  /** The records of `batch` from `from` on that fit in one request now (always at least one). */
  #partFrom(batch: OutboundRecord<M>[], from: number): OutboundRecord<M>[] {
    let end = from + 1;
    let bytes = recordBytes(batch[from]!);
    while (end < batch.length) {
      bytes += recordBytes(batch[end]!);
      if (bytes > this.#requestBytes) break;
      end += 1;
    }
    return batch.slice(from, end);
  }

  /** The broker refused `refused` as too large: requests from now on carry at most half of it. */
  #shrinkRequests(refused: OutboundRecord<M>[], error: Error): void {
    const bytes = refused.reduce((n, r) => n + recordBytes(r), 0);
    this.#requestBytes = Math.max(1, Math.floor(Math.min(this.#requestBytes, bytes) / 2));
    this.#report({ kind: 'request_too_large', error: error.message, bytes, records: refused.length, nowAtMost: this.#requestBytes });
  }

  async #write(topicMessages: { topic: string; messages: KafkaMessage[] }[]): Promise<void> {
    if (!this.#transactional) {
      await this.#producer.sendBatch({ topicMessages, acks: -1 });
      return;
    }
    const transaction = await this.#producer.transaction!();
    try {
      await transaction.sendBatch({ topicMessages, acks: -1 });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  #fence(error: Error): void {
    this.#fenced = true;
    this.#setWritable(false);
    this.#report({ kind: 'fenced', error: error.message });
    this.#abort.abort(error);
    for (const l of this.#listeners) l.onFenced?.(error);
  }

  #setWritable(writable: boolean): void {
    if (writable === this.#writable) return;
    this.#writable = writable;
    this.#report({ kind: 'writable', writable });
    for (const l of this.#listeners) l.onWritableChange?.(writable);
  }

  /** Marks Kafka writable once the producer has connected, before the first record. */
  markConnected(): void {
    this.#setWritable(true);
  }
}

/** Records grouped by topic, in order, as one produce request takes them. */
function byTopic(records: OutboundRecord<unknown>[]): { topic: string; messages: KafkaMessage[] }[] {
  const grouped = new Map<string, KafkaMessage[]>();
  for (const record of records) {
    const list = grouped.get(record.topic);
    if (list) list.push(record.message);
    else grouped.set(record.topic, [record.message]);
  }
  return [...grouped].map(([topic, messages]) => ({ topic, messages }));
}

/** The broker refused the request's batch as larger than the topic's max.message.bytes. */
function isTooLarge(error: unknown): boolean {
  const type = (error as { type?: unknown }).type;
  return type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE';
}

/**
 * A transactional producer that another one with the same transactional id replaced: the
 * broker refuses its epoch, or kafkajs's transaction state is left where the refusal found it.
 */
export function isFencing(error: unknown): boolean {
  const e = error as { type?: unknown; name?: unknown; message?: unknown };
  if (e.type === 'INVALID_PRODUCER_EPOCH' || e.type === 'PRODUCER_FENCED') return true;
  return e.name === 'KafkaJSNonRetriableError' && typeof e.message === 'string' && e.message.startsWith('Transaction state exception');
}
