import type { Consumer, Kafka as KafkaClient } from 'kafkajs';
import { leaderAssigner } from './leader-assigner.ts';
import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';

export type Role = 'leader' | 'standby';

/** Who is told when the role changes. */
export interface LeadershipListener {
  /** This gateway holds the coordination partition: it may open the vendor socket and write. */
  lead(): void;
  /** It no longer does (a rebalance began, the partition moved, the group was left). */
  follow(reason: string): void;
}

export interface LeadershipOptions {
  kafka: KafkaClient;
  /** The one-partition coordination topic. */
  topic: string;
  groupId: string;
  /** How long a leader that died keeps the role (HA_SESSION_TIMEOUT_MS). */
  sessionTimeoutMs: number;
  metrics: GatewayMetrics;
  log: Logger;
}

/**
 * Leadership through Kafka itself: every gateway of a group joins one consumer group on a
 * one-partition topic, and the member that holds the partition leads. The assignment is
 * sticky (see chooseLeader): a standby joining leaves the leader alone. The partition moves
 * only when its holder leaves (a clean stop leaves the group, so a standby takes over in
 * about a second) or stops answering the coordinator for the session timeout; a leader that
 * is moved without noticing (frozen, partitioned) cannot write, since its transactional
 * producer is fenced by the new leader's. Reports `sentio_gateway_leader` and
 * `sentio_gateway_leadership_changes_total`.
 */
export class Leadership {
  readonly #o: LeadershipOptions;
  readonly #consumer: Consumer;
  #role: Role = 'standby';
  #leadingSince: number | null = null;
  #joins = 0;
  #stopped: Promise<void> | null = null;
  #listener: LeadershipListener | null = null;

  constructor(options: LeadershipOptions) {
    this.#o = options;
    this.#consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      // A standby learns of a rebalance on its next heartbeat or (empty) fetch.
      heartbeatInterval: Math.max(100, Math.min(1_000, Math.floor(options.sessionTimeoutMs / 10))),
      rebalanceTimeout: Math.max(options.sessionTimeoutMs, 5_000),
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
      partitionAssigners: [leaderAssigner(options.topic, () => this.#leadingSince)],
    });
    options.metrics.leader.set(0);
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, ({ payload }) => {
      this.#joins += 1;
      const holds = (payload.memberAssignment[options.topic] ?? []).includes(0);
      this.#set(holds ? 'leader' : 'standby', holds ? 'assigned' : 'not assigned');
      options.log.info({ group: options.groupId, role: this.#role, joins: this.#joins }, 'joined the HA group');
    });
    this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => this.#set('standby', `consumer crashed: ${payload.error.message}`));
  }

  get role(): Role {
    return this.#role;
  }

  /** Times this gateway completed a join of its group (each rebalance it took part in). */
  get joins(): number {
    return this.#joins;
  }

  /** Joins the group; the listener hears every change of role from then on. */
  async start(listener: LeadershipListener): Promise<void> {
    this.#listener = listener;
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topic: this.#o.topic, fromBeginning: false });
    await this.#consumer.run({ eachMessage: async () => undefined });
  }

  /** Stops leading, then leaves the group, so a standby takes over at once. */
  stop(): Promise<void> {
    return (this.#stopped ??= (async () => {
      this.#set('standby', 'stopped');
      this.#listener = null;
      await this.#consumer.disconnect();
    })());
  }

  #set(role: Role, reason: string): void {
    if (role === this.#role) return;
    this.#role = role;
    this.#leadingSince = role === 'leader' ? Date.now() : null;
    this.#o.metrics.leader.set(role === 'leader' ? 1 : 0);
    this.#o.metrics.leadershipChanges.inc();
    this.#o.log.info({ role, reason, group: this.#o.groupId }, role === 'leader' ? 'leadership acquired' : 'leadership lost');
    if (role === 'leader') this.#listener?.lead();
    else this.#listener?.follow(reason);
  }
}
