import { randomUUID } from 'node:crypto';
import type { PriceEvent } from '../contracts/price-event.ts';
import { topicNames } from '../contracts/topics.ts';
import { createKafkaClient, type KafkaSecurity } from '../kafka/kafka-client.ts';
import type { Logger } from '../ops/logger.ts';

export interface TailSettings {
  brokers: string[];
  topicPrefix: string;
  clientId: string;
  /** Records to show from before now, per partition. */
  backlog: number;
  log: Logger;
  /** TLS and SASL, as for the gateway; default plaintext. */
  security?: KafkaSecurity;
  out?: NodeJS.WriteStream;
}

const COLUMNS = ['SYMBOL', 'tsET', 'BAR', 'OPEN', 'HIGH', 'LOW', 'CLOSE', 'VOLUME', 'VWAP', 'SOURCE', 'REV'] as const;

/** One table row for a price event; numbers kept short enough for a terminal. */
export function tailRow(e: PriceEvent): string[] {
  const price = (n: number | null): string => (n === null ? '-' : n.toFixed(n >= 100 ? 2 : 4));
  return [
    e.symbol,
    e.tsET,
    e.barId === null ? '-' : String(e.barId),
    price(e.open),
    price(e.high),
    price(e.low),
    price(e.close),
    String(e.volume),
    price(e.vwap),
    e.source,
    String(e.revision),
  ];
}

/** Renders rows as aligned columns under a header. */
export function renderTable(rows: string[][]): string {
  const all = [COLUMNS as readonly string[], ...rows];
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((cell, i) => (i === 0 || i === 1 || i === 9 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

/**
 * `sentio-gateway tail`: follows prices.minute.v1 and shows the latest bar per symbol. On a
 * terminal the table redraws in place; piped, it prints one row per record.
 */
export async function tailCommand(settings: TailSettings): Promise<number> {
  const out = settings.out ?? process.stdout;
  const topic = topicNames(settings.topicPrefix).prices;
  const kafka = createKafkaClient({ brokers: settings.brokers, clientId: settings.clientId, log: settings.log, security: settings.security });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();

  const consumer = kafka.consumer({ groupId: `sentio-tail-${randomUUID()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const latest = new Map<string, PriceEvent>();
  const interactive = out.isTTY === true;
  let redraw: NodeJS.Timeout | null = null;
  const draw = (): void => {
    redraw = null;
    const rows = [...latest.values()].sort((a, b) => a.symbol.localeCompare(b.symbol)).map(tailRow);
    out.write(`\x1b[H\x1b[2J${topic}  (${latest.size} symbols, Ctrl-C to quit)\n\n${renderTable(rows)}\n`);
  };
  if (!interactive) out.write(renderTable([]) + '\n');

  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.value === null) return;
      let event: PriceEvent;
      try {
        event = JSON.parse(message.value.toString('utf8')) as PriceEvent;
      } catch {
        return;
      }
      const shown = latest.get(event.symbol);
      if (shown === undefined || event.startMs > shown.startMs || (event.startMs === shown.startMs && event.revision >= shown.revision)) {
        latest.set(event.symbol, event);
      }
      if (interactive) redraw ??= setTimeout(draw, 200);
      else out.write(renderTable([tailRow(event)]).split('\n')[1] + '\n');
    },
  });
  for (const { partition, high, low } of offsets) {
    const start = Math.max(Number(low), Number(high) - settings.backlog);
    consumer.seek({ topic, partition, offset: String(start) });
  }

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  if (redraw) clearTimeout(redraw);
  await consumer.disconnect();
  return 0;
}
