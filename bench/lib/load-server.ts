/**
 * A Polygon-protocol load server for the benchmark: the stocks WebSocket (`/stocks`) and the
 * few REST paths the gateway calls at start-up, on one loopback port. Unlike `src/sim/` it
 * decides nothing by itself: the scenario hands it ready-made frames and it writes them at
 * once, noting when each left (so latency can be measured from the feed's send).
 *
 * Protocol spoken (as Polygon does): `connected` on open; `auth` -> `auth_success` or
 * `auth_failed` + close; `subscribe` / `unsubscribe` acknowledged with one `success` status
 * per channel. Pings are answered by `ws` itself.
 *
 * REST (key from `apiKey=` or `Authorization: Bearer`, else 401):
 * - `GET /v1/marketstatus/upcoming` -> `[]`
 * - `GET /v1/marketstatus/now` -> a minimal "open" status
 * - `GET /v1/sim/clock` -> `{ marketMs, msPerMinute }` (MARKET_CLOCK=simulator follows it)
 * - `GET /v2/aggs/ticker/{T}/range/1/minute/{from}/{to}` -> no bars (no `results` field)
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, WebSocket } from 'ws';
import { createSimClock, type SimClock } from '../../src/sim/clock.ts';

export interface LoadServerOptions {
  apiKey: string;
  /** Market instant the clock starts at. */
  startMarketMs: number;
  /** Wall ms per market minute. */
  msPerMinute: number;
}

export interface LoadServer {
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly clock: SimClock;
  /** Channels the current client subscribed to. */
  readonly channels: ReadonlySet<string>;
  /** REST requests answered, by path kind. */
  readonly restRequests: Record<string, number>;
  /** Resolves once a client is authenticated and subscribed to at least `minChannels` channels. */
  subscribed(minChannels: number, timeoutMs?: number): Promise<void>;
  /** Writes one text frame to the subscribed client; returns performance.now() at hand-off. */
  send(frame: string): number;
  /** Bytes queued in user space on the client socket (ws's bufferedAmount), 0 without a client. */
  bufferedAmount(): number;
  /** Bytes handed to send() so far. */
  readonly bytesSent: number;
  /** Connections accepted so far (1 unless the gateway reconnected). */
  readonly connections: number;
  close(): Promise<void>;
}

const status = (s: string, message: string): string => JSON.stringify([{ ev: 'status', status: s, message }]);

