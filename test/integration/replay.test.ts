import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PortfolioMinute, PositionState, TradeExecuted } from '../../src/contracts/engine-events.ts';
import type { Heartbeat } from '../../src/contracts/heartbeat.ts';
import type { PriceEvent } from '../../src/contracts/price-event.ts';
import { topicNames, type TopicNames } from '../../src/contracts/topics.ts';
import { formatTsET } from '../../src/contracts/time-format.ts';
import { simMinuteBar } from '../../src/sim/index.ts';
import { kafkaClient, readTopic, useKafka, waitForRecords, type TopicRecord } from '../support/kafka.ts';
import { uniquePrefix } from '../support/gateway.ts';
import { spawnGateway } from '../support/child-gateway.ts';

const kafka = useKafka();
const SAMPLE_RESULTS = fileURLToPath(new URL('../../config/replay/results.json', import.meta.url));
const SAMPLE_TRADES = fileURLToPath(new URL('../../config/replay/trades.jsonl', import.meta.url));

/** The input as the test reads it itself, straight from the engine's files. */
interface RawBar {
  timestamp_ms: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}
interface RawTrade {
  symbol: string;
  action: 'ENTRY' | 'EXIT';
  timestamp_ms: number;
  price: number;
  shares: number;
  pnl: number;
  pnl_pct: number;
}
const sample = JSON.parse(readFileSync(SAMPLE_RESULTS, 'utf8')) as { config: { initial_capital: number }; price_data: Record<string, RawBar[]> };
const sampleTrades = readFileSync(SAMPLE_TRADES, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as RawTrade);

interface Topics {
  prices: TopicRecord[];
  trades: TopicRecord[];
  positions: TopicRecord[];
  portfolio: TopicRecord[];
  heartbeat: TopicRecord[];
}

async function readAll(names: TopicNames): Promise<Topics> {
  const read = (topic: string) => readTopic(kafka.bootstrapServers, topic);
  const [prices, trades, positions, portfolio, heartbeat] = await Promise.all([
    read(names.prices),
    read(names.trades),
    read(names.positions),
    read(names.portfolio),
    read(names.heartbeat),
  ]);
  return { prices, trades, positions, portfolio, heartbeat };
}

async function replay(env: Record<string, string>): Promise<{ code: number | null; stderr: string[]; names: TopicNames }> {
  const prefix = env['TOPIC_PREFIX'] ?? uniquePrefix('replay');
  const gw = spawnGateway(['replay'], { KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers, TOPIC_PREFIX: prefix, ...env });
  const { code } = await gw.exited;
  return { code, stderr: gw.stderr, names: topicNames(prefix) };
}

const values = <T>(records: TopicRecord[]): T[] => records.map((r) => JSON.parse(r.value) as T);
const RUN_ID = 'replay-test-run';
let first: Topics | undefined;

