/**
 * `fetchMarketCalendar` against the simulator's `/v1/marketstatus/upcoming`, through
 * `@polygon.io/client-js`, installed into a calendar.
 */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { inspect } from 'node:util';

import { createCalendar } from '../../src/bars/calendar.ts';
import { fetchMarketCalendar, MarketStatusError } from '../../src/feed/market-status.ts';
import { createSimClock, startSimulator } from '../../src/sim/index.ts';
import type { Simulator } from '../../src/sim/index.ts';
import { rejection } from '../support/expect.ts';

const KEY = 'sim-market-status-KEY-7f3a';
const utc = (iso: string): number => Date.parse(iso);

const sims: Simulator[] = [];
after(async () => {
  for (const s of sims.splice(0)) await s.close();
});

/** A simulator whose market clock stands at 10:00 New York on Monday 2026-06-01. */
async function sim(): Promise<Simulator> {
  const s = await startSimulator({ apiKey: KEY, clock: createSimClock({ startMarketMs: utc('2026-06-01T14:00:00Z') }) });
  sims.push(s);
  return s;
}

function assertKeyHidden(err: unknown, key: string): void {
  assert.ok(err instanceof MarketStatusError, `not a MarketStatusError: ${String(err)}`);
  for (const text of [err.message, String(err.stack), inspect(err, { depth: 5 })]) {
    assert.ok(!text.includes(key), `key leaked in: ${text}`);
  }
}

describe('fetchMarketCalendar against the simulator', () => {
  it('learns the upcoming NYSE holidays and early closes, which a calendar installs', async () => {
    const s = await sim();
    const overrides = await fetchMarketCalendar({ restUrl: s.restUrl, apiKey: KEY, timeoutMs: 5_000 });

    // Closures and early closes from "today" (2026-06-01) on; past ones are not announced.
    assert.equal(overrides.holidays?.['2026-11-26'], 'Thanksgiving');
    assert.equal(overrides.holidays?.['2026-07-03'], 'Independence Day');
    assert.equal(overrides.holidays?.['2026-12-25'], 'Christmas');
    assert.equal(overrides.holidays?.['2026-05-25'], undefined);
    assert.deepEqual(overrides.earlyCloses, { '2026-11-27': '13:00', '2026-12-24': '13:00', '2027-11-26': '13:00' });

    // Into a calendar that knows nothing of these dates (all of 2026 overridden away first),
    // so the assertions below can only pass through what was fetched.
    const cal = createCalendar({
      earlyCloses: { '2026-11-26': '16:00', '2026-07-03': '16:00', '2026-11-27': '16:00', '2026-12-24': '16:00' },
    });
    assert.equal(cal.lastBarId('2026-11-26'), 391);
    assert.equal(cal.lastBarId('2026-11-27'), 391);
    assert.equal(cal.lastBarId('2026-07-03'), 391);
    cal.install(overrides);

    // Thanksgiving: closed all day.
    const thanksgiving = cal.sessionDay('2026-11-26');
    assert.equal(thanksgiving.isTradingDay, false);
    assert.equal(thanksgiving.holiday, 'Thanksgiving');
    assert.equal(cal.barIdOf(utc('2026-11-26T14:30:00Z')), null);
    assert.equal(cal.marketSessionOf(utc('2026-11-26T15:00:00Z')), 'closed');
    // Independence Day observed on Friday 2026-07-03 (09:30 EDT = 13:30Z).
    assert.equal(cal.lastBarId('2026-07-03'), 0);
    assert.equal(cal.barIdOf(utc('2026-07-03T13:30:00Z')), null);
    // The day after Thanksgiving closes at 13:00 EST (18:00Z): bar 211, post-market to 17:00.
    assert.equal(cal.sessionDay('2026-11-27').earlyClose, true);
    assert.equal(cal.lastBarId('2026-11-27'), 211);
    assert.equal(cal.barIdOf(utc('2026-11-27T18:00:00Z')), 211);
    assert.equal(cal.barIdOf(utc('2026-11-27T18:01:00Z')), null);
    assert.equal(cal.marketSessionOf(utc('2026-11-27T21:59:00Z')), 'post');
    assert.equal(cal.marketSessionOf(utc('2026-11-27T22:00:00Z')), 'closed');
    assert.equal(cal.lastBarId('2026-12-24'), 211);
  });

  it('agrees with the built-in table on every date it announces', async () => {
    const s = await sim();
    const overrides = await fetchMarketCalendar({ restUrl: s.restUrl, apiKey: KEY, timeoutMs: 5_000 });
    const builtin = createCalendar();
    for (const date of Object.keys(overrides.holidays ?? {})) assert.equal(builtin.lastBarId(date), 0, date);
    for (const date of Object.keys(overrides.earlyCloses ?? {})) assert.equal(builtin.lastBarId(date), 211, date);
  });

  it('rejects a wrong key with HTTP 401, naming neither key', async () => {
    const s = await sim();
    const wrong = 'wrong-KEY-c0ffee-1234';
    const err = await rejection(fetchMarketCalendar({ restUrl: s.restUrl, apiKey: wrong, timeoutMs: 5_000 }));
    assertKeyHidden(err, wrong);
    assertKeyHidden(err, KEY);
    assert.equal((err as MarketStatusError).status, 401);
    assert.match((err as MarketStatusError).message, /HTTP 401 \(Unknown API Key\)/);
  });

  it('rejects within the timeout when the REST host accepts connections but never answers', async () => {
    // A TCP listener that never speaks HTTP: an unreachable Polygon as the client sees it.
    const sockets = new Set<Socket>();
    const blackHole: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = blackHole.address() as AddressInfo;
      const timeoutMs = 400;
      const t0 = performance.now();
      const err = await rejection(fetchMarketCalendar({ restUrl: `http://127.0.0.1:${port}`, apiKey: KEY, timeoutMs }));
      const elapsed = performance.now() - t0;
      assertKeyHidden(err, KEY);
      assert.equal((err as MarketStatusError).code, 'timeout');
      assert.ok(elapsed < timeoutMs + 1_500, `rejected after ${elapsed} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => blackHole.close(() => resolve()));
    }
  });

  it('rejects when nothing listens at the REST URL', async () => {
    const s = await sim();
    const url = s.restUrl;
    await s.close();
    const t0 = performance.now();
    const err = await rejection(fetchMarketCalendar({ restUrl: url, apiKey: KEY, timeoutMs: 2_000 }));
    assertKeyHidden(err, KEY);
    assert.ok(performance.now() - t0 < 2_000 + 1_500);
  });
});
