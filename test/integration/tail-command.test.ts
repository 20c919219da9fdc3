import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createKafkaClient } from '../../src/kafka/kafka-client.ts';
import { engineMessage, priceMessage } from '../../src/kafka/price-record.ts';
import type { PortfolioMinute } from '../../src/contracts/engine-events.ts';
import { normalizeAggregate } from '../../src/bars/normalize.ts';
import { topicNames } from '../../src/contracts/topics.ts';
import { MINUTE_MS } from '../../src/contracts/time-format.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { simMinuteBar } from '../../src/sim/index.ts';
import { useKafka } from '../support/kafka.ts';
import { uniquePrefix } from '../support/gateway.ts';
import { spawnGateway } from '../support/child-gateway.ts';

const kafka = useKafka();

test('`sentio-gateway tail` prints a readable row per record', async (t) => {
  const prefix = uniquePrefix('tail');
  const topic = topicNames(prefix).prices;
  const client = createKafkaClient({ brokers: [kafka.bootstrapServers], clientId: 'tail-test', log: createLogger({ level: 'silent', secrets: [] }) });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = client.producer();
  await producer.connect();
  const minute = Date.parse('2026-03-10T13:30:00Z');
  const events = ['TQQQ', 'SQQQ'].flatMap((symbol) =>
    [0, 1].map((i) => ({ ...normalizeAggregate(simMinuteBar(symbol, minute + i * MINUTE_MS)!), source: 'live' as const, revision: 0 })),
  );
  const run = { strategy: 'SIGOR', env: 'MOCK', runId: randomUUID() };
  await producer.send({ topic, messages: events.map((e) => priceMessage(e, run)) });
  await producer.disconnect();

  const tail = spawnGateway(['tail'], { KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers, TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn' });
  t.after(() => tail.child.kill('SIGKILL'));
  const header = await tail.waitForLine((l) => typeof l.raw === 'string' && l.raw.startsWith('SYMBOL'), 30_000);
  assert.match(header.raw as string, /^SYMBOL\s+tsET\s+BAR\s+OPEN\s+HIGH\s+LOW\s+CLOSE\s+VOLUME\s+VWAP\s+SOURCE\s+REV$/);
  const last = events.at(-1)!;
  const row = await tail.waitForLine((l) => typeof l.raw === 'string' && l.raw.startsWith('SQQQ') && l.raw.includes('2026-03-10T13:31:00Z'), 30_000);
  const cells = (row.raw as string).trim().split(/\s+/);
  assert.deepEqual(
    [cells[0], cells[1], cells[2], cells[6], cells[7], cells[9], cells[10]],
    ['SQQQ', last.tsET, '2', last.close.toFixed(last.close >= 100 ? 2 : 4), String(last.volume), 'live', '0'],
  );
  tail.child.kill('SIGTERM');
  assert.equal((await tail.exited).code, 0);
});

test('`sentio-gateway tail` shows the portfolio line under the prices once the portfolio topic has records', async (t) => {
  const prefix = uniquePrefix('tailpf');
  const names = topicNames(prefix);
  const client = createKafkaClient({ brokers: [kafka.bootstrapServers], clientId: 'tail-test', log: createLogger({ level: 'silent', secrets: [] }) });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [names.prices, names.portfolio].map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true });
  await admin.disconnect();
  const producer = client.producer();
  await producer.connect();
  const minute = Date.parse('2026-03-10T13:30:00Z');
  const run = { strategy: 'SIGOR', env: 'MOCK', runId: randomUUID() };
  const bar = { ...normalizeAggregate(simMinuteBar('TQQQ', minute)!), source: 'replay' as const, revision: 0 };
  await producer.send({ topic: names.prices, messages: [priceMessage(bar, run)] });
  const older: PortfolioMinute = {
    portfolioId: 'default',
    tsET: bar.tsET,
    initialCapital: 100_000,
    equity: 100_000,
    cash: 100_000,
    totalPnl: 0,
    totalPnlPct: 0,
    positions: 0,
    tradesToday: 0,
  };
  const newest: PortfolioMinute = {
    ...older,
    tsET: '2026-03-10T13:31:00Z',
    equity: 101_234.5,
    cash: 95_000,
    totalPnl: 1_234.5,
    totalPnlPct: 0.012345,
    positions: 2,
    tradesToday: 3,
  };
  await producer.send({ topic: names.portfolio, messages: [older, newest].map((p) => engineMessage('default', p, run)) });
  await producer.disconnect();

  const tail = spawnGateway(['tail'], { KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers, TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn' });
  t.after(() => tail.child.kill('SIGKILL'));
  await tail.waitForLine((l) => typeof l.raw === 'string' && l.raw.startsWith('TQQQ'), 30_000);
  const line = await tail.waitForLine((l) => typeof l.raw === 'string' && l.raw.startsWith('PORTFOLIO'), 30_000);
  assert.equal(line.raw, 'PORTFOLIO default  2026-03-10T13:31:00Z  equity 101,234.50  cash 95,000.00  pnl +1,234.50 (+1.23 %)  positions 2  trades 3');
  assert.equal(tail.lines.filter((l) => typeof l.raw === 'string' && l.raw.startsWith('PORTFOLIO')).length, 1, 'only the newest portfolio record is shown');
  tail.child.kill('SIGTERM');
  assert.equal((await tail.exited).code, 0);
});
