import assert from 'node:assert/strict';
import type { AggregateEvent } from '../../src/contracts/polygon-wire.ts';
import { PAYLOAD_VERSION, type PriceEvent } from '../../src/contracts/price-event.ts';
import { formatTsET } from '../../src/contracts/time-format.ts';
import { barIdOf } from '../../src/bars/calendar.ts';
import type { TopicRecord } from './kafka.ts';

export interface PriceRecord {
  record: TopicRecord;
  event: PriceEvent;
}

export function priceRecords(records: TopicRecord[]): PriceRecord[] {
  return records.map((record) => ({ record, event: JSON.parse(record.value) as PriceEvent }));
}

/** Asserts a published price event carries exactly the vendor bar's values. */
export function assertMatchesBar(event: PriceEvent, bar: AggregateEvent, what: string): void {
  assert.deepEqual(
    {
      symbol: event.symbol,
      open: event.open,
      high: event.high,
      low: event.low,
      close: event.close,
      volume: event.volume,
      vwap: event.vwap,
      startMs: event.startMs,
      endMs: event.endMs,
      tsET: event.tsET,
      barId: event.barId,
    },
    {
      symbol: bar.sym,
      open: bar.o,
      high: bar.h,
      low: bar.l,
      close: bar.c,
      volume: bar.v,
      vwap: bar.vw,
      startMs: bar.s,
      endMs: bar.e,
      tsET: formatTsET(bar.s),
      barId: barIdOf(bar.s),
    },
    `${what}: got ${JSON.stringify(event)}`,
  );
}

/** Key, headers and payload shape of every price record, as the contract states them. */
export function assertContractShape(p: PriceRecord, run: { strategy: string; env: string; runId: string }): void {
  const { record, event } = p;
  assert.equal(record.key, event.symbol);
  assert.deepEqual(record.headers, {
    strategy: run.strategy,
    env: run.env,
    runId: run.runId,
    version: PAYLOAD_VERSION,
    timestampET: event.tsET,
    source: event.source,
  });
  assert.match(event.tsET, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/);
  assert.equal(Date.parse(event.tsET), event.startMs);
  for (const field of ['open', 'high', 'low', 'close', 'volume', 'startMs', 'endMs', 'revision'] as const) {
    assert.equal(typeof event[field], 'number', field);
  }
  assert.ok(event.vwap === null || typeof event.vwap === 'number');
  assert.ok(event.barId === null || Number.isInteger(event.barId));
  assert.ok(['live', 'backfill', 'filled'].includes(event.source));
}

/** Revision-0 records of each symbol are unique per minute and in minute order. */
export function assertRevisionZeroOrder(records: PriceRecord[]): Map<string, PriceRecord[]> {
  const bySymbol = new Map<string, PriceRecord[]>();
  for (const p of records) {
    if (p.event.revision !== 0) continue;
    const list = bySymbol.get(p.event.symbol) ?? [];
    list.push(p);
    bySymbol.set(p.event.symbol, list);
  }
  for (const [symbol, list] of bySymbol) {
    for (let i = 1; i < list.length; i += 1) {
      assert.ok(list[i]!.event.startMs > list[i - 1]!.event.startMs, `${symbol}: revision 0 of ${list[i]!.event.tsET} follows ${list[i - 1]!.event.tsET}`);
    }
  }
  return bySymbol;
}

/** The error `p` rejects with; fails the test when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}
