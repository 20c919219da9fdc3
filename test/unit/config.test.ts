import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { DEFAULT_SYMBOLS } from '../../src/contracts/polygon-wire.ts';

test('defaults: simulator mode, the 12 symbols, embedded broker', () => {
  const { config, secrets } = loadConfig({});
  assert.equal(config.simulated, true);
  assert.equal(config.env, 'MOCK');
  assert.equal(secrets.polygonApiKey, null);
  assert.deepEqual(config.symbols, [...DEFAULT_SYMBOLS]);
  assert.equal(config.kafkaBootstrapServers, null);
  assert.equal(config.topicPrefix, 'sentio.');
  assert.equal(config.heartbeatIntervalMs, 15000);
  assert.equal(config.fillEmptyMinutes, 'regular');
  assert.equal(config.httpPort, 8080);
  assert.match(config.runId, /^[0-9a-f-]{36}$/);
});

test('a key makes it LIVE; the key is kept apart from the config', () => {
  const { config, secrets } = loadConfig({ POLYGON_API_KEY: 'abcdefgh1234', KAFKA_BOOTSTRAP_SERVERS: 'k1:9092, k2:9093', SYMBOLS: 'tqqq, sqqq,TQQQ' });
  assert.equal(config.env, 'LIVE');
  assert.equal(config.simulated, false);
  assert.equal(secrets.polygonApiKey, 'abcdefgh1234');
  assert.ok(!JSON.stringify(config).includes('abcdefgh1234'));
  assert.deepEqual(config.kafkaBootstrapServers, ['k1:9092', 'k2:9093']);
  assert.deepEqual(config.symbols, ['TQQQ', 'SQQQ']);
});

test('the key can come from a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-config-'));
  const file = join(dir, 'key');
  writeFileSync(file, 'from-file-key-123\n');
  const { secrets, config } = loadConfig({ POLYGON_API_KEY_FILE: file });
  assert.equal(secrets.polygonApiKey, 'from-file-key-123');
  assert.equal(config.env, 'LIVE');
  assert.throws(() => loadConfig({ POLYGON_API_KEY_FILE: join(dir, 'missing') }), /POLYGON_API_KEY_FILE: cannot read/);
});

test('every bad setting is reported, one line each, naming the setting and never the key', () => {
  const key = 'bad key with spaces';
  try {
    loadConfig({
      POLYGON_API_KEY: key,
      HTTP_PORT: 'eighty',
      FILL_EMPTY_MINUTES: 'sometimes',
      POLYGON_WS_URL: 'http://x/stocks',
      SYMBOLS: 'TQQQ,bad sym',
      SIM_START: 'yesterday',
      KAFKA_BOOTSTRAP_SERVERS: 'nohost',
    });
    assert.fail('should throw');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    const names = error.problems.map((p) => p.split(':')[0]);
    assert.deepEqual(
      names.sort(),
      ['FILL_EMPTY_MINUTES', 'HTTP_PORT', 'KAFKA_BOOTSTRAP_SERVERS', 'POLYGON_API_KEY', 'POLYGON_WS_URL', 'SIM_START', 'SYMBOLS'].sort(),
    );
    for (const line of error.problems) assert.ok(!line.includes('\n'));
    assert.ok(!error.message.includes(key));
  }
});

test('ws:// is accepted for the simulator', () => {
  const { config } = loadConfig({ POLYGON_WS_URL: 'ws://127.0.0.1:1234/stocks' });
  assert.equal(config.polygonWsUrl, 'ws://127.0.0.1:1234/stocks');
});

test("the bar buffer must hold one symbol's backfill", () => {
  assert.throws(
    () => loadConfig({ MAX_BACKFILL_MINUTES: '45', MAX_BUFFERED_BARS: '59' }),
    /MAX_BUFFERED_BARS: must hold one symbol's backfill: MAX_BACKFILL_MINUTES \+ 15 = 60, got 59/,
  );
  assert.equal(loadConfig({ MAX_BACKFILL_MINUTES: '45', MAX_BUFFERED_BARS: '60' }).config.maxBufferedBars, 60);
});

test('bad Kafka security settings are reported with the rest, one line each, never showing the SASL password', () => {
  const password = 'sasl-password-7731';
  try {
    loadConfig({
      KAFKA_BOOTSTRAP_SERVERS: 'k1:9093',
      HTTP_PORT: 'eighty',
      KAFKA_SSL: 'on',
      KAFKA_SASL_MECHANISM: 'kerberos',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: password,
    });
    assert.fail('should throw');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems.map((p) => p.split(':')[0]).sort(), ['HTTP_PORT', 'KAFKA_SASL_MECHANISM', 'KAFKA_SSL']);
    assert.ok(!error.message.includes(password));
  }
});

test("the feed delay: 15 minutes for a delayed. host, the simulator's own without a key, else 0; a set value wins", () => {
  const live = { POLYGON_API_KEY: 'abcdefgh1234' };
  assert.equal(loadConfig(live).config.polygonFeedDelayMs, 0);
  assert.equal(loadConfig({ ...live, POLYGON_WS_URL: 'wss://delayed.polygon.io/stocks' }).config.polygonFeedDelayMs, 900_000);
  assert.equal(loadConfig({ ...live, POLYGON_WS_URL: 'wss://delayed.massive.com/stocks' }).config.polygonFeedDelayMs, 900_000);
  assert.equal(loadConfig({ ...live, POLYGON_WS_URL: 'wss://socket.polygon.io/delayed' }).config.polygonFeedDelayMs, 0, 'the host decides, not the path');
  assert.equal(loadConfig({ ...live, POLYGON_WS_URL: 'wss://delayed.polygon.io/stocks', POLYGON_FEED_DELAY_MS: '0' }).config.polygonFeedDelayMs, 0);
  assert.equal(loadConfig({ SIM_FEED_DELAY_MS: '900000' }).config.polygonFeedDelayMs, 900_000);
  assert.equal(loadConfig({ SIM_FEED_DELAY_MS: '900000' }).config.simFeedDelayMs, 900_000);
  assert.equal(loadConfig({}).config.polygonFeedDelayMs, 0);
  for (const bad of ['soon', '-1', '1.5', '86400001']) {
    assert.throws(
      () => loadConfig({ POLYGON_FEED_DELAY_MS: bad }),
      (error: unknown) => error instanceof ConfigError && error.problems.length === 1 && error.problems[0]!.startsWith('POLYGON_FEED_DELAY_MS: '),
      bad,
    );
  }
  assert.throws(() => loadConfig({ SIM_FEED_DELAY_MS: 'late' }), /SIM_FEED_DELAY_MS: must be a whole number/);
});
