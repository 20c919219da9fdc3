import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SETTINGS } from '../../src/config/settings.ts';
import { createMetrics } from '../../src/ops/metrics.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`## ${title}`);
  assert.ok(start >= 0, `README has a "${title}" section`);
  const end = readme.indexOf('\n## ', start + 3);
  return readme.slice(start, end < 0 ? undefined : end);
}

test('the README opens with the set-up and the two commands', () => {
  const firstSection = readme.slice(readme.indexOf('\n## ') + 1).split('\n')[0];
  assert.equal(firstSection, '## Set-up and the two commands');
  const setup = section('Set-up and the two commands');
  assert.match(setup, /```sh\nnpm start\n```/);
  assert.match(setup, /```sh\nnpm test\n```/);
  assert.match(readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8'), /^npm test$/m, '.ci/run runs the README test command');
});

test('the configuration table lists exactly the settings the loader reads, with their defaults', () => {
  const rows = [...section('Configuration').matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]+) \|/gm)].map((m) => [m[1]!, m[2]!.trim()] as const);
  assert.deepEqual(
    rows.map(([name]) => name),
    SETTINGS.map((s) => s.name),
  );
  for (const [name, shown] of rows) {
    const spec = SETTINGS.find((s) => s.name === name)!;
    assert.equal(shown, spec.default === null ? '(unset)' : `\`${spec.default}\``, name);
  }
});

test('every metric the README names is one the gateway registers', async () => {
  const text = await createMetrics({ symbols: ['TQQQ'], version: 'test' }).registry.metrics();
  const registered = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
  const named = [...section('HTTP').matchAll(/^\| `(sentio_gateway_[a-z_]+)(?:\{[^}]*\})?` \|/gm)].map((m) => m[1]!);
  assert.ok(named.length >= 15);
  for (const name of named) assert.ok(registered.has(name), `${name} is registered`);
});