test('the sample day into a real broker: every bar, every trade, positions that close, the portfolio adding up, heartbeats ending stopped', async (t) => {
  const { code, stderr, names } = await replay({ RUN_ID, REPLAY_SPEED_MS: '10' });
  assert.equal(code, 0, stderr.join('\n'));
  const topics = (first = await readAll(names));

  // Prices: one record per input bar, with the input's values.
  const inputBars = Object.entries(sample.price_data).flatMap(([symbol, bars]) => bars.map((b) => ({ symbol, ...b })));
  const prices = values<PriceEvent>(topics.prices);
  assert.equal(prices.length, inputBars.length);
  const bySymbolMinute = new Map(prices.map((p) => [`${p.symbol}@${p.startMs}`, p]));
  for (const bar of inputBars) {
    const p = bySymbolMinute.get(`${bar.symbol}@${bar.timestamp_ms}`);
    assert.ok(p !== undefined, `${bar.symbol} ${formatTsET(bar.timestamp_ms)}`);
    assert.deepEqual(
      [p.open, p.high, p.low, p.close, p.volume, p.vwap, p.tsET, p.endMs - p.startMs, p.source, p.revision],
      [bar.open, bar.high, bar.low, bar.close, bar.volume, null, formatTsET(bar.timestamp_ms), 60_000, 'replay', 0],
    );
  }
  for (const r of topics.prices) assert.equal(r.headers['source'], 'replay');

  // Trades: one record per trade event, at its minute, BUY for an entry, pnlPct a fraction.
  const trades = values<TradeExecuted>(topics.trades);
  assert.equal(trades.length, sampleTrades.length);
  assert.equal(new Set(trades.map((t) => t.tradeId)).size, trades.length, 'one id per trade event');
  const sortedInput = [...sampleTrades].sort((a, b) => a.timestamp_ms - b.timestamp_ms);
  trades.forEach((t, i) => {
    const e = sortedInput[i]!;
    assert.deepEqual(
      [t.symbol, t.action, t.timestampMs, t.tsET, t.price, t.shares],
      [e.symbol, e.action === 'ENTRY' ? 'BUY' : 'SELL', e.timestamp_ms, formatTsET(e.timestamp_ms), e.price, e.shares],
    );
    assert.ok(Math.abs(t.pnlPct - e.pnl_pct / 100) < 1e-12 && Math.abs(t.value - e.shares * e.price) < 1e-9);
  });

  // Positions: the last record per symbol is the truth; every position closed says so.
  const lastPosition = new Map(values<PositionState>(topics.positions).map((p) => [p.symbol, p]));
  const held = new Map<string, number>();
  for (const e of sortedInput) held.set(e.symbol, (held.get(e.symbol) ?? 0) + (e.action === 'ENTRY' ? e.shares : -e.shares));
  for (const [symbol, shares] of held) {
    const last = lastPosition.get(symbol)!;
    assert.deepEqual([last.hasPosition, last.shares], shares === 0 ? [false, 0] : [true, shares], symbol);
  }
  assert.ok([...held.values()].some((s) => s === 0) && [...held.values()].some((s) => s > 0), 'the sample closes positions and keeps one open');

  // Portfolio: final equity = initial capital + realised pnl + the open positions' unrealised pnl.
  const realised = sortedInput.filter((e) => e.action === 'EXIT').reduce((n, e) => n + e.pnl, 0);
  let unrealised = 0;
  for (const [symbol, shares] of held) {
    if (shares === 0) continue;
    const entries = sortedInput.filter((e) => e.symbol === symbol && e.action === 'ENTRY').slice(-1);
    const lastClose = sample.price_data[symbol]!.at(-1)!.close;
    unrealised += (lastClose - entries[0]!.price) * shares;
  }
  const portfolio = values<PortfolioMinute>(topics.portfolio);
  const final = portfolio.at(-1)!;
  assert.ok(
    Math.abs(final.equity - (sample.config.initial_capital + realised + unrealised)) < 0.01 * sortedInput.length,
    `equity ${final.equity} vs ${sample.config.initial_capital + realised + unrealised}`,
  );
  assert.equal(final.tradesToday, sortedInput.length);
  assert.equal(final.positions, [...held.values()].filter((s) => s > 0).length);
  assert.equal(new Set(topics.portfolio.map((r) => r.key)).size, 1, 'one portfolio key');

  // Heartbeats: one per minute, then `stopped`; each minute's stages went out in order.
  const beats = values<Heartbeat>(topics.heartbeat);
  assert.equal(beats.at(-1)!.status, 'stopped');
  assert.equal(beats.filter((b) => b.status === 'ok').length, portfolio.length);
  const minuteDone = new Map(topics.portfolio.map((r) => [(JSON.parse(r.value) as PortfolioMinute).tsET, r.timestamp]));
  for (const r of topics.prices) assert.ok(r.timestamp <= minuteDone.get(r.headers['timestampET']!)!, "a minute's prices before its portfolio");
  for (const [topic, records] of Object.entries(topics)) for (const r of records as TopicRecord[]) assert.equal(r.headers['runId'], RUN_ID, topic);
  t.diagnostic(
    `replayed ${prices.length} bars, ${trades.length} trade events, ${topics.positions.length} position records, ${portfolio.length} minutes; final equity ${final.equity.toFixed(2)}`,
  );
});

test('the same input replayed twice with the same RUN_ID gives byte-identical record values', async () => {
  assert.ok(first !== undefined, 'runs after the first replay');
  const { code, stderr, names } = await replay({ RUN_ID, REPLAY_SPEED_MS: '10' });
  assert.equal(code, 0, stderr.join('\n'));
  const second = await readAll(names);
  for (const topic of ['prices', 'trades', 'positions', 'portfolio', 'heartbeat'] as const) {
    assert.deepEqual(
      second[topic].map((r) => r.value),
      first[topic].map((r) => r.value),
      topic,
    );
  }
});

