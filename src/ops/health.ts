/**
 * Readiness as a pure function of what the gateway knows, so the HTTP endpoint, the
 * heartbeat and the metrics all tell the same story.
 */

export interface HealthInputs {
  kafkaWritable: boolean;
  /** Feed connection state; `subscribed` is the only good one. */
  feedState: string;
  /** Why the feed is not subscribed (auth_failed, max_connections, stall, ...), if known. */
  feedReason: string | null;
  /** Whether the market is in its regular session now (staleness only matters then). */
  inRegularSession: boolean;
  /** Market-time ms since the last bar arrived; null when none has. */
  msSinceLastBar: number | null;
  /** Market-time ms since the feed became subscribed; null when it is not. */
  msSinceSubscribed: number | null;
  staleAfterMs: number;
  /**
   * A standby of an HA group (HA_MODE=kafka): it holds no vendor socket on purpose, so only
   * its Kafka counts; it is ready to take over.
   */
  standby?: boolean;
}

export interface FailingPart {
  part: 'kafka' | 'feed';
  reason: string;
}

export interface Readiness {
  ready: boolean;
  failing: FailingPart[];
}

export function assessReadiness(h: HealthInputs): Readiness {
  const failing: FailingPart[] = [];
  if (!h.kafkaWritable) failing.push({ part: 'kafka', reason: 'not_writable' });
  if (h.standby === true) return { ready: failing.length === 0, failing };
  if (h.feedState !== 'subscribed') {
    failing.push({ part: 'feed', reason: h.feedReason ?? h.feedState });
  } else if (h.inRegularSession && isStale(h)) {
    failing.push({ part: 'feed', reason: 'stale' });
  }
  return { ready: failing.length === 0, failing };
}

function isStale(h: HealthInputs): boolean {
  // Freshly subscribed: give the vendor one staleness window before judging.
  const quietFor = h.msSinceLastBar ?? h.msSinceSubscribed ?? 0;
  const sinceSubscribed = h.msSinceSubscribed ?? quietFor;
  return Math.min(quietFor, sinceSubscribed) > h.staleAfterMs;
}

/** Something that can be asked whether the gateway is ready, and keeps `sentio_gateway_ready` in step. */
export function readinessProbe(inputs: () => HealthInputs, ready: { set(value: number): void }): () => Readiness {
  return () => {
    const result = assessReadiness(inputs());
    ready.set(result.ready ? 1 : 0);
    return result;
  };
}

/** Heartbeat status from readiness: down when no data can flow, degraded when some part is unwell. */
export function heartbeatStatus(readiness: Readiness, feedState: string, feedReason: string | null): 'ok' | 'degraded' | 'down' {
  if (readiness.ready) return 'ok';
  const blocked = feedReason === 'auth_failed' || feedReason === 'max_connections' || feedReason === 'disconnect';
  if (blocked && feedState !== 'subscribed') return 'down';
  return 'degraded';
}
