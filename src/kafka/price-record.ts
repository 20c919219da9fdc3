import { PAYLOAD_VERSION, type PriceEvent, type PriceRecordHeaders } from '../contracts/price-event.ts';
import type { Heartbeat } from '../contracts/heartbeat.ts';

/** Values every record of a run carries in its headers. */
export interface RunIdentity {
  strategy: string;
  env: string;
  runId: string;
}

export interface KafkaMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** The wire form of a price event: key = symbol, JSON value, the contract's headers. */
export function priceMessage(event: PriceEvent, run: RunIdentity): KafkaMessage {
  // Typed against the contract, built once, handed to the producer as is.
  const headers: PriceRecordHeaders & Record<string, string> = {
    strategy: run.strategy,
    env: run.env,
    runId: run.runId,
    version: PAYLOAD_VERSION,
    timestampET: event.tsET,
    source: event.source,
  };
  return { key: event.symbol, value: JSON.stringify(event), headers };
}

/** The wire form of a heartbeat: key = runId. */
export function heartbeatMessage(beat: Heartbeat): KafkaMessage {
  return {
    key: beat.runId,
    value: JSON.stringify(beat),
    headers: { strategy: beat.strategy, env: beat.env, runId: beat.runId, version: PAYLOAD_VERSION, timestampET: beat.tsET },
  };
}
