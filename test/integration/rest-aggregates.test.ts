import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMinuteAggregatesClient, RestError } from '../../src/feed/rest-aggregates.ts';

const KEY = 'rest-key-0123456789';

/** A scripted REST server on loopback: answers each request with the next scripted reply. */
async function scripted(replies: ((req: IncomingMessage, res: ServerResponse) => void)[]) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const reply = replies.shift() ?? ((_q, r) => r.writeHead(500).end());
    reply(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

test('rate limits are waited out (Retry-After) and server errors retried; the bars come back ascending and in range', async (t) => {
  const from = Date.parse('2026-03-10T14:00:00Z');
  const bar = (i: number) => ({ t: from + i * 60_000, o: 1, h: 2, l: 0.5, c: 1.5, v: 10, vw: 1.2, n: 3 });
  const server = await scripted([
    json(429, { status: 'ERROR', error: 'rate limited' }, { 'retry-after': '1' }),
    json(502, { status: 'ERROR' }),
    json(200, { status: 'OK', results: [bar(0), bar(1), bar(2), bar(99), { t: 'x' }] }),
  ]);
  t.after(() => server.close());
  const retries: number[] = [];
  const client = createMinuteAggregatesClient({
    restUrl: server.url,
    apiKey: KEY,
    minRetryMs: 10,
    maxRetryMs: 20,
    onRetry: (e) => retries.push(e.status ?? 0),
  });
  const started = performance.now();
  const bars = await client.fetch('TQQQ', from, from + 2 * 60_000);
  assert.deepEqual(
    bars.map((b) => b.t),
    [from, from + 60_000, from + 120_000],
    'out-of-range and malformed results are left out',
  );
  assert.deepEqual(retries, [429, 502]);
  assert.ok(performance.now() - started >= 1000, 'waited for Retry-After');
  assert.equal(server.seen.length, 3);
  assert.match(server.seen[0]!, /^\/v2\/aggs\/ticker\/TQQQ\/range\/1\/minute\/\d+\/\d+\?/);
  assert.match(server.seen[0]!, /adjusted=false/);
});

test('an empty range comes back without results; a 401 is final and its error never carries the key', async (t) => {
  const server = await scripted([json(200, { status: 'OK', resultsCount: 0 }), json(401, { status: 'ERROR', error: 'Unknown API Key' })]);
  t.after(() => server.close());
  const client = createMinuteAggregatesClient({ restUrl: server.url, apiKey: KEY, minRetryMs: 10, maxRetryMs: 20 });
  assert.deepEqual(await client.fetch('TQQQ', 0, 60_000), []);
  const error = await client.fetch('TQQQ', 0, 60_000).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof RestError);
  assert.equal(error.status, 401);
  assert.match(error.message, /aggregates for TQQQ failed: HTTP 401/);
  assert.ok(!JSON.stringify({ ...error, text: error.message, stack: error.stack }).includes(KEY));
  assert.equal(server.seen.length, 2, 'no retry after 401');
});
