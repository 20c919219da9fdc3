import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstUnprovenMinute, firstUnsettledMinute, isProvenEmpty, lastClosedMinute, planBackfill, restSettledThrough } from '../../src/bars/watermark.ts';
import { MINUTE_MS } from '../../src/contracts/time-format.ts';

const T0 = Date.parse('2026-03-10T14:00:00Z');
const m = (i: number) => T0 + i * MINUTE_MS;

test('a minute is proven empty by the socket that watched it or by REST that settled it, nothing else', () => {
  const proof = { socketFrom: m(8), rest: { from: m(2), settledThrough: m(4) } };
  assert.deepEqual(
    [1, 2, 4, 5, 7, 8, 9].map((i) => isProvenEmpty(m(i), proof)),
    [false, true, true, false, false, true, true],
  );
  assert.equal(isProvenEmpty(m(3), { socketFrom: null, rest: null }), false);
});

test('the first unproven minute of a gap, or null when the whole gap is proven', () => {
  const proof = { socketFrom: m(8), rest: { from: m(2), settledThrough: m(4) } };
  assert.equal(firstUnprovenMinute(m(1), m(10), proof), m(5));
  assert.equal(firstUnprovenMinute(m(1), m(5), proof), null);
  assert.equal(firstUnprovenMinute(m(0), m(3), proof), m(1));
  assert.equal(firstUnprovenMinute(m(6), m(7), proof), null, 'no gap');
  assert.equal(firstUnprovenMinute(null, m(20), proof), null, 'nothing before the first record to prove');
});

test('a backfill starts at the watermark + 1 though later bars were published first', () => {
  // The watermark stopped at minute 0; bars up to minute 40 went out after it.
  const plan = planBackfill({ watermark: m(0), newestBar: m(40), presentMs: m(45) + 5_000, maxBackfillMinutes: 120, correctionWindowMinutes: 15 });
  assert.deepEqual(plan, { from: m(1), through: m(44), lost: null });
});

test("the correction re-read reaches back from the symbol's newest bar, not from the clock", () => {
  // The feed runs hours behind our clock: what matters is where the symbol's bars are.
  const plan = planBackfill({ watermark: m(40), newestBar: m(40), presentMs: m(42) + 1, maxBackfillMinutes: 120, correctionWindowMinutes: 15 });
  assert.equal(plan.from, m(40 - 14));
  assert.equal(plan.through, m(41));
  // Without a newest bar the window is measured back from the last closed minute.
  assert.equal(planBackfill({ watermark: null, newestBar: null, presentMs: m(42), maxBackfillMinutes: 10, correctionWindowMinutes: 15 }).from, m(32));
});

test('a gap longer than MAX_BACKFILL_MINUTES gives the oldest minutes up, and says which', () => {
  const plan = planBackfill({ watermark: m(0), newestBar: m(0), presentMs: m(200), maxBackfillMinutes: 120, correctionWindowMinutes: 15 });
  assert.deepEqual(plan, { from: m(80), through: m(199), lost: { from: m(1), through: m(79) } });
  // With MAX_BACKFILL_MINUTES=0 nothing is read.
  const none = planBackfill({ watermark: m(0), newestBar: m(0), presentMs: m(10), maxBackfillMinutes: 0, correctionWindowMinutes: 15 });
  assert.ok(none.from > none.through);
});

test('REST is final up to a grace before the present, and up to its own newest bar', () => {
  assert.equal(lastClosedMinute(m(5) + 59_999), m(4));
  assert.equal(restSettledThrough(m(5) + 25_000, 20_000, null), m(4));
  assert.equal(restSettledThrough(m(5) + 15_000, 20_000, null), m(3));
  assert.equal(restSettledThrough(null, 20_000, m(9)), m(8), 'a later REST bar settles what precedes it, whatever the clock');
  assert.equal(restSettledThrough(null, 20_000, null), Number.NEGATIVE_INFINITY);
});

test('the first minute REST neither returned nor settled', () => {
  const returned = new Set([m(3), m(4), m(6)]);
  assert.equal(firstUnsettledMinute(m(1), m(7), m(2), returned), m(5));
  assert.equal(firstUnsettledMinute(m(1), m(4), m(2), returned), null);
  assert.equal(firstUnsettledMinute(m(1), m(7), m(7), returned), null);
});
