/**
 * Fix 7 to kafkajs 2.2.4 (see kafkajs-fixes.ts): remember each transactional id's
 * coordinator. kafkajs asks the cluster for it (a FindCoordinator round trip) before every
 * AddPartitionsToTxn and every EndTxn, so each transaction of HA_MODE=kafka paid two extra
 * round trips: measured with a bare transactional producer, 12 records every 125 ms, 345
 * FindCoordinator requests for 170 transactions. Java's producer keeps its coordinator until
 * the coordinator says it is not (any more), or cannot be reached; so does this. A request to
 * the transaction coordinator (InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn)
 * that fails with NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE, or with no Kafka error code
 * at all (a lost connection, a timeout), forgets it, and the retry asks the cluster afresh.
 * Other Kafka errors came from the right broker: CONCURRENT_TRANSACTIONS, which a transaction
 * begun right after a commit often meets, keeps it.
 */

/** COORDINATOR_TYPES.TRANSACTION in kafkajs. */
const TRANSACTION = 1;

/** The parts of kafkajs's Cluster the cache wraps. */
export interface ClusterLike {
  findGroupCoordinator: (this: ClusterLike, args: { groupId: string; coordinatorType?: number }) => Promise<{ nodeId: number }>;
  findBroker: (this: ClusterLike, args: { nodeId: number }) => Promise<{ nodeId: number }>;
}

type BrokerMethod = (this: unknown, args: { transactionalId?: string }) => Promise<unknown>;

/** Coordinators by transactional id, per cluster (a client's cluster lives as long as it). */
const known = new Map<string, WeakMap<object, number>>();

/** Forgets the coordinator of a transactional id (for every client). */
export function forgetCoordinator(transactionalId: string): void {
  known.delete(transactionalId);
}

/** Errors after which the coordinator may be elsewhere. */
const STALE_COORDINATOR = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE']);

function coordinatorMayHaveMoved(error: unknown): boolean {
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type !== 'string' || STALE_COORDINATOR.has(type);
}

/**
 * Wraps Cluster.prototype.findGroupCoordinator to answer transaction-coordinator lookups from
 * memory, and the Broker methods sent to that coordinator to forget it when they fail.
 */
export function cacheTransactionCoordinators(
  Cluster: { prototype: ClusterLike },
  Broker: { prototype: Record<'initProducerId' | 'addPartitionsToTxn' | 'addOffsetsToTxn' | 'endTxn', BrokerMethod> },
): void {
  const find = Cluster.prototype.findGroupCoordinator;
  Cluster.prototype.findGroupCoordinator = async function findGroupCoordinator(this: ClusterLike, args) {
    if (args.coordinatorType !== TRANSACTION) return find.call(this, args);
    const nodeId = known.get(args.groupId)?.get(this);
    if (nodeId !== undefined) {
      try {
        return await this.findBroker({ nodeId });
      } catch {
        // Gone from the metadata, or unreachable: ask the cluster.
        forgetCoordinator(args.groupId);
      }
    }
    const coordinator = await find.call(this, args);
    let byCluster = known.get(args.groupId);
    if (byCluster === undefined) known.set(args.groupId, (byCluster = new WeakMap()));
    byCluster.set(this, coordinator.nodeId);
    return coordinator;
  };
  for (const name of ['initProducerId', 'addPartitionsToTxn', 'addOffsetsToTxn', 'endTxn'] as const) {
    const send = Broker.prototype[name];
    Broker.prototype[name] = async function sendToCoordinator(this: unknown, args) {
      try {
        return await send.call(this, args);
      } catch (error) {
        if (args.transactionalId !== undefined && coordinatorMayHaveMoved(error)) forgetCoordinator(args.transactionalId);
        throw error;
      }
    };
  }
}
