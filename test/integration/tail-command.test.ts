import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createKafkaClient } from '../../src/kafka/kafka-client.ts';
import { priceMessage } from '../../src/kafka/price-record.ts';
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
