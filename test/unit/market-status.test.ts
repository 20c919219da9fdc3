import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { inspect } from 'node:util';

import { createCalendar } from '../../src/bars/calendar.ts';
import { fetchMarketCalendar, MarketStatusError, overridesFromUpcoming, UPCOMING_PATH } from '../../src/feed/market-status.ts';
import { rejection } from '../support/expect.ts';

const utc = (iso: string): number => Date.parse(iso);

/** Polygon's documented example, plus the other exchanges it lists alongside NYSE. */
const POLYGON_EXAMPLE = [
  { date: '2026-11-26', exchange: 'NYSE', name: 'Thanksgiving', status: 'closed' },
  { date: '2026-11-26', exchange: 'NASDAQ', name: 'Thanksgiving', status: 'closed' },
  { date: '2026-11-26', exchange: 'OTC', name: 'Thanksgiving', status: 'closed' },
  {
    close: '2026-11-27T18:00:00.000Z',
    date: '2026-11-27',
    exchange: 'NYSE',
    name: 'Thanksgiving',
    open: '2026-11-27T14:30:00.000Z',
    status: 'early-close',
  },
  {
    close: '2026-11-27T18:00:00.000Z',
    date: '2026-11-27',
    exchange: 'NASDAQ',
    name: 'Thanksgiving',
    open: '2026-11-27T14:30:00.000Z',
    status: 'early-close',
  },
  { date: '2026-12-25', exchange: 'NYSE', name: 'Christmas', status: 'closed' },
];

