/**
 * Polygon's REST endpoints the gateway uses, answered from the same ledger as the socket:
 *
 * - `GET /v2/aggs/ticker/{T}/range/1/minute/{from}/{to}` (`adjusted`, `sort`, `limit`):
 *   bars whose start lies in [from, to] and whose minute has CLOSED by the simulated clock
 *   (a delayed feed's REST lags as its socket does: a minute closes `feedDelayMarketMs` late);
 *   empty and skipped minutes are absent; corrections already sent are applied; bars held by
 *   `delayBar` are present (REST is built from trades, not from the socket). `from`/`to` are
 *   epoch ms or `YYYY-MM-DD` (a UTC day; `to` covers the whole day). As Polygon does, an
 *   answer without bars has no `results` field, and a truncated one has a `next_url`.
 * - `GET /v1/marketstatus/now`, `GET /v1/marketstatus/upcoming`.
 * - `GET /v1/sim/clock` (the simulator's own, not Polygon's): `{ marketMs, msPerMinute }`, so a
 *   gateway in another process can follow the simulated market clock (MARKET_CLOCK=simulator).
 *
 * The key is read from the `apiKey` query parameter or `Authorization: Bearer`; a missing or
 * wrong key gets 401 with Polygon's error text. The key is never echoed or logged.
 */

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RestAggregate } from '../contracts/polygon-wire.ts';
import { SIM_CLOCK_PATH, type SimClockReading } from '../contracts/sim-clock.ts';
import { MINUTE_MS, minuteStart } from '../contracts/time-format.ts';
import { simRestAggregate } from './bars.ts';
import type { SimClock } from './clock.ts';
import type { BarLedger } from './ledger.ts';
import type { SimLogger } from './log.ts';
import { marketStatusNow, marketStatusUpcoming } from './market-status.ts';

const DAY_MS = 86_400_000;
const DEFAULT_LIMIT = 5_000;
const MAX_LIMIT = 50_000;
/** Upper bound on minutes examined per request, so an absurd range cannot hang the server. */
const MAX_SCAN_MINUTES = 2_000_000;

export interface RestHost {
  readonly clock: SimClock;
  readonly ledger: BarLedger;
  /** How far the feed runs behind the market clock (market ms); REST lags the same. */
  readonly feedDelayMarketMs: number;
  /** Wall ms an aggregates answer waits before it is sent (the `restLatency` fault). */
  latencyWallMs(): number;
  /** An aggregates request is being answered (+1) or its answer went out (-1). */
  inFlight(delta: 1 | -1): void;
  readonly universe: ReadonlySet<string> | undefined;
  readonly log: SimLogger;
  checkKey(candidate: string): boolean;
  /** `http://host:port`, for `next_url`. */
  baseUrl(): string;
}

export type RestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function createRestHandler(host: RestHost): RestHandler {
  return (req, res) => {
    const requestId = randomBytes(16).toString('hex');
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      host.log.debug({ method: req.method, path: url.pathname, status }, 'sim: rest');
    };
    let reply = send;

    if (req.method !== 'GET') {
      reply(405, { status: 'ERROR', request_id: requestId, error: 'method not allowed' });
      return;
    }
    const key = url.searchParams.get('apiKey') ?? bearer(req.headers.authorization);
    if (key === undefined || key === '') {
      reply(401, { status: 'ERROR', request_id: requestId, error: 'API Key was not provided' });
      return;
    }
    if (!host.checkKey(key)) {
      reply(401, { status: 'ERROR', request_id: requestId, error: 'Unknown API Key' });
      return;
    }

    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/v1/marketstatus/now') {
      reply(200, marketStatusNow(host.clock.now()));
      return;
    }
    if (path === SIM_CLOCK_PATH) {
      reply(200, { marketMs: host.clock.now(), msPerMinute: host.clock.msPerMinute } satisfies SimClockReading);
      return;
    }
    if (path === '/v1/marketstatus/upcoming') {
      reply(200, marketStatusUpcoming(host.clock.now()));
      return;
    }
    const m = /^\/v2\/aggs\/ticker\/([^/]+)\/range\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
    if (m) {
      // A slow vendor: the answer is what REST had when asked, sent later.
      const latency = host.latencyWallMs();
      if (latency > 0) {
        host.inFlight(1);
        reply = (status, body) => {
          setTimeout(() => {
            host.inFlight(-1);
            if (!res.destroyed) send(status, body);
          }, latency);
        };
      }
      const [, rawTicker = '', multiplier, timespan, rawFrom = '', rawTo = ''] = m;
      aggregates(host, requestId, reply, url, decodeURIComponent(rawTicker), multiplier, timespan, rawFrom, rawTo);
      return;
    }
    reply(404, { status: 'NOT_FOUND', request_id: requestId, message: 'Route not found' });
  };
}

