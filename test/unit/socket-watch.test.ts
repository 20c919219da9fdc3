import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MINUTE_MS } from '../../src/contracts/time-format.ts';
import { firstWatchedMinute, SocketWatch } from '../../src/feed/socket-watch.ts';

const T0 = Date.parse('2026-03-10T14:00:00Z');
const m = (i: number) => T0 + i * MINUTE_MS;

test('the first watched minute is the one in progress at subscription (its bars go out after it ends)', () => {
  assert.equal(firstWatchedMinute(m(5) + 30_000), m(5));
  assert.equal(firstWatchedMinute(m(5)), m(4), 'at 10:05:00 exactly, minute 10:04 has not been sent yet');
});

test('on time, the session watches from its subscription; otherwise from the second minute it saw', () => {
  const watch = new SocketWatch();
  assert.equal(watch.watchedFrom('on_time'), null, 'not subscribed');
  watch.subscribed(m(5) + 30_000);
  assert.equal(watch.watchedFrom('on_time'), m(5));
  assert.equal(watch.watchedFrom('lagging'), null, 'no bar yet: the session vouches for nothing');
  // The first bar may be one the vendor held back, or the tail of a minute's bars.
  watch.sawBar(m(2));
  watch.sawBar(m(2));
  assert.equal(watch.watchedFrom('lagging'), null);
  watch.sawBar(m(6));
  watch.sawBar(m(7));
  assert.equal(watch.watchedFrom('lagging'), m(6));
  assert.equal(watch.watchedFrom('unknown'), m(6));
  watch.ended();
  assert.equal(watch.watchedFrom('on_time'), null);
  assert.equal(watch.watchedFrom('lagging'), null);
});

test('pongs prove only while the feed is on time, and are shifted into feed time', () => {
  const watch = new SocketWatch();
  watch.subscribed(m(0));
  watch.sawBar(m(1));
  watch.answered(m(20) + 5_000);
  watch.answered(m(19));
  assert.deepEqual(watch.proof('on_time', 900_000), { latestBarMinute: m(1), pingAnsweredAt: m(20) + 5_000 - 900_000 });
  assert.deepEqual(watch.proof('lagging', 0), { latestBarMinute: m(1), pingAnsweredAt: null });
  assert.deepEqual(watch.proof('unknown', 0), { latestBarMinute: m(1), pingAnsweredAt: null });
  // A new subscription starts over.
  watch.subscribed(m(30));
  assert.deepEqual(watch.proof('on_time', 0), { latestBarMinute: null, pingAnsweredAt: null });
});
