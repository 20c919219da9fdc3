import { performance } from 'node:perf_hooks';
import type { Producer } from 'kafkajs';
import type { GatewayRole } from '../contracts/heartbeat.ts';
import { rememberingPartitioner } from '../kafka/key-partitioner.ts';
import { startPipeline, type DrainResult, type Pipeline, type PipelineDeps } from './pipeline.ts';

export interface DataPathDeps extends Omit<PipelineDeps, 'producer' | 'transactional' | 'takeoverUntil' | 'onFenced'> {
  /** The idempotent producer of a gateway running alone (HA_MODE=off). */
  producer: Producer;
}

/**
 * Who writes, and the data path while this gateway does. Alone (HA_MODE=off) it writes from
 * the start. In an HA group it writes only while it leads: taking the lead initialises the
 * group's transactional id (which fences the previous leader's producer) before the tail is
 * read, and losing it, or being fenced, closes the vendor socket at once and drops what was
 * held. Changes of role are applied one after the other, in the order they came.
 */
export class DataPath {
  readonly #d: DataPathDeps;
  #role: GatewayRole;
  #pipeline: Pipeline | null = null;
  #producer: Producer | null = null;
  #changes: Promise<void> = Promise.resolve();
  #stopped = false;
  /** Whether the group last said this gateway leads (a failed promotion is tried again). */
  #wanted = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(deps: DataPathDeps) {
    this.#d = deps;
    this.#role = deps.config.ha.mode === 'kafka' ? 'standby' : 'single';
  }

  get role(): GatewayRole {
    return this.#role;
  }

  /** The data path, while this gateway writes. */
  get pipeline(): Pipeline | null {
    return this.#pipeline;
  }

  /** HA_MODE=off: write from now on. */
  async startAlone(): Promise<void> {
    // Alone, it is its own leader (sentio_gateway_leader 1): it is the one writer.
    this.#d.metrics.leader.set(1);
    this.#pipeline = await startPipeline({ ...this.#d, producer: this.#d.producer, transactional: false });
  }

  /** This gateway now leads its HA group. */
  lead(): void {
    this.#wanted = true;
    this.#queue(() => this.#promote());
  }

  /** It no longer does: lost the partition, left the group, or fenced. */
  follow(reason: string): void {
    this.#wanted = false;
    clearTimeout(this.#retry);
    this.#queue(() => this.#demote(reason));
  }

  /** SIGTERM: no more changes of role; drain what is being written by `deadline`. */
  async drain(deadline: number): Promise<DrainResult> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    await this.#changes;
    const pipeline = this.#pipeline;
    const result = pipeline === null ? { backfilled: true, flushed: true, unsent: 0 } : await pipeline.drain(deadline);
    await this.#producer?.disconnect().catch(() => undefined);
    return result;
  }

  #queue(change: () => Promise<void>): void {
    this.#changes = this.#changes.then(async () => {
      if (!this.#stopped) await change();
    });
  }

  async #promote(): Promise<void> {
    if (this.#pipeline !== null) return;
    const { kafka, config, log } = this.#d;
    try {
      const producer = kafka.producer({
        transactionalId: config.ha.groupId,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: rememberingPartitioner,
        // A batch that follows the previous commit within a few ms finds its markers still
        // being written: AddPartitionsToTxn answers CONCURRENT_TRANSACTIONS, which kafkajs
        // retries after the client's 100 ms and then doubles. Kafka's Java producer retries that
        // answer after 20 ms; so do we (the second frame of a minute waited ~100 ms: live12Ha's
        // p99). Retries stay unbounded, as kafkajs sets them for an idempotent producer.
        retry: { initialRetryTime: 20, retries: Number.MAX_SAFE_INTEGER },
      });
      await producer.connect();
      this.#producer = producer;
      // Initialising the transactional id fences the previous leader: from here on not one
      // record of it can be committed, so the tail read next is where its last batch ended.
      const fence = await producer.transaction();
      await fence.abort();
      this.#role = 'leader';
      this.#pipeline = await startPipeline({
        ...this.#d,
        producer,
        transactional: true,
        // The previous leader may hold the vendor's one slot for a moment yet.
        takeoverUntil: performance.now() + config.ha.sessionTimeoutMs + 30_000,
        onFenced: () => this.follow('fenced'),
      });
      log.info({ group: config.ha.groupId }, 'leading: vendor session opened, writing transactionally');
    } catch (error) {
      log.error({ error: (error as Error).message }, 'could not take the lead; trying again in a second');
      await this.#demote('promotion failed');
      // The group still names this gateway: nobody else will write until it manages to.
      this.#retry = setTimeout(() => {
        if (this.#wanted) this.#queue(() => this.#promote());
      }, 1_000);
    }
  }

  async #demote(reason: string): Promise<void> {
    const pipeline = this.#pipeline;
    const producer = this.#producer;
    this.#pipeline = null;
    this.#producer = null;
    if (this.#role !== 'single') this.#role = 'standby';
    if (pipeline === null && producer === null) return;
    this.#d.log.warn({ reason }, 'standing by: vendor session closed, nothing more written');
    await pipeline?.abandon();
    await producer?.disconnect().catch(() => undefined);
  }
}
