/** Topic names of the sentio platform: the only place they are spelled. */

export const DEFAULT_TOPIC_PREFIX = 'sentio.';

export interface TopicNames {
  /** Written by the gateway: one record per (symbol, minute, revision). */
  prices: string;
  /** Written by the gateway on a timer. */
  heartbeat: string;
  /** Written by the engine; compacted. */
  positions: string;
  /** Written by the engine; compacted. */
  portfolio: string;
  /** Written by the engine; time-retained. */
  trades: string;
}

/**
 * The coordination topic of active/standby (HA_MODE=kafka): one partition, never written;
 * the gateway that holds its partition in the HA group leads. The gateway provisions it.
 */
export function leadershipTopic(prefix: string = DEFAULT_TOPIC_PREFIX): string {
  return `${prefix}gateway.leadership.v1`;
}

export function topicNames(prefix: string = DEFAULT_TOPIC_PREFIX): TopicNames {
  return {
    prices: `${prefix}prices.minute.v1`,
    heartbeat: `${prefix}heartbeat.v1`,
    positions: `${prefix}positions.state.v1`,
    portfolio: `${prefix}portfolio.minute.v1`,
    trades: `${prefix}trades.executed.v1`,
  };
}
