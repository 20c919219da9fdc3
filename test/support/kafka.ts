/**
 * Kafka for tests: one embedded broker per test file (or an external one), and helpers that
 * read a topic back from the beginning.
 *
 *   const kafka = useKafka();
 *   it('...', async () => {
 *     const records = await readTopic(kafka.bootstrapServers, topic, { expectedCount: 3 });
 *   });
 *
 * Env:
 *   TEST_KAFKA_BOOTSTRAP  use this broker instead of starting an embedded one
 *   TEST_KAFKA_LOG=1      print the embedded broker's output to stderr
 */

import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';

import type { Admin, Consumer, Kafka as KafkaClient, IHeaders } from 'kafkajs';

import { startEmbeddedKafka } from '../../src/dev/embedded-kafka.ts';
import type { EmbeddedKafka, EmbeddedKafkaOptions } from '../../src/dev/embedded-kafka.ts';
import { createTopics, kafkaClient } from '../../harness/kafka-topics.ts';

export interface KafkaFixture {
  /** Bootstrap servers of the broker; available once the suite's `before` hook ran. */
  readonly bootstrapServers: string;
  /** The embedded broker; undefined when TEST_KAFKA_BOOTSTRAP names an external one. */
  readonly embedded: EmbeddedKafka | undefined;
}

/**
 * One broker for the enclosing suite (call at the top level of a test file or inside a
 * `describe`): started in a `before` hook, disposed in an `after` hook. With env
 * TEST_KAFKA_BOOTSTRAP set, that broker is used and nothing is started.
 */
export function useKafka(opts: EmbeddedKafkaOptions = {}): KafkaFixture {
  const external = process.env['TEST_KAFKA_BOOTSTRAP']?.trim() || undefined;
  let broker: EmbeddedKafka | undefined;
  let bootstrap = external;

  before(async () => {
    if (external) return;
    const log = opts.log ?? (process.env['TEST_KAFKA_LOG'] ? (line: string) => process.stderr.write(`${line}\n`) : undefined);
    broker = await startEmbeddedKafka({ ...opts, log });
    bootstrap = broker.bootstrapServers;
  });

  after(async () => {
    const b = broker;
    broker = undefined;
    await b?.dispose();
  });

  return {
    get bootstrapServers(): string {
      if (!bootstrap) throw new Error('useKafka(): the broker is not started yet (use it inside a test or hook)');
      return bootstrap;
    },
    get embedded(): EmbeddedKafka | undefined {
      return broker;
    },
  };
}

export { kafkaClient } from '../../harness/kafka-topics.ts';

/** A topic name no other test uses. */
export function uniqueTopic(prefix = 'test'): string {
  return `${prefix}.${randomUUID().slice(0, 8)}`;
}

/** Creates a topic (no-op if it exists) and waits until its leaders are known. */
export async function createTopic(bootstrap: string, topic: string, opts: { partitions?: number; configs?: Record<string, string> } = {}): Promise<void> {
  await createTopics(bootstrap, [{ topic, ...opts }]);
}

export interface TopicRecord {
  partition: number;
  offset: number;
  /** UTF-8 key, or null. */
  key: string | null;
  /** UTF-8 value ('' for a tombstone; see `tombstone`). */
  value: string;
  /** True when the record's value is null. */
  tombstone: boolean;
  /** Header values as UTF-8 (the last one when a header repeats). */
  headers: Record<string, string>;
  /** Record timestamp, epoch ms. */
  timestamp: number;
}

/**
 * Every record of `topic`, from the beginning, sorted by partition then offset.
 * Without `expectedCount`: the records up to each partition's high watermark at the call.
 * With `expectedCount`: waits (up to `timeoutMs`) until at least that many exist, then
 * returns all records up to the high watermarks at that moment (so extras are visible too).
 * A missing topic is an error without `expectedCount`, and awaited with it.
 */
export async function readTopic(bootstrap: string, topic: string, opts: { expectedCount?: number; timeoutMs?: number } = {}): Promise<TopicRecord[]> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  const { expectedCount } = opts;
  const what = `readTopic(${topic}${expectedCount === undefined ? '' : `, expectedCount ${expectedCount}`})`;
  const kafka = kafkaClient(bootstrap, 'sentio-test-reader');
  const admin = kafka.admin();
  await withDeadline(admin.connect(), deadline, () => new Error(`${what}: could not connect to ${bootstrap} within ${timeoutMs} ms`));
  let tail: TopicTail | undefined;
  try {
    if (expectedCount === undefined) {
      if (!(await topicExists(admin, topic))) throw new Error(`${what}: topic does not exist`);
    } else {
      await waitForTopic(admin, topic, deadline, what, timeoutMs);
    }
    let marks = await watermarks(admin, topic);
    if (expectedCount === undefined && marks.every((m) => m.high <= m.low)) return [];
    tail = await TopicTail.open(kafka, topic, deadline, what, timeoutMs);
    if (expectedCount !== undefined) {
      await tail.waitFor(() => tail!.count >= expectedCount, deadline, what, timeoutMs);
      marks = await watermarks(admin, topic);
    }
    const target = marks;
    await tail.waitFor(() => tail!.reached(target), deadline, what, timeoutMs);
    return tail.records();
  } finally {
    await tail?.close();
    await admin.disconnect();
  }
}

/**
 * Consumes `topic` from the beginning until `predicate` holds for all records read so far
 * (sorted by partition then offset); returns those records. Waits for the topic to exist.
 * Rejects after `timeoutMs` with a summary of what was read.
 */
