/**
 * What active/standby (HA_MODE=kafka) will rely on, proved on the pinned broker (Kafka 4.1.1)
 * through the project's one door to kafkajs 2.2.4 and its fixes, before any gateway code
 * uses it: transactions (commit, abort, read_committed), fencing of a producer by another
 * with the same transactional id, and leadership by the assignment of a one-partition topic
 * in a consumer group (handed over at once when the leader leaves).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Consumer, EachMessagePayload, Producer } from 'kafkajs';
import type { PriceEvent } from '../../src/contracts/price-event.ts';
import { Leadership } from '../../src/kafka/leadership.ts';
import { readPriceTail } from '../../src/kafka/resume.ts';
import { RecordSink } from '../../src/kafka/record-sink.ts';
import { createMetrics } from '../../src/ops/metrics.ts';
import { capturedLog, priceEventAt } from '../support/fixtures.ts';
import { createTopic, kafkaClient, readTopic, useKafka } from '../support/kafka.ts';

const kafka = useKafka();

function transactional(transactionalId: string): Producer {
  return kafkaClient(kafka.bootstrapServers, `txn-${transactionalId}`).producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
}

/** Values a read_committed consumer of `topic` sees (kafkajs reads committed by default). */
async function committedValues(topic: string, expected: number): Promise<string[]> {
  const consumer = kafkaClient(kafka.bootstrapServers, 'txn-reader').consumer({ groupId: `txn-reader-${randomUUID()}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }: EachMessagePayload) => {
        seen.push(message.value?.toString('utf8') ?? '');
        if (seen.length >= expected) resolve();
      },
    });
  });
  await done;
  await consumer.disconnect();
  return seen;
}

test('a transactional producer on Kafka 4.1.1: committed batches reach read_committed consumers, aborted ones never do', { timeout: 90_000 }, async () => {
  const topic = `txn-${randomUUID().slice(0, 8)}`;
  await createTopic(kafka.bootstrapServers, topic);
  const producer = transactional(`t-${randomUUID()}`);
  await producer.connect();
  try {
    const first = await producer.transaction();
    await first.sendBatch({
      topicMessages: [
        {
          topic,
          messages: [
            { key: 'a', value: 'one' },
            { key: 'b', value: 'two' },
          ],
        },
      ],
      acks: -1,
    });
    await first.commit();
    const aborted = await producer.transaction();
    await aborted.sendBatch({ topicMessages: [{ topic, messages: [{ key: 'a', value: 'never' }] }], acks: -1 });
    await aborted.abort();
    const third = await producer.transaction();
    await third.send({ topic, messages: [{ key: 'c', value: 'three' }], acks: -1 });
    await third.commit();
  } finally {
    await producer.disconnect();
  }
  assert.deepEqual(await committedValues(topic, 3), ['one', 'two', 'three']);
  // The aborted record is in the log (read_uncommitted would see it): the markers hide it.
  const raw = await readTopic(kafka.bootstrapServers, topic);
  assert.ok(raw.length >= 3);
});

test(
  'a second producer with the same transactional id fences the first: its next write fails, and none of it becomes visible',
  { timeout: 90_000 },
  async () => {
    const topic = `fence-${randomUUID().slice(0, 8)}`;
    await createTopic(kafka.bootstrapServers, topic);
    const id = `t-${randomUUID()}`;
    const old = transactional(id);
    await old.connect();
    const before = await old.transaction();
    await before.send({ topic, messages: [{ key: 'k', value: 'old-committed' }], acks: -1 });
    await before.commit();
    // The old producer starts a transaction, then freezes; a new one initialises the same id.
    const frozen = await old.transaction();
    await frozen.send({ topic, messages: [{ key: 'k', value: 'old-in-flight' }], acks: -1 });
    const successor = transactional(id);
    await successor.connect();
    const taking = await successor.transaction();
    await taking.send({ topic, messages: [{ key: 'k', value: 'new' }], acks: -1 });
    await taking.commit();
    // The old one wakes up: its commit and any new transaction are refused by the broker.
    const commitError = await frozen.commit().then(
      () => null,
      (error: unknown) => error as Error,
    );
    assert.ok(commitError !== null, 'the fenced producer cannot commit');
    assert.match(`${commitError.name} ${commitError.message}`, /fenc|epoch|PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|INVALID_TXN_STATE/i);
    await old.disconnect().catch(() => undefined);
    await successor.disconnect();
    assert.deepEqual(await committedValues(topic, 2), ['old-committed', 'new']);
  },
);

/** A member of the coordination group: it leads while it holds partition 0 of the one-partition topic. */
async function member(topic: string, groupId: string, sessionTimeout: number) {
  // A short fetch wait: the standby learns of a rebalance on its next fetch or heartbeat.
  const consumer: Consumer = kafkaClient(kafka.bootstrapServers, `ha-${randomUUID().slice(0, 6)}`).consumer({
    groupId,
    sessionTimeout,
    heartbeatInterval: 300,
    rebalanceTimeout: 5_000,
    maxWaitTimeInMs: 250,
    retry: { retries: 2 },
  });
  let leading = false;
  let joins = 0;
  // A rebalance starting means the assignment may move: a leader stops leading at once, and
  // leads again only if the new assignment gives it the partition back. So there is never a
  // moment with two leaders, only a short one with none.
  consumer.on(consumer.events.REBALANCING, () => {
    leading = false;
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    joins += 1;
    leading = (payload.memberAssignment[topic] ?? []).includes(0);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({ eachMessage: async () => undefined });
  return {
    consumer,
    isLeading: () => leading,
    joins: () => joins,
    /** Stops leading first, then leaves the group. */
    async leave() {
      leading = false;
      await consumer.disconnect();
    },
  };
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return performance.now() - started;
}

test(
  'leadership as the assignment of a one-partition topic: never two leaders, and a leader that leaves hands over before the session timeout',
  { timeout: 90_000 },
  async (t) => {
    const topic = `ha-${randomUUID().slice(0, 8)}`;
    await createTopic(kafka.bootstrapServers, topic);
    const groupId = `ha-${randomUUID().slice(0, 8)}`;
    const sessionTimeout = 6_000;
    const a = await member(topic, groupId, sessionTimeout);
    t.after(() => a.consumer.disconnect());
    await until('the first member to lead', a.isLeading, 30_000);
    const members = [a];
    let twoLeaders = false;
    const watch = setInterval(() => (twoLeaders ||= members.filter((m) => m.isLeading()).length > 1), 5);
    t.after(() => clearInterval(watch));
    const second = await member(topic, groupId, sessionTimeout);
    members.push(second);
    t.after(() => second.consumer.disconnect());
    await until('the group to settle with one leader', () => second.joins() > 0 && a.isLeading() !== second.isLeading(), 30_000);
    // A clean shutdown leaves the group: the standby takes over without waiting for a timeout.
    const leader = a.isLeading() ? a : second;
    const standby = leader === a ? second : a;
    await leader.leave();
    const handover = await until('the standby to lead after a leave', standby.isLeading, 15_000);
    assert.ok(handover < sessionTimeout, `handed over in ${Math.round(handover)} ms, before the session timeout (${sessionTimeout} ms)`);
    assert.equal(twoLeaders, false, 'never two leaders at once');
    t.diagnostic(`a leader that left was replaced after ${Math.round(handover)} ms`);
  },
);

test(
  'the transactional sink: each request a transaction; once fenced it stops, says so, and none of its later records is visible',
  { timeout: 90_000 },
  async () => {
    const topic = `tsink-${randomUUID().slice(0, 8)}`;
    await createTopic(kafka.bootstrapServers, topic);
    const id = `t-${randomUUID()}`;
    const producer = transactional(id);
    await producer.connect();
    const fenced: string[] = [];
    const { log } = capturedLog('silent');
    const sink = new RecordSink<string>({
      producer,
      transactional: true,
      maxBuffered: 100,
      retryMinMs: 5,
      retryMaxMs: 10,
      hooks: { onFenced: (e) => fenced.push(e.message) },
      log,
      metrics: createMetrics({ symbols: [], version: 'test' }),
    });
    sink.markConnected();
    const record = (value: string) => ({ topic, message: { key: 'k', value, headers: {} }, meta: value });
    sink.enqueue(record('first'));
    sink.enqueue(record('second'));
    assert.equal(await sink.flush(30_000), true);
    // Another gateway of the group initialises the same transactional id: this sink is fenced.
    const successor = transactional(id);
    await successor.connect();
    const taking = await successor.transaction();
    await taking.send({ topic, messages: [{ key: 'k', value: 'successor' }], acks: -1 });
    await taking.commit();
    sink.enqueue(record('after the takeover'));
    await until('the sink to be fenced', () => sink.fenced, 30_000);
    assert.equal(fenced.length, 1);
    assert.equal(sink.writable, false);
    await successor.disconnect();
    await producer.disconnect().catch(() => undefined);
    assert.deepEqual(await committedValues(topic, 3), ['first', 'second', 'successor']);
  },
);

test(
  'Leadership: a standby joining leaves the leader alone; stopping the leader hands the role over before the session timeout',
  { timeout: 90_000 },
  async (t) => {
    const topic = `lead-${randomUUID().slice(0, 8)}`;
    await createTopic(kafka.bootstrapServers, topic);
    const groupId = `lead-${randomUUID().slice(0, 8)}`;
    const make = () => {
      const metrics = createMetrics({ symbols: [], version: 'test' });
      const events: string[] = [];
      const leadership = new Leadership({
        kafka: kafkaClient(kafka.bootstrapServers),
        topic,
        groupId,
        sessionTimeoutMs: 6_000,
        metrics,
        log: capturedLog('silent').log,
      });
      return { leadership, metrics, events, listener: { lead: () => events.push('lead'), follow: (why: string) => events.push(`follow ${why}`) } };
    };
    const a = make();
    const b = make();
    t.after(() => a.leadership.stop());
    t.after(() => b.leadership.stop());
    await a.leadership.start(a.listener);
    await until('a to lead', () => a.leadership.role === 'leader', 30_000);
    const aJoins = a.leadership.joins;
    await b.leadership.start(b.listener);
    // Both took part in the rebalance b's join caused, and the role stayed where it was: a
    // standby restarting (a rolling update) must not close the leader's vendor socket.
    await until('the rebalance to complete on both', () => b.leadership.joins > 0 && a.leadership.joins > aJoins, 30_000);
    assert.equal(a.leadership.role, 'leader');
    assert.equal(b.leadership.role, 'standby');
    assert.deepEqual(a.events, ['lead'], 'the leader never stepped down');
    assert.deepEqual(b.events, []);
    await a.leadership.stop();
    const handover = await until('b to lead', () => b.leadership.role === 'leader', 15_000);
    assert.ok(handover < 6_000, `${Math.round(handover)} ms`);
    assert.deepEqual(b.events, ['lead']);
    assert.equal(a.events.at(-1), 'follow stopped');
    assert.equal((await b.metrics.leader.get()).values[0]!.value, 1);
    assert.equal((await a.metrics.leader.get()).values[0]!.value, 0);
    assert.equal((await b.metrics.leadershipChanges.get()).values[0]!.value, 1);
    assert.equal((await a.metrics.leadershipChanges.get()).values[0]!.value, 2);
    t.diagnostic(`a leader that stopped was replaced after ${Math.round(handover)} ms`);
  },
);

test(
  "a new leader's tail read: what the fenced leader committed, nothing of its open batch, and it finishes on a partition that ends in control records",
  { timeout: 90_000 },
  async () => {
    const topic = `tail-${randomUUID().slice(0, 8)}`;
    await createTopic(kafka.bootstrapServers, topic);
    const id = `t-${randomUUID()}`;
    const events = [0, 1, 2].map((i) => priceEventAt('AAPL', Date.parse('2026-03-10T14:00:00Z') + i * 60_000));
    const record = (e: PriceEvent) => ({ key: e.symbol, value: JSON.stringify(e) });
    const leader = transactional(id);
    await leader.connect();
    const committed = await leader.transaction();
    await committed.send({ topic, messages: events.slice(0, 2).map(record), acks: -1 });
    await committed.commit();
    // The leader freezes mid-batch: its third bar is written but never committed.
    const open = await leader.transaction();
    await open.send({ topic, messages: [record(events[2]!)], acks: -1 });
    // The new leader initialises the same transactional id: the open batch is aborted, and
    // the partition now ends in an abort marker kafkajs never hands to eachBatch.
    const successor = transactional(id);
    await successor.connect();
    // kafkajs initialises a transactional id on its first transaction, not on connect.
    const fence = await successor.transaction();
    await fence.abort();
    const tail = await readPriceTail(kafkaClient(kafka.bootstrapServers), topic, { perPartition: 100, timeoutMs: 20_000 });
    assert.deepEqual(tail, events.slice(0, 2));
    // A window (or the last fetch of a long tail) that holds only the aborted batch and its
    // marker: nothing to hand over, and the read must still end.
    const abortedOnly = await readPriceTail(kafkaClient(kafka.bootstrapServers), topic, { perPartition: 2, timeoutMs: 20_000 });
    assert.deepEqual(abortedOnly, []);
    await successor.disconnect();
    await leader.disconnect().catch(() => undefined);
  },
);

test('the transaction coordinator is found once, not before every AddPartitionsToTxn and EndTxn (kafkajs fix 7)', { timeout: 90_000 }, async () => {
  const topic = `coord-${randomUUID().slice(0, 8)}`;
  await createTopic(kafka.bootstrapServers, topic);
  const producer = transactional(`t-${randomUUID()}`);
  const requests: string[] = [];
  producer.on(producer.events.REQUEST, ({ payload }) => requests.push(payload.apiName));
  await producer.connect();
  const transactions = 10;
  try {
    for (let i = 0; i < transactions; i += 1) {
      const transaction = await producer.transaction();
      await transaction.send({ topic, messages: [{ key: 'k', value: `v${i}` }], acks: -1 });
      await transaction.commit();
    }
  } finally {
    await producer.disconnect();
  }
  const count = (api: string): number => requests.filter((name) => name === api).length;
  assert.equal(count('EndTxn'), transactions);
  // A transaction begun right after a commit may be answered CONCURRENT_TRANSACTIONS (the
  // last one's markers are still being written) and is retried: at least one each.
  assert.ok(count('AddPartitionsToTxn') >= transactions);
  // kafkajs asked before every AddPartitionsToTxn and EndTxn; now only while initialising
  // (the coordinator may still be loading then, and each retry asks again).
  assert.ok(count('GroupCoordinator') < transactions, `${count('GroupCoordinator')} FindCoordinator requests for ${transactions} transactions`);
  assert.deepEqual(
    await committedValues(topic, transactions),
    Array.from({ length: transactions }, (_, i) => `v${i}`),
  );
});
