import { leadershipTopic, topicNames } from '../contracts/topics.ts';

/** What a sentio topic must look like when the gateway creates it. */
export interface TopicSpec {
  topic: string;
  /** Free-text purpose, printed by `sentio-gateway topics`. */
  purpose: string;
  configs: Record<string, string>;
  /** Partitions this topic must have whatever TOPIC_PARTITIONS says. */
  partitions?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export interface TopicSpecSettings {
  prefix: string;
  tradesRetentionDays: number;
}

/** All sentio topics: the gateway's own and the engine's, so a fresh cluster is ready in one step. */
export function sentioTopicSpecs(settings: TopicSpecSettings): TopicSpec[] {
  const names = topicNames(settings.prefix);
  return [
    {
      topic: names.prices,
      purpose: 'minute bars written by the gateway',
      // The topic is also the gateway's memory across restarts: keep more than a trading week.
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS) },
    },
    {
      topic: names.heartbeat,
      purpose: 'gateway heartbeats',
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(1 * DAY_MS) },
    },
    {
      topic: names.positions,
      purpose: 'engine positions (latest per key)',
      configs: { 'cleanup.policy': 'compact' },
    },
    {
      topic: names.portfolio,
      purpose: 'engine portfolio per minute (latest per key)',
      configs: { 'cleanup.policy': 'compact' },
    },
    {
      topic: names.trades,
      purpose: 'executed trades',
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(settings.tradesRetentionDays * DAY_MS) },
    },
  ];
}

/** The coordination topic of HA_MODE=kafka (see leadershipTopic): one partition, nothing kept. */
export function leadershipTopicSpec(prefix: string): TopicSpec {
  return {
    topic: leadershipTopic(prefix),
    purpose: 'active/standby leadership (never written)',
    partitions: 1,
    configs: { 'cleanup.policy': 'delete', 'retention.ms': String(60 * 60 * 1000) },
  };
}

/** The subset the gateway itself writes, created at start when missing. */
export function gatewayTopicSpecs(settings: TopicSpecSettings): TopicSpec[] {
  const names = topicNames(settings.prefix);
  return sentioTopicSpecs(settings).filter((s) => s.topic === names.prices || s.topic === names.heartbeat);
}
