import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRepoFile, readRepoYaml, repoPath, run, tool, type RuleFile } from '../support/deploy.ts';

const DIR = 'deploy/prometheus';
const rules = readRepoYaml<RuleFile>(`${DIR}/alerts.yml`);
const allRules = rules.groups.flatMap((g) => g.rules);
const alerts = allRules.filter((r) => r.alert);

interface RuleTests {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[]; promql_expr_test?: { expr: string }[] }[];
}

async function promtool(...args: string[]) {
  return run(tool('promtool'), args, { cwd: repoPath(DIR) });
}

test('promtool check rules: alerts.yml is valid', async () => {
  const result = await promtool('check', 'rules', 'alerts.yml');
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, new RegExp(`SUCCESS: ${allRules.length} rules found`));
});

test('promtool test rules: every alert fires on its synthetic series and stays quiet where it should; the calendar is right', async () => {
  const result = await promtool('test', 'rules', 'alerts.test.yml', 'calendar.test.yml', 'calendar-dst.test.yml');
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.equal((result.stdout.match(/SUCCESS/g) ?? []).length, 3, result.stdout);
});

test('promtool test rules fails when a rule is wrong (the tests can catch a mistake)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-rules-'));
  try {
    copyFileSync(repoPath(DIR, 'calendar.test.yml'), join(dir, 'calendar.test.yml'));
    // The regular session opening an hour early must be noticed.
    const broken = readRepoFile(`${DIR}/alerts.yml`).replace('>= bool 570', '>= bool 510');
    assert.notEqual(broken, readRepoFile(`${DIR}/alerts.yml`));
    writeFileSync(join(dir, 'alerts.yml'), broken);
    const result = await run(tool('promtool'), ['test', 'rules', 'calendar.test.yml'], { cwd: dir });
    assert.notEqual(result.code, 0);
    assert.match(result.stdout + result.stderr, /sentio:nyse_regular_hours/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('promtool check config: the Compose scrape config is valid and loads the rules', async () => {
  const result = await promtool('check', 'config', 'prometheus.yml');
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /SUCCESS: 1 rule files found/);
});

test('the required alerts exist, each with a severity, a summary and a description', () => {
  const names = alerts.map((a) => a.alert!);
  for (const required of [
    'SentioGatewayDown',
    'SentioFeedNotSubscribed',
    'SentioNoNewBars',
    'SentioKafkaNotWritable',
    'SentioBarBufferGrowing',
    'SentioPublishLatencyHigh',
    'SentioPolygonAuthRejected',
    'SentioNoLeader',
    'SentioTwoLeaders',
  ]) {
    assert.ok(names.includes(required), required);
  }
  assert.equal(new Set(names).size, names.length, 'names are unique');
  for (const a of alerts) {
    assert.match(a.labels?.['severity'] ?? '', /^(critical|warning)$/, `${a.alert} severity`);
    assert.ok(a.annotations?.['summary'] && a.annotations['description'], `${a.alert} annotations`);
  }
  const expr = (name: string) => alerts.find((a) => a.alert === name)!.expr;
  assert.match(expr('SentioPublishLatencyHigh'), /histogram_quantile\(0\.99, .*sentio_gateway_publish_latency_seconds_bucket/s);
  assert.match(expr('SentioPolygonAuthRejected'), /sentio_gateway_reconnects_total\{reason="auth_failed"\}/);
  assert.match(expr('SentioFeedNotSubscribed'), /sentio:nyse_extended_hours/);
  assert.match(expr('SentioNoNewBars'), /sentio:nyse_regular_hours/);
  assert.match(expr('SentioNoLeader'), /sum by \(job, namespace\) \(sentio_gateway_leader\) < 1/);
  assert.match(expr('SentioTwoLeaders'), /sum by \(job, namespace\) \(sentio_gateway_leader\) > 1/);
  assert.match(expr('SentioFeedNotSubscribed'), /unless on \(job, instance\) .*sentio_gateway_leader\) == 0/, 'a standby is not subscribed on purpose');
});

test('alerts.test.yml covers every alert firing, and quiet wherever a quiet case makes sense', () => {
  const suite = readRepoYaml<RuleTests>(`${DIR}/alerts.test.yml`);
  assert.deepEqual(suite.rule_files, ['alerts.yml']);
  const cases = suite.tests.flatMap((t) => t.alert_rule_test ?? []);
  for (const a of alerts) {
    const mine = cases.filter((c) => c.alertname === a.alert);
    assert.ok(
      mine.some((c) => c.exp_alerts.length > 0),
      `${a.alert} is tested firing`,
    );
    // absent() has no quiet case of its own: the first test's up == 1 covers it.
    assert.ok(
      mine.some((c) => c.exp_alerts.length === 0),
      `${a.alert} is tested quiet`,
    );
  }
});

test('recording rules used by the alerts are defined, and the job label matches the scrape config and the Service', () => {
  const records = new Set(allRules.filter((r) => r.record).map((r) => r.record!));
  for (const r of allRules) {
    for (const used of r.expr.match(/\bsentio:[a-z_:]+/g) ?? []) assert.ok(records.has(used), `${used} (in ${r.alert ?? r.record}) is recorded`);
  }
  const config = readRepoYaml<{ scrape_configs: { job_name: string }[] }>(`${DIR}/prometheus.yml`);
  const jobs = new Set(allRules.flatMap((r) => [...r.expr.matchAll(/job="([^"]+)"/g)].map((m) => m[1]!)));
  assert.deepEqual([...jobs], ['sentio-gateway']);
  assert.deepEqual(
    config.scrape_configs.map((c) => c.job_name),
    ['sentio-gateway'],
  );
  assert.match(readRepoFile('deploy/kubernetes/base/service.yaml'), /^ {2}name: sentio-gateway$/m, 'the ServiceMonitor job label is the Service name');
});
