import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeedClock } from '../../src/clock/feed-clock.ts';
import { MINUTE_MS } from '../../src/contracts/time-format.ts';
import { FrameIntake, FUTURE_BAR_TOLERANCE_MS, type MarketEventSink } from '../../src/feed/frame-intake.ts';
import type { ParsedAggregate, ParsedFrame } from '../../src/feed/parse-frame.ts';
import { firstWatchedMinute } from '../../src/feed/socket-watch.ts';
import { capturedLog } from '../support/fixtures.ts';
import { createMetrics, type GatewayMetrics } from '../../src/ops/metrics.ts';

const T0 = Date.parse('2026-03-10T14:00:00Z');
const m = (i: number) => T0 + i * MINUTE_MS;

function bar(sym: string, i: number): ParsedAggregate {
  return { ev: 'AM', sym, v: 100, o: 10, h: 11, l: 9, c: 10.5, s: m(i), e: m(i + 1) };
}

const minute = (event: ParsedAggregate): ParsedFrame['events'][number] => ({ kind: 'minute', event });

function setup() {
  let now = m(1) + 2_000;
  const clock = { now: () => now };
  const feedClock = new FeedClock({ clock, delayMs: 0, graceMs: 20_000 });
  const calls: string[] = [];
  const live: ParsedAggregate[] = [];
  let failNext = false;
  const sink: MarketEventSink = {
    watch: (first) => calls.push(`watch ${first === null ? 'none' : (first - T0) / MINUTE_MS}`),
    resubscribed: () => calls.push('resubscribed'),
    live: (event) => {
      if (failNext) {
        failNext = false;
        throw new Error('downstream broke');
      }
      live.push(event);
    },
  };
  const { log, lines } = capturedLog();
  const metrics = createMetrics({ symbols: ['TQQQ', 'SQQQ'], version: 'test' });
  const intake = new FrameIntake({
    symbols: ['TQQQ', 'SQQQ'],
    clock,
    feedClock,
    sink,
    metrics,
    log,
  });
  return { intake, feedClock, calls, live, lines, metrics, setNow: (ms: number) => void (now = ms), failNextLive: () => void (failNext = true) };
}

async function counter(
  metrics: GatewayMetrics,
  name: 'eventsDropped' | 'eventsReceived' | 'framesReceived',
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metrics[name].get();
  return values.filter((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val)).reduce((n, v) => n + v.value, 0);
}

test('a frame: its events counted by type, bad ones dropped by reason, the good bars handed on in order', async () => {
  const { intake, live, metrics } = setup();
  intake.frame(
    {
      events: [
        minute(bar('TQQQ', 0)),
        { kind: 'status', event: { ev: 'status', status: 'success', message: 'ok' } },
        minute(bar('ZZZZ', 0)),
        { kind: 'second', event: { ...bar('TQQQ', 0), ev: 'A' } },
        { kind: 'unknown', ev: 'XQ' },
        minute(bar('sqqq', 0)),
        // Starts further ahead of our clock than the tolerance: it would fake proof of completeness.
        minute({ ...bar('TQQQ', 0), s: m(1) + 2_000 + FUTURE_BAR_TOLERANCE_MS + MINUTE_MS, e: m(1) + 2_000 + FUTURE_BAR_TOLERANCE_MS + 2 * MINUTE_MS }),
      ],
      rejects: [
        { reason: 'bad_field', detail: 'o is not a number' },
        { reason: 'bad_field', detail: 'h is not a number' },
        { reason: 'missing_field', detail: 'no sym' },
      ],
    },
    1,
  );
  assert.deepEqual(
    live.map((b) => b.sym),
    ['TQQQ', 'sqqq'],
  );
  assert.equal(await counter(metrics, 'framesReceived'), 1);
  assert.deepEqual(await Promise.all(['AM', 'A', 'status', 'unknown'].map((type) => counter(metrics, 'eventsReceived', { type }))), [4, 1, 1, 1]);
  assert.deepEqual(
    await Promise.all(['bad_field', 'missing_field', 'unsubscribed_symbol', 'future_bar'].map((reason) => counter(metrics, 'eventsDropped', { reason }))),
    [2, 1, 1, 1],
  );
  assert.equal(intake.lastBarArrivedAt, m(1) + 2_000);
});

test("the feed clock learns the lag from the frame's newest bar before the bars go on; an older bar measures nothing", async () => {
  const { intake, feedClock, metrics, setNow } = setup();
  intake.frame({ events: [minute(bar('TQQQ', 0)), minute(bar('SQQQ', 0))], rejects: [] }, 1);
  assert.equal(feedClock.lagMs, 2_000);
  assert.equal(feedClock.timing, 'on_time');
  assert.equal((await metrics.feedLag.get()).values[0]!.value, 2);
  setNow(m(2) + 50_000);
  intake.frame({ events: [minute(bar('TQQQ', 0))], rejects: [] }, 2);
  assert.equal(feedClock.lagMs, 2_000, 'a re-sent bar of an old minute');
  setNow(m(3) + 40_000);
  intake.frame({ events: [minute(bar('TQQQ', 2))], rejects: [] }, 3);
  assert.equal(feedClock.lagMs, 40_000);
  assert.equal(feedClock.timing, 'lagging');
});

test('a subscription tells the transform what the session watches and that it must catch up; a lost session watches nothing', () => {
  const { intake, calls, setNow } = setup();
  setNow(m(5) + 30_000);
  intake.stateChanged('subscribed', null);
  // The timing is unknown before a bar: the session vouches for nothing yet.
  assert.deepEqual(calls, ['watch none', 'resubscribed']);
  assert.equal(intake.subscribedSince, m(5) + 30_000);
  setNow(m(6) + 2_000);
  intake.frame({ events: [minute(bar('TQQQ', 5))], rejects: [] }, 1);
  // On time now: watched from the minute in progress at subscription.
  assert.equal(intake.watchedFrom(), firstWatchedMinute(m(5) + 30_000));
  assert.equal(calls.at(-1), 'watch 5');
  intake.pong(m(6) + 25_000);
  assert.deepEqual(intake.proof(), { latestBarMinute: m(5), pingAnsweredAt: m(6) + 25_000 });
  intake.stateChanged('backoff', 'closed');
  assert.equal(calls.at(-1), 'watch none');
  assert.equal(intake.subscribedSince, null);
  assert.equal(intake.watchedFrom(), null);
});

test('a frame the pipeline cannot handle costs that frame only, counted as internal_error', async () => {
  const { intake, live, metrics, lines, failNextLive } = setup();
  failNextLive();
  intake.frame({ events: [minute(bar('TQQQ', 0)), minute(bar('SQQQ', 0))], rejects: [] }, 1);
  intake.frame({ events: [minute(bar('TQQQ', 1))], rejects: [] }, 2);
  assert.deepEqual(
    live.map((b) => `${b.sym}@${(b.s - T0) / MINUTE_MS}`),
    ['TQQQ@1'],
  );
  assert.equal(await counter(metrics, 'eventsDropped', { reason: 'internal_error' }), 1);
  assert.equal(await counter(metrics, 'framesReceived'), 2);
  assert.ok(lines.some((l) => l.msg === 'frame handling failed; frame dropped' && l.error === 'downstream broke'));
});
