import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { allPanels, readRepoFile, readRepoYaml, repoPath, type Dashboard } from '../support/deploy.ts';

const DASHBOARDS = 'deploy/grafana/dashboards';
const files = readdirSync(repoPath(DASHBOARDS)).filter((f) => f.endsWith('.json'));
const dashboard = JSON.parse(readRepoFile(`${DASHBOARDS}/sentio-gateway.json`)) as Dashboard & { schemaVersion: number };
const panels = allPanels(dashboard).filter((p) => p.type !== 'row');
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

test('provisioning: a Prometheus datasource and a file provider for the dashboards folder', () => {
  const datasources = readRepoYaml<{
    apiVersion: number;
    datasources: { name: string; uid: string; type: string; access: string; url: string; isDefault: boolean }[];
  }>('deploy/grafana/provisioning/datasources/prometheus.yml');
  assert.equal(datasources.apiVersion, 1);
  assert.equal(datasources.datasources.length, 1);
  const ds = datasources.datasources[0]!;
  assert.equal(ds.type, 'prometheus');
  assert.equal(ds.access, 'proxy');
  assert.equal(ds.isDefault, true);
  const providers = readRepoYaml<{ apiVersion: number; providers: { type: string; options: { path: string } }[] }>(
    'deploy/grafana/provisioning/dashboards/sentio.yml',
  );
  assert.equal(providers.apiVersion, 1);
  assert.deepEqual(
    providers.providers.map((p) => p.type),
    ['file'],
  );
  assert.deepEqual(files, ['sentio-gateway.json'], 'the provider loads this one dashboard');
});

test('the dashboard is well formed: unique ids, a 24-column grid, every query on the chosen datasource', () => {
  assert.equal(dashboard.uid, 'sentio-gateway');
  assert.ok(dashboard.schemaVersion >= 36);
  const ids = allPanels(dashboard).map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const p of allPanels(dashboard)) {
    assert.ok(p.gridPos.x >= 0 && p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the grid`);
  }
  const variable = dashboard.templating.list.find((v) => v.type === 'datasource');
  assert.ok(variable && variable.query === 'prometheus', 'a Prometheus datasource variable');
  for (const p of panels) {
    assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
    assert.deepEqual(p.datasource, { type: 'prometheus', uid: `\${${variable.name}}` }, `${p.title} datasource`);
    for (const t of p.targets!) assert.deepEqual(t.datasource, p.datasource, `${p.title} ${t.refId} datasource`);
  }
});

test('every gateway series in a query is filtered by the job and instance variables', () => {
  for (const { panel, expr } of queries) {
    for (const m of expr.matchAll(/\bsentio_gateway_[a-z0-9_]+(\{[^}]*\})?/g)) {
      assert.equal(m[1], '{job=~"$job", instance=~"$instance"}', `${panel}: ${m[0]}`);
    }
  }
  const names = dashboard.templating.list.map((v) => v.name);
  assert.deepEqual(names, ['datasource', 'job', 'instance']);
});

test('the panels the operators asked for are there', () => {
  const has = (what: string, re: RegExp) =>
    assert.ok(
      queries.some((q) => re.test(q.expr)),
      `${what}: no query matches ${re}`,
    );
  has('feed state', /sentio_gateway_feed_state\b/);
  has('bars per minute per symbol', /sum by \(symbol\) \(rate\(sentio_gateway_bars_published_total\{[^}]*\}\[\$__rate_interval\]\)\) \* 60/);
  has('publish latency p50', /histogram_quantile\(0\.5, sum by \(le\) \(rate\(sentio_gateway_publish_latency_seconds_bucket/);
  has('publish latency p99', /histogram_quantile\(0\.99, sum by \(le\) \(rate\(sentio_gateway_publish_latency_seconds_bucket/);
  has('bar delay', /sentio_gateway_bar_delay_seconds_bucket/);
  has('reconnects by reason', /sum by \(reason\) \(increase\(sentio_gateway_reconnects_total/);
  has('buffer depth', /sentio_gateway_buffered_bars\b/);
  has('heartbeats', /sentio_gateway_heartbeats_total\b/);
  has('process memory', /sentio_gateway_process_resident_memory_bytes\b/);
  has('event-loop lag', /sentio_gateway_nodejs_eventloop_lag_(p99_)?seconds\b/);
});
