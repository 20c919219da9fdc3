/**
 * A downstream reader of the price topic, the way the engine or the app would read it
 * (kafkajs, a consumer group, from the beginning). Every record is timestamped at receipt
 * (performance.now() when its fetched batch reaches us) and matched by (symbol, tsET) to
 * the moment the load server sent its frame.
 */

import { performance } from 'node:perf_hooks';
import type { Consumer } from 'kafkajs';
import kafkajs from '../../src/kafka/kafkajs.ts';

const { Kafka, logLevel } = kafkajs;

export interface Receipt {
  key: string;
  tsET: string;
  at: number;
}

export interface BenchConsumer {
  /** Records received so far. */
  readonly received: number;
  /** Mean bytes per record: value, and key + header names + header values. */
  sizes(): { value: number; keyAndHeaders: number };
  /** Receipts since the last call (the buffer is emptied). */
  drain(): Receipt[];
  /** Resolves once `count` records arrived in total, or rejects after `timeoutMs`. */
  waitForCount(count: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startConsumer(brokers: string[], topic: string, groupId: string): Promise<BenchConsumer> {
  const kafka = new Kafka({ clientId: 'sentio-bench', brokers, logLevel: logLevel.NOTHING });
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, sessionTimeout: 30_000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let receipts: Receipt[] = [];
  let received = 0;
  let valueBytes = 0;
  let otherBytes = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  // Offsets are committed every 5 s, as Kafka's Java consumer does by default
  // (auto.commit.interval.ms), not after every batch as kafkajs does: a commit in flight holds
  // up the next fetch, so records appended meanwhile (the second produce request of a minute)
  // waited a whole OffsetCommit round trip longer, which measured the instrument, not the producer.
  await consumer.run({
    autoCommitInterval: 5_000,
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      const at = performance.now();
      for (const m of batch.messages) {
        const key = m.key?.toString() ?? '';
        const tsHeader = m.headers?.['timestampET'];
        const tsET = tsHeader === undefined ? '' : tsHeader.toString();
        receipts.push({ key, tsET, at });
        received += 1;
        valueBytes += m.value?.length ?? 0;
        otherBytes += key.length;
        for (const [name, value] of Object.entries(m.headers ?? {})) otherBytes += name.length + (value?.toString().length ?? 0);
      }
      for (const w of [...waiters]) {
        if (received >= w.count) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    },
  });
  await joined;
  return {
    get received() {
      return received;
    },
    sizes() {
      return received === 0 ? { value: 0, keyAndHeaders: 0 } : { value: valueBytes / received, keyAndHeaders: otherBytes / received };
    },
    drain() {
      const out = receipts;
      receipts = [];
      return out;
    },
    waitForCount(count, timeoutMs) {
      if (received >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`consumer: ${received} of ${count} records within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        waiters.push(waiter);
      });
    },
    async stop() {
      await consumer.disconnect();
    },
  };
}
