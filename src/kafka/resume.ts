import { randomUUID } from 'node:crypto';
import type { Kafka as KafkaClient } from 'kafkajs';
import type { PriceEvent } from '../contracts/price-event.ts';

export interface TailReadOptions {
  /** Most records to read from the end of each partition. */
  perPartition: number;
  timeoutMs: number;
}

/**
 * Reads the newest records of the prices topic: the gateway's memory across restarts
 * (the container keeps nothing on disk). Resolves with the events in offset order per
 * partition; an absent or empty topic yields none. Read committed (kafkajs's default): after
 * a takeover, exactly what the fenced leader's committed batches hold.
 */
export async function readPriceTail(kafka: KafkaClient, topic: string, options: TailReadOptions): Promise<PriceEvent[]> {
  const admin = kafka.admin();
  await admin.connect();
  let marks: { partition: number; start: number; end: number }[];
  try {
    if (!(await admin.listTopics()).includes(topic)) return [];
    marks = (await admin.fetchTopicOffsets(topic))
      .map((p) => ({ partition: p.partition, start: Math.max(Number(p.low), Number(p.high) - options.perPartition), end: Number(p.high) }))
      .filter((p) => p.end > p.start);
  } finally {
    await admin.disconnect();
  }
  if (marks.length === 0) return [];

  // A throwaway group: kafkajs has no group-less consumer. Nothing is committed.
  const consumer = kafka.consumer({ groupId: `sentio-gateway-resume-${randomUUID()}`, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  const events: PriceEvent[] = [];
  const pending = new Set(marks.map((m) => m.partition));
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const finished = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`reading the tail of ${topic} took longer than ${options.timeoutMs} ms`)), options.timeoutMs);
      // Done when every partition was read to its end. Transactional writes (HA_MODE=kafka)
      // end a partition with a control record, or with an aborted batch, which kafkajs never
      // hands to eachBatch; it reports their offsets only in this event.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const mark = marks.find((m) => m.partition === payload.partition);
        if (payload.topic !== topic || mark === undefined || Number(payload.lastOffset) < mark.end - 1) return;
        pending.delete(payload.partition);
        if (pending.size === 0) resolve();
      });
      void consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const mark = marks.find((m) => m.partition === batch.partition);
            if (mark === undefined) return;
            for (const message of batch.messages) {
              const offset = Number(message.offset);
              if (offset < mark.start || offset >= mark.end || message.value === null) continue;
              try {
                events.push(JSON.parse(message.value.toString('utf8')) as PriceEvent);
              } catch {
                // Not ours to judge: a record we cannot read teaches us nothing.
              }
            }
          },
        })
        .catch(reject);
      for (const mark of marks) consumer.seek({ topic, partition: mark.partition, offset: String(mark.start) });
    });
    await finished;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return events;
}
