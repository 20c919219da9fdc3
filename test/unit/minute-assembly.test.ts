import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BarSource } from '../../src/contracts/price-event.ts';
import { MINUTE_MS } from '../../src/contracts/time-format.ts';
import type { GatewayRecord } from '../../src/kafka/gateway-records.ts';
import { MinuteAssembly } from '../../src/kafka/minute-assembly.ts';
import { RecordSink } from '../../src/kafka/record-sink.ts';
import { priceEventAt } from '../support/fixtures.ts';

const T0 = Date.parse('2026-03-10T14:00:00Z');

function barRecord(symbol: string, minute: number, source: BarSource = 'live', revision = 0): GatewayRecord {
  const event = priceEventAt(symbol, T0 + minute * MINUTE_MS, source, revision);
  return { topic: 'prices', message: { key: symbol, value: JSON.stringify(event), headers: {} }, meta: { kind: 'bar', event, receivedAt: 0 } };
}

test("a minute is complete once every subscribed symbol's first live bar for it is in", () => {
  const symbols = ['A', 'B', 'C'];
  const assembly = new MinuteAssembly(symbols.length);
  assert.equal(assembly.complete, true, 'nothing queued: nothing to wait for');
  for (const [i, symbol] of symbols.entries()) {
    assembly.joined(barRecord(symbol, 0));
    assert.equal(assembly.complete, i === symbols.length - 1, `after ${symbol}`);
  }
  assembly.joined(barRecord('A', 1));
  assert.equal(assembly.complete, false, 'a new minute starts over');
  assembly.joined(barRecord('B', 0));
  assert.equal(assembly.complete, false, 'a late bar of an older minute does not count for the newest');
  assembly.joined(barRecord('A', 1, 'live', 1));
  assert.equal(assembly.complete, true, 'a revision does not come in a group: no wait');
  assembly.joined(barRecord('B', 1));
  assert.equal(assembly.complete, false);
  assembly.joined(barRecord('C', 1, 'backfill'));
  assert.equal(assembly.complete, true, 'a backfilled bar need not wait');
});

function capturingSink(lingerMs: number, symbolCount: number) {
  const batches: string[][] = [];
  const sink = new RecordSink({
    producer: {
      sendBatch: async ({ topicMessages }) => {
        batches.push((topicMessages ?? []).flatMap((t) => t.messages.map((m) => String(m.key))));
        return [];
      },
    },
    maxBuffered: 100,
    linger: { ms: lingerMs, group: new MinuteAssembly(symbolCount) },
  });
  return { sink, batches };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a lingering sink sends the minute as one request as soon as its last symbol is in', async () => {
  // A linger far longer than the test: only completeness can release the batch.
  const { sink, batches } = capturingSink(60_000, 3);
  sink.enqueue(barRecord('A', 0));
  sink.enqueue(barRecord('B', 0));
  await turn();
  await turn();
  assert.deepEqual(batches, [], 'two of three symbols: still waiting');
  sink.enqueue(barRecord('C', 0));
  assert.equal(await sink.flush(5_000), true);
  assert.deepEqual(batches, [['A', 'B', 'C']]);
  sink.stop();
});

test('a lingering sink sends what it has when the linger runs out', async () => {
  const { sink, batches } = capturingSink(10, 3);
  sink.enqueue(barRecord('A', 0));
  assert.equal(await sink.flush(5_000), true);
  assert.deepEqual(batches, [['A']]);
  sink.stop();
});

test('without a linger every turn of the event loop goes out at once', async () => {
  const { sink, batches } = capturingSink(0, 3);
  sink.enqueue(barRecord('A', 0));
  assert.equal(await sink.flush(5_000), true);
  sink.enqueue(barRecord('B', 0));
  assert.equal(await sink.flush(5_000), true);
  assert.deepEqual(batches, [['A'], ['B']]);
  sink.stop();
});