function aggregates(
  host: RestHost,
  requestId: string,
  reply: (status: number, body: unknown) => void,
  url: URL,
  ticker: string,
  multiplier: string | undefined,
  timespan: string | undefined,
  rawFrom: string,
  rawTo: string,
): void {
  const bad = (error: string): void => reply(400, { status: 'ERROR', request_id: requestId, error });
  if (multiplier !== '1' || timespan !== 'minute') {
    bad('the simulator serves 1-minute aggregates only (range/1/minute)');
    return;
  }
  const from = parseTime(rawFrom, false);
  const to = parseTime(rawTo, true);
  if (from === undefined) return bad('Could not parse the time parameter: from');
  if (to === undefined) return bad('Could not parse the time parameter: to');
  const sort = url.searchParams.get('sort') ?? 'asc';
  if (sort !== 'asc' && sort !== 'desc') return bad("sort must be 'asc' or 'desc'");
  const limitText = url.searchParams.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1) return bad('limit must be a positive integer');
  const cappedLimit = Math.min(limit, MAX_LIMIT);
  const adjusted = url.searchParams.get('adjusted') !== 'false';

  const { ledger, clock } = host;
  // Minute M has closed when M + 1 minute <= now (the feed's now, for a delayed feed).
  const lastClosed = minuteStart(clock.now() - host.feedDelayMarketMs) - MINUTE_MS;
  const first = Math.ceil(from / MINUTE_MS) * MINUTE_MS;
  const last = Math.min(minuteStart(to), lastClosed);
  const known = host.universe === undefined || host.universe.has(ticker);

  const results: RestAggregate[] = [];
  let next: number | undefined;
  if (known && first <= last) {
    const step = sort === 'asc' ? MINUTE_MS : -MINUTE_MS;
    let t = sort === 'asc' ? first : last;
    for (let scanned = 0; scanned < MAX_SCAN_MINUTES && t >= first && t <= last; scanned++, t += step) {
      const bar = ledger.current(ticker, t);
      if (!bar) continue;
      if (results.length === cappedLimit) {
        next = t;
        break;
      }
      results.push(simRestAggregate(bar));
    }
  }

  const body: Record<string, unknown> = {
    ticker,
    queryCount: results.length,
    resultsCount: results.length,
    adjusted,
  };
  if (results.length > 0) body['results'] = results;
  body['status'] = 'OK';
  body['request_id'] = requestId;
  body['count'] = results.length;
  if (next !== undefined) {
    const nextFrom = sort === 'asc' ? next : first;
    const nextTo = sort === 'asc' ? to : next;
    const query = new URLSearchParams({ adjusted: String(adjusted), sort, limit: String(limit) });
    body['next_url'] = `${host.baseUrl()}/v2/aggs/ticker/${encodeURIComponent(ticker)}/range/1/minute/${nextFrom}/${nextTo}?${query.toString()}`;
  }
  reply(200, body);
}

/** Epoch ms, or `YYYY-MM-DD` as a UTC day (its start for `from`, its last ms for `to`). */
function parseTime(text: string, endOfDay: boolean): number | undefined {
  if (/^\d{1,16}$/.test(text)) return Number(text);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const start = Date.parse(`${text}T00:00:00Z`);
    if (Number.isNaN(start)) return undefined;
    return endOfDay ? start + DAY_MS - 1 : start;
  }
  return undefined;
}

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m?.[1];
}
