import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedFifo } from '../../src/kafka/keyed-fifo.ts';

interface Item {
  key: string;
  n: number;
  wire: number;
}

const OVERHEAD = 10;

/** The reference: a plain array, every operation the obvious way. */
class Model {
  items: Item[] = [];
  get bytes(): number {
    return this.items.reduce((sum, item) => sum + item.wire + OVERHEAD, 0);
  }
  shift(count: number): Item[] {
    return this.items.splice(0, count);
  }
  shiftWithin(count: number, wireBudget: number, heldBudget: number): Item[] {
    let taken = 0;
    let wire = 0;
    for (const item of this.items) {
      if (taken >= count) break;
      if (taken > 0 && (wire + item.wire > wireBudget || wire + item.wire + (taken + 1) * OVERHEAD > heldBudget)) break;
      wire += item.wire;
      taken += 1;
    }
    return this.shift(taken);
  }
  shiftUntil(count: number, bytes: number): Item[] {
    let taken = 0;
    let freed = 0;
    while ((taken < count || freed < bytes) && this.items.length - taken > 1) {
      freed += this.items[taken]!.wire + OVERHEAD;
      taken += 1;
    }
    return this.shift(taken);
  }
  remove(match: (item: Item) => boolean): Item[] {
    const removed = this.items.filter(match);
    this.items = this.items.filter((item) => !match(item));
    return removed;
  }
}

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('every operation returns what a plain array would, through thousands of random steps', () => {
  // Seeds with fewer pushes keep emptying the queue, which drops the key index.
  for (const [seed, pushShare] of [
    [1, 55],
    [2, 55],
    [3, 35],
    [42, 35],
  ] as const) {
    const next = random(seed);
    const pick = (n: number): number => Math.floor(next() * n);
    const fifo = new KeyedFifo<Item>(OVERHEAD, (item) => item.key);
    const model = new Model();
    let n = 0;
    for (let step = 0; step < 6000; step += 1) {
      const roll = pick(100);
      // Pushes below pushShare; the rest spread over the other operations as 55..99.
      const op = roll < pushShare ? 0 : 55 + Math.floor(((roll - pushShare) * 45) / (100 - pushShare));
      let got: Item[] = [];
      let want: Item[] = [];
      if (op < 55) {
        const item = { key: `K${pick(12)}`, n: n++, wire: 1 + pick(50) };
        fifo.push(item, item.wire);
        model.items.push(item);
      } else if (op < 65) {
        const count = pick(5);
        got = fifo.shift(count);
        want = model.shift(count);
      } else if (op < 75) {
        const [count, wire, held] = [1 + pick(8), pick(200), pick(300)];
        got = fifo.shiftWithin(count, wire, held);
        want = model.shiftWithin(count, wire, held);
      } else if (op < 82) {
        const [count, bytes] = [pick(4), pick(150)];
        got = fifo.shiftUntil(count, bytes);
        want = model.shiftUntil(count, bytes);
      } else if (op < 97) {
        const keys = new Set([`K${pick(12)}`, `K${pick(12)}`]);
        const odd = pick(2) === 0;
        const match = (item: Item): boolean => keys.has(item.key) && (odd ? item.n % 2 === 1 : true);
        got = fifo.removeByKey(keys, match);
        want = model.remove(match);
      } else {
        const match = (item: Item): boolean => item.n % 3 === 0;
        got = fifo.removeWhere(match);
        want = model.remove(match);
      }
      assert.deepEqual(got, want, `seed ${seed}, step ${step}`);
      assert.equal(fifo.length, model.items.length, `length, seed ${seed}, step ${step}`);
      assert.equal(fifo.bytes, model.bytes, `bytes, seed ${seed}, step ${step}`);
    }
    // What is left comes out in order.
    assert.deepEqual(fifo.shift(Number.MAX_SAFE_INTEGER), model.items);
  }
});

test('taking back by key looks only at the records of those keys, however long the queue', () => {
  const fifo = new KeyedFifo<Item>(OVERHEAD, (item) => item.key);
  const symbols = Array.from({ length: 1000 }, (_, i) => `S${i}`);
  let n = 0;
  for (let round = 0; round < 20; round += 1) for (const key of symbols) fifo.push({ key, n: n++, wire: 5 }, 5);
  let looked = 0;
  const taken = fifo.removeByKey(['S7', 'S500'], () => {
    looked += 1;
    return true;
  });
  assert.equal(looked, 40, 'twenty records each of two symbols, out of 20,000');
  assert.deepEqual(
    taken.map((item) => item.n),
    Array.from({ length: 20 }, (_, round) => [round * 1000 + 7, round * 1000 + 500]).flat(),
  );
  assert.equal(fifo.length, 20_000 - 40);
});