test('bad input stops before anything is published, with one line naming the file and the place', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-replay-'));
  const good = readFileSync(SAMPLE_RESULTS, 'utf8');
  const goodLine = JSON.stringify({ symbol: 'TQQQ', action: 'ENTRY', timestamp_ms: sample.price_data['TQQQ']![0]!.timestamp_ms, price: 61, shares: 10 });
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const doc = JSON.parse(good) as Record<string, unknown> & { price_data: Record<string, Record<string, unknown>[]> };
  const missing = structuredClone(doc);
  delete missing.price_data['SOXL']![7]!['close'];
  const cases: { env: Record<string, string>; line: RegExp }[] = [
    { env: { RESULTS_PATH: write('broken.json', good.slice(0, 5000)) }, line: /^sentio-gateway: RESULTS_PATH \S+broken\.json: not JSON \(.+\)$/ },
    {
      env: { RESULTS_PATH: write('flat.json', JSON.stringify({ ...doc, price_data: [1, 2, 3] })) },
      line: /^sentio-gateway: RESULTS_PATH \S+flat\.json price_data: must be an object of bar arrays, one per symbol$/,
    },
    {
      env: { RESULTS_PATH: write('missing.json', JSON.stringify(missing)) },
      line: /^sentio-gateway: RESULTS_PATH \S+missing\.json price_data\.SOXL\[7\]: close is missing$/,
    },
    {
      env: { RESULTS_PATH: SAMPLE_RESULTS, TRADES_PATH: write('bad.jsonl', `${goodLine}\n${goodLine}\n{"symbol": "TQQQ", "act`) },
      line: /^sentio-gateway: TRADES_PATH \S+bad\.jsonl line 3: not JSON \(.+\)$/,
    },
    {
      env: { RESULTS_PATH: SAMPLE_RESULTS, TRADES_PATH: write('hold.jsonl', `${goodLine}\n${goodLine.replace('ENTRY', 'HOLD')}`) },
      line: /^sentio-gateway: TRADES_PATH \S+hold\.jsonl line 2: unknown action "HOLD" \(ENTRY or EXIT\)$/,
    },
  ];
  const admin = kafkaClient(kafka.bootstrapServers).admin();
  await admin.connect();
  try {
    for (const { env, line } of cases) {
      const prefix = uniquePrefix('badreplay');
      const { code, stderr } = await replay({ ...env, TOPIC_PREFIX: prefix });
      assert.equal(code, 2, stderr.join('\n'));
      assert.equal(stderr.length, 1, stderr.join('\n'));
      assert.match(stderr[0]!, line);
      assert.deepEqual(
        (await admin.listTopics()).filter((t) => t.startsWith(prefix)),
        [],
        'nothing in any topic: not even a topic was created',
      );
    }
  } finally {
    await admin.disconnect();
  }
});

test("REPLAY_DATE without a key replays the simulator's day: 12 x 391 regular-session bars, prices and heartbeats only", async () => {
  const date = '2026-03-10';
  const { code, stderr, names } = await replay({ REPLAY_DATE: date, REPLAY_SPEED_MS: '10' });
  assert.equal(code, 0, stderr.join('\n'));
  const topics = await readAll(names);
  const prices = values<PriceEvent>(topics.prices);
  assert.equal(prices.length, 12 * 391);
  assert.deepEqual([...new Set(prices.map((p) => p.barId))].length, 391);
  for (const p of prices.slice(0, 50)) {
    const bar = simMinuteBar(p.symbol, p.startMs)!;
    assert.deepEqual([p.open, p.close, p.volume, p.source], [bar.o, bar.c, bar.v, 'replay']);
  }
  assert.deepEqual([topics.trades.length, topics.positions.length, topics.portfolio.length], [0, 0, 0]);
  assert.equal(values<Heartbeat>(topics.heartbeat).at(-1)!.status, 'stopped');
});

test("the old sidecar's environment runs the replay with no other setting; SIGTERM mid-day flushes and exits 0 after a stopped heartbeat", async () => {
  const prefix = uniquePrefix('sidecar');
  // As the sidecar's docker-compose.sidecar.yml set it (the prefix made unique for this shared broker).
  const gw = spawnGateway(['replay'], {
    KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
    TOPIC_PREFIX: prefix,
    RESULTS_PATH: SAMPLE_RESULTS,
    TRADES_PATH: SAMPLE_TRADES,
    REPLAY_SPEED_MS: '60',
    STRATEGY: 'SIGOR',
    ENV: 'MOCK',
  });
  const names = topicNames(prefix);
  await waitForRecords(kafka.bootstrapServers, names.portfolio, (records) => records.length >= 30, 60_000);
  gw.child.kill('SIGTERM');
  const { code } = await gw.exited;
  assert.equal(code, 0, gw.stderr.join('\n'));
  const topics = await readAll(names);
  const portfolio = values<PortfolioMinute>(topics.portfolio);
  assert.ok(portfolio.length >= 30 && portfolio.length < 391, `stopped mid-day (${portfolio.length} minutes)`);
  const beats = values<Heartbeat>(topics.heartbeat);
  assert.equal(beats.at(-1)!.status, 'stopped');
  assert.equal(beats.at(-1)!.tsET, portfolio.at(-1)!.tsET, 'the stopped heartbeat closes the last minute published');
  assert.equal(beats.filter((b) => b.status === 'ok').length, portfolio.length, 'every minute begun was finished');
  for (const r of topics.prices) assert.deepEqual([r.headers['strategy'], r.headers['env']], ['SIGOR', 'MOCK']);
});
