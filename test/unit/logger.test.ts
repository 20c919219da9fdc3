import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger, redact, REDACTED } from '../../src/ops/logger.ts';

test('redact removes plain, JSON-escaped and URL-encoded forms of a secret', () => {
  const key = 'k3y"with/odd+chars';
  const text = `a ${key} b ${JSON.stringify(key)} c ${encodeURIComponent(key)}`;
  const out = redact(text, [key]);
  assert.ok(!out.includes(key));
  assert.ok(!out.includes(JSON.stringify(key).slice(1, -1)));
  assert.ok(!out.includes(encodeURIComponent(key)));
  assert.equal(out.split(REDACTED).length - 1, 3);
});

test('logger lines are JSON and never carry the secret, wherever it hides', async () => {
  const key = 'SECRET-KEY-0123456789';
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  const log = createLogger({ level: 'info', secrets: [key], destination: stream });
  log.info({ url: `https://api.example/v2?apiKey=${key}` }, `message with ${key}`);
  log.error({ err: new Error(`failed for ${key}`) }, 'boom');
  log.flush();
  await new Promise((resolve) => setImmediate(resolve));
  const lines = chunks.join('').trim().split('\n');
  assert.equal(lines.length, 2);
  for (const line of lines) {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    assert.equal(typeof parsed.level, 'string');
    assert.ok(!line.includes(key), line);
    assert.ok(line.includes(REDACTED));
  }
});