describe('overridesFromUpcoming', () => {
  it("maps Polygon's example: NYSE closures to holidays, early closes to New York HH:MM", () => {
    assert.deepEqual(overridesFromUpcoming(POLYGON_EXAMPLE), {
      holidays: { '2026-11-26': 'Thanksgiving', '2026-12-25': 'Christmas' },
      earlyCloses: { '2026-11-27': '13:00' },
    });
  });

  it('takes only NYSE entries', () => {
    const only = overridesFromUpcoming([
      { date: '2026-01-14', exchange: 'NASDAQ', name: 'x', status: 'closed' },
      { date: '2026-01-15', exchange: 'OTC', name: 'x', status: 'closed' },
      { date: '2026-01-16', name: 'x', status: 'closed' },
      { date: '2026-01-20', exchange: 'nyse', name: 'lower-case NYSE', status: 'closed' },
    ]);
    assert.deepEqual(only, { holidays: { '2026-01-20': 'lower-case NYSE' }, earlyCloses: {} });
  });

  it('derives the close in New York time on both sides of DST', () => {
    const o = overridesFromUpcoming([
      // EDT (UTC-4): 17:00Z is 13:00 New York.
      { date: '2025-07-03', exchange: 'NYSE', status: 'early-close', open: '2025-07-03T13:30:00.000Z', close: '2025-07-03T17:00:00.000Z' },
      // EST (UTC-5): 18:00Z is 13:00 New York.
      { date: '2025-12-24', exchange: 'NYSE', status: 'early-close', open: '2025-12-24T14:30:00.000Z', close: '2025-12-24T18:00:00.000Z' },
      // 18:00Z in summer is 14:00 New York, not 13:00: no fixed offset is assumed.
      { date: '2026-07-02', exchange: 'NYSE', status: 'early-close', close: '2026-07-02T18:00:00Z' },
      // Explicit offsets are honoured.
      { date: '2026-12-24', exchange: 'NYSE', status: 'early-close', close: '2026-12-24T13:00:00-05:00' },
      { date: '2026-12-31', exchange: 'NYSE', status: 'early-close', close: '2026-12-31T11:30:00-08:00' },
      // The week after the spring switch (2026-03-08) and after the autumn one (2026-11-01).
      { date: '2026-03-09', exchange: 'NYSE', status: 'early-close', close: '2026-03-09T17:00:00Z' },
      { date: '2026-11-02', exchange: 'NYSE', status: 'early-close', close: '2026-11-02T18:00:00Z' },
    ]);
    assert.deepEqual(o.earlyCloses, {
      '2025-07-03': '13:00',
      '2025-12-24': '13:00',
      '2026-07-02': '14:00',
      '2026-12-24': '13:00',
      '2026-12-31': '14:30',
      '2026-03-09': '13:00',
      '2026-11-02': '13:00',
    });
    assert.deepEqual(o.holidays, {});
  });

  it('ignores malformed entries and keeps the good ones', () => {
    const o = overridesFromUpcoming([
      null,
      42,
      'NYSE',
      [],
      {},
      { date: '2026-11-26', exchange: 'NYSE', name: 'Thanksgiving', status: 'closed' },
      { date: '2026-02-30', exchange: 'NYSE', name: 'no such day', status: 'closed' },
      { date: '2026-1-5', exchange: 'NYSE', name: 'bad format', status: 'closed' },
      { date: 20260105, exchange: 'NYSE', name: 'not a string', status: 'closed' },
      { date: '2026-01-06', exchange: 'NYSE', name: 'open?', status: 'open' },
      { date: '2026-01-07', exchange: 'NYSE', name: 'no status' },
      { date: '2026-01-08', exchange: 42, name: 'bad exchange', status: 'closed' },
      { date: '2026-01-09', exchange: 'NYSE', status: 'early-close' }, // no close
      { date: '2026-01-12', exchange: 'NYSE', status: 'early-close', close: 'soon' },
      { date: '2026-01-13', exchange: 'NYSE', status: 'early-close', close: 1768327200000 },
      { date: '2026-01-14', exchange: 'NYSE', status: 'early-close', close: '2026-01-15T18:00:00Z' }, // another day
      { date: '2026-01-15', exchange: 'NYSE', status: 'early-close', close: '2026-01-15T14:30:00Z' }, // 09:30: no session
      { date: '2026-01-16', exchange: 'NYSE', status: 'early-close', close: '2026-01-16T21:01:00Z' }, // 16:01
      { date: '2026-01-20', exchange: 'NYSE', status: 'early-close', close: '2026-01-20T18:00:30Z' }, // not a whole minute
      { date: '2026-01-21', exchange: 'NYSE', status: 'early-close', close: '2026-01-21T18:00:00.500Z' },
      { date: '2026-01-22', exchange: 'NYSE', status: 'early-close', close: '2026-01-22T14:31:00Z' }, // 09:31: the shortest
      { date: '2026-01-23', exchange: 'NYSE', status: 'early-close', close: '2026-01-23T21:00:00Z' }, // 16:00: a full day
    ]);
    assert.deepEqual(o, {
      holidays: { '2026-11-26': 'Thanksgiving' },
      earlyCloses: { '2026-01-22': '09:31', '2026-01-23': '16:00' },
    });
  });

  it('names an unnamed closure rather than dropping it', () => {
    const o = overridesFromUpcoming([
      { date: '2026-01-14', exchange: 'NYSE', status: 'closed' },
      { date: '2026-01-15', exchange: 'NYSE', name: '  ', status: 'closed' },
    ]);
    assert.deepEqual(o.holidays, { '2026-01-14': 'Market holiday', '2026-01-15': 'Market holiday' });
  });

  it('resolves conflicts: a closure beats an early close, the earliest early close wins', () => {
    const o = overridesFromUpcoming([
      { date: '2026-01-14', exchange: 'NYSE', status: 'early-close', close: '2026-01-14T18:00:00Z' },
      { date: '2026-01-14', exchange: 'NYSE', name: 'Closed after all', status: 'closed' },
      { date: '2026-01-15', exchange: 'NYSE', status: 'early-close', close: '2026-01-15T19:00:00Z' },
      { date: '2026-01-15', exchange: 'NYSE', status: 'early-close', close: '2026-01-15T18:00:00Z' },
      { date: '2026-01-15', exchange: 'NYSE', status: 'early-close', close: '2026-01-15T20:00:00Z' },
      { date: '2026-01-16', exchange: 'NYSE', name: 'First', status: 'closed' },
      { date: '2026-01-16', exchange: 'NYSE', name: 'Second', status: 'closed' },
    ]);
    assert.deepEqual(o, {
      holidays: { '2026-01-14': 'Closed after all', '2026-01-16': 'First' },
      earlyCloses: { '2026-01-15': '13:00' },
    });
  });

  it('gives empty overrides for anything but an array', () => {
    for (const body of [undefined, null, {}, 'x', 3, { results: POLYGON_EXAMPLE }]) {
      assert.deepEqual(overridesFromUpcoming(body), { holidays: {}, earlyCloses: {} });
    }
  });

  it('is pure: the input is left as it was', () => {
    const input = structuredClone(POLYGON_EXAMPLE);
    overridesFromUpcoming(input);
    assert.deepEqual(input, POLYGON_EXAMPLE);
  });

  it('produces overrides calendar.install accepts, and they take effect', () => {
    const cal = createCalendar();
    assert.equal(cal.lastBarId('2028-11-24'), 391);
    assert.equal(cal.lastBarId('2028-11-23'), 391);
    const o = overridesFromUpcoming([
      { date: '2028-11-23', exchange: 'NYSE', name: 'Thanksgiving', status: 'closed' },
      {
        date: '2028-11-24',
        exchange: 'NYSE',
        name: 'Thanksgiving',
        status: 'early-close',
        open: '2028-11-24T14:30:00.000Z',
        close: '2028-11-24T18:00:00.000Z',
      },
      { date: '2028-07-03', exchange: 'NYSE', name: 'Independence Day', status: 'early-close', close: '2028-07-03T17:00:00.000Z' },
      { date: '2028-01-22', exchange: 'NYSE', status: 'early-close', close: '2028-01-22T14:31:00Z' },
    ]);
    cal.install(o);
    assert.equal(cal.lastBarId('2028-11-23'), 0);
    assert.equal(cal.sessionDay('2028-11-23').holiday, 'Thanksgiving');
    assert.equal(cal.lastBarId('2028-11-24'), 211);
    assert.equal(cal.barIdOf(utc('2028-11-24T18:00:00Z')), 211);
    assert.equal(cal.barIdOf(utc('2028-11-24T18:01:00Z')), null);
    assert.equal(cal.lastBarId('2028-07-03'), 211);
    assert.equal(cal.barIdOf(utc('2028-07-03T17:00:00Z')), 211); // 13:00 EDT
    assert.equal(cal.lastBarId('2028-01-22'), 0); // a Saturday stays closed
  });
});