export async function waitForRecords(
  bootstrap: string,
  topic: string,
  predicate: (records: TopicRecord[]) => boolean,
  timeoutMs = 30_000,
): Promise<TopicRecord[]> {
  const deadline = Date.now() + timeoutMs;
  const what = `waitForRecords(${topic})`;
  const kafka = kafkaClient(bootstrap, 'sentio-test-waiter');
  const admin = kafka.admin();
  await withDeadline(admin.connect(), deadline, () => new Error(`${what}: could not connect to ${bootstrap} within ${timeoutMs} ms`));
  let tail: TopicTail | undefined;
  try {
    await waitForTopic(admin, topic, deadline, what, timeoutMs);
    tail = await TopicTail.open(kafka, topic, deadline, what, timeoutMs);
    let last: TopicRecord[] = [];
    await tail.waitFor(
      () => {
        last = tail!.records();
        return predicate(last);
      },
      deadline,
      what,
      timeoutMs,
    );
    return last;
  } finally {
    await tail?.close();
    await admin.disconnect();
  }
}

interface Watermark {
  partition: number;
  low: bigint;
  high: bigint;
}

async function watermarks(admin: Admin, topic: string): Promise<Watermark[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }));
}

async function topicExists(admin: Admin, topic: string): Promise<boolean> {
  return (await admin.listTopics()).includes(topic);
}

async function waitForTopic(admin: Admin, topic: string, deadline: number, what: string, timeoutMs: number): Promise<void> {
  while (!(await topicExists(admin, topic))) {
    if (Date.now() >= deadline) throw new Error(`${what}: topic did not appear within ${timeoutMs} ms`);
    await delay(100);
  }
}

/** A consumer in a fresh group reading one topic from the beginning, remembering everything. */
class TopicTail {
  readonly #consumer: Consumer;
  readonly #records: TopicRecord[] = [];
  /** Next offset to read, per partition (control records and aborted data included). */
  readonly #positions = new Map<number, bigint>();
  #wake: (() => void) | undefined;
  #failure: Error | undefined;
  #sorted = true;

  private constructor(consumer: Consumer) {
    this.#consumer = consumer;
  }

  static async open(kafka: KafkaClient, topic: string, deadline: number, what: string, timeoutMs: number): Promise<TopicTail> {
    const consumer = kafka.consumer({
      groupId: `sentio-test-${randomUUID()}`,
      allowAutoTopicCreation: false,
      minBytes: 1,
      maxWaitTimeInMs: 100,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      retry: { initialRetryTime: 100, retries: 8 },
    });
    const tail = new TopicTail(consumer);
    consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
      const { partition, lastOffset } = event.payload;
      const next = BigInt(lastOffset) + 1n;
      const prev = tail.#positions.get(partition);
      if (prev === undefined || next > prev) tail.#positions.set(partition, next);
      tail.#notify();
    });
    consumer.on(consumer.events.CRASH, (event) => {
      // Retriable errors (e.g. the group coordinator still loading on a fresh broker) make
      // kafkajs restart the consumer by itself; only a crash without restart is final.
      if (event.payload.restart) return;
      tail.#failure = event.payload.error;
      tail.#notify();
    });
    const started = (async () => {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            tail.#records.push({
              partition: batch.partition,
              offset: Number(m.offset),
              key: m.key === null ? null : m.key.toString('utf8'),
              value: m.value === null ? '' : m.value.toString('utf8'),
              tombstone: m.value === null,
              headers: headersToStrings(m.headers),
              timestamp: Number(m.timestamp),
            });
          }
          tail.#sorted = false;
        },
      });
    })();
    try {
      await withDeadline(started, deadline, () => new Error(`${what}: consumer did not start within ${timeoutMs} ms`));
    } catch (err) {
      await consumer.disconnect().catch(() => {});
      throw err;
    }
    return tail;
  }

  get count(): number {
    return this.#records.length;
  }

  records(): TopicRecord[] {
    if (!this.#sorted) {
      this.#records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
      this.#sorted = true;
    }
    return [...this.#records];
  }

  /** Whether every non-empty partition has been read up to `marks`' high watermark. */
  reached(marks: Watermark[]): boolean {
    return marks.every((m) => m.high <= m.low || (this.#positions.get(m.partition) ?? m.low) >= m.high);
  }

  async waitFor(condition: () => boolean, deadline: number, what: string, timeoutMs: number): Promise<void> {
    for (;;) {
      if (this.#failure) throw new Error(`${what}: consumer crashed: ${this.#failure.message}`, { cause: this.#failure });
      if (condition()) return;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`${what}: timed out after ${timeoutMs} ms; ${this.#summary()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 1_000));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async close(): Promise<void> {
    await this.#consumer.disconnect().catch(() => {});
  }

  #notify(): void {
    this.#wake?.();
  }

  #summary(): string {
    const records = this.records();
    const positions = [...this.#positions].map(([p, o]) => `${p}@${o}`).join(' ') || 'none';
    const last = records.slice(-3).map((r) => `${r.partition}/${r.offset} ${r.key ?? '∅'}=${truncate(r.value, 120)}`);
    return `read ${records.length} records (positions ${positions})${last.length ? `; last: ${last.join(' | ')}` : ''}`;
  }
}

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    if (raw === undefined) continue;
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value === undefined) continue;
    out[name] = typeof value === 'string' ? value : value.toString('utf8');
  }
  return out;
}

async function withDeadline<T>(promise: Promise<T>, deadline: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
