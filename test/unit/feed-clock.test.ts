import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeedClock, feedTiming } from '../../src/clock/feed-clock.ts';
import { createSimClock } from '../../src/sim/clock.ts';

const GRACE = 20_000;

test('timing: unknown before a bar, on time within the grace of the delay either way, lagging beyond', () => {
  assert.equal(feedTiming(null, 0, GRACE), 'unknown');
  assert.equal(feedTiming(2_000, 0, GRACE), 'on_time');
  assert.equal(feedTiming(902_000, 900_000, GRACE), 'on_time');
  assert.equal(feedTiming(902_000, 0, GRACE), 'lagging', 'a delayed feed with the delay unset');
  assert.equal(feedTiming(2_000, 900_000, GRACE), 'lagging', 'a real-time feed with a delay set');
  assert.equal(feedTiming(4 * 3_600_000, 0, GRACE), 'lagging');
});

/** A market clock the test moves by hand. */
function manualClock(start: number) {
  let now = start;
  return { now: () => now, set: (ms: number) => void (now = ms) };
}

test('the present: expected while on time, the newest bar while lagging, null while unknown', () => {
  const clock = manualClock(Date.parse('2026-03-10T14:20:00Z'));
  const feed = new FeedClock({ clock, delayMs: 900_000, graceMs: GRACE });
  assert.equal(feed.present(), null);
  assert.equal(feed.presentOrExpected(), clock.now() - 900_000);
  // A bar ending 15 minutes and 2 seconds ago: as the setting says.
  assert.equal(feed.observe(clock.now() - 902_000), 902_000);
  assert.equal(feed.timing, 'on_time');
  assert.equal(feed.present(), clock.now() - 900_000);
  // An older bar (re-sent, held back) measures nothing.
  assert.equal(feed.observe(clock.now() - 960_000), null);
  assert.equal(feed.lagMs, 902_000);
  // Bars start trailing by an hour: the present is the newest bar's end, not our clock.
  clock.set(clock.now() + 3_600_000);
  const end = clock.now() - 3_600_000;
  assert.equal(feed.observe(end), 3_600_000);
  assert.equal(feed.timing, 'lagging');
  assert.equal(feed.present(), end);
});

test('a lagging feed: the front decides, and the lag gauge value is our clock minus the bar end', () => {
  const clock = manualClock(Date.parse('2026-03-10T18:00:00Z'));
  const feed = new FeedClock({ clock, delayMs: 0, graceMs: GRACE });
  const barEnd = Date.parse('2026-03-10T14:01:00Z');
  assert.equal(feed.observe(barEnd), clock.now() - barEnd);
  assert.equal(feed.timing, 'lagging');
  assert.equal(feed.present(), barEnd);
  clock.set(clock.now() + 10 * 60_000);
  assert.equal(feed.present(), barEnd, 'our clock moving proves nothing about the feed');
});

test('until: resolves by the clock while on time, by bars while lagging, false on timeout or abort', async () => {
  const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T14:00:00Z'), msPerMinute: 60 }); // 1000x
  const feed = new FeedClock({ clock, delayMs: 0, graceMs: GRACE });
  const never = new AbortController().signal;
  // Unknown: waiting for the timing to be known ends at the first bar.
  const known = feed.until(Number.NEGATIVE_INFINITY, never, 60 * 60_000);
  feed.observe(clock.now() - 1_000);
  assert.equal(await known, true);
  // On time: two market seconds ahead come by the clock alone (2 wall ms at this speed).
  assert.equal(await feed.until(clock.now() + 2_000, never, 60_000), true);
  // Lagging: a minute ahead of the newest bar needs bars; the clock alone times out.
  const lagging = new FeedClock({ clock, delayMs: 0, graceMs: GRACE });
  const front = clock.now() - 3_600_000;
  lagging.observe(front);
  assert.equal(await lagging.until(front + 60_000, never, 30_000), false);
  const byBar = lagging.until(front + 60_000, never, 3_600_000);
  lagging.observe(front + 60_000);
  assert.equal(await byBar, true);
  const abort = new AbortController();
  const aborted = lagging.until(front + 10 * 60_000, abort.signal, 3_600_000);
  abort.abort();
  assert.equal(await aborted, false);
});