// --- fetchMarketCalendar against a local stand-in for Polygon -------------------------------

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Stub {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

const stubs: Stub[] = [];
after(async () => {
  for (const s of stubs.splice(0)) await s.close();
});

async function stub(handler: Handler): Promise<Stub> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handler(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const s: Stub = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  stubs.push(s);
  return s;
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

/** A key with characters that change under URL encoding. */
const KEY = 'Sek/ret+Key=42 abc';

function assertKeyHidden(err: unknown): void {
  assert.ok(err instanceof MarketStatusError, `not a MarketStatusError: ${String(err)}`);
  const forms = [KEY, encodeURIComponent(KEY), new URLSearchParams({ k: KEY }).toString().slice(2), 'Sek/ret', 'Sek%2Fret'];
  for (const text of [err.message, String(err.stack), inspect(err, { depth: 5 }), JSON.stringify(err)]) {
    for (const form of forms) assert.ok(!text.includes(form), `key (${form}) leaked in: ${text}`);
  }
  assert.equal(err.cause, undefined);
}

describe('fetchMarketCalendar', () => {
  it('GETs /v1/marketstatus/upcoming with the key and returns the NYSE overrides', async () => {
    const s = await stub((_req, res) => json(res, 200, POLYGON_EXAMPLE));
    const o = await fetchMarketCalendar({ restUrl: s.url, apiKey: KEY });
    assert.deepEqual(o, {
      holidays: { '2026-11-26': 'Thanksgiving', '2026-12-25': 'Christmas' },
      earlyCloses: { '2026-11-27': '13:00' },
    });
    assert.equal(s.requests.length, 1);
    const sent = new URL(s.requests[0] ?? '', 'http://x');
    assert.equal(sent.pathname, UPCOMING_PATH);
    assert.equal(sent.searchParams.get('apiKey'), KEY);
  });

  it('accepts a base URL with a trailing slash', async () => {
    const s = await stub((_req, res) => json(res, 200, []));
    assert.deepEqual(await fetchMarketCalendar({ restUrl: `${s.url}/`, apiKey: KEY }), { holidays: {}, earlyCloses: {} });
    assert.equal(new URL(s.requests[0] ?? '', 'http://x').pathname, UPCOMING_PATH);
  });

  it('rejects on 401 without the key, even when the server echoes the request URL', async () => {
    const s = await stub((req, res) => json(res, 401, { status: 'ERROR', error: `Unknown API Key in ${req.url} (${KEY})` }));
    const err = await rejection(fetchMarketCalendar({ restUrl: s.url, apiKey: KEY }));
    assertKeyHidden(err);
    assert.equal((err as MarketStatusError).status, 401);
    assert.equal((err as MarketStatusError).code, 'http');
    assert.match((err as MarketStatusError).message, /HTTP 401/);
    assert.match((err as MarketStatusError).message, /Unknown API Key/);
    assert.match((err as MarketStatusError).message, /apiKey=\*\*\*/);
  });

  it('rejects on a 500 with a non-JSON body', async () => {
    const s = await stub((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('upstream exploded');
    });
    const err = await rejection(fetchMarketCalendar({ restUrl: s.url, apiKey: KEY }));
    assertKeyHidden(err);
    assert.equal((err as MarketStatusError).status, 500);
  });

  it('rejects a 200 whose body is not an array', async () => {
    for (const body of [{ status: 'OK', results: POLYGON_EXAMPLE }, 'nope', null]) {
      const s = await stub((_req, res) => json(res, 200, body));
      const err = await rejection(fetchMarketCalendar({ restUrl: s.url, apiKey: KEY }));
      assertKeyHidden(err);
      assert.equal((err as MarketStatusError).code, 'bad_body');
    }
  });

  it('rejects within the timeout when the server never answers', async () => {
    const s = await stub(() => {
      /* hold the request open */
    });
    const timeoutMs = 300;
    const t0 = performance.now();
    const err = await rejection(fetchMarketCalendar({ restUrl: s.url, apiKey: KEY, timeoutMs }));
    const elapsed = performance.now() - t0;
    assertKeyHidden(err);
    assert.equal((err as MarketStatusError).code, 'timeout');
    assert.ok(elapsed >= timeoutMs - 50 && elapsed < timeoutMs + 1_500, `took ${elapsed} ms`);
    assert.equal(s.requests.length, 1);
  });

  it('rejects within the timeout when the body stalls after the headers', async () => {
    const s = await stub((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[{"exchange":"NYSE",');
    });
    const timeoutMs = 300;
    const t0 = performance.now();
    const err = await rejection(fetchMarketCalendar({ restUrl: s.url, apiKey: KEY, timeoutMs }));
    assertKeyHidden(err);
    assert.equal((err as MarketStatusError).code, 'timeout');
    assert.ok(performance.now() - t0 < timeoutMs + 1_500);
  });

  it('rejects on a refused connection, naming the cause', async () => {
    const s = await stub(() => {});
    const url = s.url;
    await s.close();
    const err = await rejection(fetchMarketCalendar({ restUrl: url, apiKey: KEY, timeoutMs: 5_000 }));
    assertKeyHidden(err);
    assert.equal((err as MarketStatusError).code, 'ECONNREFUSED');
  });

  it('checks its arguments', async () => {
    await assert.rejects(fetchMarketCalendar({ restUrl: 'http://127.0.0.1:1', apiKey: '' }), TypeError);
    await assert.rejects(fetchMarketCalendar({ restUrl: 'not a url', apiKey: KEY }), TypeError);
    await assert.rejects(fetchMarketCalendar({ restUrl: 'ftp://127.0.0.1', apiKey: KEY }), TypeError);
    await assert.rejects(fetchMarketCalendar({ restUrl: 'http://127.0.0.1:1', apiKey: KEY, timeoutMs: 0 }), RangeError);
  });
});
