import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { createCalendar } from '../../src/bars/calendar.ts';
import { draftFromRest, filledDraft, normalizeAggregate } from '../../src/bars/normalize.ts';
import type { PriceEventDraft } from '../../src/bars/normalize.ts';
import type { AggregateEvent, RestAggregate } from '../../src/contracts/polygon-wire.ts';

const TS_ET_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/;

/** An AM bar as Polygon sends it: 09:30 New York on Monday 2025-11-03 (first day of EST). */
const am: AggregateEvent = {
  ev: 'AM',
  sym: 'TQQQ',
  v: 182_341,
  av: 1_204_556,
  op: 101.22,
  vw: 101.3187,
  o: 101.25,
  h: 101.48,
  l: 101.11,
  c: 101.4,
  a: 101.2719,
  z: 97,
  s: 1762180200000,
  e: 1762180260000,
};

describe('normalizeAggregate', () => {
  it('maps a real-looking AM event field by field', () => {
    const draft = normalizeAggregate(am);
    const expected: PriceEventDraft = {
      symbol: 'TQQQ',
      tsET: '2025-11-03T14:30:00Z',
      open: 101.25,
      high: 101.48,
      low: 101.11,
      close: 101.4,
      volume: 182_341,
      vwap: 101.3187,
      startMs: 1762180200000,
      endMs: 1762180260000,
      barId: 1,
    };
    assert.deepEqual(draft, expected);
    assert.match(draft.tsET, TS_ET_RE);
    assert.equal(Object.hasOwn(draft, 'revision'), false);
    assert.equal(Object.hasOwn(draft, 'source'), false);
  });

  it('gives vwap null when vw is absent, null or not finite', () => {
    const { vw: _omit, ...noVw } = am;
    assert.equal(normalizeAggregate(noVw).vwap, null);
    assert.equal(normalizeAggregate({ ...am, vw: null }).vwap, null);
    assert.equal(normalizeAggregate({ ...am, vw: Number.NaN }).vwap, null);
    assert.equal(normalizeAggregate({ ...am, vw: Number.POSITIVE_INFINITY }).vwap, null);
    assert.equal(normalizeAggregate({ ...am, vw: 0 }).vwap, 0);
  });

  it('upper-cases the symbol', () => {
    assert.equal(normalizeAggregate({ ...am, sym: 'soxl' }).symbol, 'SOXL');
    assert.equal(normalizeAggregate({ ...am, sym: 'brk.b' }).symbol, 'BRK.B');
  });

  it('buckets a start that is not on the minute, and keeps the vendor end', () => {
    const draft = normalizeAggregate({ ...am, s: am.s + 1_234, e: am.e + 5 });
    assert.equal(draft.startMs, am.s);
    assert.equal(draft.tsET, '2025-11-03T14:30:00Z');
    assert.equal(draft.endMs, am.e + 5);
    assert.equal(draft.barId, 1);
  });

  it('sets barId 391 on the closing minute, null in pre- and post-market', () => {
    assert.equal(normalizeAggregate({ ...am, s: 1762203600000, e: 1762203660000 }).barId, 391); // 16:00 ET
    const pre = normalizeAggregate({ ...am, s: 1752581700000, e: 1752581760000 }); // 08:15 EDT
    assert.equal(pre.barId, null);
    assert.equal(pre.tsET, '2025-07-15T12:15:00Z');
    const post = normalizeAggregate({ ...am, s: 1752609900000, e: 1752609960000 }); // 16:05 EDT
    assert.equal(post.barId, null);
    assert.equal(post.tsET, '2025-07-15T20:05:00Z');
  });

  it('uses the calendar it is given', () => {
    const closed = createCalendar({ holidays: { '2025-11-03': 'test closure' } });
    assert.equal(normalizeAggregate(am, closed).barId, null);
    assert.equal(normalizeAggregate(am, { barIdOf: () => 42 }).barId, 42);
  });
});

describe('draftFromRest', () => {
  const rest: RestAggregate = { t: 1773063000000, o: 30.1, h: 30.4, l: 30.05, c: 30.33, v: 5120, vw: 30.2511, n: 61 };

  it('maps a REST minute with end = start + 1 minute (first EDT Monday of 2026, 09:30)', () => {
    assert.deepEqual(draftFromRest('soxs', rest), {
      symbol: 'SOXS',
      tsET: '2026-03-09T13:30:00Z',
      open: 30.1,
      high: 30.4,
      low: 30.05,
      close: 30.33,
      volume: 5120,
      vwap: 30.2511,
      startMs: 1773063000000,
      endMs: 1773063060000,
      barId: 1,
    });
  });

  it('gives vwap null without vw', () => {
    const { vw: _omit, ...noVw } = rest;
    assert.equal(draftFromRest('SOXS', noVw).vwap, null);
  });
});

describe('filledDraft', () => {
  it('carries the previous close with zero volume and no VWAP', () => {
    const start = 1762180200000 + 9 * 60_000; // 09:39 ET
    assert.deepEqual(filledDraft('fas', start, 123.45), {
      symbol: 'FAS',
      tsET: '2025-11-03T14:39:00Z',
      open: 123.45,
      high: 123.45,
      low: 123.45,
      close: 123.45,
      volume: 0,
      vwap: null,
      startMs: start,
      endMs: start + 60_000,
      barId: 10,
    });
  });

  it('has barId null outside the session (fill mode all)', () => {
    assert.equal(filledDraft('FAS', 1752581700000, 10).barId, null);
  });
});