export async function startLoadServer(options: LoadServerOptions): Promise<LoadServer> {
  const clock = createSimClock({ startMarketMs: options.startMarketMs, msPerMinute: options.msPerMinute });
  const channels = new Set<string>();
  const restRequests: Record<string, number> = {};
  let client: WebSocket | null = null;
  let bytesSent = 0;
  let connections = 0;
  const waiters: { min: number; resolve: () => void }[] = [];
  const wake = (): void => {
    for (const w of [...waiters]) {
      if (client !== null && channels.size >= w.min) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://bench.invalid');
    const reply = (code: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const auth = req.headers.authorization;
    const key = url.searchParams.get('apiKey') ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined);
    if (key !== options.apiKey) {
      reply(401, { status: 'ERROR', error: 'Unknown API Key' });
      return;
    }
    const path = url.pathname.replace(/\/+$/, '');
    const count = (kind: string): void => {
      restRequests[kind] = (restRequests[kind] ?? 0) + 1;
    };
    if (path === '/v1/marketstatus/upcoming') {
      count('upcoming');
      reply(200, []);
    } else if (path === '/v1/marketstatus/now') {
      count('now');
      reply(200, { market: 'open', serverTime: new Date(clock.now()).toISOString() });
    } else if (path === '/v1/sim/clock') {
      count('clock');
      reply(200, { marketMs: clock.now(), msPerMinute: clock.msPerMinute });
    } else if (/^\/v2\/aggs\/ticker\/[^/]+\/range\/1\/minute\/[^/]+\/[^/]+$/.test(path)) {
      count('aggs');
      reply(200, {
        ticker: decodeURIComponent(path.split('/')[4] ?? ''),
        queryCount: 0,
        resultsCount: 0,
        adjusted: false,
        status: 'OK',
        request_id: 'bench',
        count: 0,
      });
    } else {
      count('other');
      reply(404, { status: 'NOT_FOUND', message: 'Route not found' });
    }
  });

  const wss = new WebSocketServer({ server: http, path: '/stocks', perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  wss.on('connection', (socket) => {
    connections += 1;
    let authed = false;
    socket.send(status('connected', 'Connected Successfully'));
    socket.on('message', (data: Buffer) => {
      let action: { action?: unknown; params?: unknown };
      try {
        action = JSON.parse(data.toString('utf8')) as { action?: unknown; params?: unknown };
      } catch {
        return;
      }
      const params = typeof action.params === 'string' ? action.params : '';
      if (action.action === 'auth') {
        if (params === options.apiKey) {
          authed = true;
          socket.send(status('auth_success', 'authenticated'));
        } else {
          socket.send(status('auth_failed', 'authentication failed'));
          socket.close(1008, 'auth failed');
        }
        return;
      }
      if (!authed) return;
      const list = params
        .split(',')
        .map((c) => c.trim())
        .filter((c) => c !== '');
      if (action.action === 'subscribe') {
        // The newest client is the one the benchmark talks to.
        if (client !== socket) {
          client?.terminate();
          client = socket;
          channels.clear();
        }
        for (const c of list) channels.add(c);
        socket.send(JSON.stringify(list.map((c) => ({ ev: 'status', status: 'success', message: `subscribed to: ${c}` }))));
        wake();
      } else if (action.action === 'unsubscribe') {
        for (const c of list) channels.delete(c);
        socket.send(JSON.stringify(list.map((c) => ({ ev: 'status', status: 'success', message: `unsubscribed to: ${c}` }))));
      }
    });
    socket.on('close', () => {
      if (client === socket) {
        client = null;
        channels.clear();
      }
    });
    socket.on('error', () => undefined);
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;

  return {
    wsUrl: `ws://127.0.0.1:${port}/stocks`,
    restUrl: `http://127.0.0.1:${port}`,
    clock,
    channels,
    restRequests,
    get bytesSent() {
      return bytesSent;
    },
    get connections() {
      return connections;
    },
    subscribed(minChannels, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`load server: no client subscribed to ${minChannels} channels within ${timeoutMs} ms (have ${channels.size})`)),
          timeoutMs,
        );
        waiters.push({
          min: minChannels,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        wake();
      });
    },
    send(frame) {
      if (client === null || client.readyState !== WebSocket.OPEN) throw new Error('load server: no subscribed client to send to');
      const at = performance.now();
      client.send(frame);
      bytesSent += frame.length;
      return at;
    },
    bufferedAmount() {
      return client?.bufferedAmount ?? 0;
    },
    async close() {
      for (const socket of wss.clients) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** `count` distinct synthetic tickers of 4 letters (BAAA, BAAB, ...), all valid for the gateway. */
export function syntheticSymbols(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let n = i;
    let text = '';
    for (let d = 0; d < 3; d++) {
      text = String.fromCharCode(65 + (n % 26)) + text;
      n = Math.floor(n / 26);
    }
    out.push(String.fromCharCode(66 + n) + text);
  }
  return out;
}

const round = (x: number, places: number): number => Math.round(x * 10 ** places) / 10 ** places;

/**
 * One `AM` (or `A`) event as Polygon sends it, as JSON text: plausible prices and volumes
 * derived from (symbol, start), so a repeat of a minute is identical and every minute differs.
 */
export function aggregateJson(ev: 'AM' | 'A', sym: string, startMs: number, symHash: number): string {
  const spanMs = ev === 'AM' ? 60_000 : 1_000;
  const k = (startMs / spanMs) % 9973;
  const base = 5 + (symHash % 50_000) / 100;
  const wiggle = ((symHash ^ (k * 2654435761)) >>> 0) / 4294967296;
  const o = round(base * (1 + (wiggle - 0.5) / 50), 4);
  const c = round(o * (1 + (wiggle - 0.45) / 200), 4);
  const h = round(Math.max(o, c) * 1.0012, 4);
  const l = round(Math.min(o, c) * 0.9988, 4);
  const v = 100 + Math.floor(wiggle * 25_000);
  const vw = round((o + c + h + l) / 4, 4);
  return `{"ev":"${ev}","sym":"${sym}","v":${v},"av":${v * 37 + 1234567},"op":${round(base, 4)},"vw":${vw},"o":${o},"c":${c},"h":${h},"l":${l},"a":${round(base * 1.001, 4)},"z":${40 + (v % 200)},"s":${startMs},"e":${startMs + spanMs}}`;
}
