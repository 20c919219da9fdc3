import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from '../../src/kafka/kafkajs.ts';
import { leadershipTopic, topicNames } from '../../src/contracts/topics.ts';
import { kafkaClient, useKafka } from '../support/kafka.ts';
import { uniquePrefix } from '../support/gateway.ts';
import { spawnGateway } from '../support/child-gateway.ts';

const { ConfigResourceTypes } = kafkajs;
const kafka = useKafka();
const DAY_MS = 86_400_000;

async function describe(bootstrap: string, topics: string[]) {
  const admin = kafkaClient(bootstrap).admin();
  await admin.connect();
  try {
    const result = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['cleanup.policy', 'retention.ms'] })),
    });
    return new Map(result.resources.map((r) => [r.resourceName, Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue]))]));
  } finally {
    await admin.disconnect();
  }
}

test('`sentio-gateway topics` creates the five topics and the HA coordination topic with their settings, and succeeds again when they exist', async () => {
  const prefix = uniquePrefix('topics');
  const names = topicNames(prefix);
  const env = { KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers, TOPIC_PREFIX: prefix, TRADES_RETENTION_DAYS: '30', TOPIC_PARTITIONS: '3' };

  const first = spawnGateway(['topics'], env);
  assert.equal((await first.exited).code, 0, first.stderr.join('\n'));
  assert.deepEqual(
    first.lines
      .filter((l) => l.msg === 'created')
      .map((l) => l.topic as string)
      .sort(),
    [...(Object.values(names) as string[]), leadershipTopic(prefix)].sort(),
  );
  const admin = kafkaClient(kafka.bootstrapServers).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [names.prices, leadershipTopic(prefix)] });
    const partitions = (topic: string) => topics.find((m) => m.name === topic)?.partitions.length;
    assert.equal(partitions(names.prices), 3, 'TOPIC_PARTITIONS applies to the data topics');
    assert.equal(partitions(leadershipTopic(prefix)), 1, 'the leadership topic has one partition whatever TOPIC_PARTITIONS says');
  } finally {
    await admin.disconnect();
  }

  const configs = await describe(kafka.bootstrapServers, Object.values(names) as string[]);
  assert.equal(configs.get(names.prices)?.['cleanup.policy'], 'delete');
  assert.equal(configs.get(names.heartbeat)?.['cleanup.policy'], 'delete');
  assert.equal(configs.get(names.positions)?.['cleanup.policy'], 'compact');
  assert.equal(configs.get(names.portfolio)?.['cleanup.policy'], 'compact');
  assert.equal(configs.get(names.trades)?.['cleanup.policy'], 'delete');
  assert.equal(configs.get(names.trades)?.['retention.ms'], String(30 * DAY_MS));

  const again = spawnGateway(['topics'], env);
  assert.equal((await again.exited).code, 0, again.stderr.join('\n'));
  assert.equal(again.lines.filter((l) => l.msg === 'exists').length, 6);
  assert.equal(again.lines.filter((l) => l.msg === 'created').length, 0);
});

test('trades retention outside 7 to 30 days is refused', async () => {
  const run = spawnGateway(['topics'], { KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers, TRADES_RETENTION_DAYS: '45' });
  assert.equal((await run.exited).code, 2);
  assert.match(run.stderr.join('\n'), /TRADES_RETENTION_DAYS: must be between 7 and 30/);
});
