import { randomUUID } from 'node:crypto';
import type { PortfolioMinute } from '../contracts/engine-events.ts';
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

/** The portfolio in one line: where the replayed (or live) engine stands. */
export function portfolioLine(p: PortfolioMinute): string {
  const money = (n: number): string => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const sign = (n: number): string => (n >= 0 ? '+' : '');
  return `PORTFOLIO ${p.portfolioId}  ${p.tsET}  equity ${money(p.equity)}  cash ${money(p.cash)}  pnl ${sign(p.totalPnl)}${money(p.totalPnl)} (${sign(p.totalPnlPct)}${(p.totalPnlPct * 100).toFixed(2)} %)  positions ${p.positions}  trades ${p.tradesToday}`;
}

/**
 * `sentio-gateway tail`: follows prices.minute.v1 and shows the latest bar per symbol, with
 * the portfolio's line under the table once portfolio.minute.v1 has records. On a terminal
 * the table redraws in place; piped, it prints one line per record.
 */
export async function tailCommand(settings: TailSettings): Promise<number> {
  const out = settings.out ?? process.stdout;
  const names = topicNames(settings.topicPrefix);
  const topic = names.prices;
  const kafka = createKafkaClient({ brokers: settings.brokers, clientId: settings.clientId, log: settings.log, security: settings.security });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  // The engine's portfolio topic is there once `topics` or a replay made it.
  const portfolioTopic = (await admin.listTopics()).includes(names.portfolio) ? names.portfolio : null;
  const portfolioOffsets = portfolioTopic === null ? [] : await admin.fetchTopicOffsets(portfolioTopic);
  await admin.disconnect();

  const consumer = kafka.consumer({ groupId: `sentio-tail-${randomUUID()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: portfolioTopic === null ? [topic] : [topic, portfolioTopic], fromBeginning: true });
  const latest = new Map<string, PriceEvent>();
  let portfolio: PortfolioMinute | null = null;
  const interactive = out.isTTY === true;
  let redraw: NodeJS.Timeout | null = null;
  const draw = (): void => {
    redraw = null;
    const rows = [...latest.values()].sort((a, b) => a.symbol.localeCompare(b.symbol)).map(tailRow);
    const under = portfolio === null ? '' : `\n${portfolioLine(portfolio)}\n`;
    out.write(`\x1b[H\x1b[2J${topic}  (${latest.size} symbols, Ctrl-C to quit)\n\n${renderTable(rows)}\n${under}`);
  };
  if (!interactive) out.write(renderTable([]) + '\n');

  await consumer.run({
    eachMessage: async ({ topic: from, message }) => {
      if (message.value === null) return;
      if (from === portfolioTopic) {
        try {
          portfolio = JSON.parse(message.value.toString('utf8')) as PortfolioMinute;
        } catch {
          return;
        }
        if (interactive) redraw ??= setTimeout(draw, 200);
        else out.write(portfolioLine(portfolio) + '\n');
        return;
      }
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
  // Only the newest portfolio record matters.
  for (const { partition, high, low } of portfolioOffsets)
    consumer.seek({ topic: portfolioTopic!, partition, offset: String(Math.max(Number(low), Number(high) - 1)) });

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  if (redraw) clearTimeout(redraw);
  await consumer.disconnect();
  return 0;
}
