import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheTransactionCoordinators, forgetCoordinator, type ClusterLike } from '../../src/kafka/transaction-coordinator-cache.ts';

/** A stand-in for kafkajs's Cluster and Broker: it counts lookups, and its coordinator can move or fail. */
function fakeKafka() {
  const state = { coordinator: 1, lookups: 0, failNext: null as string | null, reachable: new Set([1, 2]) };
  class Cluster implements ClusterLike {
    async findGroupCoordinator({ coordinatorType }: { groupId: string; coordinatorType?: number }): Promise<{ nodeId: number }> {
      state.lookups += 1;
      return { nodeId: coordinatorType === 1 ? state.coordinator : 99 };
    }
    async findBroker({ nodeId }: { nodeId: number }): Promise<{ nodeId: number }> {
      if (!state.reachable.has(nodeId)) throw new Error(`broker ${nodeId} not found`);
      return { nodeId };
    }
  }
  const request = async function (this: unknown): Promise<string> {
    const failure = state.failNext;
    state.failNext = null;
    // Kafka's errors carry their type, as kafkajs's KafkaJSProtocolError does; a lost connection has none.
    if (failure !== null) throw Object.assign(new Error(failure), failure === 'connection lost' ? {} : { type: failure });
    return 'ok';
  };
  class Broker {}
  Object.assign(Broker.prototype, { initProducerId: request, addPartitionsToTxn: request, addOffsetsToTxn: request, endTxn: request });
  cacheTransactionCoordinators(Cluster, Broker as never);
  const broker = Broker.prototype as unknown as Record<'addPartitionsToTxn' | 'endTxn', (args: { transactionalId?: string }) => Promise<string>>;
  return { state, cluster: new Cluster(), broker };
}

const TXN = { groupId: 'gateway-ha', coordinatorType: 1 };

test('the transaction coordinator is looked up once, then remembered', async () => {
  forgetCoordinator(TXN.groupId);
  const { state, cluster } = fakeKafka();
  for (let i = 0; i < 5; i += 1) assert.equal((await cluster.findGroupCoordinator(TXN)).nodeId, 1);
  assert.equal(state.lookups, 1);
  // Group coordinators (consumer groups) are kafkajs's business, asked every time.
  await cluster.findGroupCoordinator({ groupId: TXN.groupId, coordinatorType: 0 });
  await cluster.findGroupCoordinator({ groupId: TXN.groupId });
  assert.equal(state.lookups, 3);
});

test('a failed request to the coordinator forgets it: the retry asks the cluster, and finds where it moved', async () => {
  forgetCoordinator(TXN.groupId);
  const { state, cluster, broker } = fakeKafka();
  await cluster.findGroupCoordinator(TXN);
  state.coordinator = 2;
  state.failNext = 'NOT_COORDINATOR';
  await assert.rejects(broker.endTxn({ transactionalId: TXN.groupId }), /NOT_COORDINATOR/, 'the error still reaches the caller');
  assert.equal((await cluster.findGroupCoordinator(TXN)).nodeId, 2);
  assert.equal(state.lookups, 2);
  // A request that succeeds keeps it.
  assert.equal(await broker.addPartitionsToTxn({ transactionalId: TXN.groupId }), 'ok');
  await cluster.findGroupCoordinator(TXN);
  assert.equal(state.lookups, 2);
  // Refusals from the right broker keep it; a lost connection does not.
  for (const failure of ['CONCURRENT_TRANSACTIONS', 'INVALID_PRODUCER_EPOCH']) {
    state.failNext = failure;
    await assert.rejects(broker.addPartitionsToTxn({ transactionalId: TXN.groupId }));
    await cluster.findGroupCoordinator(TXN);
    assert.equal(state.lookups, 2, failure);
  }
  for (const failure of ['COORDINATOR_NOT_AVAILABLE', 'connection lost']) {
    const before: number = state.lookups;
    state.failNext = failure;
    await assert.rejects(broker.endTxn({ transactionalId: TXN.groupId }));
    await cluster.findGroupCoordinator(TXN);
    assert.equal(state.lookups, before + 1, failure);
  }
});

test('a remembered coordinator that is no longer reachable is looked up afresh', async () => {
  forgetCoordinator(TXN.groupId);
  const { state, cluster } = fakeKafka();
  await cluster.findGroupCoordinator(TXN);
  state.reachable.delete(1);
  state.coordinator = 2;
  assert.equal((await cluster.findGroupCoordinator(TXN)).nodeId, 2);
  assert.equal(state.lookups, 2);
});
