import { PAYLOAD_VERSION, type BarSource, type PriceEvent, type PriceRecordHeaders } from '../contracts/price-event.ts';
import type { EngineRecordHeaders } from '../contracts/engine-events.ts';
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
  /** Shared between records and frozen for price events: never change them in place. */
  headers: Readonly<Record<string, string>>;
}

/** Header objects shared by the records of one run, one minute and one source. */
type SharedHeaders = Map<string, Partial<Record<BarSource, Readonly<Record<string, string>>>>>;
const sharedHeaders = new WeakMap<RunIdentity, SharedHeaders>();
/** Minutes remembered per run: a backfill spans up to MAX_BACKFILL_MINUTES of them; more only costs a rebuild. */
const MAX_SHARED_MINUTES = 512;

/**
 * The contract's headers for an event. Every record of a minute from one source carries the
 * same six values, so they share one frozen object; the record encoder encodes a frozen
 * header object once (record-encoder.ts), which saved most of a record's encoding time.
 */
function headersFor(event: PriceEvent, run: RunIdentity): Readonly<Record<string, string>> {
  let byMinute = sharedHeaders.get(run);
  if (byMinute === undefined) sharedHeaders.set(run, (byMinute = new Map() as SharedHeaders));
  let bySource = byMinute.get(event.tsET);
  if (bySource === undefined) {
    if (byMinute.size >= MAX_SHARED_MINUTES) byMinute.clear();
    byMinute.set(event.tsET, (bySource = {}));
  }
  let headers = bySource[event.source];
  if (headers === undefined) {
    // Typed against the contract.
    const contract: PriceRecordHeaders & Record<string, string> = {
      strategy: run.strategy,
      env: run.env,
      runId: run.runId,
      version: PAYLOAD_VERSION,
      timestampET: event.tsET,
      source: event.source,
    };
    headers = bySource[event.source] = Object.freeze(contract);
  }
  return headers;
}

/** The wire form of a price event: key = symbol, JSON value, the contract's headers. */
export function priceMessage(event: PriceEvent, run: RunIdentity): KafkaMessage {
  return { key: event.symbol, value: JSON.stringify(event), headers: headersFor(event, run) };
}

/** The wire form of an engine-topic record (trades, positions, portfolio): its key, JSON value and the contract's headers. */
export function engineMessage(key: string, value: { tsET: string }, run: RunIdentity): KafkaMessage {
  const headers: EngineRecordHeaders & Record<string, string> = {
    strategy: run.strategy,
    env: run.env,
    runId: run.runId,
    version: PAYLOAD_VERSION,
    timestampET: value.tsET,
  };
  return { key, value: JSON.stringify(value), headers };
}

/** The wire form of a heartbeat: key = runId. */
export function heartbeatMessage(beat: Heartbeat): KafkaMessage {
  return {
    key: beat.runId,
    value: JSON.stringify(beat),
    headers: { strategy: beat.strategy, env: beat.env, runId: beat.runId, version: PAYLOAD_VERSION, timestampET: beat.tsET },
  };
}
